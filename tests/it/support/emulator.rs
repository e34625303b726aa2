//! The emulator the tests talk to: `fixtures/emulator/acme.toml` (the configuration
//! documented in docs/emulator.md) over the committed base key and certificate, in process
//! ([`acme`], [`start`]) or as a `certmint emulate` child ([`Child`]). No key is generated:
//! the apps trust `fixtures/certs/base.crt`, so assertions are signed with
//! `fixtures/keys/base.pkcs8.pem`; a TLS identity is a certificate signed at run time over
//! a committed key ([`tls_identity`]).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use certmint::emulator::{Config, Running, ServerOptions, TlsIdentity};

use super::{BIN, fixture, fixture_key};

/// The text of `fixtures/emulator/acme.toml`.
pub(crate) fn acme_toml() -> String {
    super::fixture_text("emulator/acme.toml")
}

/// A configuration from TOML text; relative paths in it (`certificate = "../certs/base.crt"`)
/// are resolved against `fixtures/emulator/`, as for acme.toml itself.
pub(crate) fn config(toml: &str) -> Config {
    let dir = fixture("emulator");
    Config::from_toml(toml, &mut |p: &Path| std::fs::read(dir.join(p)))
        .unwrap_or_else(|e| panic!("emulator configuration: {e}\n{toml}"))
}

/// acme.toml as it is.
pub(crate) fn acme() -> Config {
    config(&acme_toml())
}

/// acme.toml with some of its settings changed and TOML appended. `settings` holds
/// `key = value` lines; each replaces the line of acme.toml that sets the same key (the
/// first one: `[org]` and `[emulator]` keys are unique), e.g.
/// `"clock_offset_seconds = 3600"` or `urls = "salesforce"`. `append` is added at the end
/// (more `[[users]]` or `[[apps]]`).
pub(crate) fn acme_with(settings: &str, append: &str) -> Config {
    config(&acme_text_with(settings, append))
}

/// The text behind [`acme_with`].
pub(crate) fn acme_text_with(settings: &str, append: &str) -> String {
    let mut lines: Vec<String> = acme_toml().lines().map(str::to_owned).collect();
    for setting in settings.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let key = setting
            .split('=')
            .next()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| panic!("not a `key = value` line: {setting}"));
        let line = lines
            .iter_mut()
            .find(|l| l.split('=').next().map(str::trim) == Some(key))
            .unwrap_or_else(|| panic!("acme.toml sets no `{key}`"));
        *line = setting.to_owned();
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text.push_str(append);
    text
}

/// Start an in-process emulator on 127.0.0.1 (an ephemeral port) over plain HTTP.
pub(crate) fn start(cfg: Config) -> Running {
    start_with(cfg, ServerOptions::default())
}

/// Start an in-process emulator with server options (limits, TLS, workers).
pub(crate) fn start_with(cfg: Config, options: ServerOptions) -> Running {
    certmint::emulator::start(cfg, options).expect("start the emulator")
}

/// A TLS server identity for `127.0.0.1` and `localhost`: a self-signed certificate made
/// now (rcgen) over the committed `fixtures/jks/acme.key`. Returns the identity and the
/// certificate as PEM (to pass to `--ca-file`); write `tls_key_pem()` for `--tls-key`.
pub(crate) fn tls_identity() -> (TlsIdentity, String) {
    let key = fixture_key("jks/acme.key");
    let params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let cert = params.self_signed(&key.rcgen_key_pair().unwrap()).unwrap();
    let identity = TlsIdentity {
        cert_chain: vec![cert.der().to_vec()],
        key_pkcs8: key.pkcs8_der().clone(),
    };
    (identity, cert.pem())
}

/// The private key of [`tls_identity`], as PEM.
pub(crate) fn tls_key_pem() -> String {
    super::fixture_text("jks/acme.key")
}

/// A `certmint emulate` child process (the binary, as a user runs it): started with
/// `args` after `emulate`, its first stdout line (the base URL) read, its stderr (the
/// request log) written to a file. Killed when dropped; [`Child::stop`] stops it with
/// SIGTERM and returns the log.
pub(crate) struct Child {
    pub child: std::process::Child,
    /// The base URL it printed, e.g. `http://127.0.0.1:40123`.
    pub url: String,
    /// `host:port` of the URL.
    pub addr: String,
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Child {
    /// `certmint emulate ARGS`, run in the current directory.
    pub(crate) fn spawn(args: &[&str]) -> Child {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("emulator.log");
        let mut child = Command::new(BIN)
            .arg("emulate")
            .args(args)
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
            .spawn()
            .expect("start certmint emulate");
        let mut url = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut url)
            .unwrap();
        let url = url.trim().to_owned();
        let addr = url
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .to_owned();
        Child {
            child,
            url,
            addr,
            log,
            _dir: dir,
        }
    }

    /// `certmint emulate --cert fixtures/certs/base.crt --client-id KEY --user
    /// alice@example.com --listen LISTEN` plus `extra`.
    pub(crate) fn simple(listen: &str, extra: &[&str]) -> Child {
        let cert = fixture("certs/base.crt");
        let mut args = vec![
            "--cert",
            cert.to_str().unwrap(),
            "--client-id",
            "KEY",
            "--user",
            "alice@example.com",
            "--listen",
            listen,
        ];
        args.extend_from_slice(extra);
        Child::spawn(&args)
    }

    /// [`Child::simple`] with nothing extra.
    pub(crate) fn start(listen: &str) -> Child {
        Child::simple(listen, &[])
    }

    /// Stop with SIGTERM (a clean stop flushes the log) and return the log.
    pub(crate) fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        std::fs::read_to_string(&self.log).unwrap()
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
