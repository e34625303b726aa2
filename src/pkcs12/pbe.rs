//! Password-based protection inside PKCS#12 files.
//!
//! - The PKCS#12 key-derivation function and password-based encryption schemes
//!   (RFC 7292 Appendix B and C): `pbeWithSHAAnd3-KeyTripleDES-CBC`,
//!   `pbeWithSHAAnd2-KeyTripleDES-CBC`, `pbeWithSHAAnd128BitRC2-CBC` and
//!   `pbeWithSHAAnd40BitRC2-CBC`. The password is a BMPString: UTF-16BE followed by two
//!   zero bytes (what Java and OpenSSL 1.1+ do; characters outside the BMP become
//!   surrogate pairs, as both of them encode them).
//! - PBES2 (RFC 8018 §6.2) through the `pkcs5` crate. The password is its UTF-8 bytes:
//!   OpenSSL passes the typed bytes and Java's PBKDF2 encodes its `char[]` as UTF-8.
//!
//! Every count, salt and length comes from an untrusted file, so each is bounded before
//! any work is done.

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{
    BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt, KeyInit, KeyIvInit,
};
use der::asn1::{ObjectIdentifier, OctetStringRef};
use der::{Decode, Encode};
use pkcs12::kdf::{self, Pkcs12KeyType};
use spki::{AlgorithmIdentifierOwned, AlgorithmIdentifierRef};
use zeroize::Zeroizing;

use super::Protection;
use crate::error::Input;
use crate::{Error, Password, Result};

/// Highest iteration count certmint runs by default for any KDF read from a file (PBKDF2,
/// the PKCS#12 KDF for encryption and for the MAC): [`crate::kdf::DEFAULT_MAX_ITERATIONS`].
/// Java refuses more than 5,000,000. The limit in force is [`crate::kdf::limits`].
pub const MAX_ITERATIONS: u32 = crate::kdf::DEFAULT_MAX_ITERATIONS;
/// Most key-derivation work one read of one file may run in all by default: the MAC,
/// every encrypted safe and every key, for every password form tried
/// ([`crate::kdf::Limits::budget`]). Each KDF is bounded by [`MAX_ITERATIONS`], but a
/// hostile file could hold hundreds of them; real files need well under a million
/// (keytool's legacy profile: about 900,000 with a non-ASCII password).
pub const MAX_TOTAL_ITERATIONS: u64 = crate::kdf::Limits::DEFAULT.budget;

/// What a read may still spend on key derivation (see [`MAX_TOTAL_ITERATIONS`]); each
/// spend is charged to the command budget too ([`crate::kdf::charge`]).
pub(crate) struct Budget {
    left: std::cell::Cell<u64>,
    total: u64,
}

impl Budget {
    pub(crate) fn new() -> Self {
        let total = crate::kdf::limits().budget;
        Budget {
            left: std::cell::Cell::new(total),
            total,
        }
    }

    /// Take `cost` work units, or refuse the file when they run out.
    pub(crate) fn spend(&self, cost: u64) -> Result<()> {
        let left = self
            .left
            .get()
            .checked_sub(cost)
            .ok_or_else(|| self.over(cost))?;
        crate::kdf::charge(cost)?;
        self.left.set(left);
        Ok(())
    }

    /// Refuse the file when `planned` work units would not fit, spending nothing.
    pub(crate) fn check_plan(&self, planned: u64) -> Result<()> {
        if planned > self.left.get() {
            return Err(self.over(planned));
        }
        crate::kdf::check_plan(planned)
    }

    fn over(&self, cost: u64) -> Error {
        let needed = (self.total - self.left.get()).saturating_add(cost);
        Error::KdfLimit(crate::kdf::Excess {
            what: Input::Pkcs12,
            kind: crate::kdf::LimitKind::FileBudget,
            needed,
            allowed: self.total,
            detail: format!("{needed} work units"),
        })
    }
}

/// Longest salt accepted from a file (real files use 8 to 32 bytes).
pub const MAX_SALT_LEN: usize = 1024;

/// OID `pbes2` (1.2.840.113549.1.5.13).
pub(super) const PBES2_OID: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.13");

/// The password in the byte forms the two KDF families use.
pub(crate) struct PasswordForms {
    /// PBES2: UTF-8.
    pub utf8: Zeroizing<Vec<u8>>,
    /// PKCS#12 KDF candidates, most likely first: UTF-16BE plus two zero bytes (RFC 7292,
    /// Java, OpenSSL 1.1+); for the empty password also no bytes at all (OpenSSL's NULL
    /// password); for a non-ASCII password also each UTF-8 byte widened to 16 bits
    /// (OpenSSL 1.0's `asc2uni`) and each UTF-8 byte masked to 7 bits and widened (what
    /// Java 25 derives its PKCS#12 PBE keys from, while keying the MAC with the standard
    /// form: measured with Temurin 25.0.3 `keytool -J-Dkeystore.pkcs12.legacy`). Only
    /// the first is ever written.
    pub bmp: Vec<Zeroizing<Vec<u8>>>,
}

impl PasswordForms {
    pub(crate) fn new(password: &Password) -> Self {
        let mut bmp = vec![bmp_password(password.expose())];
        if password.is_empty() {
            bmp.push(Zeroizing::new(Vec::new()));
        }
        if !password.expose().is_ascii() {
            let mut widened = Zeroizing::new(Vec::with_capacity(password.as_bytes().len() * 2 + 2));
            for &b in password.as_bytes() {
                widened.extend_from_slice(&[0, b]);
            }
            widened.extend_from_slice(&[0, 0]);
            bmp.push(widened);
            let mut masked = Zeroizing::new(Vec::with_capacity(password.as_bytes().len() * 2 + 2));
            for &b in password.as_bytes() {
                masked.extend_from_slice(&[0, b & 0x7F]);
            }
            masked.extend_from_slice(&[0, 0]);
            bmp.push(masked);
        }
        PasswordForms {
            utf8: Zeroizing::new(password.as_bytes().to_vec()),
            bmp,
        }
    }

    /// The standard PKCS#12 form (what certmint writes).
    pub(crate) fn standard_bmp(&self) -> &[u8] {
        self.bmp.first().map(|v| v.as_slice()).unwrap_or(&[0, 0])
    }

    /// Try the form the MAC proved right first. The others stay: Java 25 keys the MAC
    /// with the standard form but derives PKCS#12 PBE keys from another one when the
    /// password is not ASCII.
    pub(crate) fn prefer_bmp(&mut self, index: usize) {
        if index < self.bmp.len() {
            let chosen = self.bmp.remove(index);
            self.bmp.insert(0, chosen);
        }
    }
}

/// UTF-16BE with a two-byte zero terminator (RFC 7292 Appendix B.1).
pub(crate) fn bmp_password(password: &str) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(password.len() * 2 + 2));
    for unit in password.encode_utf16() {
        out.extend_from_slice(&unit.to_be_bytes());
    }
    out.extend_from_slice(&[0, 0]);
    out
}

/// An iteration count from the file, within the limit in force ([`crate::kdf`]).
pub(crate) fn check_iterations(what: Input, iterations: u64) -> Result<u32> {
    crate::kdf::limits().check_iterations(what, iterations)
}

pub(crate) fn check_salt(what: Input, salt: &[u8]) -> Result<()> {
    if salt.len() > MAX_SALT_LEN {
        return Err(Error::unsupported(
            Input::Pkcs12Parameters,
            format!(
                "a {}-byte salt in the {what} (certmint accepts at most {MAX_SALT_LEN})",
                salt.len()
            ),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Encryption schemes
// ---------------------------------------------------------------------------------------

/// The PKCS#12 PBE ciphers (RFC 7292 Appendix C), all with SHA-1 in the KDF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pkcs12Cipher {
    /// `pbeWithSHAAnd3-KeyTripleDES-CBC` (1.2.840.113549.1.12.1.3).
    DesEde3,
    /// `pbeWithSHAAnd2-KeyTripleDES-CBC` (1.2.840.113549.1.12.1.4).
    DesEde2,
    /// `pbeWithSHAAnd128BitRC2-CBC` (1.2.840.113549.1.12.1.5).
    Rc2_128,
    /// `pbeWithSHAAnd40BitRC2-CBC` (1.2.840.113549.1.12.1.6).
    Rc2_40,
}

impl Pkcs12Cipher {
    fn from_oid(s: &str) -> Option<Self> {
        Some(match s {
            "1.2.840.113549.1.12.1.3" => Pkcs12Cipher::DesEde3,
            "1.2.840.113549.1.12.1.4" => Pkcs12Cipher::DesEde2,
            "1.2.840.113549.1.12.1.5" => Pkcs12Cipher::Rc2_128,
            "1.2.840.113549.1.12.1.6" => Pkcs12Cipher::Rc2_40,
            _ => return None,
        })
    }

    pub(crate) fn oid(self) -> ObjectIdentifier {
        match self {
            Pkcs12Cipher::DesEde3 => pkcs12::PKCS_12_PBE_WITH_SHAAND3_KEY_TRIPLE_DES_CBC,
            Pkcs12Cipher::DesEde2 => pkcs12::PKCS_12_PBE_WITH_SHAAND2_KEY_TRIPLE_DES_CBC,
            Pkcs12Cipher::Rc2_128 => pkcs12::PKCS_12_PBE_WITH_SHAAND128_BIT_RC2_CBC,
            Pkcs12Cipher::Rc2_40 => pkcs12::PKCS_12_PBEWITH_SHAAND40_BIT_RC2_CBC,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Pkcs12Cipher::DesEde3 => "pbeWithSHAAnd3-KeyTripleDES-CBC",
            Pkcs12Cipher::DesEde2 => "pbeWithSHAAnd2-KeyTripleDES-CBC",
            Pkcs12Cipher::Rc2_128 => "pbeWithSHAAnd128BitRC2-CBC",
            Pkcs12Cipher::Rc2_40 => "pbeWithSHAAnd40BitRC2-CBC",
        }
    }

    fn key_len(self) -> usize {
        match self {
            Pkcs12Cipher::DesEde3 => 24,
            Pkcs12Cipher::DesEde2 => 16,
            Pkcs12Cipher::Rc2_128 => 16,
            Pkcs12Cipher::Rc2_40 => 5,
        }
    }

    /// RC2 and single DES need OpenSSL 3's legacy provider.
    pub(crate) fn needs_openssl_legacy(self) -> bool {
        matches!(self, Pkcs12Cipher::Rc2_128 | Pkcs12Cipher::Rc2_40)
    }
}

/// A password-based encryption scheme found in (or chosen for) a PKCS#12 file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// PKCS#12 PBE (RFC 7292 Appendix C).
    Pkcs12 {
        cipher: Pkcs12Cipher,
        salt: Vec<u8>,
        iterations: u32,
    },
    /// PBES2 (RFC 8018 §6.2).
    Pbes2(pkcs5::pbes2::Parameters),
}

/// `pkcs-12PbeParams ::= SEQUENCE { salt OCTET STRING, iterations INTEGER }`.
#[derive(der::Sequence)]
struct Pkcs12PbeParamsRef<'a> {
    salt: &'a OctetStringRef,
    iterations: u64,
}

/// `PBES2-params` with both parts left undecoded, to name what `pkcs5` does not support.
#[derive(der::Sequence)]
struct Pbes2Shape<'a> {
    kdf: AlgorithmIdentifierRef<'a>,
    enc: AlgorithmIdentifierRef<'a>,
}

fn cipher_oid_name(oid: &str) -> String {
    match oid {
        "1.3.14.3.2.7" => "DES-CBC (single DES)".into(),
        "1.2.840.113549.3.2" => "RC2-CBC".into(),
        "1.2.840.113549.3.7" => "DES-EDE3-CBC".into(),
        "1.2.392.200011.61.1.1.1.2" | "1.2.392.200011.61.1.1.1.3" | "1.2.392.200011.61.1.1.1.4" => {
            "Camellia-CBC".into()
        }
        "1.2.410.200004.1.4" => "SEED-CBC".into(),
        "1.3.6.1.4.1.3029.1.1.2" => "Blowfish-CBC".into(),
        "1.2.840.113549.3.4" => "RC4".into(),
        other => format!("cipher OID {other}"),
    }
}

fn prf_oid_name(oid: &str) -> String {
    match oid {
        "1.2.840.113549.2.7" => "HMAC-SHA1".into(),
        "1.2.840.113549.2.8" => "HMAC-SHA224".into(),
        "1.2.840.113549.2.9" => "HMAC-SHA256".into(),
        "1.2.840.113549.2.10" => "HMAC-SHA384".into(),
        "1.2.840.113549.2.11" => "HMAC-SHA512".into(),
        "1.2.643.7.1.1.4.1" | "1.2.643.7.1.1.4.2" => "HMAC-GOST".into(),
        other => format!("PRF OID {other}"),
    }
}

/// Name a PBES2 combination `pkcs5` could not decode.
fn name_pbes2(params: Option<der::AnyRef<'_>>) -> String {
    let shape = params.and_then(|p| p.to_der().ok()).and_then(|d| {
        Pbes2Shape::from_der(&d).ok().map(|s| {
            (
                s.kdf.oid.to_string(),
                s.enc.oid.to_string(),
                s.kdf.parameters.and_then(|p| p.to_der().ok()),
            )
        })
    });
    let Some((kdf, enc, kdf_params)) = shape else {
        return "PBES2 with parameters certmint cannot decode".into();
    };
    let kdf_name = match kdf.as_str() {
        "1.2.840.113549.1.5.12" => {
            // PBKDF2-params: salt, iterations, keyLength?, prf?; find the PRF OID if any.
            #[derive(der::Sequence)]
            struct Pbkdf2Shape<'a> {
                salt: der::AnyRef<'a>,
                iterations: der::AnyRef<'a>,
                key_length: Option<u64>,
                prf: Option<AlgorithmIdentifierRef<'a>>,
            }
            let prf = kdf_params
                .and_then(|d| {
                    Pbkdf2Shape::from_der(&d)
                        .ok()
                        .map(|s| s.prf.map(|p| p.oid.to_string()))
                })
                .flatten()
                .unwrap_or_else(|| "1.2.840.113549.2.7".into());
            format!("PBKDF2-{}", prf_oid_name(&prf))
        }
        "1.3.6.1.4.1.11591.4.11" => "scrypt".into(),
        other => format!("KDF OID {other}"),
    };
    format!("PBES2 with {kdf_name} and {}", cipher_oid_name(&enc))
}

/// Name an encryption OID certmint does not run.
fn name_unsupported(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.12.1.1" => "pbeWithSHAAnd128BitRC4 (PKCS#12 PBE with RC4)".into(),
        "1.2.840.113549.1.12.1.2" => "pbeWithSHAAnd40BitRC4 (PKCS#12 PBE with RC4)".into(),
        "1.2.840.113549.1.5.1" => "pbeWithMD2AndDES-CBC (PBES1)".into(),
        "1.2.840.113549.1.5.4" => "pbeWithMD2AndRC2-CBC (PBES1)".into(),
        "1.2.840.113549.1.5.3" => "pbeWithMD5AndDES-CBC (PBES1)".into(),
        "1.2.840.113549.1.5.6" => "pbeWithMD5AndRC2-CBC (PBES1)".into(),
        "1.2.840.113549.1.5.10" => "pbeWithSHA1AndDES-CBC (PBES1)".into(),
        "1.2.840.113549.1.5.11" => "pbeWithSHA1AndRC2-CBC (PBES1)".into(),
        other => format!("encryption OID {other}"),
    }
}

impl Scheme {
    /// Decode and check an `AlgorithmIdentifier` from a file. Algorithms certmint does not
    /// run are `Unsupported` errors that name them; malformed parameters are `Corrupt`.
    pub(crate) fn parse(alg: AlgorithmIdentifierRef<'_>, what: Input) -> Result<Self> {
        let oid = alg.oid.to_string();
        if let Some(cipher) = Pkcs12Cipher::from_oid(&oid) {
            let params = alg.parameters.ok_or_else(|| {
                Error::corrupt(what, format!("{} without parameters", cipher.name()))
            })?;
            let p: Pkcs12PbeParamsRef<'_> = params
                .decode_as()
                .map_err(|e| Error::corrupt(what, format!("{} parameters: {e}", cipher.name())))?;
            check_salt(what, p.salt.as_bytes())?;
            let iterations = check_iterations(what, p.iterations)?;
            return Ok(Scheme::Pkcs12 {
                cipher,
                salt: p.salt.as_bytes().to_vec(),
                iterations,
            });
        }
        if alg.oid == PBES2_OID {
            let der_params = alg
                .parameters
                .ok_or_else(|| Error::corrupt(what, "PBES2 without parameters"))?
                .to_der()
                .map_err(|e| Error::corrupt(what, e))?;
            let params = pkcs5::pbes2::Parameters::from_der(&der_params).map_err(|_| {
                Error::unsupported(Input::Pkcs12Encryption, name_pbes2(alg.parameters))
            })?;
            match &params.kdf {
                pkcs5::pbes2::Kdf::Pbkdf2(p) => {
                    check_salt(what, p.salt.as_ref())?;
                    check_iterations(what, u64::from(p.iteration_count))?;
                }
                pkcs5::pbes2::Kdf::Scrypt(s) => {
                    crate::key::check_scrypt(s, Input::Pkcs12Parameters)?;
                }
                _ => {
                    return Err(Error::unsupported(
                        Input::Pkcs12Encryption,
                        name_pbes2(alg.parameters),
                    ));
                }
            }
            return Ok(Scheme::Pbes2(params));
        }
        Err(Error::unsupported(
            Input::Pkcs12Encryption,
            name_unsupported(&oid),
        ))
    }

    /// The key-derivation iterations [`Scheme::decrypt`] runs at most with `forms`.
    pub(crate) fn cost(&self, forms: &PasswordForms) -> u64 {
        match self {
            // A key and an IV derivation per password form.
            Scheme::Pkcs12 { iterations, .. } => crate::kdf::work(crate::kdf::Work::Pkcs12Kdf(
                2 * u64::from(*iterations) * forms.bmp.len() as u64,
            )),
            Scheme::Pbes2(p) => crate::key::pbes2_work(p),
        }
    }

    /// How the scheme reads in `inspect`, e.g. "PBES2 (PBKDF2-HMAC-SHA256, 10000
    /// iterations, AES-256-CBC)".
    pub(crate) fn describe(&self) -> String {
        match self {
            Scheme::Pkcs12 {
                cipher, iterations, ..
            } => format!("{} ({iterations} iterations)", cipher.name()),
            Scheme::Pbes2(p) => crate::key::describe_pbes2(p),
        }
    }

    /// Whether OpenSSL 3 needs `-legacy` for it.
    pub(crate) fn needs_openssl_legacy(&self) -> bool {
        match self {
            Scheme::Pkcs12 { cipher, .. } => cipher.needs_openssl_legacy(),
            // Single DES, readable since pkcs5's `des-insecure`.
            Scheme::Pbes2(p) => {
                matches!(p.encryption, pkcs5::pbes2::EncryptionScheme::DesCbc { .. })
            }
        }
    }

    /// Whether readers older than Java 8u301 / OpenSSL 1.1 fail on it.
    pub(crate) fn is_pbes2(&self) -> bool {
        matches!(self, Scheme::Pbes2(_))
    }

    /// The `AlgorithmIdentifier` to write.
    pub(crate) fn algorithm_identifier(&self) -> Result<AlgorithmIdentifierOwned> {
        let (oid, params) = match self {
            Scheme::Pkcs12 {
                cipher,
                salt,
                iterations,
            } => {
                let p = pkcs12::pbe_params::Pkcs12PbeParams {
                    salt: der::asn1::OctetString::new(salt.clone()).map_err(Error::internal)?,
                    iterations: i32::try_from(*iterations).map_err(Error::internal)?,
                };
                (cipher.oid(), p.to_der().map_err(Error::internal)?)
            }
            Scheme::Pbes2(p) => (PBES2_OID, p.to_der().map_err(Error::internal)?),
        };
        Ok(AlgorithmIdentifierOwned {
            oid,
            parameters: Some(der::Any::from_der(&params).map_err(Error::internal)?),
        })
    }

    /// Encrypt with the standard password forms.
    pub(crate) fn encrypt(&self, forms: &PasswordForms, plain: &[u8]) -> Result<Vec<u8>> {
        match self {
            Scheme::Pkcs12 {
                cipher,
                salt,
                iterations,
            } => pkcs12_crypt(
                *cipher,
                forms.standard_bmp(),
                salt,
                *iterations,
                plain,
                true,
            )
            .map(|z| z.to_vec())
            .ok_or_else(|| Error::internal("PKCS#12 PBE encryption failed")),
            Scheme::Pbes2(p) => p
                .encrypt(forms.utf8.as_slice(), plain)
                .map_err(Error::internal),
        }
    }

    /// Decrypt. `Ok(None)` means the padding did not check out: a wrong password (or
    /// altered bytes). `what` names the protected thing in errors.
    pub(crate) fn decrypt(
        &self,
        forms: &PasswordForms,
        data: &[u8],
        what: Input,
    ) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let block = match self {
            Scheme::Pkcs12 { .. } => 8,
            Scheme::Pbes2(p) => match p.encryption {
                pkcs5::pbes2::EncryptionScheme::DesEde3Cbc { .. }
                | pkcs5::pbes2::EncryptionScheme::DesCbc { .. } => 8,
                pkcs5::pbes2::EncryptionScheme::Aes128Gcm { .. }
                | pkcs5::pbes2::EncryptionScheme::Aes256Gcm { .. } => 1,
                _ => 16,
            },
        };
        if data.is_empty() || !data.len().is_multiple_of(block) {
            return Err(Error::corrupt(
                what,
                format!(
                    "{} encrypted bytes, not a whole number of {block}-byte blocks",
                    data.len()
                ),
            ));
        }
        match self {
            Scheme::Pkcs12 {
                cipher,
                salt,
                iterations,
            } => {
                // A wrong form passes the padding check one time in 256; only well-formed
                // DER (every protected thing here is a SEQUENCE) counts as decrypted.
                for pass in &forms.bmp {
                    if let Some(plain) = pkcs12_crypt(*cipher, pass, salt, *iterations, data, false)
                        && der::AnyRef::from_der(&plain).is_ok()
                    {
                        return Ok(Some(plain));
                    }
                }
                Ok(None)
            }
            Scheme::Pbes2(p) => match p.decrypt(forms.utf8.as_slice(), data) {
                Ok(plain) => Ok(Some(Zeroizing::new(plain))),
                Err(pkcs5::Error::DecryptFailed) => Ok(None),
                Err(pkcs5::Error::UnsupportedAlgorithm { oid }) => Err(Error::unsupported(
                    Input::Pkcs12Encryption,
                    format!("{} inside PBES2", prf_or_cipher_name(&oid.to_string())),
                )),
                Err(e) => Err(Error::corrupt(what, e)),
            },
        }
    }
}

fn prf_or_cipher_name(oid: &str) -> String {
    let prf = prf_oid_name(oid);
    if prf.starts_with("PRF OID") {
        cipher_oid_name(oid)
    } else {
        prf
    }
}

/// Describe any encryption `AlgorithmIdentifier`, supported or not (for `probe`).
pub(crate) fn protection(alg: AlgorithmIdentifierRef<'_>) -> Protection {
    match Scheme::parse(alg, Input::Pkcs12) {
        Ok(s) => Protection {
            description: s.describe(),
            pbes2: s.is_pbes2(),
            openssl_legacy: s.needs_openssl_legacy(),
            supported: true,
        },
        Err(e) => {
            let description = match e {
                Error::Unsupported { detail, .. } => format!("{detail} (unsupported)"),
                Error::KdfLimit(x) => format!("{} (over certmint's limit)", x.detail),
                other => format!("{} ({other})", alg.oid),
            };
            // RC2, RC4 and single DES live in OpenSSL 3's legacy provider; every PBES1
            // scheme uses one of them.
            let legacy_names = ["RC2", "RC4", "single DES", "PBES1", "Blowfish", "SEED"];
            Protection {
                openssl_legacy: legacy_names.iter().any(|n| description.contains(n)),
                pbes2: alg.oid == PBES2_OID,
                supported: false,
                description,
            }
        }
    }
}

/// PKCS#12 PBE: key and IV from the PKCS#12 KDF with SHA-1 (IDs 1 and 2), then CBC with
/// PKCS#7 padding. `None` when decryption finds bad padding.
fn pkcs12_crypt(
    cipher: Pkcs12Cipher,
    pass: &[u8],
    salt: &[u8],
    iterations: u32,
    data: &[u8],
    encrypt: bool,
) -> Option<Zeroizing<Vec<u8>>> {
    let rounds = i32::try_from(iterations).ok()?;
    let key = Zeroizing::new(kdf::derive_key::<sha1::Sha1>(
        pass,
        salt,
        Pkcs12KeyType::EncryptionKey,
        rounds,
        cipher.key_len(),
    ));
    let iv = kdf::derive_key::<sha1::Sha1>(pass, salt, Pkcs12KeyType::Iv, rounds, 8);
    match cipher {
        Pkcs12Cipher::DesEde3 => cbc_crypt::<des::TdesEde3>(&key, &iv, data, encrypt),
        Pkcs12Cipher::DesEde2 => cbc_crypt::<des::TdesEde2>(&key, &iv, data, encrypt),
        // RC2's effective key length is the key length in bits (40 or 128), which is what
        // `KeyInit::new_from_slice` sets.
        Pkcs12Cipher::Rc2_128 | Pkcs12Cipher::Rc2_40 => {
            cbc_crypt::<rc2::Rc2>(&key, &iv, data, encrypt)
        }
    }
}

fn cbc_crypt<C>(key: &[u8], iv: &[u8], data: &[u8], encrypt: bool) -> Option<Zeroizing<Vec<u8>>>
where
    C: KeyInit + BlockCipherEncrypt + BlockCipherDecrypt,
    cbc::Encryptor<C>: KeyIvInit + BlockModeEncrypt,
    cbc::Decryptor<C>: KeyIvInit + BlockModeDecrypt,
{
    if encrypt {
        let enc = cbc::Encryptor::<C>::new_from_slices(key, iv).ok()?;
        Some(Zeroizing::new(enc.encrypt_padded_vec::<Pkcs7>(data)))
    } else {
        let dec = cbc::Decryptor::<C>::new_from_slices(key, iv).ok()?;
        dec.decrypt_padded_vec::<Pkcs7>(data)
            .ok()
            .map(Zeroizing::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bmp_password_is_utf16be_with_terminator() {
        assert_eq!(*bmp_password("ab"), vec![0, b'a', 0, b'b', 0, 0]);
        assert_eq!(*bmp_password(""), vec![0, 0]);
        // é is U+00E9; € is U+20AC; 😀 is U+1F600, a surrogate pair D83D DE00.
        assert_eq!(*bmp_password("é€"), vec![0x00, 0xE9, 0x20, 0xAC, 0, 0]);
        assert_eq!(*bmp_password("😀"), vec![0xD8, 0x3D, 0xDE, 0x00, 0, 0]);
    }

    #[test]
    fn password_forms_cover_openssl_variants() {
        let f = PasswordForms::new(&Password::from(""));
        assert_eq!(f.bmp.len(), 2);
        assert!(f.bmp[1].is_empty());
        let f = PasswordForms::new(&Password::from("é"));
        assert_eq!(f.bmp.len(), 3);
        assert_eq!(*f.bmp[1], vec![0, 0xC3, 0, 0xA9, 0, 0]);
        assert_eq!(*f.bmp[2], vec![0, 0x43, 0, 0x29, 0, 0]);
        assert_eq!(*f.utf8, "é".as_bytes());
    }

    /// Vectors checked against OpenSSL 3.0's PKCS12KDF, which takes the password already in
    /// BMP form: `openssl kdf -keylen 24 -kdfopt digest:SHA1 -kdfopt
    /// hexpass:0073006D006500670000 -kdfopt hexsalt:0A58CF64530D823F -kdfopt iter:1
    /// -kdfopt id:1 PKCS12KDF` (and id:2, iter:1000, and SHA-256 with a surrogate pair).
    #[test]
    fn pkcs12_kdf_matches_openssl() {
        let pass = bmp_password("smeg");
        let salt = [0x0A, 0x58, 0xCF, 0x64, 0x53, 0x0D, 0x82, 0x3F];
        let key = kdf::derive_key::<sha1::Sha1>(&pass, &salt, Pkcs12KeyType::EncryptionKey, 1, 24);
        assert_eq!(
            crate::text::hex(&key),
            "8aaae6297b6cb04642ab5b077851284eb7128f1a2a7fbca3"
        );
        let iv = kdf::derive_key::<sha1::Sha1>(&pass, &salt, Pkcs12KeyType::Iv, 1, 8);
        assert_eq!(crate::text::hex(&iv), "79993dfe048d3b76");
        let key =
            kdf::derive_key::<sha1::Sha1>(&pass, &salt, Pkcs12KeyType::EncryptionKey, 1000, 24);
        assert_eq!(
            crate::text::hex(&key),
            "65a0185313e1be626a62223edc56a602e45d07570bd6c447"
        );
        let pass = bmp_password("pe😀");
        let mac = kdf::derive_key::<sha2::Sha256>(&pass, &salt, Pkcs12KeyType::Mac, 2048, 32);
        assert_eq!(
            crate::text::hex(&mac),
            "22afce116da235f309357ede55ab8be1474d84cc821d87f31fba7030ba7f6407"
        );
    }

    #[test]
    fn pkcs12_pbe_round_trips_every_cipher() {
        let forms = PasswordForms::new(&Password::from("pässword"));
        for cipher in [
            Pkcs12Cipher::DesEde3,
            Pkcs12Cipher::DesEde2,
            Pkcs12Cipher::Rc2_128,
            Pkcs12Cipher::Rc2_40,
        ] {
            let s = Scheme::Pkcs12 {
                cipher,
                salt: vec![7; 8],
                iterations: 3,
            };
            let plain = der::asn1::OctetString::new(&b"attack at dawn"[..])
                .unwrap()
                .to_der()
                .unwrap();
            let ct = s.encrypt(&forms, &plain).unwrap();
            let pt = s.decrypt(&forms, &ct, Input::Pkcs12).unwrap().unwrap();
            assert_eq!(pt.as_slice(), plain.as_slice());
            let alg = s.algorithm_identifier().unwrap();
            let der = alg.to_der().unwrap();
            let back = Scheme::parse(
                AlgorithmIdentifierRef::from_der(&der).unwrap(),
                Input::Pkcs12,
            )
            .unwrap();
            assert_eq!(back, s);
        }
    }

    #[test]
    fn hostile_parameters_are_refused_before_work() {
        let s = Scheme::Pkcs12 {
            cipher: Pkcs12Cipher::DesEde3,
            salt: vec![1; 8],
            iterations: 1,
        };
        let mut alg = s.algorithm_identifier().unwrap();
        let huge = pkcs12::pbe_params::Pkcs12PbeParams {
            salt: der::asn1::OctetString::new(vec![1; 8]).unwrap(),
            iterations: i32::MAX,
        };
        alg.parameters = Some(der::Any::from_der(&huge.to_der().unwrap()).unwrap());
        let der = alg.to_der().unwrap();
        let err = Scheme::parse(
            AlgorithmIdentifierRef::from_der(&der).unwrap(),
            Input::Pkcs12,
        )
        .unwrap_err();
        assert!(matches!(err, Error::KdfLimit(_)), "{err:?}");
        assert!(err.to_string().contains("2147483647 iterations"), "{err}");

        let zero = pkcs12::pbe_params::Pkcs12PbeParams {
            salt: der::asn1::OctetString::new(vec![1; 8]).unwrap(),
            iterations: 0,
        };
        alg.parameters = Some(der::Any::from_der(&zero.to_der().unwrap()).unwrap());
        let der = alg.to_der().unwrap();
        let err = Scheme::parse(
            AlgorithmIdentifierRef::from_der(&der).unwrap(),
            Input::Pkcs12,
        )
        .unwrap_err();
        assert!(matches!(err, Error::Corrupt { .. }), "{err:?}");
    }

    #[test]
    fn unsupported_schemes_are_named() {
        let rc4 = AlgorithmIdentifierOwned {
            oid: pkcs12::PKCS_12_PBE_WITH_SHAAND128_BIT_RC4,
            parameters: None,
        };
        let der = rc4.to_der().unwrap();
        let err = Scheme::parse(
            AlgorithmIdentifierRef::from_der(&der).unwrap(),
            Input::Pkcs12,
        )
        .unwrap_err();
        assert!(err.to_string().contains("RC4"), "{err}");
    }
}
