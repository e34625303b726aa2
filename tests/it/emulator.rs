//! The emulator rejects what Salesforce rejects, with Salesforce's exact status, headers
//! and bodies; serves the follow-up calls; survives hostile HTTP. Driven in-process
//! through `certmint::emulator` and over raw TCP so every byte is checked.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use certmint::emulator::{Config, Limits, Running, ServerOptions};
use certmint::jwt::{HeaderStyle, Signer};
use certmint::key::RsaKey;

use crate::support::emulator as emu;
use crate::support::{base_pair_in, cases, fixture_key, fixture_text, require};

const GRANT: &str = "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer";
const LOGIN: &str = "https://login.salesforce.com";
const JSON_CT: &str = "application/json;charset=UTF-8";
const NO_CACHE: &str = "no-cache,must-revalidate,max-age=0,no-store,private";

struct Fixture {
    key: RsaKey,
    other: RsaKey,
    cert_pem: String,
    dir: tempfile::TempDir,
}

/// The committed base key (which acme.toml's apps trust through `certs/base.crt`) and an
/// unrelated committed key.
fn fx() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = base_pair_in();
        Fixture {
            key: fixture_key("keys/base.pkcs8.pem"),
            other: fixture_key("keys/other.pkcs8.pem"),
            cert_pem: fixture_text("certs/base.crt"),
            dir,
        }
    })
}

fn config() -> Config {
    emu::acme()
}

fn emulator() -> Running {
    emu::start(config())
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn b64(s: &str) -> String {
    URL_SAFE_NO_PAD.encode(s)
}

/// An assertion with the given header and claims JSON, signed RS256 with `key`.
fn signed(key: &RsaKey, claims: &str) -> String {
    Signer::new(key, HeaderStyle::Bare)
        .unwrap()
        .sign_json(claims.as_bytes())
        .unwrap()
}

fn claims(iss: &str, sub: &str, aud: &str, exp: i64) -> String {
    format!(r#"{{"iss":"{iss}","sub":"{sub}","aud":"{aud}","exp":{exp}}}"#)
}

fn good() -> String {
    signed(
        &fx().key,
        &claims("KEY_MAIN", "alice@example.com", LOGIN, now() + 120),
    )
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Send raw bytes, read the whole answer (the request asks to close the connection).
fn raw(base: &str, request: &[u8]) -> Reply {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(request).unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    parse_reply(&buf)
}

fn parse_reply(buf: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

fn post(base: &str, path: &str, content_type: &str, body: &str) -> Reply {
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    raw(base, req.as_bytes())
}

fn token_request(base: &str, assertion: &str) -> Reply {
    post(
        base,
        "/services/oauth2/token",
        "application/x-www-form-urlencoded",
        &format!("grant_type={GRANT}&assertion={assertion}"),
    )
}

fn get(base: &str, path: &str, auth: Option<&str>) -> Reply {
    let auth = auth
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Connection: close\r\n\r\n");
    raw(base, req.as_bytes())
}

fn assert_error(r: &Reply, error: &str, description: &str) {
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.header("content-type"), Some(JSON_CT));
    assert_eq!(r.header("cache-control"), Some(NO_CACHE));
    assert_eq!(
        r.body,
        format!(r#"{{"error":"{error}","error_description":"{description}"}}"#)
    );
}

#[test]
fn success_has_the_five_fields_and_follow_up_calls_work() {
    let emu = emulator();
    let r = token_request(emu.base_url(), &good());
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-type"), Some(JSON_CT));
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let obj = v.as_object().unwrap();
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        ["access_token", "id", "instance_url", "scope", "token_type"]
    );
    assert!(
        r.body.starts_with(r#"{"access_token":"00Dxx0000001gPL!"#),
        "{}",
        r.body
    );
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["instance_url"], emu.base_url());
    let id = v["id"].as_str().unwrap();
    assert_eq!(
        id,
        format!(
            "{}/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS",
            emu.base_url()
        )
    );
    let token = v["access_token"].as_str().unwrap();

    let path = id.trim_start_matches(emu.base_url());
    let r = get(emu.base_url(), path, Some(token));
    assert_eq!(r.status, 200, "{}", r.body);
    let idv: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(idv["username"], "alice@example.com");
    assert_eq!(idv["organization_id"], "00Dxx0000001gPLEAY");

    let r = get(emu.base_url(), "/services/oauth2/userinfo", Some(token));
    assert_eq!(r.status, 200);
    assert!(
        r.body
            .contains(r#""preferred_username":"alice@example.com""#)
    );

    // bad token: identity and userinfo 403 Bad_OAuth_Token, data API 401 INVALID_SESSION_ID
    let bad = format!("{}x", &token[..token.len() - 1]);
    for p in [path, "/services/oauth2/userinfo"] {
        let r = get(emu.base_url(), p, Some(&bad));
        assert_eq!((r.status, r.body.as_str()), (403, "Bad_OAuth_Token"));
    }
    let r = get(emu.base_url(), "/services/data/v51.0/sobjects", None);
    assert_eq!(r.status, 401);
    assert_eq!(
        r.body,
        r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#
    );
    // versions need no token
    let r = get(emu.base_url(), "/services/data/", None);
    assert_eq!(r.status, 200);
    assert!(
        r.body
            .contains(r#"{"label":"Winter '15","url":"/services/data/v32.0","version":"32.0"}"#)
    );
    // the Salesforce CLI's follow-up queries (with its double slash)
    let r = get(
        emu.base_url(),
        "//services/data/v51.0/query?q=SELECT%20Id%20FROM%20ScratchOrgInfo%20limit%201",
        Some(token),
    );
    assert!(r.status >= 400, "{}", r.status);
    let r = get(
        emu.base_url(),
        "//services/data/v51.0/query?q=Select%20Namespaceprefix%20FROM%20Organization",
        Some(token),
    );
    assert_eq!(r.status, 200);
    assert!(r.body.contains(r#""NamespacePrefix":null"#));
}

#[test]
fn rejects_what_salesforce_rejects() {
    let emu = emulator();
    let base = emu.base_url();
    let f = fx();
    let t = now() + 120;
    let inv = |a: &str| {
        assert_error(
            &token_request(base, a),
            "invalid_grant",
            "invalid assertion",
        )
    };

    // tampered signature: change one character in the middle of the signature (the last
    // character of a 256-byte signature carries 4 padding bits, so changing it can leave
    // the decoded bytes as they were, and the test would flake)
    let a = good();
    let sig_start = a.rfind('.').unwrap() + 1;
    let mid = sig_start + (a.len() - sig_start) / 2;
    let c = a.as_bytes()[mid];
    let mut tampered = a.into_bytes();
    tampered[mid] = if c == b'A' { b'B' } else { b'A' };
    inv(&String::from_utf8(tampered).unwrap());
    // tampered claims with the original signature
    let g = good();
    let parts: Vec<&str> = g.split('.').collect();
    let forged = b64(&claims("KEY_MAIN", "alice@example.com", LOGIN, t + 1));
    inv(&format!("{}.{forged}.{}", parts[0], parts[2]));
    // signed by another key
    inv(&signed(
        &f.other,
        &claims("KEY_MAIN", "alice@example.com", LOGIN, t),
    ));
    // alg none, alg HS256
    let body = b64(&claims("KEY_MAIN", "alice@example.com", LOGIN, t));
    inv(&format!("{}.{body}.", b64(r#"{"alg":"none"}"#)));
    let hs_input = format!("{}.{body}", b64(r#"{"alg":"HS256","typ":"JWT"}"#));
    let tag = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, f.cert_pem.as_bytes()),
        hs_input.as_bytes(),
    );
    inv(&format!(
        "{hs_input}.{}",
        URL_SAFE_NO_PAD.encode(tag.as_ref())
    ));
    // garbage, missing assertion, a PEM pasted as assertion
    inv("garbage");
    inv("a.b.c");
    assert_error(
        &post(
            base,
            "/services/oauth2/token",
            "application/x-www-form-urlencoded",
            &format!("grant_type={GRANT}"),
        ),
        "invalid_grant",
        "invalid assertion",
    );
    inv("-----BEGIN+PRIVATE+KEY-----");
    // wrong iss, missing iss
    assert_error(
        &token_request(
            base,
            &signed(&f.key, &claims("NOPE", "alice@example.com", LOGIN, t)),
        ),
        "invalid_client_id",
        "client identifier invalid",
    );
    assert_error(
        &token_request(
            base,
            &signed(
                &f.key,
                &format!(r#"{{"sub":"alice@example.com","aud":"{LOGIN}","exp":{t}}}"#),
            ),
        ),
        "invalid_client_id",
        "client identifier invalid",
    );
    // wrong aud (sandbox), missing aud
    assert_error(
        &token_request(
            base,
            &signed(
                &f.key,
                &claims(
                    "KEY_MAIN",
                    "alice@example.com",
                    "https://test.salesforce.com",
                    t,
                ),
            ),
        ),
        "invalid_grant",
        "audience is invalid",
    );
    assert_error(
        &token_request(
            base,
            &signed(
                &f.key,
                &format!(r#"{{"iss":"KEY_MAIN","sub":"alice@example.com","exp":{t}}}"#),
            ),
        ),
        "invalid_grant",
        "audience is invalid",
    );
    // past exp
    assert_error(
        &token_request(
            base,
            &signed(
                &f.key,
                &claims("KEY_MAIN", "alice@example.com", LOGIN, now() - 10),
            ),
        ),
        "invalid_grant",
        "expired authorization code",
    );
    // missing exp, non-numeric exp, missing sub, unknown user
    inv(&signed(
        &f.key,
        &format!(r#"{{"iss":"KEY_MAIN","sub":"alice@example.com","aud":"{LOGIN}"}}"#),
    ));
    inv(&signed(
        &f.key,
        &format!(r#"{{"iss":"KEY_MAIN","sub":"alice@example.com","aud":"{LOGIN}","exp":"soon"}}"#),
    ));
    inv(&signed(
        &f.key,
        &format!(r#"{{"iss":"KEY_MAIN","aud":"{LOGIN}","exp":{t}}}"#),
    ));
    inv(&signed(
        &f.key,
        &claims("KEY_MAIN", "mallory@example.com", LOGIN, t),
    ));
    // JSON body instead of a form; wrong grant type; no body
    let json_body = format!(
        r#"{{"grant_type":"urn:ietf:params:oauth:grant-type:jwt-bearer","assertion":"{}"}}"#,
        good()
    );
    assert_error(
        &post(
            base,
            "/services/oauth2/token",
            "application/json",
            &json_body,
        ),
        "unsupported_grant_type",
        "grant type not supported",
    );
    assert_error(
        &post(
            base,
            "/services/oauth2/token",
            "application/x-www-form-urlencoded",
            "grant_type=password",
        ),
        "unsupported_grant_type",
        "grant type not supported",
    );
    assert_error(
        &post(base, "/services/oauth2/token", "text/plain", ""),
        "unsupported_grant_type",
        "grant type not supported",
    );
}

#[test]
fn accepts_what_salesforce_accepts() {
    let emu = emulator();
    let base = emu.base_url();
    let f = fx();
    // far-future exp (the Salesforce CLI sends milliseconds), typ JWT, iat, prn over sub,
    // exp as a string, padded segments, the My Domain and the emulator URL as audience
    let ms = now() * 1000 + 300;
    let with_typ = Signer::new(&f.key, HeaderStyle::WithTyp)
        .unwrap()
        .sign_json(format!(r#"{{"iss":"KEY_MAIN","sub":"alice@example.com","aud":"{LOGIN}","exp":{ms},"iat":{}}}"#, now()).as_bytes())
        .unwrap();
    assert_eq!(token_request(base, &with_typ).status, 200);
    let prn = format!(
        r#"{{"iss":"KEY_MAIN","prn":"alice@example.com","sub":"nobody@example.com","aud":"{LOGIN}","exp":"{}"}}"#,
        now() + 60
    );
    assert_eq!(token_request(base, &signed(&f.key, &prn)).status, 200);
    for aud in ["https://acme.my.salesforce.com", base] {
        let a = signed(
            &f.key,
            &claims("KEY_MAIN", "alice@example.com", aud, now() + 60),
        );
        assert_eq!(token_request(base, &a).status, 200, "{aud}");
    }
    // parameters in the query string of a POST
    let r = post(
        base,
        &format!(
            "/services/oauth2/token?grant_type={GRANT}&assertion={}",
            good()
        ),
        "application/x-www-form-urlencoded",
        "",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // padded segments (base64 with '=', as in Salesforce's documented example), signed as sent
    let pad = |s: String| format!("{s}{}", "=".repeat((4 - s.len() % 4) % 4));
    let mut c = claims("KEY_MAIN", "alice@example.com", LOGIN, now() + 60);
    while c.len().is_multiple_of(3) {
        c.push(' ');
    }
    let input = format!("{}.{}", pad(b64(r#"{"alg":"RS256"}"#)), pad(b64(&c)));
    assert!(input.contains('='));
    let kp = f.key.ring_key_pair().unwrap();
    let mut sig = vec![0u8; kp.public().modulus_len()];
    kp.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .unwrap();
    let padded = format!("{input}.{}", pad(URL_SAFE_NO_PAD.encode(&sig)));
    let r = token_request(base, &padded.replace('=', "%3D"));
    assert_eq!(r.status, 200, "{}", r.body);
    // GET on the token endpoint
    let r = get(base, "/services/oauth2/token", None);
    assert_error(&r, "invalid_request", "must use HTTP POST");
}

/// An assertion built with the shell and `openssl dgst -sha256 -sign`, independently of
/// certmint's signer.
#[test]
fn openssl_signed_assertion_is_accepted() {
    require("openssl");
    let f = fx();
    let emu = emulator();
    let script = r#"
set -eu
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
header=$(printf '%s' '{"alg":"RS256"}' | b64url)
claims=$(printf '{"iss":"KEY_MAIN","sub":"alice@example.com","aud":"https://login.salesforce.com","exp":%s}' "$(( $(date +%s) + 180 ))" | b64url)
sig=$(printf '%s.%s' "$header" "$claims" | openssl dgst -sha256 -sign "$1" -binary | b64url)
printf '%s.%s.%s' "$header" "$claims" "$sig"
"#;
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("sh")
        .arg(f.dir.path().join("key.pem"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let assertion = String::from_utf8(out.stdout).unwrap();
    let r = token_request(emu.base_url(), &assertion);
    assert_eq!(r.status, 200, "{}", r.body);
}

fn small_limits_emulator() -> Running {
    let limits = Limits {
        header_timeout: Duration::from_secs(1),
        body_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    emu::start_with(
        config(),
        ServerOptions {
            limits,
            ..ServerOptions::default()
        },
    )
}

#[test]
fn hostile_http_is_refused_and_the_server_survives() {
    let emu = small_limits_emulator();
    let base = emu.base_url();
    // oversize body, declared
    let big = "a".repeat(70 * 1024);
    let r = post(
        base,
        "/services/oauth2/token",
        "application/x-www-form-urlencoded",
        &big,
    );
    assert_eq!(r.status, 413);
    // oversize body, chunked (no Content-Length)
    let mut req = String::from(
        "POST /services/oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
    );
    for _ in 0..20 {
        req.push_str(&format!("{:x}\r\n{}\r\n", 8192, "b".repeat(8192)));
    }
    req.push_str("0\r\n\r\n");
    assert_eq!(raw(base, req.as_bytes()).status, 413);
    // oversize headers
    let req = format!(
        "GET /services/data/ HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "h".repeat(32 * 1024)
    );
    assert_eq!(raw(base, req.as_bytes()).status, 431);
    // too many headers
    let mut req = String::from("GET /services/data/ HTTP/1.1\r\nHost: x\r\n");
    for i in 0..200 {
        req.push_str(&format!("X-{i}: v\r\n"));
    }
    req.push_str("Connection: close\r\n\r\n");
    assert_eq!(raw(base, req.as_bytes()).status, 431);
    // a slow client is disconnected (the header timeout is 1 s here) without holding
    // the server: it still answers others meanwhile
    let mut slow = TcpStream::connect(base.trim_start_matches("http://")).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    slow.write_all(b"POST /services/oauth2/token HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    assert_eq!(token_request(base, &good()).status, 200);
    let mut buf = Vec::new();
    let n = slow.read_to_end(&mut buf);
    assert!(
        n.is_ok(),
        "the server should close the slow connection, got {n:?}"
    );
    // a slow body gets 408
    let mut slow = TcpStream::connect(base.trim_start_matches("http://")).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    slow.write_all(b"POST /services/oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant").unwrap();
    let mut buf = Vec::new();
    let _ = slow.read_to_end(&mut buf);
    assert_eq!(parse_reply(&buf).status, 408);
    // still alive
    assert_eq!(token_request(base, &good()).status, 200);
}

cases!(malformed_requests_get_400 {
    garbage => malformed_request_gets_400(b"GARBAGE\r\n\r\n"),
    http_9_9 => malformed_request_gets_400(b"GET / HTTP/9.9\r\n\r\n"),
    nul_in_the_path => malformed_request_gets_400(b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n"),
    negative_length => malformed_request_gets_400(
        b"POST /services/oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"
    ),
    two_lengths => malformed_request_gets_400(
        b"POST /services/oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"
    ),
    not_text => malformed_request_gets_400(b"\xff\xfe\xfd\r\n\r\n"),
});

/// A malformed request gets 400, and the server still answers.
fn malformed_request_gets_400(bad: &[u8]) {
    let emu = small_limits_emulator();
    let base = emu.base_url();
    let r = raw(base, bad);
    assert_eq!(r.status, 400, "{:?}", String::from_utf8_lossy(bad));
    assert_eq!(token_request(base, &good()).status, 200);
}

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    let emu = emulator();
    let mut s = TcpStream::connect(emu.base_url().trim_start_matches("http://")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let body = format!("grant_type={GRANT}&assertion={}", good());
    for _ in 0..20 {
        let req = format!(
            "POST /services/oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).unwrap();
        // read one response: head, then Content-Length bytes
        let mut buf = Vec::new();
        let mut byte = [0u8; 1];
        while !buf.ends_with(b"\r\n\r\n") {
            s.read_exact(&mut byte).unwrap();
            buf.push(byte[0]);
        }
        let r = parse_reply(&buf);
        assert_eq!(r.status, 200);
        let len: usize = r.header("content-length").unwrap().parse().unwrap();
        let mut b = vec![0u8; len];
        s.read_exact(&mut b).unwrap();
    }
}

#[test]
fn shutdown_is_clean_and_frees_the_port() {
    let emu = emulator();
    let addr = emu.local_addr();
    assert_eq!(token_request(emu.base_url(), &good()).status, 200);
    emu.shutdown();
    assert!(TcpStream::connect(addr).is_err());
}

/// `certmint emulate --login-listen ADDR` prints the login host's URL as the second line on
/// stdout; there a connected app's token request is granted, and nothing but the token
/// endpoint answers.
#[test]
fn emulate_plays_the_login_host_on_a_second_address() {
    use std::io::BufRead;
    let cert = crate::support::fx("certs/base.crt");
    let mut child = Command::new(crate::support::BIN)
        .args([
            "emulate",
            "--cert",
            &cert,
            "--client-id",
            "KEY_MAIN",
            "-u",
            "alice@example.com",
            "--listen",
            "127.0.0.1:0",
            "--login-listen",
            "127.0.0.1:0",
            "--no-log",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let (mut base, mut login) = (String::new(), String::new());
    out.read_line(&mut base).unwrap();
    out.read_line(&mut login).unwrap();
    let (base, login) = (base.trim().to_owned(), login.trim().to_owned());
    assert!(
        login.starts_with("http://127.0.0.1:") && login != base,
        "{base} {login}"
    );
    let assertion = signed(
        &fx().key,
        &claims("KEY_MAIN", "alice@example.com", LOGIN, now() + 300),
    );
    let r = token_request(&login, &assertion);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(get(&login, "/services/data/", None).status, 404);
    assert_eq!(get(&base, "/services/data/", None).status, 200);
    let _ = child.kill();
    let _ = child.wait();
}
