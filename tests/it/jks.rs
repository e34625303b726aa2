//! JKS interop and the Salesforce import rules, through the real binary and real peers:
//! keytool and a small Java program (`tests/java/Check.java`) read what certmint writes,
//! and certmint reads what keytool wrote (`fixtures/gen-jks.sh`). A missing JDK fails
//! these tests; it never skips them.

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use crate::support::{self, cases, certmint, require};
use certmint::jks::{self, Entry, Integrity, PrivateKeyEntry};
use certmint::key::RsaKey;
use certmint::{Error, Password};
use predicates::prelude::PredicateBooleanExt;

const STORE_PASS: &str = "changeit";
const NON_ASCII: &str = "pässwört€";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file under fixtures/jks/.
fn fixture(name: &str) -> PathBuf {
    support::fixture(&format!("jks/{name}"))
}

/// `keytool -list -v` with the store password passed through the environment.
fn keytool_list(file: &Path, password: &str) -> String {
    require("keytool");
    let out = StdCommand::new("keytool")
        .args(["-list", "-v", "-storetype", "JKS", "-keystore"])
        .arg(file)
        .args(["-storepass:env", "KS_PASS"])
        .env("KS_PASS", password)
        .env("LC_ALL", "C.UTF-8")
        .output()
        .expect("run keytool");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "keytool -list failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// Run `tests/java/Check.java`; returns (success, stdout + stderr).
fn java_check_raw(
    kind: &str,
    file: &Path,
    alias: &str,
    pass: &str,
    keypass: Option<&str>,
) -> (bool, String) {
    require("java");
    let mut cmd = StdCommand::new("java");
    cmd.current_dir(root())
        .arg("tests/java/Check.java")
        .args([kind])
        .arg(file)
        .args([alias, pass])
        .env("LC_ALL", "C.UTF-8");
    if let Some(k) = keypass {
        cmd.arg(k);
    }
    let out = cmd.output().expect("run java");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn java_check(kind: &str, file: &Path, alias: &str, pass: &str, keypass: Option<&str>) -> String {
    let (ok, text) = java_check_raw(kind, file, alias, pass, keypass);
    assert!(ok, "Check.java failed on {}:\n{text}", file.display());
    text
}

/// `certmint jks` from the acme fixture into `dir/name`, with `password`.
fn make_jks(dir: &Path, name: &str, password: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(name);
    certmint()
        .args(["jks", "--cert"])
        .arg(fixture("acme.crt"))
        .arg("--key")
        .arg(fixture("acme.key"))
        .arg("--out")
        .arg(&out)
        .args(["--passout", "env:JKS_PASS"])
        .args(extra)
        .env("JKS_PASS", password)
        .assert()
        .success();
    out
}

fn acme_key() -> RsaKey {
    let data = std::fs::read(fixture("acme.key")).unwrap();
    certmint::key::load(&data, None).unwrap().0
}

fn cert_der(name: &str) -> Vec<u8> {
    certmint::x509::parse(&std::fs::read(fixture(name)).unwrap())
        .unwrap()
        .der
}

// ---------------------------------------------------------------------------------------
// Java reads what certmint writes

#[test]
fn keytool_and_java_read_our_jks() {
    let dir = tempfile::tempdir().unwrap();
    let out = make_jks(dir.path(), "server.jks", STORE_PASS, &[]);
    let list = keytool_list(&out, STORE_PASS);
    assert!(list.contains("Keystore type: JKS"), "{list}");
    assert!(list.contains("Your keystore contains 1 entry"), "{list}");
    // The default alias is the certificate's CN ("acme-jwt 2026") made a valid Unique Name.
    assert!(list.contains("Alias name: acme_jwt_2026"), "{list}");
    assert!(list.contains("Entry type: PrivateKeyEntry"), "{list}");
    assert!(list.contains("Certificate chain length: 1"), "{list}");
    let java = java_check("JKS", &out, "acme_jwt_2026", STORE_PASS, None);
    assert!(
        java.contains(
            "OK type=JKS alias=acme_jwt_2026 key=RSA/PKCS#8 bits=2048 chain=1 verify=true"
        ),
        "{java}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[test]
fn java_reads_our_jks_with_a_non_ascii_password() {
    let dir = tempfile::tempdir().unwrap();
    let out = make_jks(
        dir.path(),
        "nonascii.jks",
        NON_ASCII,
        &["--alias", "acme_jwt"],
    );
    let list = keytool_list(&out, NON_ASCII);
    assert!(list.contains("Alias name: acme_jwt"), "{list}");
    let java = java_check("JKS", &out, "acme_jwt", NON_ASCII, None);
    assert!(java.contains("verify=true"), "{java}");
    // And the ASCII look-alike is refused by Java: the password really is UTF-16BE.
    let (ok, text) = java_check_raw("JKS", &out, "acme_jwt", "passwort", None);
    assert!(!ok, "{text}");
}

#[test]
fn encrypted_key_input_chain_and_mixed_case_alias() {
    let dir = tempfile::tempdir().unwrap();
    // A two-certificate "chain" (leaf first): JKS stores whatever chain it is given.
    let chain = dir.path().join("chain.pem");
    let mut pem = std::fs::read(fixture("acme.crt")).unwrap();
    pem.extend(std::fs::read(fixture("other.crt")).unwrap());
    std::fs::write(&chain, pem).unwrap();
    let out = dir.path().join("chain.jks");
    certmint()
        .args(["jks", "--cert"])
        .arg(&chain)
        .arg("--key")
        .arg(fixture("acme.pass.key"))
        .args([
            "--passin",
            "env:KEY_PASS",
            "--passout",
            "env:JKS_PASS",
            "--alias",
            "Acme_JWT",
            "--out",
        ])
        .arg(&out)
        .env("KEY_PASS", "keypass")
        .env("JKS_PASS", STORE_PASS)
        .assert()
        .success()
        .stderr(predicates::str::contains("stored as `acme_jwt`"));
    let list = keytool_list(&out, STORE_PASS);
    assert!(list.contains("Alias name: acme_jwt"), "{list}");
    assert!(list.contains("Certificate chain length: 2"), "{list}");
    // Java's JKS finds the entry under any case, because the file holds it lowercased.
    for alias in ["acme_jwt", "Acme_JWT"] {
        let java = java_check("JKS", &out, alias, STORE_PASS, None);
        assert!(java.contains("chain=2 verify=true"), "{java}");
    }
}

/// Why certmint lowercases aliases: Java's JKS lowercases the alias it is asked for, so an
/// entry stored with capitals (which keytool never writes) cannot be fetched at all.
#[test]
fn java_cannot_fetch_a_mixed_case_alias_so_certmint_lowercases() {
    let dir = tempfile::tempdir().unwrap();
    let pw = Password::from(STORE_PASS);
    let entry = PrivateKeyEntry::new(
        "Acme_JWT",
        1_700_000_000_000,
        acme_key().pkcs8_der().expose(),
        &pw,
        vec![cert_der("acme.crt")],
    )
    .unwrap();
    let file = dir.path().join("mixed.jks");
    std::fs::write(&file, jks::write(&[Entry::PrivateKey(entry)], &pw).unwrap()).unwrap();
    for alias in ["Acme_JWT", "acme_jwt"] {
        let (ok, text) = java_check_raw("JKS", &file, alias, STORE_PASS, None);
        assert!(!ok && text.contains("no key entry"), "{text}");
    }
    // certmint check reports that Salesforce (Java) would find no usable key entry.
    certmint()
        .args(["check", "--salesforce"])
        .arg(&file)
        .args(["--passin", "env:P"])
        .env("P", STORE_PASS)
        .assert()
        .code(1)
        .stdout(predicates::str::contains("capital letters"));
}

#[test]
fn no_salesforce_rules_writes_what_java_still_reads() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("small.jks");
    certmint()
        .args([
            "jks",
            "--no-salesforce-rules",
            "--alias",
            "my small key",
            "--cert",
        ])
        .arg(fixture("small.crt"))
        .arg("--key")
        .arg(fixture("small.key"))
        .args(["--passout", "env:P", "--out"])
        .arg(&out)
        .env("P", STORE_PASS)
        .assert()
        .success();
    let java = java_check("JKS", &out, "my small key", STORE_PASS, None);
    assert!(java.contains("bits=1024 chain=1 verify=true"), "{java}");
    // It breaks Salesforce's rules, and check says which.
    let assert = certmint()
        .args(["check", "--salesforce"])
        .arg(&out)
        .args(["--passin", "env:P"])
        .env("P", STORE_PASS)
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    assert!(
        stdout.contains("Imported keys must have a bit size of 2048, 3072, or 4096."),
        "{stdout}"
    );
    assert!(
        stdout.contains("The Unique Name can contain only underscores"),
        "{stdout}"
    );
}

// ---------------------------------------------------------------------------------------
// certmint reads what keytool writes

struct Fixture {
    file: &'static str,
    store: &'static str,
    key: &'static str,
    alias: &'static str,
    bits: usize,
}

const KEYTOOL_FIXTURES: &[Fixture] = &[
    Fixture {
        file: "keytool-equal.jks",
        store: STORE_PASS,
        key: STORE_PASS,
        alias: "acme_jwt",
        bits: 2048,
    },
    Fixture {
        file: "keytool-keypass-differs.jks",
        store: STORE_PASS,
        key: "keypass-differs",
        alias: "acme_jwt",
        bits: 2048,
    },
    Fixture {
        file: "keytool-1024.jks",
        store: STORE_PASS,
        key: STORE_PASS,
        alias: "small_key",
        bits: 1024,
    },
    Fixture {
        file: "keytool-alias-1.jks",
        store: STORE_PASS,
        key: STORE_PASS,
        alias: "1",
        bits: 2048,
    },
    Fixture {
        file: "keytool-nonascii.jks",
        store: NON_ASCII,
        key: NON_ASCII,
        alias: "acme_jwt",
        bits: 2048,
    },
    Fixture {
        file: "keytool-from-p12.jks",
        store: STORE_PASS,
        key: STORE_PASS,
        alias: "acme_jwt",
        bits: 2048,
    },
];

cases!(we_read_keytool_keystores_and_recover_their_keys {
    equal => reads_keytool_keystore("keytool-equal.jks"),
    keypass_differs => reads_keytool_keystore("keytool-keypass-differs.jks"),
    rsa1024 => reads_keytool_keystore("keytool-1024.jks"),
    alias_1 => reads_keytool_keystore("keytool-alias-1.jks"),
    nonascii => reads_keytool_keystore("keytool-nonascii.jks"),
    from_p12 => reads_keytool_keystore("keytool-from-p12.jks"),
});

/// Parse one of [`KEYTOOL_FIXTURES`], recover its key, and write it again byte for byte.
fn reads_keytool_keystore(file: &str) {
    let f = KEYTOOL_FIXTURES
        .iter()
        .find(|f| f.file == file)
        .unwrap_or_else(|| panic!("{file} is not in KEYTOOL_FIXTURES"));
    {
        let data = std::fs::read(fixture(f.file)).unwrap();
        let ks = jks::parse(&data, Some(&Password::from(f.store)))
            .unwrap_or_else(|e| panic!("{}: {e}", f.file));
        assert_eq!(ks.version, 2, "{}", f.file);
        assert_eq!(ks.integrity, Integrity::Verified, "{}", f.file);
        let Entry::PrivateKey(entry) = ks.find(f.alias).unwrap() else {
            panic!("{}: `{}` is not a key entry", f.file, f.alias);
        };
        assert_eq!(entry.chain.len(), 1, "{}", f.file);
        assert_eq!(entry.chain[0].cert_type, "X.509");
        let plain = entry
            .recover(&Password::from(f.key))
            .unwrap_or_else(|e| panic!("{}: {e}", f.file));
        let key = RsaKey::from_pkcs8_der(plain.expose()).unwrap();
        assert_eq!(key.bits(), f.bits, "{}", f.file);
        let leaf = certmint::x509::parse_der(&entry.chain[0].der).unwrap();
        assert!(key.matches_spki(&leaf.spki), "{}", f.file);
        // Without a password: the same entries, integrity reported as unchecked.
        let unchecked = jks::parse(&data, None).unwrap();
        assert_eq!(unchecked.integrity, Integrity::Unchecked);
        assert_eq!(unchecked.entries, ks.entries);
        // Our writer reproduces keytool's file byte for byte.
        assert_eq!(
            jks::write(&ks.entries, &Password::from(f.store)).unwrap(),
            data,
            "{}",
            f.file
        );
    }
}

#[test]
fn we_read_trusted_cert_and_ec_keystores() {
    let pw = Password::from(STORE_PASS);
    let data = std::fs::read(fixture("keytool-trusted-only.jks")).unwrap();
    let ks = jks::parse(&data, Some(&pw)).unwrap();
    let Entry::TrustedCert(t) = ks.find("trusted_ca").unwrap() else {
        panic!("not a trusted certificate entry");
    };
    assert_eq!(ks.private_keys().count(), 0);
    let info = certmint::x509::parse_der(&t.cert.der).unwrap();
    assert_eq!(info.common_name.as_deref(), Some("acme-jwt"));

    let data = std::fs::read(fixture("keytool-ec.jks")).unwrap();
    let ks = jks::parse(&data, Some(&pw)).unwrap();
    let entry = ks.private_keys().next().unwrap();
    let plain = entry.recover(&pw).unwrap();
    // A valid PKCS#8 EC key: certmint's RSA loader says so.
    assert!(matches!(
        RsaKey::from_pkcs8_der(plain.expose()),
        Err(Error::NotRsa(_))
    ));
}

cases!(check_passes_keytool_keystores_that_follow_the_rules {
    equal => check_passes("keytool-equal.jks", STORE_PASS),
    from_p12 => check_passes("keytool-from-p12.jks", STORE_PASS),
    nonascii => check_passes("keytool-nonascii.jks", NON_ASCII),
});

fn check_passes(file: &str, pass: &str) {
    {
        certmint()
            .args(["check", "--salesforce"])
            .arg(fixture(file))
            .args(["--passin", "env:P"])
            .env("P", pass)
            .assert()
            .code(0)
            .stdout(predicates::str::contains("all rules pass"));
    }
}

#[test]
fn jceks_and_wrong_kinds_are_named() {
    let data = std::fs::read(fixture("keytool.jceks")).unwrap();
    let err = jks::parse(&data, None).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("JCEKS"), "{err}");
    let p12 = std::fs::read(fixture("keytool-source.p12")).unwrap();
    assert!(matches!(
        jks::parse(&p12, None),
        Err(Error::WrongKind { .. })
    ));
    let pem = std::fs::read(fixture("acme.crt")).unwrap();
    assert!(matches!(
        jks::parse(&pem, None),
        Err(Error::WrongKind { .. })
    ));
}

// ---------------------------------------------------------------------------------------
// Salesforce rules: one keystore per rule, breaking exactly that rule

/// Run `check --salesforce`, expect exit 1 with exactly one failed rule and `message`.
fn expect_one_failure(file: &Path, pass: &str, message: &str) {
    let assert = certmint()
        .args(["check", "--salesforce"])
        .arg(file)
        .args(["--passin", "env:P"])
        .env("P", pass)
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    assert_eq!(
        stdout.matches("FAIL").count(),
        1,
        "{}:\n{stdout}",
        file.display()
    );
    assert!(
        stdout.contains(message),
        "{}: expected {message:?} in\n{stdout}",
        file.display()
    );
}

#[test]
fn rule_file_is_jks() {
    let msg = "a PKCS#12/PFX must be converted to JKS first.";
    expect_one_failure(&fixture("keytool-source.p12"), STORE_PASS, msg);
    expect_one_failure(&fixture("keytool.jceks"), STORE_PASS, msg);
}

#[test]
fn rule_private_key_entry() {
    expect_one_failure(
        &fixture("keytool-trusted-only.jks"),
        STORE_PASS,
        "No certificate was imported because the keystore file doesn't contain a PrivateKey entry.",
    );
}

#[test]
fn rule_rsa() {
    expect_one_failure(
        &fixture("keytool-ec.jks"),
        STORE_PASS,
        "The key is not an RSA key.",
    );
}

#[test]
fn rule_pkcs8() {
    // keytool cannot make this one: a key protected as PKCS#1 instead of PKCS#8.
    let dir = tempfile::tempdir().unwrap();
    let pw = Password::from(STORE_PASS);
    let pkcs1 = acme_key().to_pkcs1_der().unwrap();
    let entry = PrivateKeyEntry::new(
        "acme_jwt",
        0,
        pkcs1.expose(),
        &pw,
        vec![cert_der("acme.crt")],
    )
    .unwrap();
    let file = dir.path().join("pkcs1.jks");
    std::fs::write(&file, jks::write(&[Entry::PrivateKey(entry)], &pw).unwrap()).unwrap();
    expect_one_failure(&file, STORE_PASS, "The key must be in PKCS#8 format.");
}

#[test]
fn rule_key_size() {
    expect_one_failure(
        &fixture("keytool-1024.jks"),
        STORE_PASS,
        "Imported keys must have a bit size of 2048, 3072, or 4096.",
    );
}

#[test]
fn rule_key_matches_certificate() {
    // certmint jks refuses to make this one (see jks_refuses_a_mismatched_pair).
    let dir = tempfile::tempdir().unwrap();
    let pw = Password::from(STORE_PASS);
    let entry = PrivateKeyEntry::new(
        "acme_jwt",
        0,
        acme_key().pkcs8_der().expose(),
        &pw,
        vec![cert_der("other.crt")],
    )
    .unwrap();
    let file = dir.path().join("mismatch.jks");
    std::fs::write(&file, jks::write(&[Entry::PrivateKey(entry)], &pw).unwrap()).unwrap();
    expect_one_failure(
        &file,
        STORE_PASS,
        "The private key does not match the certificate chain in the keystore.",
    );
}

#[test]
fn rule_key_password_is_store_password() {
    expect_one_failure(
        &fixture("keytool-keypass-differs.jks"),
        STORE_PASS,
        "Error: The Keystore contains a certificate 'acme_jwt' whose per key password is not the same as the keystore password.",
    );
}

#[test]
fn rule_alias_is_unique_name() {
    expect_one_failure(
        &fixture("keytool-alias-1.jks"),
        STORE_PASS,
        "The Unique Name can contain only underscores and alphanumeric characters. It must be unique, begin with a letter, not include spaces, not end with an underscore, and not contain two consecutive underscores.",
    );
}

#[test]
fn our_keystore_passes_every_rule() {
    let dir = tempfile::tempdir().unwrap();
    let out = make_jks(dir.path(), "ok.jks", STORE_PASS, &[]);
    let assert = certmint()
        .args(["check", "--salesforce"])
        .arg(&out)
        .args(["--passin", "env:P", "--json"])
        .env("P", STORE_PASS)
        .assert()
        .code(0);
    let doc: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(doc["ok"], true);
    let all = doc["files"][0]["checks"].as_array().unwrap();
    // The eight Salesforce rules, then the certificate's expiry.
    assert_eq!(all.last().unwrap()["rule"], "expiry");
    let checks = &all[..all.len() - 1];
    assert_eq!(checks.len(), 8);
    for c in checks {
        assert_eq!(c["status"], "pass", "{c}");
    }
    let rules: Vec<&str> = checks.iter().map(|c| c["rule"].as_str().unwrap()).collect();
    assert_eq!(
        rules,
        [
            "file_is_jks",
            "private_key_entry",
            "rsa_key",
            "pkcs8",
            "key_size",
            "key_matches_certificate",
            "key_password_is_store_password",
            "alias_is_unique_name"
        ]
    );
    // Text output too.
    certmint()
        .args(["check", "--salesforce"])
        .arg(&out)
        .args(["--passin", "env:P"])
        .env("P", STORE_PASS)
        .assert()
        .code(0)
        .stdout(predicates::str::contains("all rules pass"))
        .stdout(predicates::str::contains("FAIL").not());
}

#[test]
fn failed_rule_in_json() {
    let assert = certmint()
        .args(["check", "--salesforce", "--json", "--passin", "env:P"])
        .arg(fixture("keytool-keypass-differs.jks"))
        .env("P", STORE_PASS)
        .assert()
        .code(1);
    let doc: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(doc["ok"], false);
    let failed: Vec<&serde_json::Value> = doc["files"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["rule"], "key_password_is_store_password");
    assert_eq!(failed[0]["alias"], "acme_jwt");
    assert!(
        failed[0]["fix"]
            .as_str()
            .unwrap()
            .contains("keytool -keypasswd")
    );
}

// ---------------------------------------------------------------------------------------
// `certmint jks` refuses what Salesforce would refuse, and leaves nothing behind

fn jks_fails(args: &[&str], cert: &str, key: &str, expect: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("refused.jks");
    certmint()
        .args(["jks", "--cert"])
        .arg(fixture(cert))
        .arg("--key")
        .arg(fixture(key))
        .arg("--out")
        .arg(&out)
        .args(["--passout", "env:P"])
        .args(args)
        .env("P", STORE_PASS)
        .env("WRONG", "not-the-key-password")
        .assert()
        .code(2)
        .stderr(predicates::str::contains(expect));
    assert!(!out.exists(), "a refused keystore was written");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "temp files left behind"
    );
}

#[test]
fn jks_refuses_an_invalid_alias_and_suggests_one() {
    jks_fails(
        &["--alias", "1 bad"],
        "acme.crt",
        "acme.key",
        "use --alias cert_1_bad",
    );
    jks_fails(
        &["--alias", "acme__jwt"],
        "acme.crt",
        "acme.key",
        "two consecutive underscores",
    );
}

#[test]
fn jks_refuses_a_small_key() {
    jks_fails(&[], "small.crt", "small.key", "1024 bits is not accepted");
}

#[test]
fn jks_refuses_a_mismatched_pair() {
    jks_fails(
        &[],
        "other.crt",
        "acme.key",
        "The private key does not match the certificate chain",
    );
    // Even without the Salesforce rules: such a keystore is useless to anyone.
    jks_fails(
        &["--no-salesforce-rules"],
        "other.crt",
        "acme.key",
        "do not belong together",
    );
}

#[test]
fn jks_wrong_key_password() {
    jks_fails(
        &["--passin", "env:WRONG"],
        "acme.crt",
        "acme.pass.key",
        "wrong password for the private key",
    );
}

#[test]
fn jks_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = make_jks(dir.path(), "server.jks", STORE_PASS, &[]);
    let before = std::fs::read(&out).unwrap();
    certmint()
        .args(["jks", "--cert"])
        .arg(fixture("acme.crt"))
        .arg("--key")
        .arg(fixture("acme.key"))
        .arg("--out")
        .arg(&out)
        .args(["--passout", "env:P"])
        .env("P", STORE_PASS)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("already exists"));
    assert_eq!(std::fs::read(&out).unwrap(), before);
}

// ---------------------------------------------------------------------------------------
// Errors: each distinct, exit 2

fn check_error(file: &Path, pass: &str, expect: &str) -> String {
    let assert = certmint()
        .args(["check", "--salesforce"])
        .arg(file)
        .args(["--passin", "env:P"])
        .env("P", pass)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains(expect), "expected {expect:?} in\n{stderr}");
    assert!(assert.get_output().stdout.is_empty(), "no report on error");
    stderr
}

#[test]
fn errors_are_distinct() {
    let dir = tempfile::tempdir().unwrap();
    let good = make_jks(dir.path(), "good.jks", STORE_PASS, &[]);
    let bytes = std::fs::read(&good).unwrap();

    let wrong = check_error(
        &good,
        "not-the-password",
        "wrong password for the JKS keystore",
    );

    let altered = dir.path().join("altered.jks");
    let mut b = bytes.clone();
    let last = b.len() - 1;
    b[last] ^= 0x01;
    std::fs::write(&altered, &b).unwrap();
    let digest = check_error(&altered, STORE_PASS, "the file was altered");

    let truncated = dir.path().join("truncated.jks");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let trunc = check_error(&truncated, STORE_PASS, "corrupt or truncated JKS keystore");

    let messages = [&wrong, &digest, &trunc];
    for (i, a) in messages.iter().enumerate() {
        for b in &messages[i + 1..] {
            assert_ne!(a, b);
        }
    }
    // A truncated file is reported before any password is asked for: no source needed.
    certmint()
        .args(["check", "--salesforce"])
        .arg(&truncated)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("truncated"));
}

#[test]
fn wrong_key_password_and_unknown_alias_in_the_library() {
    let data = std::fs::read(fixture("keytool-keypass-differs.jks")).unwrap();
    let ks = jks::parse(&data, Some(&Password::from(STORE_PASS))).unwrap();
    let err = ks.find("acme_jwt").map(|_| ()).and_then(|_| {
        ks.private_keys()
            .next()
            .unwrap()
            .recover(&Password::from(STORE_PASS))
            .map(|_| ())
    });
    let err = err.unwrap_err();
    assert_eq!(err.to_string(), "wrong password for the JKS key entry");
    let err = ks.find("nope").unwrap_err();
    assert_eq!(
        err.to_string(),
        "no entry named `nope` (the keystore has: acme_jwt)"
    );
}

#[test]
fn check_of_a_file_without_anything_to_check_is_an_error() {
    certmint()
        .arg("check")
        .arg(fixture("acme.key"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no expiry or rules to check"));
}

/// The key password of a keystore whose passwords differ opens the key but not the store:
/// certmint says so instead of claiming a plain wrong password.
#[test]
fn key_password_given_as_store_password() {
    let data = std::fs::read(fixture("keytool-keypass-differs.jks")).unwrap();
    let err = jks::parse(&data, Some(&Password::from("keypass-differs"))).unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err}");
    certmint()
        .args(["check", "--salesforce", "--passin", "env:P"])
        .arg(fixture("keytool-keypass-differs.jks"))
        .env("P", "keypass-differs")
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "the password given is that entry's key password",
        ));
}

/// Check.java is shared with the PKCS#12 tests: it reads keytool's PKCS12 too, and a key
/// password that differs from the store password.
#[test]
fn check_java_reads_pkcs12_and_separate_key_passwords() {
    let p12 = java_check(
        "PKCS12",
        &fixture("keytool-source.p12"),
        "acme_jwt",
        STORE_PASS,
        None,
    );
    assert!(
        p12.contains("OK type=PKCS12 alias=acme_jwt key=RSA/PKCS#8 bits=2048 chain=1 verify=true"),
        "{p12}"
    );
    let differs = java_check(
        "JKS",
        &fixture("keytool-keypass-differs.jks"),
        "acme_jwt",
        STORE_PASS,
        Some("keypass-differs"),
    );
    assert!(differs.contains("verify=true"), "{differs}");
}

#[test]
fn check_several_files_exits_1_when_one_fails() {
    certmint()
        .args(["check", "--salesforce", "--passin", "env:P"])
        .arg(fixture("keytool-equal.jks"))
        .arg(fixture("keytool-alias-1.jks"))
        .env("P", STORE_PASS)
        .assert()
        .code(1)
        .stdout(predicates::str::contains("all rules pass"))
        .stdout(predicates::str::contains("1 rule fails"));
}

/// Issue 12, item 19: `jks --p12` silently changed an entry's alias Salesforce would refuse
/// (`acme-jwt` to `acme_jwt`). It says so, after the write, as it does for lowercase.
#[test]
fn jks_from_p12_says_when_it_changes_the_alias() {
    use crate::support::{fx, keytool, p};
    use predicates::str::contains;
    let tmp = tempfile::tempdir().unwrap();
    let p12 = tmp.path().join("dash.p12");
    certmint()
        .args([
            "p12",
            "--cert",
            &fx("certs/base.crt"),
            "--key",
            &fx("keys/base.pkcs8.pem"),
            "--out",
            p(&p12),
            "--passout",
            "env:PW",
            "--name",
            "acme-jwt",
        ])
        .env("PW", "store-pass")
        .assert()
        .success();
    let convert = |out: &str, extra: &[&str]| {
        certmint()
            .args([
                "jks",
                "--p12",
                p(&p12),
                "--passin",
                "env:PW",
                "--passout",
                "env:PW",
            ])
            .arg("--out")
            .arg(tmp.path().join(out))
            .args(extra)
            .env("PW", "store-pass")
            .assert()
            .success()
    };
    let out = convert("a.jks", &[]);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    let wrote = err.find("wrote ").unwrap();
    let note = err
        .find("note: the entry's alias `acme-jwt` is not a valid Salesforce Unique Name")
        .unwrap_or_else(|| panic!("{err}"));
    assert!(wrote < note, "the note follows the write: {err}");
    assert!(
        err.contains("so the JKS entry is named `acme_jwt`"),
        "{err}"
    );
    assert!(err.contains("--alias"), "{err}");
    let listed = keytool()
        .args([
            "-list",
            "-storetype",
            "JKS",
            "-storepass",
            "store-pass",
            "-keystore",
        ])
        .arg(tmp.path().join("a.jks"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&listed.stdout).contains("acme_jwt,"),
        "{listed:?}"
    );
    // An alias given, or the rules lifted: no note.
    for (out, extra) in [
        ("b.jks", &["--alias", "acme_app"][..]),
        ("c.jks", &["--no-salesforce-rules"][..]),
    ] {
        convert(out, extra).stderr(contains("is not a valid Salesforce Unique Name").not());
    }
    // -q: silent.
    certmint()
        .args([
            "-q",
            "jks",
            "--p12",
            p(&p12),
            "--passin",
            "env:PW",
            "--passout",
            "env:PW",
        ])
        .arg("--out")
        .arg(tmp.path().join("d.jks"))
        .env("PW", "store-pass")
        .assert()
        .success()
        .stderr("");
}
