//! `check`: does a file meet what its consumer requires? A certificate against an expiry
//! threshold, a key against its certificate, a JKS keystore against Salesforce's import
//! rules ([`crate::salesforce`]), a PKCS#12 keystore entry by entry, a certmint directory
//! file by file.
//!
//! Each result is a [`Finding`]: which [`Check`], its [`Status`], what was seen, and how to
//! fix it when it fails. A [`Report`] holds one file's findings; a [`Summary`] serialises
//! the reports to the JSON `certmint check --json` prints (the fields are documented in
//! `docs/ci.md`). The binary reads files, asks for passwords and prints; what is checked
//! and what is advised is decided here.
//!
//! A file is checked in two steps, so that a damaged keystore is reported before anyone is
//! asked for a password: [`plan`] says what will be checked and whether a password is
//! needed ([`Plan::check_structure`] looks at the structure without one), then [`file()`]
//! checks. A directory made by `certmint init` is checked with [`directory`].

use std::path::{Path, PathBuf};

use serde::ser::{Serialize, SerializeStruct, Serializer};
use time::OffsetDateTime;

use crate::detect::{FileType, Kind};
use crate::error::{Expected, Input};
use crate::jks::ConvertFor;
use crate::key::RsaKey;
pub use crate::salesforce::Status;
use crate::salesforce::{self, Rule};
use crate::text::escape;
use crate::x509::CertInfo;
use crate::{Error, Password, Result, jks, pkcs12};

mod directory;
mod permissions;
pub use directory::directory;
pub use permissions::exposed_secrets;

/// What `check` is asked to do.
#[derive(Clone, Debug)]
pub struct Options {
    /// Warn when a certificate expires within this many days.
    pub warn_days: i64,
    /// Check every file against Salesforce's keystore import rules (a file that is not
    /// JKS then fails the first rule instead of being checked for what it is).
    pub salesforce: bool,
    /// The time expiry is measured from.
    pub now: OffsetDateTime,
}

/// One kind of check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Check {
    /// One of Salesforce's keystore import rules.
    Salesforce(Rule),
    /// The certificate is valid for longer than the warning threshold.
    Expiry,
    /// The key is the certificate's (the `--key` given, a keystore entry's own key, or a
    /// directory generation's key).
    KeyMatchesCertificate,
    /// A PKCS#12 keystore holds a certificate.
    HasCertificate,
    /// No generation of a directory was left unfinished by an interrupted run.
    Finished,
    /// The directory has a current generation.
    HasCurrent,
    /// The current generation is complete.
    CurrentComplete,
    /// A file of the current generation is recorded in the manifest.
    FileRecorded,
    /// A recorded file is present with the digest the manifest records.
    FileIntact,
    /// A rotation is prepared and waits to be activated (information, never a failure).
    Rotation,
    /// A directory's keystore opens with the password and holds the generation's key.
    KeystoreOpens,
    /// No directory or file of a certmint directory is writable by other users, and no
    /// key or keystore is readable by them.
    Permissions,
    /// A certificate's key is RSA, the only kind Salesforce's JWT bearer flow (RS256)
    /// verifies with (reported only when it is not).
    CertificateKeyIsRsa,
}

impl Check {
    /// A stable identifier for JSON (`rule`). Two checks of a directory share one:
    /// `current` ([`Check::HasCurrent`], [`Check::CurrentComplete`]) and `file`
    /// ([`Check::FileRecorded`], [`Check::FileIntact`]).
    pub fn id(self) -> &'static str {
        match self {
            Check::Salesforce(rule) => rule.id(),
            Check::Expiry => "expiry",
            Check::KeyMatchesCertificate => "key_matches_certificate",
            Check::HasCertificate => "has_certificate",
            Check::Finished => "finished",
            Check::HasCurrent | Check::CurrentComplete => "current",
            Check::FileRecorded | Check::FileIntact => "file",
            Check::Rotation => "rotation",
            Check::KeystoreOpens => "keystore",
            Check::Permissions => "permissions",
            Check::CertificateKeyIsRsa => "rsa_key",
        }
    }

    /// What the check requires, as a short line.
    pub fn title(self) -> &'static str {
        match self {
            Check::Salesforce(rule) => rule.title(),
            Check::Expiry => "certificate validity",
            Check::KeyMatchesCertificate => "key matches certificate",
            Check::HasCertificate => "holds a certificate",
            Check::Finished => "no interrupted run",
            Check::HasCurrent => "has a current generation",
            Check::CurrentComplete => "current generation complete",
            Check::FileRecorded => "file recorded",
            Check::FileIntact => "file present and unchanged",
            Check::Rotation => "rotation",
            Check::KeystoreOpens => "keystore opens",
            Check::Permissions => "permissions",
            Check::CertificateKeyIsRsa => "key is RSA",
        }
    }

    /// True for Salesforce's import rules.
    pub fn is_salesforce_rule(self) -> bool {
        matches!(self, Check::Salesforce(_))
    }

    /// For a Salesforce rule, whether its message is the error text Salesforce shows
    /// ([`Rule::message_is_error_text`]); false for every other check.
    pub fn message_is_error_text(self) -> bool {
        match self {
            Check::Salesforce(rule) => rule.message_is_error_text(),
            _ => false,
        }
    }
}

/// One check's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Which check.
    pub check: Check,
    /// Pass, fail, or not checked (information, or a rule an earlier failure left open).
    pub status: Status,
    /// The keystore entry the finding is about. Raw, from the file: escape it before
    /// printing.
    pub alias: Option<String>,
    /// The generation of a certmint directory the finding is about.
    pub generation: Option<String>,
    /// For an expiry check, the certificate's common name (else its subject), escaped.
    pub certificate: Option<String>,
    /// Salesforce's message when one of its rules fails (raw: it may name an alias).
    pub message: Option<String>,
    /// What certmint saw.
    pub detail: String,
    /// How to fix it, when it fails.
    pub fix: Option<String>,
    /// For an expiry check, whole days until the certificate expires (negative once
    /// expired).
    pub days_left: Option<i64>,
}

impl Finding {
    fn new(check: Check, status: Status, detail: impl Into<String>) -> Self {
        Finding {
            check,
            status,
            alias: None,
            generation: None,
            certificate: None,
            message: None,
            detail: detail.into(),
            fix: None,
            days_left: None,
        }
    }

    fn passed_if(check: Check, ok: bool, detail: impl Into<String>) -> Self {
        let status = if ok { Status::Pass } else { Status::Fail };
        Finding::new(check, status, detail)
    }

    /// Keep `fix` only when the check failed.
    fn fix(mut self, fix: impl Into<String>) -> Self {
        if self.failed() {
            self.fix = Some(fix.into());
        }
        self
    }

    fn alias(mut self, alias: impl Into<String>) -> Self {
        self.alias = Some(alias.into());
        self
    }

    fn generation(mut self, generation: impl Into<String>) -> Self {
        self.generation = Some(generation.into());
        self
    }

    /// A finding from one of Salesforce's rules on the keystore `file` (escaped), which is
    /// `detected`.
    fn from_rule(f: &salesforce::Finding, file: &str, detected: &FileType) -> Self {
        Finding {
            check: Check::Salesforce(f.rule),
            status: f.status,
            alias: f.alias.clone(),
            generation: None,
            certificate: None,
            message: f.message.clone(),
            detail: f.detail.clone(),
            fix: f.failed().then(|| rule_fix(f, file, detected)),
            days_left: None,
        }
    }

    /// True when the check failed.
    pub fn failed(&self) -> bool {
        self.status == Status::Fail
    }

    /// What the finding is about, for one line of text: the alias, else the generation,
    /// else the certificate. Raw: escape it before printing.
    pub fn subject(&self) -> Option<&str> {
        self.alias
            .as_deref()
            .or(self.generation.as_deref())
            .or(self.certificate.as_deref())
    }
}

impl Serialize for Finding {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        // In alphabetical order, as earlier versions printed them.
        let mut st = s.serialize_struct("Finding", 11)?;
        st.serialize_field("alias", &self.alias)?;
        st.serialize_field("certificate", &self.certificate)?;
        st.serialize_field("days_left", &self.days_left)?;
        st.serialize_field("detail", &self.detail)?;
        st.serialize_field("fix", &self.fix)?;
        st.serialize_field("generation", &self.generation)?;
        st.serialize_field("message_is_error_text", &self.check.message_is_error_text())?;
        st.serialize_field("rule", self.check.id())?;
        st.serialize_field("salesforce_message", &self.message)?;
        st.serialize_field("status", self.status.id())?;
        st.serialize_field("title", self.check.title())?;
        st.end()
    }
}

/// The result of checking one file or directory.
#[derive(Clone, Debug)]
pub struct Report {
    /// The file or directory, as given.
    pub path: PathBuf,
    /// What was checked ("Salesforce keystore import rules", "certificate").
    pub title: &'static str,
    /// What the file is (`jks`, `pkcs12`, `certificate`, `directory` ...; for a file that
    /// is not JKS under `--salesforce`, [`FileType::id`]).
    pub kind: &'static str,
    /// The findings, in the order they were made.
    pub findings: Vec<Finding>,
}

impl Report {
    /// How many checks failed.
    pub fn failed(&self) -> usize {
        self.findings.iter().filter(|f| f.failed()).count()
    }

    /// True when nothing failed.
    pub fn ok(&self) -> bool {
        self.failed() == 0
    }

    /// True when the report holds Salesforce rules (its verdict is then Salesforce's).
    pub fn has_salesforce_rules(&self) -> bool {
        self.findings.iter().any(|f| f.check.is_salesforce_rule())
    }

    /// True when every failed check is a Salesforce rule: Salesforce would refuse the file.
    pub fn refused_by_salesforce(&self) -> bool {
        self.findings
            .iter()
            .all(|f| !f.failed() || f.message.is_some())
    }
}

impl Serialize for Report {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Report", 5)?;
        st.serialize_field("check", self.title)?;
        st.serialize_field("checks", &self.findings)?;
        st.serialize_field("file", &self.path.display().to_string())?;
        st.serialize_field("kind", self.kind)?;
        st.serialize_field("ok", &self.ok())?;
        st.end()
    }
}

/// Every report of one `check` run: `{"files": [...], "ok": ...}` in JSON.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// One report per file or directory.
    pub files: Vec<Report>,
}

impl Summary {
    /// True when no report has a failed check.
    pub fn ok(&self) -> bool {
        self.files.iter().all(Report::ok)
    }
}

impl Serialize for Summary {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Summary", 2)?;
        st.serialize_field("files", &self.files)?;
        st.serialize_field("ok", &self.ok())?;
        st.end()
    }
}

/// What [`file()`] will check, decided from the bytes before any password is asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// A JKS keystore: Salesforce's import rules, then each certificate's expiry. Needs
    /// the store password.
    Jks,
    /// Under [`Options::salesforce`], a file that is not JKS: it fails the first rule.
    NotJks(FileType),
    /// A PKCS#12 keystore: each entry's expiry and key. Needs the password.
    Pkcs12,
    /// A certificate (PEM or DER): its expiry, and the key when one is given.
    Certificate,
    /// Something with nothing to check (a key, a CSR, a JWT ...).
    Nothing(Kind),
}

impl Plan {
    /// True when [`file()`] needs the keystore password.
    pub fn needs_password(&self) -> bool {
        matches!(self, Plan::Jks | Plan::Pkcs12)
    }

    /// Check a keystore's structure without the password, so that a damaged file is
    /// reported as such before a password is asked for.
    pub fn check_structure(&self, data: &[u8]) -> Result<()> {
        match self {
            Plan::Jks => jks::parse(data, None).map(drop),
            Plan::Pkcs12 => pkcs12::probe(data).map(drop),
            _ => Ok(()),
        }
    }
}

/// Decide what [`file()`] will check in `data` (see [`Options::salesforce`]). Errors for a
/// file certmint does not recognise ([`crate::detect::identify`]) and for a JCEKS keystore,
/// which certmint does not read ([`jks::jceks_advice`] says how to convert it).
pub fn plan(data: &[u8], salesforce: bool) -> Result<Plan> {
    let detected = crate::detect::detect(data);
    Ok(match detected {
        FileType::Jks { .. } => Plan::Jks,
        other if salesforce => Plan::NotJks(other),
        FileType::Jceks => return Err(jks::jceks_unsupported()),
        FileType::Pkcs12 => Plan::Pkcs12,
        _ => match crate::detect::identify(data)? {
            Kind::Certificate => Plan::Certificate,
            kind => Plan::Nothing(kind),
        },
    })
}

/// Check one file. `plan` comes from [`plan`] on the same bytes; `password` is the
/// keystore password when [`Plan::needs_password`] ([`Error::PasswordRequired`] without
/// it); `key`, when given, must match every certificate checked; `path` names the file in
/// the report and its fixes.
///
/// Errors are what stops a check from being made: a damaged file ([`Error::Corrupt`]), a
/// wrong password ([`Error::WrongPassword`]), [`Plan::Nothing`] ([`Error::WrongKind`]).
/// Everything the checks find, however bad, is a [`Finding`].
pub fn file(
    path: &Path,
    data: &[u8],
    plan: &Plan,
    password: Option<&Password>,
    key: Option<&RsaKey>,
    opts: &Options,
) -> Result<Report> {
    let shown = escape(&path.display().to_string());
    let report = |title, kind, findings| Report {
        path: path.to_path_buf(),
        title,
        kind,
        findings,
    };
    let password_for = |what| password.ok_or(Error::PasswordRequired { what });
    match plan {
        Plan::Jks => {
            let detected = crate::detect::detect(data);
            let rules = salesforce::check_jks(data, password_for(Input::Jks)?)?;
            let mut findings: Vec<Finding> = rules
                .iter()
                .map(|f| Finding::from_rule(f, &shown, &detected))
                .collect();
            // The certificates' expiry (readable without the password).
            let ks = jks::parse(data, None)?;
            for e in &ks.entries {
                let (alias, der) = match e {
                    jks::Entry::PrivateKey(k) => (&k.alias, k.leaf()),
                    jks::Entry::TrustedCert(c) => (&c.alias, Some(c.cert.der.as_slice())),
                };
                if let Some(info) = der.and_then(|d| crate::x509::parse_der(d).ok()) {
                    findings.push(expiry(&info, opts, None).alias(alias.clone()));
                    if let Some(k) = key {
                        findings.push(given_key_matches(k, &info).alias(alias.clone()));
                    }
                }
            }
            let title = if opts.salesforce {
                "Salesforce keystore import rules"
            } else {
                "JKS keystore: Salesforce import rules and expiry"
            };
            Ok(report(title, "jks", findings))
        }
        Plan::NotJks(detected) => {
            // No password: the first rule fails, the others are not checked.
            let rules = salesforce::check_jks(data, &Password::from(""))?;
            let findings = rules
                .iter()
                .map(|f| Finding::from_rule(f, &shown, detected))
                .collect();
            Ok(report(
                "Salesforce keystore import rules",
                detected.id(),
                findings,
            ))
        }
        Plan::Pkcs12 => {
            let contents = pkcs12::read(data, password_for(Input::Pkcs12)?)?;
            Ok(report(
                "PKCS#12 keystore",
                "pkcs12",
                pkcs12_findings(&contents, key, opts)?,
            ))
        }
        Plan::Certificate => {
            let info = crate::x509::parse(data)?;
            let mut findings = vec![expiry(&info, opts, None)];
            if info.key_bits.is_none() {
                let algorithm =
                    crate::key::spki_algorithm(&info.spki).unwrap_or_else(|| "unknown".into());
                findings.push(
                    Finding::new(
                        Check::CertificateKeyIsRsa,
                        Status::Fail,
                        format!(
                            "the certificate's key is {algorithm}; Salesforce's JWT bearer flow signs with RS256, which needs an RSA key"
                        ),
                    )
                    .fix("make an RSA key and a certificate from it: certmint key --out server.key; certmint cert --key server.key --out server.crt"),
                );
            }
            if let Some(k) = key {
                findings.push(given_key_matches(k, &info));
            }
            Ok(report("certificate", "certificate", findings))
        }
        Plan::Nothing(kind) => Err(Error::WrongKind {
            expected: Expected::Checkable,
            found: kind.describe().into(),
        }),
    }
}

fn pkcs12_findings(
    contents: &pkcs12::Contents,
    key: Option<&RsaKey>,
    opts: &Options,
) -> Result<Vec<Finding>> {
    let mut findings = Vec::new();
    for entry in &contents.entries {
        let alias = entry.alias.clone().unwrap_or_else(|| "(no name)".into());
        let Some(leaf) = entry.chain.first() else {
            continue;
        };
        let info = crate::x509::parse_der(leaf)?;
        findings.push(expiry(&info, opts, None).alias(alias.clone()));
        if let Some(k) = entry.key.as_ref() {
            let ok = k.rsa().is_ok_and(|rsa| rsa.matches_spki(&info.spki));
            let detail = if ok {
                "the entry's key is the certificate's"
            } else {
                "the entry's key is not the certificate's"
            };
            findings.push(
                Finding::passed_if(Check::KeyMatchesCertificate, ok, detail)
                    .alias(alias.clone())
                    .fix("rebuild the keystore: certmint p12 --cert CERT --key KEY --out NEW.p12"),
            );
        }
        if let Some(k) = key {
            findings.push(given_key_matches(k, &info).alias(alias));
        }
    }
    if findings.is_empty() {
        findings.push(Finding::new(
            Check::HasCertificate,
            Status::Fail,
            "no certificate in the keystore",
        ));
    }
    Ok(findings)
}

/// Expiry of a certificate against [`Options::warn_days`]; `renew` is the fix when the
/// certificate is known to come from a certmint directory.
fn expiry(info: &CertInfo, opts: &Options, renew: Option<String>) -> Finding {
    let left = info.days_left(opts.now);
    let date = info.not_after.date();
    let warn_days = opts.warn_days;
    let (status, detail) = if info.is_expired(opts.now) {
        (
            Status::Fail,
            format!("EXPIRED on {date} ({} ago)", crate::text::days(-left)),
        )
    } else if left < warn_days {
        (
            Status::Fail,
            format!(
                "expires on {date}, in {} (warning threshold {})",
                crate::text::days(left),
                crate::text::days(warn_days)
            ),
        )
    } else {
        (
            Status::Pass,
            format!("valid until {date} ({} left)", crate::text::days(left)),
        )
    };
    let fix = renew.unwrap_or_else(|| {
        "renew it over the same key (zero downtime): certmint renew --cert CERT --key KEY --out NEW.crt, then upload NEW.crt; Salesforce keeps accepting assertions after expiry, but renew before your own policy or auditors object".into()
    });
    let mut f = Finding::new(Check::Expiry, status, detail).fix(fix);
    f.certificate = Some(
        info.common_name
            .clone()
            .unwrap_or_else(|| info.subject.clone()),
    );
    f.days_left = Some(left);
    f
}

/// Does the key given with `--key` match the certificate?
fn given_key_matches(key: &RsaKey, info: &CertInfo) -> Finding {
    let ok = key.matches_spki(&info.spki);
    let detail = if ok {
        format!("public key SHA-256 {}", key.public_key_sha256())
    } else {
        // The same fingerprint of both public keys (SHA-256 of the SubjectPublicKeyInfo
        // DER, what `certmint inspect` shows for a key and a certificate alike).
        format!(
            "the key's public key (SHA-256 {}) is not the certificate's (SHA-256 {})",
            key.public_key_sha256(),
            crate::key::spki_sha256(&info.spki)
        )
    };
    Finding::passed_if(Check::KeyMatchesCertificate, ok, detail).fix(
        "pair the key with the certificate made from it; Salesforce answers \"invalid assertion\" when they differ",
    )
}

/// How to repair a keystore `file` (escaped) that breaks one of Salesforce's rules.
fn rule_fix(f: &salesforce::Finding, file: &str, detected: &FileType) -> String {
    let alias = escape(f.alias.as_deref().unwrap_or("ALIAS"));
    match f.rule {
        Rule::FileIsJks => match detected {
            FileType::Pkcs12 => format!(
                "convert it: certmint jks --p12 {file} --out server.jks (or keytool -importkeystore -srckeystore {file} -srcstoretype PKCS12 -deststoretype JKS with the same password for key and store)"
            ),
            FileType::Jceks => format!(
                "convert it with the same password for key and store: {}",
                jks::jceks_conversion(file, ConvertFor::Salesforce)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(rel: &str) -> Vec<u8> {
        std::fs::read(format!("{}/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    fn opts(now: OffsetDateTime) -> Options {
        Options {
            warn_days: 30,
            salesforce: false,
            now,
        }
    }

    #[test]
    fn expiry_counts_days_from_the_given_clock() {
        let data = fixture("certs/base.crt");
        let info = crate::x509::parse(&data).unwrap();
        let plan = plan(&data, false).unwrap();
        assert_eq!(plan, Plan::Certificate);
        let at = |days: i64| {
            let now = info.not_after - time::Duration::days(days);
            file(Path::new("c.crt"), &data, &plan, None, None, &opts(now)).unwrap()
        };
        let r = at(100);
        assert!(r.ok());
        assert_eq!(r.findings[0].days_left, Some(100));
        assert_eq!(r.findings[0].check, Check::Expiry);
        assert!(r.findings[0].alias.is_none());
        assert!(r.findings[0].certificate.is_some());
        let r = at(10);
        assert_eq!(r.failed(), 1);
        assert_eq!(r.findings[0].days_left, Some(10));
        assert!(r.findings[0].fix.is_some());
        let r = at(-3);
        assert_eq!(r.findings[0].days_left, Some(-3));
        assert!(r.findings[0].detail.contains("EXPIRED"), "{:?}", r.findings);
    }

    #[test]
    fn plans_say_what_needs_a_password() {
        let p12 = fixture("p12/openssl-default.p12");
        assert_eq!(plan(&p12, false).unwrap(), Plan::Pkcs12);
        assert!(plan(&p12, false).unwrap().needs_password());
        assert_eq!(plan(&p12, true).unwrap(), Plan::NotJks(FileType::Pkcs12));
        let jks = fixture("jks/keytool-equal.jks");
        assert_eq!(plan(&jks, true).unwrap(), Plan::Jks);
        Plan::Jks.check_structure(&jks).unwrap();
        assert!(Plan::Jks.check_structure(&jks[..100]).is_err());
        let key = fixture("keys/base.pkcs8.pem");
        assert_eq!(plan(&key, false).unwrap(), Plan::Nothing(Kind::PrivateKey));
        let err = file(
            Path::new("k"),
            &key,
            &Plan::Nothing(Kind::PrivateKey),
            None,
            None,
            &opts(OffsetDateTime::now_utc()),
        )
        .unwrap_err();
        assert!(matches!(err, Error::WrongKind { .. }), "{err}");
        assert!(matches!(
            plan(&fixture("jks/keytool.jceks"), false),
            Err(Error::Unsupported { .. })
        ));
        let missing = file(
            Path::new("x.p12"),
            &p12,
            &Plan::Pkcs12,
            None,
            None,
            &opts(OffsetDateTime::now_utc()),
        );
        assert!(matches!(missing, Err(Error::PasswordRequired { .. })));
    }

    #[test]
    fn json_names_alias_generation_and_certificate_apart() {
        let mut f = Finding::new(Check::Expiry, Status::Pass, "ok").generation("g1-2026-01-01");
        f.certificate = Some("acme-jwt".into());
        f.days_left = Some(42);
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(v["alias"], serde_json::Value::Null);
        assert_eq!(v["generation"], "g1-2026-01-01");
        assert_eq!(v["certificate"], "acme-jwt");
        assert_eq!(v["days_left"], 42);
        assert_eq!(v["rule"], "expiry");
        assert_eq!(v["status"], "pass");
        assert_eq!(f.subject(), Some("g1-2026-01-01"));
        let summary = Summary {
            files: vec![Report {
                path: "d".into(),
                title: "certmint directory",
                kind: "directory",
                findings: vec![f],
            }],
        };
        let v = serde_json::to_value(&summary).unwrap();
        assert_eq!(v["ok"], true);
        assert_eq!(v["files"][0]["kind"], "directory");
        assert_eq!(v["files"][0]["checks"][0]["rule"], "expiry");
    }
}
