//! `certmint mint` (and `jwt`, `emulate`) against the emulator: success with the token
//! masked everywhere unless asked, every Salesforce error with its explanation and exit
//! code 1, network and TLS failures with exit code 2, HTTPS with a private CA, and many
//! mints in parallel.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use certmint::emulator::{Config, Running, ServerOptions, TlsIdentity, start};

use crate::support::emulator as emu;
use crate::support::{
    BIN, base_pair_in, cases, certmint_offline, fixture, fixture_key, fixture_text,
    self_signed_pem, texts as text,
};

struct Fixture {
    dir: tempfile::TempDir,
    cert_pem: String,
}

impl Fixture {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// The committed base key and certificate (the ones acme.toml's apps trust), another
/// committed key with a certificate made now, and a TLS identity for 127.0.0.1, in a
/// scratch directory.
fn fx() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = base_pair_in();
        let cert_pem = fixture_text("certs/base.crt");
        std::fs::copy(
            fixture("keys/other.pkcs8.pem"),
            dir.path().join("other.pem"),
        )
        .unwrap();
        let other = fixture_key("keys/other.pkcs8.pem");
        std::fs::write(
            dir.path().join("other.crt"),
            self_signed_pem(&other, "other", 30),
        )
        .unwrap();
        // A CA-less self-signed TLS server certificate for 127.0.0.1 and localhost.
        let (_, tls_cert) = emu::tls_identity();
        std::fs::write(dir.path().join("tls.crt"), tls_cert).unwrap();
        std::fs::write(dir.path().join("tls.key"), emu::tls_key_pem()).unwrap();
        Fixture { dir, cert_pem }
    })
}

/// fixtures/emulator/acme.toml, with `[emulator]` settings (`key = value` lines) replaced.
fn config(extra: &str) -> Config {
    emu::acme_with(extra, "")
}

fn emulator() -> &'static Running {
    static E: OnceLock<Running> = OnceLock::new();
    E.get_or_init(|| start(config(""), ServerOptions::default()).unwrap())
}

fn certmint(args: &[&str]) -> Output {
    certmint_offline()
        .args(args)
        .current_dir(fx().dir.path())
        .output()
        .unwrap()
}

fn mint(base: &str, client_id: &str, user: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "mint",
        "--key",
        "key.pem",
        "--client-id",
        client_id,
        "--username",
        user,
        "--login-url",
        base,
    ];
    args.extend_from_slice(extra);
    certmint(&args)
}

#[test]
fn success_masks_the_token_and_verifies_identity() {
    let emu = emulator();
    let out_file = fx().path("token-success.txt");
    let _ = std::fs::remove_file(&out_file);
    let o = mint(
        emu.base_url(),
        "KEY_MAIN",
        "alice@example.com",
        &["--token-out", out_file.to_str().unwrap()],
    );
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{stderr}");
    let token = std::fs::read_to_string(&out_file).unwrap();
    let token = token.trim_end();
    assert!(token.starts_with("00Dxx0000001gPL!"), "{token}");
    assert_eq!(
        std::fs::metadata(&out_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    for s in [&stdout, &stderr] {
        assert!(!s.contains(token), "the token leaked: {s}");
        assert!(!s.contains(&token[16..40]), "part of the token leaked: {s}");
    }
    assert!(
        stdout.contains("username:      alice@example.com"),
        "{stdout}"
    );
    assert!(
        stdout.contains("org id:        00Dxx0000001gPLEAY"),
        "{stdout}"
    );
    assert!(
        stdout.contains("user id:       005xx000001SwiUAAS"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("instance URL:  {}", emu.base_url())),
        "{stdout}"
    );
    assert!(stdout.contains("scope:         api web"), "{stdout}");
    let masked = format!(
        "00Dxx0000001gPL!{}…{}",
        &token[16..20],
        &token[token.len() - 4..]
    );
    assert!(
        stdout.contains(&format!("access token:  {masked}  (masked")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "verified:      alice@example.com (005xx000001SwiUAAS) via {}/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS",
            emu.base_url()
        )),
        "{stdout}"
    );

    // --token-out never overwrites without --force
    let o = mint(
        emu.base_url(),
        "KEY_MAIN",
        "alice@example.com",
        &["--token-out", out_file.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(&out_file).unwrap().trim_end(),
        token
    );

    // --show-token prints it
    let o = mint(
        emu.base_url(),
        "KEY_MAIN",
        "alice@example.com",
        &["--show-token", "--no-verify"],
    );
    let (stdout, _) = text(&o);
    assert_eq!(o.status.code(), Some(0));
    let line = stdout
        .lines()
        .find(|l| l.starts_with("access token:"))
        .unwrap();
    let shown = line.trim_start_matches("access token:").trim();
    assert!(
        shown.starts_with("00Dxx0000001gPL!") && shown.len() > 80 && !shown.contains('…'),
        "{line}"
    );
    assert!(stdout.contains("verified:      skipped (--no-verify)"));
}

#[test]
fn json_has_no_token_unless_asked() {
    let emu = emulator();
    let o = mint(emu.base_url(), "KEY_MAIN", "alice@example.com", &["--json"]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["ok"], true);
    assert!(v.get("access_token").is_none(), "{stdout}");
    assert!(v["access_token_masked"].as_str().unwrap().contains('…'));
    assert_eq!(v["identity"]["verified"], true);
    assert_eq!(v["identity"]["username"], "alice@example.com");
    assert_eq!(v["org_id"], "00Dxx0000001gPLEAY");
    // A loopback endpoint is sent its own URL as the audience (issue 13), never a real
    // Salesforce one, and the emulator accepts it.
    assert_eq!(v["audience"], emu.base_url());
    assert!(!stderr.contains("warning"), "{stderr}");

    let o = mint(
        emu.base_url(),
        "KEY_MAIN",
        "alice@example.com",
        &["--json", "--show-token"],
    );
    let v: serde_json::Value = serde_json::from_str(text(&o).0.trim()).unwrap();
    let token = v["access_token"].as_str().unwrap();
    assert!(token.starts_with("00Dxx0000001gPL!"));
    assert!(!text(&o).1.contains(token));
}

/// Mint and expect a refusal: exit 1, Salesforce's strings, and the explanation.
fn refused(o: &Output, error: &str, description: &str, explanation: &[&str]) {
    let (stdout, stderr) = text(o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(
        stderr.contains("error: Salesforce refused the assertion (HTTP 400)"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("  error:             {error}\n")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("  error_description: {description}\n")),
        "{stderr}"
    );
    assert!(stderr.contains("  meaning: "), "{stderr}");
    assert!(stderr.contains("  fix:"), "{stderr}");
    for e in explanation {
        assert!(stderr.contains(e), "missing {e:?} in {stderr}");
    }
    assert!(!stdout.contains("access token"), "{stdout}");
}

#[test]
fn invalid_assertion_wrong_key_shows_fingerprints() {
    let emu = emulator();
    let o = certmint(&[
        "mint",
        "--key",
        "other.pem",
        "--cert",
        "other.crt",
        "--client-id",
        "KEY_MAIN",
        "--username",
        "alice@example.com",
        "--login-url",
        emu.base_url(),
    ]);
    let other_cert =
        certmint::x509::parse(&std::fs::read(fx().path("other.crt")).unwrap()).unwrap();
    refused(
        &o,
        "invalid_grant",
        "invalid assertion",
        &[
            "the private key does not match the certificate uploaded to the app",
            "the signing key's public-key SHA-256 is ",
            &format!("SHA-1 fingerprint {}", other_cert.sha1),
            "certmint inspect",
        ],
    );
}

#[test]
fn invalid_assertion_unknown_user() {
    let o = mint(emulator().base_url(), "KEY_MAIN", "zed@example.com", &[]);
    refused(
        &o,
        "invalid_grant",
        "invalid assertion",
        &[
            "the username (sub) does not exist in this org",
            "the username sent was zed@example.com",
        ],
    );
}

#[test]
fn invalid_client_id() {
    let o = mint(emulator().base_url(), "KEY_WRONG", "alice@example.com", &[]);
    refused(
        &o,
        "invalid_client_id",
        "client identifier invalid",
        &[
            "Manage Consumer Details",
            "the consumer key sent was KEY_WRONG",
        ],
    );
}

#[test]
fn app_not_found() {
    let o = mint(emulator().base_url(), "KEY_ECA", "alice@example.com", &[]);
    refused(
        &o,
        "app_not_found",
        "External client app is not installed in this org",
        &["install the external client app"],
    );
}

#[test]
fn audience_is_invalid() {
    let o = mint(
        emulator().base_url(),
        "KEY_MAIN",
        "alice@example.com",
        &["--audience", "test"],
    );
    refused(
        &o,
        "invalid_grant",
        "audience is invalid",
        &[
            "sandboxes want https://test.salesforce.com",
            "the audience sent was https://test.salesforce.com",
        ],
    );
}

#[test]
fn expired_authorization_code_shows_the_local_clock() {
    // The emulator's clock runs an hour ahead: the client's clock looks an hour behind.
    let emu = start(
        config("clock_offset_seconds = 3600"),
        ServerOptions::default(),
    )
    .unwrap();
    let o = mint(emu.base_url(), "KEY_MAIN", "alice@example.com", &[]);
    refused(
        &o,
        "invalid_grant",
        "expired authorization code",
        &[
            "the local clock is behind",
            "the local clock said 20",
            "the assertion's exp was ",
        ],
    );
}

#[test]
fn user_hasnt_approved_this_consumer() {
    let o = mint(emulator().base_url(), "KEY_SELF", "bob@example.com", &[]);
    refused(
        &o,
        "invalid_grant",
        "user hasn't approved this consumer",
        &["Admin approved users are pre-authorized", "Permission Set"],
    );
}

#[test]
fn user_is_not_admin_approved() {
    let o = mint(emulator().base_url(), "KEY_MAIN", "bob@example.com", &[]);
    refused(
        &o,
        "invalid_app_access",
        "user is not admin approved to access this app",
        &["Manage Profiles / Manage Permission Sets"],
    );
}

#[test]
fn inactive_user() {
    let o = mint(emulator().base_url(), "KEY_MAIN", "carol@example.com", &[]);
    refused(
        &o,
        "invalid_grant",
        "inactive user",
        &["reactivate or unfreeze the user"],
    );
}

#[test]
fn ip_restricted() {
    let o = mint(emulator().base_url(), "KEY_MAIN", "dave@example.com", &[]);
    refused(
        &o,
        "invalid_grant",
        "ip restricted",
        &["Relax IP restrictions"],
    );
}

/// `unsupported_grant_type` cannot come from a well-formed mint; a stand-in server that
/// answers like a proxy that dropped the body shows the explanation.
#[test]
fn unsupported_grant_type() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(s.try_clone().unwrap());
        let mut len = 0usize;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
            if line == "\r\n" || line.is_empty() {
                break;
            }
        }
        let mut body = vec![0u8; len];
        reader.read_exact(&mut body).unwrap();
        let reply =
            r#"{"error":"unsupported_grant_type","error_description":"grant type not supported"}"#;
        write!(
            s,
            "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
            reply.len()
        )
        .unwrap();
    });
    let o = mint(
        &format!("http://{addr}"),
        "KEY_MAIN",
        "alice@example.com",
        &[],
    );
    server.join().unwrap();
    refused(
        &o,
        "unsupported_grant_type",
        "grant type not supported",
        &["not form-encoded", "application/x-www-form-urlencoded"],
    );
}

#[test]
fn network_failures_exit_2_with_a_hint() {
    // Nothing listens on this port.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = mint(
        &format!("http://127.0.0.1:{port}"),
        "KEY_MAIN",
        "alice@example.com",
        &[],
    );
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("connection failed"), "{stderr}");
    assert!(
        stderr.contains("hint: is the emulator running?"),
        "{stderr}"
    );
    // plain http to a non-loopback host is refused before anything is sent
    let o = mint(
        "http://login.salesforce.com",
        "KEY_MAIN",
        "alice@example.com",
        &[],
    );
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr.contains("plain http:// is only allowed to a loopback address"),
        "{stderr}"
    );
    // a certificate that does not match the key is caught before sending
    let o = mint(
        emulator().base_url(),
        "KEY_MAIN",
        "alice@example.com",
        &["--cert", "other.crt"],
    );
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr.contains("the key does not match the certificate"),
        "{stderr}"
    );
}

#[test]
fn https_with_ca_file_succeeds_and_without_fails_with_a_tls_hint() {
    let f = fx();
    let chain = certmint::pemfile::parse_all(
        &std::fs::read(f.path("tls.crt")).unwrap(),
        certmint::error::Input::Certificate,
    )
    .unwrap();
    let (key, _) = certmint::key::load(&std::fs::read(f.path("tls.key")).unwrap(), None).unwrap();
    let emu = start(
        config(""),
        ServerOptions {
            tls: Some(TlsIdentity {
                cert_chain: vec![chain[0].contents.clone()],
                key_pkcs8: key.pkcs8_der().clone(),
            }),
            ..ServerOptions::default()
        },
    )
    .unwrap();
    assert!(emu.base_url().starts_with("https://127.0.0.1:"));
    let o = mint(
        emu.base_url(),
        "KEY_MAIN",
        "alice@example.com",
        &["--ca-file", "tls.crt"],
    );
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("verified:      alice@example.com"),
        "{stdout}"
    );

    let o = mint(emu.base_url(), "KEY_MAIN", "alice@example.com", &[]);
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("TLS handshake failed"), "{stderr}");
    assert!(
        stderr.contains(
            "hint: the emulator's certificate is not trusted: pass it (or its CA) with --ca-file"
        ),
        "{stderr}"
    );
}

#[test]
fn many_mints_in_parallel_all_succeed() {
    let base = emulator().base_url().to_owned();
    let handles: Vec<_> = (0..32)
        .map(|_| {
            let base = base.clone();
            std::thread::spawn(move || mint(&base, "KEY_MAIN", "alice@example.com", &["--json"]))
        })
        .collect();
    for h in handles {
        let o = h.join().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
        assert!(text(&o).0.contains(r#""verified":true"#));
    }
}

cases!(
    /// `certmint emulate` as a child: first stdout line is the base URL, requests are
    /// logged without tokens, SIGTERM stops it cleanly. Also over HTTPS with
    /// --tls-cert/--tls-key.
    emulate_child_prints_its_url_and_stops_on_sigterm {
        http => emulate_child(false),
        https => emulate_child(true),
    }
);

fn emulate_child(tls: bool) {
    {
        let mut args = vec![
            "emulate",
            "--cert",
            "cert.pem",
            "--client-id",
            "KEY_MAIN",
            "--user",
            "alice@example.com",
            "--listen",
            "127.0.0.1:0",
        ];
        if tls {
            args.extend_from_slice(&["--tls-cert", "tls.crt", "--tls-key", "tls.key"]);
        }
        let mut child = Command::new(BIN)
            .args(&args)
            .current_dir(fx().dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut url = String::new();
        stdout.read_line(&mut url).unwrap();
        let url = url.trim().to_owned();
        assert!(
            url.starts_with(if tls {
                "https://127.0.0.1:"
            } else {
                "http://127.0.0.1:"
            }),
            "{url}"
        );
        let extra: &[&str] = if tls {
            &["--ca-file", "tls.crt", "--show-token"]
        } else {
            &["--show-token"]
        };
        let o = mint(&url, "KEY_MAIN", "alice@example.com", extra);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
        let token_line = out
            .lines()
            .find(|l| l.starts_with("access token:"))
            .unwrap()
            .to_owned();
        let token = token_line
            .trim_start_matches("access token:")
            .trim()
            .to_owned();
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
        let exit = child.wait().unwrap();
        let mut log = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut log)
            .unwrap();
        assert!(exit.success(), "{exit:?}\n{log}");
        assert!(log.contains("POST /services/oauth2/token 200"), "{log}");
        assert!(log.contains("emulator stopped"), "{log}");
        assert!(!log.contains(&token), "the token leaked into the log");
        assert!(!log.contains("eyJ"), "an assertion leaked into the log");
    }
}

#[test]
fn jwt_prints_a_verifiable_assertion() {
    let o = certmint(&[
        "jwt",
        "--key",
        "key.pem",
        "--client-id",
        "KEY_MAIN",
        "--username",
        "alice@example.com",
        "--typ",
        "--ttl",
        "60",
    ]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let a = stdout.trim();
    assert_eq!(stdout.lines().count(), 1);
    let p = certmint::jwt::parse(a).unwrap();
    assert_eq!(p.header.typ.as_deref(), Some("JWT"));
    assert_eq!(p.claims.iss.as_deref(), Some("KEY_MAIN"));
    assert_eq!(p.claims.subject(), Some("alice@example.com"));
    let cert = certmint::x509::parse(fx().cert_pem.as_bytes()).unwrap();
    certmint::jwt::Verifier::from_spki(&cert.spki)
        .unwrap()
        .verify_parsed(&p)
        .unwrap();
    // ttl above three minutes is refused
    let o = certmint(&[
        "jwt",
        "--key",
        "key.pem",
        "--client-id",
        "K",
        "--username",
        "u",
        "--ttl",
        "181",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

/// With Salesforce-shaped URLs (`id` on https://login.salesforce.com), mint keeps its
/// identity call on the loopback emulator and never sends the token to the real host.
#[test]
fn salesforce_shaped_urls_stay_on_the_emulator() {
    let emu = start(config(r#"urls = "salesforce""#), ServerOptions::default()).unwrap();
    let o = mint(emu.base_url(), "KEY_MAIN", "alice@example.com", &["--json"]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(
        v["id"],
        "https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS"
    );
    assert_eq!(
        v["identity"]["url"],
        format!(
            "{}/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS",
            emu.base_url()
        )
    );
}

/// A stand-in Salesforce that grants every assertion and whose identity URL names
/// `mallory@example.com`, whoever asked: it answers `requests` requests, then stops.
fn identity_of_another_user(requests: usize) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let id_url = format!("{base}/id/00Dxx0000001gPLEAY/005xx000001X8UzAAK");
    let server = std::thread::spawn(move || {
        for _ in 0..requests {
            let (mut s, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(s.try_clone().unwrap());
            let mut len = 0usize;
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
                if line == "\r\n" || line.is_empty() {
                    break;
                }
            }
            let mut body = vec![0u8; len];
            reader.read_exact(&mut body).unwrap();
            let reply = if request_line.starts_with("POST") {
                format!(
                    r#"{{"access_token":"00Dxx0000001gPL!AQ0AQFakeTokenFakeTokenFakeToken","instance_url":"{}","id":"{id_url}","token_type":"Bearer","scope":"api"}}"#,
                    id_url.split("/id/").next().unwrap()
                )
            } else {
                r#"{"id":"x","user_id":"005xx000001X8UzAAK","organization_id":"00Dxx0000001gPLEAY","username":"mallory@example.com","display_name":"Mallory"}"#.to_owned()
            };
            write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                reply.len()
            )
            .unwrap();
        }
    });
    (base, server)
}

/// Issue 12, item 25: when the identity URL named another user, `mint` printed
/// "verified: mallory@example.com ..." and only then the error. It prints that the token
/// is not verified, and `--json` says `"verified": false`; exit 1 either way.
#[test]
fn an_identity_of_another_user_is_not_printed_as_verified() {
    let (base, server) = identity_of_another_user(2);
    let o = mint(&base, "KEY_MAIN", "alice@example.com", &[]);
    server.join().unwrap();
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains(
            "verified:      no (the identity endpoint names mallory@example.com, not alice@example.com)"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("verified:      mallory"), "{stdout}");
    assert!(
        stderr.contains(
            "error: the identity endpoint names mallory@example.com, not alice@example.com"
        ),
        "{stderr}"
    );
    let (base, server) = identity_of_another_user(2);
    let o = mint(&base, "KEY_MAIN", "alice@example.com", &["--json"]);
    server.join().unwrap();
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{stdout}{stderr}");
    let first = stdout.lines().next().unwrap();
    let v: serde_json::Value = serde_json::from_str(first).unwrap();
    assert_eq!(v["identity"]["verified"], false, "{v}");
    assert_eq!(v["identity"]["username"], "mallory@example.com", "{v}");
}

/// The fixes name both kinds of app, External Client Apps first (new integrations use
/// them since Spring '26; issue 12, item 12): where to copy the consumer key, where to
/// pre-authorize the user.
#[test]
fn fixes_name_external_client_apps_first_then_connected_apps() {
    for (client_id, user, eca, connected) in [
        (
            "KEY_WRONG",
            "alice@example.com",
            "External Client App Manager > (app) > Settings > OAuth Settings",
            "App Manager > (app) > View > Manage Consumer Details",
        ),
        (
            "KEY_SELF",
            "bob@example.com",
            "External Client App Manager > (app) > Edit Policies > OAuth Policies",
            "App Manager > (app) > Manage > Edit Policies",
        ),
        (
            "KEY_MAIN",
            "bob@example.com",
            "External Client App Manager > (app) > Edit Policies > OAuth Policies",
            "Manage Profiles / Manage Permission Sets",
        ),
    ] {
        let o = mint(emulator().base_url(), client_id, user, &[]);
        let (_, stderr) = text(&o);
        assert_eq!(o.status.code(), Some(1), "{stderr}");
        let e = stderr
            .find(eca)
            .unwrap_or_else(|| panic!("no {eca:?} in {stderr}"));
        let c = stderr
            .find(connected)
            .unwrap_or_else(|| panic!("no {connected:?} in {stderr}"));
        assert!(e < c, "the External Client App comes first:\n{stderr}");
    }
}

/// `TOKEN=$(certmint mint ... --show-token -q)` (issue 12, item 26): stdout is the token
/// and a newline, nothing else; the same token `--token-out` writes.
#[test]
fn show_token_quiet_prints_exactly_the_token() {
    let emu = emulator();
    let file = fx().path("token-quiet.txt");
    let _ = std::fs::remove_file(&file);
    let o = mint(
        emu.base_url(),
        "KEY_MAIN",
        "alice@example.com",
        &[
            "--show-token",
            "-q",
            "--token-out",
            crate::support::p(&file),
        ],
    );
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert_eq!(stdout, std::fs::read_to_string(&file).unwrap());
    assert!(stdout.starts_with("00Dxx0000001gPL!"), "{stdout:?}");
    assert_eq!(stdout.lines().count(), 1, "{stdout:?}");
    assert!(!stdout.contains(' '), "{stdout:?}");
    // As the help shows it, in a shell.
    let out = std::process::Command::new("bash")
        .args([
            "-c",
            &format!(
                "TOKEN=$(\"$BIN\" mint --key key.pem --client-id KEY_MAIN \
                 --username alice@example.com --login-url {} --show-token -q) \
                 && printf '[%s]' \"$TOKEN\"",
                emu.base_url()
            ),
        ])
        .env("BIN", BIN)
        .current_dir(fx().dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    // The variable holds the token alone (another one: each mint gets its own).
    let shown = String::from_utf8(out.stdout).unwrap();
    let token = shown
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or_else(|| panic!("{shown:?}"));
    assert!(token.starts_with("00Dxx0000001gPL!"), "{shown:?}");
    assert!(!token.contains(char::is_whitespace), "{shown:?}");
    assert_eq!(token.len(), stdout.trim_end().len(), "{shown:?}");
}

fn stderr_of(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `mint --json` prints one JSON object on stdout for exit 1 and 2 too (issue 12, item
/// 27), with the message still on stderr.
#[test]
fn json_reports_refusals_and_errors_as_one_object() {
    let emu = emulator();
    // Exit 1: Salesforce (the emulator) refused.
    let o = mint(emu.base_url(), "KEY_MAIN", "zed@example.com", &["--json"]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["exit_code"], 1);
    assert_eq!(v["error"], "invalid_grant");
    assert_eq!(v["error_description"], "invalid assertion");
    assert!(v["fixes"].is_array(), "{v}");
    assert_eq!(stdout.trim().lines().count(), 1, "{stdout}");

    // Exit 2: nothing listens.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = mint(
        &format!("http://127.0.0.1:{port}"),
        "KEY_MAIN",
        "alice@example.com",
        &["--json"],
    );
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["exit_code"], 2);
    assert_eq!(v["error"], "the token request failed");
    assert!(
        v["cause"]
            .as_str()
            .unwrap()
            .starts_with("connection failed"),
        "{v}"
    );
    assert!(v["hint"].is_string(), "{v}");
    assert!(
        stderr.contains("error: the token request failed"),
        "{stderr}"
    );

    // Exit 2 before anything is sent: an unreadable key.
    let o = certmint(&[
        "mint",
        "--key",
        "missing.pem",
        "--client-id",
        "K",
        "--username",
        "u@example.com",
        "--json",
    ]);
    let (stdout, _) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["exit_code"], 2);
    assert!(v["error"].as_str().unwrap().contains("missing.pem"), "{v}");

    // Exit 2 from the argument parser: a mistyped flag.
    let o = certmint(&[
        "-q", "mint", "--dir", "acme-jwt", "--json", "--retyr", "900",
    ]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["exit_code"], 2);
    assert_eq!(v["error"], "unexpected argument '--retyr' found", "{v}");
    assert_eq!(v["hint"], "a similar argument exists: '--retry'", "{v}");
    assert!(stderr.contains("error: unexpected argument"), "{stderr}");
    // Without --json, stdout stays empty.
    let o = certmint(&["mint", "--dir", "acme-jwt", "--retyr", "900"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
}

/// A token endpoint that grants any assertion, whose identity URL answers `status` with
/// `body` (a stand-in for a server whose identity check fails); its base URL.
fn identity_stub(status: u16, body: &'static str) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let me = base.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
                if line == "\r\n" {
                    break;
                }
            }
            let mut body_in = vec![0u8; length];
            let _ = reader.read_exact(&mut body_in);
            let (code, answer) = if head.starts_with("POST /services/oauth2/token") {
                (
                    200,
                    format!(
                        r#"{{"access_token":"00Dxx0000001gPL!AQ0AQStubTokenStubTokenStub","instance_url":"{me}","id":"{me}/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS","token_type":"Bearer","scope":"api","issued_at":"1700000000000","signature":"x"}}"#
                    ),
                )
            } else {
                (status, body.to_string())
            };
            let reason = if code == 200 { "OK" } else { "Unauthorized" };
            let _ = write!(
                stream,
                "HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    base
}

/// With --json, an identity check that fails (exit 1) is one object with "ok": false,
/// its reason and the token's details; never a second object, never "ok": true.
#[test]
fn json_reports_a_failed_identity_check_as_one_object() {
    for (status, body, code) in [
        (
            401,
            r#"[{"errorCode":"Bad_OAuth_Token"}]"#,
            "identity_rejected",
        ),
        (
            200,
            r#"{"user_id":"005xx000001SwiUAAS","organization_id":"00Dxx0000001gPLEAY","username":"someone@else.example","display_name":"Someone"}"#,
            "identity_mismatch",
        ),
    ] {
        let base = identity_stub(status, body);
        let o = mint(&base, "KEY_MAIN", "alice@example.com", &["--json"]);
        let (stdout, stderr) = text(&o);
        assert_eq!(o.status.code(), Some(1), "{stdout}{stderr}");
        assert_eq!(stdout.trim().lines().count(), 1, "{stdout}");
        let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
        assert_eq!(v["ok"], false, "{v}");
        assert_eq!(v["exit_code"], 1, "{v}");
        assert_eq!(v["error"], code, "{v}");
        assert!(v["error_description"].is_string(), "{v}");
        assert!(v["access_token_masked"].is_string(), "{v}");
        // --show-token -q prints nothing when the identity check fails.
        let o = mint(
            &base,
            "KEY_MAIN",
            "alice@example.com",
            &["--show-token", "-q"],
        );
        assert_eq!(o.status.code(), Some(1));
        assert!(text(&o).0.is_empty(), "{:?}", text(&o).0);
    }
}
