//! RSA private keys: generation, reading every encoding OpenSSL writes, and writing.
//!
//! How to recognise the encodings (RFC 7468 labels, or the DER structure):
//!
//! | encoding | PEM label | DER shape |
//! |---|---|---|
//! | PKCS#1 `RSAPrivateKey` (RFC 8017) | `RSA PRIVATE KEY` | `SEQUENCE { INTEGER 0, INTEGER n, ... }` |
//! | PKCS#8 `PrivateKeyInfo` (RFC 5208/5958) | `PRIVATE KEY` | `SEQUENCE { INTEGER 0, SEQUENCE { rsaEncryption, NULL }, OCTET STRING }` |
//! | encrypted PKCS#8 (PBES2, RFC 8018) | `ENCRYPTED PRIVATE KEY` | `SEQUENCE { SEQUENCE { PBES2, ... }, OCTET STRING }` |
//! | encrypted PKCS#8, old schemes (read only): PBES1 (RFC 8018 §6.1), PKCS#12 PBE (RFC 7292 App. C) | `ENCRYPTED PRIVATE KEY` | the same, with OID 1.2.840.113549.1.5.{3,6,10,11} or 1.2.840.113549.1.12.1.{3,4,5,6} |
//! | OpenSSL 1.x traditional encrypted | `RSA PRIVATE KEY` with `Proc-Type`/`DEK-Info` headers | PEM only |
//!
//! New keys are written as encrypted PKCS#8 with PBES2: PBKDF2-HMAC-SHA256 (600,000
//! iterations by default) or scrypt, and AES-256-CBC, which OpenSSL 3, Python's
//! `cryptography` and Java (`EncryptedPrivateKeyInfo`) all read.

use std::fmt;

use pkcs8::der::Decode;
use pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::traits::PublicKeyParts;
use sha2::{Digest, Sha256};

use crate::error::{Expected, Input};
use crate::legacy_pem::{self, Cipher};
use crate::pemfile;
use crate::{Error, Password, Result, SecretBytes};

mod algorithm;
mod parallel;

pub use algorithm::{private_key_algorithm, spki_algorithm};
mod pbes1;

/// The RSA sizes Salesforce accepts for keys in Certificate and Key Management.
pub const SALESFORCE_BITS: [usize; 3] = [2048, 3072, 4096];

/// OID `rsaEncryption` (1.2.840.113549.1.1.1).
pub const RSA_ENCRYPTION_OID: pkcs8::ObjectIdentifier =
    pkcs8::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const RSASSA_PSS_OID: &str = "1.2.840.113549.1.1.10";
const EC_PUBLIC_KEY_OID: &str = "1.2.840.10045.2.1";
const ED25519_OID: &str = "1.3.101.112";
const ED448_OID: &str = "1.3.101.113";
const DSA_OID: &str = "1.2.840.10040.4.1";
const PBES2_OID: &str = "1.2.840.113549.1.5.13";

/// Highest PBKDF2 iteration count accepted when reading, by default (a hostile file could
/// otherwise make certmint spin): [`crate::kdf::DEFAULT_MAX_ITERATIONS`]. OpenSSL writes
/// 2048; certmint writes 600,000. The limit in force is [`crate::kdf::limits`].
pub const MAX_PBKDF2_ITERATIONS: u32 = crate::kdf::DEFAULT_MAX_ITERATIONS;
/// Highest scrypt log2(N) ever accepted when reading (2^20 with r=8 is 1 GiB of memory).
pub const MAX_SCRYPT_LOG_N: u32 = crate::kdf::MAX_SCRYPT_LOG_N;
/// Most memory scrypt may use when reading a key (`128 * r * N` bytes), by default:
/// [`crate::kdf::DEFAULT_MAX_SCRYPT_MEMORY`], 64 MiB. OpenSSL 3 writes N=2^14, r=8
/// (16 MiB); its own reading limit is 32 MiB.
pub const MAX_SCRYPT_MEMORY: u64 = crate::kdf::DEFAULT_MAX_SCRYPT_MEMORY;

/// Refuse a modulus size Salesforce does not accept.
pub fn check_salesforce_bits(bits: usize) -> Result<()> {
    if SALESFORCE_BITS.contains(&bits) {
        Ok(())
    } else {
        Err(Error::KeySize { bits })
    }
}

/// How a new key file is encrypted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyEncryption {
    /// PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC.
    Pbkdf2 {
        /// Iteration count (certmint's default is 600,000, OWASP's 2023 figure).
        iterations: u32,
    },
    /// PBES2 with scrypt and AES-256-CBC.
    Scrypt {
        /// log2 of the cost parameter N.
        log_n: u8,
        /// Block size.
        r: u32,
        /// Parallelism.
        p: u32,
    },
}

impl KeyEncryption {
    /// Default PBKDF2 iteration count for new keys.
    pub const DEFAULT_PBKDF2_ITERATIONS: u32 = 600_000;
    /// Lowest PBKDF2 iteration count certmint will write.
    pub const MIN_PBKDF2_ITERATIONS: u32 = 600_000;

    /// The default: PBKDF2-HMAC-SHA256, 600,000 iterations, AES-256-CBC.
    pub const fn pbkdf2_default() -> Self {
        KeyEncryption::Pbkdf2 {
            iterations: Self::DEFAULT_PBKDF2_ITERATIONS,
        }
    }

    /// scrypt with N=2^14, r=8, p=1: the parameters OpenSSL 3 itself uses, so that
    /// OpenSSL's default scrypt memory limit accepts the file.
    pub const fn scrypt_default() -> Self {
        KeyEncryption::Scrypt {
            log_n: 14,
            r: 8,
            p: 1,
        }
    }

    fn params(&self, salt: &[u8; 16], iv: [u8; 16]) -> Result<pkcs5::pbes2::Parameters> {
        match *self {
            KeyEncryption::Pbkdf2 { iterations } => {
                if iterations < Self::MIN_PBKDF2_ITERATIONS {
                    return Err(Error::invalid(
                        Input::Pbkdf2IterationCount,
                        format!(
                            "{iterations} is below certmint's minimum of {}",
                            Self::MIN_PBKDF2_ITERATIONS
                        ),
                    ));
                }
                pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(iterations, salt, iv)
                    .map_err(Error::internal)
            }
            KeyEncryption::Scrypt { log_n, r, p } => {
                let params = pkcs5::scrypt::Params::new(log_n, r, p)
                    .map_err(|e| Error::invalid(Input::ScryptParameters, e))?;
                pkcs5::pbes2::Parameters::generate_scrypt_aes256cbc(params, salt, iv)
                    .map_err(Error::internal)
            }
        }
    }
}

impl fmt::Display for KeyEncryption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyEncryption::Pbkdf2 { iterations } => write!(
                f,
                "PBES2 (PBKDF2-HMAC-SHA256, {iterations} iterations, AES-256-CBC)"
            ),
            KeyEncryption::Scrypt { log_n, r, p } => {
                write!(f, "PBES2 (scrypt N=2^{log_n} r={r} p={p}, AES-256-CBC)")
            }
        }
    }
}

/// The structure a key file uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyFormat {
    /// PKCS#1 `RSAPrivateKey`, unencrypted.
    Pkcs1,
    /// PKCS#8 `PrivateKeyInfo`, unencrypted.
    Pkcs8,
    /// PKCS#8 `EncryptedPrivateKeyInfo`; `scheme` describes the algorithms.
    EncryptedPkcs8 {
        /// e.g. "PBES2 (PBKDF2-HMAC-SHA256, 2048 iterations, AES-256-CBC)".
        scheme: String,
    },
    /// OpenSSL 1.x traditional PEM with `DEK-Info`.
    LegacyEncrypted {
        /// The cipher from the `DEK-Info` header.
        cipher: Cipher,
    },
}

/// PEM text or raw DER.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    /// RFC 7468 text.
    Pem,
    /// Binary DER.
    Der,
}

/// What a key file is, found without decrypting it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyInfo {
    /// The structure.
    pub format: KeyFormat,
    /// PEM or DER.
    pub container: Container,
}

impl KeyInfo {
    /// True when a password is needed to read the key.
    pub fn is_encrypted(&self) -> bool {
        matches!(
            self.format,
            KeyFormat::EncryptedPkcs8 { .. } | KeyFormat::LegacyEncrypted { .. }
        )
    }
}

impl fmt::Display for KeyInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = match self.container {
            Container::Pem => "PEM",
            Container::Der => "DER",
        };
        match &self.format {
            KeyFormat::Pkcs1 => write!(f, "unencrypted PKCS#1 RSA private key ({c})"),
            KeyFormat::Pkcs8 => write!(f, "unencrypted PKCS#8 private key ({c})"),
            KeyFormat::EncryptedPkcs8 { scheme } => {
                write!(f, "encrypted PKCS#8 private key, {scheme} ({c})")
            }
            KeyFormat::LegacyEncrypted { cipher } => write!(
                f,
                "OpenSSL traditional encrypted RSA private key, {} (PEM)",
                cipher.name()
            ),
        }
    }
}

/// The key-bearing part of a file, located but not yet decrypted.
enum Located {
    Pkcs1(SecretBytes),
    Pkcs8(SecretBytes),
    Encrypted(Vec<u8>),
    Legacy(legacy_pem::DekInfo, Vec<u8>),
}

fn oid_name(oid: &str) -> &'static str {
    match oid {
        RSASSA_PSS_OID => "an RSASSA-PSS key; Salesforce needs a plain rsaEncryption key",
        EC_PUBLIC_KEY_OID => "an EC key; Salesforce JWT bearer needs RSA",
        ED25519_OID => "an Ed25519 key; Salesforce JWT bearer needs RSA",
        ED448_OID => "an Ed448 key; Salesforce JWT bearer needs RSA",
        DSA_OID => "a DSA key; Salesforce JWT bearer needs RSA",
        _ => "an unknown key algorithm",
    }
}

fn locate(data: &[u8]) -> Result<(Located, Container)> {
    if pemfile::is_pem(data) {
        let blocks = pemfile::parse_all(data, Input::PrivateKey)?;
        let mut other: Option<String> = None;
        for b in &blocks {
            match b.label.as_str() {
                "RSA PRIVATE KEY" => {
                    let located = match legacy_pem::dek_info(b)? {
                        Some(info) => Located::Legacy(info, b.contents.clone()),
                        None => Located::Pkcs1(SecretBytes::new(b.contents.clone())),
                    };
                    return Ok((located, Container::Pem));
                }
                "PRIVATE KEY" => {
                    return Ok((
                        Located::Pkcs8(SecretBytes::new(b.contents.clone())),
                        Container::Pem,
                    ));
                }
                "ENCRYPTED PRIVATE KEY" => {
                    return Ok((Located::Encrypted(b.contents.clone()), Container::Pem));
                }
                label => {
                    if other.is_none() {
                        other = Some(label.to_string());
                    }
                }
            }
        }
        let label = other.unwrap_or_default();
        return Err(match label.as_str() {
            "EC PRIVATE KEY" => Error::NotRsa("an EC key; Salesforce JWT bearer needs RSA".into()),
            "DSA PRIVATE KEY" => Error::NotRsa("a DSA key".into()),
            "OPENSSH PRIVATE KEY" => Error::unsupported(
                Input::KeyFormat,
                "OpenSSH private key (convert it with `ssh-keygen -p -m PKCS8 -f FILE`)",
            ),
            l => not_a_key(crate::detect::pem_label_kind(l), || {
                crate::detect::describe_pem_label(l)
            }),
        });
    }
    // DER: decide by structure, trying the three key shapes in turn.
    if data.is_empty() {
        return Err(Error::corrupt(Input::PrivateKey, "the file is empty"));
    }
    if let Ok(epki) = pkcs8::EncryptedPrivateKeyInfoRef::from_der(data) {
        let _ = epki;
        return Ok((Located::Encrypted(data.to_vec()), Container::Der));
    }
    if looks_like_encrypted_pkcs8(data) {
        return Ok((Located::Encrypted(data.to_vec()), Container::Der));
    }
    if pkcs8::PrivateKeyInfoRef::from_der(data).is_ok() {
        return Ok((
            Located::Pkcs8(SecretBytes::new(data.to_vec())),
            Container::Der,
        ));
    }
    if pkcs1::RsaPrivateKeyRef::from_der(data).is_ok() {
        return Ok((
            Located::Pkcs1(SecretBytes::new(data.to_vec())),
            Container::Der,
        ));
    }
    // Not a key: say what it is instead, when it is something certmint knows.
    let detected = crate::detect::detect(data);
    if let Some(kind) = detected
        .kind()
        .filter(|k| *k != crate::detect::Kind::PrivateKey)
    {
        return Err(not_a_key(Some(kind), || detected.describe_contents()));
    }
    // Explain where DER parsing stopped, using the most likely shape.
    let detail = match pkcs8::PrivateKeyInfoRef::from_der(data) {
        Err(e) => format!("not a PEM or DER private key ({e})"),
        Ok(_) => "not a PEM or DER private key".to_string(),
    };
    Err(Error::corrupt(Input::PrivateKey, detail))
}

/// `SEQUENCE { SEQUENCE { OID, ... }, OCTET STRING }` with an encryption OID we may not
/// support (PKCS#12 PBE, PBES1): still an encrypted key, so say which algorithm it uses.
fn looks_like_encrypted_pkcs8(data: &[u8]) -> bool {
    #[derive(der::Sequence)]
    struct Shape<'a> {
        alg: spki::AlgorithmIdentifierRef<'a>,
        data: &'a der::asn1::OctetStringRef,
    }
    Shape::from_der(data).is_ok()
}

/// "expected a private key, found ..." for an input of `kind` (described by `found`);
/// for a public key, say that the private one is needed.
fn not_a_key(kind: Option<crate::detect::Kind>, found: impl FnOnce() -> String) -> Error {
    Error::WrongKind {
        expected: Expected::PrivateKey,
        found: match kind {
            Some(crate::detect::Kind::PublicKey) => {
                "a public key (the private key is needed)".into()
            }
            _ => found(),
        },
    }
}

pub(crate) fn describe_pbes2(params: &pkcs5::pbes2::Parameters) -> String {
    use pkcs5::pbes2::{EncryptionScheme as E, Kdf, Pbkdf2Prf};
    let kdf = match &params.kdf {
        Kdf::Pbkdf2(p) => {
            let prf = match p.prf {
                Pbkdf2Prf::HmacWithSha1 => "HMAC-SHA1",
                Pbkdf2Prf::HmacWithSha224 => "HMAC-SHA224",
                Pbkdf2Prf::HmacWithSha256 => "HMAC-SHA256",
                Pbkdf2Prf::HmacWithSha384 => "HMAC-SHA384",
                Pbkdf2Prf::HmacWithSha512 => "HMAC-SHA512",
                _ => "HMAC-?",
            };
            format!("PBKDF2-{prf}, {} iterations", p.iteration_count)
        }
        Kdf::Scrypt(s) => format!(
            "scrypt N={} r={} p={}",
            s.cost_parameter, s.block_size, s.parallelization
        ),
        _ => "unknown KDF".into(),
    };
    let cipher = match params.encryption {
        E::Aes128Cbc { .. } => "AES-128-CBC",
        E::Aes192Cbc { .. } => "AES-192-CBC",
        E::Aes256Cbc { .. } => "AES-256-CBC",
        E::Aes128Gcm { .. } => "AES-128-GCM",
        E::Aes256Gcm { .. } => "AES-256-GCM",
        E::DesEde3Cbc { .. } => "DES-EDE3-CBC",
        E::DesCbc { .. } => "DES-CBC (single DES)",
        _ => "unknown cipher",
    };
    format!("PBES2 ({kdf}, {cipher})")
}

/// How an encrypted PKCS#8 key is protected: PBES2 (what certmint writes and OpenSSL 3
/// writes by default), or, read only, PBES1 and the PKCS#12 PBE (`openssl pkcs8 -topk8
/// -v1 ...`, older Java).
enum ReadEncryption {
    Pbes2(pkcs5::pbes2::Parameters),
    Pbes1(pbes1::Pbes1),
    Pkcs12(crate::pkcs12::PbeScheme),
}

impl ReadEncryption {
    /// The work units ([`crate::kdf::work`]) one decryption with `password` costs.
    fn work(&self, password: &Password) -> u64 {
        match self {
            ReadEncryption::Pbes2(params) => pbes2_work(params),
            ReadEncryption::Pbes1(p) => p.work(),
            ReadEncryption::Pkcs12(scheme) => {
                scheme.cost(&crate::pkcs12::PasswordForms::new(password))
            }
        }
    }

    /// Decrypt with `password`; `None` when the padding does not check out (a wrong
    /// password).
    fn decrypt(&self, password: &Password, data: &[u8]) -> Result<Option<SecretBytes>> {
        let plain = match self {
            ReadEncryption::Pbes2(params) => match params.decrypt(password.as_bytes(), data) {
                Ok(plain) => Some(plain),
                Err(pkcs5::Error::DecryptFailed) => None,
                Err(other) => return Err(Error::unsupported(Input::KeyEncryption, other)),
            },
            ReadEncryption::Pbes1(p) => p.decrypt(password.as_bytes(), data)?.map(|z| z.to_vec()),
            ReadEncryption::Pkcs12(scheme) => scheme
                .decrypt(
                    &crate::pkcs12::PasswordForms::new(password),
                    data,
                    Input::PrivateKey,
                )?
                .map(|z| z.to_vec()),
        };
        Ok(plain.map(SecretBytes::new))
    }
}

/// What to do with a key whose encryption certmint does not run.
pub(crate) const REENCRYPT: &str =
    "re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc` or decrypt it with `openssl pkcs8`";

/// The PKCS#12 PBE OIDs (1.2.840.113549.1.12.1.*), inside PKCS#8 as in PKCS#12 key bags.
fn is_pkcs12_pbe(oid: &str) -> bool {
    oid.strip_prefix("1.2.840.113549.1.12.1.")
        .is_some_and(|n| n.len() == 1 && n.as_bytes()[0].is_ascii_digit())
}

/// Parse the encryption scheme of an encrypted PKCS#8 document and check that it is one
/// certmint can (and will) run.
fn encrypted_scheme(der_bytes: &[u8]) -> Result<(ReadEncryption, Vec<u8>, String)> {
    #[derive(der::Sequence)]
    struct Shape<'a> {
        alg: spki::AlgorithmIdentifierRef<'a>,
        data: &'a der::asn1::OctetStringRef,
    }
    let shape = Shape::from_der(der_bytes).map_err(|e| Error::corrupt(Input::PrivateKey, e))?;
    let oid = shape.alg.oid.to_string();
    let ciphertext = shape.data.as_bytes().to_vec();
    if pbes1::is_pbes1(&oid) {
        let p = pbes1::Pbes1::parse(shape.alg, &crate::kdf::limits())?;
        let desc = p.describe();
        return Ok((ReadEncryption::Pbes1(p), ciphertext, desc));
    }
    if is_pkcs12_pbe(&oid) {
        // The PKCS#12 reader's errors name PKCS#12 parts: here they are the key's.
        let scheme =
            crate::pkcs12::PbeScheme::parse(shape.alg, Input::PrivateKey).map_err(|e| match e {
                Error::Unsupported { detail, .. } => Error::unsupported(
                    Input::KeyEncryption,
                    format!("{detail}, OID {oid}; {REENCRYPT}"),
                ),
                other => other,
            })?;
        let desc = match &scheme {
            crate::pkcs12::PbeScheme::Pkcs12 {
                cipher, iterations, ..
            } => format!("PKCS#12 PBE ({}, {iterations} iterations)", cipher.name()),
            other => other.describe(),
        };
        return Ok((ReadEncryption::Pkcs12(scheme), ciphertext, desc));
    }
    if oid != PBES2_OID {
        return Err(Error::unsupported(
            Input::KeyEncryption,
            format!("an unknown scheme, OID {oid}; {REENCRYPT}"),
        ));
    }
    let epki = pkcs8::EncryptedPrivateKeyInfoRef::from_der(der_bytes).map_err(|e| {
        Error::unsupported(
            Input::KeyEncryption,
            format!("PBES2 with parameters certmint cannot use ({e})"),
        )
    })?;
    let params = match epki.encryption_algorithm.pbes2() {
        Some(p) => p.clone(),
        None => return Err(Error::unsupported(Input::KeyEncryption, "PBES1")),
    };
    match &params.kdf {
        pkcs5::pbes2::Kdf::Pbkdf2(p) => {
            crate::kdf::limits()
                .check_iterations(Input::KeyEncryption, u64::from(p.iteration_count))?;
        }
        pkcs5::pbes2::Kdf::Scrypt(s) => check_scrypt(s, Input::KeyEncryption)?,
        _ => {}
    }
    let desc = describe_pbes2(&params);
    Ok((ReadEncryption::Pbes2(params), ciphertext, desc))
}

/// Refuse scrypt parameters that are malformed or whose memory exceeds the limit in force
/// ([`crate::kdf::Limits::check_scrypt`]) before anything is derived (a hostile file could
/// otherwise make certmint allocate gigabytes: N=2^20 with r=64 is 8 GiB).
pub(crate) fn check_scrypt(s: &pkcs5::pbes2::ScryptParams, what: Input) -> Result<()> {
    crate::kdf::limits().check_scrypt(
        what,
        s.cost_parameter,
        u64::from(s.block_size),
        u64::from(s.parallelization),
    )
}

/// The work units ([`crate::kdf::work`]) of a PBES2 key derivation.
pub(crate) fn pbes2_work(params: &pkcs5::pbes2::Parameters) -> u64 {
    use crate::kdf::{Work, work};
    match &params.kdf {
        pkcs5::pbes2::Kdf::Pbkdf2(k) => work(Work::Pbkdf2(u64::from(k.iteration_count))),
        pkcs5::pbes2::Kdf::Scrypt(k) => work(Work::Scrypt {
            n: k.cost_parameter,
            r: u64::from(k.block_size),
            p: u64::from(k.parallelization),
        }),
        _ => 0,
    }
}

/// Find out what a key file holds without a password.
pub fn probe(data: &[u8]) -> Result<KeyInfo> {
    let (located, container) = locate(data)?;
    let format = match located {
        Located::Pkcs1(_) => KeyFormat::Pkcs1,
        Located::Pkcs8(_) => KeyFormat::Pkcs8,
        Located::Encrypted(der) => {
            let (_, _, scheme) = encrypted_scheme(&der)?;
            KeyFormat::EncryptedPkcs8 { scheme }
        }
        Located::Legacy(info, _) => KeyFormat::LegacyEncrypted {
            cipher: info.cipher,
        },
    };
    Ok(KeyInfo { format, container })
}

/// Read a private key from any supported encoding. `password` is needed only when the key
/// is encrypted; [`Error::PasswordRequired`] says so when it is missing.
pub fn load(data: &[u8], password: Option<&Password>) -> Result<(RsaKey, KeyInfo)> {
    let (located, container) = locate(data)?;
    let need_pw = || {
        password.ok_or(Error::PasswordRequired {
            what: Input::PrivateKey,
        })
    };
    let (key, format) = match located {
        Located::Pkcs1(der) => (RsaKey::from_pkcs1_der(der.expose())?, KeyFormat::Pkcs1),
        Located::Pkcs8(der) => (RsaKey::from_pkcs8_der(der.expose())?, KeyFormat::Pkcs8),
        Located::Encrypted(der) => {
            let (encryption, ciphertext, scheme) = encrypted_scheme(&der)?;
            let pw = need_pw()?;
            crate::kdf::charge(encryption.work(pw))?;
            let plain = encryption
                .decrypt(pw, &ciphertext)?
                .ok_or(Error::WrongPassword {
                    what: Input::PrivateKey,
                })?;
            // A wrong password whose padding happens to check out gives garbage.
            let key = match pkcs8::PrivateKeyInfoRef::from_der(plain.expose()) {
                Ok(_) => RsaKey::from_pkcs8_der(plain.expose())?,
                Err(_) => {
                    return Err(Error::WrongPassword {
                        what: Input::PrivateKey,
                    });
                }
            };
            (key, KeyFormat::EncryptedPkcs8 { scheme })
        }
        Located::Legacy(info, body) => {
            let pw = need_pw()?;
            let plain = legacy_pem::decrypt(&info, pw, &body)?;
            if pkcs1::RsaPrivateKeyRef::from_der(plain.expose()).is_err() {
                return Err(Error::WrongPassword {
                    what: Input::PrivateKey,
                });
            }
            (
                RsaKey::from_pkcs1_der(plain.expose())?,
                KeyFormat::LegacyEncrypted {
                    cipher: info.cipher,
                },
            )
        }
    };
    Ok((key, KeyInfo { format, container }))
}

/// An RSA private key, with its PKCS#8 encoding cached (and wiped on drop).
#[derive(Clone)]
pub struct RsaKey {
    key: rsa::PrivateKey,
    pkcs8: SecretBytes,
}

impl fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaKey")
            .field("bits", &self.bits())
            .field("private", &"<redacted>")
            .finish()
    }
}

impl RsaKey {
    /// Generate a new key of `bits` (2048, 3072 or 4096) with e = 65537 from the OS RNG.
    /// The prime search runs on every core (up to four): see `docs/performance.md`.
    pub fn generate(bits: usize) -> Result<Self> {
        check_salesforce_bits(bits)?;
        let key = parallel::generate(bits, parallel::workers())?;
        Self::from_rsa(key)
    }

    /// Generate with a caller-supplied RNG, on the calling thread only (the `rsa` crate's
    /// own generator).
    pub fn generate_with_rng<R>(rng: &mut R, bits: usize) -> Result<Self>
    where
        R: rsa::rand_core::TryCryptoRng + ?Sized,
    {
        check_salesforce_bits(bits)?;
        let key = rsa::PrivateKey::new(rng, bits).map_err(Error::internal)?;
        Self::from_rsa(key)
    }

    fn from_rsa(key: rsa::PrivateKey) -> Result<Self> {
        let pkcs8 = key.to_pkcs8_der().map_err(Error::internal)?;
        Ok(RsaKey {
            key,
            pkcs8: SecretBytes::new(pkcs8.as_bytes().to_vec()),
        })
    }

    /// Read an unencrypted PKCS#8 `PrivateKeyInfo` (DER).
    pub fn from_pkcs8_der(der_bytes: &[u8]) -> Result<Self> {
        let info = pkcs8::PrivateKeyInfoRef::from_der(der_bytes)
            .map_err(|e| Error::corrupt(Input::PrivateKey, e))?;
        let oid = info.algorithm.oid;
        if oid != RSA_ENCRYPTION_OID {
            return Err(Error::NotRsa(oid_name(&oid.to_string()).into()));
        }
        let key = rsa::PrivateKey::from_pkcs8_der(der_bytes)
            .map_err(|e| Error::corrupt(Input::RsaPrivateKey, e))?;
        Self::from_rsa(key)
    }

    /// Read an unencrypted PKCS#1 `RSAPrivateKey` (DER).
    pub fn from_pkcs1_der(der_bytes: &[u8]) -> Result<Self> {
        let key = rsa::PrivateKey::from_pkcs1_der(der_bytes)
            .map_err(|e| Error::corrupt(Input::RsaPrivateKey, e))?;
        Self::from_rsa(key)
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.key.n().bit_width() as usize
    }

    /// The underlying `rsa` crate key.
    pub fn rsa(&self) -> &rsa::PrivateKey {
        &self.key
    }

    /// Unencrypted PKCS#8 DER.
    pub fn pkcs8_der(&self) -> &SecretBytes {
        &self.pkcs8
    }

    /// Unencrypted PKCS#8 PEM (`BEGIN PRIVATE KEY`).
    pub fn to_pkcs8_pem(&self) -> SecretBytes {
        SecretBytes::from(pemfile::encode("PRIVATE KEY", self.pkcs8.expose()))
    }

    /// Unencrypted PKCS#1 DER.
    pub fn to_pkcs1_der(&self) -> Result<SecretBytes> {
        let doc = self.key.to_pkcs1_der().map_err(Error::internal)?;
        Ok(SecretBytes::new(doc.as_bytes().to_vec()))
    }

    /// Unencrypted PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`).
    pub fn to_pkcs1_pem(&self) -> Result<SecretBytes> {
        let der = self.to_pkcs1_der()?;
        Ok(SecretBytes::from(pemfile::encode(
            "RSA PRIVATE KEY",
            der.expose(),
        )))
    }

    /// Encrypted PKCS#8 DER with a fresh random salt and IV.
    pub fn to_encrypted_pkcs8_der(
        &self,
        password: &Password,
        enc: KeyEncryption,
    ) -> Result<Vec<u8>> {
        let mut salt = [0u8; 16];
        let mut iv = [0u8; 16];
        getrandom::fill(&mut salt).map_err(Error::internal)?;
        getrandom::fill(&mut iv).map_err(Error::internal)?;
        self.to_encrypted_pkcs8_der_with(password, enc, &salt, iv)
    }

    /// Encrypted PKCS#8 DER with the given salt and IV (for deterministic tests).
    pub fn to_encrypted_pkcs8_der_with(
        &self,
        password: &Password,
        enc: KeyEncryption,
        salt: &[u8; 16],
        iv: [u8; 16],
    ) -> Result<Vec<u8>> {
        if password.is_empty() {
            return Err(Error::invalid(
                Input::Password,
                "an encrypted key needs a non-empty password",
            ));
        }
        let params = enc.params(salt, iv)?;
        let info =
            pkcs8::PrivateKeyInfoRef::from_der(self.pkcs8.expose()).map_err(Error::internal)?;
        let doc = info
            .encrypt_with_params(params, password.as_bytes())
            .map_err(Error::internal)?;
        Ok(doc.as_bytes().to_vec())
    }

    /// Encrypted PKCS#8 PEM (`BEGIN ENCRYPTED PRIVATE KEY`).
    pub fn to_encrypted_pkcs8_pem(
        &self,
        password: &Password,
        enc: KeyEncryption,
    ) -> Result<String> {
        let der = self.to_encrypted_pkcs8_der(password, enc)?;
        Ok(pemfile::encode("ENCRYPTED PRIVATE KEY", &der))
    }

    /// The public key as a DER `SubjectPublicKeyInfo`.
    pub fn public_key_der(&self) -> Vec<u8> {
        // Encoding a valid in-memory RSA public key cannot fail.
        self.key
            .to_public_key()
            .to_public_key_der()
            .map(|d| d.as_bytes().to_vec())
            .unwrap_or_default()
    }

    /// SHA-256 of the DER `SubjectPublicKeyInfo`, hex with colons: the value to compare
    /// with a certificate's public key.
    pub fn public_key_sha256(&self) -> String {
        spki_sha256(&self.public_key_der())
    }

    /// True when `spki_der` (a `SubjectPublicKeyInfo`, e.g. from a certificate) holds this
    /// key's public half.
    pub fn matches_spki(&self, spki_der: &[u8]) -> bool {
        use pkcs8::DecodePublicKey;
        match rsa::PublicKey::from_public_key_der(spki_der) {
            Ok(pk) => pk == self.key.to_public_key(),
            Err(_) => false,
        }
    }

    /// A `ring` key pair for fast RS256 signing.
    pub fn ring_key_pair(&self) -> Result<ring::signature::RsaKeyPair> {
        ring::signature::RsaKeyPair::from_pkcs8(self.pkcs8.expose())
            .map_err(|e| Error::internal(format!("ring rejected the key: {e}")))
    }

    /// An rcgen key pair (for signing CSRs and certificates), RSA with SHA-256.
    pub fn rcgen_key_pair(&self) -> Result<rcgen::KeyPair> {
        let der = rustls_pki_der(self.pkcs8.expose());
        rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&der, &rcgen::PKCS_RSA_SHA256)
            .map_err(|e| Error::internal(format!("cannot use the key for signing: {e}")))
    }
}

fn rustls_pki_der(der_bytes: &[u8]) -> rustls::pki_types::PrivatePkcs8KeyDer<'_> {
    rustls::pki_types::PrivatePkcs8KeyDer::from(der_bytes)
}

/// Modulus size of the RSA key in a DER `SubjectPublicKeyInfo`, `None` when it is not RSA
/// (or not a readable SPKI).
pub fn spki_rsa_bits(spki_der: &[u8]) -> Option<usize> {
    use x509_parser::prelude::FromDer;
    let (_, spki) = x509_parser::x509::SubjectPublicKeyInfo::from_der(spki_der).ok()?;
    if spki.algorithm.algorithm.to_id_string() != "1.2.840.113549.1.1.1" {
        return None;
    }
    match spki.parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => {
            let m = rsa.modulus;
            let start = m.iter().position(|&b| b != 0)?;
            let m = &m[start..];
            Some((m.len() - 1) * 8 + (8 - m[0].leading_zeros() as usize))
        }
        _ => None,
    }
}

/// SHA-256 of a DER `SubjectPublicKeyInfo` (from a key, CSR or certificate), hex with
/// colons: the public-key fingerprint certmint shows and compares.
pub fn spki_sha256(spki_der: &[u8]) -> String {
    crate::text::hex_colon(&Sha256::digest(spki_der))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_sizes_salesforce_rejects() {
        for bits in [512usize, 1024, 2047, 2560, 8192] {
            assert!(matches!(
                check_salesforce_bits(bits),
                Err(Error::KeySize { .. })
            ));
        }
        for bits in SALESFORCE_BITS {
            check_salesforce_bits(bits).unwrap();
        }
    }

    #[test]
    fn other_kinds_are_named() {
        let cert = b"-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
        let err = probe(cert).unwrap_err();
        assert_eq!(
            err.to_string(),
            "expected a private key, found a certificate"
        );
        let pem = b"-----BEGIN X\x1b[31m-----\nMAA=\n-----END X\x1b[31m-----\n";
        let err = probe(pem).unwrap_err();
        assert!(err.to_string().contains("\\u{1b}"), "{err}");
        let public = b"-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n";
        assert!(
            probe(public)
                .unwrap_err()
                .to_string()
                .contains("private key is needed")
        );
    }

    #[test]
    fn garbage_is_corrupt_not_panic() {
        for input in [
            &b""[..],
            b"\x30",
            b"\x30\x82\xff\xff",
            b"hello world",
            b"-----BEGIN PRIVATE KEY-----\n",
        ] {
            let err = probe(input).unwrap_err();
            assert!(
                matches!(err, Error::Corrupt { .. }),
                "{input:?} gave {err:?}"
            );
        }
    }
}
