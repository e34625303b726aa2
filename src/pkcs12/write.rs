//! Writing PKCS#12 files in OpenSSL's layout:
//!
//! ```text
//! PFX v3
//!   authSafe (id-data) = AuthenticatedSafe [
//!     id-encryptedData (certificate profile's scheme):
//!       certBag(leaf)  friendlyName=ALIAS, localKeyID=SHA-1(leaf DER)
//!       certBag(CA)... (no attributes)
//!     id-data:
//!       pkcs8ShroudedKeyBag (key profile's scheme)  friendlyName=ALIAS, localKeyID=SHA-1(leaf DER)
//!   ]
//!   macData: HMAC over the AuthenticatedSafe, key from the PKCS#12 KDF
//! ```
//!
//! which is what `openssl pkcs12 -export -name ALIAS` writes, with the alias on both
//! bags. Every file is read back and compared with its inputs before it is returned.

use cms::cert::x509::attr::{Attribute, Attributes};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::encrypted_data::EncryptedData;
use cms::enveloped_data::EncryptedContentInfo;
use der::asn1::{Any, BmpString, OctetString, SetOfVec};
use der::{Decode, Encode};
use pkcs12::pbe_params::EncryptedPrivateKeyInfo;
use pkcs12::pfx::{Pfx, Version};
use pkcs12::safe_bag::SafeBag;
use pkcs12::{CertBag, DigestInfo, MacData};
use rsa::rand_core::TryCryptoRng;
use sha1::{Digest, Sha1};
use spki::AlgorithmIdentifierOwned;

use super::Profile;
use super::mac::MacAlg;
use super::pbe::{PasswordForms, Pkcs12Cipher, Scheme};
use crate::error::Input;
use crate::key::RsaKey;
use crate::{Error, Password, Result};

/// Fewest KDF iterations certmint writes (OpenSSL 3's default).
pub const MIN_WRITE_ITERATIONS: u32 = 2048;
/// Most KDF iterations certmint writes: readers cap what they accept (Java at
/// 5,000,000, the `p12-keystore` crate at 1,000,000).
pub const MAX_WRITE_ITERATIONS: u32 = 1_000_000;

const ID_DATA: &str = "1.2.840.113549.1.7.1";
const ID_ENCRYPTED_DATA: &str = "1.2.840.113549.1.7.6";
const FRIENDLY_NAME: &str = "1.2.840.113549.1.9.20";
const LOCAL_KEY_ID: &str = "1.2.840.113549.1.9.21";
const SALT_LEN: usize = 16;

/// How to write a file: the profile and its iteration counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteOptions {
    /// The algorithms.
    pub profile: Profile,
    /// Iterations of the KDF that encrypts the key and the certificates.
    pub iterations: u32,
    /// Iterations of the PKCS#12 KDF that keys the MAC.
    pub mac_iterations: u32,
}

impl WriteOptions {
    /// The profile with its default iteration counts.
    pub fn new(profile: Profile) -> Self {
        let (iterations, mac_iterations) = profile.default_iterations();
        WriteOptions {
            profile,
            iterations,
            mac_iterations,
        }
    }

    fn check(&self) -> Result<()> {
        for (what, n) in [
            ("iterations", self.iterations),
            ("MAC iterations", self.mac_iterations),
        ] {
            if !(MIN_WRITE_ITERATIONS..=MAX_WRITE_ITERATIONS).contains(&n) {
                return Err(Error::invalid(
                    Input::Pkcs12IterationCount,
                    format!("{what} {n}; use {MIN_WRITE_ITERATIONS} to {MAX_WRITE_ITERATIONS}"),
                ));
            }
        }
        Ok(())
    }
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions::new(Profile::default())
    }
}

/// Write `key` and `chain` (DER certificates, the key's own first) as a PKCS#12 file
/// protected by `password`, with `alias` as the friendly name of the key and of its
/// certificate. Salts and IVs come from the operating system's RNG. The file is read
/// back and checked before it is returned.
pub fn write(
    key: &RsaKey,
    chain: &[Vec<u8>],
    alias: &str,
    password: &Password,
    profile: Profile,
) -> Result<Vec<u8>> {
    write_with_rng(
        key,
        chain,
        alias,
        password,
        &WriteOptions::new(profile),
        &mut getrandom::SysRng,
    )
}

/// [`write()`] with explicit iteration counts and RNG (for deterministic tests).
pub fn write_with_rng<R>(
    key: &RsaKey,
    chain: &[Vec<u8>],
    alias: &str,
    password: &Password,
    options: &WriteOptions,
    rng: &mut R,
) -> Result<Vec<u8>>
where
    R: TryCryptoRng + ?Sized,
{
    options.check()?;
    check_alias(alias)?;
    if password.is_empty() {
        return Err(Error::invalid(
            Input::Password,
            "a PKCS#12 file needs a non-empty password (Java and Windows refuse empty ones)",
        ));
    }
    let leaf = chain.first().ok_or_else(|| {
        Error::invalid(
            Input::CertificateChain,
            "it is empty; the key's certificate is needed",
        )
    })?;
    for cert in chain {
        crate::x509::parse_der(cert)?;
    }
    let leaf_info = crate::x509::parse_der(leaf)?;
    if !key.matches_spki(&leaf_info.spki) {
        return Err(Error::KeyMismatch(Input::Certificate));
    }

    let der_bytes = encode(key, chain, alias, password, options, rng)?;
    verify(&der_bytes, key, chain, alias, password)?;
    Ok(der_bytes)
}

fn check_alias(alias: &str) -> Result<()> {
    if alias.is_empty() {
        return Err(Error::invalid(Input::Alias, "it is empty"));
    }
    if alias.chars().any(|c| c.is_control()) {
        return Err(Error::invalid(
            Input::Alias,
            "it contains control characters",
        ));
    }
    if alias.chars().count() > 256 {
        return Err(Error::invalid(
            Input::Alias,
            "it is longer than 256 characters",
        ));
    }
    if alias.chars().any(|c| u32::from(c) > 0xFFFF) {
        return Err(Error::invalid(
            Input::Alias,
            "it contains characters outside the Basic Multilingual Plane, which a BMPString friendlyName cannot hold",
        ));
    }
    Ok(())
}

fn fill<R: TryCryptoRng + ?Sized, const N: usize>(rng: &mut R) -> Result<[u8; N]> {
    let mut b = [0u8; N];
    rng.try_fill_bytes(&mut b)
        .map_err(|e| Error::internal(format!("random number generator: {e}")))?;
    Ok(b)
}

fn new_scheme<R: TryCryptoRng + ?Sized>(
    cipher: Option<Pkcs12Cipher>,
    iterations: u32,
    rng: &mut R,
) -> Result<Scheme> {
    let salt: [u8; SALT_LEN] = fill(rng)?;
    Ok(match cipher {
        Some(cipher) => Scheme::Pkcs12 {
            cipher,
            salt: salt.to_vec(),
            iterations,
        },
        None => {
            let iv: [u8; 16] = fill(rng)?;
            Scheme::Pbes2(
                pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(iterations, &salt, iv)
                    .map_err(Error::internal)?,
            )
        }
    })
}

fn oid(s: &str) -> Result<der::asn1::ObjectIdentifier> {
    der::asn1::ObjectIdentifier::new(s).map_err(Error::internal)
}

fn any<T: Encode>(value: &T) -> Result<Any> {
    Any::from_der(&value.to_der().map_err(Error::internal)?).map_err(Error::internal)
}

/// `friendlyName` (BMPString) and `localKeyID` (OCTET STRING) attributes.
fn attributes(alias: &str, local_key_id: &[u8]) -> Result<Attributes> {
    let name = BmpString::from_utf8(alias).map_err(|e| Error::invalid(Input::Alias, e))?;
    let id = OctetString::new(local_key_id).map_err(Error::internal)?;
    let mut attrs = Attributes::new();
    for (o, v) in [(FRIENDLY_NAME, any(&name)?), (LOCAL_KEY_ID, any(&id)?)] {
        let values = SetOfVec::try_from(vec![v]).map_err(Error::internal)?;
        attrs
            .insert(Attribute {
                oid: oid(o)?,
                values,
            })
            .map_err(Error::internal)?;
    }
    Ok(attrs)
}

fn encode<R: TryCryptoRng + ?Sized>(
    key: &RsaKey,
    chain: &[Vec<u8>],
    alias: &str,
    password: &Password,
    options: &WriteOptions,
    rng: &mut R,
) -> Result<Vec<u8>> {
    let forms = PasswordForms::new(password);
    let (key_cipher, cert_cipher, mac_alg) = match options.profile {
        Profile::Modern => (None, None, MacAlg::Sha256),
        Profile::Java8 => (
            Some(Pkcs12Cipher::DesEde3),
            Some(Pkcs12Cipher::DesEde3),
            MacAlg::Sha1,
        ),
        Profile::Legacy => (
            Some(Pkcs12Cipher::DesEde3),
            Some(Pkcs12Cipher::Rc2_40),
            MacAlg::Sha1,
        ),
    };
    let local_key_id = Sha1::digest(&chain[0]).to_vec();

    // Certificates, encrypted as a whole.
    let mut cert_bags = Vec::with_capacity(chain.len());
    for (i, cert) in chain.iter().enumerate() {
        let bag = CertBag {
            cert_id: pkcs12::PKCS_12_X509_CERT_OID,
            cert_value: OctetString::new(cert.as_slice()).map_err(Error::internal)?,
        };
        cert_bags.push(SafeBag {
            bag_id: pkcs12::PKCS_12_CERT_BAG_OID,
            bag_value: bag.to_der().map_err(Error::internal)?,
            bag_attributes: if i == 0 {
                Some(attributes(alias, &local_key_id)?)
            } else {
                None
            },
        });
    }
    let cert_scheme = new_scheme(cert_cipher, options.iterations, rng)?;
    let cert_plain = cert_bags.to_der().map_err(Error::internal)?;
    let cert_ciphertext = cert_scheme.encrypt(&forms, &cert_plain)?;
    let cert_safe = ContentInfo {
        content_type: oid(ID_ENCRYPTED_DATA)?,
        content: any(&EncryptedData {
            version: CmsVersion::V0,
            enc_content_info: EncryptedContentInfo {
                content_type: oid(ID_DATA)?,
                content_enc_alg: cert_scheme.algorithm_identifier()?,
                encrypted_content: Some(
                    OctetString::new(cert_ciphertext).map_err(Error::internal)?,
                ),
            },
            unprotected_attrs: None,
        })?,
    };

    // The key, encrypted in its bag, in a plain safe.
    let key_scheme = new_scheme(key_cipher, options.iterations, rng)?;
    let key_ciphertext = key_scheme.encrypt(&forms, key.pkcs8_der().expose())?;
    let epki = EncryptedPrivateKeyInfo {
        encryption_algorithm: key_scheme.algorithm_identifier()?,
        encrypted_data: OctetString::new(key_ciphertext).map_err(Error::internal)?,
    };
    let key_bag = SafeBag {
        bag_id: pkcs12::PKCS_12_PKCS8_KEY_BAG_OID,
        bag_value: epki.to_der().map_err(Error::internal)?,
        bag_attributes: Some(attributes(alias, &local_key_id)?),
    };
    let key_contents = vec![key_bag].to_der().map_err(Error::internal)?;
    let key_safe = ContentInfo {
        content_type: oid(ID_DATA)?,
        content: any(&OctetString::new(key_contents).map_err(Error::internal)?)?,
    };

    // The authenticated safe and its MAC.
    let auth_safe = vec![cert_safe, key_safe]
        .to_der()
        .map_err(Error::internal)?;
    let mac_salt: [u8; SALT_LEN] = fill(rng)?;
    let mac = mac_alg.compute(
        forms.standard_bmp(),
        &mac_salt,
        options.mac_iterations,
        &auth_safe,
    )?;
    let pfx = Pfx {
        version: Version::V3,
        auth_safe: ContentInfo {
            content_type: oid(ID_DATA)?,
            content: any(&OctetString::new(auth_safe).map_err(Error::internal)?)?,
        },
        mac_data: Some(MacData {
            mac: DigestInfo {
                // OpenSSL and Java write the digest's parameters as NULL.
                algorithm: AlgorithmIdentifierOwned {
                    oid: mac_alg.oid(),
                    parameters: Some(Any::null()),
                },
                digest: OctetString::new(mac).map_err(Error::internal)?,
            },
            mac_salt: OctetString::new(mac_salt.as_slice()).map_err(Error::internal)?,
            iterations: i32::try_from(options.mac_iterations).map_err(Error::internal)?,
        }),
    };
    pfx.to_der().map_err(Error::internal)
}

/// Read the file back and compare it with what was meant to be written.
fn verify(
    der_bytes: &[u8],
    key: &RsaKey,
    chain: &[Vec<u8>],
    alias: &str,
    password: &Password,
) -> Result<()> {
    let fail = |why: &str| {
        Error::internal(format!(
            "the PKCS#12 file just written does not read back: {why}"
        ))
    };
    let contents = super::read(der_bytes, password).map_err(|e| fail(&e.to_string()))?;
    let entry = contents
        .key_entry(Some(alias))
        .map_err(|e| fail(&e.to_string()))?;
    let read_key = entry.key.as_ref().ok_or_else(|| fail("no key"))?;
    if read_key.pkcs8_der() != key.pkcs8_der() {
        return Err(fail("the key differs"));
    }
    if entry.chain != chain {
        return Err(fail("the certificate chain differs"));
    }
    let leaf_named = contents
        .structure
        .safes
        .iter()
        .flat_map(|s| s.bags.iter().flatten())
        .any(|b| {
            b.kind == super::BagKind::Certificate && b.friendly_name.as_deref() == Some(alias)
        });
    if !leaf_named {
        return Err(fail("the certificate bag lacks the alias"));
    }
    Ok(())
}
