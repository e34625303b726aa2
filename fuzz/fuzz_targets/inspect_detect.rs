//! Content detection used by `inspect` and `check`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = certmint::inspect::detect(data);
    let _ = certmint::inspect::public_key_report(data);
    let _ = certmint::inspect::key_report(data, None);
});
