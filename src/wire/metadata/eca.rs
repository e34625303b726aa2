//! An External Client App's parts and how they are named.
//!
//! An External Client App (ECA) is a header (`ExternalClientApplication`, named as the
//! app) and four parts that link to it by `externalClientApplication`: the global OAuth
//! settings, the OAuth settings, the OAuth policies and the plugin policies. An app holds
//! at most one part of each kind. Salesforce generates the two policies itself, "with
//! default values when an external client app is saved or during deployment" (Salesforce
//! Help, "Configure OAuth Policies"), under names of its own choosing; a deploy that adds a
//! policy under another name to an app that has one fails with `duplicate value found:
//! ExternalClientApplicationId duplicates value on record with id: ...`, and so does every
//! rerun (a live report; `../shared/reference/salesforce-org-fidelity.md`, D1).
//!
//! The names observed on real orgs:
//!
//! | part | made by a metadata deploy | made in Setup |
//! |---|---|---|
//! | global OAuth settings | chosen by the deployer (`<app>_glbloauth` here) | `<app>_glbloauth` |
//! | OAuth settings | chosen by the deployer (`<app>_oauth` here) | `<app>_oauth` |
//! | OAuth policies | `<OAuth settings>_defaultPolicy` (CumulusCI, sfdx-hardis, a live report) | `<app>_oauthPlcy` |
//! | plugin policies | `<app>_defaultPolicy` (sfdx-hardis PR #1663, two runbooks) | `<app>_plcy` |
//!
//! certmint names what it creates the way Salesforce names a metadata-created app's parts
//! ([`EcaPartNames::generated`]), so a deploy of a new app updates the policies Salesforce
//! generated instead of adding a second one, under either reading of the evidence (the
//! policies generated before the deploy's files are applied, or after). Before deploying
//! to an app that exists, a client discovers the real names (SOAP `listMetadata` and
//! `readMetadata`, [`super::soap`]) and deploys to those.

use super::package::MetadataType;

/// The suffix Salesforce gives a generated policy.
pub const DEFAULT_POLICY_SUFFIX: &str = "_defaultPolicy";

/// The full names of an External Client App's four parts (the header is the app's own
/// name). A part that does not exist (yet) has `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EcaPartNames {
    /// `ExtlClntAppGlobalOauthSettings`: certificate, consumer key, callback URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_oauth: Option<String>,
    /// `ExtlClntAppOauthSettings`: scopes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_settings: Option<String>,
    /// `ExtlClntAppOauthConfigurablePolicies`: permitted users, pre-authorization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_policy: Option<String>,
    /// `ExtlClntAppConfigurablePolicies`: the app and its plugins enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_policy: Option<String>,
}

/// The OAuth policy Salesforce generates for the OAuth settings `oauth_settings`.
pub fn default_oauth_policy_name(oauth_settings: &str) -> String {
    format!("{oauth_settings}{DEFAULT_POLICY_SUFFIX}")
}

/// The plugin policy Salesforce generates for the app `app`.
pub fn default_plugin_policy_name(app: &str) -> String {
    format!("{app}{DEFAULT_POLICY_SUFFIX}")
}

impl EcaPartNames {
    /// The names of a metadata-created app's parts, as certmint creates them:
    /// `<app>_glbloauth`, `<app>_oauth`, and the policies Salesforce generates for those,
    /// `<app>_oauth_defaultPolicy` and `<app>_defaultPolicy`.
    pub fn generated(app: &str) -> Self {
        let oauth = format!("{app}_oauth");
        EcaPartNames {
            global_oauth: Some(format!("{app}_glbloauth")),
            oauth_policy: Some(default_oauth_policy_name(&oauth)),
            oauth_settings: Some(oauth),
            plugin_policy: Some(default_plugin_policy_name(app)),
        }
    }

    /// The names of an app made in Setup: `<app>_glbloauth`, `<app>_oauth`,
    /// `<app>_oauthPlcy`, `<app>_plcy` (retrieved from live orgs: VizVoice, Box CLM).
    pub fn setup(app: &str) -> Self {
        EcaPartNames {
            global_oauth: Some(format!("{app}_glbloauth")),
            oauth_settings: Some(format!("{app}_oauth")),
            oauth_policy: Some(format!("{app}_oauthPlcy")),
            plugin_policy: Some(format!("{app}_plcy")),
        }
    }

    /// The name of the part of type `kind` (`None` for the header and other types).
    pub fn get(&self, kind: MetadataType) -> Option<&str> {
        match kind {
            MetadataType::ExtlClntAppGlobalOauthSettings => self.global_oauth.as_deref(),
            MetadataType::ExtlClntAppOauthSettings => self.oauth_settings.as_deref(),
            MetadataType::ExtlClntAppOauthConfigurablePolicies => self.oauth_policy.as_deref(),
            MetadataType::ExtlClntAppConfigurablePolicies => self.plugin_policy.as_deref(),
            _ => None,
        }
    }

    /// Set the name of the part of type `kind` (other types are ignored).
    pub fn set(&mut self, kind: MetadataType, name: Option<String>) {
        match kind {
            MetadataType::ExtlClntAppGlobalOauthSettings => self.global_oauth = name,
            MetadataType::ExtlClntAppOauthSettings => self.oauth_settings = name,
            MetadataType::ExtlClntAppOauthConfigurablePolicies => self.oauth_policy = name,
            MetadataType::ExtlClntAppConfigurablePolicies => self.plugin_policy = name,
            _ => {}
        }
    }

    /// Each part missing here takes its name from `fallback`.
    pub fn or(mut self, fallback: &EcaPartNames) -> Self {
        for kind in PART_TYPES {
            if self.get(*kind).is_none() {
                self.set(*kind, fallback.get(*kind).map(str::to_owned));
            }
        }
        self
    }

    /// True when every part has a name.
    pub fn is_complete(&self) -> bool {
        PART_TYPES.iter().all(|k| self.get(*k).is_some())
    }
}

/// The four part types, in the order a deploy applies them.
pub const PART_TYPES: &[MetadataType] = &[
    MetadataType::ExtlClntAppGlobalOauthSettings,
    MetadataType::ExtlClntAppOauthSettings,
    MetadataType::ExtlClntAppOauthConfigurablePolicies,
    MetadataType::ExtlClntAppConfigurablePolicies,
];

/// Whether `part` (a part's full name) may belong to the app `app`: parts' names begin
/// with their app's name on every org observed (sfdx-hardis relies on it), compared
/// without case. A candidate only: reading the part tells for sure
/// (`externalClientApplication`).
pub fn may_belong_to(part: &str, app: &str) -> bool {
    part.len() > app.len()
        && part
            .get(..app.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(app))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::metadata::check_full_name;

    #[test]
    fn generated_names_follow_salesforce_and_fit_an_api_name() {
        let n = EcaPartNames::generated("acme_jwt");
        assert_eq!(n.global_oauth.as_deref(), Some("acme_jwt_glbloauth"));
        assert_eq!(n.oauth_settings.as_deref(), Some("acme_jwt_oauth"));
        assert_eq!(
            n.oauth_policy.as_deref(),
            Some("acme_jwt_oauth_defaultPolicy")
        );
        assert_eq!(n.plugin_policy.as_deref(), Some("acme_jwt_defaultPolicy"));
        // The longest app name certmint makes (60) still gives valid API names (at most 80).
        let long = "a".repeat(60);
        for kind in PART_TYPES {
            check_full_name(EcaPartNames::generated(&long).get(*kind).unwrap()).unwrap();
            check_full_name(EcaPartNames::setup(&long).get(*kind).unwrap()).unwrap();
        }
        assert!(n.is_complete());
        assert!(!EcaPartNames::default().is_complete());
    }

    #[test]
    fn missing_names_are_filled_and_candidates_start_with_the_app() {
        let mut found = EcaPartNames::default();
        found.set(
            MetadataType::ExtlClntAppOauthConfigurablePolicies,
            Some("acme_oauthPlcy".into()),
        );
        let all = found.or(&EcaPartNames::generated("acme"));
        assert_eq!(all.oauth_policy.as_deref(), Some("acme_oauthPlcy"));
        assert_eq!(all.plugin_policy.as_deref(), Some("acme_defaultPolicy"));
        assert!(may_belong_to("ACME_oauthPlcy", "acme"));
        assert!(!may_belong_to("acme", "acme"));
        assert!(!may_belong_to("other_oauth", "acme"));
    }
}
