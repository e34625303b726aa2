//! The apps `certmint connect` made or updated in an org, as the manifest records them
//! (`[[app]]` tables): enough to mint from the directory without `--client-id`, to resume
//! an interrupted run, to notice a run against another org, and to know which app
//! `mint --dir` uses after a rotation onto a second app.

use serde::{Deserialize, Serialize};

/// What kind of app it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppKind {
    /// An External Client App (the five `ExternalClientApplication` / `ExtlClntApp*`
    /// components), what `connect` creates.
    ExternalClientApp,
    /// A connected app (`ConnectedApp`), which `connect --connected-app` only updates:
    /// orgs no longer let connected apps be created (Spring '26).
    ConnectedApp,
}

impl AppKind {
    /// How messages name it.
    pub fn describe(self) -> &'static str {
        match self {
            AppKind::ExternalClientApp => "External Client App",
            AppKind::ConnectedApp => "connected app",
        }
    }
}

/// Where an app is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppState {
    /// Its consumer key is chosen and recorded; no deploy is known to have succeeded
    /// (`--dry-run`, or a run interrupted before or during the deploy request).
    Planned,
    /// A deploy was requested (its id is `deploy_id`) and its outcome is not known yet.
    Deploying,
    /// The deploy succeeded; no token has been minted with it yet (the change may still
    /// be propagating).
    Deployed,
    /// A token was minted through it with the recorded generation's key.
    Verified,
    /// Retired (`rotate --retire-previous`): disabled in the org, kept here for the record.
    Retired,
    /// Removed from the org by `certmint disconnect` (what certmint made there deleted);
    /// kept here for the record.
    Removed,
}

impl AppState {
    /// Lowercase name, as written in the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            AppState::Planned => "planned",
            AppState::Deploying => "deploying",
            AppState::Deployed => "deployed",
            AppState::Verified => "verified",
            AppState::Retired => "retired",
            AppState::Removed => "removed",
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One app in one org.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppRecord {
    /// The app's API name (`fullName`).
    pub name: String,
    /// External Client App or connected app.
    pub kind: AppKind,
    /// Its consumer key (the assertions' `iss`). certmint chooses it when it creates the
    /// app; for an existing connected app it is the one given.
    pub consumer_key: String,
    /// True when certmint created the app (false: it updated an existing one).
    #[serde(default)]
    pub created: bool,
    /// The 18-character id of the org, once known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub org_id: String,
    /// The org's instance URL, once known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub instance_url: String,
    /// The integration user.
    pub username: String,
    /// The permission set that is pre-authorized on the app and assigned to the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_set: Option<String>,
    /// Profiles pre-authorized on the app, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    /// OAuth scopes, in the Metadata API's spelling (`Api`, `RefreshToken`).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The app's label.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
    /// The app's contact email.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub contact_email: String,
    /// The OAuth callback URL (a placeholder: the JWT bearer flow does not use it).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub callback_url: String,
    /// Where the app is in its life.
    pub state: AppState,
    /// The app this one replaced (`rotate --deploy --second-app`), which
    /// `rotate --retire-previous` retires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
    /// The app `mint --dir` uses (its consumer key is `[salesforce] client_id`).
    #[serde(default)]
    pub active: bool,
    /// The generation whose certificate was last deployed to the app (or is being).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<String>,
    /// SHA-256 fingerprint of that certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_sha256: Option<String>,
    /// SHA-256 of what was last deployed (the package without the consumer key), to tell
    /// whether the app in the org still matches the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_sha256: Option<String>,
    /// The last deploy's id (`0Af…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy_id: Option<String>,
    /// An External Client App's parts as the org names them (discovered, or as certmint
    /// created them): later deploys go to these names, never to a second part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<crate::wire::metadata::EcaPartNames>,
    /// True when certmint created the permission set (`certmint disconnect` deletes it).
    #[serde(default, skip_serializing_if = "is_false")]
    pub permission_set_created: bool,
    /// True when certmint assigned the permission set to the integration user
    /// (`certmint disconnect` removes the assignment).
    #[serde(default, skip_serializing_if = "is_false")]
    pub permission_set_assigned: bool,
    /// The id of an assignment of the permission set to the admin who deploys, made for
    /// the length of a deploy (a live report says an External Client App's OAuth policies
    /// can name only a permission set the deploying admin holds) and removed after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_assignment: Option<String>,
    /// When the record last changed (RFC 3339).
    #[serde(default)]
    pub updated: String,
}
