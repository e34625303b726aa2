//! PEM ⇄ DER conversion for certificates, CSRs, public keys and private keys (the
//! seed's "save it with a .pem extension" step, done properly).
//!
//! The kind is recognised from the PEM label, or from the DER structure.

use crate::{Error, Result, key, pemfile};

/// The two encodings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// RFC 7468 text.
    Pem,
    /// Binary DER.
    Der,
}

/// A converted object.
#[derive(Debug)]
pub struct Converted {
    /// The PEM label of the object (`CERTIFICATE`, `PRIVATE KEY`, ...).
    pub label: &'static str,
    /// The output bytes.
    pub bytes: crate::SecretBytes,
    /// True for private keys (write them 0600).
    pub secret: bool,
}

const LABELS: [&str; 7] = [
    "CERTIFICATE",
    "CERTIFICATE REQUEST",
    "PUBLIC KEY",
    "PRIVATE KEY",
    "RSA PRIVATE KEY",
    "ENCRYPTED PRIVATE KEY",
    "RSA PUBLIC KEY",
];

fn static_label(label: &str) -> Option<&'static str> {
    match label {
        "NEW CERTIFICATE REQUEST" => Some("CERTIFICATE REQUEST"),
        "X509 CERTIFICATE" => Some("CERTIFICATE"),
        l => LABELS.iter().copied().find(|x| *x == l),
    }
}

/// Recognise a DER object by its structure.
pub fn der_label(der: &[u8]) -> Option<&'static str> {
    use x509_parser::prelude::FromDer;
    if x509_parser::certificate::X509Certificate::from_der(der).is_ok_and(|(r, _)| r.is_empty()) {
        return Some("CERTIFICATE");
    }
    if x509_parser::certification_request::X509CertificationRequest::from_der(der)
        .is_ok_and(|(r, _)| r.is_empty())
    {
        return Some("CERTIFICATE REQUEST");
    }
    if x509_parser::x509::SubjectPublicKeyInfo::from_der(der).is_ok_and(|(r, _)| r.is_empty()) {
        return Some("PUBLIC KEY");
    }
    match key::probe(der).ok()?.format {
        key::KeyFormat::Pkcs1 => Some("RSA PRIVATE KEY"),
        key::KeyFormat::Pkcs8 => Some("PRIVATE KEY"),
        key::KeyFormat::EncryptedPkcs8 { .. } => Some("ENCRYPTED PRIVATE KEY"),
        key::KeyFormat::LegacyEncrypted { .. } => None,
    }
}

/// Convert the (first) object in `data` to `to`.
pub fn convert(data: &[u8], to: Encoding) -> Result<Converted> {
    let (label, der) = if pemfile::is_pem(data) {
        let blocks = pemfile::parse_all(data, "PEM file")?;
        let block = &blocks[0];
        if crate::legacy_pem::dek_info(block)?.is_some() {
            return Err(Error::unsupported(
                "conversion",
                "a traditional encrypted PEM key has no DER form; decrypt it with `certmint decrypt` first",
            ));
        }
        let label = static_label(&block.label).ok_or_else(|| {
            Error::unsupported("PEM label", format!("`{}`", block.label.escape_debug()))
        })?;
        (label, block.contents.clone())
    } else {
        let label = der_label(data).ok_or_else(|| {
            Error::corrupt(
                "DER file",
                "not a certificate, CSR, public key or private key",
            )
        })?;
        (label, data.to_vec())
    };
    let secret = label.contains("PRIVATE KEY");
    let bytes = match to {
        Encoding::Der => der,
        Encoding::Pem => pemfile::encode(label, &der).into_bytes(),
    };
    Ok(Converted {
        label,
        bytes: crate::SecretBytes::new(bytes),
        secret,
    })
}
