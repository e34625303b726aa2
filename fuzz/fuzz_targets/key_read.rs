//! Private-key readers: PEM and DER, PKCS#1, PKCS#8, encrypted PKCS#8, legacy DEK-Info.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = certmint::key::probe(data);
    // A fixed password drives the decryption paths; the KDF limits keep hostile iteration
    // counts from stalling the fuzzer.
    let pw = certmint::Password::from("fixture-pass");
    let _ = certmint::key::load(data, Some(&pw));
    let _ = certmint::key::load(data, None);
    let _ = certmint::convert::convert(data, certmint::convert::Encoding::Der);
});
