//! The token grant: the decision on a token request, in the order Salesforce appears to
//! apply its checks ("Validation order" in `docs/emulator.md`), and the answer.
//!
//! 1. `grant_type` → `unsupported_grant_type`
//! 2. `assertion` parses as a compact JWS with `alg` RS256 → else `invalid assertion`
//! 3. `iss` is a known consumer key → `invalid_client_id`; an ECA not installed, disabled,
//!    or asked for at the login host (unless `eca_at_login_host = "accept"`) → `app_not_found`
//! 4. the RS256 signature verifies with the app's certificate → `invalid assertion`
//! 5. `aud` is accepted by this endpoint → `audience is invalid`
//! 6. `exp` is a number (or numeric string) → `invalid assertion`; not past → `expired authorization code`
//! 7. the subject (`prn`, else `sub`) is a user → `invalid assertion`; active → `inactive user`
//! 8. the app's policy admits the user → `invalid_app_access` / `user hasn't approved this consumer`
//! 9. IP restrictions → `ip restricted`

use super::super::config::{Config, LoginHostEca, PermittedUsers};
use super::super::response::{self, Reply};
use super::super::state::Shared;
use super::super::tokens::Grant;
use crate::jwt::{self, NumericDate};
use crate::wire::oauth::{AccessToken, GRANT_TYPE, TokenError, TokenRequest, TokenResponse};

/// Why a token request is refused: the error Salesforce answers, and the emulator's own
/// reason when the error alone does not tell (for the request log, never sent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// What the client is told.
    pub error: TokenError,
    /// The emulator's reason, e.g. `signature does not verify`.
    pub why: Option<&'static str>,
}

impl Refusal {
    fn invalid_assertion(why: &'static str) -> Self {
        Refusal {
            error: TokenError::InvalidAssertion,
            why: Some(why),
        }
    }
}

impl From<TokenError> for Refusal {
    fn from(error: TokenError) -> Self {
        Refusal { error, why: None }
    }
}

/// Which token endpoint was addressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// The org's login endpoint (login.salesforce.com, test.salesforce.com or My Domain).
    Org,
    /// An Experience Cloud site (index into `Config::sites`).
    Site(usize),
    /// The login host (login.salesforce.com, test.salesforce.com), played by the
    /// emulator's login listener: no org of its own, so an External Client App is not
    /// found there ("External client app is not installed in this org", as users report
    /// when they mint there instead of at the My Domain: forcedotcom/cli#3482,
    /// hardisgroupcom/sfdx-hardis#1979) unless `eca_at_login_host = "accept"`.
    LoginHost,
}

/// Answer a token request: decide it, then issue a token or refuse. `host_origin` is the
/// origin the request's `Host` header names (`http://localhost:7357`), also accepted as an
/// audience.
pub(in crate::emulator) fn token(
    sh: &Shared,
    endpoint: Endpoint,
    req: &TokenRequest<'_>,
    host_origin: Option<&str>,
) -> Reply {
    let now = sh.now();
    let mut own: Vec<&str> = Vec::with_capacity(5);
    if endpoint == Endpoint::LoginHost {
        own.extend(sh.login_urls.iter().map(String::as_str));
    } else {
        own.push(&sh.urls.base);
        own.extend(sh.urls.aliases.iter().map(String::as_str));
    }
    own.extend(host_origin);
    let org = sh.org();
    let grant = match validate_with(&org.cfg, endpoint, req, &own, now) {
        Ok(g) => g,
        Err(r) => return response::token_refused(r.error, r.why),
    };
    let token = match sh.tokens.issue(sh.cfg.org_id15(), grant, now) {
        Ok(t) => t,
        Err(_) => return response::server_error("random number generator failed"),
    };
    let scope = org
        .cfg
        .apps
        .get(grant.app)
        .and_then(|a| a.at(now))
        .map_or("api", |a| a.scopes.as_str());
    let uid = org.cfg.users.get(grant.user).map_or("", |u| u.id.as_str());
    response::token_granted(&TokenResponse::bearer(
        AccessToken::new(token),
        scope,
        sh.urls.instance.clone(),
        sh.urls.identity(uid),
    ))
}

/// Decide a token request. `base_url` is the emulator's own URL (accepted as an audience
/// like the My Domain when `accept_my_domain_audience` is on); `now` is seconds since the
/// Unix epoch.
pub fn validate(
    cfg: &Config,
    endpoint: Endpoint,
    req: &TokenRequest<'_>,
    base_url: &str,
    now: i64,
) -> Result<Grant, Refusal> {
    validate_with(cfg, endpoint, req, &[base_url], now)
}

/// [`validate`] with every URL the emulator answers under (its base URL under each
/// loopback name, the request's `Host` origin), each accepted as an audience with or
/// without a trailing slash when `accept_my_domain_audience` is on.
pub fn validate_with(
    cfg: &Config,
    endpoint: Endpoint,
    req: &TokenRequest<'_>,
    own_urls: &[&str],
    now: i64,
) -> Result<Grant, Refusal> {
    // 1. grant type
    if req.grant_type() != Some(GRANT_TYPE) {
        return Err(TokenError::UnsupportedGrantType.into());
    }
    // 2. parse, alg
    let assertion = req
        .assertion()
        .ok_or(Refusal::invalid_assertion("no assertion parameter"))?;
    let parsed = jwt::parse(assertion.trim()).map_err(|e| {
        Refusal::invalid_assertion(match e {
            jwt::ParseError::TooLong => "assertion too long",
            jwt::ParseError::NotThreeSegments => "not three segments",
            jwt::ParseError::BadBase64(_) => "bad base64url",
            jwt::ParseError::BadJson(_, _) => "header or claims not a JSON object",
        })
    })?;
    if !parsed.is_rs256() {
        return Err(Refusal::invalid_assertion("alg is not RS256"));
    }
    // 3. issuer
    let iss = parsed
        .claims
        .iss
        .as_deref()
        .ok_or(Refusal::from(TokenError::InvalidClientId))?;
    let app_ix = cfg
        .app_by_key(iss, now)
        .ok_or(Refusal::from(TokenError::InvalidClientId))?;
    let app = cfg.apps[app_ix]
        .at(now)
        .ok_or(Refusal::from(TokenError::InvalidClientId))?;
    if app.external_client_app && (!app.installed || !app.enabled) {
        return Err(TokenError::AppNotFound.into());
    }
    if app.external_client_app
        && endpoint == Endpoint::LoginHost
        && cfg.eca_at_login_host == LoginHostEca::Refuse
    {
        return Err(Refusal {
            error: TokenError::AppNotFound,
            why: Some("an External Client App at the login host"),
        });
    }
    // 4. signature
    app.verifier
        .as_ref()
        .ok_or(Refusal::invalid_assertion(
            "the app has no certificate (JWT bearer flow not enabled)",
        ))?
        .verify(parsed.signing_input.as_bytes(), &parsed.signature)
        .map_err(|_| Refusal::invalid_assertion("signature does not verify"))?;
    // 5. audience
    let aud = parsed
        .claims
        .aud
        .as_ref()
        .ok_or(Refusal::from(TokenError::AudienceInvalid))?;
    if !aud
        .values()
        .iter()
        .any(|a| audience_ok(cfg, endpoint, a, own_urls))
    {
        return Err(TokenError::AudienceInvalid.into());
    }
    // 6. expiry (never an upper bound: the Salesforce CLI sends milliseconds)
    let exp = match parsed.claims.exp {
        Some(NumericDate::Seconds(s)) => s,
        Some(NumericDate::Invalid) => {
            return Err(Refusal::invalid_assertion("exp is not a number"));
        }
        None => return Err(Refusal::invalid_assertion("no exp claim")),
    };
    let skew = i64::try_from(cfg.clock_skew).unwrap_or(i64::MAX);
    if exp.saturating_add(skew) <= now {
        return Err(TokenError::Expired.into());
    }
    // 7. user
    let subject = parsed
        .claims
        .subject()
        .ok_or(Refusal::invalid_assertion("no sub or prn claim"))?;
    let user_ix = cfg
        .user_by_name(subject)
        .ok_or(Refusal::invalid_assertion("unknown user"))?;
    let user = &cfg.users[user_ix];
    if !user.active {
        return Err(TokenError::InactiveUser.into());
    }
    // 8. policy
    match app.permitted_users {
        PermittedUsers::AdminApproved if !cfg.pre_authorizes(app_ix, app, user) => {
            return Err(TokenError::NotAdminApproved.into());
        }
        PermittedUsers::SelfAuthorize if !user.approved.contains(&app_ix) => {
            return Err(TokenError::NotApproved.into());
        }
        _ => {}
    }
    // "a new access token only when … at least one standard scope other than
    // refresh_token" (Salesforce's JWT flow help page)
    if !app
        .scopes
        .split_whitespace()
        .any(|s| !matches!(s, "refresh_token" | "offline_access"))
    {
        return Err(Refusal {
            error: TokenError::NotApproved,
            why: Some("the app has no scope other than refresh_token"),
        });
    }
    // 9. network restrictions
    if user.ip_restricted {
        return Err(TokenError::IpRestricted.into());
    }
    Ok(Grant {
        app: app_ix,
        user: user_ix,
    })
}

fn audience_ok(cfg: &Config, endpoint: Endpoint, aud: &str, own_urls: &[&str]) -> bool {
    let aud = aud.strip_suffix('/').unwrap_or(aud);
    match endpoint {
        Endpoint::Site(i) => cfg.sites.get(i).is_some_and(|s| s == aud),
        Endpoint::Org | Endpoint::LoginHost => {
            aud == cfg.login_host()
                || (cfg.accept_my_domain_audience
                    && (cfg.my_domain.as_deref() == Some(aud)
                        || own_urls
                            .iter()
                            .any(|u| u.strip_suffix('/').unwrap_or(u).eq_ignore_ascii_case(aud))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::{Claims, HeaderStyle, Signer};
    use crate::key::RsaKey;
    use std::sync::OnceLock;

    struct Fixture {
        key: RsaKey,
        other: RsaKey,
        cfg: Config,
    }

    /// The configuration documented in docs/emulator.md, over the fixture certificate;
    /// `other` is a key that does not match it.
    fn fx() -> &'static Fixture {
        static F: OnceLock<Fixture> = OnceLock::new();
        F.get_or_init(|| {
            let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
            let key = |name: &str| {
                crate::key::load(
                    &std::fs::read(fixtures.join("keys").join(name)).unwrap(),
                    None,
                )
                .unwrap()
                .0
            };
            let dir = fixtures.join("emulator");
            let toml = std::fs::read_to_string(dir.join("acme.toml")).unwrap();
            let cfg = Config::from_toml(&toml, &mut |p| std::fs::read(dir.join(p))).unwrap();
            Fixture {
                key: key("base.pkcs8.pem"),
                other: key("other.pkcs8.pem"),
                cfg,
            }
        })
    }

    const NOW: i64 = 1_800_000_000;
    const BASE: &str = "http://127.0.0.1:1234";

    fn assertion(key: &RsaKey, iss: &str, sub: &str, aud: &str, exp: i64) -> String {
        let s = Signer::new(key, HeaderStyle::Bare).unwrap();
        let c = Claims::new(iss, sub, aud, 0, 1).unwrap();
        let json = c.to_json().replace("\"exp\":1", &format!("\"exp\":{exp}"));
        s.sign_json(json.as_bytes()).unwrap()
    }

    fn run(a: &str) -> Result<Grant, Refusal> {
        let req = TokenRequest::jwt_bearer(a);
        validate(&fx().cfg, Endpoint::Org, &req, BASE, NOW)
    }

    #[test]
    fn order_and_strings() {
        let f = fx();
        let login = "https://login.salesforce.com";
        let ok = assertion(&f.key, "KEY_MAIN", "alice@example.com", login, NOW + 60);
        assert_eq!(run(&ok), Ok(Grant { app: 0, user: 0 }));
        // far-future exp (milliseconds) is fine, and so are the My Domain and the emulator URL
        assert!(
            run(&assertion(
                &f.key,
                "KEY_MAIN",
                "ALICE@example.com",
                login,
                NOW * 1000
            ))
            .is_ok()
        );
        assert!(
            run(&assertion(
                &f.key,
                "KEY_MAIN",
                "alice@example.com",
                "https://acme.my.salesforce.com",
                NOW + 1
            ))
            .is_ok()
        );
        assert!(
            run(&assertion(
                &f.key,
                "KEY_MAIN",
                "alice@example.com",
                BASE,
                NOW + 1
            ))
            .is_ok()
        );

        let req = TokenRequest {
            grant_type: Some("password".into()),
            assertion: Some(ok.as_str().into()),
        };
        assert_eq!(
            validate(&f.cfg, Endpoint::Org, &req, BASE, NOW),
            Err(TokenError::UnsupportedGrantType.into())
        );
        assert!(matches!(
            run("garbage"),
            Err(Refusal {
                error: TokenError::InvalidAssertion,
                ..
            })
        ));
        assert_eq!(
            run(&assertion(
                &f.key,
                "NOPE",
                "alice@example.com",
                login,
                NOW + 60
            )),
            Err(TokenError::InvalidClientId.into())
        );
        assert_eq!(
            run(&assertion(
                &f.key,
                "KEY_ECA",
                "alice@example.com",
                login,
                NOW + 60
            )),
            Err(TokenError::AppNotFound.into())
        );
        // wrong key: signature checked before audience and expiry
        assert!(matches!(
            run(&assertion(
                &f.other,
                "KEY_MAIN",
                "alice@example.com",
                "https://test.salesforce.com",
                1
            )),
            Err(Refusal {
                error: TokenError::InvalidAssertion,
                why: Some("signature does not verify")
            })
        ));
        assert_eq!(
            run(&assertion(
                &f.key,
                "KEY_MAIN",
                "alice@example.com",
                "https://test.salesforce.com",
                1
            )),
            Err(TokenError::AudienceInvalid.into())
        );
        assert_eq!(
            run(&assertion(
                &f.key,
                "KEY_MAIN",
                "alice@example.com",
                login,
                NOW
            )),
            Err(TokenError::Expired.into())
        );
        assert!(matches!(
            run(&assertion(
                &f.key,
                "KEY_MAIN",
                "zed@example.com",
                login,
                NOW + 9
            )),
            Err(Refusal {
                error: TokenError::InvalidAssertion,
                why: Some("unknown user")
            })
        ));
        assert_eq!(
            run(&assertion(
                &f.key,
                "KEY_MAIN",
                "carol@example.com",
                login,
                NOW + 9
            )),
            Err(TokenError::InactiveUser.into())
        );
        assert_eq!(
            run(&assertion(
                &f.key,
                "KEY_MAIN",
                "bob@example.com",
                login,
                NOW + 9
            )),
            Err(TokenError::NotAdminApproved.into())
        );
        assert_eq!(
            run(&assertion(
                &f.key,
                "KEY_SELF",
                "bob@example.com",
                login,
                NOW + 9
            )),
            Err(TokenError::NotApproved.into())
        );
        assert!(
            run(&assertion(
                &f.key,
                "KEY_SELF",
                "alice@example.com",
                login,
                NOW + 9
            ))
            .is_ok()
        );
        assert_eq!(
            run(&assertion(
                &f.key,
                "KEY_MAIN",
                "dave@example.com",
                login,
                NOW + 9
            )),
            Err(TokenError::IpRestricted.into())
        );
        // site endpoint wants the site URL
        let req_site = assertion(
            &f.key,
            "KEY_MAIN",
            "alice@example.com",
            "https://acme.my.site.com/customers",
            NOW + 9,
        );
        let req = TokenRequest::jwt_bearer(&req_site);
        assert!(validate(&f.cfg, Endpoint::Site(0), &req, BASE, NOW).is_ok());
        assert_eq!(
            validate(&f.cfg, Endpoint::Org, &req, BASE, NOW),
            Err(TokenError::AudienceInvalid.into())
        );
    }
}
