//! What a file is, judged from its bytes alone: no password, never the file name.
//!
//! This is certmint's one file-type detector. `inspect` and `check` decide from it what to
//! do with a file, the keystore door ([`crate::keystore`]) which reader to use, `convert`
//! which PEM label a DER object gets; and when a reader (PKCS#12, JKS, key, certificate,
//! CSR) is handed something else, it asks the detector what the file is *instead*, so
//! every "expected X, found Y" names Y the same way.
//!
//! Recognition, in this order (each format's module says how to recognise it):
//! 1. an empty file;
//! 2. the JKS magic `FE ED FE ED` (with the version that follows) and JCEKS's
//!    `CE CE CE CE` ([`crate::jks`]);
//! 3. PEM text (a `-----BEGIN ` line, RFC 7468): the first block's label, classified by the
//!    label lists in [`crate::pemfile`];
//! 4. a compact JWS (RFC 7515): three base64url segments whose first decodes to a JSON
//!    object with `alg`;
//! 5. DER by structure: an X.509 certificate, a PKCS#10 request, a `SubjectPublicKeyInfo`,
//!    an encrypted PKCS#8 key (`SEQUENCE { AlgorithmIdentifier, OCTET STRING }`), a PKCS#8
//!    or a PKCS#1 private key, each filling the whole input;
//! 6. a PFX (RFC 7292) by its first bytes, `SEQUENCE` (any length form, BER's indefinite
//!    one too) then `INTEGER 3`, so that a truncated or BER-encoded PKCS#12 file is still
//!    named as one and its reader says what is wrong with it;
//! 7. anything else.

use der::Decode;
use serde::Serialize;
use x509_parser::prelude::FromDer;

use crate::error::Input;
use crate::text::escape;
use crate::{Error, Result, pemfile};

/// The two encodings of the objects certmint reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// RFC 7468 text.
    Pem,
    /// Binary DER.
    Der,
}

/// What a file holds, for the kinds certmint reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A private key (any algorithm and encoding).
    PrivateKey,
    /// A public key (`SubjectPublicKeyInfo`, or PKCS#1 `RSA PUBLIC KEY` in PEM).
    PublicKey,
    /// A PKCS#10 certificate signing request.
    Csr,
    /// An X.509 certificate.
    Certificate,
    /// A PKCS#12 / PFX keystore.
    Pkcs12,
    /// A Java KeyStore.
    Jks,
    /// SunJCE's JCEKS keystore (recognised, not read).
    Jceks,
    /// A JWT / compact JWS.
    Jwt,
}

impl Kind {
    /// The name without an article ("private key", "PKCS#12 keystore").
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

    /// The name with its article, for "expected ..., found a certificate".
    pub fn describe(self) -> &'static str {
        match self {
            Kind::PrivateKey => "a private key",
            Kind::PublicKey => "a public key",
            Kind::Csr => "a certificate signing request",
            Kind::Certificate => "a certificate",
            Kind::Pkcs12 => "a PKCS#12 keystore",
            Kind::Jks => "a JKS keystore",
            Kind::Jceks => "a JCEKS keystore",
            Kind::Jwt => "a JWT",
        }
    }

    /// A stable identifier for JSON (`private-key`, `certificate`, `pkcs12` ...), the same
    /// words `inspect --json` uses for `kind`.
    pub fn id(self) -> &'static str {
        match self {
            Kind::PrivateKey => "private-key",
            Kind::PublicKey => "public-key",
            Kind::Csr => "csr",
            Kind::Certificate => "certificate",
            Kind::Pkcs12 => "pkcs12",
            Kind::Jks => "jks",
            Kind::Jceks => "jceks",
            Kind::Jwt => "jwt",
        }
    }
}

/// What a file is, as far as its bytes tell without a password or a full parse.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileType {
    /// No bytes at all.
    Empty,
    /// A Java KeyStore with this version field (certmint reads 1 and 2).
    Jks {
        /// The version field.
        version: u32,
    },
    /// SunJCE's JCEKS keystore.
    Jceks,
    /// A PKCS#12 / PFX file (DER, or BER with indefinite lengths), possibly truncated.
    Pkcs12,
    /// A compact JWS (a JWT).
    Jwt,
    /// One DER object filling the file.
    Der {
        /// A certificate, CSR, public key or private key.
        kind: Kind,
        /// The PEM label the object takes (`CERTIFICATE`, `RSA PRIVATE KEY` ...).
        label: &'static str,
    },
    /// PEM text, judged by its first block.
    Pem {
        /// What the first block is, `None` when its label names nothing certmint reads.
        kind: Option<Kind>,
        /// The first block's label, as in the file (escape it before printing).
        label: String,
    },
    /// Text with a `BEGIN` line but no block that can be read (truncated, bad base64).
    BrokenPem,
    /// Nothing certmint recognises.
    Unknown,
}

impl FileType {
    /// What the file holds, when it is a kind certmint reads.
    pub fn kind(&self) -> Option<Kind> {
        match self {
            FileType::Jks { .. } => Some(Kind::Jks),
            FileType::Jceks => Some(Kind::Jceks),
            FileType::Pkcs12 => Some(Kind::Pkcs12),
            FileType::Jwt => Some(Kind::Jwt),
            FileType::Der { kind, .. } => Some(*kind),
            FileType::Pem { kind, .. } => *kind,
            FileType::Empty | FileType::BrokenPem | FileType::Unknown => None,
        }
    }

    /// True for PEM text, readable or not.
    pub fn is_pem(&self) -> bool {
        matches!(self, FileType::Pem { .. } | FileType::BrokenPem)
    }

    /// A stable identifier for JSON: the [`Kind::id`], else `empty`, `pem` (PEM certmint
    /// does not read) or `unknown`.
    pub fn id(&self) -> &'static str {
        match (self.kind(), self) {
            (Some(k), _) => k.id(),
            (None, FileType::Empty) => "empty",
            (None, FileType::Pem { .. } | FileType::BrokenPem) => "pem",
            (None, _) => "unknown",
        }
    }

    /// What the file is, encoding included, for messages about files ("PEM text (a
    /// certificate)", "a PKCS#12 (PFX) file", "a JKS keystore (version 2)"). Text from the
    /// file is escaped.
    pub fn describe(&self) -> String {
        match self {
            FileType::Empty => "an empty file".into(),
            FileType::Jks { version } => format!("a JKS keystore (version {version})"),
            FileType::Jceks => "a JCEKS keystore (magic 0xCECECECE)".into(),
            FileType::Pkcs12 => "a PKCS#12 (PFX) file".into(),
            FileType::Pem { .. } | FileType::BrokenPem => {
                format!("PEM text ({})", self.describe_contents())
            }
            FileType::Jwt | FileType::Der { .. } | FileType::Unknown => self.describe_contents(),
        }
    }

    /// What the file holds, without its encoding, for a reader that expected another
    /// object ("a certificate", "a PEM block labelled `FOO`"). Text from the file is
    /// escaped.
    pub fn describe_contents(&self) -> String {
        match self {
            FileType::Pem { kind: None, label } => describe_pem_label(label),
            FileType::Pem { kind: Some(k), .. } | FileType::Der { kind: k, .. } => {
                k.describe().into()
            }
            FileType::Jwt => Kind::Jwt.describe().into(),
            FileType::BrokenPem => "no readable PEM block".into(),
            FileType::Unknown => "a file certmint does not recognise".into(),
            FileType::Empty | FileType::Jks { .. } | FileType::Jceks | FileType::Pkcs12 => {
                self.describe()
            }
        }
    }
}

/// A PEM label certmint does not read, in words ("a PKCS#7 bundle", "a PEM block labelled
/// `FOO`"); the labels it reads are named by their [`Kind`].
pub fn describe_pem_label(label: &str) -> String {
    match label {
        "PKCS7" | "CMS" => "a PKCS#7 bundle".into(),
        "" => "no PEM block".into(),
        other => match pem_label_kind(other) {
            Some(k) => k.describe().into(),
            None => format!("a PEM block labelled `{}`", escape(other)),
        },
    }
}

/// The kind of object a PEM label announces (the label lists are in [`crate::pemfile`]).
pub fn pem_label_kind(label: &str) -> Option<Kind> {
    if pemfile::is_certificate_label(label) {
        Some(Kind::Certificate)
    } else if pemfile::is_csr_label(label) {
        Some(Kind::Csr)
    } else if pemfile::is_public_key_label(label) {
        Some(Kind::PublicKey)
    } else if pemfile::is_private_key_label(label) {
        Some(Kind::PrivateKey)
    } else if label == pemfile::PKCS12_LABEL {
        Some(Kind::Pkcs12)
    } else {
        None
    }
}

/// Say what `data` is (never fails, never needs a password).
pub fn detect(data: &[u8]) -> FileType {
    if data.is_empty() {
        return FileType::Empty;
    }
    if let Some(magic) = data.get(..4) {
        match magic {
            [0xfe, 0xed, 0xfe, 0xed] => {
                let version = data
                    .get(4..8)
                    .map(|v| u32::from_be_bytes([v[0], v[1], v[2], v[3]]))
                    .unwrap_or(0);
                return FileType::Jks { version };
            }
            [0xce, 0xce, 0xce, 0xce] => return FileType::Jceks,
            _ => {}
        }
    }
    if pemfile::is_pem(data) {
        return match pemfile::parse_all(data, Input::PemFile) {
            Ok(blocks) => match blocks.first() {
                Some(b) => FileType::Pem {
                    kind: pem_label_kind(&b.label),
                    label: b.label.clone(),
                },
                None => FileType::BrokenPem,
            },
            Err(_) => FileType::BrokenPem,
        };
    }
    if looks_like_jwt(data) {
        return FileType::Jwt;
    }
    if let Some((kind, label)) = der_object(data) {
        return FileType::Der { kind, label };
    }
    if starts_like_pfx(data) {
        return FileType::Pkcs12;
    }
    FileType::Unknown
}

/// [`detect`] for a caller that reads every kind (`inspect`): the kind, or an error for an
/// empty file ([`Error::Corrupt`]), unreadable PEM ([`Error::Corrupt`], saying why), a PEM
/// label or a file certmint does not read ([`Error::Unsupported`]).
pub fn identify(data: &[u8]) -> Result<Kind> {
    let detected = detect(data);
    if let Some(kind) = detected.kind() {
        return Ok(kind);
    }
    Err(match detected {
        FileType::Empty => Error::corrupt(Input::File, "the file is empty"),
        FileType::Pem { label, .. } => {
            Error::unsupported(Input::PemLabel, format!("`{}`", escape(&label)))
        }
        FileType::BrokenPem => match pemfile::parse_all(data, Input::PemFile) {
            Err(e) => e,
            Ok(_) => Error::corrupt(Input::PemFile, "no readable PEM block"),
        },
        _ => Error::unsupported(
            Input::File,
            "not a key, CSR, certificate, PKCS#12, JKS or JWT that certmint recognises",
        ),
    })
}

/// A compact JWS: three base64url segments, the first decoding to a JSON object with `alg`.
fn looks_like_jwt(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let parts: Vec<&str> = text.trim().split('.').collect();
    if parts.len() != 3 || parts[0].is_empty() || parts[1].is_empty() {
        return false;
    }
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    match engine.decode(parts[0].trim_end_matches('=')) {
        Ok(h) => serde_json::from_slice::<serde_json::Value>(&h)
            .ok()
            .and_then(|v| v.get("alg").cloned())
            .is_some(),
        Err(_) => false,
    }
}

/// One DER object filling `der`, by structure, with the PEM label it takes.
fn der_object(der: &[u8]) -> Option<(Kind, &'static str)> {
    if x509_parser::certificate::X509Certificate::from_der(der).is_ok_and(|(r, _)| r.is_empty()) {
        return Some((Kind::Certificate, "CERTIFICATE"));
    }
    if x509_parser::certification_request::X509CertificationRequest::from_der(der)
        .is_ok_and(|(r, _)| r.is_empty())
    {
        return Some((Kind::Csr, "CERTIFICATE REQUEST"));
    }
    if x509_parser::x509::SubjectPublicKeyInfo::from_der(der).is_ok_and(|(r, _)| r.is_empty()) {
        return Some((Kind::PublicKey, "PUBLIC KEY"));
    }
    // An EncryptedPrivateKeyInfo of any scheme, supported or not: the key reader names
    // the scheme it refuses.
    #[derive(der::Sequence)]
    struct Encrypted<'a> {
        alg: spki::AlgorithmIdentifierRef<'a>,
        data: &'a der::asn1::OctetStringRef,
    }
    if Encrypted::from_der(der).is_ok() {
        return Some((Kind::PrivateKey, "ENCRYPTED PRIVATE KEY"));
    }
    if pkcs8::PrivateKeyInfoRef::from_der(der).is_ok() {
        return Some((Kind::PrivateKey, "PRIVATE KEY"));
    }
    if pkcs1::RsaPrivateKeyRef::from_der(der).is_ok() {
        return Some((Kind::PrivateKey, "RSA PRIVATE KEY"));
    }
    None
}

/// `SEQUENCE` (short, long or indefinite length) then `INTEGER 3`: how a PFX begins.
fn starts_like_pfx(data: &[u8]) -> bool {
    let Some((&0x30, rest)) = data.split_first() else {
        return false;
    };
    let Some((&len0, rest)) = rest.split_first() else {
        return false;
    };
    let skip = match len0 {
        0x00..=0x80 => 0,
        0x81..=0x84 => usize::from(len0 & 0x7f),
        _ => return false,
    };
    rest.get(skip..skip + 3) == Some(&[0x02, 0x01, 0x03][..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(rel: &str) -> Vec<u8> {
        std::fs::read(format!("{}/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn fixtures_are_recognised() {
        let cases = [
            ("certs/base.crt", "certificate", true),
            ("certs/base.der", "certificate", false),
            ("certs/base.csr", "csr", true),
            ("certs/base.csr.der", "csr", false),
            ("keys/base.pub.pem", "public-key", true),
            ("keys/base.pkcs1.pem", "private-key", true),
            ("keys/base.pkcs1.der", "private-key", false),
            ("keys/base.pkcs8.der", "private-key", false),
            ("keys/enc-aes256.der", "private-key", false),
            ("keys/legacy-aes128.pem", "private-key", true),
            ("keys/ec-p256.pem", "private-key", true),
            ("p12/openssl-default.p12", "pkcs12", false),
            ("p12/keytool-genkeypair.p12", "pkcs12", false),
            ("jks/keytool-equal.jks", "jks", false),
            ("jks/keytool.jceks", "jceks", false),
        ];
        for (file, id, pem) in cases {
            let t = detect(&fixture(file));
            assert_eq!(t.id(), id, "{file}: {t:?}");
            assert_eq!(t.is_pem(), pem, "{file}: {t:?}");
            assert!(identify(&fixture(file)).is_ok(), "{file}");
        }
        assert_eq!(
            detect(&fixture("jks/keytool-equal.jks")),
            FileType::Jks { version: 2 }
        );
    }

    #[test]
    fn der_objects_carry_their_pem_label() {
        let label = |f| match detect(&fixture(f)) {
            FileType::Der { label, .. } => label,
            other => panic!("{f}: {other:?}"),
        };
        assert_eq!(label("certs/base.der"), "CERTIFICATE");
        assert_eq!(label("certs/base.csr.der"), "CERTIFICATE REQUEST");
        assert_eq!(label("keys/base.pkcs1.der"), "RSA PRIVATE KEY");
        // OpenSSL's `pkey -outform DER` writes the traditional (PKCS#1) form.
        assert_eq!(label("keys/base.pkcs8.der"), "RSA PRIVATE KEY");
        assert_eq!(label("keys/enc-aes256.der"), "ENCRYPTED PRIVATE KEY");
        let key = crate::key::load(&fixture("keys/base.pkcs8.pem"), None)
            .unwrap()
            .0;
        assert_eq!(
            detect(key.pkcs8_der().expose()),
            FileType::Der {
                kind: Kind::PrivateKey,
                label: "PRIVATE KEY"
            }
        );
    }

    #[test]
    fn truncated_and_ber_pkcs12_are_still_pkcs12() {
        let p12 = fixture("p12/openssl-default.p12");
        assert_eq!(detect(&p12[..300]), FileType::Pkcs12);
        assert_eq!(detect(&[0x30, 0x80, 0x02, 0x01, 0x03]), FileType::Pkcs12);
        assert_eq!(
            detect(&[0x30, 0x82, 0x0a, 0x00, 0x02, 0x01, 0x03, 0x30]),
            FileType::Pkcs12
        );
        assert_eq!(detect(&[0x30, 0x82, 0xff]), FileType::Unknown);
    }

    #[test]
    fn what_is_not_read_is_named() {
        assert_eq!(detect(b""), FileType::Empty);
        assert!(matches!(identify(b""), Err(Error::Corrupt { .. })));
        let foo = b"-----BEGIN FOO\x1b[2J-----\nAAAA\n-----END FOO\x1b[2J-----\n";
        let t = detect(foo);
        assert_eq!(t.id(), "pem");
        assert!(t.describe().contains("\\u{1b}"), "{}", t.describe());
        assert!(matches!(identify(foo), Err(Error::Unsupported { .. })));
        let p7 = b"-----BEGIN PKCS7-----\nMAA=\n-----END PKCS7-----\n";
        assert_eq!(detect(p7).describe(), "PEM text (a PKCS#7 bundle)");
        let truncated = b"-----BEGIN CERTIFICATE-----\nAAAA\n";
        assert_eq!(detect(truncated), FileType::BrokenPem);
        assert!(matches!(identify(truncated), Err(Error::Corrupt { .. })));
        assert_eq!(detect(b"hello"), FileType::Unknown);
        assert!(matches!(identify(b"hello"), Err(Error::Unsupported { .. })));
        let jwt = b"eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln";
        assert_eq!(detect(jwt), FileType::Jwt);
    }

    #[test]
    fn descriptions() {
        let pem = detect(&fixture("certs/base.crt"));
        assert_eq!(pem.describe(), "PEM text (a certificate)");
        assert_eq!(pem.describe_contents(), "a certificate");
        assert_eq!(
            detect(&fixture("p12/openssl-default.p12")).describe(),
            "a PKCS#12 (PFX) file"
        );
        assert_eq!(describe_pem_label("X509 CERTIFICATE"), "a certificate");
        assert_eq!(describe_pem_label(""), "no PEM block");
    }

    #[test]
    fn damaged_files_never_panic() {
        // Every prefix and many one-bit flips of each kind of file: near-valid inputs,
        // where a detector that slices on trust would break.
        for file in [
            "certs/base.crt",
            "certs/base.der",
            "certs/base.csr.der",
            "keys/base.pkcs1.der",
            "keys/enc-aes256.der",
            "p12/openssl-default.p12",
            "jks/keytool-equal.jks",
        ] {
            let data = fixture(file);
            for n in (0..data.len()).step_by(7) {
                let t = detect(&data[..n]);
                let _ = (t.describe(), t.id(), identify(&data[..n]));
            }
            for i in (0..data.len()).step_by(13) {
                let mut d = data.clone();
                d[i] ^= 1 << (i % 8);
                let t = detect(&d);
                let _ = (t.describe_contents(), identify(&d));
            }
        }
    }
}
