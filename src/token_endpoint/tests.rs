use super::*;

#[test]
fn identity_url_stays_on_loopback_and_salesforce() {
    let mut r = TokenResponse::parse(
        br#"{"access_token":"x","id":"https://login.salesforce.com/id/00D/005"}"#,
    )
    .unwrap();
    let lo = LoginUrl::parse("http://127.0.0.1:5000").unwrap();
    assert_eq!(
        identity_url(&lo, &r).unwrap(),
        "http://127.0.0.1:5000/id/00D/005"
    );
    let prod = LoginUrl::parse("https://acme.my.salesforce.com").unwrap();
    assert_eq!(
        identity_url(&prod, &r).unwrap(),
        "https://login.salesforce.com/id/00D/005"
    );
    r.id = Some("https://evil.example/id/00D/005".into());
    assert!(identity_url(&prod, &r).is_err());
    r.id = Some("http://login.salesforce.com/id/00D/005".into());
    assert!(identity_url(&prod, &r).is_err());
}

#[test]
fn client_and_signer_can_be_shared_across_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Client>();
    shared::<crate::jwt::Signer>();
}
