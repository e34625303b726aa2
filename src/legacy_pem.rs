//! OpenSSL 1.x "traditional" encrypted PEM (RFC 1421 headers).
//!
//! Recognised by the headers inside a `BEGIN RSA PRIVATE KEY` block:
//!
//! ```text
//! Proc-Type: 4,ENCRYPTED
//! DEK-Info: AES-256-CBC,<hex IV>
//! ```
//!
//! This is what `openssl genrsa -des3` wrote for years and what `-traditional` still
//! writes. The key is derived with OpenSSL's `EVP_BytesToKey` (MD5, one iteration, the
//! first 8 bytes of the IV as salt); the body is CBC with PKCS#7 padding and decrypts to a
//! PKCS#1 `RSAPrivateKey`. No maintained crate reads it, hence this module.

use cbc::cipher::{BlockModeDecrypt, KeyIvInit, block_padding::Pkcs7};
use md5::{Digest, Md5};
use zeroize::Zeroizing;

use crate::error::Input;
use crate::{Error, Password, Result, SecretBytes};

/// A cipher named in a `DEK-Info` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cipher {
    /// `AES-128-CBC`
    Aes128Cbc,
    /// `AES-192-CBC`
    Aes192Cbc,
    /// `AES-256-CBC`
    Aes256Cbc,
    /// `DES-EDE3-CBC` (what `genrsa -des3` writes)
    DesEde3Cbc,
    /// `DES-CBC` (single DES; read only, for old files)
    DesCbc,
}

impl Cipher {
    /// Parse the OpenSSL cipher name.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.trim().to_ascii_uppercase().as_str() {
            "AES-128-CBC" => Cipher::Aes128Cbc,
            "AES-192-CBC" => Cipher::Aes192Cbc,
            "AES-256-CBC" => Cipher::Aes256Cbc,
            "DES-EDE3-CBC" => Cipher::DesEde3Cbc,
            "DES-CBC" => Cipher::DesCbc,
            _ => return None,
        })
    }

    /// The OpenSSL name.
    pub fn name(self) -> &'static str {
        match self {
            Cipher::Aes128Cbc => "AES-128-CBC",
            Cipher::Aes192Cbc => "AES-192-CBC",
            Cipher::Aes256Cbc => "AES-256-CBC",
            Cipher::DesEde3Cbc => "DES-EDE3-CBC",
            Cipher::DesCbc => "DES-CBC",
        }
    }

    fn key_len(self) -> usize {
        match self {
            Cipher::Aes128Cbc => 16,
            Cipher::Aes192Cbc => 24,
            Cipher::Aes256Cbc => 32,
            Cipher::DesEde3Cbc => 24,
            Cipher::DesCbc => 8,
        }
    }

    fn iv_len(self) -> usize {
        match self {
            Cipher::Aes128Cbc | Cipher::Aes192Cbc | Cipher::Aes256Cbc => 16,
            Cipher::DesEde3Cbc | Cipher::DesCbc => 8,
        }
    }
}

/// The parsed `Proc-Type`/`DEK-Info` headers of an encrypted block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DekInfo {
    /// The cipher.
    pub cipher: Cipher,
    /// The IV (its first 8 bytes are also the KDF salt).
    pub iv: Vec<u8>,
}

/// Read the encryption headers of a PEM block. `Ok(None)` when the block is not encrypted.
pub fn dek_info(block: &crate::pemfile::Block) -> Result<Option<DekInfo>> {
    let proc_type = block.header("Proc-Type");
    let dek = block.header("DEK-Info");
    match (proc_type, dek) {
        (None, None) => Ok(None),
        (Some(p), _) if !p.replace(' ', "").eq_ignore_ascii_case("4,ENCRYPTED") => Err(
            Error::unsupported(Input::PemHeader, format!("Proc-Type: {p}")),
        ),
        (_, None) => Err(Error::corrupt(
            Input::PrivateKey,
            "Proc-Type says ENCRYPTED but there is no DEK-Info header",
        )),
        (_, Some(d)) => {
            let (name, iv_hex) = d
                .split_once(',')
                .ok_or_else(|| Error::corrupt(Input::PrivateKey, "DEK-Info header has no IV"))?;
            let cipher = Cipher::from_name(name)
                .ok_or_else(|| Error::unsupported(Input::LegacyPemCipher, name.trim()))?;
            let iv = decode_hex(iv_hex.trim())
                .ok_or_else(|| Error::corrupt(Input::PrivateKey, "DEK-Info IV is not hex"))?;
            if iv.len() != cipher.iv_len() {
                return Err(Error::corrupt(
                    Input::PrivateKey,
                    format!(
                        "DEK-Info IV is {} bytes, {} needs {}",
                        iv.len(),
                        cipher.name(),
                        cipher.iv_len()
                    ),
                ));
            }
            Ok(Some(DekInfo { cipher, iv }))
        }
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}

/// OpenSSL's `EVP_BytesToKey(cipher, md5, salt, password, 1)`.
fn bytes_to_key(password: &[u8], salt: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(len + 16));
    let mut prev: Option<[u8; 16]> = None;
    while out.len() < len {
        let mut h = Md5::new();
        if let Some(p) = prev {
            h.update(p);
        }
        h.update(password);
        h.update(salt);
        let d: [u8; 16] = h.finalize().into();
        out.extend_from_slice(&d);
        prev = Some(d);
    }
    out.truncate(len);
    out
}

fn cbc_decrypt<C>(key: &[u8], iv: &[u8], data: &[u8]) -> Option<Vec<u8>>
where
    cbc::Decryptor<C>: KeyIvInit + BlockModeDecrypt,
    C: cbc::cipher::BlockCipherDecrypt,
{
    let dec = cbc::Decryptor::<C>::new_from_slices(key, iv).ok()?;
    dec.decrypt_padded_vec::<Pkcs7>(data).ok()
}

/// Decrypt the body of a legacy encrypted PEM block to PKCS#1 DER.
///
/// A padding failure means a wrong password ([`Error::WrongPassword`]); the caller then
/// checks that the plaintext parses as a key, which catches the 1-in-256 wrong passwords
/// whose padding happens to look valid.
pub fn decrypt(info: &DekInfo, password: &Password, body: &[u8]) -> Result<SecretBytes> {
    let block = info.cipher.iv_len();
    if body.is_empty() || !body.len().is_multiple_of(block) {
        return Err(Error::corrupt(
            Input::PrivateKey,
            format!(
                "encrypted body is {} bytes, not a multiple of the {block}-byte block",
                body.len()
            ),
        ));
    }
    let key = bytes_to_key(password.as_bytes(), &info.iv[..8], info.cipher.key_len());
    let iv = &info.iv;
    let plain = match info.cipher {
        Cipher::Aes128Cbc => cbc_decrypt::<aes::Aes128>(&key, iv, body),
        Cipher::Aes192Cbc => cbc_decrypt::<aes::Aes192>(&key, iv, body),
        Cipher::Aes256Cbc => cbc_decrypt::<aes::Aes256>(&key, iv, body),
        Cipher::DesEde3Cbc => cbc_decrypt::<des::TdesEde3>(&key, iv, body),
        Cipher::DesCbc => cbc_decrypt::<des::Des>(&key, iv, body),
    };
    plain.map(SecretBytes::new).ok_or(Error::WrongPassword {
        what: Input::PrivateKey,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_to_key_matches_openssl() {
        // The first block is MD5(password || salt); interop with real OpenSSL output is
        // proven by the fixtures tests (`openssl genrsa -traditional -aes256` etc.).
        let a = bytes_to_key(b"password", &[0, 1, 2, 3, 4, 5, 6, 7], 32);
        let b = bytes_to_key(b"password", &[0, 1, 2, 3, 4, 5, 6, 7], 32);
        assert_eq!(a.len(), 32);
        assert_eq!(*a, *b);
        let first: [u8; 16] = Md5::new()
            .chain_update(b"password")
            .chain_update([0, 1, 2, 3, 4, 5, 6, 7])
            .finalize()
            .into();
        assert_eq!(&a[..16], &first);
    }

    #[test]
    fn hex_and_cipher_names() {
        assert_eq!(decode_hex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(decode_hex("0"), None);
        assert_eq!(decode_hex("zz"), None);
        assert_eq!(Cipher::from_name("des-ede3-cbc"), Some(Cipher::DesEde3Cbc));
        assert_eq!(Cipher::from_name("CAMELLIA-128-CBC"), None);
    }
}
