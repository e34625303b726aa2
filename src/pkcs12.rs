//! PKCS#12 / PFX files (RFC 7292): a private key and its certificate chain under one
//! password, the bundle `openssl pkcs12 -export` and `keytool -storetype PKCS12` write.
//!
//! # Recognising one
//!
//! A PFX is DER (never PEM), usually named `.p12` or `.pfx`:
//!
//! ```text
//! PFX ::= SEQUENCE {
//!     version   INTEGER 3,
//!     authSafe  ContentInfo,          -- id-data (1.2.840.113549.1.7.1) holding an
//!                                     -- OCTET STRING with the AuthenticatedSafe
//!     macData   MacData OPTIONAL }    -- HMAC over that OCTET STRING's contents
//! ```
//!
//! so a file starts `30 82 xx xx 02 01 03 30`. The `AuthenticatedSafe` is a sequence of
//! `ContentInfo`s, each either plain (`id-data`) or password-encrypted
//! (`id-encryptedData`, RFC 5652), holding `SafeBag`s: `pkcs8ShroudedKeyBag` (an
//! encrypted PKCS#8 key, RFC 5958), `certBag` (an X.509 certificate), and others. Bags
//! carry `friendlyName` (the alias Java and OpenSSL show) and `localKeyID` (which links
//! a key to its certificate). A JKS keystore instead starts with the magic `FE ED FE ED`.
//!
//! # Encryption and compatibility
//!
//! Three families of algorithm are in use, and who can read a file depends on them:
//! PBES2 (RFC 8018 §6.2: PBKDF2 with AES-CBC), written by OpenSSL 3 and current JDKs; the
//! PKCS#12 PBE schemes (RFC 7292 Appendix C: SHA-1 key derivation with 3DES or RC2),
//! written by OpenSSL 1.x and older JDKs; and the MAC's hash (SHA-256 or SHA-1). certmint
//! writes three [`Profile`]s and reads all of these (RC4 and PBES1 are refused by name).
//! Passwords are BMPStrings (UTF-16BE plus two zero bytes) for the PKCS#12 KDF and UTF-8
//! for PBKDF2, which is what both OpenSSL and Java do, so non-ASCII passwords interoperate.
//!
//! # Design
//!
//! Files are written here over the RustCrypto types (`pkcs12`, `cms`, `pkcs5`, and `des`,
//! `rc2`, `cbc` with the PKCS#12 KDF from `pkcs12`), not with `p12-keystore`'s writer:
//! that writer names the certificate bag after the subject DN instead of the alias and
//! uses one algorithm for both bags, so it can produce neither OpenSSL's layout nor the
//! `java8`/`legacy` profiles. Reading is in-project as well, because `inspect` needs the
//! algorithm of each bag and because a wrong password, a damaged file and an unsupported
//! algorithm must be three different errors.

mod mac;
mod pbe;
mod read;
mod write;

use std::fmt;
use std::str::FromStr;

use crate::error::{Expected, Input};
use crate::key::RsaKey;
use crate::{Error, Result, SecretBytes};

pub use pbe::{MAX_ITERATIONS, MAX_SALT_LEN, MAX_TOTAL_ITERATIONS};
// The PKCS#12 PBE, reused for encrypted PKCS#8 keys that use it (`openssl pkcs8 -v1
// PBE-SHA1-3DES`, older Java): crate::key.
pub(crate) use pbe::{PasswordForms, Scheme as PbeScheme};
pub use read::{probe, read, read_with_key_password};
pub use write::{MAX_WRITE_ITERATIONS, MIN_WRITE_ITERATIONS, WriteOptions, write, write_with_rng};

/// Which algorithms a new PKCS#12 file uses, chosen by who has to open it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Profile {
    /// PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) for the key and for the certificates, and
    /// an HMAC-SHA256 MAC: what OpenSSL 3 and current JDKs write. Read by OpenSSL 1.1.1
    /// and 3.x, Java 8u301+, 11.0.12+ and 17+; not by older Java 8 updates nor older
    /// Windows and macOS keychains.
    #[default]
    Modern,
    /// pbeWithSHAAnd3-KeyTripleDES-CBC for the key and for the certificates, and an
    /// HMAC-SHA1 MAC. Read by every JDK since 8 (including updates before 8u301), older
    /// Windows and macOS keychains, and OpenSSL 1.x and 3.x without `-legacy`.
    Java8,
    /// pbeWithSHAAnd3-KeyTripleDES-CBC for the key, pbeWithSHAAnd40BitRC2-CBC for the
    /// certificates, and an HMAC-SHA1 MAC: what OpenSSL 1.x wrote by default. OpenSSL 3
    /// opens it only with `-legacy`; Java reads it. Only for readers that need exactly
    /// this; RC2-40 protects nothing.
    Legacy,
}

impl Profile {
    /// Every profile, default first.
    pub const ALL: [Profile; 3] = [Profile::Modern, Profile::Java8, Profile::Legacy];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Modern => "modern",
            Profile::Java8 => "java8",
            Profile::Legacy => "legacy",
        }
    }

    /// The algorithms, in words.
    pub fn algorithms(self) -> &'static str {
        match self {
            Profile::Modern => {
                "PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) for key and certificates, HMAC-SHA256 MAC"
            }
            Profile::Java8 => {
                "pbeWithSHAAnd3-KeyTripleDES-CBC for key and certificates, HMAC-SHA1 MAC"
            }
            Profile::Legacy => {
                "pbeWithSHAAnd3-KeyTripleDES-CBC key, pbeWithSHAAnd40BitRC2-CBC certificates, HMAC-SHA1 MAC"
            }
        }
    }

    /// Who can open a file written with this profile.
    pub fn readable_by(self) -> &'static str {
        match self {
            Profile::Modern => READ_MODERN,
            Profile::Java8 => READ_ALL,
            Profile::Legacy => READ_LEGACY,
        }
    }

    /// The iteration counts written by default: (key and certificate encryption, MAC).
    ///
    /// `modern` uses 100,000 everywhere: ten times what JDK 17 writes (10,000) and fifty
    /// times OpenSSL 3 (2,048), at about a tenth of a second to write and verify. Every KDF
    /// in the file gets the same count, since a password guesser attacks the cheapest one.
    /// `java8` and `legacy` use what JDK 8 wrote with these algorithms (50,000 for the
    /// encryption, 100,000 for the MAC), which the readers that need them are known to take.
    pub fn default_iterations(self) -> (u32, u32) {
        match self {
            Profile::Modern => (100_000, 100_000),
            Profile::Java8 | Profile::Legacy => (50_000, 100_000),
        }
    }
}

const READ_MODERN: &str = "OpenSSL 1.1.1 and 3.x, Java 8u301+, 11.0.12+ and 17+; not older Java 8 updates, nor older Windows and macOS keychains";
const READ_ALL: &str = "OpenSSL 1.x and 3.x (no -legacy needed), every Java since 8, older Windows and macOS keychains";
const READ_LEGACY: &str =
    "OpenSSL 1.x, OpenSSL 3 only with -legacy, every Java since 8, Windows and macOS keychains";
const READ_BOTH: &str = "OpenSSL 3 only with -legacy, and Java 8u301+, 11.0.12+ and 17+";

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Profile {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Profile::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                Error::invalid(
                    Input::Pkcs12Profile,
                    format!("`{s}`; use modern, java8 or legacy"),
                )
            })
    }
}

impl serde::Serialize for Profile {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// Read from text such as a manifest: the profile's name, in any case. Anything else is
/// refused with the accepted names, never quoting what was found (it comes from a file).
impl<'de> serde::Deserialize<'de> for Profile {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(ProfileName)
    }
}

/// The serde visitor of a profile name.
struct ProfileName;

impl ProfileName {
    fn refuse<E: serde::de::Error>() -> E {
        E::custom(format!(
            "not a PKCS#12 profile certmint knows; expected one of {}",
            Profile::ALL.map(Profile::name).join(", ")
        ))
    }
}

impl<'de> serde::de::Visitor<'de> for ProfileName {
    type Value = Profile;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a PKCS#12 profile name")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Profile, E> {
        Profile::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(v))
            .ok_or_else(Self::refuse)
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> std::result::Result<Profile, E> {
        Err(Self::refuse())
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> std::result::Result<Profile, E> {
        Err(Self::refuse())
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> std::result::Result<Profile, E> {
        Err(Self::refuse())
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> std::result::Result<Profile, E> {
        Err(Self::refuse())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        _: A,
    ) -> std::result::Result<Profile, A::Error> {
        Err(Self::refuse())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        _: A,
    ) -> std::result::Result<Profile, A::Error> {
        Err(Self::refuse())
    }
}

/// How one part of a file is protected, described without decrypting it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Protection {
    /// e.g. "PBES2 (PBKDF2-HMAC-SHA256, 2048 iterations, AES-256-CBC)".
    pub description: String,
    /// PBES2: readers older than Java 8u301 cannot open it.
    pub pbes2: bool,
    /// RC2, RC4 or single DES: OpenSSL 3 needs `-legacy`.
    pub openssl_legacy: bool,
    /// certmint can decrypt it.
    pub supported: bool,
}

/// The integrity MAC of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MacInfo {
    /// e.g. "HMAC-SHA256".
    pub algorithm: String,
    /// PKCS#12 KDF iterations.
    pub iterations: u64,
    /// Length of the MAC salt in bytes.
    pub salt_len: usize,
    /// A SHA-2 MAC: readers older than Java 8u301 cannot check it.
    pub sha2: bool,
    /// certmint can check it.
    pub supported: bool,
}

/// What a bag holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BagKind {
    /// An unencrypted PKCS#8 key (`keyBag`).
    Key,
    /// An encrypted PKCS#8 key (`pkcs8ShroudedKeyBag`).
    ShroudedKey,
    /// An X.509 certificate (`certBag`).
    Certificate,
    /// A certificate revocation list.
    Crl,
    /// A secret (`secretBag`, e.g. a Java `SecretKeyEntry`).
    Secret,
    /// Anything else, by OID.
    Other(String),
}

/// One bag, described.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BagInfo {
    /// What it holds.
    pub kind: BagKind,
    /// The `friendlyName` attribute (the alias), unescaped: escape before printing.
    pub friendly_name: Option<String>,
    /// The `localKeyID` attribute.
    pub local_key_id: Option<Vec<u8>>,
    /// For a shrouded key bag, how the key is encrypted.
    pub encryption: Option<Protection>,
}

/// One `ContentInfo` of the authenticated safe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SafeInfo {
    /// `None` for plain `id-data`, else how the contents are encrypted.
    pub encryption: Option<Protection>,
    /// The bags, or `None` while encrypted contents have not been decrypted.
    pub bags: Option<Vec<BagInfo>>,
}

/// The layout and algorithms of a PKCS#12 file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Structure {
    /// The integrity MAC, `None` when the file has none (`openssl -nomac`).
    pub mac: Option<MacInfo>,
    /// The safes, in file order.
    pub safes: Vec<SafeInfo>,
}

impl Structure {
    fn bags(&self) -> impl Iterator<Item = (&SafeInfo, &BagInfo)> {
        self.safes
            .iter()
            .flat_map(|s| s.bags.iter().flatten().map(move |b| (s, b)))
    }

    fn protections(&self) -> impl Iterator<Item = &Protection> {
        self.safes
            .iter()
            .filter_map(|s| s.encryption.as_ref())
            .chain(self.bags().filter_map(|(_, b)| b.encryption.as_ref()))
    }

    /// How the private keys are protected (distinct descriptions).
    pub fn key_protection(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (_, b) in self.bags() {
            let d = match (&b.kind, &b.encryption) {
                (BagKind::ShroudedKey, Some(p)) => p.description.clone(),
                (BagKind::Key, _) => "not encrypted (keyBag)".to_string(),
                _ => continue,
            };
            if !out.contains(&d) {
                out.push(d);
            }
        }
        out
    }

    /// How the certificates are protected (distinct descriptions), or, before decryption,
    /// how the encrypted contents are (which by convention hold the certificates).
    pub fn certificate_protection(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in &self.safes {
            let holds_certs = match &s.bags {
                Some(bags) => bags.iter().any(|b| b.kind == BagKind::Certificate),
                None => true,
            };
            if !holds_certs {
                continue;
            }
            let d = match &s.encryption {
                Some(p) => p.description.clone(),
                None => "not encrypted".to_string(),
            };
            if !out.contains(&d) {
                out.push(d);
            }
        }
        out
    }

    /// One line for `inspect`: "key: ...; certificates: ...; MAC: ...".
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        let keys = self.key_protection();
        if !keys.is_empty() {
            parts.push(format!("key: {}", keys.join(" / ")));
        }
        let certs = self.certificate_protection();
        if !certs.is_empty() {
            parts.push(format!("certificates: {}", certs.join(" / ")));
        }
        parts.push(match &self.mac {
            Some(m) => format!("MAC: {}, {} iterations", m.algorithm, m.iterations),
            None => "MAC: none (no integrity check)".to_string(),
        });
        parts.join("; ")
    }

    /// The certmint profile whose algorithms the file uses, if any (iteration counts
    /// aside).
    pub fn profile(&self) -> Option<Profile> {
        let keys = self.key_protection();
        let certs = self.certificate_protection();
        let mac = self.mac.as_ref()?;
        let all =
            |v: &[String], prefix: &str| !v.is_empty() && v.iter().all(|d| d.starts_with(prefix));
        let modern_pbes2 = "PBES2 (PBKDF2-HMAC-SHA256";
        let tdes = "pbeWithSHAAnd3-KeyTripleDES-CBC";
        let rc2 = "pbeWithSHAAnd40BitRC2-CBC";
        let pbes2_aes256 =
            |v: &[String]| all(v, modern_pbes2) && v.iter().all(|d| d.ends_with("AES-256-CBC)"));
        if pbes2_aes256(&keys) && pbes2_aes256(&certs) && mac.algorithm == "HMAC-SHA256" {
            Some(Profile::Modern)
        } else if all(&keys, tdes) && all(&certs, tdes) && mac.algorithm == "HMAC-SHA1" {
            Some(Profile::Java8)
        } else if all(&keys, tdes) && all(&certs, rc2) && mac.algorithm == "HMAC-SHA1" {
            Some(Profile::Legacy)
        } else {
            None
        }
    }

    /// Who can open the file, judged from its algorithms.
    pub fn readable_by(&self) -> &'static str {
        let modern =
            self.protections().any(|p| p.pbes2) || self.mac.as_ref().is_some_and(|m| m.sha2);
        let legacy = self.protections().any(|p| p.openssl_legacy);
        match (modern, legacy) {
            (false, false) => READ_ALL,
            (true, false) => READ_MODERN,
            (false, true) => READ_LEGACY,
            (true, true) => READ_BOTH,
        }
    }
}

/// A private key found in a PKCS#12 file.
// A file holds one or two keys: boxing the RSA key would only make matching clumsier.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum PrivateKey {
    /// An RSA key.
    Rsa(RsaKey),
    /// Any other algorithm, kept as unencrypted PKCS#8 DER.
    Other {
        /// The algorithm, in words ("an EC key", or the OID).
        algorithm: String,
        /// The PKCS#8 `PrivateKeyInfo`.
        pkcs8: SecretBytes,
    },
}

impl PrivateKey {
    /// Unencrypted PKCS#8 DER.
    pub fn pkcs8_der(&self) -> &SecretBytes {
        match self {
            PrivateKey::Rsa(k) => k.pkcs8_der(),
            PrivateKey::Other { pkcs8, .. } => pkcs8,
        }
    }

    /// The RSA key, or [`Error::NotRsa`].
    pub fn rsa(&self) -> Result<&RsaKey> {
        match self {
            PrivateKey::Rsa(k) => Ok(k),
            PrivateKey::Other { algorithm, .. } => Err(Error::NotRsa(algorithm.clone())),
        }
    }
}

/// One entry: a private key with its chain (Java's `PrivateKeyEntry`), or a certificate
/// on its own (`trustedCertEntry`).
#[derive(Clone, Debug)]
pub struct Entry {
    /// The friendly name of the key bag (else of the certificate bag). Unescaped: escape
    /// it before printing.
    pub alias: Option<String>,
    /// The `localKeyID` linking key and certificate.
    pub local_key_id: Option<Vec<u8>>,
    /// The decrypted private key, `None` for a certificate-only entry.
    pub key: Option<PrivateKey>,
    /// Certificates (DER), the key's own first, then its issuers as found in the file.
    pub chain: Vec<Vec<u8>>,
}

/// Everything in a PKCS#12 file, decrypted.
#[derive(Clone, Debug)]
pub struct Contents {
    /// Private-key entries first, then certificate-only entries.
    pub entries: Vec<Entry>,
    /// The layout and algorithms, with every bag known.
    pub structure: Structure,
}

impl Contents {
    /// The aliases, escaped for display, "(no name)" for unnamed entries.
    pub fn aliases(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|e| match &e.alias {
                Some(a) => crate::text::escape(a),
                None => "(no name)".to_string(),
            })
            .collect()
    }

    /// The entry named `alias` (exact match first, then ignoring ASCII case as Java
    /// does), or, when `alias` is `None`, the only private-key entry (or the only entry
    /// of a file without keys).
    ///
    /// Errors: [`Error::UnknownAlias`] when no entry has that name, or when `alias` is
    /// `None` and the choice is ambiguous (then `alias` in the error is empty);
    /// [`Error::WrongKind`] for a file with no entries.
    pub fn entry(&self, alias: Option<&str>) -> Result<&Entry> {
        let available = || self.aliases().join(", ");
        match alias {
            Some(a) => {
                let exact = self.entries.iter().find(|e| e.alias.as_deref() == Some(a));
                let folded = || {
                    let mut m = self.entries.iter().filter(|e| {
                        e.alias
                            .as_deref()
                            .is_some_and(|x| x.eq_ignore_ascii_case(a))
                    });
                    match (m.next(), m.next()) {
                        (Some(e), None) => Some(e),
                        _ => None,
                    }
                };
                exact.or_else(folded).ok_or_else(|| Error::UnknownAlias {
                    alias: crate::text::escape(a),
                    available: available(),
                })
            }
            None => {
                let mut keyed = self.entries.iter().filter(|e| e.key.is_some());
                let only = match (keyed.next(), keyed.next()) {
                    (Some(e), None) => Some(e),
                    (Some(_), Some(_)) => None,
                    (None, _) if self.entries.len() == 1 => self.entries.first(),
                    (None, _) if self.entries.is_empty() => {
                        return Err(Error::WrongKind {
                            expected: Expected::Pkcs12WithContents,
                            found: "an empty PKCS#12 file".into(),
                        });
                    }
                    (None, _) => None,
                };
                only.ok_or_else(|| Error::UnknownAlias {
                    alias: String::new(),
                    available: available(),
                })
            }
        }
    }

    /// [`Contents::entry`], which must hold a private key: [`Error::WrongKind`] for a
    /// certificate-only entry.
    pub fn key_entry(&self, alias: Option<&str>) -> Result<&Entry> {
        let entry = self.entry(alias)?;
        if entry.key.is_none() {
            return Err(Error::WrongKind {
                expected: Expected::PrivateKeyEntry,
                found: format!(
                    "a certificate-only entry `{}`",
                    crate::text::escape(entry.alias.as_deref().unwrap_or("(no name)"))
                ),
            });
        }
        Ok(entry)
    }
}

/// A warning when Java cannot use `password` with `profile`, else `None`.
///
/// Measured with OpenJDK 17.0.15 and Temurin 25.0.3: Java 17 (like every release before
/// the JDK-8348732 change) refuses non-ASCII PKCS#12 passwords outright ("Password is not
/// ASCII"); Java 25 reads PBES2 files with them but derives 3DES and RC2 keys from a
/// mangled form of the password (each UTF-8 byte cut to 7 bits), so it cannot open a
/// `java8` or `legacy` file that OpenSSL wrote or reads. certmint writes what RFC 7292,
/// OpenSSL and Java's own MAC use.
pub fn password_caveat(profile: Profile, password: &crate::Password) -> Option<&'static str> {
    if password.expose().is_ascii() {
        return None;
    }
    Some(match profile {
        Profile::Modern => {
            "the password is not ASCII: OpenSSL and Java 25 open this file, but Java 17 and older refuse non-ASCII PKCS#12 passwords"
        }
        Profile::Java8 | Profile::Legacy => {
            "the password is not ASCII: OpenSSL opens this file, but no Java release does (Java 17 and older refuse non-ASCII PKCS#12 passwords; Java 25 derives 3DES/RC2 keys from a mangled form of them); use an ASCII password for Java"
        }
    })
}

/// Who can read a file of `profile` under `password`: [`Profile::readable_by`] for an
/// ASCII password; for a non-ASCII one, without the Java releases that refuse it (every
/// Java for `java8` and `legacy`, Java 17 and older for `modern`: [`password_caveat`]), so
/// the list agrees with the warning. The keychains are left out there: untested with such
/// passwords.
pub fn readable_by_with(profile: Profile, password: &crate::Password) -> &'static str {
    if password.expose().is_ascii() {
        return profile.readable_by();
    }
    match profile {
        Profile::Modern => {
            "OpenSSL 1.1.1 and 3.x, Java 25 and later; not Java 17 and older (the password is not ASCII)"
        }
        Profile::Java8 => {
            "OpenSSL 1.x and 3.x (no -legacy needed); no Java release (the password is not ASCII)"
        }
        Profile::Legacy => {
            "OpenSSL 1.x, OpenSSL 3 only with -legacy; no Java release (the password is not ASCII)"
        }
    }
}

#[cfg(test)]
mod tests;
