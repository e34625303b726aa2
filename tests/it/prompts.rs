//! What certmint asks on a terminal, through a pseudo-terminal (issue 12, items 14 and
//! 15): subject fields checked as they are typed and asked again; the key's password
//! before the subject; new passwords asked again when too short or not the same twice,
//! up to three tries, and a short one typed at the prompt never blamed on `--passout`.

use crate::support::pty::Pty;
use crate::support::*;

/// `csr` with an encrypted key and no subject flags: the key's password first, then the
/// fields; `USA` and an empty common name are refused on the spot and asked again, and
/// what was typed before stays.
#[test]
fn csr_prompts_check_each_field_and_ask_for_the_key_password_first() {
    let dir = tempfile::tempdir().unwrap();
    let key = fixture("keys/enc-aes256.pem");
    let out = dir.path().join("server.csr");
    let mut t = Pty::spawn(
        &["csr", "--key", p(&key), "--out", p(&out)],
        &[],
        Some(dir.path()),
    );
    t.expect("Enter password for").send_line(FIXTURE_PW);
    t.expect("Enter the certificate subject");
    t.expect("Country Name (2 letter code): ").send_line("USA");
    t.expect("C must be a two-letter ISO 3166 country code such as US or DE, not `USA`; try again");
    t.expect("Country Name (2 letter code): ").send_line("US");
    t.expect("State or Province Name (full name): ")
        .send_line("");
    t.expect("Locality Name (eg, city): ").send_line(".");
    t.expect("Organization Name (eg, company): ")
        .send_line("Acme");
    t.expect("Organizational Unit Name (eg, section): ")
        .send_line("");
    t.expect("Common Name (eg, your integration's name): ")
        .send_line("");
    t.expect("the common name (CN) is required: Salesforce shows it as the certificate's name; try again");
    t.expect("Common Name (eg, your integration's name): ")
        .send_line("acme-jwt");
    t.expect("Email Address: ").send_line("");
    let (status, transcript) = t.finish();
    assert!(status.success(), "{transcript}");
    // The password was asked before any field.
    let pw_at = transcript.find("Enter password for").unwrap();
    let subject_at = transcript.find("Enter the certificate subject").unwrap();
    assert!(pw_at < subject_at, "{transcript}");
    let subject = openssl_ok(&["req", "-in", p(&out), "-noout", "-subject"]);
    assert_eq!(subject.trim(), "subject=C = US, O = Acme, CN = acme-jwt");
}

/// A field refused three times ends the command (exit 2) and says which field.
#[test]
fn csr_prompts_give_up_after_three_tries() {
    let dir = tempfile::tempdir().unwrap();
    let key = fixture("keys/base.pkcs8.pem");
    let out = dir.path().join("server.csr");
    let mut t = Pty::spawn(
        &["csr", "--key", p(&key), "--out", p(&out)],
        &[],
        Some(dir.path()),
    );
    for _ in 0..3 {
        t.expect("Country Name (2 letter code): ").send_line("USA");
    }
    t.expect("error: no valid C after 3 tries");
    let (status, transcript) = t.finish();
    assert_eq!(status.code(), Some(2), "{transcript}");
    assert!(!out.exists());
}

/// `cert --key` with an encrypted key and no subject: the password comes first too.
#[test]
fn cert_asks_for_the_key_password_before_the_subject() {
    let dir = tempfile::tempdir().unwrap();
    let key = fixture("keys/enc-aes256.pem");
    let out = dir.path().join("server.crt");
    let mut t = Pty::spawn(
        &["cert", "--key", p(&key), "--out", p(&out)],
        &[],
        Some(dir.path()),
    );
    t.expect("Enter password for").send_line(FIXTURE_PW);
    t.expect("Enter the certificate subject");
    for answer in ["", "", "", "", ""] {
        t.expect(": ").send_line(answer);
    }
    t.expect("Common Name (eg, your integration's name): ")
        .send_line("acme-jwt");
    t.expect("Email Address: ").send_line("");
    let (status, transcript) = t.finish();
    assert!(status.success(), "{transcript}");
    let subject = openssl_ok(&["x509", "-in", p(&out), "-noout", "-subject"]);
    assert_eq!(subject.trim(), "subject=CN = acme-jwt");
}

/// A new password typed at the prompt: too short, then two that differ, then a good one;
/// each refusal asks again, and none of them speaks of `--passout`.
#[test]
fn new_password_prompt_asks_again_when_too_short_or_different() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("server.pass.key");
    let mut t = Pty::spawn(&["key", "--out", p(&key)], &[], Some(dir.path()));
    t.expect("Enter new password for").send_line("abc");
    t.expect("the new password is too short: use at least 4 characters; try again");
    t.expect("Enter new password for").send_line("first choice");
    t.expect("Verifying - enter new password for")
        .send_line("another one");
    t.expect("the two passwords do not match; try again");
    t.expect("Enter new password for")
        .send_line("correct horse");
    t.expect("Verifying - enter new password for")
        .send_line("correct horse");
    let (status, transcript) = t.finish();
    assert!(status.success(), "{transcript}");
    assert!(!transcript.contains("--passout"), "{transcript}");
    // The key opens with the third password.
    certmint()
        .args([
            "decrypt",
            p(&key),
            "--out",
            p(&dir.path().join("plain.key")),
        ])
        .args(["--passin", "env:PW"])
        .env("PW", "correct horse")
        .assert()
        .success();
}

/// Three refusals end the command with exit 2, nothing written, and the reason.
#[test]
fn new_password_prompt_gives_up_after_three_tries() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("server.pass.key");
    let mut t = Pty::spawn(&["key", "--out", p(&key)], &[], Some(dir.path()));
    t.expect("Enter new password for").send_line("abc");
    t.expect("Enter new password for").send_line("abcd");
    t.expect("Verifying - enter new password for")
        .send_line("abce");
    t.expect("Enter new password for").send_line("xyz");
    t.expect("error: no new password for");
    t.expect("after 3 tries");
    t.expect("cause: the new password is too short: use at least 4 characters");
    let (status, transcript) = t.finish();
    assert_eq!(status.code(), Some(2), "{transcript}");
    assert!(!transcript.contains("from --passout"), "{transcript}");
    assert!(!key.exists());
}

/// A short password from a source is still refused at once, naming the flag.
#[test]
fn a_short_password_from_a_source_names_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let out = certmint()
        .args([
            "key",
            "--out",
            p(&dir.path().join("k")),
            "--passout",
            "env:PW",
        ])
        .env("PW", "abc")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the new password from --passout is too short"),
        "{}",
        stderr(&out)
    );
}
