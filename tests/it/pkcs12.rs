//! PKCS#12 both ways: OpenSSL and Java read what `certmint p12` writes in every profile,
//! `certmint export` reads what OpenSSL and keytool write (fixtures/p12, made by
//! fixtures/gen-p12.sh), and every failure is its own message with exit code 2 and no
//! output. openssl, keytool and java are required: a missing tool fails the test.

use std::path::{Path, PathBuf};

use crate::support::*;

const ASCII_PW: &str = "Secr3t-pw";
/// Latin-1, a Euro sign (BMP) and an emoji (a UTF-16 surrogate pair).
const UNICODE_PW: &str = "pässwört€-😀";
/// The password of the `*-unicode.p12` fixtures.
const FIXTURE_UPW: &str = "pässwört€";

fn base_key() -> PathBuf {
    fixture("keys/base.pkcs8.pem")
}

fn base_cert() -> PathBuf {
    fixture("certs/base.crt")
}

/// `certmint p12` with the base key and certificate; returns the keystore path.
fn make_p12(dir: &Path, profile: &str, password: &str) -> PathBuf {
    let out = dir.join(format!("{profile}.p12"));
    certmint()
        .args(["p12", "--cert", p(&base_cert()), "--key", p(&base_key())])
        .args([
            "--out",
            p(&out),
            "--passout",
            "env:P12_PW",
            "--profile",
            profile,
            "--force",
        ])
        .env("P12_PW", password)
        .assert()
        .success();
    assert_eq!(mode(&out), 0o600);
    out
}

/// Run openssl with the password in `P12_PW`; (success, stdout + stderr).
fn openssl_with_pw(args: &[&str], password: &str) -> (bool, String) {
    let out = openssl()
        .args(args)
        .env("P12_PW", password)
        .output()
        .expect("run openssl");
    let (o, e) = texts(&out);
    (out.status.success(), format!("{o}{e}"))
}

/// The SHA-1 of the base certificate as `openssl pkcs12 -info` prints localKeyID.
fn base_cert_sha1_spaced() -> String {
    let fp = openssl_ok(&[
        "x509",
        "-in",
        p(&base_cert()),
        "-noout",
        "-fingerprint",
        "-sha1",
    ]);
    let hex = fp.trim().rsplit('=').next().unwrap();
    hex.replace(':', " ")
}

fn pem_block(text: &str, label: &str) -> String {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text
        .find(&begin)
        .unwrap_or_else(|| panic!("no {label} in:\n{text}"));
    let stop = text[start..].find(&end).unwrap() + start + end.len();
    format!("{}\n", &text[start..stop])
}

cases!(openssl_reads {
    modern_ascii_password => openssl_reads_profile("modern", ASCII_PW),
    modern_non_ascii_password => openssl_reads_profile("modern", UNICODE_PW),
    java8_ascii_password => openssl_reads_profile("java8", ASCII_PW),
    java8_non_ascii_password => openssl_reads_profile("java8", UNICODE_PW),
    legacy_ascii_password => openssl_reads_profile("legacy", ASCII_PW),
    legacy_non_ascii_password => openssl_reads_profile("legacy", UNICODE_PW),
});

/// `openssl pkcs12 -info` reads our `profile` file with password `pw`: the algorithms,
/// the alias and localKeyID on both bags, and the base key.
fn openssl_reads_profile(profile: &str, pw: &str) {
    let dir = tempfile::tempdir().unwrap();
    let key_id = base_cert_sha1_spaced();
    let base_pub = openssl_pubkey(&base_key(), "key", None);
    let (mac, certs, key) = match profile {
        "modern" => (
            "MAC: sha256, Iteration 100000",
            "PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 100000, PRF hmacWithSHA256",
            "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 100000, PRF hmacWithSHA256",
        ),
        "java8" => (
            "MAC: sha1, Iteration 100000",
            "PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 50000",
            "Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 50000",
        ),
        _ => (
            "MAC: sha1, Iteration 100000",
            "PKCS7 Encrypted data: pbeWithSHA1And40BitRC2-CBC, Iteration 50000",
            "Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 50000",
        ),
    };
    let ks = make_p12(dir.path(), profile, pw);
    let mut args = vec![
        "pkcs12",
        "-info",
        "-in",
        p(&ks),
        "-passin",
        "env:P12_PW",
        "-noenc",
    ];
    if profile == "legacy" {
        args.push("-legacy");
    }
    let (ok, text) = openssl_with_pw(&args, pw);
    assert!(ok, "{profile} / {pw}: openssl failed:\n{text}");
    for want in [mac, certs, key] {
        assert!(
            text.contains(want),
            "{profile}: missing `{want}` in:\n{text}"
        );
    }
    assert_eq!(
        text.matches("friendlyName: acme-jwt").count(),
        2,
        "{profile}: the alias must be on the key and the certificate bag:\n{text}"
    );
    assert_eq!(
        text.matches(&format!("localKeyID: {key_id}")).count(),
        2,
        "{profile}: localKeyID must be the certificate's SHA-1 on both bags:\n{text}"
    );
    let key_file = dir.path().join("from-openssl.key");
    std::fs::write(&key_file, pem_block(&text, "PRIVATE KEY")).unwrap();
    assert_eq!(
        openssl_pubkey(&key_file, "key", None),
        base_pub,
        "{profile}"
    );
}

/// Without -legacy, OpenSSL 3 cannot open the legacy profile (RC2-40), as documented.
#[test]
fn openssl_3_needs_its_legacy_flag_for_the_legacy_profile() {
    let dir = tempfile::tempdir().unwrap();
    let ks = make_p12(dir.path(), "legacy", ASCII_PW);
    let (ok, text) = openssl_with_pw(
        &[
            "pkcs12",
            "-info",
            "-in",
            p(&ks),
            "-passin",
            "env:P12_PW",
            "-nokeys",
        ],
        ASCII_PW,
    );
    assert!(!ok && text.contains("RC2-40"), "{text}");
}

fn java_check(files: &[(&Path, &str)], password: &str) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/java/P12Check.java");
    let mut args: Vec<String> = vec![script.to_str().unwrap().into()];
    for (file, alias) in files {
        args.extend([p(file).to_string(), alias.to_string(), "env:P12_PW".into()]);
    }
    let out = java()
        .args(&args)
        .env("P12_PW", password)
        // Java decodes the environment with the locale's charset.
        .env("LC_ALL", "C.UTF-8")
        .output()
        .expect("run java");
    let (stdout, stderr) = texts(&out);
    let lines: Vec<String> = stdout.lines().map(String::from).collect();
    assert_eq!(
        lines.len(),
        files.len(),
        "P12Check output:\n{stdout}\n{stderr}"
    );
    lines
}

cases!(java_reads {
    modern => java_reads_profile("modern"),
    java8 => java_reads_profile("java8"),
    legacy => java_reads_profile("legacy"),
});

/// keytool lists our `profile` file and Java's KeyStore API loads its key and chain.
fn java_reads_profile(profile: &str) {
    let dir = tempfile::tempdir().unwrap();
    let ks = make_p12(dir.path(), profile, ASCII_PW);
    let out = keytool()
        .args(["-list", "-v", "-storetype", "PKCS12", "-keystore", p(&ks)])
        .args(["-storepass:env", "P12_PW"])
        .env("P12_PW", ASCII_PW)
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert!(
        out.status.success(),
        "{profile}: keytool failed:\n{stdout}{stderr}"
    );
    for want in [
        "Keystore type: PKCS12",
        "Alias name: acme-jwt",
        "Entry type: PrivateKeyEntry",
        "Certificate chain length: 1",
        "CN=acme-jwt",
    ] {
        assert!(
            stdout.contains(want),
            "{profile}: missing `{want}` in:\n{stdout}"
        );
    }
    for line in java_check(&[(ks.as_path(), "acme-jwt")], ASCII_PW) {
        assert!(line.starts_with("OK "), "{line}");
        assert!(line.ends_with("key=RSA chain=1"), "{line}");
    }
}

cases!(
    /// Java's handling of non-ASCII PKCS#12 passwords depends on its version (Java 17 refuses
    /// them; Java 25 opens PBES2 files but derives 3DES/RC2 keys from a mangled password), so
    /// the invariant tested is: for every profile, Java treats certmint's file exactly as it
    /// treats OpenSSL's file with the same algorithms and the same password.
    java_treats_non_ascii_passwords_in_our_files_as_in_openssls {
    modern => java_treats_ours_as_openssls("modern"),
    java8 => java_treats_ours_as_openssls("java8"),
    legacy => java_treats_ours_as_openssls("legacy"),
});

fn java_treats_ours_as_openssls(profile: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (key, cert) = (base_key(), base_cert());
    let ours = make_p12(dir.path(), profile, UNICODE_PW);
    let theirs = dir.path().join(format!("openssl-{profile}.p12"));
    let mut args = vec![
        "pkcs12",
        "-export",
        "-inkey",
        p(&key),
        "-in",
        p(&cert),
        "-name",
        "acme-jwt",
        "-passout",
        "env:P12_PW",
        "-out",
        p(&theirs),
    ];
    match profile {
        "java8" => args.extend([
            "-keypbe",
            "PBE-SHA1-3DES",
            "-certpbe",
            "PBE-SHA1-3DES",
            "-macalg",
            "sha1",
        ]),
        "legacy" => args.push("-legacy"),
        _ => {}
    }
    let (ok, text) = openssl_with_pw(&args, UNICODE_PW);
    assert!(ok, "{text}");
    let lines = java_check(
        &[(ours.as_path(), "acme-jwt"), (theirs.as_path(), "acme-jwt")],
        UNICODE_PW,
    );
    let (ours, theirs) = (&lines[0], &lines[1]);
    assert_eq!(
        ours.starts_with("OK "),
        theirs.starts_with("OK "),
        "{profile}: Java treats certmint's file differently from OpenSSL's:\n{ours}\n{theirs}"
    );
}

/// certmint warns when it writes a PKCS#12 file under a non-ASCII password.
#[test]
fn a_non_ascii_pkcs12_password_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let out = certmint()
        .args(["p12", "--cert", p(&base_cert()), "--key", p(&base_key())])
        .args([
            "--out",
            p(&dir.path().join("warned.p12")),
            "--passout",
            "env:P12_PW",
        ])
        .env("P12_PW", UNICODE_PW)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(texts(&out).1.contains("warning: the password is not ASCII"));
}

/// Export a fixture; return (stderr, key path, cert path) after checking the key matches
/// the certificate.
fn export_fixture(
    dir: &Path,
    file: &str,
    password: &str,
    extra: &[&str],
) -> (String, PathBuf, PathBuf) {
    let key = dir.join(format!("{file}.key"));
    let cert = dir.join(format!("{file}.crt"));
    let out = certmint()
        .args(["export", p(&fixture(&format!("p12/{file}")))])
        .args([
            "--passin",
            "env:P12_PW",
            "--key-out",
            p(&key),
            "--cert-out",
            p(&cert),
        ])
        .arg("--force")
        .args(extra)
        .env("P12_PW", password)
        .output()
        .unwrap();
    let (_, stderr) = texts(&out);
    assert!(out.status.success(), "{file}: {stderr}");
    assert_eq!(mode(&key), 0o600, "{file}");
    assert_eq!(mode(&cert), 0o644, "{file}");
    assert_eq!(
        openssl_pubkey(&key, "key", None),
        openssl_pubkey(&cert, "cert", None),
        "{file}: the exported key does not match the exported certificate"
    );
    (stderr, key, cert)
}

fn der_of(path: &Path) -> Vec<u8> {
    certmint::x509::parse(&std::fs::read(path).unwrap())
        .unwrap()
        .der
}

// OpenSSL files hold the base key and certificate.
cases!(reads_what_openssl_writes {
    default => reads_openssl_file("openssl-default.p12", FIXTURE_PW, "acme-jwt"),
    noname => reads_openssl_file("openssl-noname.p12", FIXTURE_PW, "(no name)"),
    legacy => reads_openssl_file("openssl-legacy.p12", FIXTURE_PW, "acme-jwt"),
    legacy_noname => reads_openssl_file("openssl-legacy-noname.p12", FIXTURE_PW, "(no name)"),
    triple_des => reads_openssl_file("openssl-3des.p12", FIXTURE_PW, "acme-jwt"),
    nomac => reads_openssl_file("openssl-nomac.p12", FIXTURE_PW, "acme-jwt"),
    unicode => reads_openssl_file("openssl-unicode.p12", FIXTURE_UPW, "acme-jwt"),
    legacy_unicode => reads_openssl_file("openssl-legacy-unicode.p12", FIXTURE_UPW, "acme-jwt"),
});

fn reads_openssl_file(file: &str, password: &str, alias: &str) {
    let dir = tempfile::tempdir().unwrap();
    let base = der_of(&base_cert());
    let (stderr, key, cert) = export_fixture(dir.path(), file, password, &[]);
    assert!(
        stderr.contains(&format!("entry `{alias}`")),
        "{file}: {stderr}"
    );
    assert_eq!(der_of(&cert), base, "{file}");
    assert_eq!(
        openssl_pubkey(&key, "key", None),
        openssl_pubkey(&base_key(), "key", None),
        "{file}"
    );
}

// keytool makes its own keys.
cases!(reads_what_keytool_writes {
    genkeypair => reads_keytool_file("keytool-genkeypair.p12", FIXTURE_PW, &[]),
    keypass => reads_keytool_file("keytool-keypass.p12", FIXTURE_PW, &[]),
    legacy => reads_keytool_file("keytool-legacy.p12", FIXTURE_PW, &[]),
    from_jks => reads_keytool_file("keytool-from-jks.p12", FIXTURE_PW, &[]),
    two_entries => reads_keytool_file("keytool-two.p12", FIXTURE_PW, &["--alias", "second"]),
    java25_legacy_unicode => reads_keytool_file("keytool25-legacy-unicode.p12", FIXTURE_UPW, &[]),
});

fn reads_keytool_file(file: &str, password: &str, extra: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let (stderr, _, cert) = export_fixture(dir.path(), file, password, extra);
    let info = certmint::x509::parse(&std::fs::read(&cert).unwrap()).unwrap();
    assert!(info.subject.contains("CN="), "{file}: {}", info.subject);
    assert!(stderr.contains("read `"), "{file}: {stderr}");
}

#[test]
fn reads_what_openssl_and_keytool_write() {
    let dir = tempfile::tempdir().unwrap();
    let base = der_of(&base_cert());
    let pw = FIXTURE_PW;
    let (_, _, cert) = export_fixture(dir.path(), "keytool-two.p12", pw, &["--alias", "FIRST"]);
    assert_eq!(
        certmint::x509::parse(&std::fs::read(&cert).unwrap())
            .unwrap()
            .subject,
        "CN=first"
    );
    // The chain: the entry's own certificate, then with --chain its CA.
    let (_, _, cert) = export_fixture(dir.path(), "openssl-chain.p12", pw, &["--chain"]);
    let text = std::fs::read_to_string(&cert).unwrap();
    assert_eq!(text.matches("BEGIN CERTIFICATE").count(), 2);
    let first = pem_block(&text, "CERTIFICATE");
    let first_path = dir.path().join("first.crt");
    std::fs::write(&first_path, first).unwrap();
    let info = certmint::x509::parse(&std::fs::read(&first_path).unwrap()).unwrap();
    assert!(
        info.subject.contains("acme-jwt-chained"),
        "{}",
        info.subject
    );
    // A truststore: the certificate comes out, a key cannot.
    let ca = dir.path().join("ca.crt");
    certmint()
        .args([
            "export",
            p(&fixture("p12/keytool-truststore.p12")),
            "--passin",
            "env:P12_PW",
        ])
        .args(["--cert-out", p(&ca)])
        .env("P12_PW", pw)
        .assert()
        .success();
    assert_eq!(der_of(&ca), base);
    let out = certmint()
        .args([
            "export",
            p(&fixture("p12/keytool-truststore.p12")),
            "--passin",
            "env:P12_PW",
        ])
        .args(["--key-out", p(&dir.path().join("none.key"))])
        .env("P12_PW", pw)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        texts(&out).1.contains("certificate-only entry"),
        "{}",
        texts(&out).1
    );
    // keytool ignored -keypass: the key is under the store password, not the other one.
    let out = certmint()
        .args([
            "export",
            p(&fixture("p12/keytool-keypass.p12")),
            "--passin",
            "pass:other-key-pass",
        ])
        .args(["--key-out", p(&dir.path().join("kp.key"))])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(texts(&out).1.contains("wrong password"));
}

cases!(round_trip_through_the_cli {
    modern_ascii_password => round_trip("modern", ASCII_PW),
    modern_non_ascii_password => round_trip("modern", UNICODE_PW),
    java8_ascii_password => round_trip("java8", ASCII_PW),
    java8_non_ascii_password => round_trip("java8", UNICODE_PW),
    legacy_ascii_password => round_trip("legacy", ASCII_PW),
    legacy_non_ascii_password => round_trip("legacy", UNICODE_PW),
});

/// `p12 --profile PROFILE`, then `export`: the key comes back byte for byte.
fn round_trip(profile: &str, pw: &str) {
    let dir = tempfile::tempdir().unwrap();
    let ks = make_p12(dir.path(), profile, pw);
    let key = dir.path().join(format!("{profile}.key"));
    let cert = dir.path().join(format!("{profile}.crt"));
    let out = certmint()
        .args(["export", p(&ks), "--passin", "env:P12_PW", "--force"])
        .args(["--key-out", p(&key), "--cert-out", p(&cert)])
        .env("P12_PW", pw)
        .output()
        .unwrap();
    assert!(out.status.success(), "{profile}: {}", texts(&out).1);
    assert!(texts(&out).1.contains("entry `acme-jwt`"));
    assert_eq!(der_of(&cert), der_of(&base_cert()), "{profile}");
    assert_eq!(
        std::fs::read_to_string(&key).unwrap(),
        std::fs::read_to_string(base_key()).unwrap(),
        "{profile}: the key must come back byte for byte"
    );
}

#[test]
fn p12_takes_an_encrypted_key_and_refuses_a_mismatched_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("enc.p12");
    certmint()
        .args([
            "p12",
            "--cert",
            p(&base_cert()),
            "--key",
            p(&fixture("keys/enc-aes256.pem")),
        ])
        .args([
            "--passin",
            "env:KEY_PW",
            "--out",
            p(&out),
            "--passout",
            "env:P12_PW",
            "--name",
            "Given",
        ])
        .env("KEY_PW", FIXTURE_PW)
        .env("P12_PW", ASCII_PW)
        .assert()
        .success();
    let (ok, text) = openssl_with_pw(
        &[
            "pkcs12",
            "-info",
            "-in",
            p(&out),
            "-passin",
            "env:P12_PW",
            "-nokeys",
        ],
        ASCII_PW,
    );
    assert!(ok && text.contains("friendlyName: Given"), "{text}");

    let bad = dir.path().join("mismatch.p12");
    let o = certmint()
        .args([
            "p12",
            "--cert",
            p(&base_cert()),
            "--key",
            p(&fixture("keys/other.pkcs8.pem")),
        ])
        .args(["--out", p(&bad), "--passout", "env:P12_PW"])
        .env("P12_PW", ASCII_PW)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(texts(&o).1.contains("does not match"), "{}", texts(&o).1);
    assert!(!bad.exists());
}

/// Flip the last byte of the MAC digest (the OCTET STRING before the salt, before the
/// iteration count at the end of the file).
fn flip_mac(der: &mut [u8]) {
    let n = der.len();
    let int_len = (3..=6)
        .find(|&l| der[n - l] == 0x02 && usize::from(der[n - l + 1]) == l - 2)
        .expect("iteration count at the end");
    let salt_len = (3..=66)
        .find(|&l| der[n - int_len - l] == 0x04 && usize::from(der[n - int_len - l + 1]) == l - 2)
        .expect("MAC salt");
    der[n - int_len - salt_len - 1] ^= 0x01;
}

#[test]
fn each_failure_has_its_own_message_exit_2_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("inputs");
    std::fs::create_dir(&work).unwrap();
    let outdir = dir.path().join("out");
    std::fs::create_dir(&outdir).unwrap();

    let good = make_p12(&work, "modern", ASCII_PW);
    let bytes = std::fs::read(&good).unwrap();
    let mut mac = bytes.clone();
    flip_mac(&mut mac);
    let corrupt_mac = work.join("corrupt-mac.p12");
    std::fs::write(&corrupt_mac, &mac).unwrap();
    let truncated = work.join("truncated.p12");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let jks = work.join("store.jks");
    std::fs::write(&jks, [0xFE, 0xED, 0xFE, 0xED, 0, 0, 0, 2, 0, 0, 0, 0]).unwrap();

    let cases: Vec<(&str, PathBuf, &str, Vec<&str>, &str)> = vec![
        (
            "wrong password",
            good.clone(),
            "not-the-password",
            vec![],
            "wrong password for the PKCS#12 file",
        ),
        (
            "corrupt MAC",
            corrupt_mac,
            ASCII_PW,
            vec![],
            "integrity check (MAC) fails although the password decrypts",
        ),
        (
            "truncated",
            truncated,
            ASCII_PW,
            vec![],
            "the file is truncated",
        ),
        (
            "unknown alias",
            good.clone(),
            ASCII_PW,
            vec!["--alias", "nope"],
            "no entry named `nope` (the keystore has: acme-jwt)",
        ),
        (
            "unsupported",
            fixture("p12/openssl-rc4.p12"),
            FIXTURE_PW,
            vec![],
            "unsupported PKCS#12 encryption: pbeWithSHAAnd128BitRC4",
        ),
        (
            "several entries",
            fixture("p12/keytool-two.p12"),
            FIXTURE_PW,
            vec![],
            "the aliases are: first, second",
        ),
        (
            "truncated JKS given (export reads JKS too)",
            jks,
            ASCII_PW,
            vec![],
            "corrupt or truncated JKS keystore",
        ),
        (
            "PEM given",
            base_cert(),
            ASCII_PW,
            vec![],
            "found PEM text (a certificate)",
        ),
    ];
    let mut causes = Vec::new();
    for (name, input, pw, extra, want) in cases {
        let out = certmint()
            .args(["export", p(&input), "--passin", "env:P12_PW"])
            .args([
                "--key-out",
                p(&outdir.join("k.pem")),
                "--cert-out",
                p(&outdir.join("c.pem")),
            ])
            .args(&extra)
            .env("P12_PW", pw)
            .output()
            .unwrap();
        let (_, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains(want),
            "{name}: expected `{want}` in:\n{stderr}"
        );
        if name != "wrong password" {
            assert!(!stderr.contains("wrong password"), "{name}: {stderr}");
        }
        assert!(
            dir_names(&outdir).is_empty(),
            "{name}: left {:?}",
            dir_names(&outdir)
        );
        let cause = stderr
            .lines()
            .find(|l| l.trim_start().starts_with("cause:"))
            .unwrap_or("")
            .to_string();
        causes.push(cause);
    }
    let mut unique = causes.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        causes.len(),
        "messages must differ: {causes:#?}"
    );
}

#[test]
fn help_names_every_profile_and_its_readers() {
    let out = certmint().args(["p12", "--help"]).output().unwrap();
    let help = texts(&out).0;
    for want in [
        "modern",
        "java8",
        "legacy",
        "Java 8u301+",
        "-legacy",
        "EXAMPLES:",
        "EXIT CODES:",
    ] {
        assert!(help.contains(want), "missing `{want}`:\n{help}");
    }
    let out = certmint().args(["export", "--help"]).output().unwrap();
    let help = texts(&out).0;
    for want in [
        "--keypass",
        "--alias",
        "--key-out",
        "--cert-out",
        "EXIT CODES:",
    ] {
        assert!(help.contains(want), "missing `{want}`:\n{help}");
    }
}

#[test]
fn p12_keystore_crate_output_is_read() {
    // p12-keystore names the certificate bag after the subject DN, not the alias: the entry
    // still comes out under the key bag's name.
    use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
    let key = certmint::key::load(&std::fs::read(base_key()).unwrap(), None)
        .unwrap()
        .0;
    let cert = der_of(&base_cert());
    let chain = PrivateKeyChain::new(
        vec![1u8, 2, 3],
        PrivateKey::from_der(key.pkcs8_der().expose()).unwrap(),
        [Certificate::from_der(&cert).unwrap()],
    );
    let mut store = KeyStore::new();
    store.add_entry("from-crate", KeyStoreEntry::PrivateKeyChain(chain));
    let der = store.writer(ASCII_PW).write().unwrap();
    let contents = certmint::pkcs12::read(&der, &certmint::Password::from(ASCII_PW)).unwrap();
    let entry = contents.key_entry(Some("from-crate")).unwrap();
    assert_eq!(entry.chain, vec![cert]);
    assert_eq!(
        contents.structure.profile(),
        Some(certmint::pkcs12::Profile::Modern)
    );
}

/// The installed Java's major version (`openjdk version "17.0.15"` gives 17).
fn java_major() -> u32 {
    let out = java().arg("-version").output().expect("run java -version");
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    let version = text
        .split('"')
        .nth(1)
        .unwrap_or_else(|| panic!("no version in {text}"));
    let first = version.split('.').next().unwrap();
    // Java 8 calls itself 1.8.
    let major = if first == "1" {
        version.split('.').nth(1).unwrap()
    } else {
        first
    };
    major
        .parse()
        .unwrap_or_else(|_| panic!("version {version}"))
}

cases!(
    /// Issue 12, item 20: under a non-ASCII password `p12` warned that Java 17 refuses the
    /// file while "readable by" listed Java 17+. The list accounts for the password, and
    /// the installed Java agrees with it: it opens the file exactly when the list says a
    /// Java of its version does.
    readable_by_accounts_for_the_password {
    modern_ascii => readable_by_agrees_with_java("modern", "ascii-pass"),
    modern_non_ascii => readable_by_agrees_with_java("modern", UNICODE_PW),
    java8_non_ascii => readable_by_agrees_with_java("java8", UNICODE_PW),
    legacy_non_ascii => readable_by_agrees_with_java("legacy", UNICODE_PW),
});

fn readable_by_agrees_with_java(profile: &str, password: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f.p12");
    let out = certmint()
        .args(["p12", "--cert", p(&base_cert()), "--key", p(&base_key())])
        .args([
            "--out",
            p(&file),
            "--passout",
            "env:P12_PW",
            "--profile",
            profile,
        ])
        .env("P12_PW", password)
        .output()
        .unwrap();
    let err = texts(&out).1;
    assert!(out.status.success(), "{err}");
    let readable = err
        .lines()
        .find_map(|l| l.strip_prefix("readable by: "))
        .unwrap_or_else(|| panic!("{err}"));
    let ascii = password.is_ascii();
    assert_eq!(
        err.contains("warning: the password is not ASCII"),
        !ascii,
        "{err}"
    );
    let major = java_major();
    // What the line claims for the installed Java.
    let claimed = if ascii {
        assert!(readable.contains("17+"), "{readable}");
        true
    } else {
        assert!(
            !readable.contains("17+") && !readable.contains("every Java"),
            "{readable}"
        );
        assert!(readable.contains("the password is not ASCII"), "{readable}");
        match profile {
            "modern" => {
                assert!(readable.contains("Java 25 and later"), "{readable}");
                major >= 25
            }
            _ => {
                assert!(readable.contains("no Java release"), "{readable}");
                false
            }
        }
    };
    let line = &java_check(&[(file.as_path(), "acme-jwt")], password)[0];
    assert_eq!(
        line.starts_with("OK "),
        claimed,
        "Java {major} and `readable by: {readable}` disagree: {line}"
    );
}
