//! What a failed deploy or a refused call means, and what to do about it: each component
//! failure of a `DeployResult` matched against the problems Salesforce (and the emulator)
//! are known to report (docs/emulator.md lists each with its source), and the REST error
//! codes an admin session runs into.

use crate::wire::metadata::{DeployMessage, DeployResult};

/// One component that did not deploy, with the fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComponentFailure {
    /// The metadata type (`ExtlClntAppGlobalOauthSettings`), when given.
    pub component_type: Option<String>,
    /// The component's full name.
    pub full_name: Option<String>,
    /// Its file in the deploy.
    pub file: Option<String>,
    /// Line and column in that file, when given.
    pub line: Option<u32>,
    /// Column.
    pub column: Option<u32>,
    /// Salesforce's problem text (escaped for the terminal).
    pub problem: String,
    /// What to do.
    pub fix: &'static str,
}

/// Known problems (a fragment of Salesforce's text) and their fixes, first match wins.
const FIXES: &[(&str, &str)] = &[
    (
        "You can't create a connected app",
        "the org refuses new connected apps (Salesforce blocks their creation since Spring '26): drop --connected-app to create an External Client App instead, or name a connected app that exists (Setup > App Manager)",
    ),
    (
        "The consumer key is already taken",
        "another app already uses the consumer key recorded for this directory: run `certmint connect` with --reconnect to plan a new app with a new key",
    ),
    (
        "You cannot provide a Consumer Key",
        "the app exists with another consumer key, which cannot change: give its own key with --client-id (Setup > App Manager > View > Manage Consumer Details), or --reconnect to create a new app",
    ),
    (
        "no Profile named",
        "check the profile given with --profile: Setup > Profiles shows the exact names (System Administrator, not Admin)",
    ),
    (
        "no PermissionSet named",
        "the permission set does not exist: leave --permission-set out and certmint creates one, or create it in Setup > Permission Sets first",
    ),
    (
        "no ExternalClientApplication named",
        "an External Client App's parts must be deployed with (or after) the app itself: deploy the five components in one deploy, as `certmint connect` does",
    ),
    (
        "parent external client app",
        "an External Client App part lost its externalClientApplication element: deploy the files exactly as `certmint connect --save-metadata` writes them",
    ),
    (
        "already exists",
        "an app of another kind already has this name: choose another with --app-name, or update that connected app with --connected-app NAME",
    ),
    (
        "is not a valid value for the enum",
        "a value the org does not accept; for an OAuth scope given with --scope use the Metadata API names (Api, RefreshToken, Web, Full, OpenID)",
    ),
    (
        "in this version",
        "the org does not offer this metadata type through the API: External Client Apps need Setup > External Client App Settings > \"Allow access to External Client App\" settings and API 60.0 or later",
    ),
    (
        "Invalid version specified",
        "the org does not serve API version 62.0: it is too old for External Client Apps",
    ),
    (
        "invalid at this location",
        "the org does not know an element of this file (or not in this order): certmint writes the schema's order for API 62.0; if the file was edited, restore it from --save-metadata",
    ),
    (
        "not a valid PEM-encoded X.509 certificate",
        "Salesforce could not read the certificate: check the directory with `certmint check DIR` and run `certmint connect` again",
    ),
    (
        "not an RSA key",
        "the certificate's key is not one Salesforce accepts: make an RSA 2048, 3072 or 4096-bit key with `certmint rotate DIR --bits 2048`",
    ),
    (
        "isAdminApproved",
        "pre-authorized profiles and permission sets need \"Admin approved users are pre-authorized\": certmint sets it; if the file was edited, restore it",
    ),
    (
        "Required field is missing",
        "the file lacks an element Salesforce requires; deploy the files as `certmint connect --save-metadata` writes them",
    ),
    (
        "was named in package.xml, but was not found",
        "package.xml names a file the deploy does not hold: deploy the whole directory written by --save-metadata",
    ),
    (
        "insufficient access",
        "the admin user may not change this app: they need Customize Application and Modify All Data (or Manage Connected Apps / the External Client App permissions), see docs/security.md",
    ),
];

const DEFAULT_FIX: &str = "fix what Salesforce names (in the org, or with connect's options) and run `certmint connect` again: it resumes where it stopped";

/// The fix for one problem text.
pub fn fix_for(problem: &str) -> &'static str {
    let lower = problem.to_ascii_lowercase();
    FIXES
        .iter()
        .find(|(needle, _)| lower.contains(&needle.to_ascii_lowercase()))
        .map_or(DEFAULT_FIX, |(_, fix)| fix)
}

/// Every component failure of a finished deploy, explained; a deploy-wide
/// `errorMessage` becomes one failure without a component.
pub fn failures(result: &DeployResult) -> Vec<ComponentFailure> {
    let mut out: Vec<ComponentFailure> = result
        .details
        .as_ref()
        .map(|d| d.component_failures.iter().map(explain).collect())
        .unwrap_or_default();
    if let Some(m) = &result.error_message {
        out.push(ComponentFailure {
            component_type: None,
            full_name: None,
            file: None,
            line: None,
            column: None,
            problem: crate::text::escape(m),
            fix: fix_for(m),
        });
    }
    out
}

fn explain(m: &DeployMessage) -> ComponentFailure {
    let problem = m
        .problem
        .clone()
        .unwrap_or_else(|| "(no problem text)".into());
    let nonempty = |s: &Option<String>| {
        s.as_deref()
            .filter(|v| !v.is_empty())
            .map(crate::text::escape)
    };
    ComponentFailure {
        component_type: nonempty(&m.component_type),
        full_name: nonempty(&m.full_name),
        file: nonempty(&m.file_name),
        line: m.line_number,
        column: m.column_number,
        fix: fix_for(&problem),
        problem: crate::text::escape(&problem),
    }
}

/// What to do about a REST error code met with an admin session.
pub fn org_error_fix(code: &str) -> &'static str {
    match code {
        "INVALID_SESSION_ID" => {
            "the admin session expired or was revoked: log in again (`sf org login web --alias ALIAS`) or get a fresh access token, and run the command again"
        }
        "INSUFFICIENT_ACCESS" | "INSUFFICIENT_ACCESS_OR_READONLY" => {
            "the admin user lacks a permission: deploying needs Modify Metadata Through Metadata API Functions (or Modify All Data) and Customize Application; assigning the permission set needs Assign Permission Sets (docs/security.md)"
        }
        "API_DISABLED_FOR_ORG" | "API_CURRENTLY_DISABLED" => {
            "the org or the admin user has no API access (\"API Enabled\" permission; some editions have none)"
        }
        "REQUEST_LIMIT_EXCEEDED" => "the org's daily API limit is used up: wait, or raise it",
        "NOT_FOUND" => {
            "the org does not serve this resource: check the instance URL (the My Domain, https://NAME.my.salesforce.com)"
        }
        "INVALID_TYPE" | "INVALID_FIELD" => {
            "the org does not know this object or field for the admin user: check their permissions"
        }
        _ => "see Salesforce's message; run the command again once it is fixed (it resumes)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_problems_get_their_fix() {
        assert!(
            fix_for("In field: profileName - no Profile named Nope found").contains("--profile")
        );
        assert!(
            fix_for("You can't create a connected app. To enable …")
                .contains("External Client App")
        );
        assert!(fix_for("An app named acme already exists.").contains("--app-name"));
        assert_eq!(fix_for("something new"), DEFAULT_FIX);
        assert!(org_error_fix("INVALID_SESSION_ID").contains("log in again"));
    }

    #[test]
    fn failures_keep_their_place_and_escape_salesforce_text() {
        let r: DeployResult = serde_json::from_str(
            r#"{"id":"0Af","status":"Failed","done":true,"success":false,
                "errorMessage":"No package.xml found",
                "details":{"componentFailures":{"componentType":"ExternalClientApplication",
                  "fullName":"acme","fileName":"externalClientApps/acme.eca","lineNumber":"3",
                  "columnNumber":5,"problem":"Element {x}y invalid at this location\u001b[31m",
                  "problemType":"Error","success":false}}}"#,
        )
        .unwrap();
        let f = failures(&r);
        assert_eq!(f.len(), 2);
        assert_eq!(
            f[0].component_type.as_deref(),
            Some("ExternalClientApplication")
        );
        assert_eq!(f[0].file.as_deref(), Some("externalClientApps/acme.eca"));
        assert_eq!((f[0].line, f[0].column), (Some(3), Some(5)));
        assert!(!f[0].problem.contains('\u{1b}'), "{}", f[0].problem);
        assert!(f[0].fix.contains("schema's order"), "{}", f[0].fix);
        assert!(f[1].component_type.is_none() && f[1].problem == "No package.xml found");
    }
}
