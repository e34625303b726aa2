//! Login URLs (`login`, `test`, My Domain, sandbox My Domain, Experience Cloud site,
//! loopback) and the audience Salesforce expects for each.

use std::fmt;

use super::{PRODUCTION, SANDBOX, TOKEN_PATH};
use crate::error::Input;
use crate::transport::Url;
pub use crate::transport::is_loopback_host;
use crate::{Error, Result};

/// What kind of Salesforce endpoint a login URL is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginKind {
    /// `https://login.salesforce.com`.
    Production,
    /// `https://test.salesforce.com`.
    Sandbox,
    /// `https://NAME.my.salesforce.com` (or another `*.salesforce.com` host).
    MyDomain,
    /// `https://NAME--SANDBOX.sandbox.my.salesforce.com`.
    SandboxMyDomain,
    /// An Experience Cloud site (`*.my.site.com`, `*.force.com/path`, a custom domain).
    Site,
    /// `http(s)://127.0.0.1:PORT`, `localhost` or `[::1]`: a local emulator.
    Loopback,
}

/// A parsed login URL: scheme, host, optional port and optional site path, without a
/// trailing slash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginUrl {
    base: String,
    origin: String,
    host: String,
    kind: LoginKind,
}

impl LoginUrl {
    /// Parse `login`, `test`, or a URL. A URL without a scheme gets `https://`; a pasted
    /// token endpoint URL is cut back to its login URL. Plain `http://` is refused unless
    /// the host is loopback, and Lightning domains (`*.lightning.force.com`) are refused
    /// because Salesforce does not serve OAuth there.
    pub fn parse(text: &str) -> Result<Self> {
        let t = text.trim();
        match t.to_ascii_lowercase().as_str() {
            "login" | "prod" | "production" => return Self::parse(PRODUCTION),
            "test" | "sandbox" => return Self::parse(SANDBOX),
            "" => return Err(Error::invalid(Input::LoginUrl, "it is empty")),
            _ => {}
        }
        let u = Url::parse(t, Input::LoginUrl)?;
        let host = u.host.clone();
        if host.ends_with(".lightning.force.com") {
            return Err(Error::invalid(
                Input::LoginUrl,
                format!(
                    "`{host}` is a Lightning domain, which does not serve OAuth; use the My Domain URL \
                     (https://NAME.my.salesforce.com) instead"
                ),
            ));
        }
        let loopback = is_loopback_host(&host);
        if u.scheme == "http" && !loopback {
            return Err(Error::invalid(
                Input::LoginUrl,
                format!(
                    "plain http:// is only allowed to a loopback address (the local emulator), not to \
                     `{host}`; use https://"
                ),
            ));
        }
        let mut path = u.path.trim_end_matches('/').to_owned();
        if let Some(p) = path.strip_suffix(TOKEN_PATH) {
            path = p.to_owned();
        }
        let kind = if loopback {
            LoginKind::Loopback
        } else if host == "login.salesforce.com" {
            LoginKind::Production
        } else if host == "test.salesforce.com" {
            LoginKind::Sandbox
        } else if host.ends_with(".sandbox.my.salesforce.com") {
            LoginKind::SandboxMyDomain
        } else if host.ends_with(".salesforce.com") {
            LoginKind::MyDomain
        } else {
            LoginKind::Site
        };
        let origin = u.origin();
        Ok(LoginUrl {
            base: format!("{origin}{path}"),
            origin,
            host,
            kind,
        })
    }

    /// The login URL, e.g. `https://acme.my.salesforce.com` or `https://acme.my.site.com/customers`.
    pub fn as_str(&self) -> &str {
        &self.base
    }

    /// Scheme, host and port.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The host name (lowercase; IPv6 without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// What kind of endpoint this is.
    pub fn kind(&self) -> LoginKind {
        self.kind
    }

    /// True for a loopback address (the local emulator).
    pub fn is_loopback(&self) -> bool {
        self.kind == LoginKind::Loopback
    }

    /// `<login URL>/services/oauth2/token`.
    pub fn token_url(&self) -> String {
        format!("{}{TOKEN_PATH}", self.base)
    }

    /// The audience Salesforce expects for assertions sent here: production and My Domain
    /// `https://login.salesforce.com`; sandboxes and sandbox My Domains
    /// `https://test.salesforce.com`; an Experience Cloud site its own URL.
    ///
    /// A loopback endpoint (the emulator, or whatever process holds that port) gets its own
    /// URL, never a real Salesforce audience: any local user can bind a free loopback port,
    /// and an assertion for `https://login.salesforce.com` sent there over plain HTTP could
    /// be redeemed at Salesforce until it expires. The emulator accepts its own URL.
    pub fn default_audience(&self) -> String {
        match self.kind {
            LoginKind::Production | LoginKind::MyDomain => PRODUCTION.into(),
            LoginKind::Sandbox | LoginKind::SandboxMyDomain => SANDBOX.into(),
            LoginKind::Site | LoginKind::Loopback => self.base.clone(),
        }
    }

    /// True when an assertion for `audience` sent here would leave loopback's safety: this
    /// is a loopback endpoint and `audience` is not a loopback URL (a real Salesforce
    /// audience, say), so whoever holds the port could replay the assertion there.
    pub fn exposes_audience(&self, audience: &str) -> bool {
        self.is_loopback()
            && !Url::parse(audience, Input::Audience).is_ok_and(|u| is_loopback_host(&u.host))
    }
}

impl fmt::Display for LoginUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base)
    }
}

/// Resolve an `--audience` value: `login` and `test` are aliases, anything else must be an
/// `http(s)://` URL and is used as given without a trailing slash.
pub fn resolve_audience(text: &str) -> Result<String> {
    let t = text.trim();
    match t.to_ascii_lowercase().as_str() {
        "login" | "prod" | "production" => return Ok(PRODUCTION.into()),
        "test" | "sandbox" => return Ok(SANDBOX.into()),
        _ => {}
    }
    let u = Url::parse(t, Input::Audience)?;
    if !t.contains("://") {
        return Err(Error::invalid(
            Input::Audience,
            format!(
                "`{}` is neither `login`, `test` nor a URL such as https://login.salesforce.com",
                crate::text::escape(t)
            ),
        ));
    }
    Ok(format!("{}{}", u.origin(), u.path.trim_end_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_aliases_and_audiences() {
        let cases = [
            (
                "login",
                "https://login.salesforce.com",
                LoginKind::Production,
                PRODUCTION,
            ),
            (
                "test",
                "https://test.salesforce.com",
                LoginKind::Sandbox,
                SANDBOX,
            ),
            (
                "https://acme.my.salesforce.com/",
                "https://acme.my.salesforce.com",
                LoginKind::MyDomain,
                PRODUCTION,
            ),
            (
                "acme.my.salesforce.com",
                "https://acme.my.salesforce.com",
                LoginKind::MyDomain,
                PRODUCTION,
            ),
            (
                "https://acme--uat.sandbox.my.salesforce.com",
                "https://acme--uat.sandbox.my.salesforce.com",
                LoginKind::SandboxMyDomain,
                SANDBOX,
            ),
            (
                "https://acme.my.site.com/customers/",
                "https://acme.my.site.com/customers",
                LoginKind::Site,
                "https://acme.my.site.com/customers",
            ),
            (
                "https://site.force.com/customers",
                "https://site.force.com/customers",
                LoginKind::Site,
                "https://site.force.com/customers",
            ),
            (
                "https://portal.acme.com",
                "https://portal.acme.com",
                LoginKind::Site,
                "https://portal.acme.com",
            ),
            (
                "http://127.0.0.1:8080",
                "http://127.0.0.1:8080",
                LoginKind::Loopback,
                "http://127.0.0.1:8080",
            ),
            (
                "http://localhost:1",
                "http://localhost:1",
                LoginKind::Loopback,
                "http://localhost:1",
            ),
            (
                "http://[::1]:9",
                "http://[::1]:9",
                LoginKind::Loopback,
                "http://[::1]:9",
            ),
            (
                "http://127.0.0.1:8080/services/oauth2/token",
                "http://127.0.0.1:8080",
                LoginKind::Loopback,
                "http://127.0.0.1:8080",
            ),
            (
                "https://login.salesforce.com/services/oauth2/token",
                "https://login.salesforce.com",
                LoginKind::Production,
                PRODUCTION,
            ),
        ];
        for (input, base, kind, aud) in cases {
            let l = LoginUrl::parse(input).unwrap();
            assert_eq!(l.as_str(), base, "{input}");
            assert_eq!(l.kind(), kind, "{input}");
            assert_eq!(l.default_audience(), aud, "{input}");
        }
        assert_eq!(
            LoginUrl::parse("login").unwrap().token_url(),
            "https://login.salesforce.com/services/oauth2/token"
        );
    }

    #[test]
    fn refuses_unsafe_login_urls() {
        for bad in [
            "http://login.salesforce.com",
            "http://10.0.0.1:80",
            "ftp://x",
            "https://acme.lightning.force.com",
            "https://user:pw@login.salesforce.com",
            "https://login.salesforce.com?x=1",
            "",
        ] {
            assert!(LoginUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_loopback_endpoint_never_gets_a_real_audience_by_default() {
        for url in [
            "http://127.0.0.1:7357",
            "http://localhost:1",
            "https://[::1]:9",
        ] {
            let l = LoginUrl::parse(url).unwrap();
            let aud = l.default_audience();
            assert!(!aud.contains("salesforce.com"), "{url}: {aud}");
            assert!(!l.exposes_audience(&aud), "{url}");
            assert!(l.exposes_audience(PRODUCTION), "{url}");
            assert!(l.exposes_audience(SANDBOX), "{url}");
            assert!(!l.exposes_audience("http://localhost:7357"), "{url}");
        }
        let prod = LoginUrl::parse("login").unwrap();
        assert!(!prod.exposes_audience(PRODUCTION));
    }

    #[test]
    fn audience_values() {
        assert_eq!(resolve_audience("login").unwrap(), PRODUCTION);
        assert_eq!(resolve_audience("TEST").unwrap(), SANDBOX);
        assert_eq!(
            resolve_audience("https://acme.my.site.com/customers/").unwrap(),
            "https://acme.my.site.com/customers"
        );
        assert!(resolve_audience("prodd").is_err());
    }
}
