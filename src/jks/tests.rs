//! Unit tests of the JKS reader and writer.

use super::*;
use crate::detect::{FileType, detect};
use crate::error::Input;
use crate::key::RsaKey;

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
        protected_key: ProtectedKey::from_der(protect_with_salt(FAKE_KEY, &p, &[1; 20]).unwrap()),
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
        matches!(err, Error::WrongPassword { what: Input::Jks }),
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
            let i = usize::try_from(next() % b.len() as u64).unwrap();
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
        let mut g: Vec<u8> = (0..n).map(|_| (next() & 0xff) as u8).collect();
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
    assert_eq!(detect(&pfx), FileType::Pkcs12);
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

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/jks/{rel}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The key and certificate of `fixtures/jks/acme.*`, and another certificate.
fn acme() -> (RsaKey, Vec<u8>, Vec<u8>) {
    let key = crate::key::load(&fixture("acme.key"), None).unwrap().0;
    let cert = crate::x509::parse(&fixture("acme.crt")).unwrap().der;
    let other = crate::x509::parse(&fixture("other.crt")).unwrap().der;
    (key, cert, other)
}

#[test]
fn write_private_key_proves_what_it_wrote() {
    let (key, cert, other) = acme();
    let p = pw("changeit");
    let der = key.pkcs8_der().expose();
    let bytes = write_private_key("Acme_JWT", der, std::slice::from_ref(&cert), 7, &p).unwrap();
    let ks = parse(&bytes, Some(&p)).unwrap();
    assert_eq!(ks.aliases(), ["acme_jwt"]);
    // A key that is not the certificate's is refused before anything is written.
    let err = write_private_key("a", der, &[other], 7, &p).unwrap_err();
    assert!(matches!(err, Error::KeyMismatch(_)), "{err}");
    assert!(matches!(
        write_private_key("a", der, &[], 7, &p),
        Err(Error::InvalidInput { .. })
    ));
}

#[test]
fn the_proof_refuses_bytes_that_differ_from_the_input() {
    let (key, cert, other) = acme();
    let p = pw("changeit");
    let der = key.pkcs8_der().expose();
    let chain = std::slice::from_ref(&cert);
    let bytes = write_private_key("acme_jwt", der, chain, 7, &p).unwrap();
    write::prove(&bytes, &p, "acme_jwt", der, chain).unwrap();
    let refused = |bytes: &[u8], alias: &str, key: &[u8], chain: &[Vec<u8>]| {
        let err = write::prove(bytes, &p, alias, key, chain).unwrap_err();
        assert!(matches!(err, Error::Internal(_)), "{err}");
        assert!(err.to_string().contains("does not read back"), "{err}");
    };
    // Another password, a flipped byte, another alias, key or chain.
    let mut flipped = bytes.clone();
    flipped[40] ^= 1;
    refused(&flipped, "acme_jwt", der, chain);
    refused(&bytes, "other", der, chain);
    let other_key = crate::key::load(
        &std::fs::read(format!(
            "{}/fixtures/keys/other.pkcs8.pem",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
        None,
    )
    .unwrap()
    .0;
    refused(&bytes, "acme_jwt", other_key.pkcs8_der().expose(), chain);
    refused(&bytes, "acme_jwt", der, std::slice::from_ref(&other));
    // A keystore whose entry holds another certificate than its key's.
    let entry = PrivateKeyEntry::new("acme_jwt", 7, der, &p, vec![other.clone()]).unwrap();
    let mismatched = write(&[Entry::PrivateKey(entry)], &p).unwrap();
    refused(&mismatched, "acme_jwt", der, &[other]);
    // Two entries where one was meant.
    let (two, _) = sample();
    refused(&two, "mykey", FAKE_KEY, chain);
}
