//! The token endpoint's decision, in the order Salesforce appears to apply its checks
//! (see "Emulator contract" in the reference and `docs/emulator.md`), and the emulator's
//! stateless access tokens.
//!
//! 1. `grant_type` → `unsupported_grant_type`
//! 2. `assertion` parses as a compact JWS with `alg` RS256 → else `invalid assertion`
//! 3. `iss` is a known consumer key → `invalid_client_id`; an ECA not installed → `app_not_found`
//! 4. the RS256 signature verifies with the app's certificate → `invalid assertion`
//! 5. `aud` is accepted by this endpoint → `audience is invalid`
//! 6. `exp` is a number (or numeric string) → `invalid assertion`; not past → `expired authorization code`
//! 7. the subject (`prn`, else `sub`) is a user → `invalid assertion`; active → `inactive user`
//! 8. the app's policy admits the user → `invalid_app_access` / `user hasn't approved this consumer`
//! 9. IP restrictions → `ip restricted`

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;

use super::config::{Config, PermittedUsers};
use crate::jwt::{self, NumericDate};

/// Why a token request is refused, with Salesforce's exact error strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// `unsupported_grant_type` / `grant type not supported`.
    UnsupportedGrantType,
    /// `invalid_grant` / `invalid assertion`, with the emulator's own reason (for logs).
    InvalidAssertion(&'static str),
    /// `invalid_client_id` / `client identifier invalid`.
    InvalidClientId,
    /// `app_not_found` / `External client app is not installed in this org`.
    AppNotFound,
    /// `invalid_grant` / `audience is invalid`.
    AudienceInvalid,
    /// `invalid_grant` / `expired authorization code`.
    Expired,
    /// `invalid_grant` / `inactive user`.
    InactiveUser,
    /// `invalid_app_access` / `user is not admin approved to access this app`.
    NotAdminApproved,
    /// `invalid_grant` / `user hasn't approved this consumer`.
    NotApproved,
    /// `invalid_grant` / `ip restricted`.
    IpRestricted,
    /// `invalid_request` / `must use HTTP POST` (a GET on the token endpoint).
    MustUsePost,
}

impl Failure {
    /// `error`.
    pub fn error(self) -> &'static str {
        match self {
            Failure::UnsupportedGrantType => "unsupported_grant_type",
            Failure::InvalidClientId => "invalid_client_id",
            Failure::AppNotFound => "app_not_found",
            Failure::NotAdminApproved => "invalid_app_access",
            Failure::MustUsePost => "invalid_request",
            Failure::InvalidAssertion(_)
            | Failure::AudienceInvalid
            | Failure::Expired
            | Failure::InactiveUser
            | Failure::NotApproved
            | Failure::IpRestricted => "invalid_grant",
        }
    }

    /// `error_description`.
    pub fn description(self) -> &'static str {
        match self {
            Failure::UnsupportedGrantType => "grant type not supported",
            Failure::InvalidAssertion(_) => "invalid assertion",
            Failure::InvalidClientId => "client identifier invalid",
            Failure::AppNotFound => "External client app is not installed in this org",
            Failure::AudienceInvalid => "audience is invalid",
            Failure::Expired => "expired authorization code",
            Failure::InactiveUser => "inactive user",
            Failure::NotAdminApproved => "user is not admin approved to access this app",
            Failure::NotApproved => "user hasn't approved this consumer",
            Failure::IpRestricted => "ip restricted",
            Failure::MustUsePost => "must use HTTP POST",
        }
    }

    /// The JSON body Salesforce sends.
    pub fn body(self) -> String {
        format!(
            "{{\"error\":\"{}\",\"error_description\":\"{}\"}}",
            self.error(),
            self.description()
        )
    }
}

/// Which token endpoint was addressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// The org's login endpoint (login.salesforce.com, test.salesforce.com or My Domain).
    Org,
    /// An Experience Cloud site (index into `Config::sites`).
    Site(usize),
}

/// The form parameters of a token request.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokenRequest<'a> {
    /// `grant_type`.
    pub grant_type: Option<&'a str>,
    /// `assertion`.
    pub assertion: Option<&'a str>,
}

/// A granted request: which app and which user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant {
    /// Index into `Config::apps`.
    pub app: usize,
    /// Index into `Config::users`.
    pub user: usize,
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
) -> Result<Grant, Failure> {
    // 1. grant type
    if req.grant_type != Some(crate::token_endpoint::GRANT_TYPE) {
        return Err(Failure::UnsupportedGrantType);
    }
    // 2. parse, alg
    let assertion = req
        .assertion
        .ok_or(Failure::InvalidAssertion("no assertion parameter"))?;
    let parsed = jwt::parse(assertion.trim()).map_err(|e| {
        Failure::InvalidAssertion(match e {
            jwt::ParseError::TooLong => "assertion too long",
            jwt::ParseError::NotThreeSegments => "not three segments",
            jwt::ParseError::BadBase64(_) => "bad base64url",
            jwt::ParseError::BadJson(_, _) => "header or claims not a JSON object",
        })
    })?;
    if !parsed.is_rs256() {
        return Err(Failure::InvalidAssertion("alg is not RS256"));
    }
    // 3. issuer
    let iss = parsed
        .claims
        .iss
        .as_deref()
        .ok_or(Failure::InvalidClientId)?;
    let app_ix = cfg.app_by_key(iss).ok_or(Failure::InvalidClientId)?;
    let app = &cfg.apps[app_ix];
    if app.external_client_app && !app.installed {
        return Err(Failure::AppNotFound);
    }
    // 4. signature
    app.verifier
        .verify(parsed.signing_input.as_bytes(), &parsed.signature)
        .map_err(|_| Failure::InvalidAssertion("signature does not verify"))?;
    // 5. audience
    let aud = parsed.claims.aud.as_ref().ok_or(Failure::AudienceInvalid)?;
    if !aud
        .values()
        .iter()
        .any(|a| audience_ok(cfg, endpoint, a, base_url))
    {
        return Err(Failure::AudienceInvalid);
    }
    // 6. expiry (never an upper bound: the Salesforce CLI sends milliseconds)
    let exp = match parsed.claims.exp {
        Some(NumericDate::Seconds(s)) => s,
        Some(NumericDate::Invalid) => return Err(Failure::InvalidAssertion("exp is not a number")),
        None => return Err(Failure::InvalidAssertion("no exp claim")),
    };
    let skew = i64::try_from(cfg.clock_skew).unwrap_or(i64::MAX);
    if exp.saturating_add(skew) <= now {
        return Err(Failure::Expired);
    }
    // 7. user
    let subject = parsed
        .claims
        .subject()
        .ok_or(Failure::InvalidAssertion("no sub or prn claim"))?;
    let user_ix = cfg
        .user_by_name(subject)
        .ok_or(Failure::InvalidAssertion("unknown user"))?;
    let user = &cfg.users[user_ix];
    if !user.active {
        return Err(Failure::InactiveUser);
    }
    // 8. policy
    match app.permitted_users {
        PermittedUsers::AdminApproved if !user.pre_authorized.contains(&app_ix) => {
            return Err(Failure::NotAdminApproved);
        }
        PermittedUsers::SelfAuthorize if !user.approved.contains(&app_ix) => {
            return Err(Failure::NotApproved);
        }
        _ => {}
    }
    // 9. network restrictions
    if user.ip_restricted {
        return Err(Failure::IpRestricted);
    }
    Ok(Grant {
        app: app_ix,
        user: user_ix,
    })
}

fn audience_ok(cfg: &Config, endpoint: Endpoint, aud: &str, base_url: &str) -> bool {
    let aud = aud.strip_suffix('/').unwrap_or(aud);
    match endpoint {
        Endpoint::Site(i) => cfg.sites.get(i).is_some_and(|s| s == aud),
        Endpoint::Org => {
            aud == cfg.login_host()
                || (cfg.accept_my_domain_audience
                    && (cfg.my_domain.as_deref() == Some(aud) || aud == base_url))
        }
    }
}

/// Issues and checks the emulator's access tokens: `<org id 15>!<base64url>` where the
/// random part carries 24 random bytes, the app, the user, the issue time and an
/// HMAC-SHA256 tag under a key made at start-up. Nothing is stored, so memory stays flat
/// however many tokens are minted; a restart invalidates every token.
pub struct Tokens {
    key: hmac::Key,
    rng: ring::rand::SystemRandom,
}

const TOKEN_VERSION: u8 = 1;
const NONCE: usize = 24;
const PAYLOAD_LEN: usize = NONCE + 1 + 2 + 4 + 8;
const TOKEN_LEN: usize = PAYLOAD_LEN + 32;

/// What a valid token stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Session {
    /// Index into `Config::apps`.
    pub app: usize,
    /// Index into `Config::users`.
    pub user: usize,
    /// Issue time, seconds since the epoch.
    pub issued: i64,
}

impl Tokens {
    /// A fresh key from the OS RNG.
    pub fn new() -> crate::Result<Self> {
        let rng = ring::rand::SystemRandom::new();
        let key = hmac::Key::generate(hmac::HMAC_SHA256, &rng)
            .map_err(|_| crate::Error::crypto("the OS random number generator failed"))?;
        Ok(Tokens { key, rng })
    }

    /// Mint a token for `grant`.
    pub fn issue(&self, org15: &str, grant: Grant, now: i64) -> crate::Result<String> {
        use ring::rand::SecureRandom;
        // Random bytes first, so the visible start of a token tells nothing.
        let mut buf = [0u8; TOKEN_LEN];
        self.rng
            .fill(&mut buf[..NONCE])
            .map_err(|_| crate::Error::crypto("the OS random number generator failed"))?;
        buf[NONCE] = TOKEN_VERSION;
        buf[NONCE + 1..NONCE + 3]
            .copy_from_slice(&u16::try_from(grant.app).unwrap_or(u16::MAX).to_be_bytes());
        buf[NONCE + 3..NONCE + 7]
            .copy_from_slice(&u32::try_from(grant.user).unwrap_or(u32::MAX).to_be_bytes());
        buf[NONCE + 7..PAYLOAD_LEN].copy_from_slice(&now.to_be_bytes());
        let tag = hmac::sign(&self.key, &buf[..PAYLOAD_LEN]);
        buf[PAYLOAD_LEN..].copy_from_slice(tag.as_ref());
        let mut out = String::with_capacity(16 + TOKEN_LEN * 4 / 3 + 4);
        out.push_str(org15);
        out.push('!');
        URL_SAFE_NO_PAD.encode_string(buf, &mut out);
        Ok(out)
    }

    /// Check a token: right org, genuine, not older than `session_seconds`, and naming an
    /// app and an active user that exist.
    pub fn check(&self, cfg: &Config, token: &str, now: i64) -> Option<Session> {
        let (org, rest) = token.split_once('!')?;
        if org != cfg.org_id15() || rest.len() > 128 {
            return None;
        }
        let mut buf = [0u8; TOKEN_LEN];
        let n = URL_SAFE_NO_PAD.decode_slice(rest, &mut buf).ok()?;
        if n != TOKEN_LEN || buf[NONCE] != TOKEN_VERSION {
            return None;
        }
        hmac::verify(&self.key, &buf[..PAYLOAD_LEN], &buf[PAYLOAD_LEN..]).ok()?;
        let b = &buf[NONCE..PAYLOAD_LEN];
        let app = usize::from(u16::from_be_bytes([b[1], b[2]]));
        let user = u32::from_be_bytes([b[3], b[4], b[5], b[6]]) as usize;
        let mut t = [0u8; 8];
        t.copy_from_slice(&b[7..15]);
        let issued = i64::from_be_bytes(t);
        let lifetime = i64::try_from(cfg.session_seconds).unwrap_or(i64::MAX);
        if issued.saturating_add(lifetime) <= now || issued > now.saturating_add(60) {
            return None;
        }
        let u = cfg.users.get(user)?;
        cfg.apps.get(app)?;
        u.active.then_some(Session { app, user, issued })
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

    fn run(a: &str) -> Result<Grant, Failure> {
        let req = TokenRequest {
            grant_type: Some(crate::token_endpoint::GRANT_TYPE),
            assertion: Some(a),
        };
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
            grant_type: Some("password"),
            assertion: Some(&ok),
        };
        assert_eq!(
            validate(&f.cfg, Endpoint::Org, &req, BASE, NOW),
            Err(Failure::UnsupportedGrantType)
        );
        assert!(matches!(run("garbage"), Err(Failure::InvalidAssertion(_))));
        assert_eq!(
            run(&assertion(
                &f.key,
                "NOPE",
                "alice@example.com",
                login,
                NOW + 60
            )),
            Err(Failure::InvalidClientId)
        );
        assert_eq!(
            run(&assertion(
                &f.key,
                "KEY_ECA",
                "alice@example.com",
                login,
                NOW + 60
            )),
            Err(Failure::AppNotFound)
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
            Err(Failure::InvalidAssertion("signature does not verify"))
        ));
        assert_eq!(
            run(&assertion(
                &f.key,
                "KEY_MAIN",
                "alice@example.com",
                "https://test.salesforce.com",
                1
            )),
            Err(Failure::AudienceInvalid)
        );
        assert_eq!(
            run(&assertion(
                &f.key,
                "KEY_MAIN",
                "alice@example.com",
                login,
                NOW
            )),
            Err(Failure::Expired)
        );
        assert!(matches!(
            run(&assertion(
                &f.key,
                "KEY_MAIN",
                "zed@example.com",
                login,
                NOW + 9
            )),
            Err(Failure::InvalidAssertion("unknown user"))
        ));
        assert_eq!(
            run(&assertion(
                &f.key,
                "KEY_MAIN",
                "carol@example.com",
                login,
                NOW + 9
            )),
            Err(Failure::InactiveUser)
        );
        assert_eq!(
            run(&assertion(
                &f.key,
                "KEY_MAIN",
                "bob@example.com",
                login,
                NOW + 9
            )),
            Err(Failure::NotAdminApproved)
        );
        assert_eq!(
            run(&assertion(
                &f.key,
                "KEY_SELF",
                "bob@example.com",
                login,
                NOW + 9
            )),
            Err(Failure::NotApproved)
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
            Err(Failure::IpRestricted)
        );
        // site endpoint wants the site URL
        let req_site = assertion(
            &f.key,
            "KEY_MAIN",
            "alice@example.com",
            "https://acme.my.site.com/customers",
            NOW + 9,
        );
        let req = TokenRequest {
            grant_type: Some(crate::token_endpoint::GRANT_TYPE),
            assertion: Some(&req_site),
        };
        assert!(validate(&f.cfg, Endpoint::Site(0), &req, BASE, NOW).is_ok());
        assert_eq!(
            validate(&f.cfg, Endpoint::Org, &req, BASE, NOW),
            Err(Failure::AudienceInvalid)
        );
    }

    #[test]
    fn tokens_round_trip() {
        let f = fx();
        let t = Tokens::new().unwrap();
        let tok = t
            .issue(f.cfg.org_id15(), Grant { app: 0, user: 0 }, NOW)
            .unwrap();
        assert!(tok.starts_with("00Dxx0000001gPL!"));
        assert_eq!(t.check(&f.cfg, &tok, NOW + 10).map(|s| s.user), Some(0));
        assert_eq!(t.check(&f.cfg, &tok, NOW + 7200), None);
        // The last character changed (to one it is not: tokens are random).
        let mut bad = tok.clone();
        let last = bad.pop();
        bad.push(if last == Some('A') { 'B' } else { 'A' });
        assert_eq!(t.check(&f.cfg, &bad, NOW), None);
        assert_eq!(Tokens::new().unwrap().check(&f.cfg, &tok, NOW), None);
        // inactive user's token is refused
        let tok = t
            .issue(f.cfg.org_id15(), Grant { app: 0, user: 2 }, NOW)
            .unwrap();
        assert_eq!(t.check(&f.cfg, &tok, NOW), None);
        assert_eq!(t.check(&f.cfg, "", NOW), None);
        assert_eq!(t.check(&f.cfg, "00Dxx0000001gPL!", NOW), None);
    }

    #[test]
    fn bodies_are_exact() {
        assert_eq!(
            Failure::NotApproved.body(),
            r#"{"error":"invalid_grant","error_description":"user hasn't approved this consumer"}"#
        );
    }
}
