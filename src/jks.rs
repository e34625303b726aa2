//! Java KeyStore (JKS) version 2: the keystore Salesforce's Certificate and Key Management
//! imports, and what `keytool -storetype JKS` writes. Read and written in-project (the
//! format is small and frozen, and the `jks` crate encodes non-ASCII passwords wrongly).
//!
//! # Recognising it
//!
//! A JKS file starts with the big-endian magic `0xFEEDFEED` and the version `2` (version 1,
//! from JDK 1.1, lacks the certificate type strings; certmint reads it too). SunJCE's JCEKS
//! variant starts with `0xCECECECE`; it is recognised and refused with a hint (convert it
//! with `keytool -importkeystore -deststoretype JKS`). A PKCS#12 file starts with a DER
//! `SEQUENCE { INTEGER 3, ...}` instead.
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
//! the low-level [`write`] keeps aliases as given (for round trips and for tests that build
//! odd keystores), and [`Keystore::find`] matches case-insensitively, like Java.
//!
//! # Reading untrusted files
//!
//! Every length in the file is checked against the bytes that remain before anything is
//! sliced or copied, so no length can drive an allocation larger than the file, and no input
//! panics. Structure is checked before the digest: a truncated or damaged file is
//! [`Error::Corrupt`], never a wrong password.

use std::fmt;

use der::Decode;
use sha1::{Digest, Sha1};
use zeroize::Zeroizing;

use crate::{Error, Password, Result, SecretBytes};

mod mutf8;
mod protector;

pub use mutf8::{decode_modified_utf8, encode_modified_utf8};
use protector::{DIGEST_LEN, same, utf16be};
pub use protector::{KEY_PROTECTOR_OID, SALT_LEN, protect, protect_with_salt, recover};

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
const WHAT: &str = "JKS keystore";

/// What a file is, judged by its first bytes (no password needed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detected {
    /// JKS with this version number (certmint reads 1 and 2).
    Jks {
        /// The version field.
        version: u32,
    },
    /// SunJCE's JCEKS keystore.
    Jceks,
    /// A PKCS#12 (PFX) file: DER `SEQUENCE { INTEGER 3, ... }`.
    Pkcs12,
    /// PEM text (a key, certificate or CSR).
    Pem,
    /// An empty file.
    Empty,
    /// Anything else.
    Unknown,
}

impl Detected {
    /// A short description for messages ("a PKCS#12 (PFX) file").
    pub fn describe(self) -> String {
        match self {
            Detected::Jks { version } => format!("a JKS keystore (version {version})"),
            Detected::Jceks => "a JCEKS keystore (magic 0xCECECECE)".into(),
            Detected::Pkcs12 => "a PKCS#12 (PFX) file".into(),
            Detected::Pem => "PEM text (a key, certificate or CSR, not a keystore)".into(),
            Detected::Empty => "an empty file".into(),
            Detected::Unknown => "a file that is not a Java keystore (no 0xFEEDFEED magic)".into(),
        }
    }
}

/// Say what `data` is without parsing it.
pub fn detect(data: &[u8]) -> Detected {
    if data.is_empty() {
        return Detected::Empty;
    }
    if let Some(magic) = data.get(..4) {
        let magic = u32::from_be_bytes([magic[0], magic[1], magic[2], magic[3]]);
        if magic == MAGIC {
            let version = data
                .get(4..8)
                .map(|v| u32::from_be_bytes([v[0], v[1], v[2], v[3]]))
                .unwrap_or(0);
            return Detected::Jks { version };
        }
        if magic == JCEKS_MAGIC {
            return Detected::Jceks;
        }
    }
    if looks_like_pkcs12(data) {
        return Detected::Pkcs12;
    }
    if crate::pemfile::is_pem(data) {
        return Detected::Pem;
    }
    Detected::Unknown
}

/// True when `data` starts like a PFX: `SEQUENCE` (any length form) then `INTEGER 3`.
fn looks_like_pkcs12(data: &[u8]) -> bool {
    let Some((&0x30, rest)) = data.split_first() else {
        return false;
    };
    let Some((&len0, rest)) = rest.split_first() else {
        return false;
    };
    let skip = match len0 {
        0x00..=0x7f => 0,
        0x81..=0x84 => usize::from(len0 & 0x7f),
        _ => return false,
    };
    rest.get(skip..skip + 3) == Some(&[0x02, 0x01, 0x03][..])
}

/// The error for a file that is not a JKS keystore.
fn not_jks(detected: Detected) -> Error {
    match detected {
        Detected::Empty => Error::corrupt(WHAT, "the file is empty"),
        Detected::Jceks => Error::unsupported(
            "keystore type",
            "JCEKS (magic 0xCECECECE); convert it with `keytool -importkeystore -srcstoretype JCEKS -deststoretype JKS`",
        ),
        other => Error::WrongKind {
            expected: "a JKS keystore",
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
                    expected: "a private-key entry",
                    found: format!(
                        "the trusted certificate entry `{}`",
                        crate::text::escape(&c.alias)
                    ),
                }),
            },
            None => match keys.as_slice() {
                [only] => Ok(only),
                [] => Err(Error::WrongKind {
                    expected: "a keystore with a private key",
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
                    "alias",
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

// ---------------------------------------------------------------------------------------
// Passwords and digests

/// The integrity digest of `body` (everything before the digest).
fn integrity_digest(password: &Password, body: &[u8]) -> [u8; DIGEST_LEN] {
    let pw = utf16be(password);
    let mut h = Sha1::new();
    h.update(pw.as_slice());
    h.update(WHITENER);
    h.update(body);
    h.finalize().into()
}

// ---------------------------------------------------------------------------------------
// Reading

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
            "keystore entry",
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
    let detected = detect(data);
    let Detected::Jks { .. } = detected else {
        return Err(not_jks(detected));
    };
    let mut r = Reader { data, pos: 0 };
    r.u32("magic")?;
    let version = r.u32("version")?;
    if version != 1 && version != 2 {
        return Err(Error::unsupported(
            "JKS version",
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

// ---------------------------------------------------------------------------------------
// Writing

fn put_utf(out: &mut Vec<u8>, s: &str, what: &'static str) -> Result<()> {
    let bytes = encode_modified_utf8(s);
    let n = u16::try_from(bytes.len()).map_err(|_| {
        Error::invalid(
            what,
            format!(
                "{} bytes in modified UTF-8; JKS allows at most {MAX_UTF_BYTES}",
                bytes.len()
            ),
        )
    })?;
    out.extend_from_slice(&n.to_be_bytes());
    out.extend_from_slice(&bytes);
    Ok(())
}

fn put_bytes32(out: &mut Vec<u8>, bytes: &[u8], what: &'static str) -> Result<()> {
    let n = u32::try_from(bytes.len()).map_err(|_| Error::invalid(what, "longer than 4 GiB"))?;
    out.extend_from_slice(&n.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

fn put_cert(out: &mut Vec<u8>, cert: &Certificate) -> Result<()> {
    if cert.der.is_empty() {
        return Err(Error::invalid("certificate", "a certificate is empty"));
    }
    put_utf(out, &cert.cert_type, "certificate type")?;
    put_bytes32(out, &cert.der, "certificate")
}

/// Write a version-2 keystore holding `entries`, in order, with aliases exactly as given
/// (see [`normalize_alias`]), and seal it with `store_password`.
///
/// This is the low-level writer: key entries carry whatever key password they were
/// protected with, and a key entry may have an empty chain, so tests can build keystores
/// that break Salesforce's rules. Aliases must be non-empty and distinct
/// (case-insensitively, as Java compares them).
pub fn write(entries: &[Entry], store_password: &Password) -> Result<Vec<u8>> {
    let mut seen: Vec<String> = Vec::with_capacity(entries.len());
    for e in entries {
        if e.alias().is_empty() {
            return Err(Error::invalid("alias", "an alias is empty"));
        }
        let n = normalize_alias(e.alias());
        if seen.contains(&n) {
            return Err(Error::invalid(
                "alias",
                format!("`{}` appears twice (JKS aliases ignore case)", e.alias()),
            ));
        }
        seen.push(n);
    }
    let count =
        u32::try_from(entries.len()).map_err(|_| Error::invalid("keystore", "too many entries"))?;
    let mut out = Vec::new();
    out.extend_from_slice(&MAGIC.to_be_bytes());
    out.extend_from_slice(&VERSION.to_be_bytes());
    out.extend_from_slice(&count.to_be_bytes());
    for e in entries {
        match e {
            Entry::PrivateKey(k) => {
                out.extend_from_slice(&TAG_PRIVATE_KEY.to_be_bytes());
                put_utf(&mut out, &k.alias, "alias")?;
                out.extend_from_slice(&k.timestamp_ms.to_be_bytes());
                put_bytes32(&mut out, k.protected_key.as_der(), "protected key")?;
                let n = u32::try_from(k.chain.len())
                    .map_err(|_| Error::invalid("certificate chain", "too long"))?;
                out.extend_from_slice(&n.to_be_bytes());
                for c in &k.chain {
                    put_cert(&mut out, c)?;
                }
            }
            Entry::TrustedCert(c) => {
                out.extend_from_slice(&TAG_TRUSTED_CERT.to_be_bytes());
                put_utf(&mut out, &c.alias, "alias")?;
                out.extend_from_slice(&c.timestamp_ms.to_be_bytes());
                put_cert(&mut out, &c.cert)?;
            }
        }
    }
    let digest = integrity_digest(store_password, &out);
    out.extend_from_slice(&digest);
    Ok(out)
}

/// Write a keystore with one PrivateKeyEntry, the way Salesforce wants it: the key
/// password equals `password` (the store password), and the alias is lowercased as keytool
/// stores it. `pkcs8_der` is an unencrypted PKCS#8 `PrivateKeyInfo`; `chain` holds DER
/// certificates, leaf first (at least one). `timestamp_ms` is the entry's creation date.
///
/// Salesforce's other rules (RSA, key size, key matching the certificate, the alias as a
/// Unique Name) are checked by [`crate::salesforce`], not here.
pub fn write_private_key(
    alias: &str,
    pkcs8_der: &[u8],
    chain: &[Vec<u8>],
    timestamp_ms: u64,
    password: &Password,
) -> Result<Vec<u8>> {
    if chain.is_empty() {
        return Err(Error::invalid(
            "certificate chain",
            "a private-key entry needs its certificate",
        ));
    }
    pkcs8::PrivateKeyInfoRef::from_der(pkcs8_der)
        .map_err(|e| Error::invalid("private key", format!("not a PKCS#8 PrivateKeyInfo ({e})")))?;
    let entry = PrivateKeyEntry::new(
        &normalize_alias(alias),
        timestamp_ms,
        pkcs8_der,
        password,
        chain.to_vec(),
    )?;
    write(&[Entry::PrivateKey(entry)], password)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> Password {
        Password::from(s)
    }

    /// A structurally valid PKCS#8 blob is not needed by the protector itself.
    const FAKE_KEY: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz-not-really-pkcs8";

    fn sample() -> (Vec<u8>, Password) {
        let p = pw("changeit");
        let key = PrivateKeyEntry {
            alias: "mykey".into(),
            timestamp_ms: 1_700_000_000_000,
            protected_key: ProtectedKey::from_der(
                protect_with_salt(FAKE_KEY, &p, &[1; 20]).unwrap(),
            ),
            chain: vec![Certificate::x509(vec![0x30, 0x03, 0x02, 0x01, 0x01])],
        };
        let trusted = TrustedCertEntry {
            alias: "ca".into(),
            timestamp_ms: 1_600_000_000_000,
            cert: Certificate::x509(vec![0x30, 0x03, 0x02, 0x01, 0x02]),
        };
        let bytes = write(&[Entry::PrivateKey(key), Entry::TrustedCert(trusted)], &p).unwrap();
        (bytes, p)
    }

    #[test]
    fn write_then_parse_round_trips_byte_for_byte() {
        let (bytes, p) = sample();
        let ks = parse(&bytes, Some(&p)).unwrap();
        assert_eq!(ks.integrity, Integrity::Verified);
        assert_eq!(ks.aliases(), ["mykey", "ca"]);
        let again = write(&ks.entries, &p).unwrap();
        assert_eq!(again, bytes);
        let k = ks.private_keys().next().unwrap();
        assert_eq!(k.recover(&p).unwrap().expose(), FAKE_KEY);
        let unchecked = parse(&bytes, None).unwrap();
        assert_eq!(unchecked.integrity, Integrity::Unchecked);
        assert_eq!(unchecked.entries, ks.entries);
    }

    #[test]
    fn find_ignores_case_like_java() {
        let (bytes, _) = sample();
        let ks = parse(&bytes, None).unwrap();
        assert_eq!(ks.find("MyKey").unwrap().alias(), "mykey");
        let err = ks.find("nope").unwrap_err();
        assert!(
            matches!(err, Error::UnknownAlias { ref available, .. } if available == "mykey, ca"),
            "{err}"
        );
    }

    #[test]
    fn private_key_selection() {
        let (bytes, _) = sample();
        let ks = parse(&bytes, None).unwrap();
        assert_eq!(ks.private_key(None).unwrap().alias, "mykey");
        assert_eq!(ks.private_key(Some("MYKEY")).unwrap().alias, "mykey");
        assert!(matches!(
            ks.private_key(Some("ca")),
            Err(Error::WrongKind { .. })
        ));
        assert!(matches!(
            ks.private_key(Some("x")),
            Err(Error::UnknownAlias { .. })
        ));
    }

    #[test]
    fn wrong_store_password_and_altered_digest_are_distinct() {
        let (bytes, p) = sample();
        let err = parse(&bytes, Some(&pw("wrong-pass"))).unwrap_err();
        assert!(
            matches!(
                err,
                Error::WrongPassword {
                    what: "JKS keystore"
                }
            ),
            "{err}"
        );
        let mut altered = bytes.clone();
        let last = altered.len() - 1;
        altered[last] ^= 1;
        let err = parse(&altered, Some(&p)).unwrap_err();
        assert!(matches!(err, Error::Corrupt { .. }), "{err}");
    }

    #[test]
    fn truncation_at_every_offset_is_corrupt_not_wrong_password() {
        let (bytes, p) = sample();
        for n in 0..bytes.len() {
            for pass in [None, Some(&p)] {
                match parse(&bytes[..n], pass) {
                    Err(Error::Corrupt { .. }) => {}
                    // Cut inside the magic: not recognisable as JKS any more.
                    Err(Error::WrongKind { .. }) if n < 4 => {}
                    other => panic!("prefix of {n} bytes: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn garbage_never_panics() {
        let (bytes, p) = sample();
        // A small xorshift generator: deterministic, no dev-dependency.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..3000 {
            let mut b = bytes.clone();
            let flips = 1 + (next() % 4) as usize;
            for _ in 0..flips {
                let i = (next() as usize) % b.len();
                b[i] ^= 1 << (next() % 8);
            }
            if let Ok(ks) = parse(&b, Some(&p)) {
                for k in ks.private_keys() {
                    let _ = k.recover(&p);
                }
            }
            let _ = parse(&b, None);
        }
        // Huge lengths and counts must fail cleanly, without allocating.
        let mut huge = bytes[..12].to_vec();
        huge[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        huge.extend_from_slice(&[0, 0, 0, 1, 0xff, 0xff]);
        assert!(matches!(parse(&huge, None), Err(Error::Corrupt { .. })));
        let mut len = bytes[..12].to_vec();
        len.extend_from_slice(&[0, 0, 0, 1, 0, 1, b'a']);
        len.extend_from_slice(&[0; 8]);
        len.extend_from_slice(&[0xff; 4]);
        assert!(matches!(parse(&len, None), Err(Error::Corrupt { .. })));
        for _ in 0..2000 {
            let n = (next() % 64) as usize;
            let mut g: Vec<u8> = (0..n).map(|_| next() as u8).collect();
            if next() % 2 == 0 && g.len() >= 8 {
                g[..8].copy_from_slice(&[0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2]);
            }
            let _ = parse(&g, None);
            let _ = recover(&g, &p);
            let _ = decode_modified_utf8(&g);
        }
    }

    #[test]
    fn other_kinds_are_named() {
        assert!(matches!(parse(b"", None), Err(Error::Corrupt { .. })));
        assert!(matches!(
            parse(&[0xce, 0xce, 0xce, 0xce, 0, 0, 0, 2], None),
            Err(Error::Unsupported { .. })
        ));
        let pfx = [0x30, 0x82, 0x0a, 0x00, 0x02, 0x01, 0x03, 0x30];
        assert_eq!(detect(&pfx), Detected::Pkcs12);
        assert!(
            matches!(parse(&pfx, None), Err(Error::WrongKind { ref found, .. }) if found.contains("PKCS#12"))
        );
        let pem = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(
            matches!(parse(pem, None), Err(Error::WrongKind { ref found, .. }) if found.contains("PEM"))
        );
        let mut v3 = [0u8; 32];
        v3[..8].copy_from_slice(&[0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 3]);
        assert!(matches!(parse(&v3, None), Err(Error::Unsupported { .. })));
    }

    #[test]
    fn writer_refuses_bad_aliases() {
        let p = pw("changeit");
        let mk = |a: &str| {
            Entry::TrustedCert(TrustedCertEntry {
                alias: a.into(),
                timestamp_ms: 0,
                cert: Certificate::x509(vec![0x30, 0x00]),
            })
        };
        assert!(write(&[mk("")], &p).is_err());
        assert!(write(&[mk("a"), mk("A")], &p).is_err());
        assert!(write(&[mk(&"x".repeat(70_000))], &p).is_err());
        let long = "€".repeat(21_845); // 65,535 bytes: the longest alias writeUTF allows
        let bytes = write(&[mk(&long)], &p).unwrap();
        assert_eq!(parse(&bytes, Some(&p)).unwrap().aliases(), [long.as_str()]);
    }

    #[test]
    fn debug_is_redacted() {
        let (bytes, _) = sample();
        let ks = parse(&bytes, None).unwrap();
        let dbg = format!("{ks:?}");
        assert!(dbg.contains("redacted"), "{dbg}");
    }
}
