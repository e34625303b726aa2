//! One door into keystores: a PKCS#12 or JKS file, recognised by content
//! ([`crate::detect`]: JKS by its `FE ED FE ED` magic, PKCS#12 by its PFX structure),
//! opened with a store password and, for JKS entries made with `keytool -keypass`, a
//! separate key password.
//!
//! Used wherever a keystore is an input: `export`, `jks --p12`, `p12 --jks`,
//! `jwt`/`mint --keystore`, `inspect` and `check`.

use crate::detect::FileType;
use crate::error::{Expected, Input};
use crate::key::RsaKey;
use crate::{Error, Password, Result, SecretBytes, jks, pkcs12};

/// The two keystore formats certmint reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// PKCS#12 / PFX (RFC 7292).
    Pkcs12,
    /// Java KeyStore.
    Jks,
}

impl Format {
    /// Human name.
    pub fn name(self) -> &'static str {
        match self {
            Format::Pkcs12 => "PKCS#12",
            Format::Jks => "JKS",
        }
    }
}

/// Check that `data` is a keystore certmint opens, without a password, and say which:
/// a JKS is parsed (structure only), a PKCS#12 file probed ([`pkcs12::probe`]), so that a
/// damaged file is reported before a password is asked for. Anything else is an error
/// that names what the file is instead ([`crate::detect`]).
pub fn probe(data: &[u8]) -> Result<Format> {
    match crate::detect::detect(data) {
        FileType::Jks { .. } => jks::parse(data, None).map(|_| Format::Jks),
        FileType::Jceks => Err(jks::jceks_unsupported()),
        FileType::Empty => Err(Error::corrupt(Input::Keystore, "the file is empty")),
        // The PKCS#12 reader names other kinds of file (PEM, certificates, keys) precisely.
        _ => pkcs12::probe(data).map(|_| Format::Pkcs12),
    }
}

/// One entry taken out of a keystore.
pub struct Opened {
    /// PKCS#12 or JKS.
    pub format: Format,
    /// The entry's alias (friendly name), if it has one.
    pub alias: Option<String>,
    /// The private key as unencrypted PKCS#8 DER, when the entry has one.
    pub key: Option<SecretBytes>,
    /// The certificate chain, DER, the entry's own certificate first.
    pub chain: Vec<Vec<u8>>,
    /// How the keystore is protected (for reports).
    pub description: String,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("format", &self.format)
            .field("alias", &self.alias)
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("chain", &self.chain.len())
            .finish()
    }
}

impl Opened {
    /// The key as an RSA key (errors for other algorithms or a certificate-only entry).
    pub fn rsa_key(&self) -> Result<RsaKey> {
        match &self.key {
            Some(der) => RsaKey::from_pkcs8_der(der.expose()),
            None => Err(Error::WrongKind {
                expected: Expected::EntryWithKey,
                found: "a certificate-only entry".into(),
            }),
        }
    }
}

/// Open a keystore and select an entry.
///
/// `want_key` selects among private-key entries only (and fails if there is none);
/// otherwise certificate-only entries qualify too. With several candidates and no
/// `alias`, the error is [`Error::UnknownAlias`] with an empty `alias` and the list of
/// aliases.
pub fn open(
    data: &[u8],
    store_password: &Password,
    key_password: Option<&Password>,
    alias: Option<&str>,
    want_key: bool,
) -> Result<Opened> {
    let format = match crate::detect::detect(data) {
        FileType::Jks { .. } => Format::Jks,
        _ => probe(data)?,
    };
    match format {
        Format::Pkcs12 => {
            let contents = pkcs12::read_with_key_password(data, store_password, key_password)?;
            let entry = if want_key {
                contents.key_entry(alias)?
            } else {
                contents.entry(alias)?
            };
            Ok(Opened {
                format: Format::Pkcs12,
                alias: entry.alias.clone(),
                key: entry.key.as_ref().map(|k| k.pkcs8_der().clone()),
                chain: entry.chain.clone(),
                description: contents.structure.summary(),
            })
        }
        Format::Jks => {
            let ks = jks::parse(data, Some(store_password))?;
            let description = format!(
                "JKS version {}, integrity digest verified, key entries protected with Sun's KeyProtector (SHA-1)",
                ks.version
            );
            let key_entry = if want_key || alias.is_none() {
                match ks.private_key(alias) {
                    Ok(e) => Some(e),
                    Err(e) if want_key => return Err(e),
                    Err(_) => None,
                }
            } else {
                match ks.find(alias.unwrap_or_default())? {
                    jks::Entry::PrivateKey(k) => Some(k),
                    jks::Entry::TrustedCert(c) => {
                        return Ok(Opened {
                            format: Format::Jks,
                            alias: Some(c.alias.clone()),
                            key: None,
                            chain: vec![c.cert.der.clone()],
                            description,
                        });
                    }
                }
            };
            let Some(entry) = key_entry else {
                // No key entry and no alias: a single trusted certificate is fine.
                let certs: Vec<&jks::TrustedCertEntry> = ks
                    .entries
                    .iter()
                    .filter_map(|e| match e {
                        jks::Entry::TrustedCert(c) => Some(c),
                        jks::Entry::PrivateKey(_) => None,
                    })
                    .collect();
                return match certs.as_slice() {
                    [only] => Ok(Opened {
                        format: Format::Jks,
                        alias: Some(only.alias.clone()),
                        key: None,
                        chain: vec![only.cert.der.clone()],
                        description,
                    }),
                    _ => Err(Error::UnknownAlias {
                        alias: String::new(),
                        available: ks.aliases().join(", "),
                    }),
                };
            };
            let key = entry.recover(key_password.unwrap_or(store_password))?;
            Ok(Opened {
                format: Format::Jks,
                alias: Some(entry.alias.clone()),
                key: Some(key),
                chain: entry.chain.iter().map(|c| c.der.clone()).collect(),
                description,
            })
        }
    }
}
