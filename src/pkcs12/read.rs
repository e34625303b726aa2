//! Reading PKCS#12 files from any tool: OpenSSL 1.x and 3.x, keytool, certmint and
//! others that follow RFC 7292 in DER.
//!
//! Parsing is lenient where real files differ (attribute order, unknown bags and
//! attributes) and strict where it matters: every length comes from the DER parser,
//! which never reads past its input, and every iteration count and salt is bounded
//! before any key derivation runs.

use der::asn1::{AnyRef, ObjectIdentifier, OctetStringRef};
use der::{Decode, Reader, SliceReader, Tag, Tagged};
use spki::AlgorithmIdentifierRef;
use zeroize::Zeroizing;

use super::mac::{MacAlg, MacParams};
use super::pbe::{Budget, PasswordForms, Scheme, protection};
use super::{BagInfo, BagKind, Contents, Entry, MacInfo, PrivateKey, SafeInfo, Structure};
use crate::detect::FileType;
use crate::error::{Expected, Input};
use crate::key::RsaKey;
use crate::{Error, Password, Result, SecretBytes};

const WHAT: Input = Input::Pkcs12;

const ID_DATA: &str = "1.2.840.113549.1.7.1";
const ID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
const ID_ENVELOPED_DATA: &str = "1.2.840.113549.1.7.3";
const ID_ENCRYPTED_DATA: &str = "1.2.840.113549.1.7.6";

const KEY_BAG: &str = "1.2.840.113549.1.12.10.1.1";
const SHROUDED_KEY_BAG: &str = "1.2.840.113549.1.12.10.1.2";
const CERT_BAG: &str = "1.2.840.113549.1.12.10.1.3";
const CRL_BAG: &str = "1.2.840.113549.1.12.10.1.4";
const SECRET_BAG: &str = "1.2.840.113549.1.12.10.1.5";
const SAFE_CONTENTS_BAG: &str = "1.2.840.113549.1.12.10.1.6";
const X509_CERTIFICATE: &str = "1.2.840.113549.1.9.22.1";
const FRIENDLY_NAME: &str = "1.2.840.113549.1.9.20";
const LOCAL_KEY_ID: &str = "1.2.840.113549.1.9.21";

/// How deep `safeContentsBag`s may nest.
const MAX_NESTING: u8 = 4;

fn corrupt(e: impl std::fmt::Display) -> Error {
    Error::corrupt(WHAT, e)
}

// ---------------------------------------------------------------------------------------
// Outer structure
// ---------------------------------------------------------------------------------------

#[derive(der::Sequence)]
struct PfxRef<'a> {
    version: u64,
    auth_safe: ContentInfoRef<'a>,
    mac_data: Option<MacDataRef<'a>>,
}

#[derive(der::Sequence)]
struct ContentInfoRef<'a> {
    content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    content: Option<AnyRef<'a>>,
}

#[derive(der::Sequence)]
struct DigestInfoRef<'a> {
    algorithm: AlgorithmIdentifierRef<'a>,
    digest: &'a OctetStringRef,
}

#[derive(der::Sequence)]
struct MacDataRef<'a> {
    mac: DigestInfoRef<'a>,
    salt: &'a OctetStringRef,
    #[asn1(default = "one")]
    iterations: u64,
}

fn one() -> u64 {
    1
}

#[derive(der::Sequence)]
struct EncryptedPrivateKeyInfoRef<'a> {
    algorithm: AlgorithmIdentifierRef<'a>,
    data: &'a OctetStringRef,
}

/// A safe as found in the file.
enum RawSafe<'a> {
    /// `id-data`: the DER of `SafeContents`.
    Plain(&'a [u8]),
    /// `id-encryptedData`.
    Encrypted {
        algorithm: AlgorithmIdentifierRef<'a>,
        content: &'a [u8],
    },
}

/// The file, parsed but not decrypted.
struct Outer<'a> {
    /// The contents of the authSafe OCTET STRING: what the MAC covers.
    auth_safe: &'a [u8],
    mac: Option<MacDataRef<'a>>,
    safes: Vec<RawSafe<'a>>,
}

/// Say what a file is when it is not a PFX: another kind ([`crate::detect`]), or where the
/// DER of what looks like one breaks.
fn not_a_pfx(data: &[u8], err: der::Error) -> Error {
    let detected = crate::detect::detect(data);
    match detected {
        FileType::Empty => return Error::corrupt(WHAT, "the file is empty"),
        FileType::Pem { .. } | FileType::BrokenPem => {
            return Error::WrongKind {
                expected: Expected::Pkcs12Der,
                found: detected.describe(),
            };
        }
        FileType::Pkcs12 | FileType::Unknown => {}
        other => {
            return Error::WrongKind {
                expected: Expected::Pkcs12,
                found: other.describe(),
            };
        }
    }
    if data.len() > 1 && data[0] == 0x30 && data[1] == 0x80 {
        return Error::unsupported(
            Input::Pkcs12Encoding,
            "BER with indefinite lengths (as some Windows exports write); re-encode it with `openssl pkcs12 -in FILE -nodes | openssl pkcs12 -export ...`",
        );
    }
    if matches!(err.kind(), der::ErrorKind::Incomplete { .. }) && data.first() == Some(&0x30) {
        return Error::corrupt(
            WHAT,
            format!(
                "the file is truncated: it ends after {} bytes, in the middle of a DER value",
                data.len()
            ),
        );
    }
    if data.first() != Some(&0x30) {
        return Error::corrupt(
            WHAT,
            "not a PKCS#12 file (it does not start with a DER SEQUENCE)",
        );
    }
    corrupt(err)
}

fn parse_outer(data: &[u8]) -> Result<Outer<'_>> {
    let pfx = PfxRef::from_der(data).map_err(|e| not_a_pfx(data, e))?;
    if pfx.version != 3 {
        return Err(Error::unsupported(
            Input::Pkcs12Version,
            format!("{} (only version 3 exists)", pfx.version),
        ));
    }
    let ct = pfx.auth_safe.content_type.to_string();
    match ct.as_str() {
        ID_DATA => {}
        ID_SIGNED_DATA => {
            return Err(Error::unsupported(
                Input::Pkcs12IntegrityMode,
                "public-key integrity (signedData); certmint reads password-protected files",
            ));
        }
        other => return Err(corrupt(format!("authSafe content type {other}"))),
    }
    let content = pfx
        .auth_safe
        .content
        .ok_or_else(|| corrupt("the authSafe has no content"))?;
    let auth_safe = octets(content, "authSafe")?;
    let seq = AnyRef::from_der(auth_safe).map_err(corrupt)?;
    let infos = seq
        .sequence(
            |r: &mut SliceReader<'_>| -> der::Result<Vec<ContentInfoRef<'_>>> {
                let mut v = Vec::new();
                while !r.is_finished() {
                    v.push(r.decode()?);
                }
                Ok(v)
            },
        )
        .map_err(corrupt)?;
    let safes = infos
        .into_iter()
        .map(parse_safe)
        .collect::<Result<Vec<_>>>()?;
    Ok(Outer {
        auth_safe,
        mac: pfx.mac_data,
        safes,
    })
}

/// The contents of a primitive OCTET STRING.
fn octets<'a>(any: AnyRef<'a>, what: &str) -> Result<&'a [u8]> {
    if any.tag() != Tag::OctetString {
        return Err(corrupt(format!(
            "{what} is a {} where an OCTET STRING belongs",
            any.tag()
        )));
    }
    Ok(any.value())
}

fn parse_safe(ci: ContentInfoRef<'_>) -> Result<RawSafe<'_>> {
    let ct = ci.content_type.to_string();
    let content = ci
        .content
        .ok_or_else(|| corrupt("a safe without content"))?;
    match ct.as_str() {
        ID_DATA => Ok(RawSafe::Plain(octets(content, "a data safe")?)),
        ID_ENCRYPTED_DATA => {
            // EncryptedData ::= SEQUENCE { version, EncryptedContentInfo, [1] attrs OPTIONAL }
            // EncryptedContentInfo ::= SEQUENCE { contentType, algorithm, [0] IMPLICIT OCTET STRING OPTIONAL }
            let (algorithm, content) = content
                .sequence(|r: &mut SliceReader<'_>| -> der::Result<_> {
                    let _version: u64 = r.decode()?;
                    let eci = r.sequence(|eci: &mut SliceReader<'_>| -> der::Result<_> {
                        let _content_type: ObjectIdentifier = eci.decode()?;
                        let algorithm: AlgorithmIdentifierRef<'_> = eci.decode()?;
                        let content: Option<AnyRef<'_>> = if eci.is_finished() {
                            None
                        } else {
                            Some(eci.decode()?)
                        };
                        while !eci.is_finished() {
                            let _: AnyRef<'_> = eci.decode()?;
                        }
                        Ok((algorithm, content))
                    })?;
                    while !r.is_finished() {
                        let _: AnyRef<'_> = r.decode()?;
                    }
                    Ok(eci)
                })
                .map_err(corrupt)?;
            let content = match content {
                None => &[][..],
                Some(c) => match c.tag() {
                    Tag::ContextSpecific {
                        constructed: false,
                        number,
                    } if number.value() == 0 => c.value(),
                    Tag::ContextSpecific {
                        constructed: true,
                        number,
                    } if number.value() == 0 => {
                        return Err(Error::unsupported(
                            Input::Pkcs12Encoding,
                            "encrypted contents split into BER chunks (constructed [0])",
                        ));
                    }
                    other => return Err(corrupt(format!("encrypted content tagged {other}"))),
                },
            };
            Ok(RawSafe::Encrypted { algorithm, content })
        }
        ID_ENVELOPED_DATA => Err(Error::unsupported(
            Input::Pkcs12PrivacyMode,
            "public-key encryption (envelopedData); certmint reads password-protected files",
        )),
        other => Err(corrupt(format!("a safe of content type {other}"))),
    }
}

// ---------------------------------------------------------------------------------------
// Bags
// ---------------------------------------------------------------------------------------

enum BagValue<'a> {
    Key(&'a [u8]),
    Shrouded(EncryptedPrivateKeyInfoRef<'a>),
    Cert(&'a [u8]),
    Other(BagKind),
}

struct RawBag<'a> {
    value: BagValue<'a>,
    friendly_name: Option<String>,
    local_key_id: Option<Vec<u8>>,
}

/// Decode `SafeContents` (flattening nested `safeContentsBag`s).
fn parse_bags<'a>(der_bytes: &'a [u8], depth: u8, out: &mut Vec<RawBag<'a>>) -> Result<()> {
    if depth > MAX_NESTING {
        return Err(Error::unsupported(
            Input::Pkcs12Layout,
            format!("safe contents nested more than {MAX_NESTING} deep"),
        ));
    }
    let seq = AnyRef::from_der(der_bytes).map_err(corrupt)?;
    let mut bags = Vec::new();
    seq.sequence(|r: &mut SliceReader<'a>| -> der::Result<()> {
        while !r.is_finished() {
            bags.push(r.decode::<AnyRef<'a>>()?);
        }
        Ok(())
    })
    .map_err(corrupt)?;
    for bag in bags {
        let (oid, value, attrs) = bag
            .sequence(|r: &mut SliceReader<'a>| -> der::Result<_> {
                let oid: ObjectIdentifier = r.decode()?;
                let value: AnyRef<'a> = r.decode()?;
                let attrs: Option<AnyRef<'a>> = if r.is_finished() {
                    None
                } else {
                    Some(r.decode()?)
                };
                Ok((oid, value, attrs))
            })
            .map_err(corrupt)?;
        match value.tag() {
            Tag::ContextSpecific {
                constructed: true,
                number,
            } if number.value() == 0 => {}
            other => return Err(corrupt(format!("a bag value tagged {other}"))),
        }
        let inner = AnyRef::from_der(value.value()).map_err(corrupt)?;
        let (friendly_name, local_key_id) = match attrs {
            Some(a) => parse_attributes(a)?,
            None => (None, None),
        };
        let oid_s = oid.to_string();
        let value = match oid_s.as_str() {
            KEY_BAG => BagValue::Key(value.value()),
            SHROUDED_KEY_BAG => BagValue::Shrouded(
                EncryptedPrivateKeyInfoRef::from_der(value.value()).map_err(corrupt)?,
            ),
            CERT_BAG => {
                let (cert_id, cert) = inner
                    .sequence(|r: &mut SliceReader<'a>| -> der::Result<_> {
                        let id: ObjectIdentifier = r.decode()?;
                        let v: AnyRef<'a> = r.decode()?;
                        Ok((id, v))
                    })
                    .map_err(corrupt)?;
                if cert_id.to_string() == X509_CERTIFICATE {
                    let os = AnyRef::from_der(cert.value()).map_err(corrupt)?;
                    BagValue::Cert(octets(os, "a certificate bag")?)
                } else {
                    BagValue::Other(BagKind::Other(format!("certificate of type {cert_id}")))
                }
            }
            SAFE_CONTENTS_BAG => {
                parse_bags(value.value(), depth + 1, out)?;
                continue;
            }
            CRL_BAG => BagValue::Other(BagKind::Crl),
            SECRET_BAG => BagValue::Other(BagKind::Secret),
            other => BagValue::Other(BagKind::Other(other.to_string())),
        };
        out.push(RawBag {
            value,
            friendly_name,
            local_key_id,
        });
    }
    Ok(())
}

/// `friendlyName` and `localKeyID` from a bag's attribute SET; other attributes and
/// attribute order do not matter.
fn parse_attributes(set: AnyRef<'_>) -> Result<(Option<String>, Option<Vec<u8>>)> {
    if set.tag() != Tag::Set {
        return Err(corrupt(format!(
            "bag attributes are a {}, not a SET",
            set.tag()
        )));
    }
    let mut name = None;
    let mut id = None;
    let mut r = SliceReader::new(set.value()).map_err(corrupt)?;
    while !r.is_finished() {
        let attr: AnyRef<'_> = r.decode().map_err(corrupt)?;
        let (oid, values) = attr
            .sequence(|a: &mut SliceReader<'_>| -> der::Result<_> {
                let oid: ObjectIdentifier = a.decode()?;
                let values: AnyRef<'_> = a.decode()?;
                Ok((oid, values))
            })
            .map_err(corrupt)?;
        let mut vr = SliceReader::new(values.value()).map_err(corrupt)?;
        if vr.is_finished() {
            continue;
        }
        let first: AnyRef<'_> = vr.decode().map_err(corrupt)?;
        match oid.to_string().as_str() {
            FRIENDLY_NAME => {
                name = Some(match first.tag() {
                    Tag::BmpString => {
                        let units = first
                            .value()
                            .chunks(2)
                            .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
                        char::decode_utf16(units)
                            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                            .collect()
                    }
                    // Not what RFC 7292 says, but readable.
                    _ => String::from_utf8_lossy(first.value()).into_owned(),
                });
            }
            LOCAL_KEY_ID => id = Some(first.value().to_vec()),
            _ => {}
        }
    }
    Ok((name, id))
}

fn bag_info(bag: &RawBag<'_>) -> BagInfo {
    let (kind, encryption) = match &bag.value {
        BagValue::Key(_) => (BagKind::Key, None),
        BagValue::Shrouded(epki) => (BagKind::ShroudedKey, Some(protection(epki.algorithm))),
        BagValue::Cert(_) => (BagKind::Certificate, None),
        BagValue::Other(k) => (k.clone(), None),
    };
    BagInfo {
        kind,
        friendly_name: bag.friendly_name.clone(),
        local_key_id: bag.local_key_id.clone(),
        encryption,
    }
}

fn mac_info(mac: &MacDataRef<'_>) -> MacInfo {
    let (algorithm, sha2, supported) = match MacAlg::from_oid(&mac.mac.algorithm.oid) {
        Ok(a) => (a.name().to_string(), a != MacAlg::Sha1, true),
        Err(Error::Unsupported { detail, .. }) => (format!("{detail} (unsupported)"), true, false),
        Err(e) => (e.to_string(), false, false),
    };
    MacInfo {
        algorithm,
        iterations: mac.iterations,
        salt_len: mac.salt.as_bytes().len(),
        sha2,
        supported,
    }
}

/// Describe a PKCS#12 file without its password: the MAC, how each safe is encrypted,
/// and the bags of the unencrypted safes (usually the shrouded key bag, whose encryption
/// is visible). Unsupported algorithms are described, not refused.
pub fn probe(data: &[u8]) -> Result<Structure> {
    let outer = parse_outer(data)?;
    let mut safes = Vec::new();
    for safe in &outer.safes {
        safes.push(match safe {
            RawSafe::Plain(der_bytes) => {
                let mut bags = Vec::new();
                parse_bags(der_bytes, 0, &mut bags)?;
                SafeInfo {
                    encryption: None,
                    bags: Some(bags.iter().map(bag_info).collect()),
                }
            }
            RawSafe::Encrypted { algorithm, .. } => SafeInfo {
                encryption: Some(protection(*algorithm)),
                bags: None,
            },
        });
    }
    Ok(Structure {
        mac: outer.mac.as_ref().map(mac_info),
        safes,
    })
}

/// Read a PKCS#12 file: check the MAC, decrypt every safe and key, and link keys to
/// their certificates.
///
/// Errors: [`Error::WrongPassword`] when the password is wrong; [`Error::Corrupt`] when
/// the file is damaged (truncated, bad DER, or a MAC that fails although the password
/// decrypts the contents); [`Error::Unsupported`] naming an algorithm certmint does not
/// run (never reported as a wrong password); [`Error::WrongKind`] for a JKS, PEM or
/// other file.
pub fn read(data: &[u8], password: &Password) -> Result<Contents> {
    read_with_key_password(data, password, None)
}

/// [`read`], with a second password to try for key bags that the store password does not
/// open (PKCS#12 allows it, as `openssl pkcs12 -twopass` does; OpenSSL and Java normally
/// use one password).
pub fn read_with_key_password(
    data: &[u8],
    password: &Password,
    key_password: Option<&Password>,
) -> Result<Contents> {
    let outer = parse_outer(data)?;
    let mut forms = PasswordForms::new(password);
    let budget = Budget::new();
    // Refuse at once a file whose visible key derivations already exceed the budget;
    // those inside encrypted safes are counted as they are reached.
    budget.check_plan(planned_cost(&outer, &forms, key_password.is_some())?)?;

    // 1. Integrity. Check the algorithms before trying the password, so that an
    // unsupported MAC is never reported as a wrong password.
    let mac_verified = match &outer.mac {
        None => false,
        Some(m) => {
            let params = MacParams::new(
                &m.mac.algorithm.oid,
                m.salt.as_bytes(),
                m.iterations,
                m.mac.digest.as_bytes(),
            )?;
            budget.spend(u64::from(params.iterations) * forms.bmp.len() as u64)?;
            match params.verify(&forms, outer.auth_safe)? {
                Some(i) => {
                    forms.prefer_bmp(i);
                    true
                }
                None => {
                    if decrypts_anything(&outer, &forms, &budget)? {
                        return Err(Error::corrupt(
                            WHAT,
                            "the integrity check (MAC) fails although the password decrypts the contents: the file was altered or damaged",
                        ));
                    }
                    return Err(Error::WrongPassword { what: WHAT });
                }
            }
        }
    };
    // Without a MAC a failed decryption is the only sign of a wrong password; with one,
    // it means this part uses another password.
    let wrong = |part: Input| {
        if mac_verified {
            Error::WrongPassword { what: part }
        } else {
            Error::WrongPassword { what: WHAT }
        }
    };

    // 2. Decrypt the encrypted safes and gather every bag.
    let mut decrypted: Vec<Zeroizing<Vec<u8>>> = Vec::new();
    for safe in &outer.safes {
        if let RawSafe::Encrypted { algorithm, content } = safe {
            let scheme = Scheme::parse(*algorithm, WHAT)?;
            if content.is_empty() {
                decrypted.push(Zeroizing::new(Vec::new()));
                continue;
            }
            budget.spend(scheme.cost(&forms))?;
            let plain = scheme
                .decrypt(&forms, content, WHAT)?
                .ok_or_else(|| wrong(Input::Pkcs12Contents))?;
            if AnyRef::from_der(&plain).is_err() {
                return Err(if mac_verified {
                    corrupt("the decrypted contents are not DER")
                } else {
                    Error::WrongPassword { what: WHAT }
                });
            }
            decrypted.push(plain);
        }
    }
    let mut safes_info = Vec::new();
    let mut all_bags: Vec<RawBag<'_>> = Vec::new();
    let mut next_decrypted = decrypted.iter();
    for safe in &outer.safes {
        let mut bags = Vec::new();
        let encryption = match safe {
            RawSafe::Plain(der_bytes) => {
                parse_bags(der_bytes, 0, &mut bags)?;
                None
            }
            RawSafe::Encrypted { algorithm, .. } => {
                let plain = next_decrypted
                    .next()
                    .ok_or_else(|| Error::internal("decrypted safes out of step"))?;
                if !plain.is_empty() {
                    parse_bags(plain, 0, &mut bags)?;
                }
                Some(protection(*algorithm))
            }
        };
        safes_info.push(SafeInfo {
            encryption,
            bags: Some(bags.iter().map(bag_info).collect()),
        });
        all_bags.extend(bags);
    }
    let structure = Structure {
        mac: outer.mac.as_ref().map(mac_info),
        safes: safes_info,
    };

    // 3. Keys.
    let key_forms = key_password.map(PasswordForms::new);
    let mut keys: Vec<KeyItem> = Vec::new();
    let mut certs: Vec<CertItem<'_>> = Vec::new();
    for bag in &all_bags {
        match &bag.value {
            BagValue::Key(der_bytes) => {
                keys.push((
                    bag.friendly_name.clone(),
                    bag.local_key_id.clone(),
                    private_key(der_bytes)?,
                ));
            }
            BagValue::Shrouded(epki) => {
                let scheme = Scheme::parse(epki.algorithm, WHAT)?;
                let what = Input::Pkcs12PrivateKey;
                let ciphertext = epki.data.as_bytes();
                budget.spend(scheme.cost(&forms))?;
                let mut plain = scheme.decrypt(&forms, ciphertext, what)?;
                if plain
                    .as_ref()
                    .is_none_or(|p| pkcs8::PrivateKeyInfoRef::from_der(p).is_err())
                    && let Some(kf) = &key_forms
                {
                    budget.spend(scheme.cost(kf))?;
                    plain = scheme.decrypt(kf, ciphertext, what)?;
                }
                let plain = plain.ok_or_else(|| wrong(what))?;
                if pkcs8::PrivateKeyInfoRef::from_der(&plain).is_err() {
                    return Err(wrong(what));
                }
                keys.push((
                    bag.friendly_name.clone(),
                    bag.local_key_id.clone(),
                    private_key(&plain)?,
                ));
            }
            BagValue::Cert(der_bytes) => {
                certs.push((
                    bag.friendly_name.clone(),
                    bag.local_key_id.clone(),
                    der_bytes,
                ));
            }
            BagValue::Other(_) => {}
        }
    }

    Ok(Contents {
        entries: link(keys, &certs),
        structure,
    })
}

/// The key-derivation iterations a read will run on the parts visible before any
/// decryption: the MAC, the encrypted safes and the key bags of the plain safes.
fn planned_cost(outer: &Outer<'_>, forms: &PasswordForms, second_password: bool) -> Result<u64> {
    let cost =
        |alg: AlgorithmIdentifierRef<'_>| Scheme::parse(alg, WHAT).map_or(0, |s| s.cost(forms));
    // A MAC over the per-derivation limit is reported as such, not as the file's total.
    if let Some(m) = &outer.mac {
        super::pbe::check_iterations(Input::Mac, m.iterations)?;
    }
    let mut total = outer
        .mac
        .as_ref()
        .map_or(0, |m| m.iterations.saturating_mul(forms.bmp.len() as u64));
    for safe in &outer.safes {
        match safe {
            RawSafe::Encrypted { algorithm, .. } => total = total.saturating_add(cost(*algorithm)),
            RawSafe::Plain(der_bytes) => {
                let mut bags = Vec::new();
                parse_bags(der_bytes, 0, &mut bags)?;
                for bag in &bags {
                    if let BagValue::Shrouded(epki) = &bag.value {
                        let c = cost(epki.algorithm);
                        total = total.saturating_add(if second_password { 2 * c } else { c });
                    }
                }
            }
        }
    }
    Ok(total)
}

/// True when the password decrypts some encrypted part of the file to well-formed DER,
/// which proves it right (used to tell a damaged MAC from a wrong password).
fn decrypts_anything(outer: &Outer<'_>, forms: &PasswordForms, budget: &Budget) -> Result<bool> {
    let works = |alg: AlgorithmIdentifierRef<'_>, data: &[u8]| -> Result<bool> {
        let Ok(scheme) = Scheme::parse(alg, WHAT) else {
            return Ok(false);
        };
        budget.spend(scheme.cost(forms))?;
        Ok(match scheme.decrypt(forms, data, WHAT) {
            Ok(Some(plain)) => AnyRef::from_der(&plain).is_ok(),
            _ => false,
        })
    };
    for safe in &outer.safes {
        match safe {
            RawSafe::Encrypted { algorithm, content } => {
                if !content.is_empty() && works(*algorithm, content)? {
                    return Ok(true);
                }
            }
            RawSafe::Plain(der_bytes) => {
                let mut bags = Vec::new();
                parse_bags(der_bytes, 0, &mut bags)?;
                for bag in &bags {
                    if let BagValue::Shrouded(epki) = &bag.value
                        && works(epki.algorithm, epki.data.as_bytes())?
                    {
                        return Ok(true);
                    }
                }
            }
        }
    }
    Ok(false)
}

/// A PKCS#8 `PrivateKeyInfo` as a key: RSA parsed, anything else kept as bytes.
fn private_key(der_bytes: &[u8]) -> Result<PrivateKey> {
    let info = pkcs8::PrivateKeyInfoRef::from_der(der_bytes)
        .map_err(|e| Error::corrupt(Input::Pkcs12PrivateKey, e))?;
    if info.algorithm.oid == crate::key::RSA_ENCRYPTION_OID {
        return Ok(PrivateKey::Rsa(RsaKey::from_pkcs8_der(der_bytes)?));
    }
    let algorithm = match RsaKey::from_pkcs8_der(der_bytes) {
        Err(Error::NotRsa(what)) => what,
        _ => info.algorithm.oid.to_string(),
    };
    Ok(PrivateKey::Other {
        algorithm,
        pkcs8: SecretBytes::new(der_bytes.to_vec()),
    })
}

/// A certificate bag's contents: friendly name, local key id, DER.
type CertItem<'a> = (Option<String>, Option<Vec<u8>>, &'a [u8]);
/// A key bag's contents: friendly name, local key id, key.
type KeyItem = (Option<String>, Option<Vec<u8>>, PrivateKey);

struct ParsedCert<'a> {
    der: &'a [u8],
    subject: Vec<u8>,
    issuer: Vec<u8>,
    spki: Vec<u8>,
}

/// Pair keys with certificates (by `localKeyID`, else by public key), build each chain
/// by issuer name, and list the certificates left over as certificate-only entries.
fn link(keys: Vec<KeyItem>, certs: &[CertItem<'_>]) -> Vec<Entry> {
    let parsed: Vec<Option<ParsedCert<'_>>> = certs
        .iter()
        .map(|(_, _, der_bytes)| {
            x509_parser::parse_x509_certificate(der_bytes)
                .ok()
                .map(|(_, c)| ParsedCert {
                    der: der_bytes,
                    subject: c.subject().as_raw().to_vec(),
                    issuer: c.issuer().as_raw().to_vec(),
                    spki: c.public_key().raw.to_vec(),
                })
        })
        .collect();
    let mut used = vec![false; certs.len()];
    let mut entries = Vec::new();
    for (name, id, key) in keys {
        let by_id = id
            .as_ref()
            .filter(|i| !i.is_empty())
            .and_then(|i| certs.iter().position(|(_, cid, _)| cid.as_ref() == Some(i)));
        let by_key = || match &key {
            PrivateKey::Rsa(k) => parsed
                .iter()
                .position(|p| p.as_ref().is_some_and(|p| k.matches_spki(&p.spki))),
            PrivateKey::Other { .. } => None,
        };
        let leaf = by_id.or_else(by_key);
        let mut chain = Vec::new();
        let mut alias = name;
        if let Some(i) = leaf {
            used[i] = true;
            chain.push(certs[i].2.to_vec());
            if alias.is_none() {
                alias = certs[i].0.clone();
            }
            let mut in_chain = vec![i];
            let mut current = i;
            while let Some(cur) = parsed[current].as_ref() {
                if cur.subject == cur.issuer || in_chain.len() > certs.len() {
                    break;
                }
                let next = parsed.iter().enumerate().position(|(j, p)| {
                    !in_chain.contains(&j) && p.as_ref().is_some_and(|p| p.subject == cur.issuer)
                });
                let Some(j) = next else { break };
                in_chain.push(j);
                if certs[j].0.is_none() {
                    used[j] = true;
                }
                chain.push(
                    parsed[j]
                        .as_ref()
                        .map(|p| p.der.to_vec())
                        .unwrap_or_default(),
                );
                current = j;
            }
        }
        entries.push(Entry {
            alias,
            local_key_id: id,
            key: Some(key),
            chain,
        });
    }
    for (i, (name, id, der_bytes)) in certs.iter().enumerate() {
        if !used[i] {
            entries.push(Entry {
                alias: name.clone(),
                local_key_id: id.clone(),
                key: None,
                chain: vec![der_bytes.to_vec()],
            });
        }
    }
    entries
}
