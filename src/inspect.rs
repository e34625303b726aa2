//! Describe any file certmint handles, recognised by its content (never its name) with
//! [`crate::detect`]. Every string taken from the file is escaped with
//! [`crate::text::escape`] before it reaches a report.

use serde::Serialize;
use time::OffsetDateTime;

use crate::error::Input;
use crate::key::{self, KeyFormat};
use crate::text::rfc3339;
use crate::x509::{self, CertInfo};
use crate::{Error, Result, pemfile};

pub use crate::detect::Kind;

/// A description of a private key (without decrypting it).
#[derive(Clone, Debug, Serialize)]
pub struct KeyReport {
    /// e.g. "encrypted PKCS#8 private key, PBES2 (...) (PEM)".
    pub format: String,
    /// True when a password is needed.
    pub encrypted: bool,
    /// Modulus size, when the key could be read (unencrypted, or decrypted with a password).
    pub bits: Option<usize>,
    /// SHA-256 of the public key (DER SPKI), when known.
    pub public_key_sha256: Option<String>,
    /// The key's algorithm (`RSA`, `EC P-256`, `Ed25519`), when known.
    pub algorithm: Option<String>,
    /// Why Salesforce cannot use it, for a key that is not RSA.
    pub unusable: Option<String>,
}

/// Why a key that is not RSA cannot serve.
pub const NOT_RSA: &str = "not RSA: Salesforce's JWT bearer flow signs with RS256, which needs an RSA key; make one with `certmint key`";

/// Describe a private key; with a password, an encrypted key is decrypted to report its
/// size and public key. A key of another algorithm (EC, Ed25519, ...) is described, with
/// why Salesforce cannot use it.
pub fn key_report(data: &[u8], password: Option<&crate::Password>) -> Result<KeyReport> {
    if let Some((alg, container)) = key::private_key_algorithm(data) {
        return Ok(KeyReport {
            format: format!(
                "{alg} private key, {container}{}",
                if pemfile::is_pem(data) {
                    " (PEM)"
                } else {
                    " (DER)"
                }
            ),
            encrypted: false,
            bits: None,
            public_key_sha256: None,
            algorithm: Some(alg),
            unusable: Some(NOT_RSA.into()),
        });
    }
    let info = key::probe(data)?;
    let loaded = if !info.is_encrypted() || password.is_some() {
        Some(key::load(data, password)?.0)
    } else {
        None
    };
    Ok(KeyReport {
        format: info.to_string(),
        encrypted: matches!(
            info.format,
            KeyFormat::EncryptedPkcs8 { .. } | KeyFormat::LegacyEncrypted { .. }
        ),
        bits: loaded.as_ref().map(|k| k.bits()),
        public_key_sha256: loaded.as_ref().map(|k| k.public_key_sha256()),
        algorithm: loaded.as_ref().map(|_| "RSA".to_owned()),
        unusable: None,
    })
}

/// A description of a certificate for reports.
#[derive(Clone, Debug, Serialize)]
pub struct CertReport {
    /// X.509 version.
    pub version: u32,
    /// Subject (escaped).
    pub subject: String,
    /// Issuer (escaped).
    pub issuer: String,
    /// Serial, hex with colons.
    pub serial: String,
    /// RFC 3339.
    pub not_before: String,
    /// RFC 3339.
    pub not_after: String,
    /// Days until expiry (negative when expired).
    pub days_left: i64,
    /// Whether it has expired.
    pub expired: bool,
    /// Signature algorithm.
    pub signature_algorithm: String,
    /// RSA modulus size, `None` for other key types.
    pub key_bits: Option<usize>,
    /// The key's algorithm: `RSA`, `EC P-256`, `Ed25519`, ...
    pub key_algorithm: String,
    /// SHA-1 fingerprint of the DER.
    pub sha1: String,
    /// SHA-256 fingerprint of the DER.
    pub sha256: String,
    /// SHA-256 of the public key (DER SPKI), to compare with a key.
    pub public_key_sha256: String,
    /// Subject equals issuer and the signature verifies with its own key.
    pub self_signed: bool,
    /// The X.509v3 extensions, as `openssl x509 -text` shows them.
    pub extensions: Box<crate::x509::Extensions>,
}

impl CertReport {
    /// Build from parsed certificate info at time `now`.
    pub fn new(info: &CertInfo, now: OffsetDateTime) -> Self {
        CertReport {
            version: info.version,
            subject: info.subject.clone(),
            issuer: info.issuer.clone(),
            serial: info.serial.clone(),
            not_before: rfc3339(info.not_before),
            not_after: rfc3339(info.not_after),
            days_left: info.days_left(now),
            expired: info.is_expired(now),
            signature_algorithm: info.signature_algorithm.clone(),
            key_bits: info.key_bits,
            key_algorithm: spki_words(&info.spki),
            sha1: info.sha1.clone(),
            sha256: info.sha256.clone(),
            public_key_sha256: key::spki_sha256(&info.spki),
            self_signed: info.self_signed,
            extensions: Box::new(info.extensions.clone()),
        }
    }
}

/// The algorithm of a DER SPKI in words (`unknown` when it does not parse).
fn spki_words(spki: &[u8]) -> String {
    key::spki_algorithm(spki).unwrap_or_else(|| "unknown".into())
}

/// A description of a CSR.
#[derive(Clone, Debug, Serialize)]
pub struct CsrReport {
    /// Subject (escaped).
    pub subject: String,
    /// RSA modulus size.
    pub key_bits: Option<usize>,
    /// The key's algorithm: `RSA`, `EC P-256`, `Ed25519`, ...
    pub key_algorithm: String,
    /// SHA-256 of the public key (DER SPKI).
    pub public_key_sha256: String,
    /// Whether the self-signature verifies.
    pub signature_valid: bool,
}

/// Describe a CSR (a bad signature is reported, not an error).
pub fn csr_report(data: &[u8]) -> Result<CsrReport> {
    match crate::csr::parse(data) {
        Ok(csr) => Ok(CsrReport {
            subject: csr.subject,
            key_bits: csr.key_bits,
            key_algorithm: spki_words(&csr.spki),
            public_key_sha256: key::spki_sha256(&csr.spki),
            signature_valid: true,
        }),
        Err(Error::BadSignature(_)) => {
            let raw = crate::csr::parse_unverified(data)?;
            Ok(CsrReport {
                subject: raw.subject,
                key_bits: raw.key_bits,
                key_algorithm: spki_words(&raw.spki),
                public_key_sha256: key::spki_sha256(&raw.spki),
                signature_valid: false,
            })
        }
        Err(e) => Err(e),
    }
}

/// A description of a public key.
#[derive(Clone, Debug, Serialize)]
pub struct PublicKeyReport {
    /// RSA modulus size, `None` when not RSA.
    pub bits: Option<usize>,
    /// The key's algorithm: `RSA`, `EC P-256`, `Ed25519`, ...
    pub algorithm: String,
    /// SHA-256 of the DER SPKI.
    pub sha256: String,
}

/// Describe a public key (PEM `PUBLIC KEY` or DER SPKI).
pub fn public_key_report(data: &[u8]) -> Result<PublicKeyReport> {
    use x509_parser::prelude::FromDer;
    let der = if pemfile::is_pem(data) {
        let blocks = pemfile::parse_all(data, Input::PublicKey)?;
        blocks[0].contents.clone()
    } else {
        data.to_vec()
    };
    let (_, spki) = x509_parser::x509::SubjectPublicKeyInfo::from_der(&der)
        .map_err(|e| Error::corrupt(Input::PublicKey, e))?;
    Ok(PublicKeyReport {
        bits: key::spki_rsa_bits(spki.raw),
        algorithm: spki_words(spki.raw),
        sha256: key::spki_sha256(spki.raw),
    })
}

/// Everything `inspect` can say about one input.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Report {
    /// A private key.
    PrivateKey(KeyReport),
    /// A public key.
    PublicKey(PublicKeyReport),
    /// A CSR.
    Csr(CsrReport),
    /// A certificate.
    Certificate(CertReport),
    /// A PKCS#12 keystore.
    Pkcs12(P12Report),
    /// A JKS keystore.
    Jks(JksReport),
    /// A JWT assertion.
    Jwt(JwtReport),
    /// A certmint directory.
    Directory(DirReport),
}

/// A PKCS#12 keystore.
#[derive(Clone, Debug, Serialize)]
pub struct P12Report {
    /// One-line description of the algorithms.
    pub algorithms: String,
    /// The certmint profile the file matches, if any.
    pub profile: Option<String>,
    /// Who can read it.
    pub readable_by: String,
    /// The integrity MAC, e.g. "HMAC-SHA256, 2048 iterations"; `None` without a MAC.
    pub mac: Option<String>,
    /// Aliases seen on the bags (those outside encrypted containers, or all with a password).
    pub aliases: Vec<String>,
    /// Entries (with a password).
    pub entries: Vec<StoreEntryReport>,
    /// Whether the contents were decrypted (a password was given).
    pub opened: bool,
}

/// One keystore entry.
#[derive(Clone, Debug, Serialize)]
pub struct StoreEntryReport {
    /// The alias (escaped).
    pub alias: String,
    /// `PrivateKeyEntry` or `trustedCertEntry` (JKS) / `key` or `certificate` (PKCS#12).
    pub entry_type: String,
    /// Creation date (JKS), RFC 3339.
    pub created: Option<String>,
    /// Key algorithm and size, when known.
    pub key: Option<String>,
    /// The certificate chain, leaf first.
    pub chain: Vec<CertReport>,
}

/// A JKS keystore.
#[derive(Clone, Debug, Serialize)]
pub struct JksReport {
    /// Format version (2).
    pub version: u32,
    /// `verified` with the password, else `not checked`.
    pub integrity: String,
    /// Entries.
    pub entries: Vec<StoreEntryReport>,
}

/// A JWT assertion (not verified: inspection only).
#[derive(Clone, Debug, Serialize)]
pub struct JwtReport {
    /// The decoded header.
    pub header: serde_json::Value,
    /// The decoded claims.
    pub claims: serde_json::Value,
    /// `exp` as RFC 3339, when it is a number.
    pub expires: Option<String>,
    /// Seconds until `exp` (negative when past).
    pub expires_in_seconds: Option<i64>,
    /// `exp` looks like milliseconds (the Salesforce CLI's habit).
    pub exp_in_milliseconds: bool,
    /// Signature length in bytes.
    pub signature_bytes: usize,
}

/// A certmint directory.
#[derive(Clone, Debug, Serialize)]
pub struct DirReport {
    /// Keystore alias.
    pub alias: String,
    /// Subject.
    pub subject: String,
    /// The current generation.
    pub current: Option<String>,
    /// Client id, username and login URL recorded for mint.
    pub salesforce: crate::manifest::SalesforceSettings,
    /// The generations, oldest first.
    pub generations: Vec<GenerationReport>,
}

/// One generation of a certmint directory.
#[derive(Clone, Debug, Serialize)]
pub struct GenerationReport {
    /// Directory name.
    pub dir: String,
    /// init, renew or rotate.
    pub origin: String,
    /// pending or complete.
    pub status: String,
    /// Whether it is the current one.
    pub current: bool,
    /// Key size.
    pub key_bits: usize,
    /// Public key SHA-256.
    pub public_key_sha256: String,
    /// The certificate's end of validity.
    pub not_after: Option<String>,
    /// Days until then (negative when expired).
    pub days_left: Option<i64>,
    /// SHA-1 fingerprint of the certificate.
    pub sha1: Option<String>,
}

fn cert_reports(chain: &[Vec<u8>], now: OffsetDateTime) -> Vec<CertReport> {
    chain
        .iter()
        .filter_map(|der| x509::parse_der(der).ok())
        .map(|c| CertReport::new(&c, now))
        .collect()
}

/// Describe `data` (any kind certmint handles). A password, when given, opens keystores
/// and encrypted keys for a fuller report.
pub fn inspect(
    data: &[u8],
    password: Option<&crate::Password>,
    now: OffsetDateTime,
) -> Result<Report> {
    Ok(match crate::detect::identify(data)? {
        Kind::PrivateKey => Report::PrivateKey(key_report(data, password)?),
        Kind::PublicKey => Report::PublicKey(public_key_report(data)?),
        Kind::Csr => Report::Csr(csr_report(data)?),
        Kind::Certificate => Report::Certificate(CertReport::new(&x509::parse(data)?, now)),
        Kind::Jceks => return Err(crate::jks::jceks_unsupported()),
        Kind::Jks => Report::Jks(jks_report(data, password, now)?),
        Kind::Pkcs12 => Report::Pkcs12(p12_report(data, password, now)?),
        Kind::Jwt => Report::Jwt(jwt_report(data, now)?),
    })
}

fn jks_report(
    data: &[u8],
    password: Option<&crate::Password>,
    now: OffsetDateTime,
) -> Result<JksReport> {
    let ks = crate::jks::parse(data, password)?;
    let entries = ks
        .entries
        .iter()
        .map(|e| {
            let created = OffsetDateTime::from_unix_timestamp(
                i64::try_from(e.timestamp_ms() / 1000).unwrap_or(0),
            )
            .ok()
            .map(rfc3339);
            match e {
                crate::jks::Entry::PrivateKey(k) => {
                    let key = password
                        .and_then(|pw| k.recover(pw).ok())
                        .map(
                            |plain| match crate::key::RsaKey::from_pkcs8_der(plain.expose()) {
                                Ok(rsa) => {
                                    format!("RSA {} bits (the store password opens it)", rsa.bits())
                                }
                                Err(_) => "not RSA".to_string(),
                            },
                        )
                        .or_else(|| {
                            password.map(|_| {
                                "protected by another password than the store's".to_string()
                            })
                        });
                    let chain: Vec<Vec<u8>> = k.chain.iter().map(|c| c.der.clone()).collect();
                    StoreEntryReport {
                        alias: crate::text::escape(&k.alias),
                        entry_type: "PrivateKeyEntry".into(),
                        created,
                        key,
                        chain: cert_reports(&chain, now),
                    }
                }
                crate::jks::Entry::TrustedCert(c) => StoreEntryReport {
                    alias: crate::text::escape(&c.alias),
                    entry_type: "trustedCertEntry".into(),
                    created,
                    key: None,
                    chain: cert_reports(std::slice::from_ref(&c.cert.der), now),
                },
            }
        })
        .collect();
    Ok(JksReport {
        version: ks.version,
        integrity: match ks.integrity {
            crate::jks::Integrity::Verified => "verified".into(),
            crate::jks::Integrity::Unchecked => "not checked (no password given)".into(),
        },
        entries,
    })
}

fn p12_report(
    data: &[u8],
    password: Option<&crate::Password>,
    now: OffsetDateTime,
) -> Result<P12Report> {
    let structure = crate::pkcs12::probe(data)?;
    let mut aliases: Vec<String> = structure
        .safes
        .iter()
        .flat_map(|s| s.bags.iter().flatten())
        .filter_map(|b| b.friendly_name.as_deref().map(crate::text::escape))
        .collect();
    aliases.dedup();
    let mut entries = Vec::new();
    if let Some(pw) = password {
        let contents = crate::pkcs12::read(data, pw)?;
        for e in &contents.entries {
            let key = e.key.as_ref().map(|k| match k.rsa() {
                Ok(rsa) => format!("RSA {} bits", rsa.bits()),
                Err(_) => "not RSA".to_string(),
            });
            entries.push(StoreEntryReport {
                alias: e
                    .alias
                    .as_deref()
                    .map(crate::text::escape)
                    .unwrap_or_else(|| "(no name)".into()),
                entry_type: if e.key.is_some() {
                    "key"
                } else {
                    "certificate"
                }
                .into(),
                created: None,
                key,
                chain: cert_reports(&e.chain, now),
            });
            if let Some(a) = &e.alias
                && !aliases.contains(&crate::text::escape(a))
            {
                aliases.push(crate::text::escape(a));
            }
        }
    }
    Ok(P12Report {
        algorithms: structure.summary(),
        profile: structure.profile().map(|p| p.name().to_string()),
        readable_by: structure.readable_by().to_string(),
        mac: structure
            .mac
            .as_ref()
            .map(|m| format!("{}, {} iterations", m.algorithm, m.iterations)),
        aliases,
        entries,
        opened: password.is_some(),
    })
}

fn jwt_report(data: &[u8], now: OffsetDateTime) -> Result<JwtReport> {
    let text = std::str::from_utf8(data)
        .map_err(|_| Error::corrupt(Input::Jwt, "not text"))?
        .trim();
    let parts: Vec<&str> = text.split('.').collect();
    let [h, c, s] = parts.as_slice() else {
        return Err(Error::corrupt(Input::Jwt, "not three dot-separated parts"));
    };
    let decode = |seg: &str, what: &'static str| -> Result<serde_json::Value> {
        let bytes = crate::jwt::b64url_decode(seg.trim_end_matches('='))
            .ok_or_else(|| Error::corrupt(Input::Jwt, format!("the {what} is not base64url")))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::corrupt(Input::Jwt, format!("the {what} is not JSON ({e})")))
    };
    let header = decode(h, "header")?;
    let claims = decode(c, "claims")?;
    let signature_bytes = crate::jwt::b64url_decode(s.trim_end_matches('='))
        .map(|v| v.len())
        .unwrap_or(0);
    let exp = claims.get("exp").and_then(|v| match v {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    });
    // The Salesforce CLI sends milliseconds: a 13-digit exp lands in the year ~55,000.
    let exp_in_milliseconds = exp.is_some_and(|e| e > 100_000_000_000);
    let expires = exp
        .map(|e| if exp_in_milliseconds { e / 1000 } else { e })
        .and_then(|e| OffsetDateTime::from_unix_timestamp(e).ok())
        .map(rfc3339);
    let expires_in_seconds = exp.map(|e| {
        let e = if exp_in_milliseconds { e / 1000 } else { e };
        e.saturating_sub(now.unix_timestamp())
    });
    Ok(JwtReport {
        header,
        claims,
        expires,
        expires_in_seconds,
        exp_in_milliseconds,
        signature_bytes,
    })
}

/// Describe a certmint directory.
pub fn inspect_dir(dir: &std::path::Path, now: OffsetDateTime) -> Result<Report> {
    let m = crate::workdir::load(dir)?;
    let generations = m
        .generations
        .iter()
        .map(|g| {
            let cert = g.certificate.as_ref();
            let not_after = cert.and_then(|c| {
                OffsetDateTime::parse(&c.not_after, &time::format_description::well_known::Rfc3339)
                    .ok()
            });
            GenerationReport {
                dir: g.dir.clone(),
                origin: format!("{:?}", g.origin).to_lowercase(),
                status: format!("{:?}", g.status).to_lowercase(),
                current: m.current.as_ref() == Some(&g.dir),
                key_bits: g.key_bits,
                public_key_sha256: g.public_key_sha256.clone(),
                not_after: cert.map(|c| c.not_after.clone()),
                days_left: not_after.map(|t| (t - now).whole_days()),
                sha1: cert.map(|c| c.sha1.clone()),
            }
        })
        .collect();
    Ok(Report::Directory(DirReport {
        alias: crate::text::escape(&m.alias),
        subject: crate::text::escape(&m.subject),
        current: m.current.clone(),
        salesforce: m.salesforce.clone(),
        generations,
    }))
}
