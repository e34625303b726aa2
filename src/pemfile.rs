//! PEM (RFC 7468, plus the RFC 1421 headers of OpenSSL's legacy encrypted keys) and DER
//! detection.
//!
//! A file is PEM when, after optional leading text (OpenSSL's `-text` output puts a dump
//! before the block), it holds a `-----BEGIN <LABEL>-----` line. Anything else is treated
//! as DER.

use crate::error::Input;
use crate::{Error, Result};

/// One PEM block.
#[derive(Clone)]
pub struct Block {
    /// The label between `BEGIN ` and `-----`, e.g. `CERTIFICATE`.
    pub label: String,
    /// RFC 1421 headers (`Proc-Type`, `DEK-Info`), in order.
    pub headers: Vec<(String, String)>,
    /// The decoded contents.
    pub contents: Vec<u8>,
}

impl std::fmt::Debug for Block {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Block")
            .field("label", &self.label)
            .field("headers", &self.headers)
            .field("contents", &format_args!("<{} bytes>", self.contents.len()))
            .finish()
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        crate::secret::wipe(&mut self.contents);
    }
}

impl Block {
    /// Value of a header, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The labels of a certificate: RFC 7468's `CERTIFICATE`, the older `X509 CERTIFICATE`,
/// and OpenSSL's `TRUSTED CERTIFICATE`.
pub const CERTIFICATE_LABELS: [&str; 3] =
    ["CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"];
/// The labels of a PKCS#10 request: RFC 7468's `CERTIFICATE REQUEST` and the older
/// `NEW CERTIFICATE REQUEST` (Netscape, old Windows tools).
pub const CSR_LABELS: [&str; 2] = ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"];
/// The labels of a public key: `PUBLIC KEY` (SubjectPublicKeyInfo) and PKCS#1's
/// `RSA PUBLIC KEY`.
pub const PUBLIC_KEY_LABELS: [&str; 2] = ["PUBLIC KEY", "RSA PUBLIC KEY"];
/// The label OpenSSL gives a PKCS#12 file put in PEM (certmint reads PKCS#12 as DER only).
pub const PKCS12_LABEL: &str = "PKCS12";

/// True for a label of a certificate ([`CERTIFICATE_LABELS`]).
pub fn is_certificate_label(label: &str) -> bool {
    CERTIFICATE_LABELS.contains(&label)
}

/// True for a label of a certificate signing request ([`CSR_LABELS`]).
pub fn is_csr_label(label: &str) -> bool {
    CSR_LABELS.contains(&label)
}

/// True for a label of a public key ([`PUBLIC_KEY_LABELS`]).
pub fn is_public_key_label(label: &str) -> bool {
    PUBLIC_KEY_LABELS.contains(&label)
}

/// True for a label of a private key of any algorithm and encoding: `PRIVATE KEY`,
/// `ENCRYPTED PRIVATE KEY`, `RSA PRIVATE KEY`, `EC PRIVATE KEY`, `OPENSSH PRIVATE KEY`...
pub fn is_private_key_label(label: &str) -> bool {
    label.ends_with("PRIVATE KEY")
}

/// True when the bytes look like PEM text (a BEGIN line somewhere in them).
pub fn is_pem(data: &[u8]) -> bool {
    find_subslice(data, b"-----BEGIN ").is_some()
}

fn find_subslice(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Parse every PEM block in `data`.
///
/// `what` names the input in errors ("private key", "certificate").
///
/// Well-formed PEM is decoded here into buffers sized once and wiped when dropped: the
/// `pem` crate joins the base64 lines into a growing `String` that is freed unwiped, which
/// left copies of a key's PEM text in memory (a core dump of `mint` held them several
/// times). Anything unusual (an unmatched END, bad base64, odd framing) goes to the `pem`
/// crate, whose errors are reported.
pub fn parse_all(data: &[u8], what: Input) -> Result<Vec<Block>> {
    if let Some(blocks) = parse_wiped(data) {
        return Ok(blocks);
    }
    let blocks = pem::parse_many(data).map_err(|e| Error::corrupt(what, pem_error(&e)))?;
    if blocks.is_empty() {
        return Err(Error::corrupt(what, "no complete PEM block found"));
    }
    Ok(blocks
        .into_iter()
        .map(|p| {
            let headers = p
                .headers()
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            Block {
                label: p.tag().to_string(),
                headers,
                contents: p.into_contents(),
            }
        })
        .collect())
}

/// Strictly well-formed PEM (BEGIN and END lines on their own, matching labels, optional
/// RFC 1421 headers ended by a blank line, valid base64), decoded without an unwiped copy;
/// `None` for anything else.
fn parse_wiped(data: &[u8]) -> Option<Vec<Block>> {
    use base64::Engine as _;
    use zeroize::Zeroizing;
    let text = std::str::from_utf8(data).ok()?;
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let mut blocks = Vec::new();
    while let Some(line) = lines.next() {
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|r| r.strip_suffix("-----"))
        else {
            continue;
        };
        let mut headers = Vec::new();
        // The base64 text without line breaks; never longer than the input, so it never
        // grows (and leaves no copy behind).
        let mut body = Zeroizing::new(Vec::with_capacity(data.len()));
        let mut first = true;
        let mut in_headers = false;
        loop {
            let line = lines.next()?;
            if let Some(end) = line
                .strip_prefix("-----END ")
                .and_then(|r| r.strip_suffix("-----"))
            {
                if end != label || in_headers {
                    return None;
                }
                break;
            }
            if first && line.contains(':') {
                in_headers = true;
            }
            first = false;
            if in_headers {
                if line.trim().is_empty() {
                    in_headers = false;
                    continue;
                }
                let (k, v) = line.split_once(':')?;
                headers.push((k.trim().to_owned(), v.trim().to_owned()));
                continue;
            }
            if line.starts_with("-----") {
                return None;
            }
            body.extend(line.bytes().filter(|b| !b.is_ascii_whitespace()));
        }
        if body.is_empty() {
            return None;
        }
        let mut out = Zeroizing::new(vec![0u8; base64::decoded_len_estimate(body.len())]);
        let n = base64::engine::general_purpose::STANDARD
            .decode_slice(&body[..], &mut out[..])
            .ok()?;
        out.truncate(n);
        blocks.push(Block {
            label: label.to_owned(),
            headers,
            contents: std::mem::take(&mut *out),
        });
    }
    (!blocks.is_empty()).then_some(blocks)
}

fn pem_error(e: &pem::PemError) -> String {
    match e {
        pem::PemError::MismatchedTags(a, b) => {
            format!("BEGIN {a} is closed by END {b}")
        }
        pem::PemError::MissingBeginTag | pem::PemError::MalformedFraming => {
            "malformed PEM framing (BEGIN/END lines)".into()
        }
        pem::PemError::MissingEndTag => "missing END line (the file is truncated)".into(),
        pem::PemError::MissingData => "the PEM block is empty".into(),
        pem::PemError::InvalidData(_) => "invalid base64 in the PEM body".into(),
        other => other.to_string(),
    }
}

/// Encode `der` as PEM with 64-column lines and LF line endings, as OpenSSL writes it.
pub fn encode(label: &str, der: &[u8]) -> String {
    let p = pem::Pem::new(label, der.to_vec());
    pem::encode_config(
        &p,
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_text_before_block_and_headers() {
        let text = b"Certificate:\n  junk\n-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\nAAEC\n-----END RSA PRIVATE KEY-----\n";
        let blocks = parse_all(text, Input::PrivateKey).unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].label, "RSA PRIVATE KEY");
        assert_eq!(
            blocks[0].header("dek-info").unwrap(),
            "AES-128-CBC,00112233445566778899AABBCCDDEEFF"
        );
        assert_eq!(blocks[0].contents, vec![0, 1, 2]);
    }

    #[test]
    fn the_wiped_parser_agrees_with_the_pem_crate() {
        let der: Vec<u8> = (0..=255u8).cycle().take(1219).collect();
        let key = encode("PRIVATE KEY", &der);
        let crlf = key.replace('\n', "\r\n");
        let two = format!("junk before\n{key}{}", encode("CERTIFICATE", &der[..100]));
        let legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\nAAEC\n-----END RSA PRIVATE KEY-----\n";
        for text in [key.as_str(), crlf.as_str(), two.as_str(), legacy] {
            let ours = parse_wiped(text.as_bytes()).expect(text);
            let theirs = pem::parse_many(text.as_bytes()).unwrap();
            assert_eq!(ours.len(), theirs.len());
            for (a, b) in ours.iter().zip(&theirs) {
                assert_eq!(a.label, b.tag());
                assert_eq!(a.contents, b.contents());
                let hs: Vec<(String, String)> = b
                    .headers()
                    .iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect();
                assert_eq!(a.headers, hs);
            }
        }
        // What is not plainly well formed goes to the pem crate (and its errors).
        for bad in [
            "-----BEGIN X-----\nAAEC\n",
            "-----BEGIN X-----\nAAEC\n-----END Y-----\n",
            "-----BEGIN X-----\n-----END X-----\n",
            "-----BEGIN X-----\nA!EC\n-----END X-----\n",
            "no pem here",
        ] {
            assert!(parse_wiped(bad.as_bytes()).is_none(), "{bad}");
        }
    }

    #[test]
    fn truncated_pem_is_corrupt() {
        let err =
            parse_all(b"-----BEGIN CERTIFICATE-----\nAAEC\n", Input::Certificate).unwrap_err();
        assert!(matches!(err, Error::Corrupt { .. }), "{err}");
    }

    #[test]
    fn labels_are_classified() {
        for l in CERTIFICATE_LABELS {
            assert!(is_certificate_label(l) && !is_csr_label(l) && !is_private_key_label(l));
        }
        assert!(is_csr_label("NEW CERTIFICATE REQUEST"));
        assert!(is_public_key_label("RSA PUBLIC KEY"));
        assert!(is_private_key_label("ENCRYPTED PRIVATE KEY"));
        assert!(is_private_key_label("OPENSSH PRIVATE KEY"));
        assert!(!is_certificate_label("certificate"));
    }

    #[test]
    fn encode_wraps_at_64() {
        let s = encode("CERTIFICATE", &[0u8; 100]);
        for line in s.lines() {
            assert!(line.len() <= 64);
        }
        assert!(s.ends_with("-----END CERTIFICATE-----\n"));
    }
}
