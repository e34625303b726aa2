//! Writing a JKS keystore: the low-level [`write`] for any entries, and
//! [`write_private_key`], which builds the one-entry keystore certmint makes and proves it
//! by reading it back before returning it.

use der::Decode;

use super::{
    Certificate, Entry, Integrity, MAGIC, MAX_UTF_BYTES, PrivateKeyEntry, TAG_PRIVATE_KEY,
    TAG_TRUSTED_CERT, VERSION, encode_modified_utf8, integrity_digest, normalize_alias, parse,
};
use crate::error::Input;
use crate::key::RsaKey;
use crate::{Error, Password, Result};

fn put_utf(out: &mut Vec<u8>, s: &str, what: Input) -> Result<()> {
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

fn put_bytes32(out: &mut Vec<u8>, bytes: &[u8], what: Input) -> Result<()> {
    let n = u32::try_from(bytes.len()).map_err(|_| Error::invalid(what, "longer than 4 GiB"))?;
    out.extend_from_slice(&n.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

fn put_cert(out: &mut Vec<u8>, cert: &Certificate) -> Result<()> {
    if cert.der.is_empty() {
        return Err(Error::invalid(Input::Certificate, "a certificate is empty"));
    }
    put_utf(out, &cert.cert_type, Input::CertificateType)?;
    put_bytes32(out, &cert.der, Input::Certificate)
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
            return Err(Error::invalid(Input::Alias, "an alias is empty"));
        }
        let n = normalize_alias(e.alias());
        if seen.contains(&n) {
            return Err(Error::invalid(
                Input::Alias,
                format!("`{}` appears twice (JKS aliases ignore case)", e.alias()),
            ));
        }
        seen.push(n);
    }
    let count = u32::try_from(entries.len())
        .map_err(|_| Error::invalid(Input::Keystore, "too many entries"))?;
    let mut out = Vec::new();
    out.extend_from_slice(&MAGIC.to_be_bytes());
    out.extend_from_slice(&VERSION.to_be_bytes());
    out.extend_from_slice(&count.to_be_bytes());
    for e in entries {
        match e {
            Entry::PrivateKey(k) => {
                out.extend_from_slice(&TAG_PRIVATE_KEY.to_be_bytes());
                put_utf(&mut out, &k.alias, Input::Alias)?;
                out.extend_from_slice(&k.timestamp_ms.to_be_bytes());
                put_bytes32(&mut out, k.protected_key.as_der(), Input::ProtectedKey)?;
                let n = u32::try_from(k.chain.len())
                    .map_err(|_| Error::invalid(Input::CertificateChain, "too long"))?;
                out.extend_from_slice(&n.to_be_bytes());
                for c in &k.chain {
                    put_cert(&mut out, c)?;
                }
            }
            Entry::TrustedCert(c) => {
                out.extend_from_slice(&TAG_TRUSTED_CERT.to_be_bytes());
                put_utf(&mut out, &c.alias, Input::Alias)?;
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
/// stores it ([`normalize_alias`]). `pkcs8_der` is an unencrypted PKCS#8 `PrivateKeyInfo`
/// of an RSA key; `chain` holds DER certificates, leaf first (at least one), and the leaf
/// must be the key's certificate ([`Error::KeyMismatch`] otherwise). `timestamp_ms` is
/// the entry's creation date.
///
/// The bytes are proven before they are returned: read back with the password, the
/// integrity digest verifies, the keystore holds exactly this entry under the stored
/// alias, the key recovers with the store password to the very bytes given, the chain is
/// the one given, and the recovered key matches the leaf certificate. A failure is an
/// internal error; nothing half-made is returned.
///
/// Salesforce's other rules (key size, the alias as a Unique Name) are checked by
/// [`crate::salesforce::write_jks`], which calls this.
pub fn write_private_key(
    alias: &str,
    pkcs8_der: &[u8],
    chain: &[Vec<u8>],
    timestamp_ms: u64,
    password: &Password,
) -> Result<Vec<u8>> {
    let Some(leaf) = chain.first() else {
        return Err(Error::invalid(
            Input::CertificateChain,
            "a private-key entry needs its certificate",
        ));
    };
    pkcs8::PrivateKeyInfoRef::from_der(pkcs8_der).map_err(|e| {
        Error::invalid(
            Input::PrivateKey,
            format!("not a PKCS#8 PrivateKeyInfo ({e})"),
        )
    })?;
    let key = RsaKey::from_pkcs8_der(pkcs8_der)?;
    let leaf = crate::x509::parse_der(leaf)?;
    if !key.matches_spki(&leaf.spki) {
        return Err(Error::KeyMismatch(Input::Certificate));
    }
    let alias = normalize_alias(alias);
    let entry = PrivateKeyEntry::new(&alias, timestamp_ms, pkcs8_der, password, chain.to_vec())?;
    let bytes = write(&[Entry::PrivateKey(entry)], password)?;
    prove(&bytes, password, &alias, pkcs8_der, chain)?;
    Ok(bytes)
}

/// Read a keystore just written back with its password and compare it with what was
/// meant to be written (see [`write_private_key`]).
pub(super) fn prove(
    bytes: &[u8],
    password: &Password,
    alias: &str,
    pkcs8_der: &[u8],
    chain: &[Vec<u8>],
) -> Result<()> {
    let fail = |why: &dyn std::fmt::Display| {
        Error::internal(format!(
            "the JKS keystore just written does not read back: {why}"
        ))
    };
    let ks = parse(bytes, Some(password)).map_err(|e| fail(&e))?;
    if ks.integrity != Integrity::Verified {
        return Err(fail(&"the integrity digest was not verified"));
    }
    let entry = match ks.entries.as_slice() {
        [Entry::PrivateKey(k)] => k,
        _ => return Err(fail(&"it does not hold exactly one PrivateKeyEntry")),
    };
    if entry.alias != alias {
        return Err(fail(&"the alias differs"));
    }
    let plain = entry.recover(password).map_err(|e| fail(&e))?;
    if plain.expose() != pkcs8_der {
        return Err(fail(&"the recovered key differs from the input key"));
    }
    if !entry.chain.iter().map(|c| &c.der).eq(chain.iter()) {
        return Err(fail(&"the certificate chain differs"));
    }
    let key = RsaKey::from_pkcs8_der(plain.expose()).map_err(|e| fail(&e))?;
    match entry.leaf().map(crate::x509::parse_der) {
        Some(Ok(info)) if key.matches_spki(&info.spki) => Ok(()),
        _ => Err(fail(
            &"the recovered key does not match the stored certificate",
        )),
    }
}
