//! `certmint check`: arguments, passwords and printing. What is checked, and what a
//! failure's fix is, is the library's [`certmint::check`].

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use certmint::check::{self, Options, Plan, Report, Status, Summary};
use certmint::key::RsaKey;
use certmint::text::escape;
use clap::Args;

use super::common::Ctx;
use super::error::{CliError, CliResult, ExitStatus, shown};
use super::password::{PassSource, Purpose};
use super::stdio;

pub(super) const AFTER_HELP: &str = "\
EXAMPLES:
  $ certmint check acme-jwt                   # a directory made by init (cron)
  $ certmint check server.crt --warn-days 45  # a PEM or DER certificate
  $ certmint check server.crt --key server.key  # do key and certificate match?
  $ certmint check server.p12 --passin env:P12_PASS --json
  $ certmint check --salesforce server.jks --passin env:JKS_PASS

NOTES:
Checks each FILE or DIR and exits 1 when something needs attention: a certificate that
expires within --warn-days (default 30) or has expired, a key that does not match its
certificate, a JKS that breaks one of Salesforce's import rules, a certmint directory with
a missing, changed or unfinished file (a deleted server.key, the optional unencrypted key,
is reported as information). Salesforce itself keeps accepting assertions after
the connected-app certificate expires and never warns, so this is the alarm: run it from
cron or CI (see docs/ci.md). Quiet by default: when all is well it prints one line on a
terminal and nothing when piped or with -q, only the problems otherwise; --verbose prints
every check, --json a report for dashboards.

Certificates (PEM or DER) need no password. PKCS#12 and JKS files need the store password
(--passin); a directory is checked without one, and with --passin its keystores are opened
and checked too. With --salesforce, each file is checked against the rules Salesforce
applies in Setup > Certificate and Key Management > Import from Keystore, printed rule by
rule with Salesforce's own error message: the file is JKS (a PKCS#12/PFX must be converted
first), it holds a PrivateKeyEntry, the key is RSA, PKCS#8, 2048/3072/4096 bits, matches the
certificate, its password is the store password, and the alias is a valid Unique Name.
A JKS file is always checked against these rules.

EXIT CODES:
  0  all is well
  1  something needs attention (expiring or expired certificate, key/certificate
     mismatch, a Salesforce rule broken, a missing or changed file in a
     directory)
  2  error: unreadable, truncated or corrupt file, wrong password";

#[derive(Args, Debug)]
pub(crate) struct CheckArgs {
    /// The files or certmint directories to check.
    #[arg(value_name = "FILE|DIR", required = true)]
    pub files: Vec<PathBuf>,
    /// Check against Salesforce's keystore import rules, printing every rule.
    #[arg(long)]
    pub salesforce: bool,
    /// Warn when a certificate expires within this many days.
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    pub warn_days: i64,
    /// A private key that must match the certificates checked (unencrypted, or with
    /// --keypass for its password).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Password source for the keystore (the store password) or directory: pass:TEXT,
    /// env:VAR, file:PATH, fd:N or stdin.
    #[arg(long, value_name = "SRC")]
    pub passin: Option<PassSource>,
    /// Password source for an encrypted --key.
    #[arg(long, value_name = "SRC")]
    pub keypass: Option<PassSource>,
    /// Print every check, not only the problems.
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Print the results as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

pub(super) fn run(ctx: &mut Ctx, args: CheckArgs) -> CliResult<ExitStatus> {
    let key = match &args.key {
        Some(p) => Some(ctx.load_key(p, args.keypass.as_ref())?.0),
        None => None,
    };
    let opts = Options {
        warn_days: args.warn_days,
        salesforce: args.salesforce,
        now: certmint::x509::now_seconds(),
    };
    let mut summary = Summary::default();
    for path in &args.files {
        summary
            .files
            .push(check_one(ctx, path, &args, key.as_ref(), &opts)?);
    }
    if args.json {
        let doc = serde_json::to_string_pretty(&summary)
            .map_err(|e| CliError::new("cannot write the report as JSON").cause(e))?;
        stdio::out(format!("{doc}\n").as_bytes())?;
    } else {
        let verbose = args.verbose || args.salesforce;
        let mut text = String::new();
        for r in summary.files.iter().filter(|r| verbose || !r.ok()) {
            render(&mut text, r, verbose);
        }
        // All well, on a terminal: one line, so a person sees that the check ran. Piped
        // (cron, CI) or with -q it stays silent.
        if summary.ok() && !verbose && !ctx.quiet && std::io::stdout().is_terminal() {
            text.push_str(&success_line(&summary));
            text.push('\n');
        }
        stdio::out(text.as_bytes())?;
    }
    Ok(if summary.ok() {
        ExitStatus::Success
    } else {
        ExitStatus::No
    })
}

/// Check one file or directory: decide what to check, ask for a password only when it is
/// needed (after the structure is known to be sound), and let the library check.
fn check_one(
    ctx: &mut Ctx,
    path: &Path,
    args: &CheckArgs,
    key: Option<&RsaKey>,
    opts: &Options,
) -> CliResult<Report> {
    if path.is_dir() {
        return check_dir(ctx, path, args, opts);
    }
    // Zeroized: the file may be an unencrypted key (refused below, but read first).
    let data = zeroize::Zeroizing::new(ctx.read(path, "file to check")?);
    let plan = check::plan(&data, args.salesforce)
        .map_err(|e| CliError::lib("cannot check", Some(path), e))?;
    if let Plan::Nothing(kind) = plan {
        return Err(CliError::new(format!("cannot check `{}`", shown(path)))
            .cause(format!("it is {}, which has no expiry or rules to check", kind.describe()))
            .hint("check the certificate (with --key KEY to match them), a keystore, or a directory made by `certmint init`"));
    }
    let action = match plan {
        Plan::Certificate => "cannot read certificate",
        _ => "cannot read keystore",
    };
    plan.check_structure(&data)
        .map_err(|e| CliError::lib(action, Some(path), e))?;
    let password = if plan.needs_password() {
        Some(ctx.passwords.get(
            args.passin.as_ref(),
            "--passin",
            &format!("the keystore `{}`", shown(path)),
            Purpose::Existing,
        )?)
    } else {
        None
    };
    check::file(path, &data, &plan, password.as_ref(), key, opts).map_err(|e| {
        let wrong = matches!(e, certmint::Error::WrongPassword { .. }) && plan == Plan::Jks;
        let err = CliError::lib(action, Some(path), e);
        if wrong {
            err.hint("give the keystore (store) password with --passin; if you are sure it is right, the file was altered")
        } else {
            err
        }
    })
}

/// A directory made by `certmint init`; with --passin its keystores are opened too.
fn check_dir(ctx: &mut Ctx, dir: &Path, args: &CheckArgs, opts: &Options) -> CliResult<Report> {
    let cannot = |e| CliError::lib("cannot check directory", Some(dir), e);
    if !certmint::workdir::is_workdir(dir) {
        return Err(CliError::new(format!("cannot check `{}`", shown(dir)))
            .cause(format!("it has no {}", certmint::manifest::FILE_NAME))
            .hint("check files one by one, or make the directory with `certmint init`"));
    }
    let m = certmint::workdir::load(dir).map_err(cannot)?;
    let password = match args.passin.as_ref() {
        Some(src) => Some(ctx.passwords.get(
            Some(src),
            "--passin",
            &format!("the keystores in `{}`", shown(dir)),
            Purpose::Existing,
        )?),
        None => None,
    };
    check::directory(dir, &m, password.as_ref(), opts).map_err(cannot)
}

/// The one line a successful check prints on a terminal: how many checks passed, and the
/// certificate that expires first.
fn success_line(summary: &Summary) -> String {
    let checks: usize = summary
        .files
        .iter()
        .map(|r| {
            r.findings
                .iter()
                .filter(|f| f.status == Status::Pass)
                .count()
        })
        .sum();
    let what = match summary.files.as_slice() {
        [one] => format!("{}:", shown(&one.path)),
        many => format!("{} files:", many.len()),
    };
    let soonest = summary
        .files
        .iter()
        .flat_map(|r| r.findings.iter().map(move |f| (r, f)))
        .filter_map(|(r, f)| f.days_left.map(|d| (d, r, f)))
        .min_by_key(|(d, _, _)| *d);
    let checks_word = if checks == 1 {
        "check passes"
    } else {
        "checks pass"
    };
    let mut line = format!("ok: {what} all {checks} {checks_word}");
    if let Some((days, r, f)) = soonest {
        let name = f
            .certificate
            .as_deref()
            .map(|c| format!(" {}", escape(c)))
            .unwrap_or_default();
        let place = if summary.files.len() > 1 {
            format!(" (in {})", shown(&r.path))
        } else {
            String::new()
        };
        line.push_str(&format!(
            "; the certificate{name}{place} expires in {days} day{}",
            if days == 1 { "" } else { "s" }
        ));
    }
    line
}

/// One report as text: a header, one line per check shown, and the verdict.
fn render(out: &mut String, r: &Report, verbose: bool) {
    use std::fmt::Write as _;
    let _ = writeln!(out, "{}: {}", shown(&r.path), r.title);
    for f in r.findings.iter().filter(|f| verbose || f.failed()) {
        let mark = match f.status {
            Status::Pass => "pass",
            Status::Fail => "FAIL",
            Status::NotChecked => "----",
        };
        let subject = f
            .subject()
            .map(|a| format!(" [{}]", escape(a)))
            .unwrap_or_default();
        let _ = writeln!(out, "  {mark}  {}{subject}: {}", f.check.title(), f.detail);
        if let Some(m) = &f.message {
            let says = if f.check.message_is_error_text() {
                "says"
            } else {
                "requires"
            };
            let _ = writeln!(out, "        Salesforce {says}: {}", escape(m));
        }
        if let Some(fix) = &f.fix {
            let _ = writeln!(out, "        fix: {fix}");
        }
    }
    let verdict = match (
        r.failed(),
        r.has_salesforce_rules() && r.refused_by_salesforce(),
    ) {
        (0, _) if r.has_salesforce_rules() => "all rules pass".to_string(),
        (0, _) => "all checks pass".to_string(),
        (1, true) => "1 rule fails: Salesforce would refuse this file".to_string(),
        (n, true) => format!("{n} rules fail: Salesforce would refuse this file"),
        (1, false) => "1 problem needs attention".to_string(),
        (n, false) => format!("{n} problems need attention"),
    };
    let _ = writeln!(out, "  {verdict}");
}
