//! The TOML side of the emulator's configuration: the file format (`--config`, and the
//! state file of `--state`), its limits, and its compilation into a [`Config`].

use super::*;
use crate::wire::metadata::EcaPartNames;

/// Seconds before a deployed app change takes effect on the token endpoint when the
/// configuration says nothing: two minutes. Salesforce Help ("OAuth Plugin Enablement with
/// Metadata API"): a change to the global settings file "takes effect immediately and is
/// distributed globally within 15 minutes"; third parties report 2 to 10 minutes.
pub const DEFAULT_PROPAGATION_SECONDS: u64 = 120;

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
                id: None,
                parts: None,
                components: Vec::new(),
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
    /// User permissions (`ModifyMetadata`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    permissions: Vec<String>,
}

#[derive(Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
struct PermissionSetFile {
    name: String,
    /// The record id, as a state file keeps it (`0PSEMU…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    label: Option<String>,
    /// The managed package's namespace it came with (none: the org's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    /// Kept from earlier versions: the same as `permissions = ["ModifyMetadata"]`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    modify_metadata: bool,
    /// User permissions (`ModifyMetadata`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    permissions: Vec<String>,
}

/// How a configured External Client App's parts are named.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
enum PartsFile {
    /// As an app made in Setup: `<app>_glbloauth`, `<app>_oauth`, `<app>_oauthPlcy`,
    /// `<app>_plcy`.
    Setup,
    /// As a metadata deploy makes them: `<app>_glbloauth`, `<app>_oauth`,
    /// `<app>_oauth_defaultPolicy`, `<app>_defaultPolicy`.
    Metadata,
}

/// `eca_consumer_key_change`, the name `eca_consumer_key_on_update` had before.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
enum KeyChangeFile {
    Ignore,
    Error,
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
    eca_consumer_key_on_update: Option<EcaKeyOnUpdate>,
    /// The old name of `eca_consumer_key_on_update`: `ignore` (the same) or `error`
    /// (`refuse-different`).
    eca_consumer_key_change: Option<KeyChangeFile>,
    refused_certificates: Option<Vec<String>>,
    generated_policies: Option<GeneratedPolicies>,
    omitted_certificate: Option<OmittedCertificate>,
    permission_sets_must_preexist: Option<bool>,
    permission_sets_assigned_to_deployer: Option<bool>,
    eca_at_login_host: Option<LoginHostEca>,
    consumer_key_readable: Option<bool>,
    soap_sessions: Option<bool>,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct AppFile {
    name: Option<String>,
    /// The record id, as a state file keeps it (`0H4…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
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
    /// An External Client App's part names: `setup` (the default) or `metadata`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parts: Option<PartsFile>,
    /// The component files the org keeps for the app (written by `--state`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    components: Vec<stored::Stored>,
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
                    permissions: names(p.permissions),
                })
                .collect(),
            permission_sets: self
                .permission_sets
                .iter()
                .map(|p| PermissionSetFile {
                    name: p.name.clone(),
                    id: Some(p.id.clone()),
                    label: Some(p.label.clone()),
                    namespace: p.namespace.clone(),
                    modify_metadata: false,
                    permissions: names(p.permissions),
                })
                .collect(),
            apps: self
                .apps
                .iter()
                .map(|a| AppFile {
                    name: Some(a.name.clone()),
                    id: Some(a.id.clone()),
                    parts: None,
                    components: a
                        .meta
                        .as_ref()
                        .map(|m| m.components().into_iter().cloned().collect())
                        .unwrap_or_default(),
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
            permissions: Permissions::ALL,
        },
        Profile {
            id: record_id("00e", 2)?,
            name: STANDARD_USER.into(),
            permissions: Permissions::NONE,
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
            permissions: permissions_of(&p.name, &p.permissions, false)?,
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
        let id = match &p.id {
            Some(id) => {
                let id = id18(id, "0PS", Input::PermissionSet)?;
                if stored::serial_of(&id).is_none() {
                    return Err(Error::invalid(
                        Input::PermissionSet,
                        format!(
                            "`{}` is not an id the emulator made",
                            crate::text::escape(&id)
                        ),
                    ));
                }
                id
            }
            None => record_id("0PS", permission_sets.len() + 1)?,
        };
        if permission_sets.iter().any(|x| x.id == id) {
            return Err(Error::invalid(
                Input::PermissionSet,
                format!("two permission sets have the id `{id}`"),
            ));
        }
        if let Some(ns) = &p.namespace
            && (ns.is_empty() || !ns.chars().all(|c| c.is_ascii_alphanumeric()))
        {
            return Err(Error::invalid(
                Input::PermissionSet,
                format!(
                    "the namespace of the permission set `{}` must be letters and digits",
                    crate::text::escape(&p.name)
                ),
            ));
        }
        permission_sets.push(PermissionSetRecord {
            id,
            namespace: p.namespace,
            label: p.label.unwrap_or_else(|| p.name.clone()),
            permissions: permissions_of(&p.name, &p.permissions, p.modify_metadata)?,
            name: p.name,
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
        let id = match &a.id {
            Some(id) => id18(id, "0H4", Input::App)?,
            None => record_id("0H4", i + 1)?,
        };
        if apps.iter().any(|x| x.id == id) {
            return Err(Error::invalid(
                Input::App,
                format!("two apps have the id `{id}`"),
            ));
        }
        let scopes = a.scopes.unwrap_or_else(|| "api web".into());
        let meta = if a.components.is_empty() {
            let c = stored::Configured {
                name: &name,
                id: &id,
                serial: stored::serial_of(&id).unwrap_or(i + 1),
                consumer_key: &a.consumer_key,
                certificate_pem: &certificate_pem,
                permitted_users: a.permitted_users,
                scopes: &scopes,
                profiles: &a.profiles,
                permission_sets: &a.permission_sets,
                enabled: a.enabled,
                parts: match a.parts {
                    Some(PartsFile::Metadata) => EcaPartNames::generated(&name),
                    _ => EcaPartNames::setup(&name),
                },
            };
            if a.external_client_app {
                stored::synthesize_eca(&c)?
            } else {
                stored::synthesize_connected(&c)?
            }
        } else {
            stored::AppMeta::from_components(a.components, a.external_client_app)?
        };
        apps.push(App {
            id,
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
            scopes,
            meta: Some(meta),
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
    let eca_consumer_key_on_update = match (e.eca_consumer_key_on_update, e.eca_consumer_key_change)
    {
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                Input::EmulatorConfig,
                "eca_consumer_key_change is the old name of eca_consumer_key_on_update: give one of them",
            ));
        }
        (Some(v), None) => v,
        (None, Some(KeyChangeFile::Ignore)) => EcaKeyOnUpdate::Ignore,
        (None, Some(KeyChangeFile::Error)) => EcaKeyOnUpdate::RefuseDifferent,
        (None, None) => EcaKeyOnUpdate::default(),
    };
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
        propagation_seconds: e.propagation_seconds.unwrap_or(DEFAULT_PROPAGATION_SECONDS),
        deploy_millis,
        out_of_order: match e.out_of_order_elements.unwrap_or_default() {
            OrderFile::Accept => OutOfOrder::Accept,
            OrderFile::Error => OutOfOrder::Error,
            OrderFile::Drop => OutOfOrder::Drop,
        },
        eca_consumer_key_on_update,
        generated_policies: e.generated_policies.unwrap_or_default(),
        omitted_certificate: e.omitted_certificate.unwrap_or_default(),
        permission_sets_must_preexist: e.permission_sets_must_preexist.unwrap_or(true),
        permission_sets_assigned_to_deployer: e
            .permission_sets_assigned_to_deployer
            .unwrap_or(false),
        eca_at_login_host: e.eca_at_login_host.unwrap_or_default(),
        consumer_key_readable: e.consumer_key_readable.unwrap_or(true),
        soap_sessions: e.soap_sessions.unwrap_or(true),
        accept_my_domain_audience: e.accept_my_domain_audience.unwrap_or(true),
        clock_skew: e.clock_skew_seconds.unwrap_or(0),
        clock_offset: e.clock_offset_seconds.unwrap_or(0),
        session_seconds: e.session_seconds.unwrap_or(7200).max(1),
        urls: e.urls.unwrap_or_default(),
        refused_certificates: refused_certificates(e.refused_certificates.unwrap_or_default())?,
    })
}

/// The permissions named in a profile's or permission set's `permissions` (and
/// `modify_metadata`, kept from earlier versions).
fn permissions_of(owner: &str, names: &[String], modify_metadata: bool) -> Result<Permissions> {
    let mut p = Permissions::from_names(names).map_err(|bad| {
        Error::invalid(
            Input::EmulatorConfig,
            format!(
                "`{}` grants `{}`, which is not a permission the emulator knows ({})",
                crate::text::escape(owner),
                crate::text::escape(&bad),
                Permission::ALL
                    .iter()
                    .map(|p| p.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })?;
    if modify_metadata {
        p = p.with(Permission::ModifyMetadata);
    }
    Ok(p)
}

/// The names of a set of permissions, for the state file.
fn names(p: Permissions) -> Vec<String> {
    p.names().into_iter().map(str::to_owned).collect()
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
pub(super) fn default_user_id(n: usize) -> String {
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
