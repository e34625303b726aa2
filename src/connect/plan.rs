//! The app plan: from a certmint directory's certificate and the choices of a run, the
//! metadata components to deploy (an External Client App's five, or an existing connected
//! app's one, plus the permission set when it is missing), the consumer key, and a digest
//! that tells whether the app in the org still matches. Every component is built from the
//! typed structs of [`crate::wire::metadata`], so the files are written in the schema's
//! element order.

use std::path::Path;

use crate::error::Input;
use crate::manifest::AppKind;
use crate::output::{self, Mode};
use crate::wire::metadata::{
    Component, ConnectedApp, ConnectedAppOauthConfig, ConnectedAppOauthPolicy, DeployPackage,
    DistributionState, ExternalClientApplication, ExtlClntAppConfigurablePolicies,
    ExtlClntAppGlobalOauthSettings, ExtlClntAppOauthConfigurablePolicies, ExtlClntAppOauthSettings,
    IpRelaxation, IpRelaxationPolicyType, OauthScope, PermissionSet, PermittedUsersPolicyType,
    RefreshTokenPolicyType, check_consumer_key, check_full_name,
};
use crate::{Error, Result};

/// The API version of the packages certmint deploys: new enough for everything an
/// External Client App's JWT bearer flow needs (the certificate on the global OAuth
/// settings and the plugin policies came with 60.0), and served by every current org.
pub const API_VERSION: u32 = 62;

/// The callback URL of a new app: a placeholder (the JWT bearer flow never redirects, but
/// the field is required); the Salesforce CLI's own.
pub const PLACEHOLDER_CALLBACK_URL: &str = "http://localhost:1717/OauthRedirect";

/// Length of the consumer keys certmint generates.
pub const CONSUMER_KEY_LEN: usize = 40;

/// Longest app name certmint derives (the component names add up to 11 characters, and
/// an API name holds at most 80).
pub const MAX_APP_NAME: usize = 60;

/// The scopes of a new app unless `--scope` says otherwise.
pub const DEFAULT_SCOPES: &[OauthScope] = &[OauthScope::Api, OauthScope::RefreshToken];

/// Everything an app plan is made from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppSpec {
    /// External Client App (created) or connected app (updated).
    pub kind: AppKind,
    /// The app's API name.
    pub name: String,
    /// Its label.
    pub label: String,
    /// Its contact email.
    pub contact_email: String,
    /// Its (placeholder) callback URL.
    pub callback_url: String,
    /// Its description.
    pub description: String,
    /// The consumer key (the assertions' `iss`).
    pub consumer_key: String,
    /// Send the consumer key (only when the app is being created: Salesforce refuses a
    /// key on an existing connected app, and keeps an External Client App's first one).
    pub send_consumer_key: bool,
    /// The certificate, PEM.
    pub certificate_pem: String,
    /// OAuth scopes.
    pub scopes: Vec<OauthScope>,
    /// The permission set pre-authorized on the app, by API name.
    pub permission_set: Option<String>,
    /// Create that permission set in the same deploy (it does not exist in the org yet).
    pub create_permission_set: bool,
    /// Profiles pre-authorized on the app, by name.
    pub profiles: Vec<String>,
    /// The app is enabled (false retires an External Client App).
    pub enabled: bool,
}

/// The components of one deploy, ready to zip or save.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The package.
    pub package: DeployPackage,
    /// SHA-256 (hex) of the package as it would be deployed to an existing app (without
    /// the consumer key, without the permission set's creation): equal digests mean the
    /// same app.
    pub digest: String,
    /// The components, with their full names, in the order they were added.
    pub components: Vec<(String, Component)>,
}

/// The full names of an External Client App's parts: `<app>_GlblOAuth`, `<app>_OAuth`,
/// `<app>_OAuthPlcy`, `<app>_Plcy` (the header is the app's own name).
pub fn eca_part_names(app: &str) -> [String; 4] {
    [
        format!("{app}_GlblOAuth"),
        format!("{app}_OAuth"),
        format!("{app}_OAuthPlcy"),
        format!("{app}_Plcy"),
    ]
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

impl AppSpec {
    /// The plan: the components of the deploy, their package, and its digest.
    pub fn plan(&self) -> Result<Plan> {
        check_app_name(&self.name)?;
        if self.send_consumer_key {
            check_consumer_key(&self.consumer_key)
                .map_err(|p| Error::invalid(Input::App, p.message))?;
        }
        let components = self.components(self.send_consumer_key, self.create_permission_set);
        let mut package = DeployPackage::new(API_VERSION);
        for (name, c) in &components {
            package.add(name, c)?;
        }
        let mut update = DeployPackage::new(API_VERSION);
        for (name, c) in &self.components(false, false) {
            update.add(name, c)?;
        }
        let digest = digest(&update)?;
        Ok(Plan {
            package,
            digest,
            components,
        })
    }

    fn components(&self, with_key: bool, with_permission_set: bool) -> Vec<(String, Component)> {
        let mut out = Vec::new();
        if with_permission_set && let Some(ps) = &self.permission_set {
            out.push((
                ps.clone(),
                Component::PermissionSet(PermissionSet {
                    description: Some(format!(
                        "Pre-authorizes the integration user on the app {} (JWT bearer flow); made by certmint.",
                        self.name
                    )),
                    label: ps.clone(),
                    ..PermissionSet::default()
                }),
            ));
        }
        let key = with_key.then(|| self.consumer_key.clone());
        match self.kind {
            AppKind::ConnectedApp => {
                out.push((
                    self.name.clone(),
                    Component::ConnectedApp(ConnectedApp {
                        contact_email: self.contact_email.clone(),
                        description: Some(self.description.clone()),
                        label: self.label.clone(),
                        oauth_config: Some(ConnectedAppOauthConfig {
                            callback_url: self.callback_url.clone(),
                            // No certificate: nothing can sign for the app any more.
                            certificate: self.enabled.then(|| self.certificate_pem.clone()),
                            consumer_key: key,
                            is_admin_approved: Some(true),
                            scopes: self.scopes.clone(),
                            ..ConnectedAppOauthConfig::default()
                        }),
                        oauth_policy: Some(ConnectedAppOauthPolicy {
                            ip_relaxation: IpRelaxation::Enforce,
                            refresh_token_policy: "infinite".into(),
                            single_logout_url: None,
                        }),
                        permission_set_name: if self.enabled {
                            self.permission_set.iter().cloned().collect()
                        } else {
                            Vec::new()
                        },
                        profile_name: if self.enabled {
                            self.profiles.clone()
                        } else {
                            Vec::new()
                        },
                        ..ConnectedApp::default()
                    }),
                ));
            }
            AppKind::ExternalClientApp => {
                let [glbl, oauth, oauth_plcy, plcy] = eca_part_names(&self.name);
                let app = self.name.clone();
                out.push((
                    app.clone(),
                    Component::ExternalClientApplication(ExternalClientApplication {
                        contact_email: self.contact_email.clone(),
                        description: Some(self.description.clone()),
                        distribution_state: Some(DistributionState::Local),
                        is_protected: Some(false),
                        label: self.label.clone(),
                        ..ExternalClientApplication::default()
                    }),
                ));
                out.push((
                    glbl,
                    Component::ExtlClntAppGlobalOauthSettings(ExtlClntAppGlobalOauthSettings {
                        callback_url: Some(self.callback_url.clone()),
                        certificate: Some(self.certificate_pem.clone()),
                        consumer_key: key,
                        external_client_application: app.clone(),
                        is_consumer_secret_optional: Some(true),
                        is_pkce_required: Some(false),
                        label: Some(format!("{} Global OAuth", self.label)),
                        should_rotate_consumer_key: Some(false),
                        should_rotate_consumer_secret: Some(false),
                        ..ExtlClntAppGlobalOauthSettings::default()
                    }),
                ));
                out.push((
                    oauth,
                    Component::ExtlClntAppOauthSettings(ExtlClntAppOauthSettings {
                        comma_separated_oauth_scopes: self.scopes.clone(),
                        external_client_application: app.clone(),
                        label: Some(format!("{} OAuth", self.label)),
                    }),
                ));
                out.push((
                    oauth_plcy,
                    Component::ExtlClntAppOauthConfigurablePolicies(
                        ExtlClntAppOauthConfigurablePolicies {
                            comma_separated_permission_set: self
                                .permission_set
                                .iter()
                                .cloned()
                                .collect(),
                            comma_separated_profile: self.profiles.clone(),
                            external_client_application: app.clone(),
                            ip_relaxation_policy_type: Some(IpRelaxationPolicyType::Enforce),
                            label: Some(format!("{} OAuth policies", self.label)),
                            permitted_users_policy_type: Some(
                                PermittedUsersPolicyType::AdminApprovedPreAuthorized,
                            ),
                            refresh_token_policy_type: Some(RefreshTokenPolicyType::Infinite),
                            ..ExtlClntAppOauthConfigurablePolicies::default()
                        },
                    ),
                ));
                out.push((
                    plcy,
                    Component::ExtlClntAppConfigurablePolicies(ExtlClntAppConfigurablePolicies {
                        external_client_application: app,
                        is_enabled: self.enabled,
                        is_oauth_plugin_enabled: Some(true),
                        label: Some(format!("{} policies", self.label)),
                    }),
                ));
            }
        }
        out
    }
}

fn digest(p: &DeployPackage) -> Result<String> {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(p.package().to_xml()?.as_bytes());
    for (path, xml) in p.files() {
        h.update([0]);
        h.update(path.as_bytes());
        h.update([0]);
        h.update(xml.as_bytes());
    }
    Ok(crate::text::hex(&h.finalize()))
}

impl Plan {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::metadata::{DeployZip, MetadataType, ReadOptions, ZipLimits};

    fn spec(kind: AppKind) -> AppSpec {
        AppSpec {
            kind,
            name: "acme_jwt".into(),
            label: "acme_jwt".into(),
            contact_email: "admin@acme.example".into(),
            callback_url: PLACEHOLDER_CALLBACK_URL.into(),
            description: "made by certmint".into(),
            consumer_key: new_consumer_key().unwrap(),
            send_consumer_key: true,
            certificate_pem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----".into(),
            scopes: DEFAULT_SCOPES.to_vec(),
            permission_set: Some("acme_jwt".into()),
            create_permission_set: true,
            profiles: vec!["Integration".into()],
            enabled: true,
        }
    }

    #[test]
    fn consumer_keys_are_long_random_alphanumerics() {
        let a = new_consumer_key().unwrap();
        let b = new_consumer_key().unwrap();
        assert_eq!(a.len(), CONSUMER_KEY_LEN);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()), "{a}");
        assert_ne!(a, b);
        // Every character of the alphabet turns up over enough keys: no byte is wasted on
        // a narrower alphabet.
        let all: String = (0..40).map(|_| new_consumer_key().unwrap()).collect();
        for c in ['A', 'Z', 'a', 'z', '0', '9'] {
            assert!(all.contains(c), "{c} never drawn");
        }
    }

    #[test]
    fn an_eca_plan_has_its_five_parts_and_the_permission_set_and_reads_back() {
        let s = spec(AppKind::ExternalClientApp);
        let plan = s.plan().unwrap();
        let zip = plan.zip().unwrap();
        let read = DeployZip::read(&zip, &ZipLimits::default()).unwrap();
        let opts = ReadOptions {
            api_version: Some(API_VERSION),
            ..ReadOptions::default()
        };
        let [g, o, op, p] = eca_part_names("acme_jwt");
        for (kind, name) in [
            (MetadataType::PermissionSet, "acme_jwt"),
            (MetadataType::ExternalClientApplication, "acme_jwt"),
            (MetadataType::ExtlClntAppGlobalOauthSettings, g.as_str()),
            (MetadataType::ExtlClntAppOauthSettings, o.as_str()),
            (
                MetadataType::ExtlClntAppOauthConfigurablePolicies,
                op.as_str(),
            ),
            (MetadataType::ExtlClntAppConfigurablePolicies, p.as_str()),
        ] {
            let f = read
                .find(kind, name)
                .unwrap_or_else(|| panic!("{kind} {name}"));
            let c = Component::from_xml(kind, &f.bytes, &opts).unwrap();
            if let Component::ExtlClntAppGlobalOauthSettings(g) = &c {
                assert_eq!(g.consumer_key.as_deref(), Some(s.consumer_key.as_str()));
                assert!(
                    g.certificate
                        .as_deref()
                        .unwrap()
                        .contains("BEGIN CERTIFICATE")
                );
            }
            if let Component::ExtlClntAppOauthConfigurablePolicies(p) = &c {
                assert_eq!(
                    p.comma_separated_permission_set,
                    vec!["acme_jwt".to_owned()]
                );
                assert_eq!(p.comma_separated_profile, vec!["Integration".to_owned()]);
            }
        }
        assert_eq!(plan.files().unwrap().len(), 7);
    }

    #[test]
    fn the_digest_ignores_the_consumer_key_and_the_permission_set_creation() {
        let a = spec(AppKind::ExternalClientApp);
        let mut b = a.clone();
        b.send_consumer_key = false;
        b.create_permission_set = false;
        b.consumer_key = "other".into();
        assert_eq!(a.plan().unwrap().digest, b.plan().unwrap().digest);
        let mut c = a.clone();
        c.certificate_pem.push('x');
        assert_ne!(a.plan().unwrap().digest, c.plan().unwrap().digest);
        let mut d = a.clone();
        d.scopes.push(OauthScope::Web);
        assert_ne!(a.plan().unwrap().digest, d.plan().unwrap().digest);
    }

    #[test]
    fn a_connected_app_update_never_sends_a_consumer_key() {
        let mut s = spec(AppKind::ConnectedApp);
        s.send_consumer_key = false;
        s.create_permission_set = false;
        let plan = s.plan().unwrap();
        let files = plan.files().unwrap();
        assert_eq!(files.len(), 2, "{files:?}");
        let (path, xml) = &files[1];
        assert_eq!(path, "connectedApps/acme_jwt.connectedApp");
        assert!(!xml.contains("consumerKey"), "{xml}");
        assert!(
            xml.contains("<isAdminApproved>true</isAdminApproved>"),
            "{xml}"
        );
        assert!(
            xml.contains("<permissionSetName>acme_jwt</permissionSetName>"),
            "{xml}"
        );
    }

    #[test]
    fn names() {
        assert_eq!(app_name_from_alias("acme_jwt"), "acme_jwt");
        let long = format!("{}_b", "a".repeat(59));
        assert_eq!(app_name_from_alias(&long), "a".repeat(59));
        assert_eq!(second_app_name("acme_jwt", 2), "acme_jwt_g2");
        assert_eq!(second_app_name("acme_jwt_g2", 3), "acme_jwt_g3");
        assert_eq!(second_app_name(&"a".repeat(60), 12).len(), 60);
        check_app_name("acme_jwt").unwrap();
        assert!(check_app_name("acme__jwt").is_err());
        assert!(check_app_name(&"a".repeat(61)).is_err());
        for name in eca_part_names(&"a".repeat(MAX_APP_NAME)) {
            check_full_name(&name).unwrap();
        }
    }

    #[test]
    fn scopes_by_either_name() {
        assert_eq!(parse_scope("Api").unwrap(), OauthScope::Api);
        assert_eq!(
            parse_scope("refresh_token").unwrap(),
            OauthScope::RefreshToken
        );
        assert_eq!(
            parse_scope("refreshtoken").unwrap(),
            OauthScope::RefreshToken
        );
        assert_eq!(parse_scope("openid").unwrap(), OauthScope::OpenId);
        assert!(parse_scope("everything").is_err());
    }
}
