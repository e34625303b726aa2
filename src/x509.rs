//! X.509 certificates (RFC 5280): the self-signed certificate a connected app verifies
//! assertions with, and reading any certificate.
//!
//! Recognise one by the PEM label `CERTIFICATE` (or `X509 CERTIFICATE`, `TRUSTED
//! CERTIFICATE`: [`pemfile::CERTIFICATE_LABELS`]), or in DER by `SEQUENCE { SEQUENCE {
//! [0] version, serial, ... }, AlgorithmIdentifier, BIT STRING }`. [`parse`] reads the
//! first certificate of a file, [`parse_chain`] all of them (a chain, leaf first).

pub mod extensions;

use ::time::OffsetDateTime;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_parser::prelude::*;

use crate::detect::Kind;
use crate::error::{Expected, Input};
use crate::key::RsaKey;
use crate::subject::{Subject, display_name, name_to_rcgen};
use crate::text::{escape, hex_colon};
use crate::{Error, Result, pemfile};

pub use extensions::Extensions;

/// Validity and serial of a new certificate. Clock and randomness come from the caller.
#[derive(Clone, Debug)]
pub struct Validity {
    /// Start of validity (seconds precision).
    pub not_before: OffsetDateTime,
    /// Days of validity from `not_before`.
    pub days: u32,
    /// Serial number bytes (big-endian, positive).
    pub serial: Vec<u8>,
}

/// Longest validity certmint will write, about 100 years (X.509 allows more, but nothing
/// that reads these certificates needs it).
pub const MAX_DAYS: u32 = 36_500;

impl Validity {
    /// Starting now, for `days`, with a fresh random 128-bit serial.
    pub fn starting_now(days: u32) -> Result<Self> {
        Ok(Validity {
            not_before: now_seconds(),
            days,
            serial: random_serial()?,
        })
    }

    /// End of validity.
    pub fn not_after(&self) -> OffsetDateTime {
        self.not_before + ::time::Duration::days(i64::from(self.days))
    }
}

/// The current time, truncated to whole seconds (X.509 times have no fractions).
pub fn now_seconds() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

/// A random positive serial of 128 bits (RFC 5280 asks for at most 20 octets; CA/B
/// Forum asks for at least 64 bits of randomness).
pub fn random_serial() -> Result<Vec<u8>> {
    let mut s = [0u8; 16];
    getrandom::fill(&mut s).map_err(Error::internal)?;
    // Positive (top bit clear) and exactly 16 octets in DER (second-highest bit set).
    s[0] = (s[0] & 0x7f) | 0x40;
    Ok(s.to_vec())
}

fn check_days(days: u32) -> Result<()> {
    if days == 0 || days > MAX_DAYS {
        return Err(Error::invalid(
            Input::Validity,
            format!(
                "{days} days; use 1 to {MAX_DAYS} (Salesforce's own certificates last 365 or 730 days)"
            ),
        ));
    }
    Ok(())
}

/// A subject alternative name (for a TLS server certificate, such as the emulator's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum San {
    /// A DNS name.
    Dns(String),
    /// An IP address.
    Ip(std::net::IpAddr),
}

impl San {
    /// Parse `DNS:name`, `IP:address`, or a bare name or address.
    pub fn parse(s: &str) -> Result<Self> {
        let bad = |d: String| Error::invalid(Input::SubjectAltName, d);
        let (kind, value) = match s.split_once(':') {
            Some((k, v)) if k.eq_ignore_ascii_case("dns") => ("dns", v),
            Some((k, v)) if k.eq_ignore_ascii_case("ip") => ("ip", v),
            _ => ("auto", s),
        };
        if kind != "dns"
            && let Ok(ip) = value.parse::<std::net::IpAddr>()
        {
            return Ok(San::Ip(ip));
        }
        if kind == "ip" {
            return Err(bad(format!("`{}` is not an IP address", escape(value))));
        }
        let ok = !value.is_empty()
            && value.len() <= 253
            && value.split('.').enumerate().all(|(i, label)| {
                !label.is_empty()
                    && label.len() <= 63
                    && (label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                        || (i == 0 && label == "*"))
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            });
        if !ok {
            return Err(bad(format!(
                "`{}` is not a DNS name or IP address (write DNS:name or IP:address)",
                escape(value)
            )));
        }
        Ok(San::Dns(value.to_ascii_lowercase()))
    }

    fn to_rcgen(&self) -> Result<rcgen::SanType> {
        Ok(match self {
            San::Dns(d) => rcgen::SanType::DnsName(
                rcgen::string::Ia5String::try_from(d.as_str())
                    .map_err(|e| Error::invalid(Input::SubjectAltName, e))?,
            ),
            San::Ip(ip) => rcgen::SanType::IpAddress(*ip),
        })
    }
}

fn build(
    key: &RsaKey,
    dn: rcgen::DistinguishedName,
    validity: &Validity,
    sans: &[San],
) -> Result<Vec<u8>> {
    check_days(validity.days)?;
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = dn;
    params.subject_alt_names = sans.iter().map(San::to_rcgen).collect::<Result<_>>()?;
    params.not_before = validity.not_before;
    params.not_after = validity.not_after();
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&validity.serial));
    // A leaf: basicConstraints CA:FALSE (critical), subject and authority key identifiers.
    // No keyUsage: OpenSSL only treats a certificate as self-signed (its own trust anchor
    // for `openssl verify -CAfile c c`) when keyUsage is absent or includes keyCertSign.
    params.is_ca = rcgen::IsCa::ExplicitNoCa;
    params.use_authority_key_identifier_extension = true;
    let kp = key.rcgen_key_pair()?;
    let cert = params
        .self_signed(&kp)
        .map_err(|e| Error::internal(format!("cannot build the certificate: {e}")))?;
    Ok(cert.der().to_vec())
}

/// A self-signed certificate for `subject` over `key` (SHA-256 with RSA). Returns DER.
pub fn self_signed(key: &RsaKey, subject: &Subject, validity: &Validity) -> Result<Vec<u8>> {
    self_signed_with_sans(key, subject, validity, &[])
}

/// A self-signed certificate with subject alternative names (e.g. a TLS certificate for
/// `localhost` and `127.0.0.1`).
pub fn self_signed_with_sans(
    key: &RsaKey,
    subject: &Subject,
    validity: &Validity,
    sans: &[San],
) -> Result<Vec<u8>> {
    subject.validate()?;
    crate::key::check_salesforce_bits(key.bits())?;
    build(key, subject.to_rcgen()?, validity, sans)
}

/// The `openssl x509 -req -signkey` step: a self-signed certificate whose subject and
/// issuer are the CSR's subject. The CSR's key must be `key`.
pub fn self_signed_from_csr(
    key: &RsaKey,
    csr: &crate::csr::Csr,
    validity: &Validity,
    sans: &[San],
) -> Result<Vec<u8>> {
    if !key.matches_spki(&csr.spki) {
        return Err(Error::KeyMismatch(Input::Csr));
    }
    crate::key::check_salesforce_bits(key.bits())?;
    build(key, csr.dn.clone(), validity, sans)
}

/// Re-issue a certificate over the same key: same subject, new serial and validity
/// (what `renew` does).
pub fn reissue(key: &RsaKey, old: &CertInfo, validity: &Validity) -> Result<Vec<u8>> {
    if !key.matches_spki(&old.spki) {
        return Err(Error::KeyMismatch(Input::Certificate));
    }
    let (_, cert) =
        X509Certificate::from_der(&old.der).map_err(|e| Error::corrupt(Input::Certificate, e))?;
    build(key, name_to_rcgen(cert.subject())?, validity, &[])
}

/// PEM encoding of a certificate.
pub fn to_pem(der: &[u8]) -> String {
    pemfile::encode("CERTIFICATE", der)
}

/// What certmint reports about a certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertInfo {
    /// DER encoding.
    pub der: Vec<u8>,
    /// X.509 version (1, 2 or 3).
    pub version: u32,
    /// Subject, display form, control characters escaped.
    pub subject: String,
    /// Issuer, display form, control characters escaped.
    pub issuer: String,
    /// The subject's common name, if any (escaped).
    pub common_name: Option<String>,
    /// Serial number, colon-separated hex.
    pub serial: String,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// Signature algorithm name, e.g. `sha256WithRSAEncryption`.
    pub signature_algorithm: String,
    /// DER `SubjectPublicKeyInfo`.
    pub spki: Vec<u8>,
    /// RSA modulus size, `None` for non-RSA keys.
    pub key_bits: Option<usize>,
    /// SHA-1 fingerprint of the DER (what Salesforce and keytool show).
    pub sha1: String,
    /// SHA-256 fingerprint of the DER.
    pub sha256: String,
    /// Subject equals issuer and the signature verifies with the certificate's own key.
    pub self_signed: bool,
    /// The X.509v3 extensions (basic constraints, key usages, names, key identifiers).
    pub extensions: Extensions,
}

impl CertInfo {
    /// Whole days from `now` until expiry (negative when expired).
    pub fn days_left(&self, now: OffsetDateTime) -> i64 {
        (self.not_after - now).whole_days()
    }

    /// True when `now` is past the end of validity.
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        now > self.not_after
    }
}

/// Read the first certificate in PEM or DER bytes.
pub fn parse(data: &[u8]) -> Result<CertInfo> {
    if pemfile::is_pem(data) {
        let blocks = pemfile::parse_all(data, Input::Certificate)?;
        let block = blocks
            .iter()
            .find(|b| pemfile::is_certificate_label(&b.label))
            .ok_or_else(|| not_a_certificate(&blocks[0].label))?;
        parse_der(&block.contents)
    } else {
        parse_der(data)
    }
}

/// Read a certificate file that may hold a chain: every certificate block of a PEM file,
/// in file order (other blocks, such as a key, are skipped), or the one certificate of a
/// DER file. A file without a certificate is [`Error::WrongKind`] naming what it holds.
pub fn parse_chain(data: &[u8]) -> Result<Vec<CertInfo>> {
    if !pemfile::is_pem(data) {
        return Ok(vec![parse_der(data)?]);
    }
    let blocks = pemfile::parse_all(data, Input::Certificate)?;
    let chain = blocks
        .iter()
        .filter(|b| pemfile::is_certificate_label(&b.label))
        .map(|b| parse_der(&b.contents))
        .collect::<Result<Vec<_>>>()?;
    if chain.is_empty() {
        return Err(not_a_certificate(&blocks[0].label));
    }
    Ok(chain)
}

/// "expected a certificate, found ..." for a PEM file whose first block is `label`.
fn not_a_certificate(label: &str) -> Error {
    Error::WrongKind {
        expected: Expected::Certificate,
        found: crate::detect::describe_pem_label(label),
    }
}

/// Read a DER certificate.
pub fn parse_der(der: &[u8]) -> Result<CertInfo> {
    let (rest, cert) = X509Certificate::from_der(der).map_err(|e| {
        let detected = crate::detect::detect(der);
        match detected.kind() {
            _ if der.is_empty() => Error::corrupt(Input::Certificate, "the file is empty"),
            // Say what it is instead, when certmint knows.
            Some(kind) if kind != Kind::Certificate => Error::WrongKind {
                expected: Expected::Certificate,
                found: detected.describe(),
            },
            _ => Error::corrupt(Input::Certificate, e),
        }
    })?;
    if !rest.is_empty() {
        return Err(Error::corrupt(
            Input::Certificate,
            format!("{} bytes of trailing data after the DER", rest.len()),
        ));
    }
    let der = &der[..der.len() - rest.len()];
    let spki = cert.public_key();
    let sig_oid = cert.signature_algorithm.algorithm.to_id_string();
    let signature_algorithm = match sig_oid.as_str() {
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption".to_string(),
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption".to_string(),
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption".to_string(),
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption".to_string(),
        "1.2.840.113549.1.1.10" => "rsassaPss".to_string(),
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256".to_string(),
        other => other.to_string(),
    };
    let self_signed =
        cert.subject().as_raw() == cert.issuer().as_raw() && cert.verify_signature(None).is_ok();
    Ok(CertInfo {
        der: der.to_vec(),
        version: cert.version().0 + 1,
        subject: display_name(cert.subject()),
        issuer: display_name(cert.issuer()),
        common_name: cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(escape),
        serial: hex_colon(cert.raw_serial()),
        not_before: cert.validity().not_before.to_datetime(),
        not_after: cert.validity().not_after.to_datetime(),
        signature_algorithm,
        spki: spki.raw.to_vec(),
        key_bits: crate::key::spki_rsa_bits(spki.raw),
        sha1: hex_colon(&Sha1::digest(der)),
        sha256: hex_colon(&Sha256::digest(der)),
        self_signed,
        extensions: extensions::read(&cert),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_is_positive_and_16_bytes() {
        for _ in 0..50 {
            let s = random_serial().unwrap();
            assert_eq!(s.len(), 16);
            assert_eq!(s[0] & 0x80, 0);
            assert_ne!(s[0] & 0x40, 0);
        }
    }

    #[test]
    fn escape_neutralises_terminal_controls() {
        assert_eq!(escape("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(escape("tab\there"), "tab\\there");
        assert_eq!(escape("Zürich"), "Zürich");
    }

    #[test]
    fn sans_parse() {
        assert_eq!(
            San::parse("localhost").unwrap(),
            San::Dns("localhost".into())
        );
        assert_eq!(
            San::parse("DNS:Example.COM").unwrap(),
            San::Dns("example.com".into())
        );
        assert_eq!(
            San::parse("127.0.0.1").unwrap(),
            San::Ip([127, 0, 0, 1].into())
        );
        assert_eq!(
            San::parse("IP:::1").unwrap(),
            San::Ip("::1".parse().unwrap())
        );
        assert!(San::parse("IP:localhost").is_err());
        assert!(San::parse("bad name").is_err());
        assert!(San::parse("").is_err());
        assert!(San::parse("-x.com").is_err());
    }

    fn fixture(rel: &str) -> Vec<u8> {
        std::fs::read(format!("{}/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn chains_are_read_in_file_order_skipping_other_blocks() {
        let (a, b) = (fixture("certs/base.crt"), fixture("jks/acme.crt"));
        let key = fixture("keys/base.pkcs8.pem");
        let bundle = [key.clone(), a.clone(), b.clone()].concat();
        let chain = parse_chain(&bundle).unwrap();
        assert_eq!(chain.len(), 2);
        assert_eq!(chain[0].der, parse(&a).unwrap().der);
        assert_eq!(chain[1].der, parse(&b).unwrap().der);
        let der = fixture("certs/base.der");
        assert_eq!(parse_chain(&der).unwrap()[0].der, der);
        let err = parse_chain(&key).unwrap_err();
        assert_eq!(
            err.to_string(),
            "expected a certificate, found a private key"
        );
        let csr = fixture("certs/base.csr.der");
        let err = parse_der(&csr).unwrap_err();
        assert_eq!(
            err.to_string(),
            "expected a certificate, found a certificate signing request"
        );
    }

    #[test]
    fn days_are_bounded() {
        assert!(check_days(0).is_err());
        assert!(check_days(MAX_DAYS + 1).is_err());
        check_days(365).unwrap();
    }
}
