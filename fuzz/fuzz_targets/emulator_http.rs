//! Raw HTTP bytes into the emulator: one connection over an in-memory pipe, served by the
//! same code as TCP connections (hyper, limits, routing, validation, responses). No
//! sockets and no timing, so no flakiness. `@TOKEN@` in the input is replaced by a valid
//! access token, so the endpoints behind a session are reached too.
#![no_main]
use std::sync::OnceLock;
use std::time::Duration;

use certmint::emulator::{Config, InMemory, Limits};
use libfuzzer_sys::fuzz_target;

struct Fixture {
    emu: InMemory,
    token: Vec<u8>,
}

fn fx() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let cert = include_bytes!("../../fixtures/certs/base.crt");
        let cfg = Config::simple(cert, "KEY", &["alice@example.com".into()]).expect("config");
        let limits = Limits {
            max_body: 4 * 1024,
            max_header: 2 * 1024,
            ..Limits::default()
        };
        let emu = InMemory::new(cfg, limits).expect("emulator");
        let token = emu.token(0, 0).expect("token").into_bytes();
        Fixture { emu, token }
    })
}

fn replace_token(data: &[u8], token: &[u8]) -> Vec<u8> {
    const MARK: &[u8] = b"@TOKEN@";
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i..].starts_with(MARK) {
            out.extend_from_slice(token);
            i += MARK.len();
        } else {
            out.push(data[i]);
            i += 1;
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let f = fx();
    let request = replace_token(data, &f.token);
    let out = f
        .emu
        .exchange(&request, Duration::from_secs(20))
        .expect("the emulator hung on a closed connection");
    if !out.is_empty() {
        // hyper answers an HTTP/1.0 request in HTTP/1.0.
        let status = out
            .strip_prefix(b"HTTP/1.1 ")
            .or_else(|| out.strip_prefix(b"HTTP/1.0 "))
            .expect("not an HTTP response");
        // The server never answers 500 to anything a client sends.
        assert!(!status.starts_with(b"500"), "500 response");
        // Responses never echo the token back.
        let tok = &f.token[16..];
        assert!(
            !out.windows(tok.len()).any(|w| w == tok),
            "a response contains the access token"
        );
    }
});
