//! The lifecycle through the real binary: init (end to end, idempotent, resumed after an
//! interruption, never overwriting), renew, rotate and activate with mint against the
//! emulator, check's exit codes on every container format, inspect on every kind, demo.

use std::path::{Path, PathBuf};

use crate::support::*;
use predicates::prelude::*;
use predicates::str::contains;

const PW: &str = "lifecycle-pass";

fn init(dir: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    certmint()
        .args([
            "init",
            p(dir),
            "--cn",
            "acme-jwt",
            "--org",
            "Acme",
            "--passout",
            "env:CP",
            "--client-id",
            "APP1",
            "-u",
            "int@acme.example",
        ])
        .args(extra)
        .env("CP", PW)
        .assert()
}

fn manifest(dir: &Path) -> certmint::manifest::Manifest {
    certmint::workdir::load(dir).unwrap()
}

fn current(dir: &Path) -> PathBuf {
    dir.join(manifest(dir).current.unwrap())
}

/// Every file's bytes and mtime, to prove a re-run changes nothing.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>, std::time::SystemTime)> {
    let mut v = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let meta = std::fs::symlink_metadata(e.path()).unwrap();
            if meta.is_dir() {
                stack.push(e.path());
            } else if meta.is_file() {
                v.push((
                    e.path(),
                    std::fs::read(e.path()).unwrap(),
                    meta.modified().unwrap(),
                ));
            }
        }
    }
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[test]
fn init_end_to_end_and_idempotent() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init(&dir, &[])
        .success()
        .stderr(contains("Next steps"))
        .stderr(contains("Use digital signatures"))
        .stderr(contains("sf org login jwt"))
        .stderr(contains("certmint mint --dir"));
    let g = current(&dir);
    for (name, mode_bits) in [
        ("server.pass.key", 0o600),
        ("server.key", 0o600),
        ("server.csr", 0o644),
        ("server.crt", 0o644),
        ("server.cer", 0o644),
        ("server.p12", 0o600),
        ("server.jks", 0o600),
    ] {
        assert_eq!(mode(&g.join(name)), mode_bits, "{name}");
    }
    assert_eq!(
        std::fs::read_link(dir.join("current")).unwrap(),
        PathBuf::from(g.file_name().unwrap())
    );
    // Real peers read every file.
    let k = openssl_pubkey(&g.join("server.pass.key"), "key", Some(PW));
    assert_eq!(k, openssl_pubkey(&g.join("server.key"), "key", None));
    assert_eq!(k, openssl_pubkey(&g.join("server.crt"), "cert", None));
    assert_eq!(k, openssl_pubkey(&g.join("server.csr"), "csr", None));
    assert!(
        openssl_ok(&[
            "pkcs12",
            "-in",
            p(&g.join("server.p12")),
            "-passin",
            &format!("pass:{PW}"),
            "-info",
            "-nokeys"
        ])
        .contains("friendlyName: acme_jwt")
    );
    let java = java()
        .args([
            "tests/java/Check.java",
            "JKS",
            p(&g.join("server.jks")),
            "acme_jwt",
            PW,
        ])
        .output()
        .unwrap();
    assert!(java.status.success(), "{:?}", texts(&java));
    let m = manifest(&dir);
    assert_eq!(m.salesforce.client_id.as_deref(), Some("APP1"));
    assert_eq!(m.generations.len(), 1);
    assert!(
        m.generations[0]
            .certificate
            .as_ref()
            .unwrap()
            .not_after
            .starts_with(&(time::OffsetDateTime::now_utc().year() + 1).to_string())
    );
    certmint()
        .args(["check", p(&dir)])
        .assert()
        .success()
        .stdout("");

    // A re-run changes nothing, says so, and needs no password.
    let before = snapshot(&dir);
    certmint()
        .args(["init", p(&dir)])
        .assert()
        .success()
        .stderr(contains("nothing to do"));
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn init_resumes_and_never_regenerates_or_overwrites() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init(&dir, &[]).success();
    let g = current(&dir);
    let key_before = std::fs::read(g.join("server.pass.key")).unwrap();
    // Outputs deleted (an interrupted run, or a careless hand): finished from the same key.
    for f in [
        "server.p12",
        "server.jks",
        "server.cer",
        "server.crt",
        "server.key",
    ] {
        std::fs::remove_file(g.join(f)).unwrap();
    }
    certmint()
        .args(["check", p(&dir)])
        .assert()
        .code(1)
        .stdout(contains("server.p12 is missing"));
    // Without the password, nothing can be rebuilt: a clear error, nothing written.
    certmint()
        .args(["init", p(&dir)])
        .assert()
        .code(2)
        .stderr(contains("--passout"));
    init(&dir, &[])
        .success()
        .stderr(contains("wrote").and(contains("kept")));
    assert_eq!(
        std::fs::read(g.join("server.pass.key")).unwrap(),
        key_before
    );
    certmint().args(["check", p(&dir)]).assert().success();
    // A wrong password is refused; nothing is overwritten. (A missing PKCS#12: since issue
    // 13 a missing JKS is not remade, as the next steps advise deleting it once imported.)
    std::fs::remove_file(g.join("server.p12")).unwrap();
    certmint()
        .args(["init", p(&dir), "--passout", "env:CP"])
        .env("CP", "not-the-password")
        .assert()
        .code(2)
        .stderr(contains("wrong password"));
    assert!(!g.join("server.p12").exists());
    // A file that does not belong is never replaced.
    std::fs::write(g.join("server.jks"), b"not a keystore").unwrap();
    init(&dir, &[]).code(2).stderr(contains("server.jks"));
    assert_eq!(
        std::fs::read(g.join("server.jks")).unwrap(),
        b"not a keystore"
    );
    std::fs::remove_file(g.join("server.jks")).unwrap();
    init(&dir, &[]).success();
    // Both key files gone: certmint refuses to make a new key in their place.
    std::fs::remove_file(g.join("server.pass.key")).unwrap();
    std::fs::remove_file(g.join("server.key")).unwrap();
    init(&dir, &[])
        .code(2)
        .stderr(contains("never makes a new key"));
    assert!(!g.join("server.pass.key").exists());
}

cases!(init_resumes_after_being_killed {
    after_5_ms => init_resumes_after_a_kill_at(5),
    after_40_ms => init_resumes_after_a_kill_at(40),
    after_120_ms => init_resumes_after_a_kill_at(120),
    after_250_ms => init_resumes_after_a_kill_at(250),
});

/// `init` killed after `delay_ms`, then run again: it completes one generation.
fn init_resumes_after_a_kill_at(delay_ms: u64) {
    let root = tempfile::tempdir().unwrap();
    {
        let dir = root.path().join(format!("k{delay_ms}"));
        let mut child = std::process::Command::new(certmint_path())
            .args(["init", p(&dir), "--cn", "killed", "--passout", "env:CP"])
            .env("CP", PW)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        // Whatever state the kill left, a re-run completes it.
        let again = certmint()
            .args(["init", p(&dir), "--cn", "killed", "--passout", "env:CP"])
            .env("CP", PW)
            .output()
            .unwrap();
        assert!(
            again.status.success(),
            "delay {delay_ms}: {:?}",
            texts(&again)
        );
        certmint().args(["check", p(&dir)]).assert().success();
        let m = manifest(&dir);
        assert_eq!(m.generations.len(), 1, "delay {delay_ms}");
        let g = current(&dir);
        assert_eq!(
            openssl_pubkey(&g.join("server.key"), "key", None),
            openssl_pubkey(&g.join("server.crt"), "cert", None)
        );
    }
}

fn emulator_for(cert: &Path) -> certmint::emulator::Running {
    let pem = std::fs::read(cert).unwrap();
    let config =
        certmint::emulator::Config::simple(&pem, "APP1", &["int@acme.example".to_string()])
            .unwrap();
    certmint::emulator::start(
        config,
        certmint::emulator::ServerOptions {
            log: false,
            ..Default::default()
        },
    )
    .unwrap()
}

#[test]
fn renew_keeps_the_key_and_mint_works_before_and_after() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init(&dir, &[]).success();
    let g1 = current(&dir);
    let old_cert = g1.join("server.crt");
    let old_bytes = snapshot(&g1);
    certmint()
        .args(["renew", p(&dir), "--passin", "env:CP", "--days", "730"])
        .env("CP", PW)
        .assert()
        .success()
        .stderr(contains("zero downtime"));
    let g2 = current(&dir);
    assert_ne!(g1, g2);
    assert_eq!(snapshot(&g1), old_bytes, "the old generation is untouched");
    assert_eq!(
        openssl_pubkey(&old_cert, "cert", None),
        openssl_pubkey(&g2.join("server.crt"), "cert", None)
    );
    assert_ne!(
        std::fs::read(&old_cert).unwrap(),
        std::fs::read(g2.join("server.crt")).unwrap()
    );
    // Before the upload (the app still has the old certificate) and after (the new one),
    // the same key mints: zero downtime.
    for cert in [old_cert.clone(), g2.join("server.crt")] {
        let emu = emulator_for(&cert);
        certmint()
            .args(["mint", "--dir", p(&dir), "--login-url", emu.base_url()])
            .assert()
            .success()
            .stdout(contains("int@acme.example"));
        emu.shutdown();
    }
    // A batch from the directory: its key, certificate and client id, users from a file.
    let users = root.path().join("users.txt");
    std::fs::write(
        &users,
        "# the integration user\nint@acme.example\nnobody@acme.example\n",
    )
    .unwrap();
    let emu = emulator_for(&g2.join("server.crt"));
    let o = certmint()
        .args(["mint", "--dir", p(&dir), "--login-url", emu.base_url()])
        .args(["--usernames", p(&users), "--concurrency", "2"])
        .output()
        .unwrap();
    emu.shutdown();
    assert_eq!(o.status.code(), Some(1), "one user is refused");
    let lines: Vec<serde_json::Value> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["username"], "int@acme.example");
    assert_eq!(lines[0]["ok"], true);
    assert_eq!(lines[1]["username"], "nobody@acme.example");
    assert_eq!(lines[1]["ok"], false);
    // Standalone renewal of a certificate file.
    let out = root.path().join("renewed.crt");
    certmint()
        .args([
            "renew",
            "--cert",
            p(&old_cert),
            "--key",
            p(&g1.join("server.key")),
            "--out",
            p(&out),
        ])
        .assert()
        .success();
    assert_eq!(
        openssl_pubkey(&out, "cert", None),
        openssl_pubkey(&old_cert, "cert", None)
    );
}

#[test]
fn rotate_keeps_the_old_generation_and_activates_on_request() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init(&dir, &[]).success();
    let g1 = current(&dir);
    let g1_name = g1.file_name().unwrap().to_str().unwrap().to_owned();
    let before = snapshot(&g1);
    certmint()
        .args(["rotate", p(&dir), "--passin", "env:CP"])
        .env("CP", PW)
        .assert()
        .success()
        .stderr(contains("Rotation plan"))
        .stderr(contains("--activate"))
        .stderr(contains("Way back"));
    let m = manifest(&dir);
    assert_eq!(m.generations.len(), 2);
    assert_eq!(
        m.current.as_deref(),
        Some(g1_name.as_str()),
        "rotation waits for --activate"
    );
    let g2_name = m.generations[1].dir.clone();
    let g2 = dir.join(&g2_name);
    assert_eq!(snapshot(&g1), before);
    assert_ne!(
        openssl_pubkey(&g1.join("server.crt"), "cert", None),
        openssl_pubkey(&g2.join("server.crt"), "cert", None)
    );
    // The emulator gets the new certificate: the new key mints, the old one is refused.
    let emu = emulator_for(&g2.join("server.crt"));
    certmint()
        .args([
            "mint",
            "--dir",
            p(&dir),
            "--generation",
            "g2",
            "--login-url",
            emu.base_url(),
        ])
        .assert()
        .success();
    certmint()
        .args(["mint", "--dir", p(&dir), "--login-url", emu.base_url()])
        .assert()
        .code(1)
        .stderr(contains("invalid assertion"));
    // Switch, and switch back.
    certmint()
        .args(["rotate", p(&dir), "--activate"])
        .assert()
        .success();
    assert_eq!(manifest(&dir).current.as_deref(), Some(g2_name.as_str()));
    assert_eq!(
        std::fs::read_link(dir.join("current")).unwrap(),
        PathBuf::from(&g2_name)
    );
    certmint()
        .args(["mint", "--dir", p(&dir), "--login-url", emu.base_url()])
        .assert()
        .success();
    certmint()
        .args(["rotate", p(&dir), "--activate", &g1_name])
        .assert()
        .success();
    assert_eq!(manifest(&dir).current.as_deref(), Some(g1_name.as_str()));
    emu.shutdown();
}

/// A certificate valid from `start_days_ago` for `days`, over the fixture key.
fn cert_with_dates(path: &Path, start_days_ago: i64, days: u32) {
    let (key, _) = certmint::key::load(
        &std::fs::read(fixture("keys/base.pkcs8.pem")).unwrap(),
        None,
    )
    .unwrap();
    let subject = certmint::subject::Subject::parse_openssl("/CN=dated").unwrap();
    let validity = certmint::x509::Validity {
        not_before: certmint::x509::now_seconds() - time::Duration::days(start_days_ago),
        days,
        serial: certmint::x509::random_serial().unwrap(),
    };
    let der = certmint::x509::self_signed(&key, &subject, &validity).unwrap();
    std::fs::write(path, certmint::x509::to_pem(&der)).unwrap();
}

cases!(check_exit_codes_for_every_container {
    pem => check_exit_codes_for("crt"),
    der => check_exit_codes_for("der"),
    pkcs12 => check_exit_codes_for("p12"),
    jks => check_exit_codes_for("jks"),
});

/// Make `fresh`, `expiring` and `expired` certificates (`name.crt`) in `root`, and each
/// as `name.der`, `name.p12` and `name.jks`.
fn dated_containers(root: &Path) {
    let r = |n: &str| root.join(n);
    let key = fixture("keys/base.pkcs8.pem");
    cert_with_dates(&r("fresh.crt"), 0, 365);
    cert_with_dates(&r("expiring.crt"), 0, 10);
    cert_with_dates(&r("expired.crt"), 400, 365);
    for name in ["fresh", "expiring", "expired"] {
        let crt = r(&format!("{name}.crt"));
        certmint()
            .args([
                "convert",
                p(&crt),
                "--to",
                "der",
                "--out",
                p(&r(&format!("{name}.der"))),
            ])
            .assert()
            .success();
        certmint()
            .args([
                "p12",
                "--cert",
                p(&crt),
                "--key",
                p(&key),
                "--passout",
                "env:P",
                "--out",
                p(&r(&format!("{name}.p12"))),
            ])
            .env("P", PW)
            .assert()
            .success();
        certmint()
            .args([
                "jks",
                "--cert",
                p(&crt),
                "--key",
                p(&key),
                "--passout",
                "env:P",
                "--out",
                p(&r(&format!("{name}.jks"))),
            ])
            .env("P", PW)
            .assert()
            .success();
    }
}

/// `check` of a fresh, an expiring and an expired `ext` file exits 0, 1, 1; a mismatched
/// key exits 1, the right one 0.
fn check_exit_codes_for(ext: &str) {
    let root = tempfile::tempdir().unwrap();
    let r = |n: &str| root.path().join(n);
    let key = fixture("keys/base.pkcs8.pem");
    dated_containers(root.path());
    {
        let check = |name: &str| {
            let mut c = certmint();
            c.args([
                "check",
                p(&r(&format!("{name}.{ext}"))),
                "--passin",
                "env:P",
            ])
            .env("P", PW);
            c
        };
        check("fresh").assert().code(0).stdout("");
        check("expiring")
            .assert()
            .code(1)
            .stdout(contains("in 9 days").or(contains("in 10 days")));
        check("expired")
            .assert()
            .code(1)
            .stdout(contains("EXPIRED"));
    }
    // A mismatched pair.
    let other = fixture("keys/other.pkcs8.pem");
    {
        certmint()
            .args([
                "check",
                p(&r(&format!("fresh.{ext}"))),
                "--key",
                p(&other),
                "--passin",
                "env:P",
            ])
            .env("P", PW)
            .assert()
            .code(1)
            .stdout(contains("is not the certificate's"));
        certmint()
            .args([
                "check",
                p(&r(&format!("fresh.{ext}"))),
                "--key",
                p(&key),
                "--passin",
                "env:P",
            ])
            .env("P", PW)
            .assert()
            .code(0);
    }
}

#[test]
fn check_exit_codes_for_thresholds_keystores_directories_and_errors() {
    let root = tempfile::tempdir().unwrap();
    let r = |n: &str| root.path().join(n);
    dated_containers(root.path());
    // --warn-days moves the threshold.
    certmint()
        .args(["check", p(&r("expiring.crt")), "--warn-days", "5"])
        .assert()
        .code(0);
    let other = fixture("keys/other.pkcs8.pem");
    // A keystore with a mismatched pair inside (made with the low-level writer).
    let pw = certmint::Password::from(PW);
    let other_key = certmint::key::load(&std::fs::read(&other).unwrap(), None)
        .unwrap()
        .0;
    let fresh = certmint::x509::parse(&std::fs::read(r("fresh.crt")).unwrap()).unwrap();
    let entry = certmint::jks::PrivateKeyEntry::new(
        "mismatch",
        0,
        other_key.pkcs8_der().expose(),
        &pw,
        vec![fresh.der.clone()],
    )
    .unwrap();
    let bad = certmint::jks::write(&[certmint::jks::Entry::PrivateKey(entry)], &pw).unwrap();
    std::fs::write(r("mismatch.jks"), bad).unwrap();
    certmint()
        .args(["check", p(&r("mismatch.jks")), "--passin", "env:P"])
        .env("P", PW)
        .assert()
        .code(1)
        .stdout(contains(
            "The private key does not match the certificate chain in the keystore.",
        ));
    // A directory: fresh, then expiring.
    let dir = r("soon");
    init(&dir, &["--days", "10"]).success();
    certmint()
        .args(["check", p(&dir)])
        .assert()
        .code(1)
        .stdout(contains("certmint renew"));
    certmint()
        .args(["check", p(&dir), "--warn-days", "3"])
        .assert()
        .code(0);
    // JSON for dashboards.
    let out = certmint()
        .args(["check", p(&dir), "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["ok"], false);
    // Errors are 2, not 1.
    certmint()
        .args(["check", p(&r("nope.crt"))])
        .assert()
        .code(2);
    certmint()
        .args(["check", p(&r("fresh.p12")), "--passin", "env:P"])
        .env("P", "wrong")
        .assert()
        .code(2)
        .stderr(contains("wrong password"));
}

#[test]
fn inspect_every_kind_text_and_json() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init(&dir, &[]).success();
    let g = current(&dir);
    let cases: Vec<(PathBuf, &str, &str)> = vec![
        (
            fixture("keys/base.pkcs1.pem"),
            "private key",
            "RSA 2048 bits",
        ),
        (
            fixture("keys/base.pkcs8.der"),
            "private key",
            "RSA 2048 bits",
        ),
        (
            fixture("keys/legacy-des3.pem"),
            "private key",
            "traditional encrypted",
        ),
        (fixture("keys/enc-aes256.pem"), "private key", "PBES2"),
        (fixture("keys/base.pub.pem"), "public key", "RSA 2048 bits"),
        (
            fixture("certs/base.csr"),
            "certificate signing request",
            "valid",
        ),
        (
            fixture("certs/base.csr.der"),
            "certificate signing request",
            "acme-jwt",
        ),
        (fixture("certs/base.crt"), "certificate", "days left"),
        (fixture("certs/base.der"), "certificate", "SHA-256"),
        (
            fixture("p12/openssl-default.p12"),
            "PKCS#12 keystore",
            "HMAC-SHA256",
        ),
        (
            fixture("p12/openssl-legacy.p12"),
            "PKCS#12 keystore",
            "legacy",
        ),
        (fixture("jks/keytool-equal.jks"), "JKS keystore", "acme_jwt"),
        (g.join("server.jks"), "JKS keystore", "PrivateKeyEntry"),
        (dir.clone(), "certmint directory", "generation g1"),
    ];
    for (path, kind, detail) in &cases {
        certmint()
            .args(["inspect", p(path)])
            .assert()
            .success()
            .stdout(contains(*kind))
            .stdout(contains(*detail));
        let out = certmint()
            .args(["inspect", "--json", p(path)])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", path.display());
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(doc[0]["kind"].is_string(), "{}", path.display());
    }
    // With a password, keystores and encrypted keys open.
    certmint()
        .args([
            "inspect",
            p(&fixture("p12/openssl-default.p12")),
            "--passin",
            "env:P",
        ])
        .env("P", FIXTURE_PW)
        .assert()
        .success()
        .stdout(contains("RSA 2048 bits").and(contains("acme-jwt")));
    // A JWT, from stdin, with exp as a date.
    let jwt = certmint()
        .args([
            "jwt",
            "--key",
            p(&fixture("keys/base.pkcs8.pem")),
            "--client-id",
            "K",
            "-u",
            "u@x.example",
        ])
        .output()
        .unwrap();
    certmint()
        .args(["inspect", "-"])
        .write_stdin(jwt.stdout)
        .assert()
        .success()
        .stdout(
            contains("JWT assertion")
                .and(contains("expires:"))
                .and(contains("u@x.example")),
        );
}

#[test]
fn inspect_escapes_a_hostile_subject() {
    let root = tempfile::tempdir().unwrap();
    let (key, _) = certmint::key::load(
        &std::fs::read(fixture("keys/base.pkcs8.pem")).unwrap(),
        None,
    )
    .unwrap();
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        "evil\u{1b}[2J\u{7}name\r\nforged: yes",
    );
    let cert = params.self_signed(&key.rcgen_key_pair().unwrap()).unwrap();
    let path = root.path().join("evil.crt");
    std::fs::write(&path, cert.pem()).unwrap();
    let out = certmint().args(["inspect", p(&path)]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\r'),
        "{text:?}"
    );
    assert!(text.contains("evil\\u{1b}[2J"), "{text}");
    assert!(!text.lines().any(|l| l.starts_with("forged")), "{text}");
    for args in [
        vec!["check", p(&path), "--warn-days", "99999"],
        vec!["inspect", "--json", p(&path)],
    ] {
        let out = certmint().args(&args).output().unwrap();
        let all = [out.stdout, out.stderr].concat();
        assert!(!all.contains(&0x1b), "{args:?}");
    }
}

#[test]
fn demo_mints_offline_and_masks_the_token() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("demo");
    let out = certmint().args(["demo", p(&dir)]).output().unwrap();
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("access token:") && stdout.contains("(masked)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("verified user: integration@certmint-demo.example"),
        "{stdout}"
    );
    assert_eq!(mode(&dir.join("demo-password.txt")), 0o600);
    // A second run reuses the directory.
    certmint().args(["demo", p(&dir)]).assert().success();
    assert_eq!(manifest(&dir).generations.len(), 1);
}

/// Regressions found in review: a second `rotate` before `--activate` makes no new key;
/// `--activate` refuses a generation whose files are gone; later generations get their
/// own keystore alias; `init` on a complete directory records a new client id.
#[test]
fn rotate_again_activate_missing_and_aliases() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init(&dir, &[]).success();
    let rotate = || {
        certmint()
            .args(["rotate", p(&dir), "--passin", "env:CP"])
            .env("CP", PW)
            .assert()
    };
    rotate().success();
    rotate().success().stderr(contains("already prepared"));
    let m = manifest(&dir);
    assert_eq!(m.generations.len(), 2, "no third generation");
    assert_eq!(m.alias_of(&m.generations[0]), "acme_jwt");
    assert_eq!(m.alias_of(&m.generations[1]), "acme_jwt_g2");
    let g2 = dir.join(&m.generations[1].dir);
    let java = java()
        .args([
            "tests/java/Check.java",
            "JKS",
            p(&g2.join("server.jks")),
            "acme_jwt_g2",
            PW,
        ])
        .output()
        .unwrap();
    assert!(java.status.success(), "{:?}", texts(&java));
    // A deleted generation is never activated.
    std::fs::remove_file(g2.join("server.key")).unwrap();
    certmint()
        .args(["rotate", p(&dir), "--activate"])
        .assert()
        .code(2)
        .stderr(contains("server.key"))
        .stderr(contains("missing"));
    assert_eq!(manifest(&dir).current, m.current);
    // A new client id for an existing directory.
    certmint()
        .args(["init", p(&dir), "--client-id", "APP2"])
        .assert()
        .success()
        .stderr(contains("updated"));
    assert_eq!(manifest(&dir).salesforce.client_id.as_deref(), Some("APP2"));
}

/// A generation left unfinished by one command is finished by that command: another
/// one refuses, and says which command to run again.
#[test]
fn an_interrupted_rotate_must_be_finished_before_a_renew() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init(&dir, &[]).success();
    certmint()
        .args(["rotate", p(&dir), "--passin", "env:CP"])
        .env("CP", PW)
        .assert()
        .success();
    // Mark the rotated generation unfinished, as a kill mid-rotate leaves it.
    let manifest = dir.join("certmint.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let at = text.rfind("status = \"complete\"").unwrap();
    let mut edited = text.clone();
    edited.replace_range(
        at..at + "status = \"complete\"".len(),
        "status = \"pending\"",
    );
    std::fs::write(&manifest, edited).unwrap();
    certmint()
        .args(["renew", p(&dir), "--passin", "env:CP"])
        .env("CP", PW)
        .assert()
        .code(2)
        .stderr(contains("left by an interrupted `rotate`"))
        .stderr(contains(format!(
            "run `certmint rotate {}` again",
            dir.display()
        )));
    certmint()
        .args(["rotate", p(&dir), "--passin", "env:CP"])
        .env("CP", PW)
        .assert()
        .success();
}
