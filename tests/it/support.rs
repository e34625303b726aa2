//! Helpers shared by the integration tests. Tools the tests need (openssl, java, keytool)
//! are required: a missing tool fails the test with a clear message, never skips it.
#![allow(dead_code)]

pub(crate) mod crash;
pub(crate) mod der;
pub(crate) mod emulator;
pub(crate) mod pty;
pub(crate) mod sf;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// One `#[test]` per case of a table, so a failure names its case:
///
/// ```ignore
/// cases!(completions {
///     bash => completions_for("bash"),
///     zsh => completions_for("zsh"),
/// });
/// ```
///
/// makes the tests `completions::bash` and `completions::zsh` (in a module of that name
/// inside the calling module, which sees the caller's items), each running its call. Doc
/// comments before the module name document the module.
/// (The `test-case` crate does the same with attributes; it was measured and costs more to
/// build: docs/performance.md, "Test build and run time".)
macro_rules! cases {
    ($(#[$doc:meta])* $module:ident { $($name:ident => $call:expr),+ $(,)? }) => {
        $(#[$doc])*
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                fn $name() {
                    $call;
                }
            )+
        }
    };
}
pub(crate) use cases;

/// Password of every encrypted fixture (see fixtures/README.md).
pub(crate) const FIXTURE_PW: &str = "fixture-pass";

/// Path of the certmint binary under test (for `std::process::Command` and `sh -c`).
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_certmint");

/// The certmint binary under test, with a clean environment: no `CERTMINT_PASS`,
/// `NO_COLOR` set and a UTF-8 C locale (so peers and certmint agree on non-ASCII text).
pub(crate) fn certmint() -> assert_cmd::Command {
    private_fixtures();
    let mut c = assert_cmd::Command::new(BIN);
    c.env_remove("CERTMINT_PASS")
        .env("NO_COLOR", "1")
        .env("LC_ALL", "C.UTF-8");
    c
}

/// The certmint binary as a `std::process::Command` for tests that talk to a local
/// emulator: no proxy variables (a developer's proxy must not see loopback traffic, and
/// certmint must not be told to use one), stdin closed, `NO_COLOR` set.
pub(crate) fn certmint_offline() -> Command {
    private_fixtures();
    let mut c = Command::new(BIN);
    for v in [
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
        "HTTP_PROXY",
        "http_proxy",
    ] {
        c.env_remove(v);
    }
    c.env_remove("CERTMINT_PASS")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null());
    c
}

/// A scratch directory holding the committed base key as `key.pem` and its certificate
/// as `cert.pem` (the pair acme.toml's apps trust).
pub(crate) fn base_pair_in() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("keys/base.pkcs8.pem"), dir.path().join("key.pem")).unwrap();
    std::fs::copy(fixture("certs/base.crt"), dir.path().join("cert.pem")).unwrap();
    dir
}

/// The subcommands listed by `certmint --help` (without `help`).
pub(crate) fn subcommands() -> Vec<String> {
    let out = Command::new(BIN)
        .arg("--help")
        .env("NO_COLOR", "1")
        .output()
        .expect("run certmint --help");
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).expect("UTF-8 help");
    let mut names = Vec::new();
    let mut in_commands = false;
    for line in help.lines() {
        if line.starts_with("Commands:") {
            in_commands = true;
            continue;
        }
        if in_commands {
            if line.trim().is_empty() {
                break;
            }
            // "  name   description"; wrapped description lines are indented further.
            if let Some(rest) = line.strip_prefix("  ")
                && !rest.starts_with(' ')
                && let Some(name) = rest.split_whitespace().next()
                && name != "help"
            {
                names.push(name.to_string());
            }
        }
    }
    names
}

/// Path of the certmint binary (for `sh -c` wrappers).
pub(crate) fn certmint_path() -> &'static str {
    BIN
}

/// The fixtures' keys and keystores are secrets, and a checkout makes them 0644 (git
/// keeps only the executable bit): they are made 0600 once per test run, as certmint
/// writes such files, so that the commands reading them (and copies of them, which keep
/// the mode) do not warn that other users can read them. That warning is tested on files
/// made readable on purpose (tests/it/security.rs).
pub(crate) fn private_fixtures() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        use std::os::unix::fs::PermissionsExt;
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        for sub in ["keys", "p12", "jks"] {
            for e in std::fs::read_dir(root.join(sub)).unwrap() {
                let path = e.unwrap().path();
                if path.is_file() {
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                        .unwrap();
                }
            }
        }
    });
}

/// A path under fixtures/.
pub(crate) fn fixture(rel: &str) -> PathBuf {
    private_fixtures();
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

/// Fail (never skip) when `tool` is missing or does not run: `openssl`, `keytool`, `java`,
/// `unshare` or anything that answers `--version`.
pub(crate) fn require(tool: &str) {
    let probe: &[&str] = match tool {
        "openssl" => &["version"],
        "keytool" => &["-help"],
        "java" => &["-version"],
        "unshare" => &["--version"],
        _ => &["--version"],
    };
    require_with(tool, probe)
}

fn require_with(tool: &str, probe: &[&str]) {
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
pub(crate) fn openssl() -> Command {
    require("openssl");
    Command::new("openssl")
}

/// Run openssl with `args`, assert success, return stdout as text.
pub(crate) fn openssl_ok(args: &[&str]) -> String {
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
pub(crate) fn keytool() -> Command {
    require("keytool");
    Command::new("keytool")
}

/// A `java` command; panics when the JDK is missing.
pub(crate) fn java() -> Command {
    require("java");
    Command::new("java")
}

/// The RSA key in a fixture file (unencrypted), e.g. `keys/base.pkcs8.pem`. Tests use
/// the committed keys instead of generating one: generation is tested where it is the
/// thing under test (`certmint key`, `init`, the library's own unit tests).
pub(crate) fn fixture_key(rel: &str) -> certmint::key::RsaKey {
    let data = std::fs::read(fixture(rel)).unwrap_or_else(|e| panic!("fixture {rel}: {e}"));
    certmint::key::load(&data, None)
        .unwrap_or_else(|e| panic!("fixture {rel}: {e}"))
        .0
}

/// A path under fixtures/, as a string (for argument lists).
pub(crate) fn fx(rel: &str) -> String {
    fixture(rel).to_str().unwrap().to_owned()
}

/// A path as a string (for argument lists).
pub(crate) fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A fixture file as text.
pub(crate) fn fixture_text(rel: &str) -> String {
    std::fs::read_to_string(fixture(rel)).unwrap_or_else(|e| panic!("fixture {rel}: {e}"))
}

/// A self-signed PEM certificate for `key`, `/O=Test/CN=<cn>`, valid from now for `days`
/// (signing only, no key generation).
pub(crate) fn self_signed_pem(key: &certmint::key::RsaKey, cn: &str, days: u32) -> String {
    let subject = certmint::subject::Subject::parse_openssl(&format!("/O=Test/CN={cn}")).unwrap();
    let validity = certmint::x509::Validity::starting_now(days).unwrap();
    certmint::x509::to_pem(&certmint::x509::self_signed(key, &subject, &validity).unwrap())
}

/// Text of stdout and stderr.
pub(crate) fn texts(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Text of stderr.
pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The public key of a private key, certificate or CSR, as PEM, according to openssl.
pub(crate) fn openssl_pubkey(path: &Path, kind: &str, passin: Option<&str>) -> String {
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
pub(crate) fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Names of the entries in a directory (to check no temp or partial files are left).
pub(crate) fn dir_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}
