//! The Sun KeyProtector: how JKS protects a private key (OpenJDK
//! `sun.security.provider.KeyProtector`).
//!
//! An `EncryptedPrivateKeyInfo` with algorithm OID `1.3.6.1.4.1.42.2.17.1.1` (NULL
//! parameters) whose data is `salt(20) || (PKCS#8 XOR keystream) || check(20)`: the
//! keystream is `d1 || d2 || ...` with `d1 = SHA-1(pw || salt)` and `d(i+1) = SHA-1(pw ||
//! d(i))`, and `check = SHA-1(pw || PKCS#8)`. `pw` is the password as Java `char[]` bytes
//! (UTF-16BE).

use der::asn1::{AnyRef, OctetStringRef};
use der::{Decode, Encode};
use sha1::{Digest, Sha1};
use zeroize::Zeroizing;

use crate::error::Input;
use crate::{Error, Password, Result, SecretBytes};

/// OID of the Sun KeyProtector (`1.3.6.1.4.1.42.2.17.1.1`).
pub const KEY_PROTECTOR_OID: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.42.2.17.1.1");
/// Salt length of the KeyProtector.
pub const SALT_LEN: usize = 20;
pub(super) const DIGEST_LEN: usize = 20;
const WHAT_KEY: Input = Input::JksKeyEntry;

/// A password as Java `char[]` bytes: UTF-16BE code units (supplementary characters as
/// surrogate pairs), no terminator.
pub(super) fn utf16be(password: &Password) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(password.expose().len() * 2));
    for unit in password.expose().encode_utf16() {
        out.extend_from_slice(&unit.to_be_bytes());
    }
    out
}

/// Compare without an early exit.
pub(super) fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(der::Sequence)]
struct EncryptedPrivateKeyInfo<'a> {
    algorithm: spki::AlgorithmIdentifierRef<'a>,
    data: &'a OctetStringRef,
}

/// XOR `data` in place with the KeyProtector keystream for `pw` and `salt`.
fn apply_keystream(pw: &[u8], salt: &[u8], data: &mut [u8]) {
    let mut block: Zeroizing<[u8; DIGEST_LEN]> = Zeroizing::new([0; DIGEST_LEN]);
    let mut prev: &[u8] = salt;
    let mut scratch: Zeroizing<[u8; DIGEST_LEN]> = Zeroizing::new([0; DIGEST_LEN]);
    for chunk in data.chunks_mut(DIGEST_LEN) {
        let mut h = Sha1::new();
        h.update(pw);
        h.update(prev);
        *block = h.finalize().into();
        for (b, k) in chunk.iter_mut().zip(block.iter()) {
            *b ^= k;
        }
        *scratch = *block;
        prev = scratch.as_slice();
    }
}

/// The KeyProtector check value: SHA-1(pw || plaintext).
fn check_value(pw: &[u8], plain: &[u8]) -> [u8; DIGEST_LEN] {
    let mut h = Sha1::new();
    h.update(pw);
    h.update(plain);
    h.finalize().into()
}

/// Protect a PKCS#8 `PrivateKeyInfo` with the Sun KeyProtector and a fresh random 20-byte
/// salt. Returns DER `EncryptedPrivateKeyInfo`.
pub fn protect(pkcs8_der: &[u8], key_password: &Password) -> Result<Vec<u8>> {
    let mut salt = [0u8; SALT_LEN];
    getrandom::fill(&mut salt).map_err(Error::internal)?;
    protect_with_salt(pkcs8_der, key_password, &salt)
}

/// [`protect`] with a given salt (for deterministic tests).
pub fn protect_with_salt(
    pkcs8_der: &[u8],
    key_password: &Password,
    salt: &[u8; SALT_LEN],
) -> Result<Vec<u8>> {
    if pkcs8_der.is_empty() {
        return Err(Error::invalid(Input::PrivateKey, "the key is empty"));
    }
    let pw = utf16be(key_password);
    let mut body = Zeroizing::new(Vec::with_capacity(SALT_LEN + pkcs8_der.len() + DIGEST_LEN));
    body.extend_from_slice(salt);
    body.extend_from_slice(pkcs8_der);
    apply_keystream(&pw, salt, &mut body[SALT_LEN..]);
    body.extend_from_slice(&check_value(&pw, pkcs8_der));
    let epki = EncryptedPrivateKeyInfo {
        algorithm: spki::AlgorithmIdentifierRef {
            oid: KEY_PROTECTOR_OID,
            parameters: Some(AnyRef::NULL),
        },
        data: OctetStringRef::new(&body).map_err(Error::internal)?,
    };
    epki.to_der().map_err(Error::internal)
}

fn protector_name(oid: &str) -> &'static str {
    match oid {
        "1.3.6.1.4.1.42.2.19.1" => "JCEKS's PBEWithMD5AndTripleDES",
        "1.2.840.113549.1.5.13" => "PBES2 (a PKCS#12 or JCEKS key, not JKS)",
        _ => "an unknown key protection",
    }
}

/// Recover the PKCS#8 key from a Sun KeyProtector `EncryptedPrivateKeyInfo`.
///
/// A check-value mismatch is [`Error::WrongPassword`] for the "JKS key entry"; a malformed
/// structure is [`Error::Corrupt`]; another protection algorithm is [`Error::Unsupported`].
pub fn recover(protected: &[u8], key_password: &Password) -> Result<SecretBytes> {
    let epki = EncryptedPrivateKeyInfo::from_der(protected).map_err(|e| {
        Error::corrupt(
            WHAT_KEY,
            format!("the protected key is not valid DER ({e})"),
        )
    })?;
    if epki.algorithm.oid != KEY_PROTECTOR_OID {
        let oid = epki.algorithm.oid.to_string();
        return Err(Error::unsupported(
            Input::KeyProtection,
            format!(
                "{} (OID {oid}); JKS uses the Sun KeyProtector",
                protector_name(&oid)
            ),
        ));
    }
    let data = epki.data.as_bytes();
    if data.len() <= SALT_LEN + DIGEST_LEN {
        return Err(Error::corrupt(
            WHAT_KEY,
            format!(
                "the protected key holds {} bytes, too few for salt, key and check",
                data.len()
            ),
        ));
    }
    let (salt, rest) = data.split_at(SALT_LEN);
    let (cipher, check) = rest.split_at(rest.len() - DIGEST_LEN);
    let pw = utf16be(key_password);
    let mut plain = Zeroizing::new(cipher.to_vec());
    apply_keystream(&pw, salt, &mut plain);
    if !same(&check_value(&pw, &plain), check) {
        return Err(Error::WrongPassword { what: WHAT_KEY });
    }
    Ok(SecretBytes::from(plain))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> Password {
        Password::from(s)
    }

    const FAKE_KEY: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz-not-really-pkcs8";

    #[test]
    fn key_protector_round_trips_and_detects_wrong_password() {
        for len in [1usize, 19, 20, 21, 40, 41, 1217] {
            let key: Vec<u8> = (0..len)
                .map(|i| u8::try_from(i * 7 % 256).unwrap())
                .collect();
            let salt = [9u8; 20];
            let p = protect_with_salt(&key, &pw("pässwört€"), &salt).unwrap();
            let back = recover(&p, &pw("pässwört€")).unwrap();
            assert_eq!(back.expose(), key.as_slice());
            let err = recover(&p, &pw("passwort")).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::WrongPassword {
                        what: Input::JksKeyEntry
                    }
                ),
                "{err}"
            );
        }
    }

    #[test]
    fn key_protector_writes_oid_with_null_parameters() {
        let p = protect_with_salt(FAKE_KEY, &pw("changeit"), &[0; 20]).unwrap();
        // SEQUENCE { SEQUENCE { OID 1.3.6.1.4.1.42.2.17.1.1, NULL }, OCTET STRING }
        let alg = [
            0x30, 0x0e, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x2a, 0x02, 0x11, 0x01, 0x01,
            0x05, 0x00,
        ];
        assert_eq!(&p[2..2 + alg.len()], &alg);
        assert_eq!(p.len(), 2 + alg.len() + 2 + 20 + FAKE_KEY.len() + 20);
    }

    #[test]
    fn known_keystream_vector() {
        // Salt and password chosen so the first keystream block is SHA-1(00 61 || salt).
        let salt = [0u8; 20];
        let p = protect_with_salt(&[0u8; 4], &pw("a"), &salt).unwrap();
        let body = &p[p.len() - 44..];
        let mut h = Sha1::new();
        h.update([0x00, 0x61]);
        h.update(salt);
        let block: [u8; 20] = h.finalize().into();
        assert_eq!(&body[..20], &salt);
        assert_eq!(&body[20..24], &block[..4]);
    }

    #[test]
    fn passwords_are_utf16be() {
        assert_eq!(
            utf16be(&pw("aé€")).as_slice(),
            &[0x00, 0x61, 0x00, 0xe9, 0x20, 0xac]
        );
        // A supplementary character becomes a surrogate pair, as in a Java char[].
        assert_eq!(utf16be(&pw("😀")).as_slice(), &[0xd8, 0x3d, 0xde, 0x00]);
    }
}
