//! What the emulated org holds: org id and My Domain, profiles, permission sets, apps
//! (connected apps and External Client Apps: consumer key, certificate, scopes, Permitted
//! Users policy, pre-authorized profiles and permission sets), users (profile, assigned
//! permission sets), and the emulator's own knobs. Built from flags ([`Config::simple`])
//! or a TOML file ([`Config::from_toml`]); the schema is in `docs/emulator.md`. While the
//! server runs, deploys and REST writes change a copy of it (the `org` layer).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Input;
use crate::jwt::Verifier;
use crate::wire::metadata::OutOfOrder;
use crate::wire::oauth::{PRODUCTION, SANDBOX};
use crate::{Error, Result};

/// The org id used when none is configured (15 characters; obviously not a real org).
pub const DEFAULT_ORG_ID: &str = "00DEMULATOR0001";
/// The profile every org has and flag-configured users get; it may deploy metadata.
pub const SYSTEM_ADMINISTRATOR: &str = "System Administrator";
/// The other profile every org has.
pub const STANDARD_USER: &str = "Standard User";

/// Apps the org holds at most (configured and deployed).
pub const MAX_APPS: usize = 1000;
/// Users the org holds at most.
pub const MAX_USERS: usize = 10_000;
/// Permission sets the org holds at most.
pub const MAX_PERMISSION_SETS: usize = 1000;
/// Permission set assignments the org holds at most (all users together).
pub const MAX_ASSIGNMENTS: usize = 100_000;
/// Profiles the org holds at most (the two standard ones included).
pub const MAX_PROFILES: usize = 1000;

/// The Permitted Users policy of a connected app.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
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
    /// Its API name (the metadata `fullName`), also used by references from users and
    /// in logs.
    pub name: String,
    /// 18-character record id (`ConnectedApplication`).
    pub id: String,
    /// The consumer key (`iss`).
    pub consumer_key: String,
    /// Verifies assertions with the uploaded certificate's public key; `None` when the
    /// app has no certificate (the JWT bearer flow is not enabled).
    pub verifier: Option<Verifier>,
    /// The certificate as uploaded (PEM), empty without one.
    pub certificate_pem: String,
    /// SHA-1 fingerprint of the certificate (as Salesforce shows it).
    pub cert_sha1: String,
    /// Pre-authorized profiles (by name).
    pub profiles: Vec<String>,
    /// Pre-authorized permission sets (by name).
    pub permission_sets: Vec<String>,
    /// The app is enabled (an ECA's `isEnabled`; connected apps always are).
    pub enabled: bool,
    /// When this version of the app takes effect on the token endpoint (seconds since the
    /// epoch; 0 for apps configured at start-up). Before it, the previous version
    /// (`previous`) answers, or for a new app, nothing.
    pub effective_from: i64,
    /// The version this one replaces, still in force until `effective_from`.
    pub previous: Option<Box<App>>,
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
    /// Index into `Config::profiles`.
    pub profile: usize,
    /// Indexes into `Config::permission_sets` of the assigned permission sets.
    pub permission_sets: Vec<usize>,
    /// Indexes of apps that pre-authorize this user directly (a shorthand for a profile
    /// or permission set only this user has).
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
    /// Profiles (`System Administrator` and `Standard User` first).
    pub profiles: Vec<Profile>,
    /// Permission sets.
    pub permission_sets: Vec<PermissionSetRecord>,
    /// Whether a deploy may create a connected app (off, as in Spring '26 orgs).
    pub allow_connected_app_creation: bool,
    /// Seconds before a deployed app change takes effect on the token endpoint.
    pub propagation_seconds: u64,
    /// Milliseconds a deploy takes (half Pending, half InProgress).
    pub deploy_millis: u64,
    /// Out-of-order elements in deployed files.
    pub out_of_order: OutOfOrder,
    /// What a redeployed External Client App with a different consumer key gets.
    pub eca_consumer_key_change: KeyChange,
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
    /// SHA-1 fingerprints (uppercase hex, no colons) of certificates a deploy accepts but
    /// that never verify an assertion: the app then refuses every assertion (`invalid
    /// assertion`), as when a new certificate never takes. For testing a rotation's way
    /// back.
    pub refused_certificates: Vec<String>,
}

/// A SHA-1 fingerprint as [`Config::refused_certificates`] holds it: hex digits only,
/// uppercase.
pub(crate) fn fingerprint_key(sha1: &str) -> String {
    sha1.chars()
        .filter(char::is_ascii_hexdigit)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// A profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    /// 18-character id (`00e…`).
    pub id: String,
    /// Its name, e.g. `System Administrator`.
    pub name: String,
}

/// A permission set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PermissionSetRecord {
    /// 18-character id (`0PS…`).
    pub id: String,
    /// API name.
    pub name: String,
    /// Label.
    pub label: String,
    /// Grants Modify All Data or Modify Metadata (may deploy).
    pub modify_metadata: bool,
}

/// What a redeployed External Client App whose consumer key differs gets (a third party
/// reports the deploy succeeds and the old key stays; unverified).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyChange {
    /// The deploy succeeds and the key stays as it was.
    #[default]
    Ignore,
    /// The component fails with `You cannot provide a Consumer Key`.
    Error,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum OrderFile {
    #[default]
    Error,
    Drop,
}

impl App {
    /// The version of the app in force at `now`: this one, or the one it replaces while
    /// the change propagates; `None` for a new app not yet in force.
    pub fn at(&self, now: i64) -> Option<&App> {
        let mut a = self;
        while a.effective_from > now {
            a = a.previous.as_deref()?;
        }
        Some(a)
    }
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
            profiles: Vec::new(),
            permission_sets: Vec::new(),
            apps: vec![AppFile {
                name: Some("app".into()),
                consumer_key: client_id.to_owned(),
                certificate: String::new(),
                permitted_users: PermittedUsers::AdminApproved,
                external_client_app: false,
                installed: true,
                enabled: true,
                scopes: None,
                profiles: vec![SYSTEM_ADMINISTRATOR.into()],
                permission_sets: Vec::new(),
            }],
            users: usernames
                .iter()
                .map(|u| UserFile {
                    username: u.clone(),
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

    /// Find an app by consumer key (exact), as in force at `now`.
    pub fn app_by_key(&self, key: &str, now: i64) -> Option<usize> {
        self.apps
            .iter()
            .position(|a| a.at(now).is_some_and(|a| a.consumer_key == key))
    }

    /// Find a profile by name (case-insensitive).
    pub fn profile_by_name(&self, name: &str) -> Option<usize> {
        self.profiles
            .iter()
            .position(|p| p.name.eq_ignore_ascii_case(name.trim()))
    }

    /// Find a permission set by API name or label (case-insensitive) or id.
    pub fn permission_set_by_name(&self, name: &str) -> Option<usize> {
        let name = name.trim();
        self.permission_sets.iter().position(|p| {
            p.name.eq_ignore_ascii_case(name)
                || p.label.eq_ignore_ascii_case(name)
                || p.id == name
                || (name.len() == 15 && p.id.starts_with(name))
        })
    }

    /// Whether user `u` is pre-authorized for app `a` (index): by profile, by an assigned
    /// permission set, or directly.
    pub fn pre_authorizes(&self, app_ix: usize, app: &App, u: &User) -> bool {
        u.pre_authorized.contains(&app_ix)
            || self
                .profiles
                .get(u.profile)
                .is_some_and(|p| app.profiles.iter().any(|n| n.eq_ignore_ascii_case(&p.name)))
            || u.permission_sets.iter().any(|&ps| {
                self.permission_sets.get(ps).is_some_and(|ps| {
                    app.permission_sets.iter().any(|n| {
                        n.eq_ignore_ascii_case(&ps.name)
                            || n.eq_ignore_ascii_case(&ps.label)
                            || *n == ps.id
                    })
                })
            })
    }

    /// Whether user `u` may deploy metadata: the System Administrator profile, or a
    /// permission set that grants Modify All Data or Modify Metadata.
    pub fn may_deploy(&self, u: &User) -> bool {
        self.profiles
            .get(u.profile)
            .is_some_and(|p| p.name == SYSTEM_ADMINISTRATOR)
            || u.permission_sets.iter().any(|&ps| {
                self.permission_sets
                    .get(ps)
                    .is_some_and(|p| p.modify_metadata)
            })
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
    profiles: Vec<ProfileFile>,
    #[serde(default)]
    permission_sets: Vec<PermissionSetFile>,
    #[serde(default)]
    apps: Vec<AppFile>,
    #[serde(default)]
    users: Vec<UserFile>,
}

#[derive(Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    name: String,
}

#[derive(Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
struct PermissionSetFile {
    name: String,
    label: Option<String>,
    #[serde(default)]
    modify_metadata: bool,
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
    #[serde(default)]
    allow_connected_app_creation: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct EmulatorFile {
    accept_my_domain_audience: Option<bool>,
    clock_skew_seconds: Option<u64>,
    clock_offset_seconds: Option<i64>,
    session_seconds: Option<u64>,
    urls: Option<UrlStyle>,
    propagation_seconds: Option<u64>,
    deploy_millis: Option<u64>,
    out_of_order_elements: Option<OrderFile>,
    eca_consumer_key_change: Option<KeyChange>,
    refused_certificates: Option<Vec<String>>,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct AppFile {
    name: Option<String>,
    consumer_key: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    certificate: String,
    #[serde(default)]
    permitted_users: PermittedUsers,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default)]
    external_client_app: bool,
    #[serde(default = "yes")]
    installed: bool,
    scopes: Option<String>,
    #[serde(default)]
    profiles: Vec<String>,
    #[serde(default)]
    permission_sets: Vec<String>,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct UserFile {
    username: String,
    id: Option<String>,
    name: Option<String>,
    email: Option<String>,
    #[serde(default = "yes")]
    active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    profile: Option<String>,
    #[serde(default)]
    permission_sets: Vec<String>,
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
            profile: None,
            permission_sets: Vec::new(),
            pre_authorized: Vec::new(),
            approved: Vec::new(),
            ip_restricted: false,
        }
    }
}

fn yes() -> bool {
    true
}

/// The state file (`--state`): the org's profiles, permission sets, apps and users in
/// the TOML configuration's own format, certificates inline.
#[derive(Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
struct StateFile {
    #[serde(default)]
    profiles: Vec<ProfileFile>,
    #[serde(default)]
    permission_sets: Vec<PermissionSetFile>,
    #[serde(default)]
    apps: Vec<AppFile>,
    #[serde(default)]
    users: Vec<UserFile>,
}

impl Config {
    /// The org's changeable part (profiles, permission sets, apps, users) as a state
    /// file: TOML in the configuration's format, certificates inline.
    pub fn state_toml(&self) -> Result<String> {
        let app_name = |i: &usize| self.apps.get(*i).map(|a| a.name.clone());
        let file = StateFile {
            profiles: self
                .profiles
                .iter()
                .skip(2)
                .map(|p| ProfileFile {
                    name: p.name.clone(),
                })
                .collect(),
            permission_sets: self
                .permission_sets
                .iter()
                .map(|p| PermissionSetFile {
                    name: p.name.clone(),
                    label: Some(p.label.clone()),
                    modify_metadata: p.modify_metadata,
                })
                .collect(),
            apps: self
                .apps
                .iter()
                .map(|a| AppFile {
                    name: Some(a.name.clone()),
                    consumer_key: a.consumer_key.clone(),
                    certificate: a.certificate_pem.clone(),
                    permitted_users: a.permitted_users,
                    enabled: a.enabled,
                    external_client_app: a.external_client_app,
                    installed: a.installed,
                    scopes: Some(a.scopes.clone()),
                    profiles: a.profiles.clone(),
                    permission_sets: a.permission_sets.clone(),
                })
                .collect(),
            users: self
                .users
                .iter()
                .map(|u| UserFile {
                    username: u.username.clone(),
                    id: Some(u.id.clone()),
                    name: Some(u.name.clone()),
                    email: Some(u.email.clone()),
                    active: u.active,
                    profile: self.profiles.get(u.profile).map(|p| p.name.clone()),
                    permission_sets: u
                        .permission_sets
                        .iter()
                        .filter_map(|i| self.permission_sets.get(*i).map(|p| p.name.clone()))
                        .collect(),
                    pre_authorized: u.pre_authorized.iter().filter_map(app_name).collect(),
                    approved: u.approved.iter().filter_map(app_name).collect(),
                    ip_restricted: u.ip_restricted,
                })
                .collect(),
        };
        toml::to_string(&file).map_err(|e| Error::invalid(Input::EmulatorState, e))
    }

    /// This configuration with its profiles, permission sets, apps and users replaced by
    /// those of a state file written by [`Config::state_toml`].
    pub fn with_state(&self, text: &str) -> Result<Config> {
        let state: StateFile =
            toml::from_str(text).map_err(|e| Error::corrupt(Input::EmulatorState, e.message()))?;
        let file = ConfigFile {
            org: OrgFile::default(),
            emulator: EmulatorFile::default(),
            profiles: state.profiles,
            permission_sets: state.permission_sets,
            apps: state.apps,
            users: state.users,
        };
        let mut loaded = compile(file, &mut |cert: &str| Ok(cert.as_bytes().to_vec()))?;
        for a in &mut loaded.apps {
            if self
                .refused_certificates
                .contains(&fingerprint_key(&a.cert_sha1))
            {
                a.verifier = None;
            }
        }
        Ok(Config {
            apps: loaded.apps,
            users: loaded.users,
            profiles: loaded.profiles,
            permission_sets: loaded.permission_sets,
            ..self.clone()
        })
    }
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
    check_caps(&file)?;
    let mut profiles = vec![
        Profile {
            id: record_id("00e", 1)?,
            name: SYSTEM_ADMINISTRATOR.into(),
        },
        Profile {
            id: record_id("00e", 2)?,
            name: STANDARD_USER.into(),
        },
    ];
    // Names are looked up case-insensitively, through maps of lower-cased names so a
    // configuration at the caps loads in linear time.
    let mut profile_ix: HashMap<String, usize> = profiles
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.to_ascii_lowercase(), i))
        .collect();
    for p in file.profiles {
        if p.name.trim().is_empty() || profile_ix.contains_key(&p.name.to_ascii_lowercase()) {
            return Err(Error::invalid(
                Input::Profile,
                format!(
                    "`{}` is empty or listed twice",
                    crate::text::escape(&p.name)
                ),
            ));
        }
        profile_ix.insert(p.name.to_ascii_lowercase(), profiles.len());
        profiles.push(Profile {
            id: record_id("00e", profiles.len() + 1)?,
            name: p.name,
        });
    }
    let mut permission_sets: Vec<PermissionSetRecord> = Vec::new();
    let mut permission_set_ix: HashMap<String, usize> = HashMap::new();
    for p in file.permission_sets {
        if crate::wire::metadata::check_full_name(&p.name).is_err()
            || permission_set_ix.contains_key(&p.name.to_ascii_lowercase())
        {
            return Err(Error::invalid(
                Input::PermissionSet,
                format!(
                    "`{}` is not an API name (letters, digits, underscores) or is listed twice",
                    crate::text::escape(&p.name)
                ),
            ));
        }
        permission_set_ix.insert(p.name.to_ascii_lowercase(), permission_sets.len());
        permission_sets.push(PermissionSetRecord {
            id: record_id("0PS", permission_sets.len() + 1)?,
            label: p.label.unwrap_or_else(|| p.name.clone()),
            name: p.name,
            modify_metadata: p.modify_metadata,
        });
    }
    let mut apps: Vec<App> = Vec::with_capacity(file.apps.len());
    // Every name and consumer key in use, and the app each names (users refer to apps by
    // either).
    let mut app_refs: HashMap<String, usize> = HashMap::new();
    for (i, a) in file.apps.into_iter().enumerate() {
        let name = a.name.unwrap_or_else(|| format!("app{}", i + 1));
        if a.consumer_key.trim().is_empty() && !a.external_client_app {
            return Err(Error::invalid(
                Input::App,
                format!("`{name}` has an empty consumer_key"),
            ));
        }
        let key_taken =
            !a.consumer_key.is_empty() && apps.iter().any(|x| x.consumer_key == a.consumer_key);
        if key_taken || apps.iter().any(|x| x.name == name) {
            return Err(Error::invalid(
                Input::App,
                format!("`{name}`: two apps share a name or consumer key"),
            ));
        }
        for ps in &a.permission_sets {
            if !permission_set_ix.contains_key(&ps.to_ascii_lowercase()) {
                return Err(Error::invalid(
                    Input::App,
                    format!(
                        "`{name}` pre-authorizes permission set `{}`, which is not defined ([[permission_sets]])",
                        crate::text::escape(ps)
                    ),
                ));
            }
        }
        for pr in &a.profiles {
            if !profile_ix.contains_key(&pr.to_ascii_lowercase()) {
                return Err(Error::invalid(
                    Input::App,
                    format!(
                        "`{name}` pre-authorizes profile `{}`, which is not defined ([[profiles]])",
                        crate::text::escape(pr)
                    ),
                ));
            }
        }
        let (verifier, certificate_pem, cert_sha1) =
            if a.certificate.is_empty() && a.external_client_app {
                (None, String::new(), String::new())
            } else {
                let bytes = load_cert(&a.certificate)?;
                let cert = crate::x509::parse(&bytes)?;
                (
                    Some(Verifier::from_spki(&cert.spki)?),
                    crate::x509::to_pem(&cert.der),
                    cert.sha1,
                )
            };
        // The first app a reference names, by name or consumer key.
        app_refs.entry(name.clone()).or_insert(i);
        app_refs.entry(a.consumer_key.clone()).or_insert(i);
        apps.push(App {
            id: record_id("0H4", i + 1)?,
            name,
            consumer_key: a.consumer_key,
            verifier,
            certificate_pem,
            cert_sha1,
            profiles: a.profiles,
            permission_sets: a.permission_sets,
            enabled: a.enabled,
            effective_from: 0,
            previous: None,
            permitted_users: a.permitted_users,
            external_client_app: a.external_client_app,
            installed: a.installed,
            scopes: a.scopes.unwrap_or_else(|| "api web".into()),
        });
    }
    let find_app = |r: &str| {
        app_refs.get(r).copied().ok_or_else(|| {
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
    let mut usernames: HashSet<String> = HashSet::with_capacity(file.users.len());
    for (i, u) in file.users.into_iter().enumerate() {
        if u.username.trim().is_empty() {
            return Err(Error::invalid(Input::User, "a user has an empty username"));
        }
        if !usernames.insert(u.username.to_ascii_lowercase()) {
            return Err(Error::invalid(
                Input::User,
                format!("`{}` is listed twice", crate::text::escape(&u.username)),
            ));
        }
        let id = match &u.id {
            Some(id) => id18(id, "005", Input::UserId)?,
            None => id18(&default_user_id(i + 1), "005", Input::UserId)?,
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
        let profile_name = u.profile.as_deref().unwrap_or(SYSTEM_ADMINISTRATOR);
        let profile = profile_ix
            .get(&profile_name.to_ascii_lowercase())
            .copied()
            .ok_or_else(|| {
                Error::invalid(
                    Input::User,
                    format!(
                        "`{}` has profile `{}`, which is not defined ([[profiles]])",
                        crate::text::escape(&u.username),
                        crate::text::escape(profile_name)
                    ),
                )
            })?;
        let assigned = u
            .permission_sets
            .iter()
            .map(|n| {
                permission_set_ix
                    .get(&n.to_ascii_lowercase())
                    .copied()
                    .ok_or_else(|| {
                        Error::invalid(
                            Input::User,
                            format!(
                                "`{}` is assigned permission set `{}`, which is not defined",
                                crate::text::escape(&u.username),
                                crate::text::escape(n)
                            ),
                        )
                    })
            })
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
            profile,
            permission_sets: assigned,
            pre_authorized,
            approved,
            ip_restricted: u.ip_restricted,
        });
    }
    let e = file.emulator;
    let deploy_millis = e.deploy_millis.unwrap_or(1000);
    if deploy_millis > 600_000 {
        return Err(Error::invalid(
            Input::EmulatorConfig,
            "deploy_millis must be at most 600000 (ten minutes)",
        ));
    }
    Ok(Config {
        org_id,
        org_name: file.org.name.unwrap_or_else(|| "certmint emulator".into()),
        my_domain,
        sandbox: file.org.sandbox,
        sites,
        apps,
        users,
        profiles,
        permission_sets,
        allow_connected_app_creation: file.org.allow_connected_app_creation,
        propagation_seconds: e.propagation_seconds.unwrap_or(0),
        deploy_millis,
        out_of_order: match e.out_of_order_elements.unwrap_or_default() {
            OrderFile::Error => OutOfOrder::Error,
            OrderFile::Drop => OutOfOrder::Drop,
        },
        eca_consumer_key_change: e.eca_consumer_key_change.unwrap_or_default(),
        accept_my_domain_audience: e.accept_my_domain_audience.unwrap_or(true),
        clock_skew: e.clock_skew_seconds.unwrap_or(0),
        clock_offset: e.clock_offset_seconds.unwrap_or(0),
        session_seconds: e.session_seconds.unwrap_or(7200).max(1),
        urls: e.urls.unwrap_or_default(),
        refused_certificates: refused_certificates(e.refused_certificates.unwrap_or_default())?,
    })
}

fn refused_certificates(list: Vec<String>) -> Result<Vec<String>> {
    list.iter()
        .map(|f| {
            let k = fingerprint_key(f);
            if k.len() == 40 && f.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
                Ok(k)
            } else {
                Err(Error::invalid(
                    Input::EmulatorConfig,
                    format!(
                        "refused_certificates: `{}` is not a SHA-1 fingerprint (40 hex digits, colons allowed)",
                        crate::text::escape(f)
                    ),
                ))
            }
        })
        .collect()
}

/// The 15-character id of the `n`th user when none is configured: `005EMULATOR0001` to
/// `005EMULATOR9999`, then `005EMULATO10000` (five digits still fit 15 characters, and the
/// letter where the others have a digit keeps them apart) up to [`MAX_USERS`].
fn default_user_id(n: usize) -> String {
    if n < 10_000 {
        format!("005EMULATOR{n:04}")
    } else {
        format!("005EMULATO{n:05}")
    }
}

/// Refuse a configuration or state file that holds more than the org's caps, before
/// anything is built from it.
fn check_caps(file: &ConfigFile) -> Result<()> {
    let assignments: usize = file.users.iter().map(|u| u.permission_sets.len()).sum();
    for (what, n, max) in [
        ("apps", file.apps.len(), MAX_APPS),
        ("users", file.users.len(), MAX_USERS),
        (
            "permission sets",
            file.permission_sets.len(),
            MAX_PERMISSION_SETS,
        ),
        ("permission set assignments", assignments, MAX_ASSIGNMENTS),
        ("profiles", file.profiles.len() + 2, MAX_PROFILES),
    ] {
        if n > max {
            return Err(Error::invalid(
                Input::EmulatorConfig,
                format!("it holds {n} {what}; the emulator holds at most {max}"),
            ));
        }
    }
    Ok(())
}

/// The `n`th emulator record id with a key prefix (`0PS`, `00e`, `0H4`, …), 18 characters:
/// `<prefix>EMULATOR<n:04>` then the case-safe suffix.
pub(crate) fn record_id(prefix: &str, n: usize) -> Result<String> {
    let id15 = format!("{prefix}EMU{n:09}");
    id18(&id15, prefix, Input::RecordId)
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
    fn default_user_ids_are_15_characters_and_distinct_up_to_the_cap() {
        let ids: HashSet<String> = (1..=MAX_USERS).map(default_user_id).collect();
        assert_eq!(ids.len(), MAX_USERS);
        assert!(ids.iter().all(|id| id.len() == 15 && id.starts_with("005")));
        assert_eq!(default_user_id(1), "005EMULATOR0001");
        assert_eq!(default_user_id(MAX_USERS), "005EMULATO10000");
    }

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
