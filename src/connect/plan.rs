//! The app plan: what certmint puts on an app, as the metadata components to deploy and,
//! for an app that exists, what changes field by field.
//!
//! - A new External Client App is built from the typed structs of
//!   [`crate::wire::metadata`] (so its files are in the schema's element order), its parts
//!   named as Salesforce names a metadata-created app's ([`EcaPartNames::generated`]).
//! - An app that exists (an External Client App, certmint's or not, or a connected app) is
//!   read from the org ([`super::discover`]) and edited in place ([`Element::set`]): the
//!   certificate, admin approval and the pre-authorized permission set and profiles, and
//!   the label, contact email, callback URL or scopes only when the run gives them. Every
//!   other element goes back as it was read (a deploy is declarative: what a file leaves
//!   out takes its default), the consumer key is never sent back (it is set once, at
//!   creation), and a part that did not change is not deployed.
//!
//! A [`Plan`] holds each component before and after ([`Planned::changes`] is what
//! `--dry-run` and `--check-only` print), the deploy package of those that change, and a
//! digest that tells an interrupted run's deploy from another.

use std::path::Path;

use sha2::Digest as _;

use super::discover::ExistingEca;
use crate::error::Input;
use crate::manifest::AppKind;
use crate::output::{self, Mode};
use crate::wire::metadata::eca::{default_oauth_policy_name, default_plugin_policy_name};
use crate::wire::metadata::{
    Component, ConnectedApp, ConnectedAppOauthConfig, ConnectedAppOauthPolicy, DeployPackage,
    DistributionState, EcaPartNames, Element, ExternalClientApplication,
    ExtlClntAppConfigurablePolicies, ExtlClntAppGlobalOauthSettings,
    ExtlClntAppOauthConfigurablePolicies, ExtlClntAppOauthSettings, IpRelaxation,
    IpRelaxationPolicyType, MetadataType, OauthScope, PermittedUsersPolicyType,
    RefreshTokenPolicyType, check_consumer_key, check_full_name,
};
use crate::{Error, Result};

/// The API version of the packages certmint deploys and of the SOAP reads: new enough for
/// everything an External Client App's JWT bearer flow needs (the certificate on the
/// global OAuth settings and the plugin policies came with 60.0), and served by every
/// current org.
pub const API_VERSION: u32 = 62;

/// The callback URL of a new app: a placeholder (the JWT bearer flow never redirects, but
/// the field is required); the Salesforce CLI's own.
pub const PLACEHOLDER_CALLBACK_URL: &str = "http://localhost:1717/OauthRedirect";

/// Length of the consumer keys certmint generates.
pub const CONSUMER_KEY_LEN: usize = 40;

/// Longest app name certmint derives: its longest part name, `<app>_oauth_defaultPolicy`,
/// adds 20 characters, and an API name holds at most 80.
pub const MAX_APP_NAME: usize = 60;

/// The scopes of a new app unless `--scope` says otherwise.
pub const DEFAULT_SCOPES: &[OauthScope] = &[OauthScope::Api, OauthScope::RefreshToken];

/// What certmint puts on an app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppSpec {
    /// External Client App or connected app.
    pub kind: AppKind,
    /// The app's API name.
    pub name: String,
    /// Its label (a new app's; an existing app's only when [`Given::label`]).
    pub label: String,
    /// Its contact email (likewise).
    pub contact_email: String,
    /// Its callback URL (likewise).
    pub callback_url: String,
    /// A new app's description.
    pub description: String,
    /// The consumer key (the assertions' `iss`).
    pub consumer_key: String,
    /// Send the consumer key: only when the app (its global OAuth settings) is created.
    pub send_consumer_key: bool,
    /// The certificate, PEM.
    pub certificate_pem: String,
    /// OAuth scopes (a new app's; an existing app's only when [`Given::scopes`], else
    /// its own with `Api` added when missing).
    pub scopes: Vec<OauthScope>,
    /// The permission set pre-authorized on the app, by API name.
    pub permission_set: Option<String>,
    /// Its record id, when the org has it: an app that names it by id (the reference page
    /// says `commaSeparatedPermissionSet` holds ids; practice shows API names) names it too.
    pub permission_set_id: Option<String>,
    /// Profiles pre-authorized on the app, by name.
    pub profiles: Vec<String>,
    /// The app is enabled (false retires it).
    pub enabled: bool,
    /// An External Client App's part names for the parts it creates.
    pub parts: EcaPartNames,
}

/// Which of an existing app's own settings the run was asked to change.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Given {
    /// `--label`.
    pub label: bool,
    /// `--contact-email`.
    pub contact_email: bool,
    /// `--callback-url`.
    pub callback_url: bool,
    /// `--scope`.
    pub scopes: bool,
}

/// An app in the org, as read.
#[derive(Clone, Copy, Debug)]
pub enum Existing<'a> {
    /// An External Client App and its parts.
    Eca(&'a ExistingEca),
    /// A connected app.
    ConnectedApp(&'a Element),
}

/// One component of the plan: before (as read; `None` when the deploy creates it) and
/// after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    /// Its type.
    pub kind: MetadataType,
    /// Its full name.
    pub name: String,
    /// As the org has it, when it exists.
    pub before: Option<Element>,
    /// As the deploy sends it.
    pub after: Element,
}

/// One field that changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Its path (`oauthConfig/certificate`).
    pub field: String,
    /// Before (`None`: absent).
    pub before: Option<String>,
    /// After (`None`: removed).
    pub after: Option<String>,
}

/// The components of one deploy.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Every component considered, in deploy order.
    pub components: Vec<Planned>,
    /// The package of those the deploy sends (created or changed).
    pub package: DeployPackage,
    /// SHA-256 (hex) of what is deployed, the consumer key left out: equal digests are the
    /// same deploy (an interrupted run resumes its deploy only then).
    pub digest: String,
}

impl AppSpec {
    /// The plan of a new app: every component created (for an External Client App, the
    /// header and its four parts; a connected app is planned whole only to be shown or
    /// saved: certmint never creates one).
    pub fn plan_new(&self) -> Result<Plan> {
        check_app_name(&self.name)?;
        if self.send_consumer_key {
            check_consumer_key(&self.consumer_key)
                .map_err(|p| Error::invalid(Input::App, p.message))?;
        }
        let components = match self.kind {
            AppKind::ConnectedApp => vec![created(
                MetadataType::ConnectedApp,
                &self.name,
                &self.connected_app(),
            )?],
            AppKind::ExternalClientApp => {
                let names = self.part_names(None);
                let mut out = vec![created(
                    MetadataType::ExternalClientApplication,
                    &self.name,
                    &self.header(),
                )?];
                for kind in crate::wire::metadata::eca::PART_TYPES {
                    let name = part_name(&names, *kind)?;
                    out.push(created(
                        *kind,
                        &name,
                        &self.part(*kind, self.send_consumer_key),
                    )?);
                }
                out
            }
        };
        Plan::new(components)
    }

    /// The plan of an app that exists: `existing` as read, with certmint's changes.
    pub fn plan_edit(&self, existing: Existing<'_>, given: Given) -> Result<Plan> {
        check_app_name(&self.name)?;
        let components = match existing {
            Existing::Eca(ex) => self.edit_eca(ex, given)?,
            Existing::ConnectedApp(el) => vec![self.edit_connected_app(el, given)?],
        };
        Plan::new(components)
    }

    /// The part names: those the app has, and for a missing part the name Salesforce (or
    /// certmint) gives it on creation.
    fn part_names(&self, ex: Option<&ExistingEca>) -> EcaPartNames {
        let mut names = ex.map(|e| e.parts.clone()).unwrap_or_default();
        let base = if self.parts.is_complete() {
            self.parts.clone()
        } else {
            EcaPartNames::generated(&self.name)
        };
        if names.global_oauth.is_none() {
            names.global_oauth = base.global_oauth.clone();
        }
        if names.oauth_settings.is_none() {
            names.oauth_settings = base.oauth_settings.clone();
        }
        if names.oauth_policy.is_none() {
            // Generated for the OAuth settings when they are created.
            names.oauth_policy = names
                .oauth_settings
                .as_deref()
                .map(default_oauth_policy_name);
        }
        if names.plugin_policy.is_none() {
            names.plugin_policy = Some(default_plugin_policy_name(&self.name));
        }
        names
    }

    fn edit_eca(&self, ex: &ExistingEca, given: Given) -> Result<Vec<Planned>> {
        let names = self.part_names(Some(ex));
        let mut out = Vec::new();
        let edit = |kind: MetadataType,
                    f: &dyn Fn(&mut Element) -> Result<()>|
         -> Result<Option<Planned>> {
            let Some(before) = ex.part(kind) else {
                return Ok(None);
            };
            let mut after = before.clone();
            f(&mut after)?;
            Ok(Some(Planned {
                kind,
                name: before
                    .text_at(&["fullName"])
                    .filter(|n| !n.is_empty())
                    .map_or_else(
                        || part_name(&names, kind).unwrap_or_default(),
                        str::to_owned,
                    ),
                before: Some(before.clone()),
                after,
            }))
        };
        let set = |el: &mut Element, kind: MetadataType, path: &[&str], v: &[&str]| {
            el.set(kind, path, v)
                .map_err(|p| Error::invalid(Input::MetadataXml, p.message))
        };
        if !self.enabled {
            // Retiring: the app is disabled, nothing else changes.
            let kind = MetadataType::ExtlClntAppConfigurablePolicies;
            match edit(kind, &|el| set(el, kind, &["isEnabled"], &["false"]))? {
                Some(p) => out.push(p),
                None => out.push(created(
                    kind,
                    &part_name(&names, kind)?,
                    &self.part(kind, false),
                )?),
            }
            return Ok(out);
        }
        if given.label || given.contact_email {
            let kind = MetadataType::ExternalClientApplication;
            if let Some(p) = edit(kind, &|el| {
                if given.label {
                    set(el, kind, &["label"], &[&self.label])?;
                }
                if given.contact_email {
                    set(el, kind, &["contactEmail"], &[&self.contact_email])?;
                }
                Ok(())
            })? {
                out.push(p);
            }
        }
        for kind in crate::wire::metadata::eca::PART_TYPES {
            let kind = *kind;
            let edited = match kind {
                MetadataType::ExtlClntAppGlobalOauthSettings => edit(kind, &|el| {
                    set(el, kind, &["certificate"], &[&self.certificate_pem])?;
                    // Never sent back: set once at creation (the key), never read back
                    // for sending (the secret).
                    el.remove(&["consumerKey"]);
                    el.remove(&["consumerSecret"]);
                    for flag in ["shouldRotateConsumerKey", "shouldRotateConsumerSecret"] {
                        if el.child(flag).is_some() {
                            set(el, kind, &[flag], &["false"])?;
                        }
                    }
                    if given.callback_url {
                        set(el, kind, &["callbackUrl"], &[&self.callback_url])?;
                    }
                    Ok(())
                })?,
                MetadataType::ExtlClntAppOauthSettings => edit(kind, &|el| {
                    let current = el
                        .text_at(&["commaSeparatedOauthScopes"])
                        .map(comma_items)
                        .unwrap_or_default();
                    let scopes = if given.scopes {
                        self.scopes.iter().map(|s| s.as_str().to_owned()).collect()
                    } else {
                        with_api(current)
                    };
                    set(
                        el,
                        kind,
                        &["commaSeparatedOauthScopes"],
                        &[&scopes.join(", ")],
                    )
                })?,
                MetadataType::ExtlClntAppOauthConfigurablePolicies => edit(kind, &|el| {
                    set(
                        el,
                        kind,
                        &["permittedUsersPolicyType"],
                        &[PermittedUsersPolicyType::AdminApprovedPreAuthorized.as_str()],
                    )?;
                    if let Some(ps) = &self.permission_set {
                        let now = el
                            .text_at(&["commaSeparatedPermissionSet"])
                            .map(comma_items)
                            .unwrap_or_default();
                        if !names_permission_set(&now, ps, self.permission_set_id.as_deref()) {
                            let list = union(now, std::slice::from_ref(ps));
                            set(
                                el,
                                kind,
                                &["commaSeparatedPermissionSet"],
                                &[&list.join(", ")],
                            )?;
                        }
                    }
                    if !self.profiles.is_empty() {
                        let list = union(
                            el.text_at(&["commaSeparatedProfile"])
                                .map(comma_items)
                                .unwrap_or_default(),
                            &self.profiles,
                        );
                        set(el, kind, &["commaSeparatedProfile"], &[&list.join(", ")])?;
                    }
                    Ok(())
                })?,
                _ => edit(kind, &|el| {
                    set(el, kind, &["isEnabled"], &["true"])?;
                    set(el, kind, &["isOauthPluginEnabled"], &["true"])
                })?,
            };
            match edited {
                Some(p) => out.push(p),
                // A part the app lacks (or that could not be read) gets certmint's
                // settings under its name; the consumer key goes only to global settings
                // being created for an app that has none.
                None => {
                    let key = kind == MetadataType::ExtlClntAppGlobalOauthSettings
                        && ex.complete
                        && ex.parts.global_oauth.is_none();
                    out.push(created(
                        kind,
                        &part_name(&names, kind)?,
                        &self.part(kind, key),
                    )?);
                }
            }
        }
        Ok(out)
    }

    fn edit_connected_app(&self, before: &Element, given: Given) -> Result<Planned> {
        let kind = MetadataType::ConnectedApp;
        let mut el = before.clone();
        let set = |el: &mut Element, path: &[&str], v: &[&str]| {
            el.set(kind, path, v)
                .map_err(|p| Error::invalid(Input::MetadataXml, p.message))
        };
        el.remove(&["oauthConfig", "consumerKey"]);
        el.remove(&["oauthConfig", "consumerSecret"]);
        let listed = |el: &Element, name: &str| -> Vec<String> {
            el.texts_at(&[name])
                .into_iter()
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect()
        };
        if self.enabled {
            if el.text_at(&["oauthConfig", "callbackUrl"]).is_none() {
                set(
                    &mut el,
                    &["oauthConfig", "callbackUrl"],
                    &[&self.callback_url],
                )?;
            }
            set(
                &mut el,
                &["oauthConfig", "certificate"],
                &[&self.certificate_pem],
            )?;
            set(&mut el, &["oauthConfig", "isAdminApproved"], &["true"])?;
            let scopes: Vec<String> = if given.scopes {
                self.scopes.iter().map(|s| s.as_str().to_owned()).collect()
            } else {
                with_api(
                    el.texts_at(&["oauthConfig", "scopes"])
                        .into_iter()
                        .map(str::to_owned)
                        .collect(),
                )
            };
            let refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
            set(&mut el, &["oauthConfig", "scopes"], &refs)?;
            if given.callback_url {
                set(
                    &mut el,
                    &["oauthConfig", "callbackUrl"],
                    &[&self.callback_url],
                )?;
            }
            if given.label {
                set(&mut el, &["label"], &[&self.label])?;
            }
            if given.contact_email {
                set(&mut el, &["contactEmail"], &[&self.contact_email])?;
            }
            if let Some(ps) = &self.permission_set {
                let list = union(listed(&el, "permissionSetName"), std::slice::from_ref(ps));
                let refs: Vec<&str> = list.iter().map(String::as_str).collect();
                set(&mut el, &["permissionSetName"], &refs)?;
            }
            if !self.profiles.is_empty() {
                let list = union(listed(&el, "profileName"), &self.profiles);
                let refs: Vec<&str> = list.iter().map(String::as_str).collect();
                set(&mut el, &["profileName"], &refs)?;
            }
        } else {
            // Retiring: certmint's permission set and profiles come off the lists (an
            // omitted list is kept; an explicit empty element removes them all), and its
            // certificate comes off the app; everything else stays.
            let ours: Vec<String> = self.permission_set.iter().cloned().collect();
            for (name, remove) in [
                ("permissionSetName", &ours),
                ("profileName", &self.profiles),
            ] {
                let now = listed(&el, name);
                if now.is_empty() || remove.is_empty() {
                    continue;
                }
                let keep: Vec<&str> = now
                    .iter()
                    .filter(|v| !remove.iter().any(|r| r.eq_ignore_ascii_case(v)))
                    .map(String::as_str)
                    .collect();
                if keep.len() != now.len() {
                    set(
                        &mut el,
                        &[name],
                        if keep.is_empty() { &[""] } else { &keep },
                    )?;
                }
            }
            let on_app = el
                .text_at(&["oauthConfig", "certificate"])
                .map(str::to_owned);
            if on_app.is_some_and(|c| same_certificate(&c, &self.certificate_pem)) {
                el.remove(&["oauthConfig", "certificate"]);
            }
        }
        Ok(Planned {
            kind,
            name: self.name.clone(),
            before: Some(before.clone()),
            after: el,
        })
    }

    fn header(&self) -> Component {
        Component::ExternalClientApplication(ExternalClientApplication {
            contact_email: self.contact_email.clone(),
            description: Some(self.description.clone()),
            distribution_state: Some(DistributionState::Local),
            is_protected: Some(false),
            label: self.label.clone(),
            ..ExternalClientApplication::default()
        })
    }

    /// A part of a new app (or one an existing app lacks), typed.
    fn part(&self, kind: MetadataType, with_key: bool) -> Component {
        let app = self.name.clone();
        match kind {
            MetadataType::ExtlClntAppGlobalOauthSettings => {
                Component::ExtlClntAppGlobalOauthSettings(ExtlClntAppGlobalOauthSettings {
                    callback_url: Some(self.callback_url.clone()),
                    certificate: Some(self.certificate_pem.clone()),
                    consumer_key: with_key.then(|| self.consumer_key.clone()),
                    external_client_application: app,
                    is_consumer_secret_optional: Some(true),
                    is_pkce_required: Some(false),
                    label: Some(format!("{} Global OAuth", self.label)),
                    should_rotate_consumer_key: Some(false),
                    should_rotate_consumer_secret: Some(false),
                    ..ExtlClntAppGlobalOauthSettings::default()
                })
            }
            MetadataType::ExtlClntAppOauthSettings => {
                Component::ExtlClntAppOauthSettings(ExtlClntAppOauthSettings {
                    comma_separated_oauth_scopes: self.scopes.clone(),
                    external_client_application: app,
                    label: Some(format!("{} OAuth", self.label)),
                })
            }
            MetadataType::ExtlClntAppOauthConfigurablePolicies => {
                Component::ExtlClntAppOauthConfigurablePolicies(
                    ExtlClntAppOauthConfigurablePolicies {
                        comma_separated_permission_set: self
                            .permission_set
                            .iter()
                            .cloned()
                            .collect(),
                        comma_separated_profile: self.profiles.clone(),
                        external_client_application: app,
                        ip_relaxation_policy_type: Some(IpRelaxationPolicyType::Enforce),
                        label: Some(format!("{} OAuth policies", self.label)),
                        permitted_users_policy_type: Some(
                            PermittedUsersPolicyType::AdminApprovedPreAuthorized,
                        ),
                        refresh_token_policy_type: Some(RefreshTokenPolicyType::Infinite),
                        ..ExtlClntAppOauthConfigurablePolicies::default()
                    },
                )
            }
            _ => Component::ExtlClntAppConfigurablePolicies(ExtlClntAppConfigurablePolicies {
                external_client_application: app,
                is_enabled: self.enabled,
                is_oauth_plugin_enabled: Some(true),
                label: Some(format!("{} policies", self.label)),
            }),
        }
    }

    fn connected_app(&self) -> Component {
        Component::ConnectedApp(ConnectedApp {
            contact_email: self.contact_email.clone(),
            description: Some(self.description.clone()),
            label: self.label.clone(),
            oauth_config: Some(ConnectedAppOauthConfig {
                callback_url: self.callback_url.clone(),
                certificate: Some(self.certificate_pem.clone()),
                is_admin_approved: Some(true),
                scopes: self.scopes.clone(),
                ..ConnectedAppOauthConfig::default()
            }),
            oauth_policy: Some(ConnectedAppOauthPolicy {
                ip_relaxation: IpRelaxation::Enforce,
                refresh_token_policy: "infinite".into(),
                single_logout_url: None,
            }),
            permission_set_name: self.permission_set.iter().cloned().collect(),
            profile_name: self.profiles.clone(),
            ..ConnectedApp::default()
        })
    }
}

fn part_name(names: &EcaPartNames, kind: MetadataType) -> Result<String> {
    names
        .get(kind)
        .map(str::to_owned)
        .ok_or_else(|| Error::internal(format!("no name for the {kind} part")))
}

fn created(kind: MetadataType, name: &str, c: &Component) -> Result<Planned> {
    Ok(Planned {
        kind,
        name: name.to_owned(),
        before: None,
        after: c.to_element()?,
    })
}

/// Whether `items` (a policy's `commaSeparatedPermissionSet`, or a connected app's
/// `permissionSetName`s) name the permission set `name` with record id `id`: by its API
/// name (compared without case), or by its id (15 or 18 characters; the reference page
/// says the policy holds ids, practice shows names: both are recognised).
pub fn names_permission_set(items: &[String], name: &str, id: Option<&str>) -> bool {
    let id15 = id.map(|i| i.get(..15).unwrap_or(i));
    items.iter().any(|item| {
        item.eq_ignore_ascii_case(name)
            || id15.is_some_and(|i| item.len() >= 15 && item.get(..15) == Some(i))
    })
}

/// The items of a comma-separated list (`Api, Web`), trimmed, empty ones dropped.
pub fn comma_items(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `list` with each of `add` that it lacks (compared without case) appended.
fn union(mut list: Vec<String>, add: &[String]) -> Vec<String> {
    for a in add {
        if !list.iter().any(|x| x.eq_ignore_ascii_case(a)) {
            list.push(a.clone());
        }
    }
    list
}

/// Scopes with `Api` added when missing: the JWT bearer flow issues a token only with a
/// standard scope besides `refresh_token`.
fn with_api(scopes: Vec<String>) -> Vec<String> {
    let has = scopes
        .iter()
        .any(|s| parse_scope(s).is_ok_and(|x| matches!(x, OauthScope::Api | OauthScope::Full)));
    if has {
        scopes
    } else {
        union(scopes, &[OauthScope::Api.as_str().to_owned()])
    }
}

impl Plan {
    /// The plan of `components`: those created or changed go into the package.
    pub fn new(components: Vec<Planned>) -> Result<Plan> {
        let mut package = DeployPackage::new(API_VERSION);
        let mut h = sha2::Sha256::new();
        for c in components.iter().filter(|c| c.is_sent()) {
            package.add_element(c.kind, &c.name, &c.after)?;
            let mut keyless = c.after.clone();
            keyless.remove(&["consumerKey"]);
            keyless.remove(&["oauthConfig", "consumerKey"]);
            h.update(c.kind.path(&c.name).as_bytes());
            h.update([0]);
            h.update(keyless.to_file().as_bytes());
            h.update([0]);
        }
        Ok(Plan {
            components,
            package,
            digest: crate::text::hex(&h.finalize()),
        })
    }

    /// True when nothing needs deploying: the org already has it all.
    pub fn is_empty(&self) -> bool {
        self.package.files().next().is_none()
    }

    /// The components the deploy sends.
    pub fn sent(&self) -> impl Iterator<Item = &Planned> {
        self.components.iter().filter(|c| c.is_sent())
    }

    /// The component of type `kind` the plan holds.
    pub fn component(&self, kind: MetadataType) -> Option<&Planned> {
        self.components.iter().find(|c| c.kind == kind)
    }

    /// The deploy zip (`package.xml` and the components at its root).
    pub fn zip(&self) -> Result<Vec<u8>> {
        self.package.to_zip()
    }

    /// Every file of the deploy, `package.xml` first: (path, XML).
    pub fn files(&self) -> Result<Vec<(String, String)>> {
        let mut out = vec![("package.xml".to_owned(), self.package.package().to_xml()?)];
        out.extend(
            self.package
                .files()
                .map(|(p, x)| (p.to_owned(), x.to_owned())),
        );
        Ok(out)
    }

    /// Write exactly what is deployed into `dir` in Metadata API format (`package.xml`
    /// and `<folder>/<name>.<suffix>`), which `sf project deploy start --metadata-dir`
    /// deploys as it is. Files are created new (0644), never replaced unless `force`.
    /// Returns the paths written.
    pub fn save(&self, dir: &Path, force: bool) -> Result<Vec<std::path::PathBuf>> {
        let files = self.files()?;
        // Check every target first, so nothing is half written over an existing tree.
        for (rel, _) in &files {
            let path = dir.join(rel);
            if path.is_dir() || (!force && path.symlink_metadata().is_ok()) {
                return Err(Error::invalid(
                    Input::SavedMetadata,
                    format!(
                        "`{}` already exists (pass --force to replace the saved metadata)",
                        path.display()
                    ),
                ));
            }
        }
        let mut written = Vec::new();
        for (rel, xml) in files {
            let path = dir.join(&rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            output::write_atomic(&path, xml.as_bytes(), Mode::Public, force)?;
            written.push(path);
        }
        Ok(written)
    }
}

/// An app name made from a directory's alias (a valid Unique Name, which is a valid API
/// name): cut to [`MAX_APP_NAME`] characters without a trailing underscore.
pub fn app_name_from_alias(alias: &str) -> String {
    let cut: String = alias.chars().take(MAX_APP_NAME).collect();
    let cut = cut.trim_end_matches('_');
    if cut.is_empty() {
        "certmint_jwt".to_owned()
    } else {
        cut.to_owned()
    }
}

/// The name of the second app of a rotation onto generation `number`: `<app>_g<N>` (an
/// earlier `_g<M>` suffix replaced), within [`MAX_APP_NAME`].
pub fn second_app_name(app: &str, number: u32) -> String {
    let base = match app.rsplit_once("_g") {
        Some((b, n)) if !b.is_empty() && !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()) => {
            b
        }
        _ => app,
    };
    let suffix = format!("_g{number}");
    let room = MAX_APP_NAME.saturating_sub(suffix.len());
    let base: String = base.chars().take(room).collect();
    format!("{}{suffix}", base.trim_end_matches('_'))
}

/// Check an app or permission set name given on the command line.
pub fn check_app_name(name: &str) -> Result<()> {
    check_full_name(name).map_err(|p| Error::invalid(Input::AppName, p.message))?;
    if name.len() > MAX_APP_NAME {
        return Err(Error::invalid(
            Input::AppName,
            format!(
                "`{}` is {} characters long; certmint allows at most {MAX_APP_NAME} (the names of the app's parts add a suffix, and an API name holds at most 80)",
                crate::text::escape(name),
                name.len()
            ),
        ));
    }
    Ok(())
}

/// A consumer key: [`CONSUMER_KEY_LEN`] letters and digits from the operating system's
/// random number generator (about 238 bits; each character drawn without modulo bias).
pub fn new_consumer_key() -> Result<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    // 248 = 4 × 62: bytes at or above it would favour the first characters.
    const LIMIT: u8 = 248;
    let mut key = String::with_capacity(CONSUMER_KEY_LEN);
    let mut buf = [0u8; 64];
    while key.len() < CONSUMER_KEY_LEN {
        getrandom::fill(&mut buf).map_err(|e| {
            Error::internal(format!(
                "the operating system's random number generator failed: {e}"
            ))
        })?;
        for b in buf.iter().copied().filter(|b| *b < LIMIT) {
            if key.len() == CONSUMER_KEY_LEN {
                break;
            }
            key.push(char::from(ALPHABET[usize::from(b % 62)]));
        }
    }
    check_consumer_key(&key).map_err(|p| Error::internal(p.message))?;
    Ok(key)
}

/// A scope as given to `--scope`: the Metadata API's name in any case (`Api`,
/// `refreshtoken`) or the OAuth token's (`api`, `refresh_token`).
pub fn parse_scope(text: &str) -> Result<OauthScope> {
    let t = text.trim();
    OauthScope::ALL
        .iter()
        .copied()
        .find(|s| s.as_str().eq_ignore_ascii_case(t) || s.token_name().eq_ignore_ascii_case(t))
        .ok_or_else(|| {
            Error::invalid(
                Input::Scope,
                format!(
                    "`{}` is not an OAuth scope; use a Metadata API name such as Api, RefreshToken, Web, Full, OpenID",
                    crate::text::escape(t)
                ),
            )
        })
}

/// The PEM text of a certificate for the app (armored, without the final newline), from
/// the certificate file's PEM or DER bytes.
pub fn certificate_text(pem_or_der: &[u8]) -> Result<String> {
    let cert = crate::x509::parse(pem_or_der)?;
    Ok(crate::x509::to_pem(&cert.der).trim_end().to_owned())
}

mod diff;
pub use diff::{certificate_der, same_certificate};

#[cfg(test)]
mod tests;
