//! Crash safety (issue 7): certmint killed with SIGKILL at many points while it works and
//! writes never leaves a partial or corrupt output, never touches a pre-existing file, and
//! a re-run completes. The harness is `tests/support/crash.rs`; each command here is one
//! [`Case`] (`init`, `renew` and `rotate` are added the same way). 110 kills in all, with
//! delays from fixed seeds spread over each command's typical runtime.

#[path = "support/crash.rs"]
mod crash;

use std::path::Path;

use certmint::Password;
use crash::{Case, absent_or, force_if_exists, mode_is};

const PW: &str = "crash-pass";

fn fixture(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

fn env() -> Vec<(String, String)> {
    vec![("CRASH_PW".into(), PW.into())]
}

/// The base key (plain and encrypted), its certificate, and an unrelated file, all of
/// which must survive every kill byte for byte.
fn inputs(dir: &Path) {
    std::fs::copy(fixture("keys/base.pkcs8.pem"), dir.join("server.key")).unwrap();
    std::fs::copy(fixture("keys/enc-aes256.pem"), dir.join("server.pass.key")).unwrap();
    std::fs::copy(fixture("certs/base.crt"), dir.join("server.crt")).unwrap();
    std::fs::write(dir.join("notes.txt"), b"unrelated file\n").unwrap();
}

fn pw() -> Password {
    Password::from(PW)
}

fn valid_key(encrypted: bool) -> impl Fn(&[u8]) -> Result<(), String> {
    move |b: &[u8]| {
        let p = pw();
        let (k, info) =
            certmint::key::load(b, encrypted.then_some(&p)).map_err(|e| e.to_string())?;
        if info.is_encrypted() != encrypted || k.bits() < 2048 {
            return Err(format!("unexpected key: {info}"));
        }
        Ok(())
    }
}

#[test]
fn kill_key_generation() {
    let a = args(&[
        "key",
        "--out",
        "new.pass.key",
        "--passout",
        "env:CRASH_PW",
        "--kdf",
        "scrypt",
    ]);
    crash::run(&Case {
        name: "key",
        setup: Box::new(inputs),
        args: a.clone(),
        env: env(),
        may_change: vec![],
        may_create: vec!["new.pass.key".into()],
        invariant: Box::new(|d| {
            absent_or(d, "new.pass.key", valid_key(true))?;
            mode_is(d, "new.pass.key", 0o600)
        }),
        rerun: force_if_exists(a, "new.pass.key"),
        kills: 20,
        seed: 0x6b65_7901,
    });
}

#[test]
fn kill_decrypt() {
    crash::run(&Case {
        name: "decrypt",
        setup: Box::new(|d| {
            inputs(d);
            // enc-aes256.pem is under the fixture password.
            std::fs::write(d.join("pw.txt"), b"fixture-pass\n").unwrap();
        }),
        args: args(&[
            "decrypt",
            "server.pass.key",
            "--out",
            "plain.key",
            "--passin",
            "file:pw.txt",
        ]),
        env: env(),
        may_change: vec![],
        may_create: vec!["plain.key".into()],
        invariant: Box::new(|d| {
            absent_or(d, "plain.key", valid_key(false))?;
            mode_is(d, "plain.key", 0o600)
        }),
        rerun: force_if_exists(
            args(&[
                "decrypt",
                "server.pass.key",
                "--out",
                "plain.key",
                "--passin",
                "file:pw.txt",
            ]),
            "plain.key",
        ),
        kills: 20,
        seed: 0x6465_6302,
    });
}

#[test]
fn kill_cert() {
    let a = args(&[
        "cert",
        "--key",
        "server.key",
        "--subj",
        "/O=Acme/CN=acme-jwt",
        "--days",
        "30",
        "--out",
        "new.crt",
    ]);
    crash::run(&Case {
        name: "cert",
        setup: Box::new(inputs),
        args: a.clone(),
        env: env(),
        may_change: vec![],
        may_create: vec!["new.crt".into()],
        invariant: Box::new(|d| {
            absent_or(d, "new.crt", |b| {
                let c = certmint::x509::parse(b).map_err(|e| e.to_string())?;
                if c.common_name.as_deref() != Some("acme-jwt") {
                    return Err(format!("wrong CN {:?}", c.common_name));
                }
                Ok(())
            })?;
            mode_is(d, "new.crt", 0o644)
        }),
        rerun: force_if_exists(a, "new.crt"),
        kills: 20,
        seed: 0x6365_7203,
    });
}

fn valid_p12(b: &[u8]) -> Result<(), String> {
    let c = certmint::pkcs12::read(b, &pw()).map_err(|e| e.to_string())?;
    let e = c.key_entry(None).map_err(|e| e.to_string())?;
    if e.chain.is_empty() {
        return Err("no certificate".into());
    }
    Ok(())
}

#[test]
fn kill_p12() {
    let a = args(&[
        "p12",
        "--cert",
        "server.crt",
        "--key",
        "server.key",
        "--out",
        "server.p12",
        "--passout",
        "env:CRASH_PW",
        "--name",
        "acme_jwt",
    ]);
    crash::run(&Case {
        name: "p12",
        setup: Box::new(inputs),
        args: a.clone(),
        env: env(),
        may_change: vec![],
        may_create: vec!["server.p12".into()],
        invariant: Box::new(|d| {
            absent_or(d, "server.p12", valid_p12)?;
            mode_is(d, "server.p12", 0o600)
        }),
        rerun: force_if_exists(a, "server.p12"),
        kills: 12,
        seed: 0x7031_3204,
    });
}

/// `--force` over an existing keystore: after any kill the file is the old one, intact,
/// or the new one, complete; never a mix, never missing.
#[test]
fn kill_p12_replacing_an_existing_keystore() {
    let a = args(&[
        "p12",
        "--cert",
        "server.crt",
        "--key",
        "server.key",
        "--out",
        "server.p12",
        "--passout",
        "env:CRASH_PW",
        "--force",
    ]);
    let old = std::sync::Arc::new(std::sync::OnceLock::<Vec<u8>>::new());
    let old_setup = old.clone();
    let old_check = old.clone();
    crash::run(&Case {
        name: "p12 --force",
        setup: Box::new(move |d| {
            inputs(d);
            // A previous keystore (made once, then copied into every directory).
            let bytes = old_setup.get_or_init(|| {
                let key = certmint::key::load(&std::fs::read(d.join("server.key")).unwrap(), None)
                    .unwrap()
                    .0;
                let cert = std::fs::read(d.join("server.crt")).unwrap();
                let cert = certmint::x509::parse(&cert).unwrap().der;
                certmint::pkcs12::write(
                    &key,
                    &[cert],
                    "old",
                    &pw(),
                    certmint::pkcs12::Profile::Modern,
                )
                .unwrap()
            });
            std::fs::write(d.join("server.p12"), bytes).unwrap();
        }),
        args: a.clone(),
        env: env(),
        may_change: vec!["server.p12".into()],
        may_create: vec![],
        invariant: Box::new(move |d| {
            let now = std::fs::read(d.join("server.p12"))
                .map_err(|e| format!("server.p12 is gone: {e}"))?;
            if Some(&now) == old_check.get() {
                return Ok(());
            }
            valid_p12(&now)?;
            mode_is(d, "server.p12", 0o600)
        }),
        rerun: Box::new(move |_| a.clone()),
        kills: 12,
        seed: 0x666f_7205,
    });
}

#[test]
fn kill_jks() {
    let a = args(&[
        "jks",
        "--cert",
        "server.crt",
        "--key",
        "server.key",
        "--out",
        "server.jks",
        "--passout",
        "env:CRASH_PW",
        "--alias",
        "acme_jwt",
    ]);
    crash::run(&Case {
        name: "jks",
        setup: Box::new(inputs),
        args: a.clone(),
        env: env(),
        may_change: vec![],
        may_create: vec!["server.jks".into()],
        invariant: Box::new(|d| {
            absent_or(d, "server.jks", |b| {
                let findings =
                    certmint::salesforce::check_jks(b, &pw()).map_err(|e| e.to_string())?;
                if !certmint::salesforce::all_pass(&findings) {
                    return Err(format!("breaks a Salesforce rule: {findings:?}"));
                }
                Ok(())
            })?;
            mode_is(d, "server.jks", 0o600)
        }),
        rerun: force_if_exists(a, "server.jks"),
        kills: 26,
        seed: 0x6a6b_7306,
    });
}

// Adding `init`, `renew` or `rotate`: one more `Case`, e.g.
//
//     crash::run(&Case {
//         name: "init",
//         setup: Box::new(|d| std::fs::write(d.join("notes.txt"), b"keep\n").unwrap()),
//         args: args(&["init", "acme", "--subj", "/CN=acme-jwt", "--passout", "env:CRASH_PW"]),
//         env: env(),
//         may_change: vec![],                   // renew/rotate: vec!["acme/certmint.toml".into(), "acme/current".into()]
//         may_create: vec!["acme".into()],      // everything under it
//         invariant: Box::new(|d| /* manifest parses; each listed file exists and matches its sha256;
//                                     `current` names a complete generation; no key was replaced */ Ok(())),
//         rerun: Box::new(|_| args(&["init", "acme", "--subj", "/CN=acme-jwt", "--passout", "env:CRASH_PW"])),
//         kills: 20,
//         seed: 0x696e_6974,
//     });
