//! What the emulated org holds: org id and My Domain, connected apps (consumer key,
//! certificate, Permitted Users policy), users, and the emulator's own knobs. Built from
//! flags ([`Config::simple`]) or a TOML file ([`Config::from_toml`]); the schema is in
//! `docs/emulator.md`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::Input;
use crate::jwt::Verifier;
use crate::wire::oauth::{PRODUCTION, SANDBOX};
use crate::{Error, Result};

/// The org id used when none is configured (15 characters; obviously not a real org).
pub const DEFAULT_ORG_ID: &str = "00DEMULATOR0001";

/// The Permitted Users policy of a connected app.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PermittedUsers {
    /// "Admin approved users are pre-authorized": the user's profile or permission set
    /// must be assigned to the app (`pre_authorized`).
    #[default]
    AdminApproved,
    /// "All users may self-authorize": the user must have approved the app once with the
    /// `refresh_token` scope (`approved`).
    SelfAuthorize,
}

/// Where the `id` and `instance_url` of a token response point.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UrlStyle {
    /// At the emulator itself (`<base>/id/<org>/<user>`, `instance_url = <base>`), so
    /// any client's follow-up calls work.
    #[default]
    Emulator,
    /// As Salesforce writes them (`https://login.salesforce.com/id/…` or test, and the My
    /// Domain as instance URL). Only clients that map these back to the emulator (certmint
    /// mint does, for a loopback login URL) can follow them.
    Salesforce,
}

/// A connected app or external client app.
#[derive(Clone, Debug)]
pub struct App {
    /// A name for references from users and for logs.
    pub name: String,
    /// The consumer key (`iss`).
    pub consumer_key: String,
    /// Verifies assertions with the uploaded certificate's public key.
    pub verifier: Verifier,
    /// SHA-1 fingerprint of the certificate (as Salesforce shows it).
    pub cert_sha1: String,
    /// Permitted Users policy.
    pub permitted_users: PermittedUsers,
    /// An external client app (ECA) rather than a connected app.
    pub external_client_app: bool,
    /// For an ECA: whether it is installed in this org.
    pub installed: bool,
    /// Scopes granted, space separated.
    pub scopes: String,
}

/// A user of the org.
#[derive(Clone, Debug)]
pub struct User {
    /// Username (matched case-insensitively, as Salesforce does).
    pub username: String,
    /// 18-character user id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Email.
    pub email: String,
    /// Active (not deactivated or frozen).
    pub active: bool,
    /// Indexes of apps whose admin pre-authorization covers this user.
    pub pre_authorized: Vec<usize>,
    /// Indexes of apps this user approved (self-authorize policy).
    pub approved: Vec<usize>,
    /// Logins refused with `ip restricted`.
    pub ip_restricted: bool,
}

/// The emulated org and the emulator's behaviour.
#[derive(Clone, Debug)]
pub struct Config {
    /// 18-character org id.
    pub org_id: String,
    /// Org name.
    pub org_name: String,
    /// My Domain URL (`https://acme.my.salesforce.com`), if any.
    pub my_domain: Option<String>,
    /// A sandbox (login through test.salesforce.com; audience `https://test.salesforce.com`).
    pub sandbox: bool,
    /// Experience Cloud site URLs (`https://acme.my.site.com/customers`).
    pub sites: Vec<String>,
    /// Apps.
    pub apps: Vec<App>,
    /// Users.
    pub users: Vec<User>,
    /// Also accept the My Domain URL (and the emulator's own base URL) as `aud`.
    pub accept_my_domain_audience: bool,
    /// Seconds an `exp` may lie in the past (default 0).
    pub clock_skew: u64,
    /// Seconds added to the system clock: a positive value makes the emulator's clock run
    /// ahead, which is how to reproduce `expired authorization code` (default 0).
    pub clock_offset: i64,
    /// Lifetime of an issued token, seconds (default 7200, Salesforce's default session
    /// timeout of two hours).
    pub session_seconds: u64,
    /// Where `id` and `instance_url` point.
    pub urls: UrlStyle,
}

impl std::fmt::Display for PermittedUsers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PermittedUsers::AdminApproved => "admin-approved",
            PermittedUsers::SelfAuthorize => "self-authorize",
        })
    }
}

impl Config {
    /// The simple case: one connected app (admin-approved policy) with `certificate`
    /// (PEM or DER) and consumer key `client_id`, and the given users, all active and
    /// pre-authorized.
    pub fn simple(certificate: &[u8], client_id: &str, usernames: &[String]) -> Result<Self> {
        let file = ConfigFile {
            org: OrgFile::default(),
            emulator: EmulatorFile::default(),
            apps: vec![AppFile {
                name: Some("app".into()),
                consumer_key: client_id.to_owned(),
                certificate: String::new(),
                permitted_users: PermittedUsers::AdminApproved,
                external_client_app: false,
                installed: true,
                scopes: None,
            }],
            users: usernames
                .iter()
                .map(|u| UserFile {
                    username: u.clone(),
                    pre_authorized: vec!["app".into()],
                    ..UserFile::default()
                })
                .collect(),
        };
        compile(file, &mut |_| Ok(certificate.to_vec()))
    }

    /// Parse a TOML configuration. Certificates given as file paths are read with `read`
    /// (relative paths are the caller's business, e.g. relative to the config file).
    pub fn from_toml(
        text: &str,
        read: &mut dyn FnMut(&Path) -> std::io::Result<Vec<u8>>,
    ) -> Result<Self> {
        let file: ConfigFile =
            toml::from_str(text).map_err(|e| Error::corrupt(Input::EmulatorConfig, e.message()))?;
        compile(file, &mut |cert: &str| {
            if cert.contains("-----BEGIN") {
                Ok(cert.as_bytes().to_vec())
            } else {
                let p = PathBuf::from(cert);
                read(&p).map_err(|e| {
                    Error::invalid(
                        Input::CertificatePath,
                        format!("cannot read `{}`: {e}", crate::text::escape(cert)),
                    )
                })
            }
        })
    }

    /// The 15-character org id (the prefix of access tokens).
    pub fn org_id15(&self) -> &str {
        &self.org_id[..15]
    }

    /// The login host URL this org's `id` URLs use.
    pub fn login_host(&self) -> &'static str {
        if self.sandbox { SANDBOX } else { PRODUCTION }
    }

    /// Find an app by consumer key (exact).
    pub fn app_by_key(&self, key: &str) -> Option<usize> {
        self.apps.iter().position(|a| a.consumer_key == key)
    }

    /// Find a user by username (case-insensitive).
    pub fn user_by_name(&self, name: &str) -> Option<usize> {
        self.users
            .iter()
            .position(|u| u.username.eq_ignore_ascii_case(name))
    }

    /// Find a user by 15- or 18-character id.
    pub fn user_by_id(&self, id: &str) -> Option<usize> {
        self.users
            .iter()
            .position(|u| u.id == id || (id.len() == 15 && u.id.starts_with(id)))
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    org: OrgFile,
    #[serde(default)]
    emulator: EmulatorFile,
    #[serde(default)]
    apps: Vec<AppFile>,
    #[serde(default)]
    users: Vec<UserFile>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct OrgFile {
    id: Option<String>,
    name: Option<String>,
    my_domain: Option<String>,
    #[serde(default)]
    sandbox: bool,
    #[serde(default)]
    sites: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct EmulatorFile {
    accept_my_domain_audience: Option<bool>,
    clock_skew_seconds: Option<u64>,
    clock_offset_seconds: Option<i64>,
    session_seconds: Option<u64>,
    urls: Option<UrlStyle>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppFile {
    name: Option<String>,
    consumer_key: String,
    certificate: String,
    #[serde(default)]
    permitted_users: PermittedUsers,
    #[serde(default)]
    external_client_app: bool,
    #[serde(default = "yes")]
    installed: bool,
    scopes: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserFile {
    username: String,
    id: Option<String>,
    name: Option<String>,
    email: Option<String>,
    #[serde(default = "yes")]
    active: bool,
    #[serde(default)]
    pre_authorized: Vec<String>,
    #[serde(default)]
    approved: Vec<String>,
    #[serde(default)]
    ip_restricted: bool,
}

impl Default for UserFile {
    fn default() -> Self {
        UserFile {
            username: String::new(),
            id: None,
            name: None,
            email: None,
            active: true,
            pre_authorized: Vec::new(),
            approved: Vec::new(),
            ip_restricted: false,
        }
    }
}

fn yes() -> bool {
    true
}

fn compile(file: ConfigFile, load_cert: &mut dyn FnMut(&str) -> Result<Vec<u8>>) -> Result<Config> {
    let org_id = match &file.org.id {
        Some(id) => id18(id, "00D", Input::OrgId)?,
        None => id18(DEFAULT_ORG_ID, "00D", Input::OrgId)?,
    };
    let my_domain = match &file.org.my_domain {
        Some(d) => Some(normalize_url(d, Input::MyDomain)?),
        None => None,
    };
    let sites = file
        .org
        .sites
        .iter()
        .map(|s| normalize_url(s, Input::SiteUrl))
        .collect::<Result<Vec<_>>>()?;
    if file.apps.is_empty() {
        return Err(Error::invalid(
            Input::EmulatorConfig,
            "it defines no app ([[apps]])",
        ));
    }
    let mut apps: Vec<App> = Vec::with_capacity(file.apps.len());
    for (i, a) in file.apps.into_iter().enumerate() {
        let name = a.name.unwrap_or_else(|| format!("app{}", i + 1));
        if a.consumer_key.trim().is_empty() {
            return Err(Error::invalid(
                Input::App,
                format!("`{name}` has an empty consumer_key"),
            ));
        }
        if apps
            .iter()
            .any(|x| x.consumer_key == a.consumer_key || x.name == name)
        {
            return Err(Error::invalid(
                Input::App,
                format!("`{name}`: two apps share a name or consumer key"),
            ));
        }
        let bytes = load_cert(&a.certificate)?;
        let cert = crate::x509::parse(&bytes)?;
        let verifier = Verifier::from_spki(&cert.spki)?;
        apps.push(App {
            name,
            consumer_key: a.consumer_key,
            verifier,
            cert_sha1: cert.sha1,
            permitted_users: a.permitted_users,
            external_client_app: a.external_client_app,
            installed: a.installed,
            scopes: a.scopes.unwrap_or_else(|| "api web".into()),
        });
    }
    let find_app = |r: &str| {
        apps.iter()
            .position(|a| a.name == r || a.consumer_key == r)
            .ok_or_else(|| {
                Error::invalid(
                    Input::User,
                    format!(
                        "refers to app `{}`, which is not defined",
                        crate::text::escape(r)
                    ),
                )
            })
    };
    let mut users: Vec<User> = Vec::with_capacity(file.users.len());
    for (i, u) in file.users.into_iter().enumerate() {
        if u.username.trim().is_empty() {
            return Err(Error::invalid(Input::User, "a user has an empty username"));
        }
        if users
            .iter()
            .any(|x| x.username.eq_ignore_ascii_case(&u.username))
        {
            return Err(Error::invalid(
                Input::User,
                format!("`{}` is listed twice", crate::text::escape(&u.username)),
            ));
        }
        let id = match &u.id {
            Some(id) => id18(id, "005", Input::UserId)?,
            None => id18(&format!("005EMULATOR{:04}", i + 1), "005", Input::UserId)?,
        };
        let pre_authorized = u
            .pre_authorized
            .iter()
            .map(|r| find_app(r))
            .collect::<Result<Vec<_>>>()?;
        let approved = u
            .approved
            .iter()
            .map(|r| find_app(r))
            .collect::<Result<Vec<_>>>()?;
        let local = u
            .username
            .split('@')
            .next()
            .unwrap_or(&u.username)
            .to_owned();
        users.push(User {
            name: u.name.unwrap_or_else(|| local.clone()),
            email: u.email.unwrap_or_else(|| u.username.clone()),
            username: u.username,
            id,
            active: u.active,
            pre_authorized,
            approved,
            ip_restricted: u.ip_restricted,
        });
    }
    let e = file.emulator;
    Ok(Config {
        org_id,
        org_name: file.org.name.unwrap_or_else(|| "certmint emulator".into()),
        my_domain,
        sandbox: file.org.sandbox,
        sites,
        apps,
        users,
        accept_my_domain_audience: e.accept_my_domain_audience.unwrap_or(true),
        clock_skew: e.clock_skew_seconds.unwrap_or(0),
        clock_offset: e.clock_offset_seconds.unwrap_or(0),
        session_seconds: e.session_seconds.unwrap_or(7200).max(1),
        urls: e.urls.unwrap_or_default(),
    })
}

fn normalize_url(s: &str, what: Input) -> Result<String> {
    let t = s.trim();
    let with = if t.contains("://") {
        t.to_owned()
    } else {
        format!("https://{t}")
    };
    if !(with.starts_with("https://") || with.starts_with("http://")) || with.len() < 10 {
        return Err(Error::invalid(
            what,
            format!("`{}` is not an http(s) URL", crate::text::escape(s)),
        ));
    }
    Ok(with.trim_end_matches('/').to_owned())
}

const ID_SUFFIX: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// The 18-character form of a 15-character Salesforce id (the case-safe suffix encodes
/// which of the 15 characters are upper case, five at a time).
pub fn id18_suffix(id15: &str) -> Option<String> {
    let b = id15.as_bytes();
    if b.len() != 15 || !b.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    let mut out = String::with_capacity(3);
    for chunk in b.chunks(5) {
        let mut n = 0usize;
        for (i, c) in chunk.iter().enumerate() {
            if c.is_ascii_uppercase() {
                n |= 1 << i;
            }
        }
        out.push(ID_SUFFIX[n] as char);
    }
    Some(out)
}

/// Validate a 15- or 18-character id with the given key prefix and return the 18 form.
pub fn id18(id: &str, prefix: &str, what: Input) -> Result<String> {
    let bad = |why: &str| Error::invalid(what, format!("`{}` {why}", crate::text::escape(id)));
    if !id.starts_with(prefix) {
        return Err(bad(&format!("does not start with {prefix}")));
    }
    let (id15, given) = match id.len() {
        15 => (id, None),
        18 => (&id[..15], Some(&id[15..])),
        _ => return Err(bad("is not 15 or 18 characters long")),
    };
    let suffix =
        id18_suffix(id15).ok_or_else(|| bad("has characters other than letters and digits"))?;
    if let Some(g) = given
        && g != suffix
    {
        return Err(bad(&format!(
            "has the wrong case-safe suffix (expected {suffix})"
        )));
    }
    Ok(format!("{id15}{suffix}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id18_matches_known_ids() {
        // Salesforce documentation examples.
        assert_eq!(
            id18("00Dxx0000001gPL", "00D", Input::OrgId).unwrap(),
            "00Dxx0000001gPLEAY"
        );
        assert_eq!(
            id18("005xx000001SwiU", "005", Input::UserId).unwrap(),
            "005xx000001SwiUAAS"
        );
        assert!(id18("005xx000001SwiUAAA", "005", Input::UserId).is_err());
        assert!(id18("001xx000001SwiU", "005", Input::UserId).is_err());
        assert!(id18("005", "005", Input::UserId).is_err());
    }

    #[test]
    fn toml_errors_are_reported() {
        let mut read =
            |_: &Path| -> std::io::Result<Vec<u8>> { Err(std::io::ErrorKind::NotFound.into()) };
        assert!(
            Config::from_toml(
                "[[apps]]\nconsumer_key='k'\ncertificate='x.crt'\n",
                &mut read
            )
            .is_err()
        );
        assert!(Config::from_toml("bogus = 1\n", &mut read).is_err());
        assert!(Config::from_toml("", &mut read).is_err());
    }
}
