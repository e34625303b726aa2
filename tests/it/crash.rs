//! Crash safety (issue 7): certmint killed with SIGKILL at many points while it works and
//! writes never leaves a partial or corrupt output, never touches a pre-existing file, and
//! a re-run completes. The harness is `tests/it/support/crash.rs`; each command here is one
//! [`Case`], including `init`, `renew` and `rotate` on a certmint directory. 148 kills in all, with
//! delays from fixed seeds spread over each command's typical runtime.

use crate::support::crash;
use crate::support::fixture;

use std::path::Path;

use certmint::Password;
use crash::{Case, absent_or, force_if_exists, mode_is};

const PW: &str = "crash-pass";

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
            std::fs::write(
                d.join("pw.txt"),
                format!("{}\n", crate::support::FIXTURE_PW),
            )
            .unwrap();
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

// The lifecycle commands on a certmint directory.

/// A directory made by `certmint init`: every recorded file of a complete generation is
/// present with its recorded SHA-256; `current` names a complete generation; every file of
/// a pending generation that exists is complete and valid (keys load with the password and
/// hold the recorded key, certificates parse, keystores open).
fn workdir_ok(root: &Path) -> Result<(), String> {
    use certmint::manifest::{Role, Status};
    let dir = root.join("acme");
    if !dir.join("certmint.toml").exists() {
        // Killed before the manifest: nothing but (maybe) the empty directory.
        let stray = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.flatten()
                    .any(|e| !certmint::output::is_temp_name(&e.file_name()))
            })
            .unwrap_or(false);
        return if stray {
            Err("files but no manifest".into())
        } else {
            Ok(())
        };
    }
    let m = certmint::workdir::load(&dir).map_err(|e| format!("manifest: {e}"))?;
    let p = pw();
    for g in &m.generations {
        let gdir = dir.join(&g.dir);
        match g.status {
            Status::Complete => {
                for f in g.files.values() {
                    let bytes = std::fs::read(gdir.join(&f.name))
                        .map_err(|e| format!("{}/{}: {e}", g.dir, f.name))?;
                    if certmint::manifest::file_digest(&bytes) != f.sha256 {
                        return Err(format!("{}/{} differs from the manifest", g.dir, f.name));
                    }
                }
            }
            Status::Pending => {
                for role in certmint::manifest::ROLES {
                    let path = gdir.join(role.file_name(&m.stem));
                    let Ok(bytes) = std::fs::read(&path) else {
                        continue;
                    };
                    let ok = match role {
                        Role::EncryptedKey | Role::PlainKey => {
                            let pw = (role == Role::EncryptedKey).then_some(&p);
                            certmint::key::load(&bytes, pw)
                                .map(|(k, _)| {
                                    g.public_key_sha256.is_empty()
                                        || k.public_key_sha256() == g.public_key_sha256
                                })
                                .map_err(|e| e.to_string())
                        }
                        Role::Csr => certmint::csr::parse(&bytes)
                            .map(|_| true)
                            .map_err(|e| e.to_string()),
                        Role::Certificate | Role::CertificateDer => certmint::x509::parse(&bytes)
                            .map(|_| true)
                            .map_err(|e| e.to_string()),
                        Role::Pkcs12 | Role::Jks => {
                            certmint::keystore::open(&bytes, &p, None, None, true)
                                .map(|_| true)
                                .map_err(|e| e.to_string())
                        }
                    };
                    match ok {
                        Ok(true) => {}
                        Ok(false) => {
                            return Err(format!(
                                "{} holds another key than recorded",
                                path.display()
                            ));
                        }
                        Err(e) => return Err(format!("{}: {e}", path.display())),
                    }
                }
            }
        }
    }
    if let Some(c) = &m.current {
        let g = m
            .generations
            .iter()
            .find(|g| &g.dir == c)
            .ok_or("current is not listed")?;
        if g.status != Status::Complete {
            return Err(format!("current names the unfinished {c}"));
        }
    }
    if let Ok(target) = std::fs::read_link(dir.join("current")) {
        let name = target.to_string_lossy().into_owned();
        match m.generations.iter().find(|g| g.dir == name) {
            Some(g) if g.status == Status::Complete => {}
            _ => {
                return Err(format!(
                    "the current link points at {name}, not a complete generation"
                ));
            }
        }
    }
    Ok(())
}

/// A complete directory made once, copied into each kill's fresh directory.
fn initialised(dir: &Path) {
    static TEMPLATE: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let t = TEMPLATE.get_or_init(|| {
        let t = tempfile::tempdir().unwrap();
        let out = std::process::Command::new(crate::support::BIN)
            .args([
                "-q",
                "init",
                "acme",
                "--subj",
                "/CN=acme-jwt",
                "--passout",
                "env:CRASH_PW",
            ])
            .current_dir(t.path())
            .env("CRASH_PW", PW)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        t
    });
    let status = std::process::Command::new("cp")
        .args(["-a", "acme"])
        .arg(dir)
        .current_dir(t.path())
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::write(dir.join("notes.txt"), b"unrelated file\n").unwrap();
}

#[test]
fn kill_init() {
    let a = args(&[
        "init",
        "acme",
        "--subj",
        "/CN=acme-jwt",
        "--passout",
        "env:CRASH_PW",
    ]);
    crash::run(&Case {
        name: "init",
        setup: Box::new(|d| std::fs::write(d.join("notes.txt"), b"unrelated file\n").unwrap()),
        args: a.clone(),
        env: env(),
        may_change: vec![],
        may_create: vec!["acme".into()],
        invariant: Box::new(workdir_ok),
        rerun: Box::new(move |_| a.clone()),
        kills: 14,
        seed: 0x696e_6974,
    });
}

#[test]
fn kill_renew() {
    let a = args(&["renew", "acme", "--passin", "env:CRASH_PW"]);
    crash::run(&Case {
        name: "renew",
        setup: Box::new(initialised),
        args: a.clone(),
        env: env(),
        may_change: vec!["acme/certmint.toml".into(), "acme/current".into()],
        may_create: vec!["acme".into()],
        invariant: Box::new(workdir_ok),
        rerun: Box::new(move |_| a.clone()),
        kills: 12,
        seed: 0x7265_6e77,
    });
}

#[test]
fn kill_rotate() {
    let a = args(&["rotate", "acme", "--passin", "env:CRASH_PW"]);
    crash::run(&Case {
        name: "rotate",
        setup: Box::new(initialised),
        args: a.clone(),
        env: env(),
        may_change: vec!["acme/certmint.toml".into()],
        may_create: vec!["acme".into()],
        invariant: Box::new(workdir_ok),
        rerun: Box::new(move |_| a.clone()),
        kills: 12,
        seed: 0x726f_7461,
    });
}
