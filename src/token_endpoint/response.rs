//! What the token and identity endpoints answer: the access token (masked for display),
//! the token response, Salesforce's OAuth error, the identity.

use std::fmt;

use serde::Deserialize;
use zeroize::Zeroizing;

use crate::{Error, Result};

/// An access token: redacted in Debug, wiped on drop. Print it with [`AccessToken::masked`]
/// unless the user asked for the token itself.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(Zeroizing<String>);

impl AccessToken {
    /// Wrap a token.
    pub fn new(token: String) -> Self {
        AccessToken(Zeroizing::new(token))
    }

    /// The token itself.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The token masked for display, see [`mask_token`].
    pub fn masked(&self) -> String {
        mask_token(&self.0)
    }

    /// The 15-character org id prefix (`00D...`) before `!`, when the token has one.
    pub fn org_prefix(&self) -> Option<&str> {
        let (org, _) = self.0.split_once('!')?;
        (org.len() == 15 || org.len() == 18).then_some(org)
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccessToken({})", self.masked())
    }
}

/// Mask a token for logs and terminals: the org id prefix, the first four and the last
/// four characters of the secret part, e.g. `00Dxx0000001gPL!AR8A…wXyZ`. Short or
/// unusual tokens show less (never more than eight characters of the secret part, and
/// never more than a third of it).
pub fn mask_token(token: &str) -> String {
    let (prefix, secret) = match token.split_once('!') {
        Some((org, rest)) if org.len() <= 18 && org.chars().all(|c| c.is_ascii_alphanumeric()) => {
            (format!("{org}!"), rest)
        }
        _ => (String::new(), token),
    };
    let chars: Vec<char> = secret.chars().collect();
    let n = chars.len();
    let escape = |s: String| crate::text::escape(&s);
    if n >= 24 {
        let head: String = chars[..4].iter().collect();
        let tail: String = chars[n - 4..].iter().collect();
        format!("{}{}…{}", escape(prefix), escape(head), escape(tail))
    } else if n >= 12 {
        let tail: String = chars[n - 4..].iter().collect();
        format!("{}…{}", escape(prefix), escape(tail))
    } else {
        format!("{}…", escape(prefix))
    }
}

/// A successful token response. Salesforce sends exactly `access_token`, `scope`,
/// `instance_url`, `id` and `token_type` for this flow; other members are tolerated and
/// their names kept in `other`. There is never a refresh token.
#[derive(Clone, Debug)]
pub struct TokenResponse {
    /// The access token (a session id).
    pub access_token: AccessToken,
    /// Space-separated scopes, e.g. `api web`.
    pub scope: Option<String>,
    /// The org's instance (My Domain) URL, where the APIs are.
    pub instance_url: Option<String>,
    /// The identity URL, `https://login.salesforce.com/id/<org id>/<user id>`.
    pub id: Option<String>,
    /// `Bearer`.
    pub token_type: Option<String>,
    /// Names of any other members in the response.
    pub other: Vec<String>,
}

impl TokenResponse {
    /// Parse a 200 response body. Requires `access_token`.
    pub fn parse(body: &[u8]) -> Result<Self> {
        let map: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(body)
            .map_err(|e| Error::corrupt("token response", format!("not a JSON object: {e}")))?;
        let mut token = None;
        let mut r = TokenResponse {
            access_token: AccessToken::new(String::new()),
            scope: None,
            instance_url: None,
            id: None,
            token_type: None,
            other: Vec::new(),
        };
        for (k, v) in map {
            let s = match v {
                serde_json::Value::String(s) => Some(s),
                _ => None,
            };
            match k.as_str() {
                "access_token" => token = s,
                "scope" => r.scope = s,
                "instance_url" => r.instance_url = s,
                "id" => r.id = s,
                "token_type" => r.token_type = s,
                _ => r.other.push(k),
            }
        }
        match token {
            Some(t) if !t.is_empty() => {
                r.access_token = AccessToken::new(t);
                Ok(r)
            }
            _ => Err(Error::corrupt("token response", "it has no access_token")),
        }
    }

    /// The 18-character org id from the identity URL (`…/id/<org>/<user>`).
    pub fn org_id(&self) -> Option<&str> {
        id_url_parts(self.id.as_deref()?).map(|(o, _)| o)
    }

    /// The 18-character user id from the identity URL.
    pub fn user_id(&self) -> Option<&str> {
        id_url_parts(self.id.as_deref()?).map(|(_, u)| u)
    }
}

fn id_url_parts(url: &str) -> Option<(&str, &str)> {
    let path = url.split(['?', '#']).next()?;
    let mut it = path.trim_end_matches('/').rsplit('/');
    let user = it.next()?;
    let org = it.next()?;
    let id = it.next()?;
    (id == "id" && !org.is_empty() && !user.is_empty()).then_some((org, user))
}

/// Salesforce's refusal: `{"error":…,"error_description":…}` with the HTTP status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthError {
    /// HTTP status (400 for every error of this flow).
    pub status: u16,
    /// `error`, e.g. `invalid_grant`.
    pub error: String,
    /// `error_description`, e.g. `user hasn't approved this consumer`.
    pub description: String,
}

impl OAuthError {
    /// Parse an error body; `None` when it is not an OAuth error object.
    pub fn parse(status: u16, body: &[u8]) -> Option<Self> {
        #[derive(Deserialize)]
        struct Body {
            error: String,
            #[serde(default)]
            error_description: Option<String>,
        }
        let b: Body = serde_json::from_slice(body).ok()?;
        Some(OAuthError {
            status,
            error: b.error,
            description: b.error_description.unwrap_or_default(),
        })
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}",
            crate::text::escape(&self.error),
            crate::text::escape(&self.description)
        )
    }
}

/// The outcome of a token request that reached Salesforce.
#[derive(Clone, Debug)]
pub enum Exchange {
    /// HTTP 200 with a token.
    Granted(TokenResponse),
    /// An OAuth error (Salesforce said no).
    Refused(OAuthError),
}

/// Who the identity endpoint says the token belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The username (`username`, or `preferred_username` from UserInfo).
    pub username: String,
    /// The user id.
    pub user_id: Option<String>,
    /// The org id.
    pub organization_id: Option<String>,
    /// Display name (`display_name`, or `name` from UserInfo).
    pub display_name: Option<String>,
    /// Whether the user is active, when reported.
    pub active: Option<bool>,
    /// The URL that answered.
    pub url: String,
}

impl Identity {
    /// Parse an identity-URL or UserInfo response.
    pub fn parse(url: &str, body: &[u8]) -> Result<Self> {
        #[derive(Deserialize)]
        struct Body {
            username: Option<String>,
            preferred_username: Option<String>,
            user_id: Option<String>,
            organization_id: Option<String>,
            display_name: Option<String>,
            name: Option<String>,
            active: Option<bool>,
        }
        let b: Body = serde_json::from_slice(body).map_err(|e| {
            Error::corrupt("identity response", format!("not the expected JSON: {e}"))
        })?;
        let username = b
            .username
            .or(b.preferred_username)
            .ok_or_else(|| Error::corrupt("identity response", "it names no user"))?;
        Ok(Identity {
            username,
            user_id: b.user_id,
            organization_id: b.organization_id,
            display_name: b.display_name.or(b.name),
            active: b.active,
            url: url.to_owned(),
        })
    }
}

/// The outcome of the identity check.
#[derive(Clone, Debug)]
pub enum IdentityCheck {
    /// 200 with a user.
    Verified(Identity),
    /// The endpoint refused the token (e.g. 401, or 403 `Bad_OAuth_Token`).
    Rejected {
        /// The URL asked.
        url: String,
        /// HTTP status.
        status: u16,
        /// The start of the body, escaped.
        body: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking() {
        let t = "00Dxx0000001gPL!AR8AQJXg5oj8jXSgxJfA0lBog.39AsX.LVpxezPwuX5VAIrrbbHMuol7GQxnMeYMN7cj8EoWr78nT1yBx1W1WwXyZ";
        assert_eq!(mask_token(t), "00Dxx0000001gPL!AR8A…wXyZ");
        assert_eq!(mask_token("short"), "…");
        assert_eq!(mask_token("abcdefghijklmnop"), "…mnop");
        assert!(!format!("{:?}", AccessToken::new(t.into())).contains("LVpxez"));
        assert_eq!(
            AccessToken::new(t.into()).org_prefix(),
            Some("00Dxx0000001gPL")
        );
    }

    #[test]
    fn token_response_is_tolerant() {
        let body = br#"{"access_token":"00D!abc","scope":"api web","instance_url":"https://acme.my.salesforce.com","id":"https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS","token_type":"Bearer","issued_at":"1","x":{}}"#;
        let r = TokenResponse::parse(body).unwrap();
        assert_eq!(r.org_id(), Some("00Dxx0000001gPLEAY"));
        assert_eq!(r.user_id(), Some("005xx000001SwiUAAS"));
        assert_eq!(r.other, vec!["issued_at".to_owned(), "x".to_owned()]);
        assert!(TokenResponse::parse(b"{}").is_err());
        assert!(TokenResponse::parse(b"<html>").is_err());
        let e = OAuthError::parse(
            400,
            br#"{"error":"invalid_grant","error_description":"audience is invalid"}"#,
        )
        .unwrap();
        assert_eq!(e.description, "audience is invalid");
        assert!(OAuthError::parse(400, b"[]").is_none());
    }
}
