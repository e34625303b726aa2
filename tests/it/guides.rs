//! The guides' command blocks run in order when pasted (issue 20, item 17): each
//! `$ ` line of a guide's `console` blocks, continuations joined, runs through bash in one
//! scratch directory, in document order, with certmint on PATH, stdin closed (a command
//! that would ask for a password fails) and the starting files and passwords the guide
//! names. Every line must exit 0, and the output lines a block shows after a command must
//! be among what it printed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::{BIN, FIXTURE_PW, fixture, require};

/// One command of a guide, with the output the guide shows for it.
struct Step {
    line: usize,
    command: String,
    shown: Vec<String>,
}

/// The `$ ` commands of a markdown text's `console` blocks, in order.
fn steps(markdown: &str) -> Vec<Step> {
    let lines: Vec<&str> = markdown.lines().collect();
    let mut steps: Vec<Step> = Vec::new();
    let mut in_console = false;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            in_console = !in_console && trimmed.trim_start_matches('`').trim() == "console";
            i += 1;
            continue;
        }
        if !in_console {
            i += 1;
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix("$ ") {
            let first = i + 1;
            let mut command = rest.to_owned();
            i += 1;
            while command.ends_with('\\') && i < lines.len() {
                command.pop();
                command.push(' ');
                command.push_str(lines[i].trim());
                i += 1;
            }
            steps.push(Step {
                line: first,
                command,
                shown: Vec::new(),
            });
            continue;
        }
        if let Some(step) = steps.last_mut()
            && !trimmed.is_empty()
        {
            step.shown.push(trimmed.to_owned());
        }
        i += 1;
    }
    steps
}

/// A directory holding a `certmint` that is the binary under test, for PATH.
fn bin_dir(root: &Path) -> PathBuf {
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(BIN, bin.join("certmint")).unwrap();
    bin
}

/// Run `doc`'s steps in `work` with `env`; panics naming the first line that fails.
fn run_in_order(doc: &str, work: &Path, env: &[(&str, &str)]) -> usize {
    let text =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(doc)).unwrap();
    let root = work.parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir(root).display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let steps = steps(&text);
    for step in &steps {
        let mut c = Command::new("bash");
        c.args(["-c", &format!("set -o pipefail\n{}", step.command)])
            .current_dir(work)
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .env("LC_ALL", "C.UTF-8")
            .env_remove("CERTMINT_PASS")
            .stdin(Stdio::null());
        for v in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] {
            c.env_remove(v);
        }
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{doc}:{} `{}` failed ({}):\n{stdout}\n{stderr}",
            step.line,
            step.command,
            out.status
        );
        for shown in &step.shown {
            assert!(
                stdout.lines().any(|l| l.trim() == shown),
                "{doc}:{} `{}` did not print `{shown}`:\n{stdout}\n{stderr}",
                step.line,
                step.command
            );
        }
    }
    steps.len()
}

/// docs/java-teams.md: from `server.key`, `server.pass.key` and `server.crt`, with keytool
/// and java (its `tests/java` programs) as the guide uses them.
#[test]
fn java_teams_guide_runs_in_order() {
    require("keytool");
    require("java");
    let root = tempfile::tempdir().unwrap();
    let work = root.path().join("work");
    std::fs::create_dir(&work).unwrap();
    std::fs::copy(fixture("keys/base.pkcs8.pem"), work.join("server.key")).unwrap();
    std::fs::copy(fixture("keys/enc-aes256.pem"), work.join("server.pass.key")).unwrap();
    std::fs::copy(fixture("certs/base.crt"), work.join("server.crt")).unwrap();
    // The guide's Java programs, where it says they are (`tests/java/...`).
    std::os::unix::fs::symlink(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests"),
        work.join("tests"),
    )
    .unwrap();
    let ran = run_in_order(
        "docs/java-teams.md",
        &work,
        &[
            ("KEY_PASS", FIXTURE_PW),
            ("P12_PASS", "p12-pass-1"),
            ("JKS_PASS", "jks-pass-1"),
            ("CERT_PASS", "cert-pass-1"),
            ("STORE_PASS", "store-pass-1"),
            ("TEAM_KEY_PASS", "team-key-pass-1"),
        ],
    );
    assert!(ran >= 15, "only {ran} commands found in docs/java-teams.md");
}

#[test]
fn steps_join_continuations_and_keep_shown_output() {
    let md = "text\n```console\n$ a \\\n    b\n$ c\nOK c\n```\n$ not in a block\n```sh\n$ d\n```\n";
    let s = steps(md);
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].command, "a  b");
    assert!(s[0].shown.is_empty());
    assert_eq!((s[1].line, s[1].command.as_str()), (5, "c"));
    assert_eq!(s[1].shown, ["OK c"]);
}
