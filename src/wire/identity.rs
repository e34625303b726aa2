//! The calls that prove a token works: the identity URL (`GET <id>` with the token, the
//! `id` of the token response, `…/id/<org id>/<user id>`) and OpenID Connect UserInfo
//! (`GET <instance or login URL>/services/oauth2/userinfo`). Both answer 200 with a JSON
//! body ([`IdentityBody`], [`UserInfoBody`]), or 403 with the text `Bad_OAuth_Token` for a
//! token they refuse ([`BAD_OAUTH_TOKEN`]).
//!
//! The members certmint reads (`username` or `preferred_username`, `user_id`,
//! `organization_id`, `display_name` or `name`, `active`) are typed strictly; the rest are
//! read with [`super::lenient`].

use serde::{Deserialize, Serialize};

use super::lenient;

/// Path of the OpenID Connect UserInfo endpoint.
pub const USERINFO_PATH: &str = "/services/oauth2/userinfo";
/// Path prefix of identity URLs: `<host>/id/<org id>/<user id>`.
pub const ID_PATH: &str = "/id/";
/// Body (text) of a 403 for a token the identity or UserInfo endpoint refuses.
pub const BAD_OAUTH_TOKEN: &str = "Bad_OAuth_Token";
/// Body (text) of a 403 for an identity URL that names no user of the token's org.
pub const BAD_ID: &str = "Bad_Id";

/// The identity URL of a user: `<host>/id/<org id>/<user id>`.
pub fn id_url(host: &str, org_id: &str, user_id: &str) -> String {
    format!("{}{ID_PATH}{org_id}/{user_id}", host.trim_end_matches('/'))
}

/// The org id and user id of an identity URL (`…/id/<org>/<user>`, query and fragment
/// ignored).
pub fn id_url_parts(url: &str) -> Option<(&str, &str)> {
    let path = url.split(['?', '#']).next()?;
    let mut it = path.trim_end_matches('/').rsplit('/');
    let user = it.next()?;
    let org = it.next()?;
    let id = it.next()?;
    (id == ID_PATH.trim_matches('/') && !org.is_empty() && !user.is_empty()).then_some((org, user))
}

/// `photos`: picture URLs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Photos {
    /// Full-size picture URL.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub picture: Option<String>,
    /// Thumbnail URL.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub thumbnail: Option<String>,
}

/// `status`: the user's last Chatter post.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// When it was posted.
    #[serde(default, deserialize_with = "lenient")]
    pub created_date: Option<String>,
    /// Its text.
    #[serde(default, deserialize_with = "lenient")]
    pub body: Option<String>,
}

/// `urls`: where the org's APIs are for this user (`{version}` already filled in).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityUrls {
    /// Enterprise SOAP API.
    #[serde(default, deserialize_with = "lenient")]
    pub enterprise: Option<String>,
    /// Partner SOAP API.
    #[serde(default, deserialize_with = "lenient")]
    pub partner: Option<String>,
    /// REST API root.
    #[serde(default, deserialize_with = "lenient")]
    pub rest: Option<String>,
    /// REST sObjects.
    #[serde(default, deserialize_with = "lenient")]
    pub sobjects: Option<String>,
    /// REST query.
    #[serde(default, deserialize_with = "lenient")]
    pub query: Option<String>,
    /// The user's profile page.
    #[serde(default, deserialize_with = "lenient")]
    pub profile: Option<String>,
    /// The org's My Domain URL (`null` without one).
    #[serde(default, deserialize_with = "lenient")]
    pub custom_domain: Option<String>,
}

/// The identity URL's body (the members Salesforce's samples show that the emulator
/// serves; others are ignored when read).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IdentityBody {
    /// The identity URL itself.
    #[serde(default, deserialize_with = "lenient")]
    pub id: Option<String>,
    /// Whether the token's user is this user.
    #[serde(default, deserialize_with = "lenient")]
    pub asserted_user: Option<bool>,
    /// 18-character user id.
    #[serde(default)]
    pub user_id: Option<String>,
    /// 18-character org id.
    #[serde(default)]
    pub organization_id: Option<String>,
    /// Username.
    #[serde(default)]
    pub username: Option<String>,
    /// Nickname.
    #[serde(default, deserialize_with = "lenient")]
    pub nick_name: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Email.
    #[serde(default, deserialize_with = "lenient")]
    pub email: Option<String>,
    /// Whether the email is verified.
    #[serde(default, deserialize_with = "lenient")]
    pub email_verified: Option<bool>,
    /// First name.
    #[serde(default, deserialize_with = "lenient")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default, deserialize_with = "lenient")]
    pub last_name: Option<String>,
    /// Time zone, e.g. `GMT`.
    #[serde(default, deserialize_with = "lenient")]
    pub timezone: Option<String>,
    /// Pictures.
    #[serde(default, deserialize_with = "lenient")]
    pub photos: Option<Photos>,
    /// Last Chatter post.
    #[serde(default, deserialize_with = "lenient")]
    pub status: Option<Status>,
    /// API URLs.
    #[serde(default, deserialize_with = "lenient")]
    pub urls: Option<IdentityUrls>,
    /// Active (not deactivated or frozen).
    #[serde(default)]
    pub active: Option<bool>,
    /// `STANDARD` for internal users.
    #[serde(default, deserialize_with = "lenient")]
    pub user_type: Option<String>,
    /// Language, e.g. `en_US`.
    #[serde(default, deserialize_with = "lenient")]
    pub language: Option<String>,
    /// Locale, e.g. `en_US`.
    #[serde(default, deserialize_with = "lenient")]
    pub locale: Option<String>,
    /// Offset from UTC, milliseconds.
    #[serde(default, rename = "utcOffset", deserialize_with = "lenient")]
    pub utc_offset: Option<i64>,
    /// Whether the app is installed.
    #[serde(default, deserialize_with = "lenient")]
    pub is_app_installed: Option<bool>,
}

/// The UserInfo body (OpenID Connect names).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UserInfoBody {
    /// The identity URL.
    #[serde(default, deserialize_with = "lenient")]
    pub sub: Option<String>,
    /// 18-character user id.
    #[serde(default)]
    pub user_id: Option<String>,
    /// 18-character org id.
    #[serde(default)]
    pub organization_id: Option<String>,
    /// Username.
    #[serde(default)]
    pub preferred_username: Option<String>,
    /// Nickname.
    #[serde(default, deserialize_with = "lenient")]
    pub nickname: Option<String>,
    /// Full name.
    #[serde(default)]
    pub name: Option<String>,
    /// Email.
    #[serde(default, deserialize_with = "lenient")]
    pub email: Option<String>,
    /// Whether the email is verified.
    #[serde(default, deserialize_with = "lenient")]
    pub email_verified: Option<bool>,
    /// First name.
    #[serde(default, deserialize_with = "lenient")]
    pub given_name: Option<String>,
    /// Last name.
    #[serde(default, deserialize_with = "lenient")]
    pub family_name: Option<String>,
    /// Time zone.
    #[serde(default, deserialize_with = "lenient")]
    pub zoneinfo: Option<String>,
    /// Pictures.
    #[serde(default, deserialize_with = "lenient")]
    pub photos: Option<Photos>,
    /// The user's profile page.
    #[serde(default, deserialize_with = "lenient")]
    pub profile: Option<String>,
    /// Whether the user is an integration user.
    #[serde(default, deserialize_with = "lenient")]
    pub is_salesforce_integration_user: Option<bool>,
    /// Active (not deactivated or frozen).
    #[serde(default)]
    pub active: Option<bool>,
    /// `STANDARD` for internal users.
    #[serde(default, deserialize_with = "lenient")]
    pub user_type: Option<String>,
    /// Language.
    #[serde(default, deserialize_with = "lenient")]
    pub language: Option<String>,
    /// Locale.
    #[serde(default, deserialize_with = "lenient")]
    pub locale: Option<String>,
    /// Offset from UTC, milliseconds.
    #[serde(default, rename = "utcOffset", deserialize_with = "lenient")]
    pub utc_offset: Option<i64>,
    /// Last change, RFC 3339.
    #[serde(default, deserialize_with = "lenient")]
    pub updated_at: Option<String>,
    /// Whether the app is installed.
    #[serde(default, deserialize_with = "lenient")]
    pub is_app_installed: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_urls() {
        let u = id_url("https://login.salesforce.com/", "00D1", "0051");
        assert_eq!(u, "https://login.salesforce.com/id/00D1/0051");
        assert_eq!(id_url_parts(&u), Some(("00D1", "0051")));
        assert_eq!(
            id_url_parts("https://x/id/00D/005/?a#b"),
            Some(("00D", "005"))
        );
        assert_eq!(id_url_parts("https://x/ix/00D/005"), None);
        assert_eq!(id_url_parts("https://x/id//005"), None);
    }

    #[test]
    fn bodies_round_trip() {
        let b = IdentityBody {
            username: Some("alice@example.com".into()),
            utc_offset: Some(0),
            photos: Some(Photos::default()),
            status: Some(Status::default()),
            urls: Some(IdentityUrls::default()),
            ..IdentityBody::default()
        };
        let json = serde_json::to_string(&b).unwrap();
        assert!(json.contains(r#""utcOffset":0"#), "{json}");
        assert!(json.contains(r#""photos":{}"#), "{json}");
        assert!(
            json.contains(r#""status":{"created_date":null,"body":null}"#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<IdentityBody>(&json).unwrap(), b);
        let u = UserInfoBody {
            preferred_username: Some("a".into()),
            ..UserInfoBody::default()
        };
        let json = serde_json::to_string(&u).unwrap();
        assert_eq!(serde_json::from_str::<UserInfoBody>(&json).unwrap(), u);
    }

    #[test]
    fn members_certmint_does_not_read_are_lenient() {
        let b: IdentityBody = serde_json::from_str(
            r#"{"username":"a","photos":"none","utcOffset":"x","urls":{"rest":5},"extra":[]}"#,
        )
        .unwrap();
        assert_eq!(b.username.as_deref(), Some("a"));
        assert_eq!((b.photos, b.utc_offset), (None, None));
        assert_eq!(b.urls.and_then(|u| u.rest), None);
        // The ones it reads stay strict.
        assert!(serde_json::from_str::<IdentityBody>(r#"{"username":5}"#).is_err());
    }
}
