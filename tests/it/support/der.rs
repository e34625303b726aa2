//! A tiny DER writer for tests that build hostile files by hand (huge declared lengths,
//! extreme KDF parameters) where no library would write them.
#![allow(dead_code)]

/// Tag, length (definite, minimal) and contents.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(len(content.len()));
    out.extend_from_slice(content);
    out
}

/// A DER length.
pub(crate) fn len(n: usize) -> Vec<u8> {
    if n < 0x80 {
        return vec![u8::try_from(n).unwrap()];
    }
    let bytes: Vec<u8> = (n as u64)
        .to_be_bytes()
        .into_iter()
        .skip_while(|&b| b == 0)
        .collect();
    let mut out = vec![0x80 | u8::try_from(bytes.len()).unwrap()];
    out.extend(bytes);
    out
}

/// A header claiming `claimed` content bytes (followed by whatever the caller appends).
pub(crate) fn lying_header(tag: u8, claimed: u64) -> Vec<u8> {
    let bytes = claimed.to_be_bytes();
    let mut out = vec![tag, 0x88];
    out.extend_from_slice(&bytes);
    out
}

pub(crate) fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

pub(crate) fn octets(b: &[u8]) -> Vec<u8> {
    tlv(0x04, b)
}

pub(crate) fn int(v: u64) -> Vec<u8> {
    let mut b: Vec<u8> = v
        .to_be_bytes()
        .into_iter()
        .skip_while(|&x| x == 0)
        .collect();
    if b.is_empty() || b[0] & 0x80 != 0 {
        b.insert(0, 0);
    }
    tlv(0x02, &b)
}

pub(crate) fn null() -> Vec<u8> {
    vec![0x05, 0x00]
}

/// An OBJECT IDENTIFIER from dotted text.
pub(crate) fn oid(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u64> = dotted.split('.').map(|a| a.parse().unwrap()).collect();
    let mut body = Vec::new();
    let mut push = |mut v: u64| {
        let mut tmp = vec![(v & 0x7f) as u8];
        v >>= 7;
        while v > 0 {
            tmp.push(0x80 | (v & 0x7f) as u8);
            v >>= 7;
        }
        tmp.reverse();
        body.extend(tmp);
    };
    push(arcs[0] * 40 + arcs[1]);
    for &a in &arcs[2..] {
        push(a);
    }
    tlv(0x06, &body)
}

/// `[n]` EXPLICIT (constructed context tag).
pub(crate) fn explicit(n: u8, inner: &[u8]) -> Vec<u8> {
    tlv(0xa0 | n, inner)
}

pub(crate) const PBES2: &str = "1.2.840.113549.1.5.13";
pub(crate) const PBKDF2: &str = "1.2.840.113549.1.5.12";
pub(crate) const SCRYPT: &str = "1.3.6.1.4.1.11591.4.11";
pub(crate) const HMAC_SHA256: &str = "1.2.840.113549.2.9";
pub(crate) const AES256_CBC: &str = "2.16.840.1.101.3.4.1.42";
pub(crate) const ID_DATA: &str = "1.2.840.113549.1.7.1";
pub(crate) const SHROUDED_KEY_BAG: &str = "1.2.840.113549.1.12.10.1.2";

/// PBES2 AlgorithmIdentifier with scrypt(N, r, p) and AES-256-CBC.
pub(crate) fn pbes2_scrypt(n: u64, r: u64, p: u64) -> Vec<u8> {
    let kdf = seq(&[
        oid(SCRYPT),
        seq(&[octets(&[7; 16]), int(n), int(r), int(p), int(32)]),
    ]);
    let enc = seq(&[oid(AES256_CBC), octets(&[9; 16])]);
    seq(&[oid(PBES2), seq(&[kdf, enc])])
}

/// PBES2 AlgorithmIdentifier with PBKDF2-HMAC-SHA256(iterations) and AES-256-CBC.
pub(crate) fn pbes2_pbkdf2(iterations: u64) -> Vec<u8> {
    let kdf = seq(&[
        oid(PBKDF2),
        seq(&[
            octets(&[7; 16]),
            int(iterations),
            seq(&[oid(HMAC_SHA256), null()]),
        ]),
    ]);
    let enc = seq(&[oid(AES256_CBC), octets(&[9; 16])]);
    seq(&[oid(PBES2), seq(&[kdf, enc])])
}

/// EncryptedPrivateKeyInfo over 32 bytes of "ciphertext".
pub(crate) fn epki(alg: Vec<u8>) -> Vec<u8> {
    seq(&[alg, octets(&[0x42; 32])])
}

/// A PFX without a MAC whose one plain safe holds these bags.
pub(crate) fn pfx_with_bags(bags: &[Vec<u8>]) -> Vec<u8> {
    let safe_contents = seq(bags);
    let safe = seq(&[oid(ID_DATA), explicit(0, &octets(&safe_contents))]);
    let auth_safe = seq(&[safe]);
    seq(&[
        int(3),
        seq(&[oid(ID_DATA), explicit(0, &octets(&auth_safe))]),
    ])
}

/// [`pfx_with_bags`] with a MAC (HMAC-SHA256 over a fake digest) whose PKCS#12 KDF runs
/// `iterations`.
pub(crate) fn pfx_with_mac(bags: &[Vec<u8>], iterations: u64) -> Vec<u8> {
    let safe_contents = seq(bags);
    let safe = seq(&[oid(ID_DATA), explicit(0, &octets(&safe_contents))]);
    let auth_safe = seq(&[safe]);
    let digest_info = seq(&[seq(&[oid(SHA256), null()]), octets(&[0x5a; 32])]);
    let mac_data = seq(&[digest_info, octets(&[3; 16]), int(iterations)]);
    seq(&[
        int(3),
        seq(&[oid(ID_DATA), explicit(0, &octets(&auth_safe))]),
        mac_data,
    ])
}

/// OID sha256 (2.16.840.1.101.3.4.2.1).
pub(crate) const SHA256: &str = "2.16.840.1.101.3.4.2.1";

/// A shrouded key bag holding `epki`.
pub(crate) fn shrouded_bag(epki: Vec<u8>) -> Vec<u8> {
    seq(&[oid(SHROUDED_KEY_BAG), explicit(0, &epki)])
}
