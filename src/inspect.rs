//! Recognise any file certmint handles by its content (never its name) and describe it.
//!
//! Recognition order: JKS/JCEKS magic, PEM labels, a compact JWS (three base64url
//! segments whose header is JSON with `alg`), then DER structures (certificate, CSR,
//! public key, private keys, PKCS#12). Every string taken from the file is escaped with
//! [`crate::x509::escape`] before it reaches a report.

use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::key::{self, KeyFormat};
use crate::x509::{self, CertInfo};
use crate::{Error, Result, pemfile};

/// What a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A private key (any encoding).
    PrivateKey,
    /// A public key (`SubjectPublicKeyInfo`).
    PublicKey,
    /// A PKCS#10 CSR.
    Csr,
    /// An X.509 certificate.
    Certificate,
    /// A PKCS#12 / PFX keystore.
    Pkcs12,
    /// A Java KeyStore.
    Jks,
    /// A JCEKS keystore (recognised, not read).
    Jceks,
    /// A JWT / compact JWS.
    Jwt,
}

impl Kind {
    /// Human name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::PrivateKey => "private key",
            Kind::PublicKey => "public key",
            Kind::Csr => "certificate signing request",
            Kind::Certificate => "certificate",
            Kind::Pkcs12 => "PKCS#12 keystore",
            Kind::Jks => "JKS keystore",
            Kind::Jceks => "JCEKS keystore",
            Kind::Jwt => "JWT",
        }
    }
}

/// Decide what `data` holds, without passwords.
pub fn detect(data: &[u8]) -> Result<Kind> {
    if data.len() >= 4 {
        match &data[..4] {
            [0xfe, 0xed, 0xfe, 0xed] => return Ok(Kind::Jks),
            [0xce, 0xce, 0xce, 0xce] => return Ok(Kind::Jceks),
            _ => {}
        }
    }
    if pemfile::is_pem(data) {
        let blocks = pemfile::parse_all(data, "PEM file")?;
        let label = blocks[0].label.as_str();
        return match label {
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => Ok(Kind::Certificate),
            "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => Ok(Kind::Csr),
            "PUBLIC KEY" | "RSA PUBLIC KEY" => Ok(Kind::PublicKey),
            l if l.ends_with("PRIVATE KEY") => Ok(Kind::PrivateKey),
            "PKCS12" => Ok(Kind::Pkcs12),
            other => Err(Error::unsupported(
                "PEM label",
                format!("`{}`", x509::escape(other)),
            )),
        };
    }
    if looks_like_jwt(data) {
        return Ok(Kind::Jwt);
    }
    if let Some(label) = crate::convert::der_label(data) {
        return Ok(match label {
            "CERTIFICATE" => Kind::Certificate,
            "CERTIFICATE REQUEST" => Kind::Csr,
            "PUBLIC KEY" | "RSA PUBLIC KEY" => Kind::PublicKey,
            _ => Kind::PrivateKey,
        });
    }
    if looks_like_pfx(data) {
        return Ok(Kind::Pkcs12);
    }
    if data.is_empty() {
        return Err(Error::corrupt("file", "the file is empty"));
    }
    Err(Error::unsupported(
        "file",
        "not a key, CSR, certificate, PKCS#12, JKS or JWT that certmint recognises",
    ))
}

/// A compact JWS: three base64url segments, the first decoding to a JSON object with `alg`.
pub fn looks_like_jwt(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let text = text.trim();
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() != 3 || parts[0].is_empty() || parts[1].is_empty() {
        return false;
    }
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = parts[0].trim_end_matches('=');
    match engine.decode(header) {
        Ok(h) => serde_json::from_slice::<serde_json::Value>(&h)
            .ok()
            .and_then(|v| v.get("alg").cloned())
            .is_some(),
        Err(_) => false,
    }
}

/// `SEQUENCE { INTEGER 3, SEQUENCE { OID pkcs7-data ...` — a PFX.
pub fn looks_like_pfx(data: &[u8]) -> bool {
    #[derive(der::Sequence)]
    struct Head<'a> {
        version: u8,
        auth_safe: der::asn1::AnyRef<'a>,
        mac: Option<der::asn1::AnyRef<'a>>,
    }
    use der::Decode;
    Head::from_der(data).is_ok_and(|h| {
        h.version == 3
            && der::Tagged::tag(&h.auth_safe) == der::Tag::Sequence
            && h.mac
                .is_none_or(|m| der::Tagged::tag(&m) == der::Tag::Sequence)
    })
}

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
}

/// Describe a private key; with a password, an encrypted key is decrypted to report its
/// size and public key.
pub fn key_report(data: &[u8], password: Option<&crate::Password>) -> Result<KeyReport> {
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
    /// SHA-1 fingerprint of the DER.
    pub sha1: String,
    /// SHA-256 fingerprint of the DER.
    pub sha256: String,
    /// SHA-256 of the public key (DER SPKI), to compare with a key.
    pub public_key_sha256: String,
    /// Subject equals issuer and the signature verifies with its own key.
    pub self_signed: bool,
}

/// RFC 3339 text of a time.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
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
            sha1: info.sha1.clone(),
            sha256: info.sha256.clone(),
            public_key_sha256: key::hex_colon(&Sha256::digest(&info.spki)),
            self_signed: info.self_signed,
        }
    }
}

/// A description of a CSR.
#[derive(Clone, Debug, Serialize)]
pub struct CsrReport {
    /// Subject (escaped).
    pub subject: String,
    /// RSA modulus size.
    pub key_bits: Option<usize>,
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
            public_key_sha256: key::hex_colon(&Sha256::digest(&csr.spki)),
            signature_valid: true,
        }),
        Err(Error::BadSignature(_)) => {
            let raw = crate::csr::parse_unverified(data)?;
            Ok(CsrReport {
                subject: raw.subject,
                key_bits: raw.key_bits,
                public_key_sha256: key::hex_colon(&Sha256::digest(&raw.spki)),
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
    /// SHA-256 of the DER SPKI.
    pub sha256: String,
}

/// Describe a public key (PEM `PUBLIC KEY` or DER SPKI).
pub fn public_key_report(data: &[u8]) -> Result<PublicKeyReport> {
    use x509_parser::prelude::FromDer;
    let der = if pemfile::is_pem(data) {
        let blocks = pemfile::parse_all(data, "public key")?;
        blocks[0].contents.clone()
    } else {
        data.to_vec()
    };
    let (_, spki) = x509_parser::x509::SubjectPublicKeyInfo::from_der(&der)
        .map_err(|e| Error::corrupt("public key", e))?;
    Ok(PublicKeyReport {
        bits: x509::rsa_bits(&spki),
        sha256: key::hex_colon(&Sha256::digest(spki.raw)),
    })
}
