//! `certmint check`: does a file meet what its consumer requires? For now: a JKS keystore
//! against Salesforce's Certificate and Key Management import rules.
//!
//! Layout for later checks (certificates and expiry, PKCS#12, manifest directories): each
//! file is classified by content in [`check_file`], each kind has a checker that returns a
//! [`Report`] (a list of [`Line`]s), and the printing and exit code are shared.

use std::path::{Path, PathBuf};

use certmint::jks::{self, Detected};
use certmint::salesforce::{self, Finding, Status};
use clap::Args;

use super::common::Ctx;
use super::error::{CliError, CliResult, EXIT_NO, shown};
use super::password::{PassSource, Purpose};

pub const AFTER_HELP: &str = "\
EXAMPLES:
  $ certmint check --salesforce server.jks --passin env:JKS_PASS
  $ certmint check --salesforce server.jks --passin env:JKS_PASS --json
  $ certmint check --salesforce made-by-keytool.jks        # asks for the store password

With --salesforce, certmint checks each keystore against the rules Salesforce applies in
Setup > Certificate and Key Management > Import from Keystore, and prints each rule as
pass or FAIL with Salesforce's own error message: the file is JKS (a PKCS#12/PFX must be
converted first), it holds a PrivateKeyEntry, the key is RSA, PKCS#8, 2048/3072/4096 bits,
matches the certificate, its password is the store password, and the alias is a valid
Unique Name. --passin is the store password, the only one Salesforce asks for. Any JKS is
read, including one made by keytool. A JKS file is checked this way even without
--salesforce.

EXIT CODES:
  0  every rule passes
  1  at least one rule fails (Salesforce would refuse the file)
  2  error: unreadable, truncated or corrupt file, wrong store password";

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The files to check.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Check against Salesforce's keystore import rules (the default for JKS files).
    #[arg(long)]
    pub salesforce: bool,
    /// Password source for the keystore (the store password): pass:TEXT, env:VAR,
    /// file:PATH, fd:N or stdin.
    #[arg(long, value_name = "SRC")]
    pub passin: Option<PassSource>,
    /// Print the results as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// The result of checking one file.
struct Report {
    path: PathBuf,
    /// What was checked ("Salesforce keystore import rules").
    title: &'static str,
    /// What the file is ("jks", "pkcs12" ...), for JSON.
    kind: &'static str,
    lines: Vec<Line>,
}

impl Report {
    fn failed(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| l.status == Status::Fail)
            .count()
    }
}

/// One checked rule, ready to print.
struct Line {
    id: &'static str,
    title: &'static str,
    status: Status,
    /// The entry (alias) the line is about.
    subject: Option<String>,
    /// The consumer's own message when the rule fails (e.g. Salesforce's).
    message: Option<String>,
    /// Whether `message` is the consumer's error text (else: its documented rule).
    message_is_error_text: bool,
    detail: String,
    /// How to fix it, when it fails.
    fix: Option<String>,
}

pub fn run(ctx: &mut Ctx, args: CheckArgs) -> CliResult<u8> {
    let mut reports = Vec::with_capacity(args.files.len());
    for path in &args.files {
        reports.push(check_file(ctx, path, &args)?);
    }
    if args.json {
        print_json(&reports);
    } else {
        for r in &reports {
            print_text(r);
        }
    }
    Ok(if reports.iter().any(|r| r.failed() > 0) {
        EXIT_NO
    } else {
        0
    })
}

/// Classify a file by content and run the checks that apply.
fn check_file(ctx: &mut Ctx, path: &Path, args: &CheckArgs) -> CliResult<Report> {
    let data = ctx.read(path, "file to check")?;
    let detected = jks::detect(&data);
    match detected {
        Detected::Jks { .. } => check_salesforce_keystore(ctx, path, &data, args),
        _ if args.salesforce => check_salesforce_keystore(ctx, path, &data, args),
        other => Err(CliError::new(format!("cannot check `{}`", shown(path)))
            .cause(format!("the file is {}", other.describe()))
            .hint("certmint check reads JKS keystores for now; add --salesforce to check whether Salesforce would import the file")),
    }
}

fn check_salesforce_keystore(
    ctx: &mut Ctx,
    path: &Path,
    data: &[u8],
    args: &CheckArgs,
) -> CliResult<Report> {
    let detected = jks::detect(data);
    let is_jks = matches!(detected, Detected::Jks { .. });
    // Only a JKS needs the password; anything else fails the first rule without one.
    let findings = if is_jks {
        // Structure first, so a damaged file is reported as such before a password is asked.
        jks::parse(data, None).map_err(|e| CliError::lib("cannot read keystore", Some(path), e))?;
        let pw = ctx.passwords.get(
            args.passin.as_ref(),
            "--passin",
            &format!("the keystore `{}`", shown(path)),
            Purpose::Existing,
        )?;
        salesforce::check_jks(data, &pw).map_err(|e| {
            let wrong = matches!(e, certmint::Error::WrongPassword { .. });
            let err = CliError::lib("cannot read keystore", Some(path), e);
            if wrong {
                err.hint("give the keystore (store) password with --passin; if you are sure it is right, the file was altered")
            } else {
                err
            }
        })?
    } else {
        salesforce::check_jks(data, &certmint::Password::from(""))
            .map_err(|e| CliError::lib("cannot read keystore", Some(path), e))?
    };
    Ok(Report {
        path: path.to_path_buf(),
        title: "Salesforce keystore import rules",
        kind: kind_id(detected),
        lines: findings.iter().map(|f| line(f, path, detected)).collect(),
    })
}

fn kind_id(d: Detected) -> &'static str {
    match d {
        Detected::Jks { .. } => "jks",
        Detected::Jceks => "jceks",
        Detected::Pkcs12 => "pkcs12",
        Detected::Pem => "pem",
        Detected::Empty => "empty",
        Detected::Unknown => "unknown",
    }
}

fn line(f: &Finding, path: &Path, detected: Detected) -> Line {
    Line {
        id: f.rule.id(),
        title: f.rule.title(),
        status: f.status,
        subject: f.alias.clone(),
        message: f.message.clone(),
        message_is_error_text: f.rule.message_is_error_text(),
        detail: f.detail.clone(),
        fix: f.failed().then(|| fix(f, path, detected)),
    }
}

/// How to repair a keystore that breaks a rule.
fn fix(f: &Finding, path: &Path, detected: Detected) -> String {
    use salesforce::Rule;
    let file = shown(path);
    let alias = certmint::x509::escape(f.alias.as_deref().unwrap_or("ALIAS"));
    match f.rule {
        Rule::FileIsJks => match detected {
            Detected::Pkcs12 | Detected::Jceks => {
                let kind = if detected == Detected::Pkcs12 { "PKCS12" } else { "JCEKS" };
                format!(
                    "convert it with the same password for key and store: keytool -importkeystore -srckeystore {file} -srcstoretype {kind} -destkeystore server.jks -deststoretype JKS"
                )
            }
            _ => "build a keystore from the key and certificate: certmint jks --cert server.crt --key server.key --out server.jks".into(),
        },
        Rule::HasPrivateKeyEntry => {
            "build a keystore from the key and certificate (certmint jks stores lowercase aliases): certmint jks --cert server.crt --key server.key --out server.jks".into()
        }
        Rule::RsaKey | Rule::KeySize => {
            "make a new RSA key and certificate (certmint key --bits 2048; certmint cert), then certmint jks".into()
        }
        Rule::Pkcs8 => "rebuild the keystore with certmint jks, which stores the key as PKCS#8".into(),
        Rule::KeyMatchesCertificate => {
            "rebuild the keystore from the certificate made from this key (certmint jks --cert ... --key ...)".into()
        }
        Rule::KeyPasswordIsStorePassword => format!(
            "set the key password to the store password: keytool -keypasswd -keystore {file} -alias {alias}"
        ),
        Rule::AliasIsUniqueName => format!(
            "rename the entry: keytool -changealias -keystore {file} -alias {alias} -destalias {}",
            salesforce::suggest_alias(f.alias.as_deref().unwrap_or(""))
        ),
    }
}

fn print_text(r: &Report) {
    println!("{}: {}", shown(&r.path), r.title);
    for l in &r.lines {
        let mark = match l.status {
            Status::Pass => "pass",
            Status::Fail => "FAIL",
            Status::NotChecked => "----",
        };
        let subject = l
            .subject
            .as_deref()
            .map(|a| format!(" [{}]", certmint::x509::escape(a)))
            .unwrap_or_default();
        println!("  {mark}  {}{subject}: {}", l.title, l.detail);
        if let Some(m) = &l.message {
            let says = if l.message_is_error_text {
                "says"
            } else {
                "requires"
            };
            println!("        Salesforce {says}: {}", certmint::x509::escape(m));
        }
        if let Some(fix) = &l.fix {
            println!("        fix: {fix}");
        }
    }
    match r.failed() {
        0 => println!("  all rules pass"),
        1 => println!("  1 rule fails: Salesforce would refuse this file"),
        n => println!("  {n} rules fail: Salesforce would refuse this file"),
    }
}

fn print_json(reports: &[Report]) {
    let files: Vec<serde_json::Value> = reports
        .iter()
        .map(|r| {
            let checks: Vec<serde_json::Value> = r
                .lines
                .iter()
                .map(|l| {
                    serde_json::json!({
                        "rule": l.id,
                        "title": l.title,
                        "status": l.status.id(),
                        "alias": l.subject,
                        "salesforce_message": l.message,
                        "message_is_error_text": l.message_is_error_text,
                        "detail": l.detail,
                        "fix": l.fix,
                    })
                })
                .collect();
            serde_json::json!({
                "file": r.path.display().to_string(),
                "kind": r.kind,
                "check": r.title,
                "ok": r.failed() == 0,
                "checks": checks,
            })
        })
        .collect();
    let ok = reports.iter().all(|r| r.failed() == 0);
    let doc = serde_json::json!({ "ok": ok, "files": files });
    println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
}
