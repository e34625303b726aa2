//! Secret hygiene (issue 7): passwords never reach the command line (other users can read
//! `/proc/<pid>/cmdline`), any output or any error message; `pass:` is warned about;
//! access tokens appear only when asked for; every secret file is 0600 whatever the umask;
//! `Debug` of every secret-holding type is redacted; the emulator never logs assertions,
//! tokens or passwords, and says loudly when it is reachable from other machines.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::support::emulator::Child as Emulator;
/// The fixtures' password, and a distinctive new one (non-ASCII, so any encoding of it
/// would show).
use crate::support::{BIN, FIXTURE_PW, fixture, mode};
const NEW_PW: &str = "S3cr3t-Pässwört-4242";

fn certmint(dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir)
        .env_remove("CERTMINT_PASS")
        .env("NO_COLOR", "1");
    c
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Neither password (nor a recognisable part of one) in `s`.
fn assert_no_password(s: &str, ctx: &str) {
    for pw in [FIXTURE_PW, NEW_PW, "S3cr3t", "Pässwört"] {
        assert!(!s.contains(pw), "{ctx}: `{pw}` appears in:\n{s}");
    }
}

fn workdir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("keys/enc-aes256.pem"), d.path().join("enc.pem")).unwrap();
    std::fs::copy(fixture("keys/base.pkcs8.pem"), d.path().join("plain.pem")).unwrap();
    std::fs::copy(fixture("certs/base.crt"), d.path().join("base.crt")).unwrap();
    std::fs::copy(fixture("p12/openssl-default.p12"), d.path().join("in.p12")).unwrap();
    std::fs::write(d.path().join("pw.txt"), format!("{FIXTURE_PW}\n")).unwrap();
    std::fs::write(d.path().join("new.txt"), format!("{NEW_PW}\n")).unwrap();
    d
}

fn cmdline(pid: u32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    String::from_utf8_lossy(&raw).replace('\0', " ")
}

/// For each source, certmint is caught while it runs (it waits for the second password on
/// stdin) and its command line is read from /proc, as another user could.
#[test]
fn passwords_from_env_file_fd_stdin_never_reach_the_command_line_or_output() {
    let d = workdir();
    // (passin source, shell redirections, stdin text)
    let sources = [
        ("env:KEY_PW", "", format!("{NEW_PW}\n")),
        ("file:pw.txt", "", format!("{NEW_PW}\n")),
        ("fd:3", "3<pw.txt", format!("{NEW_PW}\n")),
        ("stdin", "", format!("{FIXTURE_PW}\n{NEW_PW}\n")),
    ];
    for (i, (src, redirect, stdin)) in sources.iter().enumerate() {
        let out = format!("out{i}.jks");
        // The shell only sets up fd 3 and then is replaced by certmint (exec).
        let script = format!(
            "exec {BIN} jks --cert base.crt --key enc.pem --passin {src} --passout stdin --alias acme_jwt --out {out} {redirect}"
        );
        let mut child = Command::new("sh")
            .args(["-c", &script])
            .current_dir(d.path())
            .env("KEY_PW", FIXTURE_PW)
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until the shell has become certmint, which then blocks on stdin.
        let mut line = String::new();
        for _ in 0..500 {
            line = cmdline(child.id());
            if line.contains("--passout") {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(
            line.contains(&format!("--passin {src}")),
            "{src}: cmdline {line:?}"
        );
        assert_no_password(&line, &format!("{src}: /proc/<pid>/cmdline"));
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{src}: {}", text(&o));
        assert_no_password(&text(&o), &format!("{src}: output"));
        assert!(!text(&o).contains("warning"), "{src}: {}", text(&o));
    }
}

#[test]
fn pass_source_warns_that_it_is_visible() {
    let d = workdir();
    let o = certmint(d.path())
        .args(["decrypt", "enc.pem", "--out", "x.key", "--passin"])
        .arg(format!("pass:{FIXTURE_PW}"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("warning: --passin pass:... puts the password on the command line"),
        "{err}"
    );
    // The warning itself does not repeat the password.
    assert!(!err.contains(FIXTURE_PW), "{err}");
}

/// Every error path that handles a password: none of them echoes it.
#[test]
fn error_messages_never_contain_the_password() {
    let d = workdir();
    std::fs::write(d.path().join("corrupt.pem"), b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG\n-----END ENCRYPTED PRIVATE KEY-----\n").unwrap();
    std::fs::write(d.path().join("exists.key"), b"x").unwrap();
    std::fs::copy(fixture("jks/keytool-equal.jks"), d.path().join("in.jks")).unwrap();
    std::fs::write(d.path().join("short.txt"), "ab\n").unwrap();
    let wrong = "env:WRONG_PW";
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            "wrong key password",
            vec!["decrypt", "enc.pem", "--out", "a.key", "--passin", wrong],
        ),
        (
            "corrupt key",
            vec![
                "decrypt",
                "corrupt.pem",
                "--out",
                "b.key",
                "--passin",
                wrong,
            ],
        ),
        (
            "output exists",
            vec![
                "decrypt",
                "enc.pem",
                "--out",
                "exists.key",
                "--passin",
                "env:KEY_PW",
            ],
        ),
        (
            "wrong p12 password",
            vec!["export", "in.p12", "--key-out", "c.key", "--passin", wrong],
        ),
        (
            "wrong jks password",
            vec!["check", "--salesforce", "in.jks", "--passin", wrong],
        ),
        (
            "too short new password",
            vec!["key", "--out", "d.key", "--passout", "file:short.txt"],
        ),
        (
            "missing variable",
            vec![
                "decrypt",
                "enc.pem",
                "--out",
                "e.key",
                "--passin",
                "env:NOT_SET_ANYWHERE",
            ],
        ),
        (
            "key does not match",
            vec![
                "p12",
                "--cert",
                "base.crt",
                "--key",
                "other.pem",
                "--out",
                "f.p12",
                "--passout",
                "env:NEW_PW",
            ],
        ),
        (
            "wrong p12 to jks password",
            vec![
                "jks",
                "--cert",
                "base.crt",
                "--key",
                "enc.pem",
                "--passin",
                wrong,
                "--out",
                "g.jks",
                "--passout",
                "env:NEW_PW",
            ],
        ),
    ];
    std::fs::copy(fixture("keys/other.pkcs8.pem"), d.path().join("other.pem")).unwrap();
    for (name, args) in cases {
        let o = certmint(d.path())
            .args(&args)
            .env("WRONG_PW", NEW_PW)
            .env("KEY_PW", FIXTURE_PW)
            .env("NEW_PW", NEW_PW)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{name}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("error:"),
            "{name}: {}",
            text(&o)
        );
        assert_no_password(&text(&o), name);
    }
}

/// Run `sh -c 'umask 000; exec certmint ARGS'` in `dir`.
fn under_umask_000(dir: &Path, args: &[&str]) -> Output {
    let o = Command::new("sh")
        .args(["-c", "umask 000; exec \"$@\"", "sh", BIN])
        .args(args)
        .current_dir(dir)
        .env("KEY_PW", FIXTURE_PW)
        .env("NEW_PW", NEW_PW)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{args:?}: {}", text(&o));
    o
}

#[test]
fn secret_files_are_0600_and_public_ones_0644_under_umask_000() {
    let d = workdir();
    let dir = d.path();
    let secret: Vec<(&str, Vec<&str>)> = vec![
        (
            "k.pass.key",
            vec![
                "key",
                "--out",
                "k.pass.key",
                "--passout",
                "env:NEW_PW",
                "--kdf",
                "scrypt",
            ],
        ),
        (
            "plain.key",
            vec![
                "decrypt",
                "enc.pem",
                "--out",
                "plain.key",
                "--passin",
                "env:KEY_PW",
            ],
        ),
        (
            "plain.der",
            vec!["convert", "plain.pem", "--to", "der", "--out", "plain.der"],
        ),
        (
            "new.p12",
            vec![
                "p12",
                "--cert",
                "base.crt",
                "--key",
                "plain.pem",
                "--out",
                "new.p12",
                "--passout",
                "env:NEW_PW",
            ],
        ),
        (
            "new.jks",
            vec![
                "jks",
                "--cert",
                "base.crt",
                "--key",
                "plain.pem",
                "--out",
                "new.jks",
                "--passout",
                "env:NEW_PW",
                "--alias",
                "acme_jwt",
            ],
        ),
        (
            "exported.key",
            vec![
                "export",
                "in.p12",
                "--passin",
                "env:KEY_PW",
                "--key-out",
                "exported.key",
            ],
        ),
    ];
    for (file, args) in &secret {
        under_umask_000(dir, args);
        assert_eq!(mode(&dir.join(file)), 0o600, "{file} from {args:?}");
    }
    let public: Vec<(&str, Vec<&str>)> = vec![
        (
            "new.crt",
            vec![
                "cert",
                "--key",
                "plain.pem",
                "--subj",
                "/CN=x",
                "--out",
                "new.crt",
            ],
        ),
        (
            "new.csr",
            vec![
                "csr",
                "--key",
                "plain.pem",
                "--subj",
                "/CN=x",
                "--out",
                "new.csr",
            ],
        ),
        (
            "base.der",
            vec!["convert", "base.crt", "--to", "der", "--out", "base.der"],
        ),
    ];
    for (file, args) in &public {
        under_umask_000(dir, args);
        assert_eq!(mode(&dir.join(file)), 0o644, "{file} from {args:?}");
    }
}

// ---------------------------------------------------------------------------------------
// mint and the emulator

/// An emulator token: `<15-char org id>!<at least 20 base64url characters>`.
fn find_tokens(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in s.match_indices('!') {
        let org = &s[i.saturating_sub(15)..i];
        let rest: String = s[i + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        if org.starts_with("00D") && rest.len() >= 20 {
            out.push(format!("{org}!{rest}"));
        }
    }
    out
}

fn mint(dir: &Path, url: &str, extra: &[&str]) -> Output {
    certmint(dir)
        .args([
            "mint",
            "--key",
            "enc.pem",
            "--passin",
            "env:KEY_PW",
            "--client-id",
            "KEY",
        ])
        .args(["--username", "alice@example.com", "--login-url", url])
        .args(extra)
        .env("KEY_PW", FIXTURE_PW)
        .output()
        .unwrap()
}

#[test]
fn tokens_appear_only_when_asked_and_the_emulator_logs_no_secret() {
    let emu = Emulator::start("127.0.0.1:0");
    let d = workdir();
    let dir = d.path();

    // Plain and --json: the masked form only.
    for extra in [&[][..], &["--json"][..]] {
        let o = mint(dir, &emu.url, extra);
        assert!(o.status.success(), "{extra:?}: {}", text(&o));
        let t = text(&o);
        assert!(
            find_tokens(&t).is_empty(),
            "{extra:?}: a token is shown:\n{t}"
        );
        assert!(
            t.contains("00DEMULATOR0001!"),
            "{extra:?}: no masked token:\n{t}"
        );
        assert!(t.contains('…'), "{extra:?}: no masked token:\n{t}");
        assert_no_password(&t, "mint");
        if extra == ["--json"] {
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            assert!(v.get("access_token").is_none(), "{v}");
            assert!(v["access_token_masked"].as_str().unwrap().contains('…'));
        }
    }
    // --show-token prints it.
    let o = mint(dir, &emu.url, &["--show-token"]);
    assert!(o.status.success(), "{}", text(&o));
    let shown = find_tokens(&String::from_utf8_lossy(&o.stdout));
    assert_eq!(shown.len(), 1, "{}", text(&o));
    // --token-out writes it 0600 and does not print it, even under umask 000.
    let o = Command::new("sh")
        .args(["-c", "umask 000; exec \"$@\"", "sh", BIN])
        .args([
            "mint",
            "--key",
            "enc.pem",
            "--passin",
            "env:KEY_PW",
            "--client-id",
            "KEY",
        ])
        .args([
            "--username",
            "alice@example.com",
            "--login-url",
            &emu.url,
            "--token-out",
            "token.txt",
        ])
        .current_dir(dir)
        .env("KEY_PW", FIXTURE_PW)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(find_tokens(&text(&o)).is_empty(), "{}", text(&o));
    let written = std::fs::read_to_string(dir.join("token.txt")).unwrap();
    assert_eq!(find_tokens(&written).len(), 1, "{written}");
    assert_eq!(mode(&dir.join("token.txt")), 0o600);

    // The token in a query string and a header, and an assertion in a query string: the
    // emulator's log shows method, path and status only.
    let token = &shown[0];
    let addr = emu.url.trim_start_matches("http://").to_owned();
    let assertion = String::from_utf8(
        certmint(dir)
            .args([
                "jwt",
                "--key",
                "plain.pem",
                "--client-id",
                "KEY",
                "--username",
                "alice@example.com",
            ])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let assertion = assertion.trim();
    let requests = [
        format!(
            "GET /services/oauth2/userinfo?oauth_token={token} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        ),
        format!(
            "GET /services/data/v66.0/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        ),
        format!(
            "POST /services/oauth2/token?grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={assertion} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ),
    ];
    for r in &requests {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        s.write_all(r.as_bytes()).unwrap();
        let mut buf = String::new();
        std::io::Read::read_to_string(&mut s, &mut buf).unwrap();
        assert!(buf.starts_with("HTTP/1.1 "), "{buf}");
    }
    let log = emu.stop();
    assert!(
        log.contains("POST /services/oauth2/token 200"),
        "the emulator logged no request:\n{log}"
    );
    assert!(
        find_tokens(&log).is_empty(),
        "the emulator logged a token:\n{log}"
    );
    assert!(
        !log.contains(&token[16..]),
        "the emulator logged a token:\n{log}"
    );
    assert!(
        !log.contains("eyJhbGciOiJSUzI1NiJ9"),
        "the emulator logged an assertion:\n{log}"
    );
    assert!(
        !log.contains(&assertion[assertion.len() - 40..]),
        "the emulator logged a signature:\n{log}"
    );
    assert_no_password(&log, "emulator log");
}

#[test]
fn the_emulator_binds_loopback_by_default_and_warns_otherwise() {
    let emu = Emulator::start("127.0.0.1:0");
    assert!(emu.url.starts_with("http://127.0.0.1:"), "{}", emu.url);
    let log = emu.stop();
    assert!(!log.contains("WARNING"), "{log}");
    // The default --listen is loopback.
    let help = certmint(Path::new("."))
        .args(["emulate", "--help"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("127.0.0.1"));

    let emu = Emulator::start("0.0.0.0:0");
    let log = emu.stop();
    assert!(
        log.contains("WARNING: the emulator listens on 0.0.0.0:"),
        "no warning for a wildcard address:\n{log}"
    );
    assert!(log.contains("reachable from other machines"), "{log}");
}

// ---------------------------------------------------------------------------------------
// Debug of secret-holding types

/// `dbg` shows neither the secret bytes (as a byte list, hex or base64) nor the text.
fn assert_redacted(name: &str, dbg: &str, secret: &[u8]) {
    use base64::Engine;
    let head = &secret[..secret.len().min(12)];
    let list = format!("{head:?}");
    let list = &list[1..list.len() - 1]; // "48, 130, ..."
    let hex: String = head.iter().map(|b| format!("{b:02x}")).collect();
    let b64 = base64::engine::general_purpose::STANDARD.encode(head);
    for needle in [list, &hex, &b64[..12], &String::from_utf8_lossy(head)] {
        if needle.trim().len() >= 6 {
            assert!(
                !dbg.contains(needle),
                "{name}: Debug shows `{needle}`:\n{dbg}"
            );
        }
    }
}

#[test]
fn debug_output_of_secret_types_is_redacted() {
    use certmint::{Password, SecretBytes};
    let pw = Password::from(NEW_PW);
    assert_redacted("Password", &format!("{pw:?}"), NEW_PW.as_bytes());
    let sb = SecretBytes::new(b"top-secret-key-bytes".to_vec());
    assert_redacted("SecretBytes", &format!("{sb:?}"), b"top-secret-key-bytes");

    let key_pem = std::fs::read(fixture("keys/base.pkcs8.pem")).unwrap();
    let (key, _) = certmint::key::load(&key_pem, None).unwrap();
    let pkcs8 = key.pkcs8_der().expose().to_vec();
    // Skip the common PKCS#8 header: compare the private part.
    let private = &pkcs8[pkcs8.len() - 200..];
    assert_redacted("RsaKey", &format!("{key:?}"), private);
    let signer = certmint::jwt::Signer::new(&key, certmint::jwt::HeaderStyle::Bare).unwrap();
    assert_redacted("jwt::Signer", &format!("{signer:?}"), private);

    // PKCS#12: Contents, Entry, PrivateKey.
    let p12 = std::fs::read(fixture("p12/openssl-default.p12")).unwrap();
    let c = certmint::pkcs12::read(&p12, &Password::from(FIXTURE_PW)).unwrap();
    assert_redacted("pkcs12::Contents", &format!("{c:?}"), private);
    let e = c.key_entry(None).unwrap();
    assert_redacted("pkcs12::Entry", &format!("{e:?}"), private);
    assert_redacted("pkcs12::PrivateKey", &format!("{:?}", e.key), private);
    let other = certmint::pkcs12::PrivateKey::Other {
        algorithm: "an EC key".into(),
        pkcs8: SecretBytes::new(private.to_vec()),
    };
    assert_redacted("pkcs12::PrivateKey::Other", &format!("{other:?}"), private);

    // JKS: Keystore, PrivateKeyEntry, ProtectedKey; and the recovered key.
    let jks = std::fs::read(fixture("jks/keytool-equal.jks")).unwrap();
    let ks = certmint::jks::parse(&jks, Some(&Password::from("changeit"))).unwrap();
    let entry = ks.private_key(None).unwrap();
    let protected = entry.protected_key.as_der().to_vec();
    let recovered = entry.recover(&Password::from("changeit")).unwrap();
    let tail = &recovered.expose()[recovered.len() - 200..];
    for (name, dbg) in [
        ("jks::Keystore", format!("{ks:?}")),
        ("jks::PrivateKeyEntry", format!("{entry:?}")),
        ("jks::ProtectedKey", format!("{:?}", entry.protected_key)),
        ("recovered SecretBytes", format!("{recovered:?}")),
    ] {
        assert_redacted(name, &dbg, &protected[protected.len() - 100..]);
        assert_redacted(name, &dbg, tail);
    }

    // Access tokens and token responses.
    let tok = "00Dxx0000001gPL!AR8AQJXg5oj8jXSgxJfA0lBog.39AsX.LVpxezPwuX5VAIrrbbHMuol7GQxnMeYMN7cj8EoWr78nT1yBx1W1WwXyZ";
    let at = certmint::token_endpoint::AccessToken::new(tok.into());
    assert_redacted("AccessToken", &format!("{at:?}"), &tok.as_bytes()[20..]);
    let body =
        format!(r#"{{"access_token":"{tok}","instance_url":"https://x.my.salesforce.com"}}"#);
    let tr = certmint::token_endpoint::TokenResponse::parse(body.as_bytes()).unwrap();
    assert_redacted("TokenResponse", &format!("{tr:?}"), &tok.as_bytes()[20..]);

    // The emulator: its TLS identity holds a private key; the in-memory server holds the
    // token key.
    let tls = certmint::emulator::TlsIdentity {
        cert_chain: vec![],
        key_pkcs8: SecretBytes::new(private.to_vec()),
    };
    assert_redacted("emulator::TlsIdentity", &format!("{tls:?}"), private);
    let cfg = certmint::emulator::Config::simple(
        &std::fs::read(fixture("certs/base.crt")).unwrap(),
        "KEY",
        &["alice@example.com".into()],
    )
    .unwrap();
    let opts = certmint::emulator::ServerOptions {
        tls: Some(tls.clone()),
        ..Default::default()
    };
    assert_redacted("emulator::ServerOptions", &format!("{opts:?}"), private);
    let mem = certmint::emulator::InMemory::new(cfg.clone(), Default::default()).unwrap();
    let token = mem.token(0, 0).unwrap();
    assert!(!format!("{mem:?}").contains(&token[16..]));
    assert!(!format!("{cfg:?}").contains(&token[16..]));
}
