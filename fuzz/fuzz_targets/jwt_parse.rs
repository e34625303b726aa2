//! The assertion parser and RS256 verifier (emulator and `inspect`).
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn verifier() -> &'static certmint::jwt::Verifier {
    static V: OnceLock<certmint::jwt::Verifier> = OnceLock::new();
    V.get_or_init(|| {
        let cert = certmint::x509::parse(include_bytes!("../../fixtures/certs/base.crt"))
            .expect("fixture certificate");
        certmint::jwt::Verifier::from_spki(&cert.spki).expect("fixture key")
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = certmint::detect::detect(data);
    if let Ok(p) = certmint::jwt::parse(&text) {
        let _ = p.claims.subject();
        if let Some(a) = &p.claims.aud {
            let _ = a.values();
        }
        for d in [p.claims.exp, p.claims.iat, p.claims.nbf]
            .into_iter()
            .flatten()
        {
            let _ = d.seconds();
        }
        // A forged signature must never verify.
        assert!(
            verifier().verify_parsed(&p).is_err() || p.signature.len() == 256,
            "a signature of the wrong length verified"
        );
    }
    let _ = certmint::jwt::Verifier::from_spki(data);
});
