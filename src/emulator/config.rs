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
pub use permissions::{Permission, Permissions};
pub(crate) use stored::AppMeta;

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
    /// What the org keeps of the app's metadata (the files last deployed, or synthesized
    /// from the configuration); `None` on a previous version kept while a change
    /// propagates.
    pub(crate) meta: Option<AppMeta>,
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
    /// What a global OAuth settings file with a `consumerKey` gets when the External Client
    /// App already has its global OAuth settings.
    pub eca_consumer_key_on_update: EcaKeyOnUpdate,
    /// When Salesforce generates an External Client App's OAuth and plugin policies.
    pub generated_policies: GeneratedPolicies,
    /// What a connected app redeployed without `oauthConfig/certificate` gets.
    pub omitted_certificate: OmittedCertificate,
    /// A deploy may reference (ConnectedApp `permissionSetName`, ECA policy
    /// `commaSeparatedPermissionSet`) only permission sets the org had before it started.
    pub permission_sets_must_preexist: bool,
    /// An ECA OAuth policy deploy may reference only permission sets assigned to the
    /// deploying user.
    pub permission_sets_assigned_to_deployer: bool,
    /// What the login host (`ServerOptions::login_listen`) does with an ECA's token
    /// request.
    pub eca_at_login_host: LoginHostEca,
    /// `readMetadata` of ECA global OAuth settings includes `consumerKey` (the user holds
    /// "View External Client Apps Consumer Secrets in Metadata").
    pub consumer_key_readable: bool,
    /// The SOAP Metadata API accepts the REST API's sessions; when false it refuses every
    /// one with `sf:INVALID_SESSION_ID`, as Salesforce's SOAP API refuses a JWT-format
    /// access token that REST takes (fidelity §5).
    pub soap_sessions: bool,
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
    /// Its user permissions (all for System Administrator, none for Standard User), also
    /// those of the permission set it owns.
    pub permissions: Permissions,
}

/// A permission set of the org's own (not owned by a profile, no namespace).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PermissionSetRecord {
    /// 18-character id (`0PS…`).
    pub id: String,
    /// API name.
    pub name: String,
    /// The namespace of the managed package it came with (`None`: the org's own). An
    /// unqualified name refers to the org's own only; `ns__Name` to a package's.
    pub namespace: Option<String>,
    /// Label.
    pub label: String,
    /// Its user permissions.
    pub permissions: Permissions,
}

/// What a global OAuth settings file with a `consumerKey` gets when its External Client
/// App already has global OAuth settings (the key is "set at creation"; sfdx-hardis
/// reports redeployed credentials refused, a third party that a changed key is ignored).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EcaKeyOnUpdate {
    /// Any `consumerKey` fails the component (the emulator's wording).
    #[default]
    Refuse,
    /// Only a different key fails it; the same key is accepted.
    RefuseDifferent,
    /// The key is ignored and the old one kept.
    Ignore,
}

/// When Salesforce generates an External Client App's OAuth policies
/// (`<OAuth settings>_defaultPolicy`) and plugin policies (`<app>_defaultPolicy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GeneratedPolicies {
    /// As soon as the header (plugin policies) or the OAuth settings (OAuth policies) are
    /// created within the deploy: a policy of another name in the same deploy collides
    /// (sfdx-hardis's reading: it deploys the generated names).
    #[default]
    AtCreation,
    /// At the end of the deploy, for the apps it left without one: a policy of another
    /// name at creation is accepted (the RLM repository's live reading).
    AfterDeploy,
}

/// What a connected app redeployed without `oauthConfig/certificate` gets (undocumented;
/// the audit's §6 item 5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OmittedCertificate {
    /// The certificate is removed (the deploy is declarative), so the JWT flow stops.
    #[default]
    Clears,
    /// The uploaded certificate stays.
    Keeps,
}

/// What the login host does with an External Client App's token request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoginHostEca {
    /// `app_not_found` / `External client app is not installed in this org` (as users
    /// report from login.salesforce.com and test.salesforce.com).
    #[default]
    Refuse,
    /// Served as on the org's own endpoint.
    Accept,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum OrderFile {
    /// Read wherever they appear (Salesforce's own samples are out of order).
    #[default]
    Accept,
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
        // `ns__Name` names a managed package's; a bare name the org's own.
        let (ns, bare) = match name.split_once("__") {
            Some((ns, bare)) if !ns.is_empty() && !bare.is_empty() => (Some(ns), bare),
            _ => (None, name),
        };
        self.permission_sets.iter().position(|p| {
            let same_ns = match (&p.namespace, ns) {
                (None, None) => true,
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => false,
            };
            (same_ns && (p.name.eq_ignore_ascii_case(bare) || p.label.eq_ignore_ascii_case(bare)))
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

    /// The user permissions of user `u`: their profile's and their assigned permission
    /// sets' together.
    pub fn user_permissions(&self, u: &User) -> Permissions {
        let profile = self
            .profiles
            .get(u.profile)
            .map_or(Permissions::NONE, |p| p.permissions);
        u.permission_sets.iter().fold(profile, |acc, &ps| {
            self.permission_sets
                .get(ps)
                .map_or(acc, |p| acc.union(p.permissions))
        })
    }

    /// Whether user `u` may deploy metadata: Modify All Data or Modify Metadata, through
    /// their profile or an assigned permission set.
    pub fn may_deploy(&self, u: &User) -> bool {
        self.user_permissions(u).may_deploy()
    }

    /// Whether user `u` holds permission `p`.
    pub fn may(&self, u: &User, p: Permission) -> bool {
        self.user_permissions(u).has(p)
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

mod file;
pub use file::DEFAULT_PROPAGATION_SECONDS;
pub(crate) mod permissions;
pub(crate) mod stored;

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
        let ids: HashSet<String> = (1..=MAX_USERS).map(file::default_user_id).collect();
        assert_eq!(ids.len(), MAX_USERS);
        assert!(ids.iter().all(|id| id.len() == 15 && id.starts_with("005")));
        assert_eq!(file::default_user_id(1), "005EMULATOR0001");
        assert_eq!(file::default_user_id(MAX_USERS), "005EMULATO10000");
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
