//! Keystores in both directions across certmint's commands: `jks --p12`, `p12 --jks`,
//! `export` from JKS (including a separate key password), `jwt`/`mint --keystore`, and an
//! assertion signed by a Java program from a certmint JKS, accepted by the emulator.

use crate::support::*;
use predicates::str::contains;

fn out(dir: &tempfile::TempDir, name: &str) -> String {
    dir.path().join(name).to_str().unwrap().to_owned()
}

/// keytool's PKCS#12 and OpenSSL's PKCS#12 become Salesforce-ready JKS files Java opens.
#[test]
fn jks_from_pkcs12_of_both_tools() {
    let dir = tempfile::tempdir().unwrap();
    // keytool's PKCS#12: its alias `acme_jwt` is a valid Unique Name and is kept.
    certmint()
        .args([
            "jks",
            "--p12",
            &fx("jks/keytool-source.p12"),
            "--passin",
            "env:P",
            "--passout",
            "env:N",
            "--out",
            &out(&dir, "a.jks"),
        ])
        .env("P", "changeit")
        .env("N", "new-store-pass")
        .assert()
        .success()
        .stderr(contains("alias `acme_jwt`"));
    let check = java()
        .args([
            "tests/java/Check.java",
            "JKS",
            &out(&dir, "a.jks"),
            "acme_jwt",
            "new-store-pass",
        ])
        .output()
        .unwrap();
    assert!(check.status.success(), "{:?}", texts(&check));
    // OpenSSL's PKCS#12 names the entry `acme-jwt`, not a valid Unique Name: certmint
    // picks a valid alias from the certificate's CN instead, and the result passes the rules.
    certmint()
        .args([
            "jks",
            "--p12",
            &fx("p12/openssl-default.p12"),
            "--passin",
            "env:P",
            "--passout",
            "env:P",
            "--out",
            &out(&dir, "b.jks"),
        ])
        .env("P", FIXTURE_PW)
        .assert()
        .success()
        .stderr(contains("passes Salesforce's import rules"));
    certmint()
        .args([
            "check",
            "--salesforce",
            &out(&dir, "b.jks"),
            "--passin",
            "env:P",
        ])
        .env("P", FIXTURE_PW)
        .assert()
        .success();
    // A file with several keys needs --src-alias.
    certmint()
        .args([
            "jks",
            "--p12",
            &fx("p12/keytool-two.p12"),
            "--passin",
            "env:P",
            "--passout",
            "env:P",
            "--out",
            &out(&dir, "c.jks"),
        ])
        .env("P", FIXTURE_PW)
        .assert()
        .code(2)
        .stderr(contains("several entries"))
        .stderr(contains("first"));
    certmint()
        .args([
            "jks",
            "--p12",
            &fx("p12/keytool-two.p12"),
            "--src-alias",
            "second",
            "--passin",
            "env:P",
            "--passout",
            "env:P",
            "--out",
            &out(&dir, "c.jks"),
        ])
        .env("P", FIXTURE_PW)
        .assert()
        .success()
        .stderr(contains("alias `second`"));
}

/// A keytool JKS whose key password differs becomes a PKCS#12 OpenSSL reads.
#[test]
fn pkcs12_from_jks_with_a_separate_key_password() {
    let dir = tempfile::tempdir().unwrap();
    certmint()
        .args([
            "p12",
            "--jks",
            &fx("jks/keytool-keypass-differs.jks"),
            "--passin",
            "env:P",
            "--passout",
            "env:N",
            "--out",
            &out(&dir, "x.p12"),
        ])
        .env("P", "changeit")
        .env("N", "p12-pass")
        .assert()
        .code(2)
        .stderr(contains("--keypass"));
    assert!(dir_names(dir.path()).is_empty());
    certmint()
        .args([
            "p12",
            "--jks",
            &fx("jks/keytool-keypass-differs.jks"),
            "--passin",
            "env:P",
            "--keypass",
            "env:K",
            "--passout",
            "env:N",
            "--out",
            &out(&dir, "x.p12"),
        ])
        .env("P", "changeit")
        .env("K", "keypass-differs")
        .env("N", "p12-pass")
        .assert()
        .success();
    let info = openssl_ok(&[
        "pkcs12",
        "-in",
        &out(&dir, "x.p12"),
        "-passin",
        "pass:p12-pass",
        "-info",
        "-noenc",
    ]);
    assert!(info.contains("friendlyName: acme_jwt"), "{info}");
    assert!(info.contains("BEGIN PRIVATE KEY"), "{info}");
}

/// `export` takes the key and certificate out of a JKS; they match each other.
#[test]
fn export_from_jks() {
    let dir = tempfile::tempdir().unwrap();
    certmint()
        .args([
            "export",
            &fx("jks/keytool-keypass-differs.jks"),
            "--key-out",
            &out(&dir, "k.pem"),
            "--cert-out",
            &out(&dir, "c.pem"),
            "--passin",
            "env:P",
            "--keypass",
            "env:K",
        ])
        .env("P", "changeit")
        .env("K", "keypass-differs")
        .assert()
        .success();
    assert_eq!(mode(&dir.path().join("k.pem")), 0o600);
    assert_eq!(
        openssl_pubkey(&dir.path().join("k.pem"), "key", None),
        openssl_pubkey(&dir.path().join("c.pem"), "cert", None)
    );
    // A wrong key password and an unknown alias are their own errors.
    certmint()
        .args([
            "export",
            &fx("jks/keytool-keypass-differs.jks"),
            "--key-out",
            &out(&dir, "k2.pem"),
            "--passin",
            "env:P",
            "--keypass",
            "env:K",
        ])
        .env("P", "changeit")
        .env("K", "not-the-key-password")
        .assert()
        .code(2)
        .stderr(contains("wrong password for the JKS key entry"))
        .stderr(contains("--keypass"));
    certmint()
        .args([
            "export",
            &fx("jks/keytool-equal.jks"),
            "--cert-out",
            &out(&dir, "n.pem"),
            "--alias",
            "nope",
            "--passin",
            "env:P",
        ])
        .env("P", "changeit")
        .assert()
        .code(2)
        .stderr(contains("no entry named `nope`"));
    certmint()
        .args([
            "export",
            &fx("jks/keytool-equal.jks"),
            "--cert-out",
            &out(&dir, "w.pem"),
            "--passin",
            "env:P",
        ])
        .env("P", "wrong-store-password")
        .assert()
        .code(2)
        .stderr(contains("wrong password for the JKS keystore"));
    assert!(!dir.path().join("k2.pem").exists() && !dir.path().join("n.pem").exists());
    // The JCEKS format is named, not misreported as a wrong password.
    certmint()
        .args([
            "export",
            &fx("jks/keytool.jceks"),
            "--cert-out",
            &out(&dir, "j.pem"),
            "--passin",
            "env:P",
        ])
        .env("P", "changeit")
        .assert()
        .code(2)
        .stderr(contains("JCEKS"));
}

/// An assertion signed by a Java program with the key from a certmint JKS is accepted by
/// the emulator; `jwt --keystore` signs the same way.
#[test]
fn java_signed_assertion_from_a_certmint_jks_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    certmint()
        .args([
            "jks",
            "--cert",
            &fx("jks/acme.crt"),
            "--key",
            &fx("jks/acme.key"),
            "--passout",
            "env:P",
            "--out",
            &out(&dir, "s.jks"),
        ])
        .env("P", "store-pass")
        .assert()
        .success();
    let cert = std::fs::read(fixture("jks/acme.crt")).unwrap();
    let config =
        certmint::emulator::Config::simple(&cert, "JAVA_APP", &["java@example.com".to_string()])
            .unwrap();
    let emu =
        certmint::emulator::start(config, certmint::emulator::ServerOptions::default()).unwrap();
    let base = emu.base_url().to_owned();

    let java_out = java()
        .args([
            "tests/java/SignJwt.java",
            "JKS",
            &out(&dir, "s.jks"),
            "acme_jwt_2026",
            "store-pass",
            "JAVA_APP",
            "java@example.com",
            "https://login.salesforce.com",
        ])
        .output()
        .unwrap();
    assert!(java_out.status.success(), "{:?}", texts(&java_out));
    let assertion = String::from_utf8(java_out.stdout)
        .unwrap()
        .trim()
        .to_owned();

    let rust_out = certmint()
        .args([
            "jwt",
            "--keystore",
            &out(&dir, "s.jks"),
            "--passin",
            "env:P",
            "--client-id",
            "JAVA_APP",
            "-u",
            "java@example.com",
        ])
        .env("P", "store-pass")
        .output()
        .unwrap();
    assert!(rust_out.status.success(), "{:?}", texts(&rust_out));
    let rust_assertion = String::from_utf8(rust_out.stdout)
        .unwrap()
        .trim()
        .to_owned();

    for a in [&assertion, &rust_assertion] {
        let resp = ureq::post(format!("{base}/services/oauth2/token"))
            .content_type("application/x-www-form-urlencoded")
            .send(format!(
                "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={a}"
            ))
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    // mint with the PKCS#12 route too.
    certmint()
        .args([
            "p12",
            "--jks",
            &out(&dir, "s.jks"),
            "--passin",
            "env:P",
            "--passout",
            "env:P",
            "--out",
            &out(&dir, "s.p12"),
        ])
        .env("P", "store-pass")
        .assert()
        .success();
    certmint()
        .args([
            "mint",
            "--keystore",
            &out(&dir, "s.p12"),
            "--passin",
            "env:P",
            "--client-id",
            "JAVA_APP",
            "-u",
            "java@example.com",
            "--login-url",
            &base,
        ])
        .env("P", "store-pass")
        .assert()
        .success()
        .stdout(contains("java@example.com"));
    emu.shutdown();
}

/// certmint can make the emulator's TLS certificate itself (`cert --san`), and mint trusts
/// it with --ca-file.
#[test]
fn emulator_tls_certificate_made_by_certmint() {
    let dir = tempfile::tempdir().unwrap();
    certmint()
        .args([
            "cert",
            "--key",
            &fx("keys/other.pkcs8.pem"),
            "--cn",
            "localhost",
            "--san",
            "localhost",
            "--san",
            "IP:127.0.0.1",
            "--out",
            &out(&dir, "tls.crt"),
        ])
        .assert()
        .success();
    let text = openssl_ok(&[
        "x509",
        "-in",
        &out(&dir, "tls.crt"),
        "-noout",
        "-ext",
        "subjectAltName",
    ]);
    assert!(
        text.contains("DNS:localhost") && text.contains("IP Address:127.0.0.1"),
        "{text}"
    );
    let cert = std::fs::read(fixture("jks/acme.crt")).unwrap();
    let config =
        certmint::emulator::Config::simple(&cert, "TLS_APP", &["tls@example.com".to_string()])
            .unwrap();
    let tls_key = certmint::key::load(
        &std::fs::read(fixture("keys/other.pkcs8.pem")).unwrap(),
        None,
    )
    .unwrap()
    .0;
    let tls_cert =
        certmint::x509::parse(&std::fs::read(dir.path().join("tls.crt")).unwrap()).unwrap();
    let tls = certmint::emulator::TlsIdentity {
        cert_chain: vec![tls_cert.der],
        key_pkcs8: tls_key.pkcs8_der().clone(),
    };
    let opts = certmint::emulator::ServerOptions {
        tls: Some(tls),
        ..Default::default()
    };
    let emu = certmint::emulator::start(config, opts).unwrap();
    certmint()
        .args([
            "mint",
            "--key",
            &fx("jks/acme.key"),
            "--client-id",
            "TLS_APP",
            "-u",
            "tls@example.com",
            "--login-url",
            emu.base_url(),
            "--ca-file",
            &out(&dir, "tls.crt"),
        ])
        .assert()
        .success();
    emu.shutdown();
}

#[test]
fn cert_rejects_bad_sans() {
    let dir = tempfile::tempdir().unwrap();
    certmint()
        .args([
            "cert",
            "--key",
            &fx("keys/other.pkcs8.pem"),
            "--cn",
            "x",
            "--san",
            "IP:not-an-ip",
            "--out",
            &out(&dir, "t.crt"),
        ])
        .assert()
        .code(2)
        .stderr(contains("not an IP address"));
    assert!(dir_names(dir.path()).is_empty());
}

/// `p12 --iter` sets every key derivation's iterations, like openssl's -iter/-maciter,
/// within certmint's bounds.
#[test]
fn p12_iteration_count() {
    let dir = tempfile::tempdir().unwrap();
    certmint()
        .args([
            "p12",
            "--cert",
            &fx("certs/base.crt"),
            "--key",
            &fx("keys/base.pkcs8.pem"),
            "--passout",
            "env:P",
            "--iter",
            "2048",
            "--out",
            &out(&dir, "a.p12"),
        ])
        .env("P", "iter-pass")
        .assert()
        .success();
    // openssl prints the algorithm lines on stderr.
    let o = openssl()
        .args([
            "pkcs12",
            "-in",
            &out(&dir, "a.p12"),
            "-passin",
            "pass:iter-pass",
            "-info",
            "-nokeys",
        ])
        .output()
        .unwrap();
    assert!(o.status.success());
    let (stdout, stderr) = texts(&o);
    let info = format!("{stdout}{stderr}");
    assert!(info.contains("MAC: sha256, Iteration 2048"), "{info}");
    assert!(info.contains("AES-256-CBC, Iteration 2048"), "{info}");
    certmint()
        .args([
            "p12",
            "--cert",
            &fx("certs/base.crt"),
            "--key",
            &fx("keys/base.pkcs8.pem"),
            "--passout",
            "env:P",
            "--iter",
            "100",
            "--out",
            &out(&dir, "b.p12"),
        ])
        .env("P", "iter-pass")
        .assert()
        .code(2)
        .stderr(contains("2048 to 1000000"));
    assert!(!dir.path().join("b.p12").exists());
}
