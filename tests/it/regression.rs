//! One test per bug found by fuzzing, review or the hardening tests (issue 7), named after
//! what broke. Each input is built here (or kept in fixtures/) so the test says what the
//! bug was.

use crate::support::der as der_build;

use certmint::{Error, Password};
use der_build::*;

fn pw() -> Password {
    Password::from(crate::support::FIXTURE_PW)
}

fn pem(label: &str, der: &[u8]) -> Vec<u8> {
    certmint::pemfile::encode(label, der).into_bytes()
}

/// scrypt N=2^20 with r=64 (r*p = 64 passed the old check) needs 8 GiB: reading such a key
/// allocated 8 GiB before failing. Now refused from the parameters, without deriving
/// (since issue 13 as over the scrypt memory limit, `Error::KdfLimit`).
#[test]
fn scrypt_key_needing_8_gib_is_refused_before_any_derivation() {
    let key = epki(pbes2_scrypt(1 << 20, 64, 1));
    for data in [key.clone(), pem("ENCRYPTED PRIVATE KEY", &key)] {
        let err = certmint::key::probe(&data).unwrap_err();
        assert!(
            matches!(&err, Error::KdfLimit(x) if x.detail.contains("r=64")),
            "{err}"
        );
        let err = certmint::key::load(&data, Some(&pw())).unwrap_err();
        assert!(matches!(err, Error::KdfLimit(_)), "{err}");
    }
    // p is the other multiplier: N=2^20, r=1, p=64 is 64 passes over 128 MiB.
    let key = epki(pbes2_scrypt(1 << 20, 1, 64));
    assert!(matches!(
        certmint::key::probe(&key),
        Err(Error::KdfLimit(_))
    ));
    // OpenSSL's default (N=2^14, r=8, p=1) is still read.
    let fixture = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/keys/enc-scrypt.pem"
    ))
    .unwrap();
    certmint::key::load(&fixture, Some(&pw())).unwrap();
}

/// The same unbounded scrypt inside a PKCS#12 key bag.
#[test]
fn pkcs12_scrypt_key_bag_needing_8_gib_is_refused() {
    // probe describes each bag's protection without deriving anything, so this test
    // stays cheap even if the bug came back.
    let pfx = pfx_with_bags(&[shrouded_bag(epki(pbes2_scrypt(1 << 20, 64, 1)))]);
    let s = certmint::pkcs12::probe(&pfx).unwrap();
    let bags = s.safes[0].bags.as_ref().unwrap();
    let prot = bags[0].encryption.as_ref().unwrap();
    assert!(!prot.supported, "{prot:?}");
    assert!(prot.description.contains("r=64"), "{prot:?}");
}

/// Each KDF was bounded (10,000,000 iterations) but not their number: a 2 KiB file with
/// twenty key bags at that count kept certmint busy for minutes. The read now refuses a
/// file whose derivations add up to more than `MAX_TOTAL_ITERATIONS`, before running any
/// (since issue 13 each is bounded by 1,000,000 and the file by 16,000,000).
#[test]
fn pkcs12_with_many_expensive_key_bags_is_refused_up_front() {
    let bag = shrouded_bag(epki(pbes2_pbkdf2(u64::from(
        certmint::pkcs12::MAX_ITERATIONS,
    ))));
    let pfx = pfx_with_bags(&vec![bag; 20]);
    assert!(pfx.len() < 4096);
    let start = std::time::Instant::now();
    let err = certmint::pkcs12::read(&pfx, &pw()).unwrap_err();
    assert!(
        matches!(&err, Error::KdfLimit(x) if x.to_string().contains("add up")),
        "{err}"
    );
    // Not a timing assertion on the machine's speed: one derivation at this count alone
    // takes seconds, so finishing under a minute proves none ran.
    assert!(start.elapsed().as_secs() < 60);
    // One such bag is still within budget (and fails later, on the fake ciphertext).
    let one = pfx_with_bags(&[shrouded_bag(epki(pbes2_pbkdf2(1)))]);
    assert!(!matches!(
        certmint::pkcs12::read(&one, &pw()),
        Err(Error::Unsupported { .. } | Error::KdfLimit(_))
    ));
}

/// `next_number` added 1 to the largest generation number: a manifest holding
/// 4294967295 overflowed (a panic in debug builds, 0 in release). Numbers are now range
/// checked when read.
#[test]
fn manifest_generation_number_at_u32_max_is_refused_not_overflowed() {
    let text = "format = 1\nstem = \"server\"\nalias = \"a\"\nsubject = \"/CN=a\"\ndays = 1\np12_profile = \"modern\"\n\n[[generation]]\ndir = \"g\"\nnumber = 4294967295\norigin = \"init\"\nstatus = \"pending\"\ncreated = \"x\"\nkey_bits = 2048\n";
    let err = certmint::manifest::Manifest::from_toml(text).unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err}");
    let ok = text.replace("4294967295", "7");
    let m = certmint::manifest::Manifest::from_toml(&ok).unwrap();
    assert_eq!(m.next_number(), 8);
}

/// Two generations with the same directory made `current` ambiguous.
#[test]
fn manifest_listing_a_generation_twice_is_corrupt() {
    let g = "\n[[generation]]\ndir = \"g1\"\nnumber = 1\norigin = \"init\"\nstatus = \"complete\"\ncreated = \"x\"\nkey_bits = 2048\n";
    let text = format!(
        "format = 1\nstem = \"server\"\nalias = \"a\"\nsubject = \"/CN=a\"\ndays = 1\np12_profile = \"modern\"\n{g}{}",
        g.replace("number = 1", "number = 2")
    );
    let err = certmint::manifest::Manifest::from_toml(&text).unwrap_err();
    assert!(err.to_string().contains("twice"), "{err}");
}

/// Found by fuzzing (token_response): an identity URL without a scheme
/// (`"id":"xx00.salesforce.com"`) was checked as https but returned as given, so `mint`
/// failed on it with an HTTP protocol error. It is now returned with the scheme it was
/// checked under.
#[test]
fn identity_url_without_a_scheme_is_requested_as_the_https_url_it_was_checked_as() {
    use certmint::token_endpoint::{LoginUrl, TokenResponse, identity_url};
    let body = br#"{"access_token":"00Dxx0000009gPBx1W1WwXyZ","scope":"api web","instance_url":"https://acme.my.salesforce.com","id":"xx00.salesforce.com","idb":"Bearer"}"#;
    let r = TokenResponse::parse(body).unwrap();
    let login = LoginUrl::parse("https://login.salesforce.com").unwrap();
    assert_eq!(
        identity_url(&login, &r).unwrap(),
        "https://xx00.salesforce.com"
    );
    let r = TokenResponse::parse(br#"{"access_token":"x","id":"login.salesforce.com/id/00D/005"}"#)
        .unwrap();
    assert_eq!(
        identity_url(&login, &r).unwrap(),
        "https://login.salesforce.com/id/00D/005"
    );
    // Still refused when it is not a Salesforce host.
    let r =
        TokenResponse::parse(br#"{"access_token":"x","id":"evil.example/id/00D/005"}"#).unwrap();
    assert!(identity_url(&login, &r).is_err());
}

fn certmint_bin() -> std::process::Command {
    let mut c = std::process::Command::new(crate::support::BIN);
    c.env("NO_COLOR", "1");
    c
}

/// Input files were bounded by their size in the metadata, which is 0 for devices and
/// pipes: `certmint decrypt /dev/zero` read until memory ran out. The read itself is now
/// bounded (16 MiB), and since issue 13 a device is not read at all: only regular files
/// are (`readfile`).
#[test]
fn input_from_an_endless_device_is_refused_not_read_forever() {
    let dir = tempfile::tempdir().unwrap();
    let out = certmint_bin()
        .args(["decrypt", "/dev/zero", "--out"])
        .arg(dir.path().join("x.key"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("cannot read private key `/dev/zero`"), "{err}");
    assert!(
        err.contains("it is a character device, not a regular file"),
        "{err}"
    );
    assert!(!dir.path().join("x.key").exists());
    // A regular file beyond the bound (sparse: nothing is written to the disk).
    let big = dir.path().join("big.pem");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(16 * 1024 * 1024 + 1)
        .unwrap();
    let out = certmint_bin()
        .args(["decrypt", big.to_str().unwrap(), "--out"])
        .arg(dir.path().join("x.key"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("more than 16777216 bytes"), "{err}");
    assert!(!dir.path().join("x.key").exists());
}

crate::support::cases!(
    /// `--passin file:/dev/zero` (or an endless `fd:`/`stdin`) read until memory ran out.
    /// Password sources are now read up to 64 KiB.
    endless_password_sources_are_refused {
        file => endless_password_source_is_refused("file:/dev/zero"),
        fd => endless_password_source_is_refused("fd:3"),
        stdin => endless_password_source_is_refused("stdin"),
    }
);

fn endless_password_source_is_refused(src: &str) {
    let dir = tempfile::tempdir().unwrap();
    let key = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/keys/enc-aes256.pem");
    {
        let script = format!(
            "exec \"$0\" decrypt {key} --out {} --passin {src} 3</dev/zero </dev/zero",
            dir.path().join("x.key").display()
        );
        let out = std::process::Command::new("sh")
            .args(["-c", &script, crate::support::BIN])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{src}: {err}");
        assert!(err.contains("more than 65536 bytes"), "{src}: {err}");
    }
}

/// Found by fuzzing (token_response): `"id":"httpS://login.salesforce.com/..."` was checked
/// as https but returned with the scheme as given. It is now returned in the lowercase
/// form it was checked as.
#[test]
fn identity_url_scheme_is_returned_as_checked() {
    use certmint::token_endpoint::{LoginUrl, TokenResponse, identity_url};
    let body = br#"{"access_token":"00PPPPPPPPPPPPPPPPPPPPPPPPPPPPDxorce","id":"httpS://login.salesforce.com/xx000001SwiUAAS","token_type":"Bearer"}"#;
    let r = TokenResponse::parse(body).unwrap();
    let login = LoginUrl::parse("https://login.salesforce.com").unwrap();
    assert_eq!(
        identity_url(&login, &r).unwrap(),
        "https://login.salesforce.com/xx000001SwiUAAS"
    );
    let r =
        TokenResponse::parse(br#"{"access_token":"x","id":"HTTP://login.salesforce.com/id/a/b"}"#)
            .unwrap();
    assert!(
        identity_url(&login, &r).is_err(),
        "plain http must stay refused"
    );
}

// ---------------------------------------------------------------------------------------
// Issue 11 (found while restructuring `check`, the detector and the manifest)

/// `certmint init DIR` with the password in `$P`, for the tests below.
fn init_dir(dir: &std::path::Path) {
    let out = crate::support::certmint()
        .args(["init", dir.to_str().unwrap(), "--cn", "acme-jwt"])
        .args(["--passout", "env:P"])
        .env("P", "regression-pass")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `check --json` as JSON, with its exit code.
fn check_json(args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let out = crate::support::certmint()
        .arg("check")
        .arg("--json")
        .args(args)
        .env("P", "regression-pass")
        .output()
        .unwrap();
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), doc)
}

/// `check --json` printed `"days_left": null` for every check, expiry included: the field
/// was never set. Every expiry check now carries the days until the certificate expires.
#[test]
fn check_json_reports_days_left_for_every_expiry_check() {
    use crate::support::fixture;
    let cert = fixture("certs/base.crt");
    let info = certmint::x509::parse(&std::fs::read(&cert).unwrap()).unwrap();
    let expected = info.days_left(time::OffsetDateTime::now_utc());
    let p12 = fixture("p12/openssl-default.p12");
    let jks = fixture("jks/keytool-equal.jks");
    for (file, pass) in [(&cert, ""), (&p12, "fixture-pass"), (&jks, "changeit")] {
        let out = crate::support::certmint()
            .args(["check", "--json", "--warn-days", "0", "--passin", "env:PW"])
            .arg(file)
            .env("PW", pass)
            .output()
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let checks = doc["files"][0]["checks"].as_array().unwrap();
        let expiry: Vec<_> = checks.iter().filter(|c| c["rule"] == "expiry").collect();
        assert!(!expiry.is_empty(), "{}: {doc}", file.display());
        for c in expiry {
            let days = c["days_left"].as_i64();
            assert!(days.is_some(), "{}: {c}", file.display());
            if file == &cert {
                // The clock may cross midnight between this test and the binary.
                assert!(
                    days.unwrap().abs_diff(expected) <= 1,
                    "{c}, expected {expected}"
                );
            }
        }
        // Checks that are not about expiry have no days.
        assert!(
            checks
                .iter()
                .filter(|c| c["rule"] != "expiry")
                .all(|c| c["days_left"].is_null()),
            "{doc}"
        );
    }
    // An expired certificate (this fixture was valid for one day, in 2026) counts below
    // zero.
    let (code, doc) = check_json(&[fixture("certs/base-1day.crt").to_str().unwrap()]);
    let expiry = &doc["files"][0]["checks"][0];
    assert!(expiry["days_left"].as_i64().unwrap() < 0, "{doc}");
    assert!(
        expiry["detail"].as_str().unwrap().contains("EXPIRED"),
        "{doc}"
    );
    assert_eq!(code, Some(1));
}

/// In a directory's `check --json` report, the field `alias` held the generation's
/// directory name (`g1-2026-...`), and for a certificate file its common name: `alias` is
/// now only ever a keystore alias, the generation and the certificate have fields of their
/// own.
#[test]
fn check_json_alias_is_never_the_generation_or_the_certificate_name() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init_dir(&dir);
    let (code, doc) = check_json(&[dir.to_str().unwrap(), "--passin", "env:P"]);
    assert_eq!(code, Some(0), "{doc}");
    let m = certmint::workdir::load(&dir).unwrap();
    let current = m.current.clone().unwrap();
    let checks = doc["files"][0]["checks"].as_array().unwrap();
    let mut generation_checks = 0;
    for c in checks {
        assert_ne!(c["alias"], current.as_str(), "{c}");
        if c["generation"] == current.as_str() {
            generation_checks += 1;
            assert!(c["alias"].is_null(), "{c}");
        }
        // The JKS entry's rules name the keystore alias.
        if c["rule"] == "rsa_key" {
            assert_eq!(c["alias"], m.alias.as_str(), "{c}");
        }
        if c["rule"] == "expiry" {
            assert_eq!(c["certificate"], "acme-jwt", "{c}");
        }
    }
    // Seven files, expiry, key match and two keystores.
    assert_eq!(generation_checks, 11, "{doc}");
    let cert = crate::support::fixture("certs/base.crt");
    let (_, doc) = check_json(&[cert.to_str().unwrap()]);
    let expiry = &doc["files"][0]["checks"][0];
    assert!(expiry["alias"].is_null(), "{expiry}");
    assert_eq!(expiry["certificate"], "acme-jwt", "{expiry}");
}

/// Every command that reads a keystore, on the JCEKS fixture: each must stop with exit 2
/// and write nothing. Returns each command line with its stderr.
fn jceks_errors() -> Vec<(String, String)> {
    use crate::support::{certmint, fixture};
    let jceks = fixture("jks/keytool.jceks");
    let out_dir = tempfile::tempdir().unwrap();
    let j = jceks.to_str().unwrap();
    // Outputs are relative to `out_dir`, which must stay empty.
    let runs: [&[&str]; 5] = [
        &["inspect", j],
        &["check", j],
        &["export", j, "--key-out", "k.pem", "--cert-out", "c.pem"],
        &["jks", "--p12", j, "--out", "x.jks", "--passout", "env:P"],
        &["p12", "--jks", j, "--out", "x.p12", "--passout", "env:P"],
    ];
    let mut errors = Vec::new();
    for args in runs {
        let o = certmint()
            .current_dir(out_dir.path())
            .args(args)
            .args(["--passin", "env:P"])
            .env("P", "changeit")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        errors.push((format!("{args:?}"), err));
    }
    assert!(std::fs::read_dir(out_dir.path()).unwrap().next().is_none());
    errors
}

/// The line of `err` that starts with `label` (`cause:`, `hint:`).
fn line_starting<'a>(err: &'a str, label: &str, args: &str) -> &'a str {
    err.lines()
        .find(|l| l.trim_start().starts_with(label))
        .unwrap_or_else(|| panic!("{args}: no {label} in {err}"))
}

/// The advice for a JCEKS keystore contradicted itself: the JKS reader said to convert it
/// with `-deststoretype JKS`, the keystore door and `inspect` said PKCS12. There is now
/// one advice, defined once, which says which target is for what: JKS to import into
/// Salesforce, PKCS12 for Java programs.
#[test]
fn jceks_advice_is_one_and_says_which_target_is_for_what() {
    use crate::support::{certmint, fixture};
    let mut causes = Vec::new();
    for (args, err) in jceks_errors() {
        let cause = line_starting(&err, "cause:", &args).to_string();
        assert!(cause.contains("JCEKS"), "{args}: {cause}");
        let salesforce = cause.find("Salesforce").expect("names Salesforce");
        let java = cause.find("Java programs").expect("names Java programs");
        let jks = cause.find("-deststoretype JKS").expect("JKS advice");
        let pkcs12 = cause.find("-deststoretype PKCS12").expect("PKCS12 advice");
        // JKS goes with Salesforce, PKCS12 with Java.
        assert!(salesforce < jks && jks < java && java < pkcs12, "{cause}");
        causes.push(cause);
    }
    causes.dedup();
    assert_eq!(causes.len(), 1, "one advice, everywhere: {causes:#?}");
    // Under --salesforce the file fails the first rule, and the fix is the JKS conversion.
    let o = certmint()
        .args(["check", "--salesforce", "--passin", "env:P"])
        .arg(fixture("jks/keytool.jceks"))
        .env("P", "changeit")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{text}");
    let fix = text.lines().find(|l| l.contains("fix:")).unwrap();
    assert!(fix.contains("-deststoretype JKS"), "{fix}");
    assert!(!fix.contains("PKCS12"), "{fix}");
}

/// The hint under the JCEKS advice said "convert the file with openssl to a supported
/// form" right after the cause's keytool commands (openssl cannot read JCEKS). An
/// unsupported keystore type now has its own hint, which points at the keytool advice.
#[test]
fn jceks_hint_points_at_keytool_not_openssl() {
    for (args, err) in jceks_errors() {
        let hint = line_starting(&err, "hint:", &args);
        assert!(hint.contains("keytool"), "{args}: {hint}");
        assert!(!hint.contains("openssl"), "{args}: {hint}");
    }
}

/// An unknown `p12_profile` in a directory's manifest silently became `modern`, so a
/// renewal wrote keystores with other algorithms than the ones the directory was made
/// for. It is now refused, naming the manifest, the line and column, and the accepted
/// profiles, without quoting the file; nothing is written.
#[test]
fn an_unknown_p12_profile_in_the_manifest_is_refused_not_made_modern() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme");
    init_dir(&dir);
    let manifest = dir.join("certmint.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let edited = text.replace("p12_profile = \"modern\"", "p12_profile = \"modren\"");
    assert_ne!(edited, text);
    std::fs::write(&manifest, &edited).unwrap();
    let line = edited
        .lines()
        .position(|l| l.starts_with("p12_profile"))
        .unwrap()
        + 1;
    let before: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    for args in [
        vec!["renew", dir.to_str().unwrap(), "--passin", "env:P"],
        vec!["check", dir.to_str().unwrap()],
        vec!["inspect", dir.to_str().unwrap()],
    ] {
        let o = crate::support::certmint()
            .args(&args)
            .env("P", "regression-pass")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        let place = format!("`{}` line {line}, column 15", manifest.display());
        assert!(err.contains(&place), "{args:?}: expected {place} in {err}");
        assert!(err.contains("modern, java8, legacy"), "{args:?}: {err}");
        assert!(!err.contains("modren"), "{args:?} quotes the file: {err}");
    }
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), before.len());
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), edited);
}

/// Output through `println!` panicked on a closed pipe (`certmint check -v DIR | head -1`
/// could exit 101 with "panicked at" on stderr), and `eprintln!` on a closed stderr. All
/// standard output now goes through one writer (`src/cli/stdio.rs`) that ends the command
/// as a success, printing nothing more, when the reader has gone; standard error never
/// panics. Each command runs twice: into a pipe whose reader closed before it started
/// (every write fails with EPIPE), and into a reader that takes the first line and leaves.
mod closed_pipe {
    use std::io::BufRead;
    use std::process::{Command, Output, Stdio};

    use crate::support::{BIN, fixture, fx};

    fn command(args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        for proxy in ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"] {
            c.env_remove(proxy);
        }
        c.args(args)
            .env_remove("CERTMINT_PASS")
            .env("NO_COLOR", "1")
            .env("P", crate::support::FIXTURE_PW)
            .stdin(Stdio::null());
        c
    }

    fn assert_no_panic(args: &[&str], how: &str, out: &Output) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(101), "{args:?} {how}: {stderr}");
        assert!(out.status.code().is_some(), "{args:?} {how}: killed");
        assert!(!stderr.contains("panicked"), "{args:?} {how}: {stderr}");
    }

    /// `certmint ARGS` with stdout closed from the start, then with a reader that reads
    /// one line: never a panic, and with the reader gone first, exit 0 and no message
    /// about standard output.
    fn survives_closed_stdout(args: &[&str]) {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = command(args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_no_panic(args, "into a closed pipe", &out);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("standard output"), "{args:?}: {stderr}");

        let mut child = command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        // The reader is dropped here: the pipe closes with the rest unread.
        assert!(!first.is_empty(), "{args:?}: no first line");
        let out = child.wait_with_output().unwrap();
        assert_no_panic(args, "into `head -1`", &out);
    }

    #[test]
    fn check_verbose_on_a_directory() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("acme");
        super::init_dir(&dir);
        survives_closed_stdout(&["check", "-v", dir.to_str().unwrap()]);
    }

    #[test]
    fn check_verbose_that_finds_a_problem() {
        // Expiring within the warning window: exit 1 when stdout is read, but a reader
        // that has gone makes it a success like any other command.
        let base = fixture("certs/base.crt");
        let base = base.to_str().unwrap();
        survives_closed_stdout(&["check", "-v", "--warn-days", "100000", base]);
    }

    #[test]
    fn inspect() {
        survives_closed_stdout(&[
            "inspect",
            &fx("certs/base.crt"),
            &fx("certs/base.csr"),
            &fx("keys/base.pkcs8.pem"),
            &fx("p12/openssl-default.p12"),
            "--passin",
            "env:P",
        ]);
    }

    crate::support::cases!(
        /// Commands whose whole output is one write.
        one_write {
            check_json => survives_closed_stdout(&["check", "--json", &fx("certs/base.crt")]),
            inspect_json => survives_closed_stdout(&["inspect", "--json", &fx("certs/base.crt")]),
            help => survives_closed_stdout(&["help"]),
            help_of_a_subcommand => survives_closed_stdout(&["help", "check"]),
            long_help => survives_closed_stdout(&["--help"]),
            completions => survives_closed_stdout(&["completions", "bash"]),
            man => survives_closed_stdout(&["man"]),
        }
    );

    #[test]
    fn jwt() {
        survives_closed_stdout(&[
            "jwt",
            "--key",
            &fx("keys/base.pkcs8.pem"),
            "--client-id",
            "K",
            "-u",
            "user@example.com",
        ]);
    }

    fn emulator() -> &'static certmint::emulator::Running {
        static E: std::sync::OnceLock<certmint::emulator::Running> = std::sync::OnceLock::new();
        E.get_or_init(|| crate::support::emulator::start(crate::support::emulator::acme()))
    }

    fn mint(user: &str, extra: &[&str]) {
        let key = fx("keys/base.pkcs8.pem");
        let mut args = vec!["mint", "--key", &key, "--client-id", "KEY_MAIN"];
        args.extend(["--username", user, "--login-url", emulator().base_url()]);
        args.extend_from_slice(extra);
        survives_closed_stdout(&args);
    }

    #[test]
    fn mint_text() {
        mint("alice@example.com", &[]);
    }

    #[test]
    fn mint_json() {
        mint("alice@example.com", &["--json"]);
    }

    #[test]
    fn mint_refused_json() {
        // Refused (exit 1 when stdout is read): the explanation goes to stderr first.
        mint("nobody@example.com", &["--json"]);
    }

    #[test]
    fn mint_usernames() {
        let scratch = tempfile::tempdir().unwrap();
        let list = scratch.path().join("users.txt");
        std::fs::write(&list, "alice@example.com\n".repeat(50)).unwrap();
        let key = fx("keys/base.pkcs8.pem");
        survives_closed_stdout(&[
            "mint",
            "--key",
            &key,
            "--client-id",
            "KEY_MAIN",
            "--usernames",
            list.to_str().unwrap(),
            "--login-url",
            emulator().base_url(),
        ]);
    }

    /// With stderr closed, an error is still exit 2 (not a panic), and a command whose
    /// talk goes to stderr ("wrote ...") still does its work.
    #[test]
    fn closed_stderr() {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let args = ["check", "/nonexistent/certmint-test"];
        let out = command(&args).stderr(writer).output().unwrap();
        assert_no_panic(&args, "with stderr closed", &out);
        assert_eq!(out.status.code(), Some(2));

        let scratch = tempfile::tempdir().unwrap();
        let der = scratch.path().join("base.der");
        let base = fx("certs/base.crt");
        let args = [
            "convert",
            &base,
            "--to",
            "der",
            "--out",
            der.to_str().unwrap(),
        ];
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = command(&args).stderr(writer).output().unwrap();
        assert_no_panic(&args, "with stderr closed", &out);
        assert_eq!(out.status.code(), Some(0));
        assert!(der.is_file());
    }
}

/// `certmint inspect --json server.crt | jq .not_after` (a help example) failed: the
/// output was an array even for one file. One input (a file or a directory) is one
/// object; several are an array, in order.
#[test]
fn inspect_json_of_one_input_is_one_object() {
    let json = |args: &[&str]| -> serde_json::Value {
        let out = crate::support::certmint()
            .arg("inspect")
            .arg("--json")
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let cert = crate::support::fx("certs/base.crt");
    let one = json(&[&cert]);
    assert_eq!(one["kind"], "certificate", "{one}");
    assert_eq!(one["not_after"], "2027-11-28T16:48:37Z", "{one}");
    assert_eq!(one["file"], cert.as_str(), "{one}");

    let csr = crate::support::fx("certs/base.csr");
    let two = json(&[&cert, &csr]);
    let list = two.as_array().expect("an array for two inputs");
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["kind"], "certificate");
    assert_eq!(list[1]["kind"], "csr");

    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("acme-jwt");
    crate::support::certmint()
        .args(["init", dir.to_str().unwrap(), "--cn", "acme-jwt"])
        .args(["--passout", "env:CERT_PASS"])
        .env("CERT_PASS", "a long passphrase")
        .assert()
        .success();
    let d = json(&[dir.to_str().unwrap()]);
    assert_eq!(d["kind"], "directory", "{d}");
    assert!(d["generations"][0]["days_left"].is_i64(), "{d}");
}

/// Key/certificate mismatch messages compared the key's public-key SHA-256 with the
/// certificate's SHA-1 (of the whole certificate): two different things that can never be
/// compared. `check --key` and `mint --cert` now show the same fingerprint of both public
/// keys, each the one `certmint inspect` shows for that file.
#[test]
fn key_certificate_mismatch_compares_the_same_fingerprint_of_both_public_keys() {
    let public_key_sha256 = |rel: &str| -> String {
        let out = crate::support::certmint()
            .args(["inspect", &crate::support::fx(rel)])
            .output()
            .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .find_map(|l| l.trim().strip_prefix("public key SHA-256:"))
            .unwrap()
            .trim()
            .to_string()
    };
    let key_fp = public_key_sha256("keys/other.pkcs8.pem");
    let cert_fp = public_key_sha256("certs/base.crt");
    assert_ne!(key_fp, cert_fp);

    let out = crate::support::certmint()
        .args(["check", &crate::support::fx("certs/base.crt")])
        .args(["--key", &crate::support::fx("keys/other.pkcs8.pem")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let expected = format!(
        "the key's public key (SHA-256 {key_fp}) is not the certificate's (SHA-256 {cert_fp})"
    );
    assert!(text.contains(&expected), "{text}");
    assert!(!text.contains("SHA-1"), "{text}");

    let out = crate::support::certmint()
        .args(["mint", "--key", &crate::support::fx("keys/other.pkcs8.pem")])
        .args(["--cert", &crate::support::fx("certs/base.crt")])
        .args(["--client-id", "K", "--username", "u@example.com"])
        .args(["--login-url", "http://127.0.0.1:9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = crate::support::stderr(&out);
    let expected = format!(
        "the key's public key has SHA-256 {key_fp}, the certificate's has SHA-256 {cert_fp}"
    );
    assert!(text.contains(&expected), "{text}");
}

/// The 10,000th user of an org without configured ids got `005EMULATOR10000`, 16
/// characters, and the configuration was refused, although 10,000 users is the cap. The
/// default ids now stay 15 characters up to the cap.
#[test]
fn the_ten_thousandth_user_gets_a_15_character_default_id() {
    let users: Vec<String> = (1..=certmint::emulator::MAX_USERS)
        .map(|i| format!("u{i}@example.com"))
        .collect();
    let cert = std::fs::read(crate::support::fixture("certs/base.crt")).unwrap();
    let cfg = certmint::emulator::Config::simple(&cert, "KEY", &users).unwrap();
    let last = &cfg.users[certmint::emulator::MAX_USERS - 1];
    assert!(last.id.starts_with("005EMULATO10000"), "{}", last.id);
    assert_eq!(last.id.len(), 18);
    assert!(cfg.users[9998].id.starts_with("005EMULATOR9999"));
}

/// A SOQL relationship path (`Assignee.Username`) rebuilt every record of the related
/// object for each record it was followed from: a filter over 10,000 assignments of 2,000
/// users made 20 million user records (an org at its caps: a billion, hours, under the
/// org's lock). The related records are now made once per query and indexed by Id; the
/// unit test `a_relationship_path_makes_each_related_record_once_per_query`
/// (src/emulator/handlers/objects.rs) counts the records a query makes. This one asks
/// the same over HTTP on the larger org; its two minutes are only a guard against a hang.
#[test]
fn a_relationship_path_over_10000_assignments_is_answered() {
    use std::fmt::Write as _;
    let mut extra = String::new();
    for i in 0..5 {
        writeln!(extra, "[[permission_sets]]\nname = \"Set_{i}\"").unwrap();
    }
    for i in 0..2000 {
        writeln!(
            extra,
            "[[users]]\nusername = \"u{i}@load.example.com\"\npermission_sets = [\"Set_0\", \"Set_1\", \"Set_2\", \"Set_3\", \"Set_4\"]"
        )
        .unwrap();
    }
    let cfg = crate::support::emulator::acme_with("", &extra);
    let emu =
        certmint::emulator::InMemory::new(cfg, certmint::emulator::Limits::default()).unwrap();
    let token = emu.token(0, 0).unwrap();
    let q: String = form_urlencoded::byte_serialize(
        b"SELECT Id, PermissionSet.Name FROM PermissionSetAssignment WHERE Assignee.Username = 'u1999@load.example.com' AND PermissionSet.IsOwnedByProfile = false",
    )
    .collect();
    let request = format!(
        "GET /services/data/v66.0/query?q={q} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    let out = emu
        .request(request.as_bytes(), std::time::Duration::from_secs(120))
        .expect("no answer within two minutes");
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains(r#""totalSize":5"#), "{text}");
    for i in 0..5 {
        assert!(text.contains(&format!(r#""Name":"Set_{i}""#)), "{text}");
    }
}

/// A damaged `--state` file was reported as "cannot listen on 127.0.0.1:7357" with a hint
/// to pick another port. It names the state file and says how to start again.
#[test]
fn a_damaged_emulator_state_file_is_named_not_blamed_on_the_port() {
    let d = tempfile::tempdir().unwrap();
    let state = d.path().join("org-state.toml");
    std::fs::write(&state, "garbage = [\n").unwrap();
    let out = crate::support::certmint()
        .args(["emulate", "--cert", &crate::support::fx("certs/base.crt")])
        .args([
            "--client-id",
            "K",
            "-u",
            "a@example.com",
            "--listen",
            "127.0.0.1:0",
        ])
        .args(["--state", state.to_str().unwrap()])
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: cannot load the emulator state `{}`",
            state.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: fix the file, or move it away"),
        "{stderr}"
    );
    assert!(!stderr.contains("cannot listen"), "{stderr}");
}
