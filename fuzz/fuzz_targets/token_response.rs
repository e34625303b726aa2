//! What `mint` parses from the network: token responses, OAuth errors, identity bodies,
//! and the identity URL it derives from a token response; and the token request form both
//! ways.
#![no_main]
use std::sync::OnceLock;

use certmint::token_endpoint::{
    ExplainContext, Identity, LoginUrl, OAuthError, TokenResponse, explain, identity_url,
    mask_token,
};
use certmint::wire::oauth::TokenRequest;
use libfuzzer_sys::fuzz_target;

fn logins() -> &'static [LoginUrl] {
    static L: OnceLock<Vec<LoginUrl>> = OnceLock::new();
    L.get_or_init(|| {
        [
            "login",
            "test",
            "https://acme.my.salesforce.com",
            "http://127.0.0.1:8080",
        ]
        .iter()
        .map(|u| LoginUrl::parse(u).expect("fixed login URL"))
        .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = TokenResponse::parse(data) {
        let _ = r.org_id();
        let _ = r.user_id();
        let masked = r.access_token.masked();
        let token = r.access_token.expose();
        // The mask never shows more than a third of a long secret.
        if token.chars().count() >= 48 {
            assert!(!masked.contains(token), "mask shows the whole token");
        }
        let _ = format!("{r:?}");
        for l in logins() {
            if let Ok(url) = identity_url(l, &r) {
                // The token only goes to loopback (for a loopback login) or over HTTPS.
                assert!(
                    url.starts_with("https://") || (l.is_loopback() && url.starts_with("http://")),
                    "identity URL {url} for login {}",
                    l.as_str()
                );
            }
        }
    }
    for status in [400u16, 401] {
        if let Some(e) = OAuthError::parse(status, data) {
            let _ = e.to_string();
            let ctx = ExplainContext {
                now: Some(1_800_000_000),
                exp: Some(1_800_000_180),
                login_url: Some("https://login.salesforce.com".into()),
                audience: Some("https://login.salesforce.com".into()),
                client_id: Some("3MVG9".into()),
                username: Some("alice@example.com".into()),
                key_spki_sha256: Some("AA:BB".into()),
                cert_sha1: Some("CC:DD".into()),
                cert_matches_key: Some(false),
            };
            let x = explain(&e, &ctx);
            // A recognised error always comes with advice.
            assert_eq!(x.error.is_some(), x.advice.is_some());
            assert_eq!(x.error, e.known());
            let _ = explain(&e, &ExplainContext::default());
        }
    }
    let _ = Identity::parse("https://login.salesforce.com/id/00D/005", data);
    // The emulator's side of the form: what it reads from a body or query string.
    let req = TokenRequest::from_form(data);
    let _ = format!("{req:?}");
    let form = req.to_form();
    let again = TokenRequest::from_form(form.as_bytes());
    assert_eq!(
        again, req,
        "a token request does not survive its own form encoding"
    );
    let _ = mask_token(&String::from_utf8_lossy(data));
});
