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
        // One input: one object.
        assert!(doc["kind"].is_string(), "{}", path.display());
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
/// `--activate` refuses a generation whose files are gone; later generations keep the
/// directory's keystore alias (issue 12, item 1); `init` on a complete directory records a
/// new client id.
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
    assert_eq!(m.alias_of(&m.generations[1]), "acme_jwt");
    assert_eq!(m.import_alias(m.generations[1].number), "acme_jwt_g2");
    let g2 = dir.join(&m.generations[1].dir);
    let java = java()
        .args([
            "tests/java/Check.java",
            "JKS",
            p(&g2.join("server.jks")),
            "acme_jwt",
            PW,
        ])
        .output()
        .unwrap();
    assert!(java.status.success(), "{:?}", texts(&java));
    // A generation whose files are gone is never activated (the unencrypted key alone is
    // optional: see `check_reports_a_deleted_server_key_as_information`).
    std::fs::remove_file(g2.join("server.p12")).unwrap();
    certmint()
        .args(["rotate", p(&dir), "--activate"])
        .assert()
        .code(2)
        .stderr(contains("server.p12"))
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

/// Java loads `current/server.p12` and `current/server.jks` by the alias `acme_jwt`, as
/// docs/java-teams.md shows, in the Java program's way.
fn java_loads_current_by_alias(dir: &Path, when: &str) {
    for (kind, file) in [("PKCS12", "server.p12"), ("JKS", "server.jks")] {
        let out = java()
            .args([
                "tests/java/Check.java",
                kind,
                p(&dir.join("current").join(file)),
                "acme_jwt",
                PW,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{when}: Java cannot load current/{file} by alias acme_jwt: {:?}",
            texts(&out)
        );
        assert!(
            texts(&out).0.contains("OK type=") && texts(&out).0.contains("alias=acme_jwt "),
            "{when}: {:?}",
            texts(&out)
        );
    }
}

/// The printed command that makes the import copy (the line after "make a copy named"),
/// run as printed: a JKS under the new Unique Name that passes Salesforce's rules.
fn run_import_copy(stderr: &str, cwd: &Path, name: &str) {
    let line = stderr
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("certmint jks --p12") && l.contains(&format!("--alias {name}")))
        .unwrap_or_else(|| panic!("no import copy command for {name} in:\n{stderr}"));
    let words = shlex::split(line).unwrap();
    certmint()
        .current_dir(cwd)
        .args(&words[1..])
        .env("CP", PW)
        .assert()
        .success();
    certmint()
        .current_dir(cwd)
        .args([
            "check",
            "--salesforce",
            &format!("{name}.jks"),
            "--passin",
            "env:CP",
        ])
        .env("CP", PW)
        .assert()
        .success()
        .stdout(contains(format!("[{name}]")));
}

/// Issue 12, item 1: `renew` and `rotate` renamed the keystore alias (`acme_jwt_g2`), so a
/// Java program loading `current/server.p12` by alias broke after a renewal. Every
/// generation keeps the directory's alias; the second import into Certificate and Key
/// Management gets a copy under a new Unique Name, with the command printed.
#[test]
fn renew_and_rotate_keep_the_keystore_alias_java_loads() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init(&dir, &[]).success();
    java_loads_current_by_alias(&dir, "after init");

    let out = certmint()
        .args(["renew", p(&dir), "--passin", "env:CP"])
        .env("CP", PW)
        .output()
        .unwrap();
    let (_, err) = texts(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("keep the alias acme_jwt"), "{err}");
    java_loads_current_by_alias(&dir, "after renew");
    run_import_copy(&err, root.path(), "acme_jwt_g2");

    let out = certmint()
        .args(["rotate", p(&dir), "--passin", "env:CP"])
        .env("CP", PW)
        .output()
        .unwrap();
    let (_, err) = texts(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("the org already holds acme_jwt"), "{err}");
    run_import_copy(&err, root.path(), "acme_jwt_g3");
    certmint()
        .args(["rotate", p(&dir), "--activate"])
        .assert()
        .success();
    java_loads_current_by_alias(&dir, "after rotate --activate");
    let m = manifest(&dir);
    assert_eq!(m.generations.len(), 3);
    assert!(m.generations.iter().all(|g| m.alias_of(g) == "acme_jwt"));
    assert!(
        !std::fs::read_to_string(dir.join("certmint.toml"))
            .unwrap()
            .contains("alias = \"acme_jwt_g"),
        "no generation records another alias"
    );
}

/// Issue 12, item 2: deleting `server.key` as the docs advise made `check` fail every day.
/// The unencrypted key is optional: `check` reports its absence as information (exit 0),
/// `init` on the directory has nothing to do (and asks for no password), and the way back
/// to a generation without it is open.
#[test]
fn check_reports_a_deleted_server_key_as_information() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init(&dir, &[]).success();
    let g1 = current(&dir);
    std::fs::remove_file(g1.join("server.key")).unwrap();
    certmint()
        .args(["check", p(&dir)])
        .assert()
        .success()
        .stdout("");
    certmint()
        .args(["check", p(&dir), "--verbose"])
        .assert()
        .success()
        .stdout(contains("----  file present and unchanged"))
        .stdout(contains(
            "server.key is absent: the unencrypted key is optional",
        ));
    let out = certmint()
        .args(["check", p(&dir), "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", texts(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true);
    let key = v["files"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["detail"].as_str().unwrap().starts_with("server.key"))
        .unwrap();
    assert_eq!(key["status"], "not_checked");
    assert_eq!(key["fix"], serde_json::Value::Null);
    // With --passin too (the keystores are opened).
    certmint()
        .args(["check", p(&dir), "--passin", "env:CP"])
        .env("CP", PW)
        .assert()
        .success();
    // init leaves it deleted, without a password.
    certmint()
        .args(["init", p(&dir)])
        .assert()
        .success()
        .stderr(contains("nothing to do"));
    assert!(!g1.join("server.key").exists());
    // The way back to g1 stays open.
    certmint()
        .args(["rotate", p(&dir), "--passin", "env:CP"])
        .env("CP", PW)
        .assert()
        .success();
    certmint()
        .args(["rotate", p(&dir), "--activate"])
        .assert()
        .success();
    certmint()
        .args(["rotate", p(&dir), "--activate", "g1"])
        .assert()
        .success();
    assert_eq!(current(&dir), g1);
    // A changed key is still a failure.
    std::fs::write(g1.join("server.key"), "not the key").unwrap();
    certmint()
        .args(["check", p(&dir)])
        .assert()
        .code(1)
        .stdout(contains("server.key changed"));
}

/// Issue 12, item 3: `init DIR/current` (or any folder inside a certmint directory) nested a
/// whole new directory in an immutable generation. It is refused with exit 2, before any
/// prompt, and nothing is written.
#[test]
fn init_inside_a_certmint_directory_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init(&dir, &[]).success();
    let g1 = current(&dir);
    let before = snapshot(&dir);
    for inner in [
        dir.join("current"),
        g1.clone(),
        dir.join("current").join("nested"),
        g1.join("a").join("b").join("c"),
        dir.join("elsewhere"),
    ] {
        init(&inner, &[])
            .code(2)
            .stderr(contains(format!("cannot initialise `{}`", inner.display())))
            .stderr(contains("lies inside the certmint directory"))
            .stderr(contains("acme`"))
            .stderr(contains("hint: choose a directory outside"));
    }
    // From inside, with a relative path, and without a subject (no prompt comes first).
    certmint()
        .current_dir(dir.join("current"))
        .args(["init", "sub"])
        .assert()
        .code(2)
        .stderr(contains("lies inside the certmint directory"));
    assert_eq!(snapshot(&dir), before, "nothing was written");
    assert!(!dir.join("elsewhere").exists());
    // The directory itself is still fine.
    init(&dir, &[]).success().stderr(contains("nothing to do"));
}

/// Leave `dir` (made by `init`) as an `init` killed before its key was written leaves it:
/// the manifest names a pending first generation with no key recorded and no files.
fn interrupt_before_the_key(dir: &Path) {
    let mut m = manifest(dir);
    let g = &mut m.generations[0];
    std::fs::remove_dir_all(dir.join(&g.dir)).unwrap();
    std::fs::create_dir(dir.join(&g.dir)).unwrap();
    g.status = certmint::manifest::Status::Pending;
    g.public_key_sha256.clear();
    g.certificate = None;
    g.files.clear();
    m.current = None;
    std::fs::remove_file(dir.join("current")).unwrap();
    std::fs::write(dir.join("certmint.toml"), m.to_toml().unwrap()).unwrap();
}

/// Issue 12, item 4: resuming an `init` interrupted before any key was written asked for
/// the password once, so a typing mistake locked the new key away. A password that will
/// encrypt a new key is always confirmed; `rotate`, whose new key takes the directory's
/// password, proves the typed one against the current key first. Through a terminal.
#[test]
fn a_password_for_a_new_key_is_confirmed_when_init_resumes() {
    use crate::support::pty::Pty;
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init(&dir, &[]).success();
    interrupt_before_the_key(&dir);
    assert!(
        !dir.join(&manifest(&dir).generations[0].dir)
            .join("server.pass.key")
            .exists()
    );

    let mut t = Pty::spawn(&["init", p(&dir)], &[], None);
    t.expect("Enter new password for").send_line(PW);
    t.expect("Verifying - enter new password for").send_line(PW);
    let (status, transcript) = t.finish();
    assert!(status.success(), "{transcript}");
    assert!(
        transcript.contains("finished the interrupted generation"),
        "{transcript}"
    );
    assert!(
        !transcript.contains(PW),
        "the password was echoed: {transcript}"
    );
    let g = current(&dir);
    openssl_ok(&[
        "pkey",
        "-in",
        p(&g.join("server.pass.key")),
        "-passin",
        &format!("pass:{PW}"),
        "-noout",
    ]);
    // Once the key exists, resuming asks once (the key's own decryption proves it).
    std::fs::remove_file(g.join("server.p12")).unwrap();
    let mut t = Pty::spawn(&["init", p(&dir)], &[], None);
    t.expect("Enter password for").send_line(PW);
    let (status, transcript) = t.finish();
    assert!(status.success(), "{transcript}");
    assert!(!transcript.contains("Verifying"), "{transcript}");

    // rotate: a mistyped password is refused before a new key is made with it.
    let mut t = Pty::spawn(&["rotate", p(&dir)], &[], None);
    t.expect("Enter password for").send_line("mistyped-pass");
    let (status, transcript) = t.finish();
    assert_eq!(status.code(), Some(2), "{transcript}");
    assert!(transcript.contains("wrong password"), "{transcript}");
    assert_eq!(
        manifest(&dir).generations.len(),
        1,
        "no generation was made"
    );
}

/// Issue 12, item 5: `check --json` printed `days_left: null` and put the generation's name
/// in the field `alias`. `days_left` is set on every expiry check, `alias` holds only a
/// keystore entry's alias, and the generation has its own field.
#[test]
fn check_json_sets_days_left_and_never_puts_the_generation_in_alias() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init(&dir, &[]).success();
    let generations: Vec<String> = manifest(&dir)
        .generations
        .iter()
        .map(|g| g.dir.clone())
        .collect();
    let g = current(&dir);
    let json = |args: &[&str]| -> serde_json::Value {
        let out = certmint()
            .arg("check")
            .args(args)
            .arg("--json")
            .env("CP", PW)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {:?}", texts(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let jks = g.join("server.jks");
    let p12 = g.join("server.p12");
    let crt = g.join("server.crt");
    for args in [
        vec![p(&dir)],
        vec![p(&dir), "--passin", "env:CP"],
        vec![p(&jks), "--passin", "env:CP"],
        vec![p(&p12), "--passin", "env:CP"],
        vec![p(&crt)],
    ] {
        let v = json(&args);
        let checks = v["files"][0]["checks"].as_array().unwrap();
        let expiry: Vec<_> = checks.iter().filter(|c| c["rule"] == "expiry").collect();
        assert!(!expiry.is_empty(), "{args:?}: {v}");
        for c in &expiry {
            let days = c["days_left"]
                .as_i64()
                .unwrap_or_else(|| panic!("{args:?}: {c}"));
            assert!((360..=366).contains(&days), "{args:?}: {c}");
            assert_eq!(c["certificate"], "acme-jwt", "{args:?}: {c}");
        }
        for c in checks {
            if let Some(alias) = c["alias"].as_str() {
                assert!(!generations.iter().any(|g| g == alias), "{args:?}: {c}");
                assert_eq!(alias, "acme_jwt", "{args:?}: {c}");
            }
        }
        if args[0] == p(&dir) {
            assert!(
                expiry
                    .iter()
                    .all(|c| c["generation"] == generations[0].as_str() && c["alias"].is_null()),
                "{v}"
            );
        }
    }
}

/// Issue 12, item 6: `rotate --activate gN` on the current generation printed "now points
/// at g1 (was g1) ... Way back: --activate g1". It says that nothing is to be done.
#[test]
fn activating_the_current_generation_says_it_already_is() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init(&dir, &[]).success();
    let g1 = manifest(&dir).current.unwrap();
    let before = snapshot(&dir);
    for name in ["g1", g1.as_str()] {
        let out = certmint()
            .args(["rotate", p(&dir), "--activate", name])
            .output()
            .unwrap();
        let (stdout, stderr) = texts(&out);
        assert!(out.status.success(), "{stderr}");
        assert_eq!(stdout, "");
        assert!(
            stderr.contains(&format!(
                "nothing to do: `{}` already points at generation {g1}",
                dir.join("current").display()
            )),
            "{stderr}"
        );
        assert!(
            !stderr.contains("Way back") && !stderr.contains("(was"),
            "{stderr}"
        );
    }
    assert_eq!(snapshot(&dir), before);
    // -q: silent.
    certmint()
        .args(["-q", "rotate", p(&dir), "--activate", "g1"])
        .assert()
        .success()
        .stderr("");
}

/// Issue 12, item 7: for a short-lived directory (`init --days 20`, checked with the
/// default 30-day threshold) check's fix was `certmint renew DIR`, which made another
/// 20-day certificate and left the alarm on. The fix names `--passin` and a `--days` that
/// clears it; run as printed, check passes. (20 days, not 30: a 30-day certificate checked
/// within the second it was made has 30 whole days left, which is not under the threshold.)
#[test]
fn the_expiry_fix_of_a_short_lived_directory_clears_the_alarm() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init(&dir, &["--days", "20"]).success();
    let out = certmint().args(["check", p(&dir)]).output().unwrap();
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let fix = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("fix: "))
        .unwrap_or_else(|| panic!("{stdout}"));
    let command = fix.split(" (same key").next().unwrap();
    assert_eq!(
        command,
        format!("certmint renew {} --passin SRC --days 60", dir.display())
    );
    assert!(
        fix.contains(
            "the directory's certificates last 20 days, no longer than the 30-day warning threshold"
        ),
        "{fix}"
    );
    let words: Vec<String> = shlex::split(&command.replace("SRC", "env:CP")).unwrap();
    certmint()
        .args(&words[1..])
        .env("CP", PW)
        .assert()
        .success();
    certmint()
        .args(["check", p(&dir)])
        .assert()
        .success()
        .stdout("");
    assert_eq!(
        manifest(&dir).days,
        60,
        "later renewals keep the new validity"
    );
}

/// Issue 12, item 8: `init --login-url https://acme.lightning.force.com` was accepted, and
/// every later `mint --dir` failed with "invalid --audience", a flag the user never passed.
/// `init` checks the URL with `mint`'s rules (exit 2, naming --login-url, nothing written);
/// a bad URL already recorded (by an older certmint) is reported as the manifest's.
#[test]
fn init_checks_the_login_url_as_mint_does_and_names_the_flag() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    for bad in [
        "https://acme.lightning.force.com",
        "http://acme.my.salesforce.com",
        "https://",
    ] {
        init(&dir, &["--login-url", bad])
            .code(2)
            .stderr(contains("error: invalid --login-url"))
            .stderr(contains("audience").not());
        assert!(!dir.exists(), "{bad}: nothing is written");
    }
    init(&dir, &["--login-url", "https://acme.my.salesforce.com"]).success();
    // On a complete directory too: the recorded URL is kept.
    init(&dir, &["--login-url", "https://acme.lightning.force.com"])
        .code(2)
        .stderr(contains("error: invalid --login-url"));
    assert_eq!(
        manifest(&dir).salesforce.login_url.as_deref(),
        Some("https://acme.my.salesforce.com")
    );
    // A bad URL recorded by an older certmint: named as the manifest's, with the fix.
    let path = dir.join("certmint.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("acme.my.salesforce.com", "acme.lightning.force.com"),
    )
    .unwrap();
    let fix = format!("certmint init {} --login-url URL", dir.display());
    for (cmd, flag) in [("mint", "--login-url"), ("jwt", "--audience")] {
        certmint()
            .args([cmd, "--dir", p(&dir)])
            .assert()
            .code(2)
            .stderr(contains(format!(
                "error: invalid login URL recorded in `{}`",
                path.display()
            )))
            .stderr(contains("Lightning domain"))
            .stderr(contains(fix.as_str()))
            .stderr(contains(format!("or pass {flag}")))
            .stderr(contains("invalid --audience").not())
            .stderr(contains("invalid --login-url").not());
    }
    // The printed fix works.
    init(&dir, &["--login-url", "https://acme.my.salesforce.com"]).success();
    certmint()
        .args(["jwt", "--dir", p(&dir)])
        .assert()
        .success();
}

/// Issue 12, item 22: `init --days 30` on a complete directory was ignored without a word
/// (the subject flags get one). It says so and names the command that does it; the same
/// for --bits. A value equal to the directory's own is no news.
#[test]
fn init_on_a_complete_directory_says_days_and_bits_are_ignored() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init(&dir, &[]).success();
    let before = snapshot(&dir);
    let d = dir.display();
    certmint()
        .args(["init", p(&dir), "--days", "30", "--bits", "4096"])
        .assert()
        .success()
        .stderr(contains("nothing to do"))
        .stderr(contains(format!(
            "its validity (365 days) is kept and --days 30 is ignored; to issue a certificate valid for 30 days, run `certmint renew {d} --days 30`"
        )))
        .stderr(contains(format!(
            "--bits 4096 is ignored; to move to a 4096-bit key, run `certmint rotate {d} --bits 4096`"
        )));
    assert_eq!(snapshot(&dir), before);
    certmint()
        .args(["init", p(&dir), "--days", "365", "--bits", "2048"])
        .assert()
        .success()
        .stderr(contains("ignored").not());
    certmint()
        .args(["-q", "init", p(&dir), "--days", "30"])
        .assert()
        .success()
        .stderr("");
    assert_eq!(manifest(&dir).days, 365);
}

/// Issue 12, item 24: `check` printed nothing on success even on a terminal, so a person
/// could not tell it ran. On a terminal it prints one line; piped (cron) or with -q it
/// stays silent; a problem is reported as before.
#[test]
fn check_prints_one_line_on_a_terminal_and_nothing_when_piped() {
    use crate::support::pty::Pty;
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init(&dir, &[]).success();
    let crt = current(&dir).join("server.crt");
    let t = Pty::spawn(&["check", p(&dir)], &[], None);
    let (status, transcript) = t.finish();
    assert!(status.success(), "{transcript}");
    let lines: Vec<&str> = transcript
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "{transcript}");
    assert!(
        lines[0].starts_with(&format!("ok: {}: all ", dir.display()))
            && lines[0].contains("checks pass; the certificate acme-jwt expires in 36"),
        "{transcript}"
    );
    let t = Pty::spawn(&["check", p(&dir), p(&crt)], &[], None);
    let (status, transcript) = t.finish();
    assert!(status.success(), "{transcript}");
    assert!(transcript.contains("ok: 2 files: all "), "{transcript}");
    // -q on a terminal, and piped: nothing.
    let t = Pty::spawn(&["-q", "check", p(&dir)], &[], None);
    let (status, transcript) = t.finish();
    assert!(status.success(), "{transcript}");
    assert_eq!(transcript.trim(), "", "{transcript}");
    certmint()
        .args(["check", p(&dir)])
        .assert()
        .success()
        .stdout("")
        .stderr("");
    // A problem, on a terminal: the report, no "ok:".
    std::fs::write(current(&dir).join("server.csr"), "edited").unwrap();
    let t = Pty::spawn(&["check", p(&dir)], &[], None);
    let (status, transcript) = t.finish();
    assert_eq!(status.code(), Some(1), "{transcript}");
    assert!(
        transcript.contains("server.csr changed") && !transcript.contains("ok:"),
        "{transcript}"
    );
}

/// Issue 12, item 25: a second run on the same directory at the same time failed with a
/// bare "File exists (os error 17)", and init's and rotate's errors suggested "pass
/// --force", which they do not have. Every command that changes a directory takes its
/// lock; a second one names the lock and the other run, and changes nothing.
#[test]
fn a_concurrent_run_names_the_lock_and_no_command_suggests_force() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init(&dir, &[]).success();
    certmint()
        .args(["rotate", p(&dir), "--passin", "env:CP"])
        .env("CP", PW)
        .assert()
        .success();
    // Another run holds the lock (as a certmint in progress does).
    let lock_path = dir.join(certmint::workdir::LOCK_FILE);
    let held = std::fs::OpenOptions::new()
        .write(true)
        .open(&lock_path)
        .unwrap();
    held.lock().unwrap();
    let before = snapshot(&dir);
    let with_pw = |args: &[&str]| {
        certmint()
            .args(args)
            .args(["--passin", "env:CP"])
            .env("CP", PW)
            .assert()
    };
    let busy = format!(
        "another certmint run is working on this directory: it holds the lock `{}`",
        lock_path.display()
    );
    for a in [
        with_pw(&["renew", p(&dir)]),
        with_pw(&["rotate", p(&dir)]),
        certmint().args(["rotate", p(&dir), "--activate"]).assert(),
        certmint()
            .args(["init", p(&dir), "--client-id", "APP2"])
            .assert(),
    ] {
        let out = a.code(2).get_output().clone();
        let err = stderr(&out);
        assert!(err.contains(&busy), "{err}");
        assert!(
            err.contains("hint: wait for the other run to finish"),
            "{err}"
        );
        assert!(
            !err.contains("os error") && !err.contains("--force"),
            "{err}"
        );
    }
    assert_eq!(snapshot(&dir), before, "nothing changed");
    // Reading needs no lock.
    certmint().args(["check", p(&dir)]).assert().success();
    certmint().args(["init", p(&dir)]).assert().success();
    held.unlock().unwrap();
    drop(held);
    certmint()
        .args(["rotate", p(&dir), "--activate"])
        .assert()
        .success();
    // A file that does not belong in a generation being finished: move it away, never
    // "--force".
    let m = manifest(&dir);
    let g = dir.join(&m.generations[1].dir);
    std::fs::remove_file(g.join("server.p12")).unwrap();
    std::fs::write(g.join("server.p12"), "not a keystore").unwrap();
    let text = std::fs::read_to_string(dir.join("certmint.toml")).unwrap();
    let at = text.rfind("status = \"complete\"").unwrap();
    let mut edited = text.clone();
    edited.replace_range(
        at..at + "status = \"complete\"".len(),
        "status = \"pending\"",
    );
    std::fs::write(dir.join("certmint.toml"), edited).unwrap();
    for args in [vec!["init", p(&dir)], vec!["rotate", p(&dir)]] {
        let flag = if args[0] == "init" {
            "--passout"
        } else {
            "--passin"
        };
        let out = certmint()
            .args(&args)
            .args([flag, "env:CP"])
            .env("CP", PW)
            .assert()
            .code(2)
            .get_output()
            .clone();
        let err = stderr(&out);
        assert!(
            err.contains("server.p12") && err.contains("move it away"),
            "{err}"
        );
        assert!(!err.contains("--force"), "{err}");
    }
}

/// init's next steps name both kinds of app, External Client Apps first (issue 12,
/// item 12): where to upload the certificate and where to pre-authorize the user.
#[test]
fn init_next_steps_name_external_client_apps_first() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme-jwt");
    let out = certmint()
        .args([
            "init",
            p(&dir),
            "--cn",
            "acme-jwt",
            "--passout",
            "env:CERT_PASS",
        ])
        .env("CERT_PASS", "a long passphrase")
        .output()
        .unwrap();
    let stderr = stderr(&out);
    assert!(out.status.success(), "{stderr}");
    let steps = &stderr[stderr.find("Next steps").expect("next steps")..];
    let order = [
        // `connect` first: it does the upload, the pre-authorization and the proof.
        "one\n  command does steps 1, 2 and 4",
        &format!(
            "certmint connect {} --target-org ALIAS --username <integration user>\n",
            dir.display()
        ),
        "Or by hand in Setup:\n  1. Upload the certificate",
        "External Client App: Setup > External Client App Manager > your app > Settings >",
        "Flow Enablement > \"Enable JWT Bearer Flow\" > Upload Files.",
        "Connected app (existing orgs): Setup > App Manager > your app > Edit > Enable OAuth",
        "Settings > \"Use digital signatures\".",
        "External Client App: Edit Policies > OAuth Policies. Connected app: Manage > Edit Policies.",
    ];
    let mut at = 0;
    for line in order {
        let line: &str = line;
        let found = steps[at..]
            .find(line)
            .unwrap_or_else(|| panic!("`{line}` missing or out of order in:\n{steps}"));
        at += found + line.len();
    }
    assert!(
        stderr.contains("(certificate, PEM: upload to the app in Salesforce)"),
        "{stderr}"
    );
}

/// demo's closing lines (issue 12, item 13) suggest no upload of the demo certificate to
/// a real app, name files through `current/` rather than `g1-<date>/`, and every command they
/// suggest for the demo directory runs (the lines for a real org are templates).
#[test]
fn demo_closing_lines_point_at_current_and_suggest_no_upload() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("demo");
    let out = certmint().args(["demo", p(&dir)]).output().unwrap();
    let stderr = stderr(&out);
    assert!(out.status.success(), "{stderr}");
    let closing = &stderr[stderr
        .find("It works end to end")
        .unwrap_or_else(|| panic!("no closing lines in {stderr}"))..];
    assert!(!closing.to_lowercase().contains("upload"), "{closing}");
    assert!(!closing.contains("g1-"), "{closing}");
    assert!(
        closing.contains(&format!("{}/current/server.crt", dir.display())),
        "{closing}"
    );
    assert!(closing.contains("certmint init DIR"), "{closing}");
    let mut commands = 0;
    for line in closing.lines() {
        let Some(rest) = line.trim().strip_prefix("certmint ") else {
            continue;
        };
        // The lines for a real org are templates (DIR, NAME, ALIAS): run the ones
        // about the demo directory.
        let rest = rest.split("  #").next().unwrap_or(rest);
        let args: Vec<&str> = rest.split_whitespace().collect();
        if args.iter().any(|a| matches!(*a, "DIR" | "NAME" | "ALIAS")) {
            continue;
        }
        commands += 1;
        certmint().args(&args).assert().success();
    }
    assert!(commands >= 3, "{closing}");
}
