//! The emulator's access tokens: stateless, so memory stays flat however many are minted.
//! Below the state layer: [`super::state::Shared`] holds one [`Tokens`].

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;

use super::config::Config;

/// A granted request: which app and which user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant {
    /// Index into `Config::apps`.
    pub app: usize,
    /// Index into `Config::users`.
    pub user: usize,
}

/// Issues and checks the emulator's access tokens: `<org id 15>!<base64url>` where the
/// random part carries 24 random bytes, the app, the user, the issue time and an
/// HMAC-SHA256 tag under a key made at start-up. Nothing is stored, so memory stays flat
/// however many tokens are minted; a restart invalidates every token.
pub(crate) struct Tokens {
    key: hmac::Key,
    rng: ring::rand::SystemRandom,
    /// Revoked tokens (by nonce) and when they would have expired; at most
    /// [`MAX_REVOKED`], expired ones dropped first.
    revoked: std::sync::Mutex<std::collections::HashMap<[u8; NONCE], i64>>,
}

/// Revoked tokens remembered at most (each until it would have expired anyway).
pub(crate) const MAX_REVOKED: usize = 100_000;

const TOKEN_VERSION: u8 = 1;
const NONCE: usize = 24;
const PAYLOAD_LEN: usize = NONCE + 1 + 2 + 4 + 8;
const TOKEN_LEN: usize = PAYLOAD_LEN + 32;

/// What a valid token stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Session {
    /// Index into `Config::apps`.
    pub app: usize,
    /// Index into `Config::users`.
    pub user: usize,
    /// Issue time, seconds since the epoch.
    pub issued: i64,
}

impl Tokens {
    /// A fresh key from the OS RNG.
    pub(super) fn new() -> crate::Result<Self> {
        let rng = ring::rand::SystemRandom::new();
        let key = hmac::Key::generate(hmac::HMAC_SHA256, &rng)
            .map_err(|_| crate::Error::internal("the OS random number generator failed"))?;
        Ok(Tokens {
            key,
            rng,
            revoked: std::sync::Mutex::new(std::collections::HashMap::new()),
        })
    }

    /// Mint a token for `grant`.
    pub(super) fn issue(&self, org15: &str, grant: Grant, now: i64) -> crate::Result<String> {
        use ring::rand::SecureRandom;
        // Random bytes first, so the visible start of a token tells nothing.
        let mut buf = [0u8; TOKEN_LEN];
        self.rng
            .fill(&mut buf[..NONCE])
            .map_err(|_| crate::Error::internal("the OS random number generator failed"))?;
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

    /// Revoke a token (`/services/oauth2/revoke`): true when it was a valid one.
    pub(super) fn revoke(&self, cfg: &Config, token: &str, now: i64) -> bool {
        let Some((nonce, s)) = self.decode(cfg, token, now) else {
            return false;
        };
        let expires = s
            .issued
            .saturating_add(i64::try_from(cfg.session_seconds).unwrap_or(i64::MAX));
        let mut r = self.revoked.lock().unwrap_or_else(|e| e.into_inner());
        if r.len() >= MAX_REVOKED {
            r.retain(|_, exp| *exp > now);
        }
        if r.len() >= MAX_REVOKED {
            // Still full of live revocations: forget the one that expires soonest.
            if let Some(k) = r.iter().min_by_key(|(_, e)| **e).map(|(k, _)| *k) {
                r.remove(&k);
            }
        }
        r.insert(nonce, expires);
        true
    }

    /// Check a token: right org, genuine, not revoked, not older than `session_seconds`,
    /// and naming an app and an active user that exist.
    pub(super) fn check(&self, cfg: &Config, token: &str, now: i64) -> Option<Session> {
        let (nonce, s) = self.decode(cfg, token, now)?;
        let r = self.revoked.lock().unwrap_or_else(|e| e.into_inner());
        (r.is_empty() || !r.contains_key(&nonce)).then_some(s)
    }

    fn decode(&self, cfg: &Config, token: &str, now: i64) -> Option<([u8; NONCE], Session)> {
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
        let user = usize::try_from(u32::from_be_bytes([b[3], b[4], b[5], b[6]])).ok()?;
        let mut t = [0u8; 8];
        t.copy_from_slice(&b[7..15]);
        let issued = i64::from_be_bytes(t);
        let lifetime = i64::try_from(cfg.session_seconds).unwrap_or(i64::MAX);
        if issued.saturating_add(lifetime) <= now || issued > now.saturating_add(60) {
            return None;
        }
        let u = cfg.users.get(user)?;
        cfg.apps.get(app)?;
        let mut nonce = [0u8; NONCE];
        nonce.copy_from_slice(&buf[..NONCE]);
        u.active.then_some((nonce, Session { app, user, issued }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn cfg() -> Config {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/emulator");
        let toml = std::fs::read_to_string(dir.join("acme.toml")).unwrap();
        Config::from_toml(&toml, &mut |p| std::fs::read(dir.join(p))).unwrap()
    }

    struct Fx {
        cfg: Config,
    }

    #[test]
    fn tokens_round_trip() {
        let f = &Fx { cfg: cfg() };
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
        // a revoked token stops working; others do not
        let a = t
            .issue(f.cfg.org_id15(), Grant { app: 0, user: 0 }, NOW)
            .unwrap();
        let b = t
            .issue(f.cfg.org_id15(), Grant { app: 0, user: 0 }, NOW)
            .unwrap();
        assert!(t.revoke(&f.cfg, &a, NOW));
        assert_eq!(t.check(&f.cfg, &a, NOW), None);
        assert!(t.check(&f.cfg, &b, NOW).is_some());
        assert!(!t.revoke(&f.cfg, "bogus", NOW));
        assert_eq!(t.check(&f.cfg, "00Dxx0000001gPL!", NOW), None);
    }
}
