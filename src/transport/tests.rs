use super::*;

/// std's lookup failure (what ureq's resolver returns) is a lookup failure, named
/// after the host: this guards the wording `io_kind` recognises.
#[test]
fn a_failed_lookup_is_reported_as_one() {
    use std::net::ToSocketAddrs;
    let err = ("certmint-test.invalid", 443)
        .to_socket_addrs()
        .unwrap_err();
    let (kind, detail) = io_kind(&err, "certmint-test.invalid");
    assert_eq!(kind, NetworkKind::Dns, "{err}");
    assert!(
        detail.starts_with("`certmint-test.invalid` does not resolve"),
        "{detail}"
    );
    let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    assert_eq!(io_kind(&refused, "h").0, NetworkKind::Connect);
}

#[test]
fn tls_failures_say_what_they_mean() {
    use rustls::{CertificateError, Error as R, InvalidMessage};
    let (kind, detail) = tls_kind(&R::InvalidCertificate(CertificateError::UnknownIssuer));
    assert_eq!(kind, NetworkKind::UntrustedCertificate);
    assert!(detail.contains("UnknownIssuer"), "{detail}");
    let (kind, detail) = tls_kind(&R::InvalidMessage(InvalidMessage::InvalidContentType));
    assert_eq!(kind, NetworkKind::NotTls);
    assert!(detail.contains("plain-HTTP"), "{detail}");
    assert_eq!(
        tls_kind(&R::InvalidCertificate(CertificateError::Expired)).0,
        NetworkKind::Tls
    );
}

#[test]
fn no_proxy_rules() {
    assert!(no_proxy_matches("*", "login.salesforce.com"));
    assert!(no_proxy_matches("salesforce.com", "login.salesforce.com"));
    assert!(no_proxy_matches(
        " .salesforce.com ",
        "login.salesforce.com"
    ));
    assert!(no_proxy_matches("*.salesforce.com", "login.salesforce.com"));
    assert!(no_proxy_matches("salesforce.com", "salesforce.com"));
    assert!(!no_proxy_matches("force.com", "salesforce.com"));
    assert!(no_proxy_matches(
        "example.org,login.salesforce.com:443",
        "login.salesforce.com"
    ));
    assert!(no_proxy_matches("10.0.0.0/8", "10.1.2.3"));
    assert!(!no_proxy_matches("10.0.0.0/8", "11.1.2.3"));
    assert!(no_proxy_matches("::1", "[::1]"));
    assert!(!no_proxy_matches("", "a.b"));
    let p = ProxySettings {
        proxy: Some("http://proxy:3128".into()),
        no_proxy: Some("internal.example".into()),
    };
    assert!(p.uses_proxy_for("login.salesforce.com"));
    assert!(!p.uses_proxy_for("127.0.0.1"));
    assert!(!p.uses_proxy_for("a.internal.example"));
}

#[test]
fn http_proxy_is_never_used_for_https() {
    let env = |vars: &'static [(&'static str, &'static str)]| {
        ProxySettings::from_lookup(move |n| {
            vars.iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| (*v).to_owned())
        })
    };
    assert_eq!(env(&[("HTTP_PROXY", "http://p:1")]).proxy, None);
    assert_eq!(env(&[("http_proxy", "http://p:1")]).proxy, None);
    assert_eq!(
        env(&[("HTTP_PROXY", "http://p:1"), ("ALL_PROXY", "http://a:2")]).proxy,
        Some("http://a:2".into())
    );
    assert_eq!(
        env(&[("HTTPS_PROXY", "http://s:3"), ("ALL_PROXY", "http://a:2")]).proxy,
        Some("http://s:3".into())
    );
    assert_eq!(env(&[("HTTPS_PROXY", "  ")]).proxy, None);
    let p = env(&[("HTTPS_PROXY", "http://user:s3cret@proxy.example:3128/")]);
    assert_eq!(p.shown().unwrap(), "http://proxy.example:3128");
}

#[test]
fn plain_http_only_where_every_address_is_loopback() {
    let table = Resolver::new(|host, _| match host {
        "localhost" => Ok(vec!["127.0.0.1".parse().unwrap(), "::1".parse().unwrap()]),
        "emu.localhost" => Ok(vec!["127.0.0.1".parse().unwrap()]),
        "mapped.localhost" => Ok(vec!["::ffff:127.0.0.1".parse().unwrap()]),
        "evil.localhost" => Ok(vec!["192.0.2.7".parse().unwrap()]),
        "mixed.localhost" => Ok(vec![
            "127.0.0.1".parse().unwrap(),
            "192.0.2.7".parse().unwrap(),
        ]),
        "empty.localhost" => Ok(vec![]),
        _ => Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such host",
        )),
    });
    for ok in [
        "127.0.0.1",
        "127.3.4.5",
        "::1",
        "[::1]",
        "localhost",
        "emu.localhost",
        "mapped.localhost",
    ] {
        check_plain_http(ok, 80, &table).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    for (bad, why) in [
        ("evil.localhost", "resolves to 192.0.2.7"),
        ("mixed.localhost", "resolves to 192.0.2.7"),
        ("10.0.0.1", "not a loopback address"),
        ("login.salesforce.com", "not a loopback name"),
        ("empty.localhost", "does not resolve"),
        ("gone.localhost", "does not resolve"),
    ] {
        let err = check_plain_http(bad, 80, &table).unwrap_err().to_string();
        assert!(err.contains(why), "{bad}: {err}");
    }
    // The client checks before connecting: nothing listens on 192.0.2.7, and the
    // refusal comes from the check, not from a failed connection.
    let c = Client::new(ClientOptions {
        resolver: table,
        ..ClientOptions::default()
    })
    .unwrap();
    let err = c
        .agent_for("http://evil.localhost:7357/services/oauth2/token")
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
    assert!(c.agent_for("http://emu.localhost:7357/x").is_ok());
}

#[test]
fn a_socks_proxy_does_not_break_loopback() {
    let c = Client::new(ClientOptions {
        proxy: ProxySettings {
            proxy: Some("socks5://proxy:1080".into()),
            no_proxy: None,
        },
        ..ClientOptions::default()
    })
    .unwrap();
    assert!(c.agent_for("http://127.0.0.1:9/x").is_ok());
}

/// The plain-HTTP agent's resolver refuses what is not loopback at the lookup the
/// connection itself uses (after `check_plain_http` looked once): an answer that changed
/// in between gets no plain HTTP.
#[test]
fn the_plain_agents_resolver_refuses_non_loopback_answers() {
    use ureq::unversioned::resolver::Resolver as _;
    let r = LoopbackOnly::default();
    let config = ureq::config::Config::default();
    let resolve = |url: &str| {
        let uri: ureq::http::Uri = url.parse().unwrap();
        r.resolve(
            &uri,
            &config,
            ureq::unversioned::transport::NextTimeout::default(),
        )
    };
    let ok = resolve("http://127.0.0.1:7357/services/oauth2/token").unwrap();
    assert!(ok.iter().all(|a| a.ip().is_loopback()));
    assert!(resolve("http://[::1]:7357/").is_ok());
    let err = resolve("http://192.0.2.7:80/").unwrap_err();
    assert!(
        err.to_string()
            .contains("192.0.2.7, which is not a loopback address"),
        "{err}"
    );
    // Said as check_plain_http says it, not as a connection failure.
    let said = classify(err, "http://emu.localhost:80/services/oauth2/token").to_string();
    assert!(
        said.contains("refusing plain http:// to `emu.localhost`: it now resolves to 192.0.2.7"),
        "{said}"
    );
}
