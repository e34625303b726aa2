//! PKCS#10 certificate signing requests (RFC 2986).
//!
//! Recognise one by the PEM label `CERTIFICATE REQUEST` (or the older
//! `NEW CERTIFICATE REQUEST`: [`pemfile::CSR_LABELS`]), or in DER by `SEQUENCE { SEQUENCE { INTEGER 0, Name,
//! SubjectPublicKeyInfo, [0] attributes }, AlgorithmIdentifier, BIT STRING }`.

use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::prelude::FromDer;

use crate::detect::Kind;
use crate::error::{Expected, Input, Signed};
use crate::key::RsaKey;
use crate::subject::{Subject, display_name, name_to_rcgen};
use crate::{Error, Result, pemfile};

/// Build a CSR for `subject`, signed with `key` (SHA-256 with RSA). Returns DER.
pub fn build(key: &RsaKey, subject: &Subject) -> Result<Vec<u8>> {
    subject.validate()?;
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = subject.to_rcgen()?;
    let kp = key.rcgen_key_pair()?;
    let csr = params
        .serialize_request(&kp)
        .map_err(|e| Error::internal(format!("cannot build the CSR: {e}")))?;
    Ok(csr.der().to_vec())
}

/// A parsed, signature-checked CSR.
#[derive(Clone, Debug)]
pub struct Csr {
    /// The DER encoding.
    pub der: Vec<u8>,
    /// The subject in RFC 4514-like display form, escaped for terminals.
    pub subject: String,
    /// The subject public key (DER `SubjectPublicKeyInfo`).
    pub spki: Vec<u8>,
    /// The subject as rcgen needs it to issue a certificate.
    pub(crate) dn: rcgen::DistinguishedName,
    /// Modulus size of the requested key, when it is RSA.
    pub key_bits: Option<usize>,
}

/// Read a CSR from PEM or DER, check its key is RSA of a size Salesforce accepts, and
/// verify its self-signature.
pub fn parse(data: &[u8]) -> Result<Csr> {
    let csr = parse_unverified(data)?;
    match csr.key_bits {
        Some(bits) => crate::key::check_salesforce_bits(bits)?,
        None => {
            return Err(Error::NotRsa(
                "the CSR's public key is not RSA; Salesforce JWT bearer needs RSA".into(),
            ));
        }
    }
    let (_, req) =
        X509CertificationRequest::from_der(&csr.der).map_err(|e| Error::corrupt(Input::Csr, e))?;
    req.verify_signature()
        .map_err(|_| Error::BadSignature(Signed::Csr))?;
    Ok(csr)
}

/// Read a CSR without checking its signature or key (for inspection).
pub fn parse_unverified(data: &[u8]) -> Result<Csr> {
    let der = if pemfile::is_pem(data) {
        let blocks = pemfile::parse_all(data, Input::Csr)?;
        let block = blocks
            .iter()
            .find(|b| pemfile::is_csr_label(&b.label))
            .ok_or_else(|| Error::WrongKind {
                expected: Expected::Csr,
                found: crate::detect::describe_pem_label(&blocks[0].label),
            })?;
        block.contents.clone()
    } else {
        data.to_vec()
    };
    let (rest, req) = X509CertificationRequest::from_der(&der).map_err(|e| {
        // Say what it is instead, when certmint knows.
        let detected = crate::detect::detect(&der);
        match detected.kind() {
            Some(kind) if kind != Kind::Csr => Error::WrongKind {
                expected: Expected::Csr,
                found: detected.describe(),
            },
            _ => Error::corrupt(Input::Csr, e),
        }
    })?;
    if !rest.is_empty() {
        return Err(Error::corrupt(
            Input::Csr,
            format!("{} bytes of trailing data after the DER", rest.len()),
        ));
    }
    let info = &req.certification_request_info;
    let dn = name_to_rcgen(&info.subject)?;
    Ok(Csr {
        subject: display_name(&info.subject),
        spki: info.subject_pki.raw.to_vec(),
        key_bits: crate::key::spki_rsa_bits(info.subject_pki.raw),
        dn,
        der: der.clone(),
    })
}

/// PEM encoding of a CSR.
pub fn to_pem(der: &[u8]) -> String {
    pemfile::encode("CERTIFICATE REQUEST", der)
}
