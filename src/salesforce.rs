//! Salesforce's rules for importing a keystore in Setup → Certificate and Key Management →
//! Import from Keystore, as data and checks, reported in Salesforce's own words.
//!
//! Sources: Salesforce Help "Export and import certificates with a keystore" (the error
//! messages), the Knowledge article on per-key passwords, and the Unique Name rules for
//! certificates: each rule with its source is in `docs/salesforce-reference.md`, "Keystore
//! import rules".
//!
//! Two rules rest on certmint's assumptions, flagged on the items below: that the JKS alias
//! becomes the certificate's Unique Name (so it must be a valid one), and that a Unique Name
//! is at most [`MAX_ALIAS_LEN`] characters (Salesforce documents no maximum; 80 is the usual
//! limit of Salesforce developer names).

use crate::detect::FileType;
use crate::error::Input;
use crate::jks::{self, Entry, PrivateKeyEntry};
use crate::key::{RSA_ENCRYPTION_OID, RsaKey, SALESFORCE_BITS};
use crate::{Error, Password, Result};

/// Longest alias certmint accepts as a Unique Name. **certmint's assumption**: Salesforce
/// documents no maximum for a certificate's Unique Name; 80 characters is the limit of its
/// developer names elsewhere.
pub const MAX_ALIAS_LEN: usize = 80;

/// The alias certmint uses when there is nothing to derive one from.
pub const FALLBACK_ALIAS: &str = "certmint_jwt";

/// One import rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rule {
    /// The file is a JKS keystore (PKCS#12/PFX must be converted first).
    FileIsJks,
    /// The keystore holds a PrivateKeyEntry: a key with its certificate.
    HasPrivateKeyEntry,
    /// The key is an RSA key.
    RsaKey,
    /// The key is encoded as PKCS#8.
    Pkcs8,
    /// The modulus is 2048, 3072 or 4096 bits.
    KeySize,
    /// The key matches the leaf certificate of its chain.
    KeyMatchesCertificate,
    /// The key's password equals the keystore password (the import asks for one password).
    KeyPasswordIsStorePassword,
    /// The alias is a valid Unique Name (**certmint's inference**: the alias becomes the
    /// certificate's Unique Name).
    AliasIsUniqueName,
}

impl Rule {
    /// Every rule, in the order they are reported.
    pub const ALL: [Rule; 8] = [
        Rule::FileIsJks,
        Rule::HasPrivateKeyEntry,
        Rule::RsaKey,
        Rule::Pkcs8,
        Rule::KeySize,
        Rule::KeyMatchesCertificate,
        Rule::KeyPasswordIsStorePassword,
        Rule::AliasIsUniqueName,
    ];

    /// A stable identifier for JSON output.
    pub fn id(self) -> &'static str {
        match self {
            Rule::FileIsJks => "file_is_jks",
            Rule::HasPrivateKeyEntry => "private_key_entry",
            Rule::RsaKey => "rsa_key",
            Rule::Pkcs8 => "pkcs8",
            Rule::KeySize => "key_size",
            Rule::KeyMatchesCertificate => "key_matches_certificate",
            Rule::KeyPasswordIsStorePassword => "key_password_is_store_password",
            Rule::AliasIsUniqueName => "alias_is_unique_name",
        }
    }

    /// What the rule requires, as a short line.
    pub fn title(self) -> &'static str {
        match self {
            Rule::FileIsJks => "File is a JKS keystore",
            Rule::HasPrivateKeyEntry => "Contains a PrivateKeyEntry (key and certificate)",
            Rule::RsaKey => "Key is RSA",
            Rule::Pkcs8 => "Key is encoded as PKCS#8",
            Rule::KeySize => "Key is 2048, 3072 or 4096 bits",
            Rule::KeyMatchesCertificate => "Key matches the certificate",
            Rule::KeyPasswordIsStorePassword => "Key password is the keystore password",
            Rule::AliasIsUniqueName => "Alias is a valid Unique Name",
        }
    }

    /// What Salesforce says when the rule is broken. For
    /// [`Rule::KeyPasswordIsStorePassword`] use [`Rule::message_for`], which names the
    /// certificate.
    pub fn salesforce_message(self) -> &'static str {
        match self {
            // Salesforce's help: "PKCS#12/PFX must be converted to JKS first"; the import
            // page accepts JKS only (BCFKS on Government Cloud).
            Rule::FileIsJks => {
                "Salesforce imports JKS keystores only: a PKCS#12/PFX must be converted to JKS first."
            }
            Rule::HasPrivateKeyEntry => {
                "No certificate was imported because the keystore file doesn't contain a PrivateKey entry."
            }
            Rule::RsaKey => "The key is not an RSA key.",
            Rule::Pkcs8 => "The key must be in PKCS#8 format.",
            Rule::KeySize => "Imported keys must have a bit size of 2048, 3072, or 4096.",
            Rule::KeyMatchesCertificate => {
                "The private key does not match the certificate chain in the keystore."
            }
            Rule::KeyPasswordIsStorePassword => {
                "Error: The Keystore contains a certificate '<certName>' whose per key password is not the same as the keystore password."
            }
            // The Unique Name field rules for certificates; the exact import error for a bad
            // alias is not documented.
            Rule::AliasIsUniqueName => {
                "The Unique Name can contain only underscores and alphanumeric characters. It must be unique, begin with a letter, not include spaces, not end with an underscore, and not contain two consecutive underscores."
            }
        }
    }

    /// True when [`Rule::salesforce_message`] is the error text Salesforce shows; false
    /// when Salesforce documents the rule but not its error text, and the message is the
    /// documented rule in Salesforce's words ([`Rule::FileIsJks`],
    /// [`Rule::AliasIsUniqueName`]).
    pub fn message_is_error_text(self) -> bool {
        !matches!(self, Rule::FileIsJks | Rule::AliasIsUniqueName)
    }

    /// Salesforce's message for an entry named `cert_name`.
    pub fn message_for(self, cert_name: &str) -> String {
        match self {
            Rule::KeyPasswordIsStorePassword => format!(
                "Error: The Keystore contains a certificate '{cert_name}' whose per key password is not the same as the keystore password."
            ),
            other => other.salesforce_message().to_owned(),
        }
    }
}

/// The outcome of one rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// The keystore meets the rule.
    Pass,
    /// Salesforce would refuse the keystore for this reason.
    Fail,
    /// The rule could not be evaluated because an earlier one failed (see `detail`).
    NotChecked,
}

impl Status {
    /// `pass`, `fail` or `not_checked`.
    pub fn id(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::NotChecked => "not_checked",
        }
    }
}

/// One rule's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The rule.
    pub rule: Rule,
    /// Pass, fail or not checked.
    pub status: Status,
    /// The entry the finding is about (`None` for file-level rules). Raw, from the file:
    /// escape it before printing.
    pub alias: Option<String>,
    /// Salesforce's message, present when the rule fails.
    pub message: Option<String>,
    /// What certmint saw ("RSA 2048 bits", "the alias must begin with a letter").
    pub detail: String,
}

impl Finding {
    fn new(rule: Rule, status: Status, alias: Option<&str>, detail: impl Into<String>) -> Self {
        let message = (status == Status::Fail).then(|| rule.message_for(alias.unwrap_or("")));
        Finding {
            rule,
            status,
            alias: alias.map(str::to_owned),
            message,
            detail: detail.into(),
        }
    }

    /// True when the rule failed.
    pub fn failed(&self) -> bool {
        self.status == Status::Fail
    }
}

/// True when no finding failed.
pub fn all_pass(findings: &[Finding]) -> bool {
    !findings.iter().any(Finding::failed)
}

/// Check `alias` against the Unique Name rules: ASCII letters, digits and underscores only,
/// beginning with a letter, no spaces, not ending with an underscore, no two consecutive
/// underscores, and at most [`MAX_ALIAS_LEN`] characters (certmint's assumption). The error
/// says which rule is broken.
pub fn validate_alias(alias: &str) -> std::result::Result<(), String> {
    let shown = crate::text::escape(alias);
    let Some(first) = alias.chars().next() else {
        return Err("the alias is empty".into());
    };
    let len = alias.chars().count();
    if len > MAX_ALIAS_LEN {
        return Err(format!(
            "the alias is {len} characters long; certmint allows at most {MAX_ALIAS_LEN} (Salesforce documents no maximum)"
        ));
    }
    if let Some(c) = alias
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        let what = if c == ' ' {
            "a space".to_string()
        } else {
            format!("`{}`", crate::text::escape(&c.to_string()))
        };
        return Err(format!(
            "`{shown}` contains {what}: only letters, digits and underscores are allowed"
        ));
    }
    if !first.is_ascii_alphabetic() {
        return Err(format!("`{shown}` must begin with a letter"));
    }
    if alias.ends_with('_') {
        return Err(format!("`{shown}` must not end with an underscore"));
    }
    if alias.contains("__") {
        return Err(format!(
            "`{shown}` must not contain two consecutive underscores"
        ));
    }
    Ok(())
}

/// A valid Unique Name made from any text (a common name, a rejected alias): lowercase (JKS
/// stores aliases lowercased anyway), every run of other characters turned into one
/// underscore, no leading or trailing underscore, `cert_` in front when it would begin with
/// a digit, cut to [`MAX_ALIAS_LEN`], and [`FALLBACK_ALIAS`] when nothing is left.
///
/// `"acme-jwt 2026"` → `"acme_jwt_2026"`, `"1"` → `"cert_1"`, `""` → `"certmint_jwt"`.
pub fn suggest_alias(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let mut out = out.trim_end_matches('_').to_owned();
    if out.is_empty() {
        return FALLBACK_ALIAS.to_owned();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "cert_");
    }
    // ASCII only, so byte length is character length.
    out.truncate(MAX_ALIAS_LEN);
    out.trim_end_matches('_').to_owned()
}

/// The default alias for a certificate: its common name made valid ([`suggest_alias`]).
pub fn default_alias_from_cn(common_name: Option<&str>) -> String {
    suggest_alias(common_name.unwrap_or(""))
}

/// Check a keystore file against every import rule, with the store password the admin
/// would type into Salesforce.
///
/// A file that is not JKS at all (PKCS#12, PEM, JCEKS...) is a failed
/// [`Rule::FileIsJks`], not an error. Errors are for what Salesforce would not even get
/// to: a corrupt or truncated JKS ([`Error::Corrupt`]) and a wrong store password
/// ([`Error::WrongPassword`]). A key password different from the store password is a
/// failed [`Rule::KeyPasswordIsStorePassword`], not an error.
///
/// File-level rules come first; then the per-entry rules for each PrivateKeyEntry that has
/// a certificate, with the entry's alias.
pub fn check_jks(data: &[u8], store_password: &Password) -> Result<Vec<Finding>> {
    let detected = crate::detect::detect(data);
    if !matches!(detected, FileType::Jks { .. }) {
        let mut findings = vec![Finding::new(
            Rule::FileIsJks,
            Status::Fail,
            None,
            format!("the file is {}", detected.describe()),
        )];
        findings.extend(
            Rule::ALL[1..]
                .iter()
                .map(|&r| Finding::new(r, Status::NotChecked, None, "needs a JKS keystore")),
        );
        return Ok(findings);
    }
    let ks = jks::parse(data, Some(store_password))?;
    let mut findings = vec![Finding::new(
        Rule::FileIsJks,
        Status::Pass,
        None,
        format!("JKS version {}, integrity digest verified", ks.version),
    )];
    let with_cert: Vec<&PrivateKeyEntry> =
        ks.private_keys().filter(|k| !k.chain.is_empty()).collect();
    // Java's JKS lowercases the alias it is asked for, so an entry stored with capitals
    // (keytool never writes one) is listed but cannot be fetched: Salesforce would not find
    // its key.
    let (reachable, capitals): (Vec<&PrivateKeyEntry>, Vec<&PrivateKeyEntry>) = with_cert
        .iter()
        .partition(|k| k.alias == jks::normalize_alias(&k.alias));
    let quoted = |ks: &[&PrivateKeyEntry]| -> String {
        ks.iter()
            .map(|k| format!("`{}`", crate::text::escape(&k.alias)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let without_cert: Vec<&PrivateKeyEntry> =
        ks.private_keys().filter(|k| k.chain.is_empty()).collect();
    let trusted = ks
        .entries
        .iter()
        .filter(|e| matches!(e, Entry::TrustedCert(_)))
        .count();
    let mut notes = Vec::new();
    if trusted > 0 {
        notes.push(plural(
            trusted,
            "trusted certificate entry",
            "trusted certificate entries",
        ));
    }
    if !without_cert.is_empty() {
        notes.push(format!(
            "private keys without a certificate: {}",
            quoted(&without_cert)
        ));
    }
    if !capitals.is_empty() {
        notes.push(format!(
            "aliases with capital letters, which Java's JKS cannot look up: {}",
            quoted(&capitals)
        ));
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!("; {}", notes.join("; "))
    };
    if reachable.is_empty() {
        let head = if ks.entries.is_empty() {
            "the keystore is empty".to_string()
        } else {
            format!(
                "{}, none a usable private key with its certificate",
                plural(ks.entries.len(), "entry", "entries")
            )
        };
        findings.push(Finding::new(
            Rule::HasPrivateKeyEntry,
            Status::Fail,
            None,
            format!("{head}{notes}"),
        ));
        if with_cert.is_empty() {
            findings.extend(
                Rule::ALL[2..]
                    .iter()
                    .map(|&r| Finding::new(r, Status::NotChecked, None, "needs a PrivateKeyEntry")),
            );
            return Ok(findings);
        }
    } else {
        findings.push(Finding::new(
            Rule::HasPrivateKeyEntry,
            Status::Pass,
            None,
            format!("PrivateKeyEntry {}{notes}", quoted(&reachable)),
        ));
    }
    for entry in with_cert {
        findings.extend(check_entry(entry, store_password));
    }
    Ok(findings)
}

/// Write the JKS keystore certmint makes for Salesforce ([`jks::write_private_key`], which
/// proves the bytes by reading them back) and check it against every import rule before
/// returning it: a keystore that would break one is [`Error::InvalidInput`] naming the
/// rule, and is not returned. `chain` is DER, leaf first; `timestamp_ms` the entry's
/// creation date. `certmint jks` and the directory commands (`init`, `renew`, `rotate`)
/// both write their JKS through here.
pub fn write_jks(
    alias: &str,
    key: &RsaKey,
    chain: &[Vec<u8>],
    timestamp_ms: u64,
    password: &Password,
) -> Result<Vec<u8>> {
    let bytes = jks::write_private_key(
        alias,
        key.pkcs8_der().expose(),
        chain,
        timestamp_ms,
        password,
    )?;
    if let Some(f) = check_jks(&bytes, password)?.iter().find(|f| f.failed()) {
        return Err(Error::invalid(
            Input::Keystore,
            format!(
                "the JKS would break Salesforce's rule \"{}\" ({})",
                f.rule.title(),
                f.detail
            ),
        ));
    }
    Ok(bytes)
}

/// The per-entry rules for one PrivateKeyEntry with a non-empty chain.
fn check_entry(entry: &PrivateKeyEntry, store_password: &Password) -> Vec<Finding> {
    let alias = Some(entry.alias.as_str());
    let f = |rule, status, detail: String| Finding::new(rule, status, alias, detail);
    let leaf = entry.leaf().map(crate::x509::parse_der);
    let leaf_info = match &leaf {
        Some(Ok(info)) => Some(info),
        _ => None,
    };
    let leaf_problem = match &leaf {
        Some(Err(e)) => format!("the certificate cannot be read ({e})"),
        _ => "no certificate".into(),
    };

    // Recover the key with the store password: the only password Salesforce asks for.
    let recovered = entry.recover(store_password);
    let password_finding = match &recovered {
        Ok(_) => f(
            Rule::KeyPasswordIsStorePassword,
            Status::Pass,
            "the store password opens the key".into(),
        ),
        Err(Error::WrongPassword { .. }) => f(
            Rule::KeyPasswordIsStorePassword,
            Status::Fail,
            "the store password does not open the key".into(),
        ),
        Err(e) => f(
            Rule::KeyPasswordIsStorePassword,
            Status::NotChecked,
            format!("the key cannot be read: {e}"),
        ),
    };
    let not_open = "the key cannot be opened with the store password";

    // PKCS#8 and the key algorithm, from the recovered bytes.
    let pkcs8 = recovered
        .as_ref()
        .ok()
        .map(|plain| pkcs8::PrivateKeyInfoRef::try_from(plain.expose()).map(|i| i.algorithm.oid));
    let pkcs8_finding = match &pkcs8 {
        Some(Ok(_)) => f(Rule::Pkcs8, Status::Pass, "PKCS#8 PrivateKeyInfo".into()),
        Some(Err(e)) => f(
            Rule::Pkcs8,
            Status::Fail,
            format!("the recovered key is not a PKCS#8 PrivateKeyInfo ({e})"),
        ),
        None => f(Rule::Pkcs8, Status::NotChecked, not_open.into()),
    };
    let key = match (&recovered, &pkcs8) {
        (Ok(plain), Some(Ok(oid))) if *oid == RSA_ENCRYPTION_OID => {
            Some(RsaKey::from_pkcs8_der(plain.expose()))
        }
        _ => None,
    };

    let rsa_finding = match (&pkcs8, leaf_info) {
        (Some(Ok(oid)), _) if *oid == RSA_ENCRYPTION_OID => {
            f(Rule::RsaKey, Status::Pass, "rsaEncryption".into())
        }
        (Some(Ok(oid)), _) => f(
            Rule::RsaKey,
            Status::Fail,
            format!("the key algorithm is {}", algorithm_name(&oid.to_string())),
        ),
        // The key cannot be read: judge by the certificate's public key.
        (_, Some(info)) => match info.key_bits {
            Some(_) => f(
                Rule::RsaKey,
                Status::Pass,
                "the certificate's public key is RSA (the key itself could not be read)".into(),
            ),
            None => f(
                Rule::RsaKey,
                Status::Fail,
                "the certificate's public key is not RSA".into(),
            ),
        },
        (_, None) => f(Rule::RsaKey, Status::NotChecked, leaf_problem.clone()),
    };

    let bits = match &key {
        Some(Ok(k)) => Some((k.bits(), "")),
        _ => leaf_info
            .and_then(|i| i.key_bits)
            .map(|b| (b, " (from the certificate)")),
    };
    let size_finding = match (bits, rsa_finding.status) {
        (_, Status::Fail) => f(Rule::KeySize, Status::NotChecked, "not an RSA key".into()),
        (Some((b, from)), _) if SALESFORCE_BITS.contains(&b) => {
            f(Rule::KeySize, Status::Pass, format!("{b} bits{from}"))
        }
        (Some((b, from)), _) => f(Rule::KeySize, Status::Fail, format!("{b} bits{from}")),
        (None, _) => f(
            Rule::KeySize,
            Status::NotChecked,
            "neither the key nor the certificate can be read".into(),
        ),
    };

    let match_finding = match (&key, leaf_info) {
        (Some(Ok(k)), Some(info)) if k.matches_spki(&info.spki) => f(
            Rule::KeyMatchesCertificate,
            Status::Pass,
            format!("the key matches the certificate {}", info.subject),
        ),
        (Some(Ok(_)), Some(info)) => f(
            Rule::KeyMatchesCertificate,
            Status::Fail,
            format!("the certificate {} holds another public key", info.subject),
        ),
        (Some(Err(e)), _) => f(
            Rule::KeyMatchesCertificate,
            Status::NotChecked,
            format!("the RSA key cannot be read ({e})"),
        ),
        (Some(Ok(_)), None) => f(
            Rule::KeyMatchesCertificate,
            Status::NotChecked,
            leaf_problem,
        ),
        (None, _) => f(
            Rule::KeyMatchesCertificate,
            Status::NotChecked,
            if recovered.is_ok() {
                "not a PKCS#8 RSA key".into()
            } else {
                not_open.into()
            },
        ),
    };

    let alias_finding = match validate_alias(&entry.alias) {
        Ok(()) => f(
            Rule::AliasIsUniqueName,
            Status::Pass,
            format!("`{}`", crate::text::escape(&entry.alias)),
        ),
        Err(why) => f(
            Rule::AliasIsUniqueName,
            Status::Fail,
            format!("{why}; for example `{}`", suggest_alias(&entry.alias)),
        ),
    };

    vec![
        rsa_finding,
        pkcs8_finding,
        size_finding,
        match_finding,
        password_finding,
        alias_finding,
    ]
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn algorithm_name(oid: &str) -> String {
    let name = match oid {
        "1.2.840.10045.2.1" => "EC",
        "1.2.840.10040.4.1" => "DSA",
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        "1.2.840.113549.1.1.10" => "RSASSA-PSS",
        _ => return format!("OID {oid}"),
    };
    format!("{name} (OID {oid})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_rules() {
        for ok in [
            "acme_jwt",
            "A",
            "Acme_JWT_2026",
            "a1_b2",
            &"a".repeat(MAX_ALIAS_LEN),
        ] {
            validate_alias(ok).unwrap();
        }
        let cases = [
            ("", "empty"),
            ("1", "begin with a letter"),
            ("_acme", "begin with a letter"),
            ("acme jwt", "a space"),
            ("acme-jwt", "`-`"),
            ("acme_", "end with an underscore"),
            ("acme__jwt", "two consecutive underscores"),
            ("zürich", "`ü`"),
        ];
        for (bad, why) in cases {
            let err = validate_alias(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
        assert!(
            validate_alias(&"a".repeat(MAX_ALIAS_LEN + 1))
                .unwrap_err()
                .contains("at most")
        );
        // Control characters are escaped in the message.
        assert!(!validate_alias("a\u{1b}[2J").unwrap_err().contains('\u{1b}'));
    }

    #[test]
    fn suggestions_are_valid() {
        assert_eq!(suggest_alias("acme-jwt 2026"), "acme_jwt_2026");
        assert_eq!(suggest_alias("1"), "cert_1");
        assert_eq!(suggest_alias(""), FALLBACK_ALIAS);
        assert_eq!(suggest_alias("--__--"), FALLBACK_ALIAS);
        assert_eq!(suggest_alias("Acme JWT"), "acme_jwt");
        assert_eq!(suggest_alias("  a  b  "), "a_b");
        assert_eq!(suggest_alias("Zürich"), "z_rich");
        assert_eq!(default_alias_from_cn(None), FALLBACK_ALIAS);
        assert_eq!(default_alias_from_cn(Some("api.acme.com")), "api_acme_com");
        let long = format!("{}_{}", "a".repeat(MAX_ALIAS_LEN - 1), "b");
        let s = suggest_alias(&long);
        assert!(s.len() <= MAX_ALIAS_LEN && !s.ends_with('_'), "{s}");
        let inputs = [
            "1",
            "9lives",
            "a_",
            "__a__",
            "x y\tz",
            "😀",
            "😀a",
            "CN=foo,O=bar",
            "a\u{1b}b",
            &"7".repeat(200),
        ];
        for t in inputs {
            let s = suggest_alias(t);
            assert!(validate_alias(&s).is_ok(), "{t:?} -> {s:?}");
        }
    }

    #[test]
    fn every_rule_has_a_message_and_id() {
        let mut ids = std::collections::HashSet::new();
        for r in Rule::ALL {
            assert!(!r.salesforce_message().is_empty());
            assert!(ids.insert(r.id()));
        }
        assert_eq!(
            Rule::KeyPasswordIsStorePassword.message_for("acme_jwt"),
            "Error: The Keystore contains a certificate 'acme_jwt' whose per key password is not the same as the keystore password."
        );
    }

    #[test]
    fn non_jks_is_a_failed_rule() {
        let pfx = [0x30, 0x82, 0x0a, 0x00, 0x02, 0x01, 0x03, 0x30];
        let f = check_jks(&pfx, &Password::from("x")).unwrap();
        assert_eq!(f.len(), Rule::ALL.len());
        assert_eq!(f[0].rule, Rule::FileIsJks);
        assert!(f[0].failed());
        assert!(f[0].detail.contains("PKCS#12"));
        assert!(f[1..].iter().all(|x| x.status == Status::NotChecked));
    }
}
