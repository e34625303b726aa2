//! The crash-safety harness (issue 7): run a certmint command line, kill it with SIGKILL
//! after a delay, and check what is left; many times, with delays from a fixed seed so a
//! run is reproducible. After every kill:
//!
//! - every file that existed before is byte-identical (unless the case lets it change,
//!   e.g. a `--force` target or a manifest that is rewritten atomically);
//! - nothing new exists but the case's outputs and, at worst, certmint's own temp files
//!   (`.certmint-*.tmp`, see `certmint::output`; counted and reported);
//! - the case's invariant holds (typically: each output is absent, or complete and valid);
//! - a re-run completes (exit 0), the invariant holds again, and no temp file is left.
//!
//! Add a command by writing a [`Case`] and calling [`run`]; `init`, `renew` and `rotate`
//! plug in the same way (their invariant checks the generation directories and manifest).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a file system entry holds, for before/after comparisons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Entry {
    File(Vec<u8>),
    Dir,
    Symlink(PathBuf),
}

/// Every entry under a directory, by relative path.
pub(crate) type Snapshot = BTreeMap<PathBuf, Entry>;

/// Walk `dir` recursively.
pub(crate) fn snapshot(dir: &Path) -> Snapshot {
    fn walk(root: &Path, dir: &Path, out: &mut Snapshot) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            let Ok(meta) = p.symlink_metadata() else {
                continue;
            };
            if meta.file_type().is_symlink() {
                out.insert(
                    rel,
                    Entry::Symlink(std::fs::read_link(&p).unwrap_or_default()),
                );
            } else if meta.is_dir() {
                out.insert(rel, Entry::Dir);
                walk(root, &p, out);
            } else {
                out.insert(rel, Entry::File(std::fs::read(&p).unwrap_or_default()));
            }
        }
    }
    let mut out = Snapshot::new();
    walk(dir, dir, &mut out);
    out
}

/// True for certmint's temp file names (mirrors `certmint::output::is_temp_name`).
pub(crate) fn is_temp(path: &Path) -> bool {
    path.file_name().is_some_and(certmint::output::is_temp_name)
}

/// Temp files anywhere under `dir`.
pub(crate) fn temp_files(dir: &Path) -> Vec<PathBuf> {
    snapshot(dir).into_keys().filter(|p| is_temp(p)).collect()
}

/// An invariant over the directory after a kill or a re-run.
pub(crate) type Invariant = Box<dyn Fn(&Path) -> Result<(), String>>;

/// The re-run's arguments, chosen from the directory left by a kill.
pub(crate) type Rerun = Box<dyn Fn(&Path) -> Vec<String>>;

/// One command to kill repeatedly.
pub(crate) struct Case {
    /// For messages.
    pub name: &'static str,
    /// Fill a fresh directory with the inputs and any pre-existing files.
    pub setup: Box<dyn Fn(&Path)>,
    /// certmint's arguments (run in the directory, so relative paths work).
    pub args: Vec<String>,
    /// Environment for certmint (password variables).
    pub env: Vec<(String, String)>,
    /// Pre-existing paths the command may legitimately replace (atomically).
    pub may_change: Vec<PathBuf>,
    /// New paths the command may create (files and directories, relative). Anything else
    /// new, except certmint temp files, is a failure.
    pub may_create: Vec<PathBuf>,
    /// What must hold after a kill and after a re-run.
    pub invariant: Invariant,
    /// The re-run's arguments, given the directory after the kill (e.g. add `--force`
    /// when the output exists for a single-file command; `init` resumes as is).
    pub rerun: Rerun,
    /// How many kills.
    pub kills: usize,
    /// Seed for the delays.
    pub seed: u64,
}

/// What a run of a case did.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub kills: usize,
    /// Kills that landed while certmint was still running.
    pub interrupted: usize,
    /// Temp files found right after a kill (all removed by the re-runs).
    pub temp_files_after_kill: usize,
    /// Kills after which some output existed (complete and valid, by the invariant).
    pub outputs_present: usize,
}

fn certmint(dir: &Path, args: &[String], env: &[(String, String)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_certmint"));
    c.args(args)
        .current_dir(dir)
        .env_remove("CERTMINT_PASS")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

fn run_to_end(dir: &Path, args: &[String], env: &[(String, String)]) -> Result<(), String> {
    let out = certmint(dir, args, env)
        .output()
        .map_err(|e| format!("cannot run certmint: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "certmint {args:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// xorshift64*: fixed-seed delays, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Check the state after a kill against the state before.
fn check_after_kill(case: &Case, dir: &Path, before: &Snapshot) -> Result<usize, String> {
    let after = snapshot(dir);
    for (path, entry) in before {
        if case.may_change.iter().any(|p| p == path) {
            continue;
        }
        match after.get(path) {
            Some(e) if e == entry => {}
            Some(_) => return Err(format!("pre-existing {} was modified", path.display())),
            None => return Err(format!("pre-existing {} disappeared", path.display())),
        }
    }
    let mut temps = 0;
    for path in after.keys() {
        if before.contains_key(path) {
            continue;
        }
        if is_temp(path) {
            temps += 1;
            continue;
        }
        let allowed = case
            .may_create
            .iter()
            .any(|p| p == path || path.starts_with(p));
        if !allowed {
            return Err(format!("unexpected new file {}", path.display()));
        }
    }
    (case.invariant)(dir)?;
    Ok(temps)
}

/// Kill the case's command `case.kills` times at spread-out moments and check each time
/// (see the module documentation). Panics with the case name, kill number and delay on
/// the first failure.
#[allow(
    clippy::print_stderr,
    reason = "the crash report of each case, for whoever runs the slow tier with --nocapture"
)]
pub(crate) fn run(case: &Case) -> Report {
    // The typical runtime, to spread the delays over it (never asserted).
    let scratch = tempfile::tempdir().unwrap();
    (case.setup)(scratch.path());
    let t0 = Instant::now();
    run_to_end(scratch.path(), &case.args, &case.env)
        .unwrap_or_else(|e| panic!("{}: the command fails even without a kill: {e}", case.name));
    let typical = t0.elapsed();
    (case.invariant)(scratch.path())
        .unwrap_or_else(|e| panic!("{}: invariant fails after a clean run: {e}", case.name));

    let mut rng = Rng(case.seed | 1);
    let mut report = Report::default();
    for i in 0..case.kills {
        // Half the kills anywhere in the run, half near its end, where the writes are.
        let frac = if i % 2 == 0 {
            rng.unit() * 1.05
        } else {
            0.7 + rng.unit() * 0.45
        };
        let delay = typical.mul_f64(frac);
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        (case.setup)(dir);
        let before = snapshot(dir);
        let mut child = certmint(dir, &case.args, &case.env)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            report.interrupted += 1;
        }
        child.kill().ok(); // SIGKILL on Unix
        child.wait().unwrap();
        report.kills += 1;
        let ctx = |e: String| format!("{}: kill {i} after {delay:?}: {e}", case.name);
        let temps = check_after_kill(case, dir, &before).unwrap_or_else(|e| panic!("{}", ctx(e)));
        report.temp_files_after_kill += temps;
        if snapshot(dir).len() > before.len() + temps {
            report.outputs_present += 1;
        }
        let rerun = (case.rerun)(dir);
        run_to_end(dir, &rerun, &case.env)
            .and_then(|()| (case.invariant)(dir))
            .map_err(|e| format!("re-run: {e}"))
            .unwrap_or_else(|e| panic!("{}", ctx(e)));
        let left = temp_files(dir);
        assert!(
            left.is_empty(),
            "{}",
            ctx(format!("temp files left after the re-run: {left:?}"))
        );
    }
    eprintln!("{}: {report:?} (typical run {typical:?})", case.name);
    report
}

/// Invariant helper: `path` (relative to `dir`) is absent, or passes `check`.
pub(crate) fn absent_or(
    dir: &Path,
    path: &str,
    check: impl Fn(&[u8]) -> Result<(), String>,
) -> Result<(), String> {
    match std::fs::read(dir.join(path)) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("cannot read {path}: {e}")),
        Ok(bytes) => check(&bytes).map_err(|e| format!("{path} exists but is not valid: {e}")),
    }
}

/// Invariant helper: a file that exists has exactly `mode` permissions.
pub(crate) fn mode_is(dir: &Path, path: &str, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::metadata(dir.join(path)) {
        Err(_) => Ok(()),
        Ok(m) if m.permissions().mode() & 0o777 == mode => Ok(()),
        Ok(m) => Err(format!(
            "{path} has mode {:o}, not {mode:o}",
            m.permissions().mode() & 0o777
        )),
    }
}

/// The re-run most single-output commands need: the same arguments, plus `--force` when
/// the output already exists (the killed run may have finished writing it).
pub(crate) fn force_if_exists(args: Vec<String>, output: &'static str) -> Rerun {
    Box::new(move |dir: &Path| {
        let mut a = args.clone();
        if dir.join(output).exists() && !a.iter().any(|x| x == "--force") {
            a.push("--force".into());
        }
        a
    })
}

/// `Duration` helper for callers.
pub(crate) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}
