//! "A length read from a file never drives an allocation larger than the file": every
//! reader gets inputs whose declared lengths and counts are huge (up to 2^64 - 1) while
//! the input is a few bytes, and a counting allocator checks that no single allocation
//! made while reading it is larger than a small multiple of the input (plus a fixed
//! allowance for ordinary buffers and error messages). Each case must also fail cleanly.

use crate::support::der as der_build;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use certmint::{Error, Password};
use der_build::*;

/// Records the largest single allocation made by the current thread.
struct Counting;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    let _ = LARGEST.try_with(|l| {
        if size > l.get() {
            l.set(size);
        }
    });
}

// SAFETY: forwards to the system allocator; the bookkeeping touches only a const-
// initialised thread-local Cell, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Fixed allowance for buffers that do not depend on the input (error text, hashers,
/// small vectors' growth).
const ALLOWANCE: usize = 64 * 1024;

/// Run `read` on `input` and check its largest allocation; returns the result.
fn bounded<T>(name: &str, input: &[u8], read: impl FnOnce(&[u8]) -> T) -> T {
    bounded_by(name, input, 4, read)
}

/// [`bounded`] with `ratio` bytes of allocation allowed per input byte.
fn bounded_by<T>(name: &str, input: &[u8], ratio: usize, read: impl FnOnce(&[u8]) -> T) -> T {
    LARGEST.with(|l| l.set(0));
    let out = read(input);
    let largest = LARGEST.with(|l| l.get());
    let limit = ALLOWANCE + ratio * input.len();
    assert!(
        largest <= limit,
        "{name}: an allocation of {largest} bytes for a {}-byte input (limit {limit})",
        input.len()
    );
    out
}

fn pw(s: &str) -> Password {
    Password::from(s)
}

fn be32(v: u32) -> [u8; 4] {
    v.to_be_bytes()
}

fn jks_head(count: u32) -> Vec<u8> {
    let mut v = vec![0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2];
    v.extend(be32(count));
    v
}

fn utf(s: &str) -> Vec<u8> {
    let mut v = u16::try_from(s.len()).unwrap().to_be_bytes().to_vec();
    v.extend_from_slice(s.as_bytes());
    v
}

#[test]
#[allow(clippy::vec_init_then_push)] // one commented push per case reads best
fn jks_declared_lengths_and_counts_never_drive_allocations() {
    let digest = [0u8; 20];
    let ts = [0u8; 8];
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    // entry count 2^32-1, no entries
    cases.push((
        "entry count",
        [jks_head(u32::MAX), digest.to_vec()].concat(),
    ));
    // alias length 65535, one byte present
    cases.push((
        "alias length",
        [
            jks_head(1),
            be32(1).to_vec(),
            vec![0xff, 0xff, b'a'],
            digest.to_vec(),
        ]
        .concat(),
    ));
    // protected key of 2^32-1 bytes
    cases.push((
        "key length",
        [
            jks_head(1),
            be32(1).to_vec(),
            utf("a"),
            ts.to_vec(),
            be32(u32::MAX).to_vec(),
            digest.to_vec(),
        ]
        .concat(),
    ));
    // certificate chain of 2^32-1 certificates
    cases.push((
        "chain count",
        [
            jks_head(1),
            be32(1).to_vec(),
            utf("a"),
            ts.to_vec(),
            be32(4).to_vec(),
            vec![0x30, 0x02, 0x05, 0x00],
            be32(u32::MAX).to_vec(),
            digest.to_vec(),
        ]
        .concat(),
    ));
    // one certificate of 2^32-1 bytes
    cases.push((
        "certificate length",
        [
            jks_head(1),
            be32(1).to_vec(),
            utf("a"),
            ts.to_vec(),
            be32(4).to_vec(),
            vec![0x30, 0x02, 0x05, 0x00],
            be32(1).to_vec(),
            utf("X.509"),
            be32(u32::MAX).to_vec(),
            digest.to_vec(),
        ]
        .concat(),
    ));
    // trusted certificate whose type string claims 65535 bytes
    cases.push((
        "certificate type length",
        [
            jks_head(1),
            be32(2).to_vec(),
            utf("a"),
            ts.to_vec(),
            vec![0xff, 0xff],
            digest.to_vec(),
        ]
        .concat(),
    ));
    for (name, data) in &cases {
        for p in [None, Some(pw("changeit"))] {
            let r = bounded(name, data, |d| certmint::jks::parse(d, p.as_ref()));
            assert!(matches!(r, Err(Error::Corrupt { .. })), "{name}: {r:?}");
        }
        let r = bounded(name, data, |d| {
            certmint::salesforce::check_jks(d, &pw("changeit"))
        });
        assert!(r.is_err(), "{name}");
        bounded(name, data, certmint::detect::identify).ok();
    }
    // The protected key inside a real entry claims 2^32 bytes of DER.
    let mut liar = lying_header(0x30, u64::from(u32::MAX));
    liar.extend_from_slice(&[0; 16]);
    let r = bounded("protected key DER", &liar, |d| {
        certmint::jks::recover(d, &pw("changeit"))
    });
    assert!(matches!(r, Err(Error::Corrupt { .. })), "{r:?}");
}

#[test]
fn pkcs12_declared_lengths_never_drive_allocations() {
    let real = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/p12/openssl-default.p12"
    ))
    .unwrap();
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    // The outer SEQUENCE claims 2^64-1 bytes, then the real contents follow.
    let body_start = 2 + usize::from(real[1] & 0x7f);
    cases.push((
        "outer length",
        [lying_header(0x30, u64::MAX), real[body_start..].to_vec()].concat(),
    ));
    cases.push((
        "outer length 2^31",
        [lying_header(0x30, 1 << 31), real[body_start..].to_vec()].concat(),
    ));
    // The authSafe OCTET STRING claims 2^40 bytes.
    let lying_octets = [lying_header(0x04, 1 << 40), vec![0x30, 0x00]].concat();
    cases.push((
        "authSafe length",
        seq(&[int(3), seq(&[oid(ID_DATA), explicit(0, &lying_octets)])]),
    ));
    // A bag inside a plain safe claims 2^32 bytes.
    let lying_bag = [lying_header(0x30, 1 << 32), vec![0x06, 0x00]].concat();
    let safe = seq(&[oid(ID_DATA), explicit(0, &octets(&seq(&[lying_bag])))]);
    cases.push((
        "bag length",
        seq(&[
            int(3),
            seq(&[oid(ID_DATA), explicit(0, &octets(&seq(&[safe])))]),
        ]),
    ));
    // A shrouded key whose ciphertext OCTET STRING claims 2^48 bytes.
    let lying_epki = [
        lying_header(0x30, 1 << 48),
        pbes2_pbkdf2(1),
        lying_header(0x04, 1 << 48),
    ]
    .concat();
    cases.push((
        "key bag ciphertext",
        pfx_with_bags(&[shrouded_bag(lying_epki)]),
    ));
    // Truncations of a real file at every 97th byte.
    for cut in (1..real.len()).step_by(97) {
        cases.push(("truncated", real[..cut].to_vec()));
    }
    for (name, data) in &cases {
        let r = bounded(name, data, |d| {
            certmint::pkcs12::read(d, &pw(crate::support::FIXTURE_PW))
        });
        assert!(r.is_err(), "{name}");
        bounded(name, data, certmint::pkcs12::probe).ok();
        bounded(name, data, certmint::detect::identify).ok();
    }
}

#[test]
fn pem_and_der_declared_lengths_never_drive_allocations() {
    let mut ders: Vec<(&str, Vec<u8>)> = Vec::new();
    for (name, tag) in [
        ("sequence 2^64", 0x30u8),
        ("octets 2^64", 0x04),
        ("bits 2^64", 0x03),
    ] {
        ders.push((
            name,
            [lying_header(tag, u64::MAX), vec![0x02, 0x01, 0x00]].concat(),
        ));
    }
    // PKCS#8 whose key OCTET STRING claims 2^40 bytes.
    ders.push((
        "pkcs8 key",
        [
            lying_header(0x30, 1 << 40),
            int(0),
            seq(&[oid("1.2.840.113549.1.1.1"), null()]),
            lying_header(0x04, 1 << 40),
            vec![0x30, 0x00],
        ]
        .concat(),
    ));
    // A certificate whose TBS claims 2^40 bytes.
    ders.push((
        "certificate",
        [
            lying_header(0x30, 1 << 40),
            lying_header(0x30, 1 << 40),
            explicit(0, &int(2)),
        ]
        .concat(),
    ));
    // An encrypted key whose PBES2 salt claims 2^40 bytes.
    ders.push((
        "pbes2 salt",
        [seq(&[oid(PBES2)]), lying_header(0x04, 1 << 40)].concat(),
    ));
    let label_for = |name: &str| {
        if name.starts_with("certificate") {
            "CERTIFICATE"
        } else {
            "PRIVATE KEY"
        }
    };
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    for (name, der) in &ders {
        cases.push((name, der.clone()));
        cases.push((
            name,
            certmint::pemfile::encode(label_for(name), der).into_bytes(),
        ));
        cases.push((
            name,
            certmint::pemfile::encode("CERTIFICATE REQUEST", der).into_bytes(),
        ));
        cases.push((
            name,
            certmint::pemfile::encode("ENCRYPTED PRIVATE KEY", der).into_bytes(),
        ));
    }
    let p = pw(crate::support::FIXTURE_PW);
    for (name, data) in &cases {
        assert!(
            bounded(name, data, |d| certmint::key::load(d, Some(&p))).is_err(),
            "{name}"
        );
        // probe goes by the PEM label and may accept garbage under `PRIVATE KEY`.
        bounded(name, data, certmint::key::probe).ok();
        assert!(
            bounded(name, data, certmint::x509::parse).is_err(),
            "{name}"
        );
        assert!(
            bounded(name, data, certmint::csr::parse_unverified).is_err(),
            "{name}"
        );
        bounded(name, data, |d| {
            certmint::convert::convert(d, certmint::convert::Encoding::Pem)
        })
        .ok();
        bounded(name, data, certmint::detect::identify).ok();
        bounded(name, data, certmint::inspect::public_key_report).ok();
    }
}

#[test]
fn manifest_and_jwt_sizes_never_drive_allocations() {
    // TOML has no length fields; huge numbers and a deep nesting must fail cleanly. The
    // toml crate spends about 27 bytes per nesting level (hence the ratio), and manifests
    // longer than MAX_LEN are refused before parsing, which bounds that too.
    let parse = |d: &[u8]| certmint::manifest::Manifest::from_toml(std::str::from_utf8(d).unwrap());
    let numbers = "format = 1\nstem = \"s\"\nalias = \"a\"\nsubject = \"/CN=a\"\ndays = 4294967295\np12_profile = \"modern\"\n[[generation]]\ndir = \"g\"\nnumber = 99999999999999999999\n";
    assert!(bounded("huge numbers", numbers.as_bytes(), parse).is_err());
    let deep = format!("stem = {}{}", "[".repeat(5000), "]".repeat(5000));
    assert!(bounded_by("deep nesting", deep.as_bytes(), 64, parse).is_err());
    let huge = format!("stem = \"{}\"", "a".repeat(certmint::manifest::MAX_LEN));
    let r = bounded("too long", huge.as_bytes(), parse);
    assert!(matches!(r, Err(Error::Corrupt { .. })), "{r:?}");
    // An assertion is bounded by its length before it is decoded.
    let long = format!("eyJhbGciOiJSUzI1NiJ9.{}.AAAA", "A".repeat(1 << 20));
    let r = bounded("long assertion", long.as_bytes(), |d| {
        certmint::jwt::parse(std::str::from_utf8(d).unwrap()).map(|_| ())
    });
    assert!(r.is_err());
}

#[test]
#[should_panic(expected = "an allocation of")]
fn the_counter_catches_a_large_allocation() {
    bounded("self-check", b"tiny", |d| {
        vec![0u8; 1 << 20].len() + d.len()
    });
}
