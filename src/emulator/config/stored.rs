//! The metadata the org keeps of each app, as a real org does: a connected app as the
//! whole `ConnectedApp` file last deployed (every element, those certmint's types do not
//! model included), an External Client App as its header and at most one part of each of
//! the four kinds, each under its own full name and record id. The token endpoint's view
//! of an app (consumer key, certificate, scopes, Permitted Users policy, pre-authorized
//! profiles and permission sets, enabled) is derived from these files ([`view_of`]); the
//! SOAP Metadata API reads them back; a deploy replaces them (declaratively, with the
//! exceptions `org::deploy` applies).
//!
//! Apps configured in TOML get files synthesized from their configuration: a connected app
//! as a minimal `ConnectedApp`, an External Client App with parts named as an app made in
//! Setup ([`EcaPartNames::setup`]) unless `parts = "metadata"` names them as a metadata
//! deploy does ([`EcaPartNames::generated`]).
//!
//! Memory: each file kept is at most [`MAX_COMPONENT_BYTES`]; an app's previous version
//! (kept while a change propagates) keeps none.

use serde::{Deserialize, Serialize};

use super::PermittedUsers;
use crate::wire::metadata::eca::PART_TYPES;
use crate::wire::metadata::{
    Component, ConnectedApp, ConnectedAppOauthConfig, ConnectedAppOauthPolicy, EcaPartNames,
    Element, ExternalClientApplication, ExtlClntAppConfigurablePolicies,
    ExtlClntAppGlobalOauthSettings, ExtlClntAppOauthConfigurablePolicies, ExtlClntAppOauthSettings,
    IpRelaxation, IpRelaxationPolicyType, MetadataType, OauthScope, OutOfOrder,
    PermittedUsersPolicyType, ReadOptions, RefreshTokenPolicyType,
};
use crate::{Error, Result};

/// The largest component file the org keeps (bytes, as stored): a `ConnectedApp` with a
/// 4096-bit certificate and every element certmint writes is under 4 KiB.
pub(crate) const MAX_COMPONENT_BYTES: usize = 16 * 1024;

/// The most bytes of component files the org keeps together (an app's previous version,
/// kept while a change propagates, keeps none), so the org and its state file stay bounded
/// however the apps' files are filled: past it a deploy's component fails.
pub(crate) const MAX_METADATA_BYTES: usize = 32 << 20;

/// Key prefixes of the External Client App records (assumed: no public source gives them;
/// a connected app's is `0H4`, `ConnectedApplication`'s).
pub(crate) const HEADER_PREFIX: &str = "0xc";
/// Key prefixes of the four parts, in [`PART_TYPES`]' order (assumed).
pub(crate) const PART_PREFIXES: [&str; 4] = ["0xg", "0xo", "0xp", "0xl"];

/// The contact email of a connected app synthesized from the configuration.
const SYNTHESIZED_EMAIL: &str = "emulator@example.com";
/// The callback URL of synthesized apps (the Salesforce CLI's).
const SYNTHESIZED_CALLBACK: &str = "http://localhost:1717/OauthRedirect";

/// One component the org keeps: its full name, record id, file, and when and by whom it
/// was made and last changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Stored {
    /// The metadata type's name (`ExtlClntAppOauthSettings`).
    #[serde(rename = "type")]
    pub(crate) type_name: String,
    /// Full name.
    pub(crate) name: String,
    /// 18-character record id.
    pub(crate) id: String,
    /// The component file, without `fullName` (a deploy's file as kept).
    pub(crate) file: String,
    /// Made, milliseconds since the epoch (0 for configured apps).
    #[serde(default)]
    pub(crate) created_ms: i64,
    /// Last changed, milliseconds since the epoch.
    #[serde(default)]
    pub(crate) modified_ms: i64,
    /// The id of the user who last changed it (empty for configured apps).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) by: String,
}

impl Stored {
    /// The file as an element tree (`None` if it no longer parses, which the emulator's own
    /// files never fail to).
    pub(crate) fn tree(&self) -> Option<Element> {
        Element::parse(self.file.as_bytes()).ok()
    }

    /// The metadata type.
    pub(crate) fn kind(&self) -> Option<MetadataType> {
        MetadataType::from_name(&self.type_name)
    }
}

/// What the org keeps of an app's metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum AppMeta {
    /// A connected app: its `ConnectedApp` file.
    Connected(Stored),
    /// An External Client App: the header and its parts.
    External(Box<EcaMeta>),
}

/// An External Client App's header and its parts, one of each kind at most.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EcaMeta {
    /// `ExternalClientApplication`.
    pub(crate) header: Stored,
    /// The parts, in [`PART_TYPES`]' order.
    pub(crate) parts: [Option<Stored>; 4],
}

/// The slot of a part type in [`EcaMeta::parts`].
pub(crate) fn part_slot(kind: MetadataType) -> Option<usize> {
    PART_TYPES.iter().position(|k| *k == kind)
}

impl EcaMeta {
    /// The part of type `kind`.
    pub(crate) fn part(&self, kind: MetadataType) -> Option<&Stored> {
        part_slot(kind).and_then(|i| self.parts[i].as_ref())
    }

    /// The parts' names.
    #[cfg(test)]
    pub(crate) fn names(&self) -> EcaPartNames {
        let mut n = EcaPartNames::default();
        for (k, p) in PART_TYPES.iter().zip(&self.parts) {
            n.set(*k, p.as_ref().map(|s| s.name.clone()));
        }
        n
    }
}

impl AppMeta {
    /// Every component kept, header first.
    pub(crate) fn components(&self) -> Vec<&Stored> {
        match self {
            AppMeta::Connected(s) => vec![s],
            AppMeta::External(e) => std::iter::once(&e.header)
                .chain(e.parts.iter().flatten())
                .collect(),
        }
    }

    /// Bytes of files kept.
    pub(crate) fn bytes(&self) -> usize {
        self.components().iter().map(|s| s.file.len()).sum()
    }

    /// The External Client App's header and parts.
    pub(crate) fn eca(&self) -> Option<&EcaMeta> {
        match self {
            AppMeta::External(e) => Some(e),
            AppMeta::Connected(_) => None,
        }
    }

    /// Rebuild from a state file's list (header first for an External Client App).
    pub(crate) fn from_components(list: Vec<Stored>, eca: bool) -> Result<AppMeta> {
        let bad = |why: &str| Error::invalid(crate::error::Input::EmulatorState, why.to_owned());
        for s in &list {
            if s.file.len() > MAX_COMPONENT_BYTES || s.kind().is_none() {
                return Err(bad("a kept component is too large or of an unknown type"));
            }
        }
        let mut it = list.into_iter();
        let first = it.next().ok_or_else(|| bad("an app keeps no component"))?;
        if !eca {
            return match first.kind() {
                Some(MetadataType::ConnectedApp) if it.next().is_none() => {
                    Ok(AppMeta::Connected(first))
                }
                _ => Err(bad("a connected app keeps one ConnectedApp")),
            };
        }
        if first.kind() != Some(MetadataType::ExternalClientApplication) {
            return Err(bad(
                "an External Client App's first component is its header",
            ));
        }
        let mut parts: [Option<Stored>; 4] = Default::default();
        for s in it {
            let slot = s
                .kind()
                .and_then(part_slot)
                .ok_or_else(|| bad("an External Client App keeps a component of another type"))?;
            if parts[slot].is_some() {
                return Err(bad("an External Client App keeps two parts of one kind"));
            }
            parts[slot] = Some(s);
        }
        Ok(AppMeta::External(Box::new(EcaMeta {
            header: first,
            parts,
        })))
    }
}

/// The token endpoint's view of an app, as its files say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct View {
    /// Consumer key (empty when none is set yet).
    pub(crate) consumer_key: String,
    /// The certificate's text (armored PEM or its bare base64 body), when one is set.
    pub(crate) certificate: Option<String>,
    /// Scopes as a token response names them, space separated.
    pub(crate) scopes: String,
    /// Permitted Users policy.
    pub(crate) permitted_users: PermittedUsers,
    /// Pre-authorized profiles.
    pub(crate) profiles: Vec<String>,
    /// Pre-authorized permission sets.
    pub(crate) permission_sets: Vec<String>,
    /// Enabled (an ECA's plugin policies).
    pub(crate) enabled: bool,
}

/// Scopes as a token response names them, space separated, each once.
pub(crate) fn token_scopes(scopes: &[OauthScope]) -> String {
    let mut out: Vec<&str> = Vec::new();
    for s in scopes {
        let n = s.token_name();
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out.join(" ")
}

/// A stored file read as its typed component (leniently about element order: a file kept
/// was accepted by a deploy reading it with `out_of_order`).
pub(crate) fn read(stored: &Stored, out_of_order: OutOfOrder) -> Option<Component> {
    let opts = ReadOptions {
        api_version: None,
        out_of_order: match out_of_order {
            OutOfOrder::Error => OutOfOrder::Drop,
            other => other,
        },
    };
    Component::from_xml(stored.kind()?, stored.file.as_bytes(), &opts).ok()
}

fn non_empty(v: &[String]) -> Vec<String> {
    v.iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The view of an app from its files.
pub(crate) fn view_of(meta: &AppMeta, out_of_order: OutOfOrder) -> View {
    let mut v = View {
        permitted_users: PermittedUsers::SelfAuthorize,
        enabled: true,
        ..View::default()
    };
    match meta {
        AppMeta::Connected(s) => {
            if let Some(Component::ConnectedApp(ca)) = read(s, out_of_order) {
                if let Some(oc) = &ca.oauth_config {
                    v.consumer_key = oc.consumer_key.clone().unwrap_or_default();
                    v.certificate = oc.certificate.clone().filter(|c| !c.trim().is_empty());
                    v.scopes = token_scopes(&oc.scopes);
                    if oc.is_admin_approved == Some(true) {
                        v.permitted_users = PermittedUsers::AdminApproved;
                    }
                }
                v.profiles = non_empty(&ca.profile_name);
                v.permission_sets = non_empty(&ca.permission_set_name);
            }
        }
        AppMeta::External(e) => {
            for part in e.parts.iter().flatten() {
                match read(part, out_of_order) {
                    Some(Component::ExtlClntAppGlobalOauthSettings(g)) => {
                        v.consumer_key = g.consumer_key.unwrap_or_default().trim().to_owned();
                        v.certificate = g.certificate.filter(|c| !c.trim().is_empty());
                    }
                    Some(Component::ExtlClntAppOauthSettings(o)) => {
                        v.scopes = token_scopes(&o.comma_separated_oauth_scopes);
                    }
                    Some(Component::ExtlClntAppOauthConfigurablePolicies(p)) => {
                        if p.permitted_users_policy_type
                            == Some(PermittedUsersPolicyType::AdminApprovedPreAuthorized)
                        {
                            v.permitted_users = PermittedUsers::AdminApproved;
                        }
                        v.profiles = non_empty(&p.comma_separated_profile);
                        v.permission_sets = non_empty(&p.comma_separated_permission_set);
                    }
                    Some(Component::ExtlClntAppConfigurablePolicies(p)) => {
                        v.enabled = p.is_enabled && p.is_oauth_plugin_enabled.unwrap_or(true);
                    }
                    _ => {}
                }
            }
        }
    }
    v
}

/// The scopes of a space-separated token scope string, as metadata names them (names no
/// metadata scope has are left out).
pub(crate) fn metadata_scopes(token_scopes: &str) -> Vec<OauthScope> {
    let mut out = Vec::new();
    for t in token_scopes.split_whitespace() {
        if let Some(s) = OauthScope::ALL.iter().find(|s| s.token_name() == t)
            && !out.contains(s)
        {
            out.push(*s);
        }
    }
    out
}

/// A component as the org keeps it: its file without `fullName`.
pub(crate) fn stored(c: &Component, name: &str, id: String) -> Result<Stored> {
    Ok(Stored {
        type_name: c.kind().name().to_owned(),
        name: name.to_owned(),
        id,
        file: c.to_xml()?,
        created_ms: 0,
        modified_ms: 0,
        by: String::new(),
    })
}

/// The OAuth policies Salesforce generates for OAuth settings `oauth_settings` of app
/// `app`: Setup's defaults (all users may self-authorize, IP restrictions enforced,
/// refresh tokens valid until revoked; Salesforce Help, "Configure OAuth Policies"; the
/// generated file's values themselves are assumed).
pub(crate) fn default_oauth_policy(app: &str, name: &str) -> Component {
    Component::ExtlClntAppOauthConfigurablePolicies(ExtlClntAppOauthConfigurablePolicies {
        external_client_application: app.to_owned(),
        ip_relaxation_policy_type: Some(IpRelaxationPolicyType::Enforce),
        label: Some(name.to_owned()),
        permitted_users_policy_type: Some(PermittedUsersPolicyType::AllSelfAuthorized),
        refresh_token_policy_type: Some(RefreshTokenPolicyType::Infinite),
        ..Default::default()
    })
}

/// The plugin policies Salesforce generates for app `app`: enabled, OAuth plugin on
/// (sfdx-hardis deploys `<app>_defaultPolicy` so; the metadata reference's defaults).
pub(crate) fn default_plugin_policy(app: &str, name: &str) -> Component {
    Component::ExtlClntAppConfigurablePolicies(ExtlClntAppConfigurablePolicies {
        external_client_application: app.to_owned(),
        is_enabled: true,
        is_oauth_plugin_enabled: Some(true),
        label: Some(name.to_owned()),
    })
}

/// What a configured app says, for the files synthesized from it.
pub(crate) struct Configured<'a> {
    /// API name.
    pub(crate) name: &'a str,
    /// Record id (`0H4…`).
    pub(crate) id: &'a str,
    /// The app's position in the configuration, from 1 (for the parts' ids).
    pub(crate) serial: usize,
    /// Consumer key.
    pub(crate) consumer_key: &'a str,
    /// Certificate PEM (empty for none).
    pub(crate) certificate_pem: &'a str,
    /// Permitted Users policy.
    pub(crate) permitted_users: PermittedUsers,
    /// Scopes (token names).
    pub(crate) scopes: &'a str,
    /// Pre-authorized profiles.
    pub(crate) profiles: &'a [String],
    /// Pre-authorized permission sets.
    pub(crate) permission_sets: &'a [String],
    /// Enabled (ECA).
    pub(crate) enabled: bool,
    /// Part names for an ECA.
    pub(crate) parts: EcaPartNames,
}

/// The files of a configured connected app.
pub(crate) fn synthesize_connected(c: &Configured<'_>) -> Result<AppMeta> {
    let ca = ConnectedApp {
        contact_email: SYNTHESIZED_EMAIL.into(),
        label: c.name.to_owned(),
        oauth_config: Some(ConnectedAppOauthConfig {
            callback_url: SYNTHESIZED_CALLBACK.into(),
            certificate: (!c.certificate_pem.is_empty()).then(|| c.certificate_pem.to_owned()),
            consumer_key: Some(c.consumer_key.to_owned()),
            is_admin_approved: Some(c.permitted_users == PermittedUsers::AdminApproved),
            scopes: metadata_scopes(c.scopes),
            ..Default::default()
        }),
        oauth_policy: Some(ConnectedAppOauthPolicy {
            ip_relaxation: IpRelaxation::Enforce,
            refresh_token_policy: "infinite".into(),
            single_logout_url: None,
        }),
        permission_set_name: c.permission_sets.to_vec(),
        profile_name: c.profiles.to_vec(),
        ..Default::default()
    };
    Ok(AppMeta::Connected(stored(
        &Component::ConnectedApp(ca),
        c.name,
        c.id.to_owned(),
    )?))
}

/// The files of a configured External Client App, its parts named `c.parts`.
pub(crate) fn synthesize_eca(c: &Configured<'_>) -> Result<AppMeta> {
    let app = c.name.to_owned();
    let header = Component::ExternalClientApplication(ExternalClientApplication {
        contact_email: SYNTHESIZED_EMAIL.into(),
        distribution_state: Some(crate::wire::metadata::DistributionState::Local),
        is_protected: Some(false),
        label: app.clone(),
        ..Default::default()
    });
    let id = |prefix: &str| super::record_id(prefix, c.serial);
    let name_of = |k: MetadataType| c.parts.get(k).unwrap_or_default().to_owned();
    let global = Component::ExtlClntAppGlobalOauthSettings(ExtlClntAppGlobalOauthSettings {
        callback_url: Some(SYNTHESIZED_CALLBACK.into()),
        certificate: (!c.certificate_pem.is_empty()).then(|| c.certificate_pem.to_owned()),
        consumer_key: (!c.consumer_key.is_empty()).then(|| c.consumer_key.to_owned()),
        external_client_application: app.clone(),
        label: Some(name_of(MetadataType::ExtlClntAppGlobalOauthSettings)),
        ..Default::default()
    });
    let oauth = Component::ExtlClntAppOauthSettings(ExtlClntAppOauthSettings {
        comma_separated_oauth_scopes: metadata_scopes(c.scopes),
        external_client_application: app.clone(),
        label: Some(name_of(MetadataType::ExtlClntAppOauthSettings)),
    });
    let policy =
        Component::ExtlClntAppOauthConfigurablePolicies(ExtlClntAppOauthConfigurablePolicies {
            comma_separated_permission_set: c.permission_sets.to_vec(),
            comma_separated_profile: c.profiles.to_vec(),
            external_client_application: app.clone(),
            ip_relaxation_policy_type: Some(IpRelaxationPolicyType::Enforce),
            label: Some(name_of(MetadataType::ExtlClntAppOauthConfigurablePolicies)),
            permitted_users_policy_type: Some(match c.permitted_users {
                PermittedUsers::AdminApproved => {
                    PermittedUsersPolicyType::AdminApprovedPreAuthorized
                }
                PermittedUsers::SelfAuthorize => PermittedUsersPolicyType::AllSelfAuthorized,
            }),
            refresh_token_policy_type: Some(RefreshTokenPolicyType::Infinite),
            ..Default::default()
        });
    let plugin = Component::ExtlClntAppConfigurablePolicies(ExtlClntAppConfigurablePolicies {
        external_client_application: app.clone(),
        is_enabled: c.enabled,
        is_oauth_plugin_enabled: Some(true),
        label: Some(name_of(MetadataType::ExtlClntAppConfigurablePolicies)),
    });
    let mut parts: [Option<Stored>; 4] = Default::default();
    for (slot, comp) in [global, oauth, policy, plugin].into_iter().enumerate() {
        let kind = PART_TYPES[slot];
        parts[slot] = Some(stored(&comp, &name_of(kind), id(PART_PREFIXES[slot])?)?);
    }
    Ok(AppMeta::External(Box::new(EcaMeta {
        header: stored(&header, c.name, id(HEADER_PREFIX)?)?,
        parts,
    })))
}

/// The serial number of an emulator record id (`<prefix>EMU<nine digits>`).
pub(crate) fn serial_of(id: &str) -> Option<usize> {
    if id.get(3..6) != Some("EMU") {
        return None;
    }
    id.get(6..15)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configured<'a>(
        cert: &'a str,
        profiles: &'a [String],
        sets: &'a [String],
        parts: EcaPartNames,
    ) -> Configured<'a> {
        Configured {
            name: "acme",
            id: "0H4EMU000000001AAA",
            serial: 1,
            consumer_key: "ACMEKEY123",
            certificate_pem: cert,
            permitted_users: PermittedUsers::AdminApproved,
            scopes: "api web refresh_token",
            profiles,
            permission_sets: sets,
            enabled: true,
            parts,
        }
    }

    #[test]
    fn synthesized_files_give_back_the_configured_view() {
        let cert = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/certs/base.crt"),
        )
        .unwrap();
        let profiles = vec!["System Administrator".to_owned()];
        let sets = vec!["Acme_Set".to_owned()];
        let want = View {
            consumer_key: "ACMEKEY123".into(),
            certificate: Some(cert.clone()),
            scopes: "api web refresh_token".into(),
            permitted_users: PermittedUsers::AdminApproved,
            profiles: profiles.clone(),
            permission_sets: sets.clone(),
            enabled: true,
        };
        let ca = synthesize_connected(&configured(
            &cert,
            &profiles,
            &sets,
            EcaPartNames::default(),
        ))
        .unwrap();
        let mut got = view_of(&ca, OutOfOrder::Error);
        got.certificate = got.certificate.map(|c| c.trim().to_owned());
        assert_eq!(
            got,
            View {
                certificate: Some(cert.trim().to_owned()),
                ..want.clone()
            }
        );
        let eca = synthesize_eca(&configured(
            &cert,
            &profiles,
            &sets,
            EcaPartNames::setup("acme"),
        ))
        .unwrap();
        let mut got = view_of(&eca, OutOfOrder::Error);
        got.certificate = got.certificate.map(|c| c.trim().to_owned());
        assert_eq!(
            got,
            View {
                certificate: Some(cert.trim().to_owned()),
                ..want
            }
        );
        let e = eca.eca().unwrap();
        assert_eq!(e.names(), EcaPartNames::setup("acme"));
        assert_eq!(e.header.id.get(..3), Some(HEADER_PREFIX));
        assert_eq!(serial_of(&e.header.id), Some(1));
        // A state file's list rebuilds the same thing.
        let list: Vec<Stored> = eca.components().into_iter().cloned().collect();
        assert_eq!(AppMeta::from_components(list, true).unwrap(), eca);
        let list: Vec<Stored> = ca.components().into_iter().cloned().collect();
        assert!(AppMeta::from_components(list.clone(), true).is_err());
        assert_eq!(AppMeta::from_components(list, false).unwrap(), ca);
    }
}
