//! The wire contract between certmint's clients and its emulator: the paths, headers,
//! request and response bodies and error strings of the Salesforce endpoints certmint
//! speaks, each defined once. The client side ([`crate::token_endpoint`]) parses these
//! types and the emulator ([`crate::emulator`]) produces them, so the two cannot drift
//! apart without a compile error or a failing test in this module.
//!
//! One module per protocol:
//! - [`oauth`]: the OAuth 2.0 JWT bearer token endpoint (RFC 7523 §2.1): the request
//!   form, the success body, the error body, and [`oauth::TokenError`], every error
//!   Salesforce is known to answer there.
//! - [`identity`]: the identity URL and OpenID Connect UserInfo bodies that prove a token
//!   works.
//! - [`rest`]: the REST API bodies the emulator serves (API versions, error lists, the
//!   records of its `Organization` and `User` queries).
//! - [`metadata`]: the Metadata API: component XML (ConnectedApp, the External Client App
//!   types, PermissionSet), `package.xml`, deploy zips and the REST deploy contract.
//! - [`form`]: `application/x-www-form-urlencoded`, both ways, by the `form_urlencoded`
//!   crate.
//!
//! Deserialisation is tolerant where a real server may differ from the emulator: unknown
//! members are ignored, and members certmint does not act on read as absent when they have
//! another type (see [`lenient`]). The strings come from Salesforce's documentation and
//! observed responses; `docs/emulator.md` and `docs/troubleshooting.md` give the sources.
//!

pub mod form;
pub mod identity;
pub mod metadata;
pub mod oauth;
pub mod rest;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

/// `Content-Type` of every JSON answer Salesforce gives on these endpoints.
pub const JSON_CONTENT_TYPE: &str = "application/json;charset=UTF-8";
/// `Content-Type` of plain-text answers (`Bad_OAuth_Token`).
pub const TEXT_CONTENT_TYPE: &str = "text/plain;charset=UTF-8";
/// `Content-Type` of a token request.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
/// `Cache-Control` of Salesforce's token endpoint answers.
pub const CACHE_CONTROL: &str = "no-cache,must-revalidate,max-age=0,no-store,private";

/// Read a member as `Some` when it has the expected type and as `None` otherwise (or when
/// it is `null`): for members certmint does not act on, so a server that varies them never
/// breaks a mint. Use with `#[serde(default, deserialize_with = "lenient")]`.
pub fn lenient<'de, D, T>(d: D) -> std::result::Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let v = serde_json::Value::deserialize(d)?;
    Ok(T::deserialize(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "lenient")]
        a: Option<String>,
        #[serde(default, deserialize_with = "lenient")]
        b: Option<u32>,
    }

    #[test]
    fn lenient_members_of_another_type_read_as_absent() {
        let t: T = serde_json::from_str(r#"{"a":5,"b":"x"}"#).unwrap();
        assert_eq!((t.a, t.b), (None, None));
        let t: T = serde_json::from_str(r#"{"a":"x","b":5}"#).unwrap();
        assert_eq!((t.a.as_deref(), t.b), (Some("x"), Some(5)));
        let t: T = serde_json::from_str(r#"{"a":null}"#).unwrap();
        assert_eq!((t.a, t.b), (None, None));
    }
}
