//! Content detection (`detect`), as `inspect`, `check` and every reader's "found ..." use
//! it.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let detected = certmint::detect::detect(data);
    let _ = (detected.describe(), detected.describe_contents(), detected.id());
    let _ = certmint::detect::identify(data);
    let _ = certmint::check::plan(data, false);
    let _ = certmint::convert::convert(data, certmint::convert::Encoding::Pem);
    let _ = certmint::inspect::public_key_report(data);
    let _ = certmint::inspect::key_report(data, None);
});
