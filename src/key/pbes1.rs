//! PBES1 (RFC 8018 §6.1, formerly PKCS#5 v1.5), for *reading* old encrypted PKCS#8 keys:
//! `pbeWithMD5AndDES-CBC`, `pbeWithSHA1AndDES-CBC`, `pbeWithMD5AndRC2-CBC` and
//! `pbeWithSHA1AndRC2-CBC`, what `openssl pkcs8 -topk8 -v1 PBE-MD5-DES` (and older Java)
//! write. certmint never writes them: single DES and 64-bit RC2 are broken.
//!
//! The key derivation is PBKDF1 (RFC 8018 §5.1): `T1 = Hash(P || S)`, `Ti = Hash(Ti-1)`,
//! `c` times; the first 8 bytes of `Tc` are the DES or RC2 key, the next 8 the CBC IV.
//! The password is its bytes as typed (UTF-8), as OpenSSL passes them. The MD2 variants
//! are refused by name: no maintained MD2 implementation is in the tree.
//!
//! How to recognise the format: an `ENCRYPTED PRIVATE KEY` whose algorithm is one of the
//! OIDs 1.2.840.113549.1.5.{1,3,4,6,10,11}, parameters `SEQUENCE { salt OCTET STRING
//! (8 bytes), iterationCount INTEGER }`.

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, KeyIvInit};
use der::asn1::OctetStringRef;
use sha1::Digest;
use spki::AlgorithmIdentifierRef;
use zeroize::Zeroizing;

use crate::error::Input;
use crate::{Error, Result};

/// The hash of PBKDF1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hash {
    Md5,
    Sha1,
}

/// The block cipher, in CBC mode with a 64-bit key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cipher {
    Des,
    Rc2,
}

/// A PBES1 scheme read from a key file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pbes1 {
    hash: Hash,
    cipher: Cipher,
    salt: [u8; 8],
    iterations: u32,
}

/// `PBEParameter ::= SEQUENCE { salt OCTET STRING (SIZE(8)), iterationCount INTEGER }`.
#[derive(der::Sequence)]
struct ParamsRef<'a> {
    salt: &'a OctetStringRef,
    iterations: u64,
}

/// One PBES1 OID: the OID, its name, and the hash and cipher when certmint runs it.
type SchemeEntry = (&'static str, &'static str, Option<(Hash, Cipher)>);

/// The PBES1 OIDs.
const SCHEMES: [SchemeEntry; 6] = [
    ("1.2.840.113549.1.5.1", "pbeWithMD2AndDES-CBC", None),
    ("1.2.840.113549.1.5.4", "pbeWithMD2AndRC2-CBC", None),
    (
        "1.2.840.113549.1.5.3",
        "pbeWithMD5AndDES-CBC",
        Some((Hash::Md5, Cipher::Des)),
    ),
    (
        "1.2.840.113549.1.5.6",
        "pbeWithMD5AndRC2-CBC",
        Some((Hash::Md5, Cipher::Rc2)),
    ),
    (
        "1.2.840.113549.1.5.10",
        "pbeWithSHA1AndDES-CBC",
        Some((Hash::Sha1, Cipher::Des)),
    ),
    (
        "1.2.840.113549.1.5.11",
        "pbeWithSHA1AndRC2-CBC",
        Some((Hash::Sha1, Cipher::Rc2)),
    ),
];

/// True for the OID of a PBES1 scheme (supported or not).
pub(crate) fn is_pbes1(oid: &str) -> bool {
    SCHEMES.iter().any(|(o, _, _)| *o == oid)
}

impl Pbes1 {
    /// The work units ([`crate::kdf::work`]) of one derivation: an iterated hash,
    /// one unit per iteration as for PBKDF2.
    pub(crate) fn work(&self) -> u64 {
        crate::kdf::work(crate::kdf::Work::Pbkdf2(u64::from(self.iterations)))
    }

    /// Decode a PBES1 `AlgorithmIdentifier` (its OID is one of [`is_pbes1`]'s) and check its
    /// parameters; `limits` bound the work a hostile file can ask for
    /// ([`Error::KdfLimit`] above them).
    pub(crate) fn parse(
        alg: AlgorithmIdentifierRef<'_>,
        limits: &crate::kdf::Limits,
    ) -> Result<Self> {
        let oid = alg.oid.to_string();
        let (name, run) = SCHEMES
            .iter()
            .find(|(o, _, _)| *o == oid)
            .map(|(_, n, r)| (*n, *r))
            .ok_or_else(|| Error::internal(format!("{oid} is not a PBES1 OID")))?;
        let Some((hash, cipher)) = run else {
            return Err(Error::unsupported(
                Input::KeyEncryption,
                format!("{name} (PBES1 with MD2), OID {oid}; {}", super::REENCRYPT),
            ));
        };
        let params: ParamsRef<'_> = alg
            .parameters
            .ok_or_else(|| Error::corrupt(Input::PrivateKey, format!("{name} without parameters")))?
            .decode_as()
            .map_err(|e| Error::corrupt(Input::PrivateKey, format!("{name} parameters: {e}")))?;
        let salt: [u8; 8] = params.salt.as_bytes().try_into().map_err(|_| {
            Error::corrupt(
                Input::PrivateKey,
                format!(
                    "{name} with a {}-byte salt (PBES1 salts are 8 bytes)",
                    params.salt.as_bytes().len()
                ),
            )
        })?;
        let iterations = limits.check_iterations(Input::KeyEncryption, params.iterations)?;
        Ok(Pbes1 {
            hash,
            cipher,
            salt,
            iterations,
        })
    }

    /// e.g. "PBES1 (pbeWithMD5AndDES-CBC, 2048 iterations)".
    pub(crate) fn describe(&self) -> String {
        let name = match (self.hash, self.cipher) {
            (Hash::Md5, Cipher::Des) => "pbeWithMD5AndDES-CBC",
            (Hash::Md5, Cipher::Rc2) => "pbeWithMD5AndRC2-CBC",
            (Hash::Sha1, Cipher::Des) => "pbeWithSHA1AndDES-CBC",
            (Hash::Sha1, Cipher::Rc2) => "pbeWithSHA1AndRC2-CBC",
        };
        format!("PBES1 ({name}, {} iterations)", self.iterations)
    }

    /// PBKDF1: the 8-byte key and the 8-byte IV.
    fn derive(&self, password: &[u8]) -> Zeroizing<[u8; 16]> {
        fn run<D: Digest>(password: &[u8], salt: &[u8], iterations: u32) -> Zeroizing<Vec<u8>> {
            let mut t = Zeroizing::new(
                D::new()
                    .chain_update(password)
                    .chain_update(salt)
                    .finalize()
                    .to_vec(),
            );
            for _ in 1..iterations {
                *t = D::digest(t.as_slice()).to_vec();
            }
            t
        }
        let t = match self.hash {
            Hash::Md5 => run::<md5::Md5>(password, &self.salt, self.iterations),
            Hash::Sha1 => run::<sha1::Sha1>(password, &self.salt, self.iterations),
        };
        let mut dk = Zeroizing::new([0u8; 16]);
        dk.copy_from_slice(&t[..16]);
        dk
    }

    /// Decrypt; `None` when the padding does not check out (a wrong password, or altered
    /// bytes).
    pub(crate) fn decrypt(
        &self,
        password: &[u8],
        data: &[u8],
    ) -> Result<Option<Zeroizing<Vec<u8>>>> {
        if data.is_empty() || !data.len().is_multiple_of(8) {
            return Err(Error::corrupt(
                Input::PrivateKey,
                format!(
                    "{} encrypted bytes, not a whole number of 8-byte blocks",
                    data.len()
                ),
            ));
        }
        let dk = self.derive(password);
        let (key, iv) = dk.split_at(8);
        let plain = match self.cipher {
            Cipher::Des => cbc::Decryptor::<des::Des>::new_from_slices(key, iv)
                .map_err(Error::internal)?
                .decrypt_padded_vec::<Pkcs7>(data),
            // An 8-byte key: RC2 with 64 effective key bits, as PBES1 specifies.
            Cipher::Rc2 => cbc::Decryptor::<rc2::Rc2>::new_from_slices(key, iv)
                .map_err(Error::internal)?
                .decrypt_padded_vec::<Pkcs7>(data),
        };
        Ok(plain.ok().map(Zeroizing::new))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::{Decode, Encode};

    fn alg(oid: &str, salt: &[u8], iterations: u64) -> Vec<u8> {
        #[derive(der::Sequence)]
        struct Params {
            salt: der::asn1::OctetString,
            iterations: u64,
        }
        let params = Params {
            salt: der::asn1::OctetString::new(salt.to_vec()).unwrap(),
            iterations,
        }
        .to_der()
        .unwrap();
        spki::AlgorithmIdentifierOwned {
            oid: oid.parse().unwrap(),
            parameters: Some(der::Any::from_der(&params).unwrap()),
        }
        .to_der()
        .unwrap()
    }

    fn parse(der: &[u8]) -> Result<Pbes1> {
        Pbes1::parse(
            AlgorithmIdentifierRef::from_der(der).unwrap(),
            &crate::kdf::Limits::with(10_000, 16 << 20),
        )
    }

    /// PBKDF1 with MD5 (RFC 8018 §5.1): T1 = MD5(P || S), then MD5 again c-1 times.
    #[test]
    fn pbkdf1_is_the_iterated_hash() {
        let p = parse(&alg("1.2.840.113549.1.5.3", &[7; 8], 3)).unwrap();
        let t1 = md5::Md5::new()
            .chain_update(b"pw")
            .chain_update([7u8; 8])
            .finalize();
        let t3 = md5::Md5::digest(md5::Md5::digest(t1));
        assert_eq!(p.derive(b"pw").as_slice(), t3.as_slice());
        assert_eq!(p.describe(), "PBES1 (pbeWithMD5AndDES-CBC, 3 iterations)");
    }

    #[test]
    fn hostile_or_odd_parameters_are_refused() {
        let err = parse(&alg("1.2.840.113549.1.5.10", &[1; 8], 20_000)).unwrap_err();
        assert!(matches!(err, Error::KdfLimit(_)), "{err}");
        assert!(err.to_string().contains("20000 iterations"), "{err}");
        let err = parse(&alg("1.2.840.113549.1.5.10", &[1; 8], 0)).unwrap_err();
        assert!(matches!(err, Error::Corrupt { .. }), "{err}");
        let err = parse(&alg("1.2.840.113549.1.5.10", &[1; 16], 1)).unwrap_err();
        assert!(err.to_string().contains("16-byte salt"), "{err}");
        let err = parse(&alg("1.2.840.113549.1.5.1", &[1; 8], 1)).unwrap_err();
        assert!(err.to_string().contains("pbeWithMD2AndDES-CBC"), "{err}");
        let p = parse(&alg("1.2.840.113549.1.5.11", &[1; 8], 1)).unwrap();
        assert!(p.decrypt(b"pw", &[0; 7]).is_err());
    }
}
