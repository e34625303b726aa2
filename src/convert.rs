//! PEM ⇄ DER conversion for certificates, CSRs, public keys and private keys (the
//! seed's "save it with a .pem extension" step, done properly).
//!
//! The kind is recognised from the PEM label, or from the DER structure
//! ([`crate::detect`]).

pub use crate::detect::Encoding;
use crate::detect::{FileType, Kind, detect, pem_label_kind};
use crate::error::{Expected, Input};
use crate::{Error, Result, pemfile};

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

/// The private-key labels with a DER form (a traditional encrypted PEM key has none).
const KEY_LABELS: [&str; 3] = ["PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY"];

/// The label a PEM object keeps when converted (`NEW CERTIFICATE REQUEST` and `X509
/// CERTIFICATE` become the RFC 7468 labels), `None` for what has no plain DER form: OpenSSL's
/// `TRUSTED CERTIFICATE` carries trust settings after the certificate, and keys other than
/// RSA, PKCS#8 and encrypted PKCS#8 are not read.
fn pem_output_label(label: &str) -> Option<&'static str> {
    match pem_label_kind(label)? {
        Kind::Certificate if label != "TRUSTED CERTIFICATE" => Some("CERTIFICATE"),
        Kind::Csr => Some("CERTIFICATE REQUEST"),
        Kind::PublicKey => pemfile::PUBLIC_KEY_LABELS.into_iter().find(|l| *l == label),
        Kind::PrivateKey => KEY_LABELS.into_iter().find(|l| *l == label),
        _ => None,
    }
}

/// Convert the (first) object in `data` to `to`.
pub fn convert(data: &[u8], to: Encoding) -> Result<Converted> {
    let (label, der) = if pemfile::is_pem(data) {
        let blocks = pemfile::parse_all(data, Input::PemFile)?;
        let block = &blocks[0];
        if crate::legacy_pem::dek_info(block)?.is_some() {
            return Err(Error::unsupported(
                Input::Conversion,
                "a traditional encrypted PEM key has no DER form; decrypt it with `certmint decrypt` first",
            ));
        }
        let label = pem_output_label(&block.label).ok_or_else(|| {
            Error::unsupported(
                Input::PemLabel,
                format!("`{}`", crate::text::escape(&block.label)),
            )
        })?;
        (label, block.contents.clone())
    } else {
        match detect(data) {
            FileType::Der { label, .. } => (label, data.to_vec()),
            FileType::Unknown | FileType::Empty => {
                return Err(Error::corrupt(
                    Input::DerFile,
                    "not a certificate, CSR, public key or private key",
                ));
            }
            other => {
                return Err(Error::WrongKind {
                    expected: Expected::Convertible,
                    found: other.describe(),
                });
            }
        }
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
