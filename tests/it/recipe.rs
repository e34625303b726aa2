//! The openssl half of the seed recipe, natively, proven against OpenSSL 3 in both
//! directions: OpenSSL reads everything certmint writes, certmint reads everything
//! OpenSSL writes (fixtures/gen.sh).

use crate::support::*;
use predicates::str::contains;

#[test]
fn openssl_is_available() {
    // The interop suite is meaningless without OpenSSL 3; fail loudly rather than skip.
    let v = openssl_ok(&["version"]);
    assert!(v.starts_with("OpenSSL 3"), "need OpenSSL 3, found {v}");
}

/// The whole recipe with a fresh key (key generation is what this test is about), each
/// output checked by OpenSSL.
#[test]
fn recipe_outputs_are_read_by_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pw = "recipe-pass-1";
    let path = |n: &str| d.join(n);
    let s = |n: &str| d.join(n).to_str().unwrap().to_owned();

    certmint()
        .args(["key", "--out", &s("server.pass.key"), "--passout", "env:KP"])
        .env("KP", pw)
        .assert()
        .success()
        .stderr(contains("server.pass.key"));
    let pem = std::fs::read_to_string(path("server.pass.key")).unwrap();
    assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
    let check = openssl_ok(&[
        "pkey",
        "-in",
        &s("server.pass.key"),
        "-passin",
        &format!("pass:{pw}"),
        "-check",
        "-noout",
    ]);
    assert!(check.contains("Key is valid"), "{check}");
    // PBES2, PBKDF2 with hmacWithSHA256 and at least 600,000 iterations, AES-256-CBC.
    let asn1 = openssl_ok(&["asn1parse", "-in", &s("server.pass.key")]);
    assert!(asn1.contains(":PBES2"), "{asn1}");
    assert!(asn1.contains(":PBKDF2"), "{asn1}");
    assert!(asn1.contains(":hmacWithSHA256"), "{asn1}");
    assert!(asn1.contains(":aes-256-cbc"), "{asn1}");
    assert!(
        asn1.contains("INTEGER           :0927C0"),
        "600000 iterations: {asn1}"
    );

    certmint()
        .args([
            "decrypt",
            &s("server.pass.key"),
            "--out",
            &s("server.key"),
            "--passin",
            "env:KP",
        ])
        .env("KP", pw)
        .assert()
        .success();
    assert!(
        std::fs::read_to_string(path("server.key"))
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----\n")
    );
    let check = openssl_ok(&["pkey", "-in", &s("server.key"), "-check", "-noout"]);
    assert!(check.contains("Key is valid"));

    certmint()
        .args([
            "decrypt",
            &s("server.pass.key"),
            "--out",
            &s("server.rsa.key"),
            "--pkcs1",
            "--passin",
            "env:KP",
        ])
        .env("KP", pw)
        .assert()
        .success();
    assert!(
        std::fs::read_to_string(path("server.rsa.key"))
            .unwrap()
            .starts_with("-----BEGIN RSA PRIVATE KEY-----\n")
    );
    assert!(
        openssl_ok(&["rsa", "-in", &s("server.rsa.key"), "-check", "-noout"])
            .contains("RSA key ok")
    );

    let subj = "/C=US/ST=California/L=San Francisco/O=Acme\\/Widgets/OU=Integration/CN=acme-jwt/emailAddress=ops@acme.example";
    certmint()
        .args([
            "csr",
            "--key",
            &s("server.key"),
            "--out",
            &s("server.csr"),
            "--subj",
            subj,
        ])
        .assert()
        .success();
    let out = openssl()
        .args([
            "req",
            "-in",
            &s("server.csr"),
            "-verify",
            "-noout",
            "-subject",
            "-nameopt",
            "RFC2253",
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success());
    assert!(
        stderr.contains("verify OK") || stdout.contains("verify OK"),
        "{stdout}{stderr}"
    );
    assert!(
        stdout.contains("subject=emailAddress=ops@acme.example,CN=acme-jwt,OU=Integration,O=Acme/Widgets,L=San Francisco,ST=California,C=US"),
        "{stdout}"
    );

    certmint()
        .args([
            "cert",
            "--csr",
            &s("server.csr"),
            "--key",
            &s("server.key"),
            "--out",
            &s("server.crt"),
        ])
        .assert()
        .success();
    let text = openssl_ok(&["x509", "-in", &s("server.crt"), "-noout", "-text"]);
    assert!(text.contains("Version: 3 (0x2)"), "{text}");
    assert!(
        text.contains("Signature Algorithm: sha256WithRSAEncryption"),
        "{text}"
    );
    assert!(text.contains("Public-Key: (2048 bit)"), "{text}");
    assert!(text.contains("CA:FALSE"), "{text}");
    let subject = openssl_ok(&[
        "x509",
        "-in",
        &s("server.crt"),
        "-noout",
        "-subject",
        "-issuer",
        "-nameopt",
        "RFC2253",
    ]);
    let expect = "emailAddress=ops@acme.example,CN=acme-jwt,OU=Integration,O=Acme/Widgets,L=San Francisco,ST=California,C=US";
    assert!(subject.contains(&format!("subject={expect}")), "{subject}");
    assert!(subject.contains(&format!("issuer={expect}")), "{subject}");
    // A random positive serial of at least 64 bits.
    let serial = openssl_ok(&["x509", "-in", &s("server.crt"), "-noout", "-serial"]);
    let hex = serial.trim().trim_start_matches("serial=");
    assert!(hex.len() >= 16, "serial {hex} shorter than 64 bits");
    // Valid from now for 365 days.
    let start = openssl_ok(&["x509", "-in", &s("server.crt"), "-noout", "-checkend", "0"]);
    assert!(start.contains("will not expire"));
    assert!(
        openssl()
            .args([
                "x509",
                "-in",
                &s("server.crt"),
                "-noout",
                "-checkend",
                &(364 * 86400).to_string()
            ])
            .output()
            .unwrap()
            .status
            .success()
    );
    assert!(
        !openssl()
            .args([
                "x509",
                "-in",
                &s("server.crt"),
                "-noout",
                "-checkend",
                &(366 * 86400).to_string()
            ])
            .output()
            .unwrap()
            .status
            .success()
    );
    let verify = openssl_ok(&["verify", "-CAfile", &s("server.crt"), &s("server.crt")]);
    assert!(verify.contains(": OK"), "{verify}");

    // One public key across the encrypted key, the plain key, the CSR and the certificate.
    let k = openssl_pubkey(&path("server.pass.key"), "key", Some(pw));
    assert_eq!(k, openssl_pubkey(&path("server.key"), "key", None));
    assert_eq!(k, openssl_pubkey(&path("server.rsa.key"), "key", None));
    assert_eq!(k, openssl_pubkey(&path("server.csr"), "csr", None));
    assert_eq!(k, openssl_pubkey(&path("server.crt"), "cert", None));

    // The seed's "save it with a .pem extension" step, and DER for other tools.
    certmint()
        .args([
            "convert",
            &s("server.crt"),
            "--to",
            "pem",
            "--out",
            &s("server.pem"),
        ])
        .assert()
        .success();
    assert_eq!(
        std::fs::read(path("server.pem")).unwrap(),
        std::fs::read(path("server.crt")).unwrap()
    );
    certmint()
        .args([
            "convert",
            &s("server.crt"),
            "--to",
            "der",
            "--out",
            &s("server.cer"),
        ])
        .assert()
        .success();
    let der_text = openssl_ok(&[
        "x509",
        "-inform",
        "DER",
        "-in",
        &s("server.cer"),
        "-noout",
        "-fingerprint",
        "-sha256",
    ]);
    let pem_text = openssl_ok(&[
        "x509",
        "-in",
        &s("server.crt"),
        "-noout",
        "-fingerprint",
        "-sha256",
    ]);
    assert_eq!(der_text, pem_text);

    // Modes: keys 0600, public material 0644; nothing else left in the directory.
    assert_eq!(mode(&path("server.pass.key")), 0o600);
    assert_eq!(mode(&path("server.key")), 0o600);
    assert_eq!(mode(&path("server.csr")), 0o644);
    assert_eq!(mode(&path("server.crt")), 0o644);
    assert_eq!(
        dir_names(d),
        [
            "server.cer",
            "server.crt",
            "server.csr",
            "server.key",
            "server.pass.key",
            "server.pem",
            "server.rsa.key"
        ]
    );
}

#[test]
fn scrypt_and_4096_and_unencrypted_keys() {
    let dir = tempfile::tempdir().unwrap();
    let k = dir.path().join("s.key");
    certmint()
        .args([
            "key",
            "--out",
            k.to_str().unwrap(),
            "--kdf",
            "scrypt",
            "--passout",
            "pass:scrypt-pw",
        ])
        .assert()
        .success()
        .stderr(contains("visible").or(contains("other users")));
    let asn1 = openssl_ok(&["asn1parse", "-in", k.to_str().unwrap()]);
    assert!(asn1.contains(":scrypt"), "{asn1}");
    assert!(
        openssl_ok(&[
            "pkey",
            "-in",
            k.to_str().unwrap(),
            "-passin",
            "pass:scrypt-pw",
            "-check",
            "-noout"
        ])
        .contains("Key is valid")
    );

    let p = dir.path().join("plain.key");
    certmint()
        .args([
            "key",
            "--out",
            p.to_str().unwrap(),
            "--unencrypted",
            "--bits",
            "3072",
        ])
        .assert()
        .success();
    assert!(
        openssl_ok(&["pkey", "-in", p.to_str().unwrap(), "-text", "-noout"]).contains("3072 bit")
    );
}

use predicates::prelude::PredicateBooleanExt;

/// Certificates from CSRs and keys OpenSSL made, DER in and out, and the
/// certificate-without-CSR path.
#[test]
fn certificates_from_openssl_csrs_and_subjects() {
    let dir = tempfile::tempdir().unwrap();
    let out = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
    // OpenSSL's CSR (DER), signed with a legacy-encrypted copy of its key.
    certmint()
        .args([
            "cert",
            "--csr",
            fixture("certs/base.csr.der").to_str().unwrap(),
            "--key",
            fixture("keys/legacy-des3.pem").to_str().unwrap(),
            "--passin",
            "env:P",
            "--days",
            "30",
            "--to",
            "der",
            "--out",
            &out("a.der"),
        ])
        .env("P", FIXTURE_PW)
        .assert()
        .success();
    let subj = openssl_ok(&[
        "x509",
        "-inform",
        "DER",
        "-in",
        &out("a.der"),
        "-noout",
        "-subject",
        "-nameopt",
        "RFC2253",
    ]);
    let csr_subj = openssl_ok(&[
        "req",
        "-in",
        fixture("certs/base.csr").to_str().unwrap(),
        "-noout",
        "-subject",
        "-nameopt",
        "RFC2253",
    ]);
    assert_eq!(subj, csr_subj);
    assert!(
        !openssl()
            .args([
                "x509",
                "-inform",
                "DER",
                "-in",
                &out("a.der"),
                "-noout",
                "-checkend",
                &(31 * 86400).to_string()
            ])
            .output()
            .unwrap()
            .status
            .success()
    );

    // A UTF-8 subject survives byte for byte.
    certmint()
        .args([
            "cert",
            "--csr",
            fixture("certs/utf8.csr").to_str().unwrap(),
            "--key",
            fixture("keys/base.pkcs1.der").to_str().unwrap(),
            "--out",
            &out("u.crt"),
        ])
        .assert()
        .success();
    let a = openssl_ok(&[
        "x509",
        "-in",
        &out("u.crt"),
        "-noout",
        "-subject",
        "-nameopt",
        "RFC2253,-esc_msb,utf8",
    ]);
    let b = openssl_ok(&[
        "req",
        "-in",
        fixture("certs/utf8.csr").to_str().unwrap(),
        "-noout",
        "-subject",
        "-nameopt",
        "RFC2253,-esc_msb,utf8",
    ]);
    assert_eq!(a, b);
    assert!(a.contains("Zürich AG"), "{a}");

    // Straight from a key and a subject, no CSR file; DER CSR output.
    certmint()
        .args([
            "cert",
            "--key",
            fixture("keys/base.pkcs8.pem").to_str().unwrap(),
            "--cn",
            "direct",
            "--org",
            "Acme",
            "--country",
            "de",
            "--out",
            &out("d.crt"),
        ])
        .assert()
        .success();
    let s = openssl_ok(&[
        "x509",
        "-in",
        &out("d.crt"),
        "-noout",
        "-subject",
        "-nameopt",
        "RFC2253",
    ]);
    assert!(s.contains("subject=CN=direct,O=Acme,C=DE"), "{s}");
    certmint()
        .args([
            "csr",
            "--key",
            fixture("keys/enc-scrypt.pem").to_str().unwrap(),
            "--passin",
            "env:P",
            "--cn",
            "x",
            "--to",
            "der",
            "--out",
            &out("x.csr.der"),
        ])
        .env("P", FIXTURE_PW)
        .assert()
        .success();
    let v = openssl()
        .args([
            "req",
            "-inform",
            "DER",
            "-in",
            &out("x.csr.der"),
            "-verify",
            "-noout",
        ])
        .output()
        .unwrap();
    assert!(v.status.success(), "{:?}", texts(&v));
}

cases!(
    /// Every key encoding OpenSSL writes decodes to the same key.
    reads_every_openssl_key_fixture {
        base_pkcs1_pem => decrypts_to_the_base_key("keys/base.pkcs1.pem", None),
        base_pkcs1_der => decrypts_to_the_base_key("keys/base.pkcs1.der", None),
        base_pkcs8_pem => decrypts_to_the_base_key("keys/base.pkcs8.pem", None),
        base_pkcs8_der => decrypts_to_the_base_key("keys/base.pkcs8.der", None),
        enc_aes256_pem => decrypts_to_the_base_key("keys/enc-aes256.pem", Some(FIXTURE_PW)),
        enc_aes128_pem => decrypts_to_the_base_key("keys/enc-aes128.pem", Some(FIXTURE_PW)),
        enc_des3_pem => decrypts_to_the_base_key("keys/enc-des3.pem", Some(FIXTURE_PW)),
        enc_scrypt_pem => decrypts_to_the_base_key("keys/enc-scrypt.pem", Some(FIXTURE_PW)),
        enc_sha1prf_pem => decrypts_to_the_base_key("keys/enc-sha1prf.pem", Some(FIXTURE_PW)),
        enc_aes256_der => decrypts_to_the_base_key("keys/enc-aes256.der", Some(FIXTURE_PW)),
        enc_aes256_unicode_pem => decrypts_to_the_base_key("keys/enc-aes256-unicode.pem", Some("pässwört€")),
        legacy_des3_pem => decrypts_to_the_base_key("keys/legacy-des3.pem", Some(FIXTURE_PW)),
        legacy_aes128_pem => decrypts_to_the_base_key("keys/legacy-aes128.pem", Some(FIXTURE_PW)),
        legacy_aes192_pem => decrypts_to_the_base_key("keys/legacy-aes192.pem", Some(FIXTURE_PW)),
        legacy_aes256_pem => decrypts_to_the_base_key("keys/legacy-aes256.pem", Some(FIXTURE_PW)),
    }
);

cases!(
    /// Keys encrypted as older tools did (`openssl pkcs8 -topk8 -v1 ...`, older Java),
    /// from fixtures/gen.sh's `old-encryption` section, decode to the base key (issue 12,
    /// item 31): the PKCS#12 PBE, PBES1 and PBES2 with single DES.
    reads_old_encrypted_pkcs8 {
        pbe_sha1_3des => decrypts_to_the_base_key("keys/enc-pbe-sha1-3des.pem", Some(FIXTURE_PW)),
        pbe_sha1_3des_der => decrypts_to_the_base_key("keys/enc-pbe-sha1-3des.der", Some(FIXTURE_PW)),
        pbe_sha1_3des_unicode => decrypts_to_the_base_key("keys/enc-pbe-sha1-3des-unicode.pem", Some("pässwört€")),
        pbe_sha1_2des => decrypts_to_the_base_key("keys/enc-pbe-sha1-2des.pem", Some(FIXTURE_PW)),
        pbe_sha1_rc2_40 => decrypts_to_the_base_key("keys/enc-pbe-sha1-rc2-40.pem", Some(FIXTURE_PW)),
        pbe_sha1_rc2_128 => decrypts_to_the_base_key("keys/enc-pbe-sha1-rc2-128.pem", Some(FIXTURE_PW)),
        pbe_md5_des => decrypts_to_the_base_key("keys/enc-pbe-md5-des.pem", Some(FIXTURE_PW)),
        pbe_md5_des_unicode => decrypts_to_the_base_key("keys/enc-pbe-md5-des-unicode.pem", Some("pässwört€")),
        pbe_sha1_des => decrypts_to_the_base_key("keys/enc-pbe-sha1-des.pem", Some(FIXTURE_PW)),
        pbe_md5_rc2_64 => decrypts_to_the_base_key("keys/enc-pbe-md5-rc2-64.pem", Some(FIXTURE_PW)),
        pbe_sha1_rc2_64 => decrypts_to_the_base_key("keys/enc-pbe-sha1-rc2-64.pem", Some(FIXTURE_PW)),
        pbes2_des_cbc => decrypts_to_the_base_key("keys/enc-pbes2-des.pem", Some(FIXTURE_PW)),
    }
);

cases!(
    /// A wrong password for each old scheme is "wrong password", not garbage or
    /// "unsupported".
    old_encrypted_pkcs8_wrong_password {
        pbe_sha1_3des => wrong_password_is_named("keys/enc-pbe-sha1-3des.pem"),
        pbe_sha1_rc2_40 => wrong_password_is_named("keys/enc-pbe-sha1-rc2-40.pem"),
        pbe_md5_des => wrong_password_is_named("keys/enc-pbe-md5-des.pem"),
        pbe_sha1_rc2_64 => wrong_password_is_named("keys/enc-pbe-sha1-rc2-64.pem"),
        pbes2_des_cbc => wrong_password_is_named("keys/enc-pbes2-des.pem"),
    }
);

fn wrong_password_is_named(f: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.pem");
    let o = certmint()
        .args([
            "decrypt",
            fixture(f).to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .args(["--passin", "env:P"])
        .env("P", "not the password")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{f}");
    assert!(
        stderr(&o).contains("wrong password for the private key"),
        "{f}: {}",
        stderr(&o)
    );
    assert!(!out.exists());
}

/// `inspect` names the old scheme a key uses; RC4 (which certmint does not implement)
/// stays refused by name. (certmint writes keys only with PBES2 and AES-256-CBC: the old
/// schemes have no writer.)
#[test]
fn old_encryption_is_named_and_rc4_still_refused() {
    let o = certmint()
        .args([
            "inspect",
            fixture("keys/enc-pbe-md5-des.pem").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(
        texts(&o).0.contains(
            "encrypted PKCS#8 private key, PBES1 (pbeWithMD5AndDES-CBC, 2048 iterations) (PEM)"
        ),
        "{}",
        texts(&o).0
    );
    // RC4 stays refused, by name.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never-written.pem");
    let o = certmint()
        .args([
            "decrypt",
            fixture("keys/enc-pbe-sha1-rc4.pem").to_str().unwrap(),
        ])
        .args(["--out", out.to_str().unwrap(), "--passin", "env:P"])
        .env("P", FIXTURE_PW)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unsupported key encryption: pbeWithSHAAnd128BitRC4"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
}

fn decrypts_to_the_base_key(f: &str, pw: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let expected = std::fs::read_to_string(fixture("keys/base.pub.pem")).unwrap();
    {
        let out = dir.path().join("out.pem");
        let mut cmd = certmint();
        cmd.args([
            "decrypt",
            fixture(f).to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        if let Some(pw) = pw {
            cmd.args(["--passin", "env:P"]).env("P", pw);
        }
        cmd.assert().success();
        assert_eq!(openssl_pubkey(&out, "key", None), expected, "{f}");
    }
}

cases!(
    /// Fresh `genrsa` output, both the PKCS#8 and the traditional form.
    reads_fresh_genrsa_output {
        pkcs8 => decrypts_genrsa_output("keys/genrsa-des3.pem"),
        traditional => decrypts_genrsa_output("keys/genrsa-traditional-des3.pem"),
    }
);

fn decrypts_genrsa_output(f: &str) {
    let dir = tempfile::tempdir().unwrap();
    {
        let out = dir.path().join("g.pem");
        certmint()
            .args([
                "decrypt",
                fixture(f).to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--passin",
                "env:P",
                "--force",
            ])
            .env("P", FIXTURE_PW)
            .assert()
            .success();
        assert_eq!(
            openssl_pubkey(&out, "key", None),
            openssl_pubkey(&fixture(f), "key", Some(FIXTURE_PW)),
            "{f}"
        );
    }
}

/// Password sources: env:, file: (first line), fd:, stdin, and OpenSSL's `pass:` with a
/// warning.
#[test]
fn password_sources() {
    let dir = tempfile::tempdir().unwrap();
    let key = fixture("keys/enc-aes256.pem");
    let k = key.to_str().unwrap();
    let out = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
    let pwfile = dir.path().join("pw.txt");
    std::fs::write(&pwfile, format!("{FIXTURE_PW}\nsecond-line\n")).unwrap();

    certmint()
        .args([
            "decrypt",
            k,
            "--out",
            &out("a"),
            "--passin",
            &format!("file:{}", pwfile.display()),
        ])
        .assert()
        .success();
    certmint()
        .args(["decrypt", k, "--out", &out("b"), "--passin", "stdin"])
        .write_stdin(format!("{FIXTURE_PW}\n"))
        .assert()
        .success();
    let fd = std::process::Command::new("sh")
        .arg("-c")
        .arg("exec \"$0\" decrypt \"$1\" --out \"$2\" --passin fd:3 3<\"$3\"")
        .args([certmint_path(), k, &out("c"), pwfile.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(fd.status.success(), "{:?}", texts(&fd));
    let pass = certmint()
        .args([
            "decrypt",
            k,
            "--out",
            &out("d"),
            "--passin",
            &format!("pass:{FIXTURE_PW}"),
        ])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&pass.get_output().stderr).into_owned();
    assert!(
        stderr.contains("warning:") && stderr.contains("other users"),
        "{stderr}"
    );
    assert!(!stderr.contains(FIXTURE_PW));
    // An unset variable is named.
    certmint()
        .args([
            "decrypt",
            k,
            "--out",
            &out("e"),
            "--passin",
            "env:CERTMINT_TEST_UNSET",
        ])
        .env_remove("CERTMINT_TEST_UNSET")
        .assert()
        .code(2)
        .stderr(contains("CERTMINT_TEST_UNSET"));
}

/// Keys 0600 and public files 0644 even under a permissive umask.
#[test]
fn modes_ignore_the_umask() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let script = format!(
        "umask 000; \"$0\" decrypt \"$1\" --out {d}/k.pem --passin env:P && \"$0\" cert --key {d}/k.pem --cn m --out {d}/c.crt && \"$0\" key --unencrypted --out {d}/n.key",
        d = d.display()
    );
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .args([
            certmint_path(),
            fixture("keys/enc-aes128.pem").to_str().unwrap(),
        ])
        .env("P", FIXTURE_PW)
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", texts(&out));
    assert_eq!(mode(&d.join("k.pem")), 0o600);
    assert_eq!(mode(&d.join("n.key")), 0o600);
    assert_eq!(mode(&d.join("c.crt")), 0o644);
}

/// `openssl x509 -noout -ext ...` of a certificate, as (extension, critical, value), the
/// value's lines joined with ", ".
fn openssl_extensions(cert: &std::path::Path) -> Vec<(String, bool, String)> {
    let text = openssl_ok(&[
        "x509",
        "-in",
        cert.to_str().unwrap(),
        "-noout",
        "-ext",
        "basicConstraints,keyUsage,extendedKeyUsage,subjectAltName,subjectKeyIdentifier,authorityKeyIdentifier",
    ]);
    let mut out: Vec<(String, bool, String)> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("X509v3 ") {
            let (name, flag) = rest.split_once(':').unwrap();
            out.push((name.to_string(), flag.trim() == "critical", String::new()));
        } else if let Some(last) = out.last_mut() {
            if !last.2.is_empty() {
                last.2.push_str(", ");
            }
            last.2.push_str(line.trim());
        }
    }
    out
}

/// OpenSSL's names for the extended key usages in the fixtures that certmint shows as OIDs.
fn openssl_eku_name(usage: &str) -> &str {
    match usage {
        "1.3.6.1.4.1.311.20.2.2" => "Microsoft Smartcard Login",
        other => other,
    }
}

/// A comma-separated list, with each IP address in one canonical form and OpenSSL's
/// `DirName:/C=US/CN=x` written as certmint writes names (`DirName:C=US, CN=x`).
fn normalized(list: &str) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    for item in list.split(", ") {
        let item = item.trim();
        // certmint's DirName value holds ", " itself: glue the RDNs back on.
        if item.contains('=')
            && !item.contains(':')
            && let Some(last) = items.last_mut()
        {
            last.push_str(", ");
            last.push_str(item);
            continue;
        }
        let item = match item.strip_prefix("IP Address:") {
            Some(ip) => format!("IP Address:{}", ip.parse::<std::net::IpAddr>().unwrap()),
            None => match item.strip_prefix("DirName:/") {
                Some(dn) => format!("DirName:{}", dn.split('/').collect::<Vec<_>>().join(", ")),
                None => item.strip_prefix("keyid:").unwrap_or(item).to_string(),
            },
        };
        items.push(item);
    }
    items
}

/// `inspect` shows the same extensions as `openssl x509 -text` reads in the same file
/// (issue 12, item 28), in text and in JSON.
fn extensions_match_openssl(cert: &std::path::Path) {
    let ours = certmint()
        .args(["inspect", "--json", cert.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(ours.status.success());
    let v: serde_json::Value = serde_json::from_slice(&ours.stdout).unwrap();
    let x = &v["extensions"];
    let text = texts(
        &certmint()
            .args(["inspect", cert.to_str().unwrap()])
            .output()
            .unwrap(),
    )
    .0;
    let theirs = openssl_extensions(cert);
    let join = |a: &serde_json::Value| {
        a.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let mut seen = 0;
    for (name, critical, value) in &theirs {
        let (ours_value, ours_critical, label): (Vec<String>, bool, &str) = match name.as_str() {
            "Basic Constraints" => {
                let b = &x["basic_constraints"];
                let mut s = format!("CA:{}", if b["ca"] == true { "TRUE" } else { "FALSE" });
                if let Some(n) = b["path_len"].as_u64() {
                    s.push_str(&format!(", pathlen:{n}"));
                }
                (normalized(&s), b["critical"] == true, "basic constraints")
            }
            "Key Usage" => (
                join(&x["key_usage"]["usages"]),
                x["key_usage"]["critical"] == true,
                "key usage",
            ),
            "Extended Key Usage" => (
                join(&x["extended_key_usage"]["usages"])
                    .iter()
                    .map(|u| openssl_eku_name(u).to_string())
                    .collect(),
                x["extended_key_usage"]["critical"] == true,
                "extended key usage",
            ),
            "Subject Alternative Name" => (
                normalized(&join(&x["subject_alt_names"]["names"]).join(", ")),
                x["subject_alt_names"]["critical"] == true,
                "subject alt names",
            ),
            "Subject Key Identifier" => (
                vec![x["subject_key_identifier"].as_str().unwrap().to_string()],
                false,
                "subject key id",
            ),
            "Authority Key Identifier" => {
                let a = &x["authority_key_identifier"];
                let mut parts = vec![a["key_id"].as_str().unwrap().to_string()];
                parts.extend(join(&a["issuer"]));
                if let Some(s) = a["serial"].as_str() {
                    parts.push(format!("serial:{s}"));
                }
                (normalized(&parts.join(", ")), false, "authority key id")
            }
            other => panic!("unexpected extension {other}"),
        };
        seen += 1;
        assert_eq!(ours_value, normalized(value), "{}: {name}", cert.display());
        assert_eq!(
            ours_critical,
            *critical,
            "{}: {name} critical",
            cert.display()
        );
        let shown = text
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{label}:")))
            .unwrap_or_else(|| panic!("no `{label}` line in:\n{text}"));
        assert_eq!(
            shown.trim().starts_with("critical, "),
            *critical,
            "{label}: {shown}"
        );
    }
    // Nothing more than openssl saw.
    let ours_count = [
        "basic_constraints",
        "key_usage",
        "extended_key_usage",
        "subject_alt_names",
        "subject_key_identifier",
        "authority_key_identifier",
    ]
    .iter()
    .filter(|k| !x[**k].is_null())
    .count();
    assert_eq!(ours_count, seen, "{}: {x}", cert.display());
    if theirs.is_empty() {
        assert!(text.contains("extensions:         none"), "{text}");
    }
}

cases!(
    /// Extensions as `openssl x509 -text` reads them, on OpenSSL's certificates
    /// (fixtures/gen.sh) and on one certmint makes.
    inspect_shows_the_extensions_openssl_reads {
        every_kind => extensions_match_openssl(&fixture("certs/ext-full.crt")),
        leaf_with_issuer_and_serial => extensions_match_openssl(&fixture("certs/ext-leaf.crt")),
        openssl_req_x509 => extensions_match_openssl(&fixture("certs/base-1day.crt")),
        none_in_x509_v1 => extensions_match_openssl(&fixture("certs/base.crt")),
        certmint_cert_with_sans => {
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("tls.crt");
            certmint()
                .args(["cert", "--key", fixture("keys/base.pkcs8.pem").to_str().unwrap()])
                .args(["--cn", "localhost", "--san", "localhost", "--san", "127.0.0.1", "--san", "::1"])
                .args(["--out", out.to_str().unwrap()])
                .assert()
                .success();
            extensions_match_openssl(&out)
        },
    }
);
