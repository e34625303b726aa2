//! `certmint check`: does a file meet what its consumer requires? For now: a JKS keystore
//! against Salesforce's Certificate and Key Management import rules.
//!
//! Layout for later checks (certificates and expiry, PKCS#12, manifest directories): each
//! file is classified by content in [`check_file`], each kind has a checker that returns a
//! [`Report`] (a list of [`Line`]s), and the printing and exit code are shared.

use std::path::{Path, PathBuf};

use certmint::jks::{self, Detected};
use certmint::key::RsaKey;
use certmint::salesforce::{self, Finding, Status};
use certmint::x509::CertInfo;
use clap::Args;

use super::common::Ctx;
use super::error::{CliError, CliResult, EXIT_NO, shown};
use super::password::{PassSource, Purpose};

pub const AFTER_HELP: &str = "\
EXAMPLES:
  $ certmint check acme-jwt                               # a directory made by init (cron)
  $ certmint check server.crt --warn-days 45              # expiry of a PEM or DER certificate
  $ certmint check server.crt --key server.key            # do key and certificate belong together?
  $ certmint check server.p12 --passin env:P12_PASS --json
  $ certmint check --salesforce server.jks --passin env:JKS_PASS

Checks each FILE or DIR and exits 1 when something needs attention: a certificate that
expires within --warn-days (default 30) or has expired, a key that does not match its
certificate, a JKS that breaks one of Salesforce's import rules, a certmint directory with
a missing, changed or unfinished file. Salesforce itself keeps accepting assertions after
the connected-app certificate expires and never warns, so this is the alarm: run it from
cron or CI (see docs/ci.md). Quiet by default: nothing is printed when all is well, only
the problems otherwise; --verbose prints every check, --json a report for dashboards.

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
  1  something needs attention (expiring or expired certificate, key/certificate mismatch,
     a Salesforce rule broken, a missing or changed file in a directory)
  2  error: unreadable, truncated or corrupt file, wrong password";

#[derive(Args, Debug)]
pub struct CheckArgs {
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

/// The result of checking one file.
struct Report {
    path: PathBuf,
    /// What was checked ("Salesforce keystore import rules").
    title: &'static str,
    // (kind and lines follow)
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
    /// For expiry checks: whole days until the certificate expires (negative: expired).
    days_left: Option<i64>,
}

impl Line {
    /// A check that is not one of Salesforce's rules.
    fn plain(id: &'static str, title: &'static str, status: Status, detail: String) -> Self {
        Line {
            id,
            title,
            status,
            subject: None,
            message: None,
            message_is_error_text: false,
            detail,
            fix: None,
            days_left: None,
        }
    }

    fn with_fix(mut self, fix: impl Into<String>) -> Self {
        if self.status == Status::Fail {
            self.fix = Some(fix.into());
        }
        self
    }

    fn about(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }
}

pub fn run(ctx: &mut Ctx, args: CheckArgs) -> CliResult<u8> {
    let key = match &args.key {
        Some(p) => Some(ctx.load_key(p, args.keypass.as_ref())?.0),
        None => None,
    };
    let mut reports = Vec::with_capacity(args.files.len());
    for path in &args.files {
        reports.push(check_file(ctx, path, &args, key.as_ref())?);
    }
    if args.json {
        print_json(&reports);
    } else {
        let verbose = args.verbose || args.salesforce;
        for r in &reports {
            if verbose || r.failed() > 0 {
                print_text(r, verbose);
            }
        }
    }
    Ok(if reports.iter().any(|r| r.failed() > 0) {
        EXIT_NO
    } else {
        0
    })
}

/// Classify a file by content and run the checks that apply.
fn check_file(
    ctx: &mut Ctx,
    path: &Path,
    args: &CheckArgs,
    key: Option<&RsaKey>,
) -> CliResult<Report> {
    if path.is_dir() {
        return check_dir(ctx, path, args);
    }
    let data = ctx.read(path, "file to check")?;
    let detected = jks::detect(&data);
    match detected {
        Detected::Jks { .. } => {
            let mut r = check_salesforce_keystore(ctx, path, &data, args)?;
            if !args.salesforce {
                r.title = "JKS keystore: Salesforce import rules and expiry";
            }
            // The certificates' expiry (readable without the password).
            if let Ok(ks) = jks::parse(&data, None) {
                for e in &ks.entries {
                    let (alias, der) = match e {
                        jks::Entry::PrivateKey(k) => (&k.alias, k.leaf()),
                        jks::Entry::TrustedCert(c) => (&c.alias, Some(c.cert.der.as_slice())),
                    };
                    if let Some(info) = der.and_then(|d| certmint::x509::parse_der(d).ok()) {
                        r.lines
                            .push(expiry_line(&info, args.warn_days, None).about(alias.clone()));
                        if let Some(k) = key {
                            r.lines.push(key_match_line(k, &info).about(alias.clone()));
                        }
                    }
                }
            }
            Ok(r)
        }
        _ if args.salesforce => check_salesforce_keystore(ctx, path, &data, args),
        Detected::Pkcs12 => check_pkcs12(ctx, path, &data, args, key),
        _ => {
            let kind = certmint::inspect::detect(&data)
                .map_err(|e| CliError::lib("cannot check", Some(path), e))?;
            match kind {
                certmint::inspect::Kind::Certificate => {
                    let info = certmint::x509::parse(&data)
                        .map_err(|e| CliError::lib("cannot read certificate", Some(path), e))?;
                    let mut lines = vec![expiry_line(&info, args.warn_days, None)];
                    if let Some(k) = key {
                        lines.push(key_match_line(k, &info));
                    }
                    Ok(Report {
                        path: path.to_path_buf(),
                        title: "certificate",
                        kind: "certificate",
                        lines,
                    })
                }
                other => Err(CliError::new(format!("cannot check `{}`", shown(path)))
                    .cause(format!("it is a {}, which has no expiry or rules to check", other.name()))
                    .hint("check the certificate (with --key KEY to match them), a keystore, or a directory made by `certmint init`")),
            }
        }
    }
}

/// Expiry of a certificate against `--warn-days`.
fn expiry_line(info: &CertInfo, warn_days: i64, renew_hint: Option<String>) -> Line {
    let now = certmint::x509::now_seconds();
    let left = info.days_left(now);
    let date = info.not_after.date();
    let (status, detail) = if info.is_expired(now) {
        (
            Status::Fail,
            format!("EXPIRED on {date} ({} days ago)", -left),
        )
    } else if left < warn_days {
        (
            Status::Fail,
            format!("expires on {date}, in {left} days (warning threshold {warn_days} days)"),
        )
    } else {
        (
            Status::Pass,
            format!("valid until {date} ({left} days left)"),
        )
    };
    let fix = renew_hint.unwrap_or_else(|| {
        "renew it over the same key (zero downtime): certmint renew --cert CERT --key KEY --out NEW.crt, then upload NEW.crt; Salesforce keeps accepting assertions after expiry, but renew before your own policy or auditors object".into()
    });
    Line::plain("expiry", "certificate validity", status, detail)
        .about(
            info.common_name
                .clone()
                .unwrap_or_else(|| info.subject.clone()),
        )
        .with_fix(fix)
}

/// The "key matches certificate" line, passed or failed, with what was compared.
fn key_match(ok: bool, detail: String) -> Line {
    Line::plain(
        "key_matches_certificate",
        "key matches certificate",
        if ok { Status::Pass } else { Status::Fail },
        detail,
    )
}

fn key_match_line(key: &RsaKey, info: &CertInfo) -> Line {
    let ok = key.matches_spki(&info.spki);
    let detail = if ok {
        format!("public key SHA-256 {}", key.public_key_sha256())
    } else {
        format!(
            "the key's public key (SHA-256 {}) is not the certificate's (SHA-1 {})",
            key.public_key_sha256(),
            info.sha1
        )
    };
    key_match(ok, detail).with_fix("pair the key with the certificate made from it; Salesforce answers \"invalid assertion\" when they differ")
}

fn check_pkcs12(
    ctx: &mut Ctx,
    path: &Path,
    data: &[u8],
    args: &CheckArgs,
    key: Option<&RsaKey>,
) -> CliResult<Report> {
    let cannot = |e| CliError::lib("cannot read keystore", Some(path), e);
    certmint::pkcs12::probe(data).map_err(cannot)?;
    let pw = keystore_password(ctx, args, path)?;
    let contents = certmint::pkcs12::read(data, &pw).map_err(cannot)?;
    let mut lines = Vec::new();
    for entry in &contents.entries {
        let alias = entry.alias.clone().unwrap_or_else(|| "(no name)".into());
        let Some(leaf) = entry.chain.first() else {
            continue;
        };
        let info = certmint::x509::parse_der(leaf).map_err(cannot)?;
        lines.push(expiry_line(&info, args.warn_days, None).about(alias.clone()));
        if let Some(k) = entry.key.as_ref() {
            let ok = k.rsa().is_ok_and(|rsa| rsa.matches_spki(&info.spki));
            let detail = if ok {
                "the entry's key is the certificate's"
            } else {
                "the entry's key is not the certificate's"
            };
            lines.push(key_match(ok, detail.into()).about(alias.clone()).with_fix(
                "rebuild the keystore: certmint p12 --cert CERT --key KEY --out NEW.p12",
            ));
        }
        if let Some(k) = key {
            lines.push(key_match_line(k, &info).about(alias));
        }
    }
    if lines.is_empty() {
        lines.push(Line::plain(
            "has_certificate",
            "holds a certificate",
            Status::Fail,
            "no certificate in the keystore".into(),
        ));
    }
    Ok(Report {
        path: path.to_path_buf(),
        title: "PKCS#12 keystore",
        kind: "pkcs12",
        lines,
    })
}

/// A directory made by `certmint init`: files present and unchanged, nothing pending, the
/// current certificate's expiry, key and certificate together; with --passin, the
/// keystores are opened and the JKS is checked against Salesforce's rules.
fn check_dir(ctx: &mut Ctx, dir: &Path, args: &CheckArgs) -> CliResult<Report> {
    use certmint::manifest::{Role, Status as GenStatus};
    let cannot = |e| CliError::lib("cannot check directory", Some(dir), e);
    if !certmint::workdir::is_workdir(dir) {
        return Err(CliError::new(format!("cannot check `{}`", shown(dir)))
            .cause(format!("it has no {}", certmint::manifest::FILE_NAME))
            .hint("check files one by one, or make the directory with `certmint init`"));
    }
    let m = certmint::workdir::load(dir).map_err(cannot)?;
    let mut lines = Vec::new();
    if let Some(p) = m.pending() {
        lines.push(
            Line::plain(
                "finished",
                "no interrupted run",
                Status::Fail,
                format!("generation {} was interrupted while being made", p.dir),
            )
            .with_fix(format!(
                "finish it: certmint {} {} (with the directory's password)",
                match p.origin {
                    certmint::manifest::Origin::Init => "init",
                    certmint::manifest::Origin::Renew => "renew",
                    certmint::manifest::Origin::Rotate => "rotate",
                },
                shown(dir)
            )),
        );
    }
    let Some(g) = m.current_generation() else {
        lines.push(
            Line::plain(
                "current",
                "has a current generation",
                Status::Fail,
                "no generation is complete yet".into(),
            )
            .with_fix(format!("run certmint init {}", shown(dir))),
        );
        return Ok(Report {
            path: dir.to_path_buf(),
            title: "certmint directory",
            kind: "directory",
            lines,
        });
    };
    let gen_label = g.dir.clone();
    for role in certmint::manifest::ROLES {
        let Some(rec) = g.files.get(&role) else {
            lines.push(
                Line::plain(
                    "file",
                    "file recorded",
                    Status::Fail,
                    format!("{} is not recorded in the manifest", role.describe()),
                )
                .about(gen_label.clone()),
            );
            continue;
        };
        let path = dir.join(&g.dir).join(&rec.name);
        let (status, detail, fix) = match std::fs::read(&path) {
            Ok(bytes) if certmint::manifest::file_digest(&bytes) == rec.sha256 => (
                Status::Pass,
                format!("{} present and unchanged", rec.name),
                None,
            ),
            Ok(_) => (
                Status::Fail,
                format!("{} changed since certmint wrote it", rec.name),
                Some(format!(
                    "restore it from a backup, or move it away and run certmint init {} to rebuild it",
                    shown(dir)
                )),
            ),
            Err(_) => (
                Status::Fail,
                format!("{} is missing", rec.name),
                Some(if matches!(role, Role::EncryptedKey | Role::PlainKey) {
                    format!(
                        "restore the key from a backup (certmint never regenerates a key); the other key file, if present, lets certmint init {} rebuild it",
                        shown(dir)
                    )
                } else {
                    format!("run certmint init {} to rebuild it", shown(dir))
                }),
            ),
        };
        let mut line = Line::plain("file", "file present and unchanged", status, detail)
            .about(gen_label.clone());
        if let Some(f) = fix {
            line = line.with_fix(f);
        }
        lines.push(line);
    }
    let cert_path = certmint::workdir::file_path(dir, &m, g, Role::Certificate);
    match std::fs::read(&cert_path)
        .ok()
        .and_then(|d| certmint::x509::parse(&d).ok())
    {
        Some(info) => {
            let renew = format!(
                "certmint renew {} (same key, zero downtime), then upload the new certificate; Salesforce keeps accepting assertions after expiry, but renew before your policy or auditors object",
                shown(dir)
            );
            lines.push(expiry_line(&info, args.warn_days, Some(renew)).about(gen_label.clone()));
            let spki = certmint::key::spki_sha256(&info.spki);
            let ok = spki == g.public_key_sha256;
            lines.push(
                key_match(
                    ok,
                    if ok {
                        format!("public key SHA-256 {spki}")
                    } else {
                        format!("the certificate's public key ({spki}) is not the generation's key ({})", g.public_key_sha256)
                    },
                )
                .about(gen_label.clone())
                .with_fix(format!("run certmint renew {} to issue a certificate for the key", shown(dir))),
            );
        }
        None => lines.push(
            Line::plain(
                "expiry",
                "certificate validity",
                Status::Fail,
                "the certificate cannot be read".into(),
            )
            .about(gen_label.clone()),
        ),
    }
    if let Some(waiting) = certmint::workdir::newest_inactive(&m).filter(|w| w.number > g.number) {
        lines.push(Line::plain(
            "rotation",
            "rotation",
            Status::NotChecked,
            format!(
                "generation {} is ready and waits for `certmint rotate {} --activate`",
                waiting.dir,
                shown(dir)
            ),
        ));
    }
    if g.status != GenStatus::Complete {
        lines.push(Line::plain(
            "current",
            "current generation complete",
            Status::Fail,
            format!("{} is not complete", g.dir),
        ));
    }
    // With a password: open the keystores too.
    if let Some(src) = args.passin.as_ref() {
        let pw = ctx.passwords.get(
            Some(src),
            "--passin",
            &format!("the keystores in `{}`", shown(dir)),
            Purpose::Existing,
        )?;
        for role in [Role::Pkcs12, Role::Jks] {
            let path = certmint::workdir::file_path(dir, &m, g, role);
            let Ok(data) = std::fs::read(&path) else {
                continue;
            };
            let opened = certmint::keystore::open(&data, &pw, None, None, true);
            let ok = opened.as_ref().is_ok_and(|o| {
                o.rsa_key()
                    .is_ok_and(|k| k.public_key_sha256() == g.public_key_sha256)
            });
            let detail = match &opened {
                Ok(_) if ok => format!(
                    "{} opens with the password and holds the generation's key",
                    path.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                ),
                Ok(_) => "the keystore holds another key".into(),
                Err(e) => format!("cannot open it: {e}"),
            };
            lines.push(
                Line::plain(
                    "keystore",
                    "keystore opens",
                    if ok { Status::Pass } else { Status::Fail },
                    detail,
                )
                .about(gen_label.clone()),
            );
            if role == Role::Jks
                && let Ok(findings) = salesforce::check_jks(&data, &pw)
            {
                for f in &findings {
                    lines.push(line(f, &path, Detected::Jks { version: 2 }));
                }
            }
        }
    }
    Ok(Report {
        path: dir.to_path_buf(),
        title: "certmint directory",
        kind: "directory",
        lines,
    })
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
        let pw = keystore_password(ctx, args, path)?;
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

/// The --passin password of the keystore `path` (asked on a terminal when not given).
fn keystore_password(
    ctx: &mut Ctx,
    args: &CheckArgs,
    path: &Path,
) -> CliResult<certmint::secret::Password> {
    ctx.passwords.get(
        args.passin.as_ref(),
        "--passin",
        &format!("the keystore `{}`", shown(path)),
        Purpose::Existing,
    )
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
        days_left: None,
    }
}

/// How to repair a keystore that breaks a rule.
fn fix(f: &Finding, path: &Path, detected: Detected) -> String {
    use salesforce::Rule;
    let file = shown(path);
    let alias = certmint::text::escape(f.alias.as_deref().unwrap_or("ALIAS"));
    match f.rule {
        Rule::FileIsJks => match detected {
            Detected::Pkcs12 => format!(
                "convert it: certmint jks --p12 {file} --out server.jks (or keytool -importkeystore -srckeystore {file} -srcstoretype PKCS12 -deststoretype JKS with the same password for key and store)"
            ),
            Detected::Jceks => format!(
                "convert it with the same password for key and store: keytool -importkeystore -srckeystore {file} -srcstoretype JCEKS -destkeystore server.jks -deststoretype JKS"
            ),
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
            "set the key password to the store password: keytool -keypasswd -keystore {file} -alias {alias}; or rebuild it with certmint: certmint p12 --jks {file} --keypass SRC --out tmp.p12, then certmint jks --p12 tmp.p12 --out fixed.jks"
        ),
        Rule::AliasIsUniqueName => format!(
            "rename the entry: keytool -changealias -keystore {file} -alias {alias} -destalias {}",
            salesforce::suggest_alias(f.alias.as_deref().unwrap_or(""))
        ),
    }
}

fn print_text(r: &Report, verbose: bool) {
    println!("{}: {}", shown(&r.path), r.title);
    for l in r
        .lines
        .iter()
        .filter(|l| verbose || l.status == Status::Fail)
    {
        let mark = match l.status {
            Status::Pass => "pass",
            Status::Fail => "FAIL",
            Status::NotChecked => "----",
        };
        let subject = l
            .subject
            .as_deref()
            .map(|a| format!(" [{}]", certmint::text::escape(a)))
            .unwrap_or_default();
        println!("  {mark}  {}{subject}: {}", l.title, l.detail);
        if let Some(m) = &l.message {
            let says = if l.message_is_error_text {
                "says"
            } else {
                "requires"
            };
            println!("        Salesforce {says}: {}", certmint::text::escape(m));
        }
        if let Some(fix) = &l.fix {
            println!("        fix: {fix}");
        }
    }
    let salesforce = r
        .lines
        .iter()
        .any(|l| l.message.is_some() || l.message_is_error_text);
    match (r.failed(), salesforce) {
        (0, true) => println!("  all rules pass"),
        (0, false) => println!("  all checks pass"),
        (1, true)
            if r.lines
                .iter()
                .all(|l| l.status != Status::Fail || l.message.is_some()) =>
        {
            println!("  1 rule fails: Salesforce would refuse this file")
        }
        (n, true)
            if r.lines
                .iter()
                .all(|l| l.status != Status::Fail || l.message.is_some()) =>
        {
            println!("  {n} rules fail: Salesforce would refuse this file")
        }
        (1, _) => println!("  1 problem needs attention"),
        (n, _) => println!("  {n} problems need attention"),
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
                        "days_left": l.days_left,
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
