//! The OpenSSL-style subject parser (`/C=US/O=Acme/CN=x`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data)
        && let Ok(subject) = certmint::subject::Subject::parse_openssl(s)
    {
        // What parses must print and parse back to the same subject.
        let again = certmint::subject::Subject::parse_openssl(&subject.to_string())
            .expect("a printed subject parses");
        assert_eq!(again, subject);
        let _ = subject.to_rcgen();
    }
});
