//! Every documented error of the core recipe: exit code 2, a message naming the file, a
//! hint, a distinct cause, and no output file left behind.

use crate::support::*;
use predicates::prelude::*;
use predicates::str::contains;

struct Case {
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
    names: String,
    cause: &'static str,
}

fn assert_error(dir: &std::path::Path, case: Case) {
    let before = dir_names(dir);
    let mut cmd = certmint();
    cmd.args(&case.args);
    for (k, v) in &case.env {
        cmd.env(k, v);
    }
    cmd.assert()
        .code(2)
        .stderr(contains("error:"))
        .stderr(contains(case.names.as_str()))
        .stderr(contains(case.cause))
        .stderr(contains("hint:"));
    assert_eq!(dir_names(dir), before, "{:?} left files behind", case.args);
}

cases!(
    /// Every documented error of the core recipe, one test per case: exit 2, the file
    /// named, the cause, a hint, nothing written.
    documented_errors_exit_2_name_the_file_and_write_nothing {
    wrong_password_pkcs8 => documented_error("wrong_password_pkcs8"),
    wrong_password_legacy_pem => documented_error("wrong_password_legacy_pem"),
    corrupt_base64 => documented_error("corrupt_base64"),
    truncated_der => documented_error("truncated_der"),
    truncated_pem => documented_error("truncated_pem"),
    unsupported_key_encryption => documented_error("unsupported_key_encryption"),
    legacy_encrypted_key_to_der => documented_error("legacy_encrypted_key_to_der"),
    certificate_instead_of_a_key => documented_error("certificate_instead_of_a_key"),
    ec_key_instead_of_rsa => documented_error("ec_key_instead_of_rsa"),
    missing_file => documented_error("missing_file"),
    key_size_1024_for_key => documented_error("key_size_1024_for_key"),
    key_size_1024_for_csr => documented_error("key_size_1024_for_csr"),
    csr_does_not_match_the_key => documented_error("csr_does_not_match_the_key"),
    csr_of_a_1024_bit_key => documented_error("csr_of_a_1024_bit_key"),
    two_letter_country_in_subject => documented_error("two_letter_country_in_subject"),
    zero_days => documented_error("zero_days"),
});

/// Run the documented error case `name` (an arm of the match below).
fn documented_error(name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("out.pem").to_str().unwrap().to_owned();
    let pw = || vec![("P", FIXTURE_PW.to_string())];
    let wrong = || vec![("P", "not-the-password".to_string())];

    // Corrupt and truncated inputs, written into a separate directory.
    let inputs = tempfile::tempdir().unwrap();
    let bad_pem = inputs.path().join("bad.pem");
    std::fs::write(
        &bad_pem,
        "-----BEGIN PRIVATE KEY-----\n!!!not base64!!!\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let truncated = inputs.path().join("truncated.der");
    let der = std::fs::read(fixture("keys/base.pkcs8.der")).unwrap();
    std::fs::write(&truncated, &der[..der.len() / 2]).unwrap();
    let trunc_pem = inputs.path().join("truncated.pem");
    let pem = std::fs::read_to_string(fixture("keys/base.pkcs8.pem")).unwrap();
    std::fs::write(&trunc_pem, &pem[..pem.len() / 2]).unwrap();

    let case = match name {
        "wrong_password_pkcs8" => Case {
            args: vec![
                "decrypt".into(),
                fx("keys/enc-aes256.pem"),
                "--out".into(),
                out.clone(),
                "--passin".into(),
                "env:P".into(),
            ],
            env: wrong(),
            names: "enc-aes256.pem".into(),
            cause: "wrong password",
        },
        "wrong_password_legacy_pem" => Case {
            args: vec![
                "decrypt".into(),
                fx("keys/legacy-des3.pem"),
                "--out".into(),
                out.clone(),
                "--passin".into(),
                "env:P".into(),
            ],
            env: wrong(),
            names: "legacy-des3.pem".into(),
            cause: "wrong password",
        },
        "corrupt_base64" => Case {
            args: vec![
                "decrypt".into(),
                bad_pem.to_str().unwrap().into(),
                "--out".into(),
                out.clone(),
            ],
            env: vec![],
            names: "bad.pem".into(),
            cause: "corrupt or truncated",
        },
        "truncated_der" => Case {
            args: vec![
                "decrypt".into(),
                truncated.to_str().unwrap().into(),
                "--out".into(),
                out.clone(),
            ],
            env: vec![],
            names: "truncated.der".into(),
            cause: "corrupt or truncated",
        },
        "truncated_pem" => Case {
            args: vec![
                "decrypt".into(),
                trunc_pem.to_str().unwrap().into(),
                "--out".into(),
                out.clone(),
            ],
            env: vec![],
            names: "truncated.pem".into(),
            cause: "corrupt or truncated",
        },
        // The hint follows the cause (it once said "convert the file with openssl").
        "legacy_encrypted_key_to_der" => Case {
            args: vec![
                "convert".into(),
                fx("keys/legacy-des3.pem"),
                "--to".into(),
                "der".into(),
                "--out".into(),
                out.clone(),
            ],
            env: vec![],
            names: "legacy-des3.pem".into(),
            cause: "hint: decrypt it first (`certmint decrypt FILE",
        },
        "unsupported_key_encryption" => Case {
            args: vec![
                "decrypt".into(),
                fx("keys/enc-pbe-sha1-rc4.pem"),
                "--out".into(),
                out.clone(),
                "--passin".into(),
                "env:P".into(),
            ],
            env: pw(),
            names: "enc-pbe-sha1-rc4.pem".into(),
            cause: "unsupported key encryption",
        },
        "certificate_instead_of_a_key" => Case {
            args: vec![
                "decrypt".into(),
                fx("certs/base.crt"),
                "--out".into(),
                out.clone(),
            ],
            env: vec![],
            names: "base.crt".into(),
            cause: "expected a private key, found a certificate",
        },
        "ec_key_instead_of_rsa" => Case {
            args: vec![
                "decrypt".into(),
                fx("keys/ec-p256.pem"),
                "--out".into(),
                out.clone(),
            ],
            env: vec![],
            names: "ec-p256.pem".into(),
            cause: "not an RSA key",
        },
        "missing_file" => Case {
            args: vec![
                "decrypt".into(),
                fx("keys/does-not-exist.pem"),
                "--out".into(),
                out.clone(),
            ],
            env: vec![],
            names: "does-not-exist.pem".into(),
            cause: "No such file",
        },
        "key_size_1024_for_key" => Case {
            args: vec![
                "key".into(),
                "--out".into(),
                out.clone(),
                "--bits".into(),
                "1024".into(),
                "--passout".into(),
                "env:P".into(),
            ],
            env: pw(),
            names: "1024".into(),
            cause: "2048, 3072 or 4096",
        },
        "key_size_1024_for_csr" => Case {
            args: vec![
                "csr".into(),
                "--key".into(),
                fx("keys/rsa1024.pem"),
                "--out".into(),
                out.clone(),
                "--cn".into(),
                "x".into(),
            ],
            env: vec![],
            names: "rsa1024.pem".into(),
            cause: "2048, 3072 or 4096",
        },
        "csr_does_not_match_the_key" => Case {
            args: vec![
                "cert".into(),
                "--csr".into(),
                fx("certs/other.csr"),
                "--key".into(),
                fx("keys/base.pkcs8.pem"),
                "--out".into(),
                out.clone(),
            ],
            env: vec![],
            names: "other.csr".into(),
            cause: "does not match",
        },
        "csr_of_a_1024_bit_key" => Case {
            args: vec![
                "cert".into(),
                "--csr".into(),
                fx("certs/rsa1024.csr"),
                "--key".into(),
                fx("keys/rsa1024.pem"),
                "--out".into(),
                out.clone(),
            ],
            env: vec![],
            names: "rsa1024.csr".into(),
            cause: "2048, 3072 or 4096",
        },
        "two_letter_country_in_subject" => Case {
            args: vec![
                "csr".into(),
                "--key".into(),
                fx("keys/base.pkcs8.pem"),
                "--out".into(),
                out.clone(),
                "--subj".into(),
                "/C=USA/CN=x".into(),
            ],
            env: vec![],
            names: "subject".into(),
            cause: "two-letter",
        },
        "zero_days" => Case {
            args: vec![
                "cert".into(),
                "--key".into(),
                fx("keys/base.pkcs8.pem"),
                "--out".into(),
                out.clone(),
                "--cn".into(),
                "x".into(),
                "--days".into(),
                "0".into(),
            ],
            env: vec![],
            names: "certificate".into(),
            cause: "0 days",
        },
        other => panic!("no documented error case `{other}`"),
    };
    assert_error(d, case);
}

/// A CSR whose signature does not verify (altered after signing) is refused.
#[test]
fn tampered_csr_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut der = std::fs::read(fixture("certs/base.csr.der")).unwrap();
    let last = der.len() - 1;
    der[last] ^= 0x01; // inside the signature BIT STRING
    let csr = dir.path().join("tampered.csr.der");
    std::fs::write(&csr, &der).unwrap();
    let out = dir.path().join("c.crt");
    certmint()
        .args([
            "cert",
            "--csr",
            csr.to_str().unwrap(),
            "--key",
            fixture("keys/base.pkcs8.pem").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .code(2)
        .stderr(contains("tampered.csr.der"))
        .stderr(contains("signature does not verify"));
    assert!(!out.exists());
}

cases!(existing_output_is_never_replaced_without_force {
    decrypt => refuses_to_replace(&["decrypt", &fx("keys/base.pkcs1.pem")]),
    key => refuses_to_replace(&["key", "--unencrypted"]),
    cert => refuses_to_replace(&["cert", "--key", &fx("keys/base.pkcs1.pem"), "--cn", "x"]),
    convert => refuses_to_replace(&["convert", &fx("certs/base.crt"), "--to", "der"]),
});

/// `ARGS --out server.key` over an existing server.key: exit 2, the file named, the
/// advice to use --force, and the file untouched.
fn refuses_to_replace(args: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("server.key");
    std::fs::write(&out, "precious").unwrap();
    certmint()
        .args(args)
        .args(["--out", out.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(contains("server.key"))
        .stderr(contains("already exists"))
        .stderr(contains("--force"));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "precious");
    assert_eq!(dir_names(dir.path()), ["server.key"]);
}

#[test]
fn existing_output_is_replaced_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("server.key");
    std::fs::write(&out, "precious").unwrap();
    certmint()
        .args([
            "decrypt",
            fixture("keys/base.pkcs1.pem").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--force",
        ])
        .assert()
        .success();
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    assert_eq!(dir_names(dir.path()), ["server.key"]);
}

#[test]
fn no_password_source_and_no_terminal_fails_fast() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("k.pem");
    // stdin is not a terminal here: certmint must stop, not wait for input.
    certmint()
        .args(["key", "--out", out.to_str().unwrap()])
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(2)
        .stderr(contains("no password source"))
        .stderr(contains("--passout env:VAR"));
    certmint()
        .args([
            "decrypt",
            fixture("keys/enc-aes256.pem").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(2)
        .stderr(contains("enc-aes256.pem"))
        .stderr(contains("--passin"));
    certmint()
        .args([
            "csr",
            "--key",
            fixture("keys/base.pkcs8.pem").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .code(2)
        .stderr(contains("no subject given"))
        .stderr(contains("--subj"));
    assert!(dir_names(dir.path()).is_empty());
}

#[test]
fn short_new_password_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    certmint()
        .args([
            "key",
            "--out",
            dir.path().join("k").to_str().unwrap(),
            "--passout",
            "env:P",
        ])
        .env("P", "abc")
        .assert()
        .code(2)
        .stderr(contains("at least 4 characters"));
    assert!(dir_names(dir.path()).is_empty());
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    certmint()
        .args(["key"])
        .assert()
        .code(2)
        .stderr(contains("--out"));
    certmint().args(["frobnicate"]).assert().code(2);
    certmint()
        .args(["key", "--out", "x", "--passout", "secret"])
        .assert()
        .code(2)
        .stderr(contains("pass:TEXT"));
    certmint()
        .arg("--help")
        .assert()
        .success()
        .stdout(contains("EXIT CODES"));
    certmint()
        .arg("--version")
        .assert()
        .success()
        .stdout(contains("certmint"));
}

cases!(help_has_examples_and_exit_codes {
    key => help_has_examples_and_exit_codes_for("key"),
    decrypt => help_has_examples_and_exit_codes_for("decrypt"),
    csr => help_has_examples_and_exit_codes_for("csr"),
    cert => help_has_examples_and_exit_codes_for("cert"),
    convert => help_has_examples_and_exit_codes_for("convert"),
});

fn help_has_examples_and_exit_codes_for(sub: &str) {
    certmint()
        .args(["help", sub])
        .assert()
        .success()
        .stdout(contains("EXAMPLES:").and(contains("EXIT CODES:")));
}

/// Issue 12, item 16: a keystore given as `--key` or `--cert` (`mint --key server.jks`,
/// `emulate --cert server.jks`) was reported as the wrong kind of file with a generic
/// hint. Every command taking --key or --cert says it is a keystore and where one goes:
/// `--keystore` where the command takes it (mint, jwt), else `certmint export`.
fn keystore_given_as(args: &[&str], flag: &str, keystore_flag: bool) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let args: Vec<String> = args
        .iter()
        .map(|a| match *a {
            "JKS" => fx("jks/keytool-equal.jks"),
            "P12" => fx("p12/openssl-default.p12"),
            "KEY" => fx("keys/base.pkcs8.pem"),
            "CERT" => fx("certs/base.crt"),
            "OUT" => p(&out).to_owned(),
            other => other.to_owned(),
        })
        .collect();
    let run = certmint()
        .args(&args)
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(2), "{args:?}: {err}");
    let what = if flag == "--key" {
        "private key"
    } else {
        "certificate"
    };
    assert!(
        err.contains(&format!("error: cannot read {what} `")),
        "{args:?}: {err}"
    );
    assert!(err.contains("keystore"), "{args:?}: {err}");
    assert!(err.contains(&format!("not a {what}")), "{args:?}: {err}");
    assert!(!err.contains("damaged"), "{args:?}: {err}");
    let out_flag = if flag == "--key" {
        "--key-out"
    } else {
        "--cert-out"
    };
    assert!(
        err.contains("certmint export ") && err.contains(out_flag),
        "{args:?}: {err}"
    );
    assert_eq!(
        err.contains("pass the keystore with --keystore"),
        keystore_flag,
        "{args:?}: {err}"
    );
    assert!(!out.exists());
}

cases!(a_keystore_given_as_key_or_cert_is_named_a_keystore {
    mint_key_jks => keystore_given_as(&["mint", "--key", "JKS", "--client-id", "c", "-u", "u"], "--key", true),
    mint_key_p12 => keystore_given_as(&["mint", "--key", "P12", "--client-id", "c", "-u", "u"], "--key", true),
    mint_cert_p12 => keystore_given_as(&["mint", "--key", "KEY", "--cert", "P12", "--client-id", "c", "-u", "u"], "--cert", true),
    jwt_key_jks => keystore_given_as(&["jwt", "--key", "JKS", "--client-id", "c", "-u", "u"], "--key", true),
    emulate_cert_jks => keystore_given_as(&["emulate", "--cert", "JKS", "--client-id", "c", "--user", "u"], "--cert", false),
    csr_key_p12 => keystore_given_as(&["csr", "--key", "P12", "--cn", "x", "--out", "OUT"], "--key", false),
    cert_key_jks => keystore_given_as(&["cert", "--key", "JKS", "--cn", "x", "--out", "OUT"], "--key", false),
    p12_cert_jks => keystore_given_as(&["p12", "--cert", "JKS", "--key", "KEY", "--out", "OUT", "--passout", "pass:abcd"], "--cert", false),
    p12_key_jks => keystore_given_as(&["p12", "--cert", "CERT", "--key", "JKS", "--out", "OUT", "--passout", "pass:abcd"], "--key", false),
    jks_key_p12 => keystore_given_as(&["jks", "--cert", "CERT", "--key", "P12", "--out", "OUT", "--passout", "pass:abcd"], "--key", false),
    renew_cert_p12 => keystore_given_as(&["renew", "--cert", "P12", "--key", "KEY", "--out", "OUT"], "--cert", false),
    check_key_jks => keystore_given_as(&["check", "CERT", "--key", "JKS"], "--key", false),
    emulate_tls_cert_p12 => keystore_given_as(&["emulate", "--cert", "CERT", "--client-id", "c", "--user", "u", "--tls-cert", "P12", "--tls-key", "KEY"], "--cert", false),
    emulate_tls_key_jks => keystore_given_as(&["emulate", "--cert", "CERT", "--client-id", "c", "--user", "u", "--tls-cert", "CERT", "--tls-key", "JKS"], "--key", false),
});
