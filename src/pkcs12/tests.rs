//! Unit tests for the PKCS#12 module: round trips, error kinds and hostile input.
//! Interoperability with OpenSSL and Java is proven in `tests/it/pkcs12.rs`.

use std::sync::OnceLock;

use super::*;
use crate::Password;
use crate::subject::Subject;
use crate::x509::{self, Validity};

struct Fixture {
    key: RsaKey,
    cert: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let key = RsaKey::generate(2048).unwrap();
        let subject = Subject::parse_openssl("/O=Acme/CN=p12-unit").unwrap();
        let cert = x509::self_signed(&key, &subject, &Validity::starting_now(30).unwrap()).unwrap();
        Fixture { key, cert }
    })
}

/// A deterministic RNG: a counter, for reproducible files.
struct CountingRng(u8);

impl rsa::rand_core::TryRng for CountingRng {
    type Error = std::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for b in dst {
            self.0 = self.0.wrapping_add(1);
            *b = self.0;
        }
        Ok(())
    }
}
impl rsa::rand_core::TryCryptoRng for CountingRng {}

fn fast(profile: Profile) -> WriteOptions {
    WriteOptions {
        profile,
        iterations: MIN_WRITE_ITERATIONS,
        mac_iterations: MIN_WRITE_ITERATIONS,
    }
}

fn write_fast(profile: Profile, password: &str) -> Vec<u8> {
    let f = fixture();
    write_with_rng(
        &f.key,
        std::slice::from_ref(&f.cert),
        "myalias",
        &Password::from(password),
        &fast(profile),
        &mut CountingRng(0),
    )
    .unwrap()
}

#[test]
fn every_profile_round_trips_with_non_ascii_passwords() {
    let f = fixture();
    for profile in Profile::ALL {
        for pw in ["Secr3t-pw", "pässwörd-€", "пароль-😀"] {
            let der = write_fast(profile, pw);
            let c = read(&der, &Password::from(pw)).unwrap();
            assert_eq!(c.entries.len(), 1, "{profile}");
            let e = c.key_entry(None).unwrap();
            assert_eq!(e.alias.as_deref(), Some("myalias"));
            assert_eq!(e.chain, vec![f.cert.clone()]);
            assert_eq!(e.key.as_ref().unwrap().pkcs8_der(), f.key.pkcs8_der());
            let sha1 = <sha1::Sha1 as sha1::Digest>::digest(&f.cert).to_vec();
            assert_eq!(e.local_key_id.as_deref(), Some(sha1.as_slice()));
            assert_eq!(
                c.structure.profile(),
                Some(profile),
                "{}",
                c.structure.summary()
            );
        }
    }
}

#[test]
fn alias_is_on_both_bags() {
    let der = write_fast(Profile::Modern, "pw-1234");
    let c = read(&der, &Password::from("pw-1234")).unwrap();
    let named: Vec<_> = c
        .structure
        .safes
        .iter()
        .flat_map(|s| s.bags.clone().unwrap())
        .map(|b| (b.kind, b.friendly_name, b.local_key_id.is_some()))
        .collect();
    assert_eq!(
        named,
        vec![
            (BagKind::Certificate, Some("myalias".into()), true),
            (BagKind::ShroudedKey, Some("myalias".into()), true),
        ]
    );
}

#[test]
fn writing_is_deterministic_with_a_fixed_rng() {
    assert_eq!(
        write_fast(Profile::Java8, "pw-1234"),
        write_fast(Profile::Java8, "pw-1234")
    );
    assert_eq!(
        write_fast(Profile::Modern, "pw-1234"),
        write_fast(Profile::Modern, "pw-1234")
    );
}

#[test]
fn summaries_name_the_algorithms() {
    let der = write_fast(Profile::Modern, "pw-1234");
    let s = probe(&der).unwrap();
    assert_eq!(
        s.summary(),
        "key: PBES2 (PBKDF2-HMAC-SHA256, 2048 iterations, AES-256-CBC); \
         certificates: PBES2 (PBKDF2-HMAC-SHA256, 2048 iterations, AES-256-CBC); \
         MAC: HMAC-SHA256, 2048 iterations"
    );
    assert_eq!(s.readable_by(), Profile::Modern.readable_by());
    let s = probe(&write_fast(Profile::Legacy, "pw-1234")).unwrap();
    assert_eq!(
        s.summary(),
        "key: pbeWithSHAAnd3-KeyTripleDES-CBC (2048 iterations); \
         certificates: pbeWithSHAAnd40BitRC2-CBC (2048 iterations); \
         MAC: HMAC-SHA1, 2048 iterations"
    );
    assert!(s.readable_by().contains("-legacy"));
    let s = probe(&write_fast(Profile::Java8, "pw-1234")).unwrap();
    assert_eq!(s.profile(), Some(Profile::Java8));
    assert!(!s.readable_by().contains("only with -legacy"));
}

#[test]
fn wrong_password_is_wrong_password() {
    for profile in Profile::ALL {
        let der = write_fast(profile, "right-pw");
        let err = read(&der, &Password::from("wrong-pw")).unwrap_err();
        assert!(
            matches!(err, Error::WrongPassword { .. }),
            "{profile}: {err:?}"
        );
    }
}

/// The MAC digest is the last OCTET STRING before the salt: find it by the known value.
fn flip_mac_byte(der: &mut [u8]) {
    let c = read(der, &Password::from("right-pw")).unwrap();
    drop(c);
    // The file ends: OCTET STRING digest, OCTET STRING salt (16), INTEGER iterations.
    // Walk back over INTEGER (02 len ..) and the salt (04 10 ..) to the digest's last byte.
    let n = der.len();
    let int_len = (2..6)
        .find(|&l| der[n - l] == 0x02 && usize::from(der[n - l + 1]) == l - 2)
        .unwrap();
    let salt_end = n - int_len;
    let digest_last = salt_end - 18 - 1;
    der[digest_last] ^= 0x01;
}

#[test]
fn corrupt_mac_is_not_a_wrong_password() {
    for profile in Profile::ALL {
        let mut der = write_fast(profile, "right-pw");
        flip_mac_byte(&mut der);
        let err = read(&der, &Password::from("right-pw")).unwrap_err();
        assert!(matches!(err, Error::Corrupt { .. }), "{profile}: {err:?}");
        assert!(err.to_string().contains("MAC"), "{err}");
        // With the wrong password it is still a wrong password.
        let err = read(&der, &Password::from("wrong-pw")).unwrap_err();
        assert!(
            matches!(err, Error::WrongPassword { .. }),
            "{profile}: {err:?}"
        );
    }
}

#[test]
fn truncated_and_garbage_input_is_corrupt_never_a_panic() {
    let der = write_fast(Profile::Modern, "pw-1234");
    for cut in [0, 1, 2, 4, 10, 100, der.len() / 2, der.len() - 1] {
        let err = read(&der[..cut], &Password::from("pw-1234")).unwrap_err();
        assert!(matches!(err, Error::Corrupt { .. }), "cut {cut}: {err:?}");
        assert!(probe(&der[..cut]).is_err());
    }
    // Flip every byte of the header region and a sample beyond: errors, not panics.
    for i in (0..der.len()).step_by(7) {
        let mut d = der.clone();
        d[i] ^= 0xFF;
        let _ = probe(&d);
        let _ = read(&d, &Password::from("pw-1234"));
    }
}

#[test]
fn other_kinds_of_file_are_named() {
    let f = fixture();
    let jks = [0xFE, 0xED, 0xFE, 0xED, 0, 0, 0, 2];
    let pem = x509::to_pem(&f.cert);
    let cases: [(&[u8], &str); 4] = [
        (&jks, "JKS"),
        (pem.as_bytes(), "PEM"),
        (&f.cert, "a certificate"),
        (f.key.pkcs8_der().expose(), "a private key"),
    ];
    for (data, found) in cases {
        let err = probe(data).unwrap_err();
        assert!(matches!(err, Error::WrongKind { .. }), "{found}: {err:?}");
        assert!(err.to_string().contains(found), "{err}");
    }
    let err = probe(&[0x30, 0x80, 0x02, 0x01, 0x03]).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err:?}");
}

#[test]
fn write_refuses_bad_inputs() {
    let f = fixture();
    let chain = std::slice::from_ref(&f.cert);
    let pw = Password::from("pw-1234");
    let other = RsaKey::generate(2048).unwrap();
    let err = write(&other, chain, "a", &pw, Profile::Modern).unwrap_err();
    assert!(matches!(err, Error::KeyMismatch(_)), "{err:?}");
    for alias in ["", "a\u{7}b", "😀"] {
        let err = write(&f.key, chain, alias, &pw, Profile::Modern).unwrap_err();
        assert!(
            matches!(err, Error::InvalidInput { .. }),
            "{alias:?}: {err:?}"
        );
    }
    let err = write(&f.key, chain, "a", &Password::from(""), Profile::Modern).unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    let err = write(&f.key, &[], "a", &pw, Profile::Modern).unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    let mut opts = fast(Profile::Modern);
    opts.iterations = 1;
    let err = write_with_rng(&f.key, chain, "a", &pw, &opts, &mut CountingRng(0)).unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
}

#[test]
fn alias_selection() {
    let der = write_fast(Profile::Java8, "pw-1234");
    let c = read(&der, &Password::from("pw-1234")).unwrap();
    assert!(c.key_entry(Some("myalias")).is_ok());
    assert!(
        c.key_entry(Some("MyAlias")).is_ok(),
        "Java matches aliases ignoring case"
    );
    let err = c.key_entry(Some("nope")).unwrap_err();
    match err {
        Error::UnknownAlias { alias, available } => {
            assert_eq!(alias, "nope");
            assert_eq!(available, "myalias");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn profile_names_parse() {
    for p in Profile::ALL {
        assert_eq!(p.name().parse::<Profile>().unwrap(), p);
    }
    assert!("rc2".parse::<Profile>().is_err());
    assert_eq!(Profile::default(), Profile::Modern);
}

#[test]
fn p12_keystore_reads_what_we_write() {
    let f = fixture();
    for profile in Profile::ALL {
        let der = write_fast(profile, "pässword");
        let archive = p12_keystore::Pkcs12Archive::from_pkcs12(&der, "pässword").unwrap();
        assert_eq!(archive.keys.len(), 1, "{profile}");
        assert_eq!(archive.keys[0].friendly_name.as_deref(), Some("myalias"));
        assert_eq!(archive.certs.len(), 1);
        assert_eq!(archive.certs[0].friendly_name.as_deref(), Some("myalias"));
        assert_eq!(archive.certs[0].cert.as_der(), f.cert.as_slice());
    }
}

/// Re-encode a file with its MAC iteration count changed (the pkcs12 crate's types read
/// certmint's DER back).
fn with_mac_iterations(der_bytes: &[u8], iterations: i32) -> Vec<u8> {
    use der::{Decode, Encode};
    let mut pfx = pkcs12::pfx::Pfx::from_der(der_bytes).unwrap();
    pfx.mac_data.as_mut().unwrap().iterations = iterations;
    pfx.to_der().unwrap()
}

#[test]
#[allow(
    clippy::print_stderr,
    reason = "the time it took, for whoever runs the test with --nocapture"
)]
fn hostile_iteration_counts_are_refused_quickly_over_the_limit() {
    let der = write_fast(Profile::Modern, "pw-1234");
    let hostile = with_mac_iterations(&der, 20_000_000);
    let started = std::time::Instant::now();
    let err = read(&hostile, &Password::from("pw-1234")).unwrap_err();
    assert!(matches!(err, Error::KdfLimit(_)), "{err:?}");
    assert!(err.to_string().contains("20000000 iterations"), "{err}");
    // Refused before any key derivation (no timing assertion: just a sanity print).
    eprintln!("refused in {:?}", started.elapsed());
    // probe still describes it.
    let s = probe(&hostile).unwrap();
    assert_eq!(s.mac.unwrap().iterations, 20_000_000);
    // A negative count is corrupt, not a wrong password.
    let err = read(&with_mac_iterations(&der, -5), &Password::from("pw-1234")).unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err:?}");
}
