//! The certmint directory manifest (`certmint.toml`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(m) = certmint::manifest::Manifest::from_toml(text) {
        let _ = m.current_generation();
        let _ = m.pending();
        let _ = m.next_number();
        // What parses must write and parse back to the same manifest.
        let again = m.to_toml().expect("a parsed manifest serialises");
        let back = certmint::manifest::Manifest::from_toml(&again).expect("and parses back");
        assert_eq!(back, m);
    }
});
