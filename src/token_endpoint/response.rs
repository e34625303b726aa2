//! What the client makes of the token and identity endpoints' answers: the outcome of an
//! exchange, Salesforce's refusal with its HTTP status, and who the identity endpoint
//! says the token belongs to. The bodies themselves are the [`crate::wire`] types.

use std::fmt;

use serde::Deserialize;

use crate::error::Input;
use crate::wire::identity::{IdentityBody, UserInfoBody};
use crate::wire::oauth::{ErrorBody, TokenError, TokenResponse};
use crate::{Error, Result};

/// Salesforce's refusal: `{"error":…,"error_description":…}` with the HTTP status. The
/// strings are kept as sent, so an error certmint does not know is still shown.
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
        let b: ErrorBody<'_> = serde_json::from_slice(body).ok()?;
        Some(OAuthError {
            status,
            error: b.error.into_owned(),
            description: b.error_description.into_owned(),
        })
    }

    /// The known error these strings name, if any (see [`TokenError::from_wire`]).
    pub fn known(&self) -> Option<TokenError> {
        TokenError::from_wire(&self.error, &self.description)
    }
}

impl From<TokenError> for OAuthError {
    fn from(e: TokenError) -> Self {
        OAuthError {
            status: e.status(),
            error: e.code().to_owned(),
            description: e.description().to_owned(),
        }
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
    /// Parse an identity-URL body ([`IdentityBody`]) or a UserInfo body
    /// ([`UserInfoBody`], told apart by having no `username`).
    pub fn parse(url: &str, body: &[u8]) -> Result<Self> {
        let bad = |e: serde_json::Error| {
            Error::corrupt(
                Input::IdentityResponse,
                format!("not the expected JSON: {e}"),
            )
        };
        let v: serde_json::Value = serde_json::from_slice(body).map_err(bad)?;
        let (username, user_id, organization_id, display_name, active) =
            if v.get("username").is_some() {
                let b = IdentityBody::deserialize(&v).map_err(bad)?;
                (
                    b.username,
                    b.user_id,
                    b.organization_id,
                    b.display_name,
                    b.active,
                )
            } else {
                let b = UserInfoBody::deserialize(&v).map_err(bad)?;
                (
                    b.preferred_username,
                    b.user_id,
                    b.organization_id,
                    b.name,
                    b.active,
                )
            };
        let username =
            username.ok_or_else(|| Error::corrupt(Input::IdentityResponse, "it names no user"))?;
        Ok(Identity {
            username,
            user_id,
            organization_id,
            display_name,
            active,
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
    fn oauth_errors() {
        let e = OAuthError::parse(
            400,
            br#"{"error":"invalid_grant","error_description":"audience is invalid"}"#,
        )
        .unwrap();
        assert_eq!(e.description, "audience is invalid");
        assert_eq!(e.known(), Some(TokenError::AudienceInvalid));
        assert!(OAuthError::parse(400, b"[]").is_none());
        let e = OAuthError::parse(400, br#"{"error":"brand_new"}"#).unwrap();
        assert_eq!(
            (e.error.as_str(), e.description.as_str(), e.known()),
            ("brand_new", "", None)
        );
    }

    #[test]
    fn identity_and_userinfo_bodies() {
        let i = Identity::parse(
            "u",
            br#"{"username":"a@b","display_name":"A B","active":true,"user_id":"005"}"#,
        )
        .unwrap();
        assert_eq!(
            (i.username.as_str(), i.display_name.as_deref(), i.active),
            ("a@b", Some("A B"), Some(true))
        );
        let i = Identity::parse("u", br#"{"preferred_username":"c@d","name":"C"}"#).unwrap();
        assert_eq!(
            (i.username.as_str(), i.display_name.as_deref()),
            ("c@d", Some("C"))
        );
        assert!(Identity::parse("u", br#"{"name":"C"}"#).is_err());
        assert!(Identity::parse("u", br#"{"username":5}"#).is_err());
        assert!(Identity::parse("u", b"<html>").is_err());
    }
}
