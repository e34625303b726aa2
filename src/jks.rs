//! Java KeyStore (JKS) version 2: the keystore Salesforce's Certificate and Key Management
//! imports, and what `keytool -storetype JKS` writes. Read and written in-project (the
//! format is small and frozen, and the `jks` crate encodes non-ASCII passwords wrongly).
//!
//! # Recognising it
//!
//! A JKS file starts with the big-endian magic `0xFEEDFEED` and the version `2` (version 1,
//! from JDK 1.1, lacks the certificate type strings; certmint reads it too). SunJCE's JCEKS
//! variant starts with `0xCECECECE`; it is recognised and refused with [`jceks_advice`]
//! (JKS to import it into Salesforce, PKCS12 for Java programs). A PKCS#12 file starts
//! with a DER `SEQUENCE { INTEGER 3, ...}` instead. [`crate::detect`] tells them apart.
//!
//! # Layout (all integers big-endian)
//!
//! ```text
//! u32 magic 0xFEEDFEED, u32 version 2, u32 entry count
//! per entry:
//!   u32 tag               1 = PrivateKeyEntry, 2 = TrustedCertEntry
//!   UTF alias             u16 byte length + Java "modified UTF-8"
//!   u64 timestamp         creation date, milliseconds since 1970
//!   tag 1: u32 length + protected key (DER EncryptedPrivateKeyInfo, Sun KeyProtector)
//!          u32 chain length, then per certificate:
//!            UTF type ("X.509"; version 2 only), u32 length + DER certificate
//!   tag 2: UTF type (version 2 only), u32 length + DER certificate
//! 20 bytes: SHA-1(password as UTF-16BE || "Mighty Aphrodite" || every preceding byte)
//! ```
//!
//! The Sun KeyProtector (`EncryptedPrivateKeyInfo` with algorithm OID
//! `1.3.6.1.4.1.42.2.17.1.1` and NULL parameters) holds `salt(20) || (PKCS#8 XOR keystream)
//! || check(20)`, where the keystream is `d1 || d2 || ...` with `d1 = SHA-1(pw || salt)`,
//! `d(i+1) = SHA-1(pw || d(i))`, and `check = SHA-1(pw || PKCS#8)`. Passwords are Java
//! `char[]` bytes, i.e. UTF-16BE, both here and in the integrity digest: `pässwört€` works
//! with keytool in both directions.
//!
//! The format has no RFC. It is defined by OpenJDK's `sun.security.provider.JavaKeyStore`
//! (`engineLoad`/`engineStore`) and `sun.security.provider.KeyProtector`, and modified UTF-8
//! by `java.io.DataInput` (`readUTF`/`writeUTF`).
//!
//! # Aliases
//!
//! Java's `JKS` keystore type lowercases an alias when it stores or looks up an entry
//! (`toLowerCase(Locale.ENGLISH)`), but loads the aliases in a file as they are: an entry
//! whose alias has capitals in the file is listed by `keytool -list` yet cannot be fetched by
//! `KeyStore.getKey`. So [`write_private_key`] lowercases the alias, exactly as keytool does;
//! the low-level [`write()`] keeps aliases as given (for round trips and for tests that build
//! odd keystores), and [`Keystore::find`] matches case-insensitively, like Java.
//!
//! # Reading untrusted files
//!
//! Every length in the file is checked against the bytes that remain before anything is
//! sliced or copied, so no length can drive an allocation larger than the file, and no input
//! panics. Structure is checked before the digest: a truncated or damaged file is
//! [`Error::Corrupt`], never a wrong password.

use std::fmt;

use sha1::{Digest, Sha1};
use zeroize::Zeroizing;

use crate::detect::FileType;
use crate::error::{Expected, Input};
use crate::{Error, Password, Result, SecretBytes};

mod mutf8;
mod protector;
mod read;
#[cfg(test)]
mod tests;
mod write;

pub use mutf8::{decode_modified_utf8, encode_modified_utf8};
use protector::{DIGEST_LEN, utf16be};
pub use protector::{KEY_PROTECTOR_OID, SALT_LEN, protect, protect_with_salt, recover};
pub use read::parse;
pub use write::{write, write_private_key};

/// The JKS magic number.
pub const MAGIC: u32 = 0xFEED_FEED;
/// The JCEKS magic number (SunJCE's variant; not supported).
pub const JCEKS_MAGIC: u32 = 0xCECE_CECE;
/// The version certmint writes.
pub const VERSION: u32 = 2;
/// The certificate type string Java writes.
pub const X509: &str = "X.509";
/// The string the integrity digest mixes in after the password.
const WHITENER: &[u8] = b"Mighty Aphrodite";
const TAG_PRIVATE_KEY: u32 = 1;
const TAG_TRUSTED_CERT: u32 = 2;
/// Longest modified-UTF-8 string `DataOutput.writeUTF` can write.
const MAX_UTF_BYTES: usize = 0xFFFF;
const WHAT: Input = Input::Jks;

/// What the JCEKS advice is for: the keystore Salesforce imports, or one for Java.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvertFor {
    /// Salesforce's Certificate and Key Management imports JKS only.
    Salesforce,
    /// Java programs: PKCS12 is the JDK's default keystore type since Java 9.
    Java,
}

/// The keytool command that converts the JCEKS keystore `file` (already escaped for
/// printing) into the keystore `target` needs: JKS for Salesforce, PKCS12 for Java.
pub fn jceks_conversion(file: &str, target: ConvertFor) -> String {
    let (out, kind) = match target {
        ConvertFor::Salesforce => ("server.jks", "JKS"),
        ConvertFor::Java => ("server.p12", "PKCS12"),
    };
    format!(
        "keytool -importkeystore -srckeystore {file} -srcstoretype JCEKS -destkeystore {out} -deststoretype {kind}"
    )
}

/// The one piece of advice for a JCEKS keystore, which certmint does not read: which
/// conversion is for what (`file` is the keystore's name, escaped for printing).
pub fn jceks_advice(file: &str) -> String {
    format!(
        "convert it with keytool: to import it into Salesforce Certificate and Key Management, which takes JKS only, `{}` (with the same password for key and store); for Java programs, PKCS12, Java's default keystore type, `{}`",
        jceks_conversion(file, ConvertFor::Salesforce),
        jceks_conversion(file, ConvertFor::Java)
    )
}

/// The error for a JCEKS keystore, wherever one is read.
pub(crate) fn jceks_unsupported() -> Error {
    Error::unsupported(
        Input::KeystoreType,
        format!(
            "JCEKS (SunJCE's keystore, magic 0xCECECECE); {}",
            jceks_advice("FILE")
        ),
    )
}

/// The error for a file that is not a JKS keystore.
fn not_jks(detected: &FileType) -> Error {
    match detected {
        FileType::Empty => Error::corrupt(WHAT, "the file is empty"),
        FileType::Jceks => jceks_unsupported(),
        other => Error::WrongKind {
            expected: Expected::Jks,
            found: other.describe(),
        },
    }
}

/// Whether the integrity digest was checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Integrity {
    /// The SHA-1 digest matched the store password.
    Verified,
    /// Parsed without a password: the structure is sound, the digest was not checked.
    Unchecked,
}

/// A parsed keystore.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keystore {
    /// The version field (1 or 2).
    pub version: u32,
    /// The entries, in file order.
    pub entries: Vec<Entry>,
    /// Whether the integrity digest was verified.
    pub integrity: Integrity,
}

impl Keystore {
    /// The aliases, in file order.
    pub fn aliases(&self) -> Vec<&str> {
        self.entries.iter().map(Entry::alias).collect()
    }

    /// The private-key entries.
    pub fn private_keys(&self) -> impl Iterator<Item = &PrivateKeyEntry> {
        self.entries.iter().filter_map(|e| match e {
            Entry::PrivateKey(k) => Some(k),
            Entry::TrustedCert(_) => None,
        })
    }

    /// The entry named `alias`, compared case-insensitively as Java's JKS does (an exact
    /// match wins).
    pub fn find(&self, alias: &str) -> Result<&Entry> {
        let wanted = normalize_alias(alias);
        self.entries
            .iter()
            .find(|e| e.alias() == alias)
            .or_else(|| {
                self.entries
                    .iter()
                    .find(|e| normalize_alias(e.alias()) == wanted)
            })
            .ok_or_else(|| Error::UnknownAlias {
                alias: alias.to_owned(),
                available: if self.entries.is_empty() {
                    "no entries".into()
                } else {
                    self.aliases().join(", ")
                },
            })
    }
}

impl Keystore {
    /// The private-key entry to use: the one named `alias` (case-insensitively), or, with
    /// no alias, the only one. Errors: [`Error::UnknownAlias`] for a missing alias,
    /// [`Error::InvalidInput`] when several key entries leave the choice open,
    /// [`Error::WrongKind`] when the alias names a trusted certificate or the keystore holds
    /// no private key.
    pub fn private_key(&self, alias: Option<&str>) -> Result<&PrivateKeyEntry> {
        let keys: Vec<&PrivateKeyEntry> = self.private_keys().collect();
        match alias {
            Some(a) => match self.find(a)? {
                Entry::PrivateKey(k) => Ok(k),
                Entry::TrustedCert(c) => Err(Error::WrongKind {
                    expected: Expected::PrivateKeyEntry,
                    found: format!(
                        "the trusted certificate entry `{}`",
                        crate::text::escape(&c.alias)
                    ),
                }),
            },
            None => match keys.as_slice() {
                [only] => Ok(only),
                [] => Err(Error::WrongKind {
                    expected: Expected::KeystoreWithKey,
                    found: if self.entries.is_empty() {
                        "an empty keystore".into()
                    } else {
                        format!(
                            "only trusted certificates ({})",
                            crate::text::escape(&self.aliases().join(", "))
                        )
                    },
                }),
                several => Err(Error::invalid(
                    Input::Alias,
                    format!(
                        "none given, and the keystore holds several private keys: {}",
                        crate::text::escape(
                            &several
                                .iter()
                                .map(|k| k.alias.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    ),
                )),
            },
        }
    }
}

/// One keystore entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A protected private key with its certificate chain (tag 1).
    PrivateKey(PrivateKeyEntry),
    /// A certificate trusted on its own (tag 2).
    TrustedCert(TrustedCertEntry),
}

impl Entry {
    /// The entry's alias.
    pub fn alias(&self) -> &str {
        match self {
            Entry::PrivateKey(k) => &k.alias,
            Entry::TrustedCert(c) => &c.alias,
        }
    }

    /// The creation date, in milliseconds since 1970.
    pub fn timestamp_ms(&self) -> u64 {
        match self {
            Entry::PrivateKey(k) => k.timestamp_ms,
            Entry::TrustedCert(c) => c.timestamp_ms,
        }
    }

    /// The entry type as keytool names it.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Entry::PrivateKey(_) => "PrivateKeyEntry",
            Entry::TrustedCert(_) => "trustedCertEntry",
        }
    }
}

/// A certificate as stored in the keystore.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate {
    /// The `CertificateFactory` type, `X.509` in practice.
    pub cert_type: String,
    /// The encoded certificate (DER for X.509).
    pub der: Vec<u8>,
}

impl Certificate {
    /// An X.509 certificate from DER.
    pub fn x509(der: Vec<u8>) -> Self {
        Certificate {
            cert_type: X509.into(),
            der,
        }
    }
}

/// A Sun-KeyProtector-protected key: DER `EncryptedPrivateKeyInfo`. Encrypted, but still
/// treated as a secret (wiped on drop, not shown by `Debug`).
#[derive(Clone, PartialEq, Eq)]
pub struct ProtectedKey(Zeroizing<Vec<u8>>);

impl ProtectedKey {
    /// Wrap the DER bytes as found in a keystore.
    pub fn from_der(der: Vec<u8>) -> Self {
        ProtectedKey(Zeroizing::new(der))
    }

    /// The DER `EncryptedPrivateKeyInfo`.
    pub fn as_der(&self) -> &[u8] {
        &self.0
    }

    /// Recover the PKCS#8 key with `key_password` (see [`recover`]).
    pub fn recover(&self, key_password: &Password) -> Result<SecretBytes> {
        recover(&self.0, key_password)
    }
}

impl fmt::Debug for ProtectedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProtectedKey(<{} bytes redacted>)", self.0.len())
    }
}

/// A private key with its certificate chain (leaf first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrivateKeyEntry {
    /// The alias, as stored.
    pub alias: String,
    /// Creation date, in milliseconds since 1970.
    pub timestamp_ms: u64,
    /// The protected key.
    pub protected_key: ProtectedKey,
    /// The certificate chain, leaf first (empty only in damaged or hand-made files).
    pub chain: Vec<Certificate>,
}

impl PrivateKeyEntry {
    /// Protect `pkcs8_der` with `key_password` (fresh random salt) into a new entry. The
    /// alias is kept as given; see [`normalize_alias`].
    pub fn new(
        alias: &str,
        timestamp_ms: u64,
        pkcs8_der: &[u8],
        key_password: &Password,
        chain: Vec<Vec<u8>>,
    ) -> Result<Self> {
        Ok(PrivateKeyEntry {
            alias: alias.to_owned(),
            timestamp_ms,
            protected_key: ProtectedKey::from_der(protect(pkcs8_der, key_password)?),
            chain: chain.into_iter().map(Certificate::x509).collect(),
        })
    }

    /// Recover the PKCS#8 key with `key_password`.
    pub fn recover(&self, key_password: &Password) -> Result<SecretBytes> {
        self.protected_key.recover(key_password)
    }

    /// The leaf certificate's DER, if the chain is not empty.
    pub fn leaf(&self) -> Option<&[u8]> {
        self.chain.first().map(|c| c.der.as_slice())
    }
}

/// A trusted certificate entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedCertEntry {
    /// The alias, as stored.
    pub alias: String,
    /// Creation date, in milliseconds since 1970.
    pub timestamp_ms: u64,
    /// The certificate.
    pub cert: Certificate,
}

/// The alias as Java's JKS stores it: lowercased (`toLowerCase(Locale.ENGLISH)`).
pub fn normalize_alias(alias: &str) -> String {
    alias.to_lowercase()
}

/// The integrity digest of `body` (everything before the digest).
fn integrity_digest(password: &Password, body: &[u8]) -> [u8; DIGEST_LEN] {
    let pw = utf16be(password);
    let mut h = Sha1::new();
    h.update(pw.as_slice());
    h.update(WHITENER);
    h.update(body);
    h.finalize().into()
}
