//! JKS reading: structure without a password, integrity with the fixtures' password, key
//! recovery, and the Salesforce import rules.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = certmint::detect::detect(data).describe();
    let _ = certmint::jks::parse(data, None);
    let pw = certmint::Password::from("changeit");
    if let Ok(ks) = certmint::jks::parse(data, Some(&pw)) {
        let _ = ks.aliases();
        let _ = ks.private_key(None);
        let _ = ks.find("acme_jwt");
        for k in ks.private_keys() {
            let _ = k.recover(&pw);
        }
    }
    let _ = certmint::salesforce::check_jks(data, &pw);
});
