//! The real clients the tests drive (installed pinned by `.ci/run` into
//! `target/clients`, or where `CERTMINT_CLIENTS_DIR` points): where they are, and the
//! Salesforce CLI with a HOME of its own. A missing client fails the test with the command
//! that installs it; nothing is skipped.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub(crate) const INSTALL: &str = "install them with: mkdir -p target/clients && cp tests/clients/package.json tests/clients/package-lock.json target/clients/ && (cd target/clients && npm ci) && python3 -m venv target/clients/venv && target/clients/venv/bin/pip install -r tests/clients/requirements.txt (what .ci/run does)";

pub(crate) fn clients_dir() -> PathBuf {
    std::env::var_os("CERTMINT_CLIENTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/clients"))
}

pub(crate) fn require_file(p: &Path, what: &str) -> PathBuf {
    assert!(
        p.exists(),
        "{what} is not installed at {}; {INSTALL}",
        p.display()
    );
    p.to_path_buf()
}

pub(crate) fn json_of(out: &Output, what: &str) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    let start = text.find('{').unwrap_or(0);
    serde_json::from_str(&text[start..]).unwrap_or_else(|e| {
        panic!(
            "{what}: not JSON ({e}):\nstdout: {text}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The Salesforce CLI with a HOME of its own, no telemetry, no update checks.
pub(crate) struct Sf {
    pub(crate) bin: PathBuf,
    pub(crate) path: String,
    pub(crate) home: tempfile::TempDir,
}

impl Sf {
    pub(crate) fn new() -> Sf {
        let bin = require_file(
            &clients_dir().join("node_modules/.bin/sf"),
            "the Salesforce CLI (@salesforce/cli)",
        );
        let path = format!(
            "{}:{}",
            bin.parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Sf {
            bin,
            path,
            home: tempfile::tempdir().unwrap(),
        }
    }

    pub(crate) fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.args(args)
            .arg("--json")
            .env("HOME", self.home.path())
            .env("PATH", &self.path)
            .env("SF_DISABLE_TELEMETRY", "true")
            .env("SF_AUTOUPDATE_DISABLE", "true")
            .env("SF_USE_GENERIC_UNIX_KEYCHAIN", "true")
            .env_remove("SF_ACCESS_TOKEN")
            .env_remove("HTTPS_PROXY")
            .env_remove("HTTP_PROXY")
            .env_remove("https_proxy")
            .env_remove("http_proxy")
            .current_dir(self.home.path())
            .stdin(std::process::Stdio::null());
        c
    }

    /// Run `sf ARGS --json`; assert status 0; the `result`.
    pub(crate) fn ok(&self, args: &[&str]) -> Value {
        self.ok_with(args, &[])
    }

    pub(crate) fn ok_with(&self, args: &[&str], env: &[(&str, &str)]) -> Value {
        let mut c = self.cmd(args);
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().expect("run sf");
        let v = json_of(&out, &format!("sf {args:?}"));
        assert_eq!(v["status"], 0, "sf {args:?}: {v:#}");
        v["result"].clone()
    }
}

impl Sf {
    /// Give `c` (a certmint that runs sf itself) this sf on PATH, its HOME and settings.
    pub(crate) fn env_into(&self, c: &mut Command) {
        c.env("HOME", self.home.path())
            .env("PATH", &self.path)
            .env("SF_DISABLE_TELEMETRY", "true")
            .env("SF_AUTOUPDATE_DISABLE", "true")
            .env("SF_USE_GENERIC_UNIX_KEYCHAIN", "true")
            .env_remove("SF_ACCESS_TOKEN");
    }
}
