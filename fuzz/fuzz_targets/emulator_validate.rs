//! The emulator's decision on a token request, against a fixed org with every policy
//! (`fixtures/emulator/acme.toml`).
//! The first byte picks what the rest is: a raw assertion; claims JSON that the target
//! signs with the app's key (so the fuzzer reaches the checks after the signature); or
//! `grant_type\nassertion`. The second byte picks the endpoint.
#![no_main]
use std::sync::OnceLock;

use certmint::emulator::{Config, Endpoint, validate};
use certmint::jwt::{HeaderStyle, Signer};
use certmint::wire::oauth::{GRANT_TYPE, TokenRequest};
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_800_000_000;
const BASE: &str = "http://127.0.0.1:8080";

struct Fixture {
    cfg: Config,
    signer: Signer,
}

/// The configuration documented in docs/emulator.md, over the fixture certificate, whose
/// key signs the claims of mode 1.
fn fx() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let cert = include_bytes!("../../fixtures/certs/base.crt");
        let toml = include_str!("../../fixtures/emulator/acme.toml");
        let cfg = Config::from_toml(toml, &mut |_| Ok(cert.to_vec())).expect("fixed config");
        let (key, _) =
            certmint::key::load(include_bytes!("../../fixtures/keys/base.pkcs8.pem"), None)
                .expect("fixture key");
        let signer = Signer::new(&key, HeaderStyle::Bare).expect("signer");
        Fixture { cfg, signer }
    })
}

fuzz_target!(|data: &[u8]| {
    let (Some(&mode), Some(&ep)) = (data.first(), data.get(1)) else {
        return;
    };
    let rest = &data[2..];
    let f = fx();
    let endpoint = match ep % 3 {
        0 => Endpoint::Org,
        1 => Endpoint::Site(0),
        _ => Endpoint::Site(usize::from(ep)),
    };
    let signed;
    let text;
    let (grant, assertion) = match mode % 3 {
        0 => {
            text = String::from_utf8_lossy(rest).into_owned();
            (Some(GRANT_TYPE), Some(text.as_str()))
        }
        1 => {
            let Ok(a) = f.signer.sign_json(rest) else {
                return;
            };
            signed = a;
            (Some(GRANT_TYPE), Some(signed.as_str()))
        }
        _ => {
            text = String::from_utf8_lossy(rest).into_owned();
            match text.split_once('\n') {
                Some((g, a)) => (Some(g), Some(a)),
                None => (Some(text.as_str()), None),
            }
        }
    };
    let req = TokenRequest {
        grant_type: grant.map(Into::into),
        assertion: assertion.map(Into::into),
    };
    match validate(&f.cfg, endpoint, &req, BASE, NOW) {
        Ok(g) => {
            // A grant names an existing, active user of an existing app.
            let user = &f.cfg.users[g.user];
            assert!(user.active);
            assert!(g.app < f.cfg.apps.len());
        }
        Err(r) => {
            // Every refusal is a wire error the client recognises.
            let body = r.error.body();
            assert_eq!(body.known(), Some(r.error));
        }
    }
});
