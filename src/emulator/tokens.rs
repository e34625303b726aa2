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
    revoked: std::sync::RwLock<Revoked>,
}

/// Revoked tokens remembered one by one at most (each until it would have expired anyway).
pub const MAX_REVOKED: usize = 100_000;

/// How many of the oldest revocations are folded into the cut-off at once when the map is
/// full of live ones (so the fold's linear cost is paid once per this many revocations).
const FOLD: usize = MAX_REVOKED / 100;

/// The revoked tokens: each by its nonce with the time it would have expired, at most
/// [`MAX_REVOKED`], and a cut-off before which every token counts as revoked. When the map
/// is full, expired entries go first; if it is still full, the oldest [`FOLD`] (those that
/// expire soonest) are replaced by moving the cut-off up to their expiry. So memory stays
/// bounded and a revoked token never works again; the price is that tokens issued no
/// later than a folded one (in the same second or before) stop working early too.
#[derive(Default)]
struct Revoked {
    by_nonce: std::collections::HashMap<[u8; NONCE], i64>,
    /// Tokens expiring at or before this time (seconds since the epoch) are revoked.
    through: i64,
}

impl Revoked {
    fn insert(&mut self, nonce: [u8; NONCE], expires: i64, now: i64) {
        if expires <= self.through || self.by_nonce.contains_key(&nonce) {
            return;
        }
        if self.by_nonce.len() >= MAX_REVOKED {
            self.by_nonce.retain(|_, exp| *exp > now);
        }
        if self.by_nonce.len() >= MAX_REVOKED {
            let mut expiries: Vec<i64> = self.by_nonce.values().copied().collect();
            let (_, cut, _) = expiries.select_nth_unstable(FOLD - 1);
            let cut = *cut;
            self.through = self.through.max(cut);
            self.by_nonce.retain(|_, exp| *exp > cut);
            if expires <= self.through {
                return;
            }
        }
        self.by_nonce.insert(nonce, expires);
    }

    fn contains(&self, nonce: &[u8; NONCE], expires: i64) -> bool {
        expires <= self.through || (!self.by_nonce.is_empty() && self.by_nonce.contains_key(nonce))
    }
}

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
            revoked: std::sync::RwLock::new(Revoked::default()),
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
        let expires = expiry(cfg, &s);
        let mut r = self.revoked.write().unwrap_or_else(|e| e.into_inner());
        // Revoking a revoked token again succeeds again, as before.
        if r.contains(&nonce, expires) {
            return true;
        }
        r.insert(nonce, expires, now);
        true
    }

    /// Revocations remembered one by one (at most [`MAX_REVOKED`]).
    #[cfg(test)]
    fn revoked_len(&self) -> usize {
        self.revoked
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .by_nonce
            .len()
    }

    /// Check a token: right org, genuine, not revoked, not older than `session_seconds`,
    /// and naming an app and an active user that exist.
    pub(super) fn check(&self, cfg: &Config, token: &str, now: i64) -> Option<Session> {
        let (nonce, s) = self.decode(cfg, token, now)?;
        let r = self.revoked.read().unwrap_or_else(|e| e.into_inner());
        (!r.contains(&nonce, expiry(cfg, &s))).then_some(s)
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

/// When the token of session `s` expires.
fn expiry(cfg: &Config, s: &Session) -> i64 {
    s.issued
        .saturating_add(i64::try_from(cfg.session_seconds).unwrap_or(i64::MAX))
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

    /// The revocation cap (issue 14): 100,000 live revocations are remembered one by one;
    /// the next one folds the oldest into the cut-off instead of growing the map, and no
    /// revoked token works again. Tokens issued no later than a folded one stop working too
    /// (the documented price); later ones are unaffected.
    #[test]
    fn revocations_are_capped_and_a_revoked_token_never_works_again() {
        let cfg = cfg();
        let t = Tokens::new().unwrap();
        let grant = Grant { app: 0, user: 0 };
        let org = cfg.org_id15();
        let early = t.issue(org, grant, NOW - 10).unwrap();
        let first = t.issue(org, grant, NOW).unwrap();
        assert!(t.revoke(&cfg, &first, NOW));
        for _ in 1..MAX_REVOKED {
            let tok = t.issue(org, grant, NOW + 1).unwrap();
            assert!(t.revoke(&cfg, &tok, NOW + 1));
        }
        assert_eq!(t.revoked_len(), MAX_REVOKED);
        let kept = t.issue(org, grant, NOW + 2).unwrap();
        assert!(t.check(&cfg, &early, NOW + 2).is_some());
        // The next revocation: the map does not grow; the oldest are folded.
        let next = t.issue(org, grant, NOW + 2).unwrap();
        assert!(t.revoke(&cfg, &next, NOW + 2));
        assert!(t.revoked_len() <= MAX_REVOKED);
        assert!(t.revoked_len() < MAX_REVOKED, "nothing was dropped");
        assert_eq!(
            t.check(&cfg, &first, NOW + 2),
            None,
            "a revoked token works again"
        );
        assert_eq!(t.check(&cfg, &next, NOW + 2), None);
        assert_eq!(
            t.check(&cfg, &early, NOW + 2),
            None,
            "issued before a folded one"
        );
        assert!(
            t.check(&cfg, &kept, NOW + 2).is_some(),
            "a later token stopped working"
        );
        // Revoking again is still a success, and the map stays bounded however many follow.
        assert!(t.revoke(&cfg, &first, NOW + 2));
        for i in 0..2 * FOLD {
            let tok = t.issue(org, grant, NOW + 3 + (i as i64 % 2)).unwrap();
            assert!(t.revoke(&cfg, &tok, NOW + 4));
            assert!(t.revoked_len() <= MAX_REVOKED);
        }
        assert!(t.check(&cfg, &kept, NOW + 4).is_some());
        let later = t.issue(org, grant, NOW + 5).unwrap();
        assert!(t.check(&cfg, &later, NOW + 5).is_some());
    }
}
