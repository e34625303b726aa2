//! Reading a JKS keystore: every length is checked against the bytes that remain before
//! anything is sliced, structure before the digest (see the module documentation).

use super::protector::{DIGEST_LEN, same};
use super::{
    Certificate, Entry, Integrity, Keystore, PrivateKeyEntry, ProtectedKey, TAG_PRIVATE_KEY,
    TAG_TRUSTED_CERT, TrustedCertEntry, WHAT, X509, decode_modified_utf8, integrity_digest,
    not_jks,
};
use crate::detect::FileType;
use crate::error::Input;
use crate::{Error, Password, Result};

/// A bounds-checked big-endian reader over the file.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(Error::corrupt(
                WHAT,
                format!(
                    "truncated at byte {}: {what} needs {n} bytes, {} left",
                    self.pos,
                    self.remaining()
                ),
            ));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u16(&mut self, what: &str) -> Result<u16> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &str) -> Result<u32> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self, what: &str) -> Result<u64> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    /// A u32 length followed by that many bytes; the length is checked against what
    /// remains before anything is taken.
    fn bytes32(&mut self, what: &str) -> Result<&'a [u8]> {
        let at = self.pos;
        let n = self.u32(what)?;
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        if n > self.remaining() {
            return Err(Error::corrupt(
                WHAT,
                format!(
                    "at byte {at}: {what} claims {n} bytes but only {} remain",
                    self.remaining()
                ),
            ));
        }
        self.take(n, what)
    }

    fn utf(&mut self, what: &str) -> Result<String> {
        let at = self.pos;
        let n = usize::from(self.u16(what)?);
        let bytes = self.take(n, what)?;
        decode_modified_utf8(bytes)
            .map_err(|e| Error::corrupt(WHAT, format!("{what} at byte {at}: {e}")))
    }

    fn cert(&mut self, version: u32, what: &str) -> Result<Certificate> {
        let cert_type = if version == 2 {
            self.utf("certificate type")?
        } else {
            X509.to_owned()
        };
        let der = self.bytes32(what)?.to_vec();
        Ok(Certificate { cert_type, der })
    }
}

fn read_entry(r: &mut Reader<'_>, version: u32, index: u32) -> Result<Entry> {
    let at = r.pos;
    let tag = r.u32("entry tag")?;
    match tag {
        TAG_PRIVATE_KEY => {
            let alias = r.utf("alias")?;
            let timestamp_ms = r.u64("timestamp")?;
            let key = r.bytes32("protected key")?;
            let count = r.u32("certificate chain length")?;
            // Each certificate needs at least 4 bytes: a count that cannot fit is corrupt
            // (checked before the loop so that no count drives work beyond the file).
            if u64::from(count) * 4 > r.remaining() as u64 {
                return Err(Error::corrupt(
                    WHAT,
                    format!(
                        "entry `{}` claims {count} certificates, more than the {} bytes left can hold",
                        crate::text::escape(&alias),
                        r.remaining()
                    ),
                ));
            }
            let mut chain = Vec::new();
            for _ in 0..count {
                chain.push(r.cert(version, "certificate")?);
            }
            Ok(Entry::PrivateKey(PrivateKeyEntry {
                alias,
                timestamp_ms,
                protected_key: ProtectedKey::from_der(key.to_vec()),
                chain,
            }))
        }
        TAG_TRUSTED_CERT => {
            let alias = r.utf("alias")?;
            let timestamp_ms = r.u64("timestamp")?;
            let cert = r.cert(version, "trusted certificate")?;
            Ok(Entry::TrustedCert(TrustedCertEntry {
                alias,
                timestamp_ms,
                cert,
            }))
        }
        3 => Err(Error::unsupported(
            Input::KeystoreEntry,
            format!("entry {index} is a secret-key entry (tag 3), which only JCEKS keystores hold"),
        )),
        other => Err(Error::corrupt(
            WHAT,
            format!("entry {index} at byte {at} has the unknown tag {other}"),
        )),
    }
}

/// Parse a JKS keystore.
///
/// With `store_password`, the integrity digest is verified ([`Integrity::Verified`]); a
/// mismatch is [`Error::WrongPassword`], unless the same password opens a key entry, which
/// proves the password right and the file altered ([`Error::Corrupt`]). Without a password
/// the structure is still fully checked ([`Integrity::Unchecked`]). Keys stay protected:
/// recover them with [`PrivateKeyEntry::recover`].
pub fn parse(data: &[u8], store_password: Option<&Password>) -> Result<Keystore> {
    let detected = crate::detect::detect(data);
    let FileType::Jks { .. } = detected else {
        return Err(not_jks(&detected));
    };
    let mut r = Reader { data, pos: 0 };
    r.u32("magic")?;
    let version = r.u32("version")?;
    if version != 1 && version != 2 {
        return Err(Error::unsupported(
            Input::JksVersion,
            format!("{version} (certmint reads versions 1 and 2)"),
        ));
    }
    let count = r.u32("entry count")?;
    let mut entries = Vec::new();
    for index in 0..count {
        entries.push(read_entry(&mut r, version, index)?);
    }
    let body_len = r.pos;
    if r.remaining() < DIGEST_LEN {
        return Err(Error::corrupt(
            WHAT,
            format!(
                "truncated: the 20-byte integrity digest after byte {body_len} is missing ({} bytes left)",
                r.remaining()
            ),
        ));
    }
    let stored = r.take(DIGEST_LEN, "integrity digest")?;
    if r.remaining() > 0 {
        return Err(Error::corrupt(
            WHAT,
            format!(
                "{} bytes of trailing data after the integrity digest",
                r.remaining()
            ),
        ));
    }
    let integrity = match store_password {
        None => Integrity::Unchecked,
        Some(pw) => {
            if same(&integrity_digest(pw, &data[..body_len]), stored) {
                Integrity::Verified
            } else if let Some(k) = entries.iter().find_map(|e| match e {
                Entry::PrivateKey(k) if k.recover(pw).is_ok() => Some(k),
                _ => None,
            }) {
                return Err(Error::corrupt(
                    WHAT,
                    format!(
                        "the integrity digest does not match, yet the password opens the key entry `{}`: the file was altered after it was written (or the password given is that entry's key password, not the store password)",
                        crate::text::escape(&k.alias)
                    ),
                ));
            } else {
                return Err(Error::WrongPassword { what: WHAT });
            }
        }
    };
    Ok(Keystore {
        version,
        entries,
        integrity,
    })
}
