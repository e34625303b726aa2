//! The PKCS#12 integrity MAC (RFC 7292 §5): HMAC over the authenticated safe, keyed by
//! the PKCS#12 KDF (ID 3) with the MAC's own hash and the password as a BMPString.

use der::asn1::ObjectIdentifier;
use hmac::Mac;
use hmac::digest::block_api::BlockSizeUser;
use hmac::digest::{Digest, FixedOutputReset, KeyInit, OutputSizeUser};
use pkcs12::kdf::{self, Pkcs12KeyType};
use zeroize::Zeroizing;

use super::pbe::{PasswordForms, check_iterations, check_salt};
use crate::error::Input;
use crate::{Error, Result};

/// OID `PBMAC1` (RFC 8018 / RFC 9579), the MAC OpenSSL 3.4+ writes with `-pbmac1_pbkdf2`.
const PBMAC1_OID: &str = "1.2.840.113549.1.5.14";

/// The hash of a PKCS#12 MAC (HMAC keyed by the PKCS#12 KDF with the same hash).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MacAlg {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    Sha512_224,
    Sha512_256,
}

impl MacAlg {
    const TABLE: [(MacAlg, &'static str, &'static str); 7] = [
        (MacAlg::Sha1, "1.3.14.3.2.26", "HMAC-SHA1"),
        (MacAlg::Sha224, "2.16.840.1.101.3.4.2.4", "HMAC-SHA224"),
        (MacAlg::Sha256, "2.16.840.1.101.3.4.2.1", "HMAC-SHA256"),
        (MacAlg::Sha384, "2.16.840.1.101.3.4.2.2", "HMAC-SHA384"),
        (MacAlg::Sha512, "2.16.840.1.101.3.4.2.3", "HMAC-SHA512"),
        (
            MacAlg::Sha512_224,
            "2.16.840.1.101.3.4.2.5",
            "HMAC-SHA512/224",
        ),
        (
            MacAlg::Sha512_256,
            "2.16.840.1.101.3.4.2.6",
            "HMAC-SHA512/256",
        ),
    ];

    /// The MAC's digest algorithm, or an `Unsupported` error naming it.
    pub(crate) fn from_oid(oid: &ObjectIdentifier) -> Result<Self> {
        let s = oid.to_string();
        if let Some((alg, _, _)) = Self::TABLE.iter().find(|(_, o, _)| *o == s) {
            return Ok(*alg);
        }
        let name = match s.as_str() {
            PBMAC1_OID => "PBMAC1 (RFC 9579, written by OpenSSL 3.4+ with -pbmac1_pbkdf2)".into(),
            "1.2.840.113549.2.5" => "MD5".into(),
            "1.2.840.113549.2.2" => "MD2".into(),
            "1.2.643.7.1.1.2.2" | "1.2.643.7.1.1.2.3" => "GOST R 34.11-2012".into(),
            other => format!("digest OID {other}"),
        };
        Err(Error::unsupported(Input::Pkcs12MacAlgorithm, name))
    }

    pub(crate) fn oid(self) -> ObjectIdentifier {
        let s = Self::TABLE
            .iter()
            .find(|(a, _, _)| *a == self)
            .map(|(_, o, _)| *o)
            .unwrap_or("1.3.14.3.2.26");
        ObjectIdentifier::new_unwrap(s)
    }

    pub(crate) fn name(self) -> &'static str {
        Self::TABLE
            .iter()
            .find(|(a, _, _)| *a == self)
            .map(|(_, _, n)| *n)
            .unwrap_or("HMAC-?")
    }

    /// HMAC over `data`, keyed from `pass` (a PKCS#12 BMP password form) and `salt`.
    pub(crate) fn compute(
        self,
        pass: &[u8],
        salt: &[u8],
        iterations: u32,
        data: &[u8],
    ) -> Result<Vec<u8>> {
        match self {
            MacAlg::Sha1 => hmac_pkcs12::<sha1::Sha1>(pass, salt, iterations, data),
            MacAlg::Sha224 => hmac_pkcs12::<sha2::Sha224>(pass, salt, iterations, data),
            MacAlg::Sha256 => hmac_pkcs12::<sha2::Sha256>(pass, salt, iterations, data),
            MacAlg::Sha384 => hmac_pkcs12::<sha2::Sha384>(pass, salt, iterations, data),
            MacAlg::Sha512 => hmac_pkcs12::<sha2::Sha512>(pass, salt, iterations, data),
            MacAlg::Sha512_224 => hmac_pkcs12::<sha2::Sha512_224>(pass, salt, iterations, data),
            MacAlg::Sha512_256 => hmac_pkcs12::<sha2::Sha512_256>(pass, salt, iterations, data),
        }
    }
}

fn hmac_pkcs12<D>(pass: &[u8], salt: &[u8], iterations: u32, data: &[u8]) -> Result<Vec<u8>>
where
    D: Digest + FixedOutputReset + BlockSizeUser + hmac::EagerHash,
{
    let rounds = i32::try_from(iterations).map_err(Error::internal)?;
    let key = Zeroizing::new(kdf::derive_key::<D>(
        pass,
        salt,
        Pkcs12KeyType::Mac,
        rounds,
        <D as OutputSizeUser>::output_size(),
    ));
    let mut mac = <hmac::Hmac<D> as KeyInit>::new_from_slice(&key).map_err(Error::internal)?;
    mac.update(data);
    Ok(mac.finalize().into_bytes().to_vec())
}

/// The MAC parameters of a file, checked.
pub(crate) struct MacParams<'a> {
    pub alg: MacAlg,
    pub salt: &'a [u8],
    pub iterations: u32,
    pub digest: &'a [u8],
}

impl<'a> MacParams<'a> {
    pub(crate) fn new(
        oid: &ObjectIdentifier,
        salt: &'a [u8],
        iterations: u64,
        digest: &'a [u8],
    ) -> Result<Self> {
        let alg = MacAlg::from_oid(oid)?;
        check_salt(Input::Mac, salt)?;
        let iterations = check_iterations(Input::Mac, iterations)?;
        Ok(MacParams {
            alg,
            salt,
            iterations,
            digest,
        })
    }

    /// Which of the password's PKCS#12 forms verifies the MAC, if any.
    pub(crate) fn verify(&self, forms: &PasswordForms, data: &[u8]) -> Result<Option<usize>> {
        for (i, pass) in forms.bmp.iter().enumerate() {
            let mac = self.alg.compute(pass, self.salt, self.iterations, data)?;
            if ct_eq(&mac, self.digest) {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_names_round_trip() {
        for (alg, oid, name) in MacAlg::TABLE {
            assert_eq!(alg.oid().to_string(), oid);
            assert_eq!(alg.name(), name);
            assert_eq!(MacAlg::from_oid(&alg.oid()).unwrap(), alg);
        }
    }

    #[test]
    fn pbmac1_is_named() {
        let mac = MacAlg::from_oid(&ObjectIdentifier::new_unwrap(PBMAC1_OID)).unwrap_err();
        assert!(mac.to_string().contains("PBMAC1"), "{mac}");
    }
}
