//! CSR and certificate reading (PEM or DER).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = certmint::x509::parse(data);
    let _ = certmint::csr::parse(data);
    let _ = certmint::csr::parse_unverified(data);
    let _ = certmint::inspect::csr_report(data);
});
