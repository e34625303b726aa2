//! PKCS#12 reading: the password-free probe, then a full read (MAC, decryption, bags,
//! linking) with the fixtures' password, and with a second key password.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = certmint::pkcs12::probe(data) {
        let _ = s.summary();
        let _ = s.profile();
        let _ = s.readable_by();
    }
    let pw = certmint::Password::from("fixture-pass");
    if let Ok(c) = certmint::pkcs12::read(data, &pw) {
        let _ = c.aliases();
        let _ = c.entry(None);
        let _ = c.key_entry(Some("acme-jwt"));
        let _ = c.structure.summary();
    }
    let other = certmint::Password::from("keypass-differs");
    let _ = certmint::pkcs12::read_with_key_password(data, &other, Some(&pw));
});
