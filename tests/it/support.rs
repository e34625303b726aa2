//! Helpers shared by the integration tests. Tools the tests need (openssl, java, keytool)
//! are required: a missing tool fails the test with a clear message, never skips it.
#![allow(dead_code)]

pub mod crash;
pub mod der;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// Password of every encrypted fixture (see fixtures/README.md).
pub const FIXTURE_PW: &str = "fixture-pass";

/// The certmint binary under test.
pub fn certmint() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::new(env!("CARGO_BIN_EXE_certmint"));
    c.env_remove("CERTMINT_PASS").env("NO_COLOR", "1");
    c
}

/// Path of the certmint binary (for `sh -c` wrappers).
pub fn certmint_path() -> &'static str {
    env!("CARGO_BIN_EXE_certmint")
}

/// A path under fixtures/.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

fn require(tool: &str, probe: &[&str]) {
    static CHECKED: OnceLock<std::sync::Mutex<Vec<String>>> = OnceLock::new();
    let checked = CHECKED.get_or_init(Default::default);
    let mut done = checked.lock().unwrap_or_else(|e| e.into_inner());
    if done.iter().any(|t| t == tool) {
        return;
    }
    match Command::new(tool).args(probe).output() {
        Ok(o) if o.status.success() => done.push(tool.to_string()),
        other => panic!(
            "`{tool}` is required by this test and is not usable ({other:?}); install it \
             (apt-get install -y openssl default-jdk-headless) instead of skipping the test"
        ),
    }
}

/// An `openssl` command; panics when openssl is missing.
pub fn openssl() -> Command {
    require("openssl", &["version"]);
    Command::new("openssl")
}

/// Run openssl with `args`, assert success, return stdout as text.
pub fn openssl_ok(args: &[&str]) -> String {
    let out = openssl().args(args).output().expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?} failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A `keytool` command; panics when the JDK is missing.
pub fn keytool() -> Command {
    require("keytool", &["-help"]);
    Command::new("keytool")
}

/// A `java` command; panics when the JDK is missing.
pub fn java() -> Command {
    require("java", &["-version"]);
    Command::new("java")
}

/// Text of stdout and stderr.
pub fn texts(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The public key of a private key, certificate or CSR, as PEM, according to openssl.
pub fn openssl_pubkey(path: &Path, kind: &str, passin: Option<&str>) -> String {
    let p = path.to_str().unwrap();
    let mut args: Vec<&str> = match kind {
        "key" => vec!["pkey", "-in", p, "-pubout"],
        "csr" => vec!["req", "-in", p, "-noout", "-pubkey"],
        "cert" => vec!["x509", "-in", p, "-noout", "-pubkey"],
        other => panic!("unknown kind {other}"),
    };
    let pass;
    if let Some(pw) = passin {
        pass = format!("pass:{pw}");
        args.push("-passin");
        args.push(&pass);
    }
    openssl_ok(&args)
}

/// Unix permission bits of a file.
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Names of the entries in a directory (to check no temp or partial files are left).
pub fn dir_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}
