//! The OAuth 2.0 JWT bearer token endpoint (RFC 7523 §2.1) as Salesforce runs it:
//! `POST <login URL>/services/oauth2/token` with a form of `grant_type` and `assertion`,
//! answered by HTTP 200 and [`TokenResponse`], or HTTP 400 and an [`ErrorBody`] whose
//! strings are one of [`TokenError`].
//!
//! Salesforce's success body has exactly `access_token`, `scope`, `instance_url`, `id` and
//! `token_type` for this flow: never a refresh token, never `expires_in`.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use zeroize::Zeroizing;

use super::lenient;
use crate::error::Input;
use crate::{Error, Result};

/// The `grant_type` of the JWT bearer flow.
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Production and Developer Edition login server (also the audience for My Domains).
pub const PRODUCTION: &str = "https://login.salesforce.com";
/// Sandbox login server (also the audience for sandbox My Domains).
pub const SANDBOX: &str = "https://test.salesforce.com";
/// Path of the token endpoint below a login URL (or an Experience Cloud site URL).
pub const TOKEN_PATH: &str = "/services/oauth2/token";
/// `token_type` of every token this flow issues.
pub const BEARER: &str = "Bearer";

/// The form of a token request. Debug shows the assertion's length, not the assertion
/// (a bearer credential until its `exp`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TokenRequest<'a> {
    /// `grant_type`.
    pub grant_type: Option<Cow<'a, str>>,
    /// `assertion`: the compact JWS.
    pub assertion: Option<Cow<'a, str>>,
}

impl<'a> TokenRequest<'a> {
    /// The JWT bearer request for `assertion`.
    pub fn jwt_bearer(assertion: &'a str) -> Self {
        TokenRequest {
            grant_type: Some(Cow::Borrowed(GRANT_TYPE)),
            assertion: Some(Cow::Borrowed(assertion)),
        }
    }

    /// The form body (`grant_type=…&assertion=…`), wiped on drop.
    pub fn to_form(&self) -> Zeroizing<String> {
        let mut s = form_urlencoded::Serializer::new(String::new());
        if let Some(g) = &self.grant_type {
            s.append_pair("grant_type", g);
        }
        if let Some(a) = &self.assertion {
            s.append_pair("assertion", a);
        }
        Zeroizing::new(s.finish())
    }

    /// The parameters of a form body (or query string): the first `grant_type` and the
    /// first `assertion`; other parameters are ignored.
    pub fn from_form(input: &'a [u8]) -> Self {
        let mut r = TokenRequest::default();
        r.fill_from(input);
        r
    }

    /// Take the parameters still missing from another form body or query string
    /// (Salesforce reads the query string of a POST when the body lacks them).
    pub fn fill_from(&mut self, input: &'a [u8]) {
        for (k, v) in super::form::pairs(input) {
            let slot = match &*k {
                "grant_type" => &mut self.grant_type,
                "assertion" => &mut self.assertion,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(v);
            }
            if self.grant_type.is_some() && self.assertion.is_some() {
                return;
            }
        }
    }

    /// `grant_type`, when given.
    pub fn grant_type(&self) -> Option<&str> {
        self.grant_type.as_deref()
    }

    /// `assertion`, when given.
    pub fn assertion(&self) -> Option<&str> {
        self.assertion.as_deref()
    }
}

impl fmt::Debug for TokenRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRequest")
            .field("grant_type", &self.grant_type)
            .field(
                "assertion",
                &self
                    .assertion
                    .as_ref()
                    .map(|a| format!("<{} bytes>", a.len())),
            )
            .finish()
    }
}

/// Every error Salesforce's token endpoint is known to answer for this flow, with its
/// exact `error` ([`TokenError::code`]) and `error_description`
/// ([`TokenError::description`]). All come with HTTP 400.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum TokenError {
    /// `unsupported_grant_type` / `grant type not supported`: no JWT bearer `grant_type`
    /// in the form (a JSON body, a body dropped by a proxy).
    UnsupportedGrantType,
    /// `invalid_grant` / `invalid assertion`: not a signed RS256 JWT, a signature that does
    /// not verify, or an unknown user.
    InvalidAssertion,
    /// `invalid_client_id` / `client identifier invalid`: `iss` is no known consumer key.
    InvalidClientId,
    /// `app_not_found` / `External client app is not installed in this org`.
    AppNotFound,
    /// `invalid_grant` / `audience is invalid`.
    AudienceInvalid,
    /// `invalid_grant` / `expired authorization code`: `exp` has passed.
    Expired,
    /// `invalid_grant` / `inactive user`.
    InactiveUser,
    /// `invalid_app_access` / `user is not admin approved to access this app`.
    NotAdminApproved,
    /// `invalid_grant` / `user hasn't approved this consumer`.
    NotApproved,
    /// `invalid_grant` / `ip restricted`.
    IpRestricted,
    /// `invalid_request` / `must use HTTP POST`: another method on the token endpoint.
    MustUsePost,
}

impl TokenError {
    /// Every variant, in the order of the checks (as far as the order is known).
    pub const ALL: [TokenError; 11] = [
        TokenError::UnsupportedGrantType,
        TokenError::MustUsePost,
        TokenError::InvalidAssertion,
        TokenError::InvalidClientId,
        TokenError::AppNotFound,
        TokenError::AudienceInvalid,
        TokenError::Expired,
        TokenError::InactiveUser,
        TokenError::NotAdminApproved,
        TokenError::NotApproved,
        TokenError::IpRestricted,
    ];

    /// `error`.
    pub fn code(self) -> &'static str {
        match self {
            TokenError::UnsupportedGrantType => "unsupported_grant_type",
            TokenError::InvalidClientId => "invalid_client_id",
            TokenError::AppNotFound => "app_not_found",
            TokenError::NotAdminApproved => "invalid_app_access",
            TokenError::MustUsePost => "invalid_request",
            TokenError::InvalidAssertion
            | TokenError::AudienceInvalid
            | TokenError::Expired
            | TokenError::InactiveUser
            | TokenError::NotApproved
            | TokenError::IpRestricted => "invalid_grant",
        }
    }

    /// `error_description`, exactly as Salesforce sends it.
    pub fn description(self) -> &'static str {
        match self {
            TokenError::UnsupportedGrantType => "grant type not supported",
            TokenError::InvalidAssertion => "invalid assertion",
            TokenError::InvalidClientId => "client identifier invalid",
            TokenError::AppNotFound => "External client app is not installed in this org",
            TokenError::AudienceInvalid => "audience is invalid",
            TokenError::Expired => "expired authorization code",
            TokenError::InactiveUser => "inactive user",
            TokenError::NotAdminApproved => "user is not admin approved to access this app",
            TokenError::NotApproved => "user hasn't approved this consumer",
            TokenError::IpRestricted => "ip restricted",
            TokenError::MustUsePost => "must use HTTP POST",
        }
    }

    /// The HTTP status it comes with.
    pub fn status(self) -> u16 {
        400
    }

    /// Whether the `error` code alone names this error (it is the only one with that
    /// code, and the code is Salesforce's own rather than a generic OAuth one).
    fn code_alone_identifies(self) -> bool {
        match self {
            TokenError::UnsupportedGrantType
            | TokenError::InvalidClientId
            | TokenError::AppNotFound
            | TokenError::NotAdminApproved => true,
            TokenError::InvalidAssertion
            | TokenError::AudienceInvalid
            | TokenError::Expired
            | TokenError::InactiveUser
            | TokenError::NotApproved
            | TokenError::IpRestricted
            | TokenError::MustUsePost => false,
        }
    }

    /// Recognise an answer: `error` matches (case-insensitively) and `error_description`
    /// starts with the known text (Salesforce sometimes appends details, e.g. `audience is
    /// invalid [audience=… login=…]`); or the code alone identifies the error.
    pub fn from_wire(error: &str, description: &str) -> Option<TokenError> {
        let d = description.trim();
        let starts = |known: &str| {
            d.get(..known.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(known))
        };
        let code = |e: &TokenError| e.code().eq_ignore_ascii_case(error.trim());
        TokenError::ALL
            .iter()
            .find(|e| code(e) && starts(e.description()))
            .or_else(|| {
                TokenError::ALL
                    .iter()
                    .find(|e| code(e) && e.code_alone_identifies())
            })
            .copied()
    }

    /// The body Salesforce sends for it.
    pub fn body(self) -> ErrorBody<'static> {
        ErrorBody {
            error: Cow::Borrowed(self.code()),
            error_description: Cow::Borrowed(self.description()),
        }
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.description())
    }
}

/// An OAuth error body, `{"error":…,"error_description":…}` (RFC 6749 §5.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody<'a> {
    /// `error`, e.g. `invalid_grant`.
    pub error: Cow<'a, str>,
    /// `error_description`, e.g. `audience is invalid` (empty when absent or `null`).
    #[serde(default, deserialize_with = "string_or_empty")]
    pub error_description: Cow<'a, str>,
}

impl ErrorBody<'_> {
    /// The known error these strings name, see [`TokenError::from_wire`].
    pub fn known(&self) -> Option<TokenError> {
        TokenError::from_wire(&self.error, &self.error_description)
    }

    /// The JSON bytes.
    pub fn to_json(&self) -> Vec<u8> {
        // Two strings: serialising cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

fn string_or_empty<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Cow<'static, str>, D::Error> {
    Ok(Cow::Owned(
        Option::<String>::deserialize(d)?.unwrap_or_default(),
    ))
}

/// An access token (a session id, `<15-character org id>!<secret>`): redacted in Debug,
/// wiped on drop. Print it with [`AccessToken::masked`] unless the user asked for the
/// token itself.
#[derive(Clone, Default, PartialEq, Eq)]
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

/// The token itself: this is what goes on the wire.
impl Serialize for AccessToken {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.expose())
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

/// The success body. Reading is tolerant: members other than `access_token` that are not
/// strings read as absent, and the names of members Salesforce does not send for this
/// flow are kept in `other` (their values are not kept: they could be credentials).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The access token (empty when the body had none: [`TokenResponse::parse`] refuses
    /// that).
    #[serde(default, deserialize_with = "token_or_empty")]
    pub access_token: AccessToken,
    /// Space-separated scopes, e.g. `api web`.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub scope: Option<String>,
    /// The org's instance (My Domain) URL, where the APIs are.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub instance_url: Option<String>,
    /// The identity URL, `https://login.salesforce.com/id/<org id>/<user id>`.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    /// `Bearer`.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub token_type: Option<String>,
    /// Names of any other members in the body, sorted.
    #[serde(flatten, skip_serializing)]
    pub other: MemberNames,
}

/// The names of a JSON object's members, without their values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberNames(pub Vec<String>);

impl<'de> Deserialize<'de> for MemberNames {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Names;
        impl<'de> Visitor<'de> for Names {
            type Value = MemberNames;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<MemberNames, A::Error> {
                let mut names = Vec::new();
                while let Some((k, IgnoredAny)) = map.next_entry::<String, IgnoredAny>()? {
                    names.push(k);
                }
                names.sort();
                Ok(MemberNames(names))
            }
        }
        d.deserialize_map(Names)
    }
}

impl PartialEq<[&str]> for MemberNames {
    fn eq(&self, other: &[&str]) -> bool {
        self.0.iter().map(String::as_str).eq(other.iter().copied())
    }
}

fn token_or_empty<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<AccessToken, D::Error> {
    Ok(lenient::<D, String>(d)?
        .map(AccessToken::new)
        .unwrap_or_default())
}

impl TokenResponse {
    /// A bearer token grant, as the emulator answers it.
    pub fn bearer(
        access_token: AccessToken,
        scope: &str,
        instance_url: String,
        id: String,
    ) -> Self {
        TokenResponse {
            access_token,
            scope: Some(scope.to_owned()),
            instance_url: Some(instance_url),
            id: Some(id),
            token_type: Some(BEARER.to_owned()),
            other: MemberNames::default(),
        }
    }

    /// Parse a 200 response body. Requires a non-empty string `access_token`.
    pub fn parse(body: &[u8]) -> Result<Self> {
        let r: TokenResponse = serde_json::from_slice(body)
            .map_err(|e| Error::corrupt(Input::TokenResponse, format!("not a JSON object: {e}")))?;
        if r.access_token.expose().is_empty() {
            return Err(Error::corrupt(
                Input::TokenResponse,
                "it has no access_token",
            ));
        }
        Ok(r)
    }

    /// The JSON bytes (with the token itself: this is the body on the wire).
    pub fn to_json(&self) -> Vec<u8> {
        // Strings only: serialising cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The 18-character org id from the identity URL (`…/id/<org>/<user>`).
    pub fn org_id(&self) -> Option<&str> {
        super::identity::id_url_parts(self.id.as_deref()?).map(|(o, _)| o)
    }

    /// The 18-character user id from the identity URL.
    pub fn user_id(&self) -> Option<&str> {
        super::identity::id_url_parts(self.id.as_deref()?).map(|(_, u)| u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_round_trips_through_the_wire_body() {
        for e in TokenError::ALL {
            let bytes = e.body().to_json();
            let back: ErrorBody<'_> = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(back, e.body());
            assert_eq!(back.known(), Some(e), "{e}");
            assert_eq!(TokenError::from_wire(e.code(), e.description()), Some(e));
            assert_eq!(e.status(), 400);
        }
    }

    #[test]
    fn all_lists_every_variant_once() {
        let mut v = TokenError::ALL.to_vec();
        v.sort();
        v.dedup();
        assert_eq!(v.len(), TokenError::ALL.len());
        // `match` without a wildcard: a new variant must be added here and to ALL.
        for e in TokenError::ALL {
            match e {
                TokenError::UnsupportedGrantType
                | TokenError::InvalidAssertion
                | TokenError::InvalidClientId
                | TokenError::AppNotFound
                | TokenError::AudienceInvalid
                | TokenError::Expired
                | TokenError::InactiveUser
                | TokenError::NotAdminApproved
                | TokenError::NotApproved
                | TokenError::IpRestricted
                | TokenError::MustUsePost => {}
            }
        }
    }

    #[test]
    fn bodies_are_exact() {
        assert_eq!(
            TokenError::NotApproved.body().to_json(),
            br#"{"error":"invalid_grant","error_description":"user hasn't approved this consumer"}"#
        );
        assert_eq!(
            TokenError::AppNotFound.body().to_json(),
            br#"{"error":"app_not_found","error_description":"External client app is not installed in this org"}"#
        );
    }

    #[test]
    fn recognising_answers() {
        let k = |e: &str, d: &str| TokenError::from_wire(e, d);
        assert_eq!(
            k("invalid_grant", "audience is invalid [audience=x login=y]"),
            Some(TokenError::AudienceInvalid)
        );
        assert_eq!(
            k("INVALID_GRANT", " Inactive User "),
            Some(TokenError::InactiveUser)
        );
        // A code that only one error has is enough, except generic OAuth codes.
        assert_eq!(
            k("invalid_client_id", "something new"),
            Some(TokenError::InvalidClientId)
        );
        assert_eq!(k("invalid_grant", "something new"), None);
        assert_eq!(k("invalid_request", "something new"), None);
        assert_eq!(
            k("invalid_request", "must use HTTP POST"),
            Some(TokenError::MustUsePost)
        );
        assert_eq!(k("server_error", ""), None);
        // Unknown errors still parse, with their strings kept.
        let b: ErrorBody<'_> =
            serde_json::from_slice(br#"{"error":"new_error","error_description":null}"#).unwrap();
        assert_eq!(
            (&*b.error, &*b.error_description, b.known()),
            ("new_error", "", None)
        );
        let b: ErrorBody<'_> = serde_json::from_slice(br#"{"error":"x"}"#).unwrap();
        assert_eq!(&*b.error_description, "");
        assert!(serde_json::from_slice::<ErrorBody<'_>>(b"[]").is_err());
    }

    #[test]
    fn token_response_round_trips() {
        let t = "00Dxx0000001gPL!AR8AQJXg5oj8jXSgxJfA0lBog.39AsX";
        let r = TokenResponse::bearer(
            AccessToken::new(t.into()),
            "api web",
            "https://acme.my.salesforce.com".into(),
            "https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS".into(),
        );
        let bytes = r.to_json();
        assert!(bytes.starts_with(br#"{"access_token":"00Dxx0000001gPL!"#));
        let back = TokenResponse::parse(&bytes).unwrap();
        assert_eq!(back.access_token.expose(), t);
        assert_eq!(back.scope.as_deref(), Some("api web"));
        assert_eq!(back.instance_url, r.instance_url);
        assert_eq!(back.token_type.as_deref(), Some(BEARER));
        assert_eq!(back.org_id(), Some("00Dxx0000001gPLEAY"));
        assert_eq!(back.user_id(), Some("005xx000001SwiUAAS"));
        assert!(back.other.0.is_empty());
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v.as_object().map(|o| o.len()), Some(5));
    }

    #[test]
    fn token_response_is_tolerant() {
        let body = br#"{"access_token":"00D!abc","scope":5,"instance_url":"https://acme.my.salesforce.com","id":"https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS","token_type":"Bearer","x":{},"issued_at":"1"}"#;
        let r = TokenResponse::parse(body).unwrap();
        assert_eq!(r.scope, None);
        assert_eq!(r.other, *["issued_at", "x"].as_slice());
        assert!(TokenResponse::parse(b"{}").is_err());
        assert!(TokenResponse::parse(br#"{"access_token":7}"#).is_err());
        assert!(TokenResponse::parse(br#"{"access_token":""}"#).is_err());
        assert!(TokenResponse::parse(b"<html>").is_err());
        assert!(TokenResponse::parse(b"[]").is_err());
    }

    #[test]
    fn token_request_forms() {
        let a = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJrIn0.c2ln";
        let form = TokenRequest::jwt_bearer(a).to_form();
        let back = TokenRequest::from_form(form.as_bytes());
        assert_eq!(back, TokenRequest::jwt_bearer(a));
        // The first of each wins; the query string only fills what the body lacks.
        let mut r = TokenRequest::from_form(b"grant_type=x&assertion=a.b.c&grant_type=y");
        assert_eq!((r.grant_type(), r.assertion()), (Some("x"), Some("a.b.c")));
        r = TokenRequest::from_form(b"assertion=body");
        r.fill_from(b"grant_type=q&assertion=query");
        assert_eq!((r.grant_type(), r.assertion()), (Some("q"), Some("body")));
        // Debug never shows the assertion.
        let d = format!("{:?}", TokenRequest::jwt_bearer(a));
        assert!(!d.contains("c2ln"), "{d}");
        assert!(d.contains(&format!("<{} bytes>", a.len())), "{d}");
    }

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
        let r = TokenResponse::parse(format!(r#"{{"access_token":"{t}"}}"#).as_bytes()).unwrap();
        assert!(!format!("{r:?}").contains("LVpxez"));
    }
}
