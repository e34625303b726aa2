//! Explanations of every error Salesforce's token endpoint is known to return
//! ([`TokenError`]): what it means, the likely causes and the fix, as data (the CLI prints
//! them), and the facts from the request that make it concrete.

use super::OAuthError;
use crate::wire::oauth::TokenError;

/// What an error means, its likely causes and the fix, for people.
#[derive(Debug, PartialEq, Eq)]
pub struct Advice {
    /// What it means, one sentence.
    pub meaning: &'static str,
    /// Likely causes, most likely first.
    pub causes: &'static [&'static str],
    /// What to change, in order.
    pub fixes: &'static [&'static str],
}

/// `invalid assertion`'s cause when the key is not in doubt: the user is not in the org.
const UNKNOWN_USER: &str = "the username (sub) does not exist in this org, e.g. a sandbox username (user@acme.com.dev) sent to production";

/// The likeliest cause of `error`, knowing whether the same key and certificate got a
/// token for another user of the same app and login URL (`key_proven`, as in a batch):
/// then `invalid assertion` cannot be the key's fault and is blamed on the username, and
/// every other error keeps its first cause.
pub fn likely_cause(error: TokenError, key_proven: bool) -> Option<&'static str> {
    if key_proven && error == TokenError::InvalidAssertion {
        return Some(UNKNOWN_USER);
    }
    advice(error).causes.first().copied()
}

/// The advice for every error Salesforce's token endpoint is known to answer. The match
/// has no wildcard: a new [`TokenError`] does not compile until it is explained here.
pub fn advice(error: TokenError) -> &'static Advice {
    match error {
        TokenError::UnsupportedGrantType => &Advice {
            meaning: "the request did not carry grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer as a form field",
            causes: &[
                "the body was not form-encoded (a JSON body, or a proxy or gateway that dropped or rewrote it)",
                "the URL is not a Salesforce token endpoint, or a redirect turned the POST into a GET",
            ],
            fixes: &[
                "send Content-Type: application/x-www-form-urlencoded with grant_type and assertion (certmint mint does)",
                "check --login-url and any proxy between you and Salesforce",
            ],
        },
        TokenError::InvalidAssertion => &Advice {
            meaning: "Salesforce could not accept the JWT: it is malformed, its signature does not verify against the certificate uploaded to the External Client App or connected app, or it names a user this org does not have",
            causes: &[
                "the private key does not match the certificate uploaded to the app (External Client App: \"Enable JWT Bearer Flow\"; connected app: \"Use digital signatures\")",
                UNKNOWN_USER,
                "the certificate was changed in the app minutes ago and the change has not propagated yet (2 to 10 minutes)",
                "the assertion is not a signed RS256 JWT (e.g. a key or certificate pasted instead)",
            ],
            fixes: &[
                "compare the public-key fingerprint below with the certificate in the app: `certmint inspect server.crt`",
                "upload the certificate made from this key (certmint cert --key ...) to the app, then wait a few minutes",
                "check the username; for a sandbox use --login-url test and the sandbox username",
            ],
        },
        TokenError::InvalidClientId => &Advice {
            meaning: "the iss claim is not the consumer key of an External Client App or connected app that this login server knows",
            causes: &[
                "the consumer key was copied wrongly or belongs to another app",
                "the app lives in another org or environment (a production app while logging in to a sandbox, or the other way round)",
                "the app was created or changed minutes ago and has not propagated yet",
            ],
            fixes: &[
                "copy the Consumer Key: External Client App: Setup > External Client App Manager > (app) > Settings > OAuth Settings > Consumer Key and Secret; connected app: Setup > App Manager > (app) > View > Manage Consumer Details",
                "use the login URL of the org that holds the app (--login-url login, test or the My Domain URL)",
            ],
        },
        TokenError::AppNotFound => &Advice {
            meaning: "the consumer key belongs to an external client app that is not installed (or not usable) in the org you are logging in to",
            causes: &[
                "the external client app was created in another org and not installed here",
                "an external client app addressed through test.salesforce.com instead of the org's My Domain",
            ],
            fixes: &[
                "install the external client app package in this org, or log in to the org that owns it",
                "use the org's My Domain URL as --login-url (audiences: My Domain URL or https://login.salesforce.com)",
            ],
        },
        TokenError::AudienceInvalid => &Advice {
            meaning: "the aud claim is not what this login server accepts",
            causes: &[
                "production audience sent to a sandbox or the other way round: sandboxes want https://test.salesforce.com, production and My Domains https://login.salesforce.com",
                "an Experience Cloud site needs the site URL as audience",
                "a trailing slash or a typo in --audience",
            ],
            fixes: &[
                "for a sandbox use --login-url test (or the sandbox My Domain URL); for production --login-url login",
                "let certmint derive the audience from --login-url, or pass --audience login|test|SITE-URL",
            ],
        },
        TokenError::Expired => &Advice {
            meaning: "the assertion's exp had already passed when Salesforce received it",
            causes: &[
                "the local clock is behind (or its time zone handling is wrong)",
                "the assertion was made earlier (certmint jwt) and sent more than --ttl seconds later",
                "exp was written in the wrong unit or the wrong time zone by another signer",
            ],
            fixes: &[
                "set the clock right (NTP: `timedatectl set-ntp true`, or `chronyc makestep`)",
                "mint immediately after signing; certmint mint signs and sends in one step",
            ],
        },
        TokenError::NotApproved => &Advice {
            meaning: "the user is not allowed to use this app without an interactive approval",
            causes: &[
                "the app's Permitted Users policy is \"All users may self-authorize\" and the user never approved it with the refresh_token scope",
                "the policy is \"Admin approved users are pre-authorized\" but the user's profile or permission set is not assigned to the app (reported as this error too)",
                "the username belongs to another org (e.g. a sandbox username)",
            ],
            fixes: &[
                "set Permitted Users = \"Admin approved users are pre-authorized\": External Client App: Setup > External Client App Manager > (app) > Edit Policies > OAuth Policies; connected app: Setup > App Manager > (app) > Manage > Edit Policies",
                "then add the user's profile or a permission set assigned to the user: External Client App: in its OAuth Policies (or the permission set's External Client App list); connected app: Profiles / Permission Sets on the app's Manage page",
                "make sure the app's OAuth scopes include \"Perform requests at any time (refresh_token, offline_access)\"",
            ],
        },
        TokenError::NotAdminApproved => &Advice {
            meaning: "the app is set to admin-approved users only, and this user is not among them",
            causes: &[
                "neither the user's profile nor any of the user's permission sets is assigned to the app",
            ],
            fixes: &[
                "add the user's profile or a permission set the user has: External Client App: Setup > External Client App Manager > (app) > Edit Policies > OAuth Policies; connected app: Setup > App Manager > (app) > Manage > Manage Profiles / Manage Permission Sets",
            ],
        },
        TokenError::InactiveUser => &Advice {
            meaning: "the user exists but is deactivated or frozen",
            causes: &["the integration user was deactivated or frozen"],
            fixes: &["reactivate or unfreeze the user (Setup > Users), or use another active user"],
        },
        TokenError::IpRestricted => &Advice {
            meaning: "the login was refused by an IP range or login-hours restriction",
            causes: &[
                "the profile's Login IP Ranges do not include this machine's address",
                "the request came outside the profile's login hours",
            ],
            fixes: &[
                "set the app's IP Relaxation policy to \"Relax IP restrictions\", or add this address to the profile's Login IP Ranges",
            ],
        },
        TokenError::MustUsePost => &Advice {
            meaning: "the token endpoint was called with another method than POST",
            causes: &[
                "a redirect (http:// to https://, or an old host name) turned the POST into a GET",
                "a proxy or gateway rewrote the request",
                "the URL was fetched without a body (a browser, or curl without -d)",
            ],
            fixes: &[
                "POST the form to <login URL>/services/oauth2/token (certmint mint does)",
                "use the https:// login URL itself so that no redirect happens; check --login-url and any proxy",
            ],
        },
    }
}

/// What the caller knows about the request, used to make an explanation concrete.
#[derive(Clone, Debug, Default)]
pub struct ExplainContext {
    /// The local clock when the request was sent (seconds since the Unix epoch).
    pub now: Option<i64>,
    /// The assertion's `exp`.
    pub exp: Option<u64>,
    /// The login URL used.
    pub login_url: Option<String>,
    /// The audience sent.
    pub audience: Option<String>,
    /// The consumer key sent.
    pub client_id: Option<String>,
    /// The username sent.
    pub username: Option<String>,
    /// SHA-256 of the signing key's public key (DER SubjectPublicKeyInfo), hex with colons.
    pub key_spki_sha256: Option<String>,
    /// SHA-1 fingerprint of the certificate that should be in the app, when known.
    pub cert_sha1: Option<String>,
    /// True when that certificate's public key is the signing key's.
    pub cert_matches_key: Option<bool>,
}

/// An explanation of a refusal: the error, its advice and facts from the request.
#[derive(Debug)]
pub struct Explanation {
    /// The error, when certmint knows it.
    pub error: Option<TokenError>,
    /// What it means and how to fix it, when the error is known.
    pub advice: Option<&'static Advice>,
    /// Concrete facts for this error ("the local clock is …", "the key's fingerprint is …").
    pub facts: Vec<String>,
}

/// Explain a refusal.
pub fn explain(err: &OAuthError, ctx: &ExplainContext) -> Explanation {
    let error = err.known();
    let mut facts = Vec::new();
    let esc = |s: &str| crate::text::escape(s);
    match error {
        Some(TokenError::InvalidAssertion) => {
            if let Some(fp) = &ctx.key_spki_sha256 {
                facts.push(format!("the signing key's public-key SHA-256 is {fp}"));
            }
            if let Some(sha1) = &ctx.cert_sha1 {
                facts.push(format!(
                    "the certificate you named has SHA-1 fingerprint {sha1}; Setup > Certificate shows the app's"
                ));
            }
            match ctx.cert_matches_key {
                Some(true) => facts.push(
                    "that certificate matches the key, so if the app holds it, check the username and login URL".into(),
                ),
                Some(false) => facts.push("that certificate does NOT match the signing key".into()),
                None => {}
            }
            if let (Some(u), Some(l)) = (&ctx.username, &ctx.login_url) {
                facts.push(format!("the username sent was {} to {}", esc(u), esc(l)));
            }
        }
        Some(TokenError::Expired) => {
            if let Some(now) = ctx.now {
                facts.push(format!(
                    "the local clock said {} when the assertion was sent",
                    format_unix(now)
                ));
            }
            if let Some(exp) = ctx.exp {
                facts.push(format!(
                    "the assertion's exp was {exp} ({})",
                    format_unix(i64::try_from(exp).unwrap_or(i64::MAX))
                ));
            }
            facts.push("compare with the real time, e.g. `curl -sI https://login.salesforce.com | grep -i ^date`".into());
        }
        Some(TokenError::AudienceInvalid) => {
            if let Some(a) = &ctx.audience {
                facts.push(format!("the audience sent was {}", esc(a)));
            }
            if let Some(l) = &ctx.login_url {
                facts.push(format!("the login URL was {}", esc(l)));
            }
        }
        Some(TokenError::InvalidClientId | TokenError::AppNotFound) => {
            if let Some(c) = &ctx.client_id {
                facts.push(format!("the consumer key sent was {}", esc(c)));
            }
            if let Some(l) = &ctx.login_url {
                facts.push(format!("the login URL was {}", esc(l)));
            }
        }
        Some(TokenError::NotApproved | TokenError::NotAdminApproved | TokenError::InactiveUser) => {
            if let Some(u) = &ctx.username {
                facts.push(format!("the username sent was {}", esc(u)));
            }
        }
        Some(
            TokenError::UnsupportedGrantType | TokenError::IpRestricted | TokenError::MustUsePost,
        )
        | None => {}
    }
    Explanation {
        error,
        advice: error.map(advice),
        facts,
    }
}

/// Seconds since the epoch as `2026-01-02T03:04:05Z`, or the number when out of range.
pub fn format_unix(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{secs} (not a date)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_is_explained() {
        for e in TokenError::ALL {
            let x = explain(&OAuthError::from(e), &ExplainContext::default());
            assert_eq!(x.error, Some(e));
            let a = x.advice.unwrap();
            assert!(std::ptr::eq(a, advice(e)));
            assert!(!a.meaning.is_empty(), "{e}");
            assert!(!a.causes.is_empty() && !a.fixes.is_empty(), "{e}");
        }
        let unknown = OAuthError {
            status: 400,
            error: "invalid_grant".into(),
            description: "something new".into(),
        };
        let x = explain(&unknown, &ExplainContext::default());
        assert!(x.error.is_none() && x.advice.is_none());
    }

    #[test]
    fn facts_make_it_concrete() {
        let ctx = ExplainContext {
            now: Some(1_700_000_000),
            exp: Some(1_699_999_000),
            ..Default::default()
        };
        let x = explain(&OAuthError::from(TokenError::Expired), &ctx);
        assert!(x.facts[0].contains("2023-11-14T22:13:20Z"), "{:?}", x.facts);
        let ctx = ExplainContext {
            audience: Some("https://test.salesforce.com".into()),
            ..Default::default()
        };
        let mut e = OAuthError::from(TokenError::AudienceInvalid);
        e.description.push_str(" [audience=x login=y]");
        let x = explain(&e, &ctx);
        assert_eq!(x.error, Some(TokenError::AudienceInvalid));
        assert!(x.facts[0].contains("test.salesforce.com"), "{:?}", x.facts);
    }
}
