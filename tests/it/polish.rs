//! The small things a user trips over (issue 20): keys of other algorithms described
//! rather than refused by `inspect` and refused with a reason by `check`, a count of one
//! day in the singular, and `mint --dir` on a folder that is not a certmint directory.

use crate::support::{certmint_offline, fixture, fx, texts};

fn inspect(args: &[&str]) -> (Option<i32>, String, String) {
    let out = certmint_offline()
        .arg("inspect")
        .args(args)
        .output()
        .unwrap();
    let (o, e) = texts(&out);
    (out.status.code(), o, e)
}

/// An EC or Ed25519 key is described, with why Salesforce cannot use it, where `inspect`
/// used to fail with "not an RSA key" and say nothing of what the file held.
#[test]
fn inspect_names_the_algorithm_of_a_key_certmint_cannot_use() {
    for (file, alg) in [
        ("keys/ec-p256.pem", "EC P-256"),
        ("keys/ed25519.pem", "Ed25519"),
    ] {
        let (code, o, e) = inspect(&[&fx(file)]);
        assert_eq!(code, Some(0), "{o}\n{e}");
        assert!(
            o.contains(&format!(
                "format:             {alg} private key, PKCS#8 (PEM)"
            )),
            "{o}"
        );
        assert!(
            o.contains(&format!("key:                {alg} (not RSA: ")),
            "{o}"
        );
        assert!(o.contains("make one with `certmint key`"), "{o}");
        let (code, o, _) = inspect(&["--json", &fx(file)]);
        assert_eq!(code, Some(0));
        let v: serde_json::Value = serde_json::from_str(&o).unwrap();
        assert_eq!(v["kind"], "private-key");
        assert_eq!(v["algorithm"], alg);
        assert!(v["bits"].is_null());
        assert!(
            v["unusable"].as_str().unwrap().starts_with("not RSA"),
            "{v}"
        );
    }
    // An RSA key says so, and has nothing unusable about it.
    let (_, o, _) = inspect(&["--json", &fx("keys/base.pkcs8.pem")]);
    let v: serde_json::Value = serde_json::from_str(&o).unwrap();
    assert_eq!(v["algorithm"], "RSA");
    assert_eq!(v["bits"], 2048);
    assert!(v["unusable"].is_null());
}

/// A certificate and a public key over an EC key name the curve (OpenSSL made both:
/// fixtures/gen.sh), not just "not RSA".
#[test]
fn inspect_names_the_curve_of_an_ec_certificate_and_public_key() {
    let (code, o, e) = inspect(&[&fx("certs/ec-p256.crt")]);
    assert_eq!(code, Some(0), "{e}");
    assert!(o.contains("key:                EC P-256 (not RSA: "), "{o}");
    let (_, o, _) = inspect(&["--json", &fx("certs/ec-p256.crt")]);
    let v: serde_json::Value = serde_json::from_str(&o).unwrap();
    assert_eq!(v["key_algorithm"], "EC P-256");
    let (code, o, _) = inspect(&[&fx("keys/ec-p256.pub.pem")]);
    assert_eq!(code, Some(0));
    assert!(o.contains("EC P-256 (not RSA: "), "{o}");
    let (_, o, _) = inspect(&["--json", &fx("certs/base.crt")]);
    let v: serde_json::Value = serde_json::from_str(&o).unwrap();
    assert_eq!(v["key_algorithm"], "RSA");
}

/// `check` of a certificate over an EC key fails with the reason (it used to pass: only
/// the expiry was checked), exit code 1, rule `rsa_key` in JSON.
#[test]
fn check_fails_a_certificate_whose_key_is_not_rsa() {
    let out = certmint_offline()
        .args(["check", &fx("certs/ec-p256.crt")])
        .output()
        .unwrap();
    let (o, e) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{o}\n{e}");
    assert!(
        o.contains("FAIL  key is RSA: the certificate's key is EC P-256"),
        "{o}"
    );
    let out = certmint_offline()
        .args(["check", "--json", &fx("certs/ec-p256.crt")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = v.to_string();
    assert!(text.contains("\"rsa_key\""), "{text}");
    // An RSA certificate has no such finding.
    let out = certmint_offline()
        .args(["check", "--json", &fx("certs/base.crt")])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("rsa_key"));
}

/// certmint under libfaketime at `clock` (as the snapshot tests run it).
fn at(clock: &str) -> std::process::Command {
    let mut c = certmint_offline();
    c.env("LD_PRELOAD", crate::snapshots::faketime_lib())
        .env("FAKETIME", format!("@{clock}"))
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        .env("FAKETIME_DONT_RESET", "1");
    c
}

/// A certificate with one day left says "1 day", not "1 days" (inspect and check):
/// fixtures/certs/base-1day.crt ends 2026-11-29T16:48:37Z, a day and some hours after the
/// clock.
#[test]
fn one_day_is_singular() {
    const CLOCK: &str = "2026-11-28 12:00:00";
    let crt = fx("certs/base-1day.crt");
    let out = at(CLOCK).args(["inspect", &crt]).output().unwrap();
    let (o, e) = texts(&out);
    assert!(o.contains("(1 day left)"), "{o}\n{e}");
    let out = at(CLOCK)
        .args(["check", "--warn-days", "0", "--verbose", &crt])
        .output()
        .unwrap();
    let (o, e) = texts(&out);
    assert!(o.contains("(1 day left)"), "{o}\n{e}");
    let out = at(CLOCK)
        .args(["check", "--warn-days", "3", &crt])
        .output()
        .unwrap();
    let (o, e) = texts(&out);
    assert!(
        o.contains("in 1 day (warning threshold 3 days)"),
        "{o}\n{e}"
    );
    // A day after its end: "EXPIRED ... (1 day ago)".
    let out = at("2026-11-30 18:00:00")
        .args(["check", &crt])
        .output()
        .unwrap();
    let (o, e) = texts(&out);
    assert!(o.contains("(1 day ago)"), "{o}\n{e}");
}

/// `mint --dir` on a folder without a manifest says that it is not a certmint directory,
/// not that certmint.toml cannot be read.
#[test]
fn mint_dir_on_a_plain_folder_says_it_is_not_a_certmint_directory() {
    let d = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("keys/base.pkcs8.pem"), d.path().join("server.key")).unwrap();
    let out = certmint_offline()
        .args(["mint", "--dir", d.path().to_str().unwrap()])
        .output()
        .unwrap();
    let (o, e) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{o}\n{e}");
    assert!(
        e.contains("is not a certmint directory (it has no certmint.toml)"),
        "{e}"
    );
    assert!(e.contains("certmint init"), "{e}");
}

/// `init` run again with the flags that made the directory says nothing of ignored flags
/// (it said the subject and alias flags were ignored, though they matched); other flags
/// still get the note.
#[test]
fn init_rerun_with_the_same_flags_notes_nothing() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    let init = |cn: &str| {
        let out = certmint_offline()
            .arg("init")
            .arg(&dir)
            .args([
                "--cn",
                cn,
                "--org",
                "Acme",
                "--alias",
                "acme_jwt",
                "--days",
                "400",
                "--passout",
                "env:CERT_PASS",
            ])
            .env("CERT_PASS", "correct horse")
            .output()
            .unwrap();
        let (o, e) = texts(&out);
        assert!(out.status.success(), "{o}\n{e}");
        format!("{o}{e}")
    };
    init("acme-jwt");
    let again = init("acme-jwt");
    assert!(again.contains("nothing to do"), "{again}");
    assert!(!again.contains("note:"), "{again}");
    let other = init("other");
    assert!(
        other.contains("its subject (/O=Acme/CN=acme-jwt) and alias (acme_jwt) are kept"),
        "{other}"
    );
}

/// The help says what the commands do today: `emulate` is a whole emulated org, not only
/// a token endpoint; `demo` includes connect; the key-derivation limits the top-level
/// help tells users to raise appear in the Options of `--help` (issue 20, item 17).
#[test]
fn help_describes_emulate_demo_and_the_kdf_limits() {
    let out = certmint_offline().arg("--help").output().unwrap();
    let (o, _) = texts(&out);
    let words = o.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("emulate Run an emulated Salesforce org: the JWT bearer token endpoint, identity, and the REST and Metadata APIs"),
        "{o}"
    );
    assert!(
        words.contains("the app created in an emulated org (connect), then a token minted from it"),
        "{o}"
    );
    for cmd in [&["--help"][..], &["key", "--help"], &["check", "--help"]] {
        let out = certmint_offline().args(cmd).output().unwrap();
        let (o, _) = texts(&out);
        let options = o.split("Options:").nth(1).unwrap_or_default();
        assert!(options.contains("--max-kdf-iterations <N>"), "{cmd:?}: {o}");
        assert!(
            options.contains("--max-scrypt-memory <MIB>"),
            "{cmd:?}: {o}"
        );
    }
}
