//! The emulator's SOQL parser on arbitrary text: it returns a query or an error, never
//! panics, hangs or recurses without bound.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = certmint::emulator::soql::parse(s);
    }
});
