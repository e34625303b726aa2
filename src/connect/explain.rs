//! What a failed deploy or a refused call means, and what to do about it: each component
//! failure of a `DeployResult` matched against the problems known ([`FIXES`]: each marked
//! as a text seen from a real org, with its source, or as the emulator's own wording;
//! docs/troubleshooting.md lists them), and the REST error codes an admin session runs
//! into.

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

/// Where a problem's text was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// Reported from a real org (the source: a Salesforce document, an issue, a live
    /// third-party report; `../shared/reference/salesforce-org-fidelity.md`).
    RealOrg(&'static str),
    /// The emulator's own wording: no real org's text for it is known.
    Emulator,
}

/// A known problem: a fragment of its text, what to do, where the text was seen, and
/// whether running the same command again can help without a change (a passing state),
/// which no deterministic failure's fix says.
#[derive(Clone, Copy, Debug)]
pub struct Known {
    /// A fragment of the problem text (compared without case).
    pub needle: &'static str,
    /// What to do.
    pub fix: &'static str,
    /// Where the text was seen.
    pub seen: Seen,
}

const fn real(needle: &'static str, fix: &'static str, source: &'static str) -> Known {
    Known {
        needle,
        fix,
        seen: Seen::RealOrg(source),
    }
}

const fn emulator(needle: &'static str, fix: &'static str) -> Known {
    Known {
        needle,
        fix,
        seen: Seen::Emulator,
    }
}

/// Known problems and their fixes, first match wins.
pub const FIXES: &[Known] = &[
    real(
        "ExternalClientApplicationId duplicates value",
        "the External Client App already has a part of this kind under another name (Salesforce generates an app's OAuth and plugin policies itself, one of each): certmint deploys to the names it reads from the org, so it could not read them here; let the admin read the app's metadata (Modify Metadata or Modify All Data; for the global OAuth settings, View External Client Apps Consumer Secrets in Metadata) and run it again, or compare the names with `certmint connect DIR --check-only`",
        "live third-party report, 2026-07-14 (fidelity D1)",
    ),
    real(
        "duplicate value found",
        "the org already holds a record with this value (for an External Client App part: one of this kind under another name); see the component named above in Setup, and the names certmint reads with `certmint connect DIR --check-only`",
        "live third-party report (fidelity D1)",
    ),
    real(
        "You can't create a connected app",
        "the org refuses new connected apps (Salesforce blocks their creation since Spring '26): drop --connected-app to create an External Client App instead, or name a connected app that exists (Setup > App Manager)",
        "third-party notes; Salesforce KB 005228017",
    ),
    real(
        "The consumer key is already taken",
        "another app already uses the consumer key recorded for this directory: run `certmint connect` with --reconnect to plan a new app with a new key",
        "forcedotcom/devops-center-feedback#256",
    ),
    real(
        "You cannot provide a Consumer Key",
        "the app exists and keeps the consumer key it was created with, which a deploy may not send: certmint sends none to an app it finds in the org; if it could not find it, let the admin read the app's metadata, or give the app's own key with --client-id",
        "trailheadapps/ready-to-fly#29",
    ),
    real(
        "doesn't have a valid OAuth settings configuration",
        "the app's global OAuth settings were deployed without its OAuth settings: deploy both together, as `certmint connect --save-metadata` writes them",
        "MCP setup runbook (fidelity D9)",
    ),
    real(
        "There's a problem with your scope",
        "the org does not offer a scope the app names: give --scope with the Metadata API names the org knows (Api, RefreshToken, Web, Full, OpenID)",
        "MCP setup runbook (fidelity D9)",
    ),
    real(
        "parent external client app",
        "an External Client App part lost its externalClientApplication element (or it was out of place and dropped): deploy the files exactly as `certmint connect --save-metadata` writes them",
        "third-party notes (Enter the name of the parent external client app)",
    ),
    emulator(
        "no Profile named",
        "check the profile given with --profile: Setup > Profiles shows the exact names (System Administrator, not Admin)",
    ),
    emulator(
        "must be assigned to the deploying user first",
        "the org lets an External Client App's policies name only a permission set the deploying admin holds: certmint assigns it to the admin for one more deploy when it sees this; if it still fails, assign the permission set to the admin in Setup and run the command again",
    ),
    emulator(
        "no PermissionSet named",
        "the permission set must exist before the deploy that names it (certmint creates and assigns it first): check its API name in Setup > Permission Sets, or leave --permission-set out",
    ),
    emulator(
        "no ExternalClientApplication named",
        "an External Client App's parts must be deployed with (or after) the app itself: deploy them in one deploy, as `certmint connect` does",
    ),
    emulator(
        "already exists",
        "an app of another kind already has this name: choose another with --app-name, or update that connected app with --connected-app NAME",
    ),
    real(
        "is not a valid value for the enum",
        "a value the org does not accept; for an OAuth scope given with --scope use the Metadata API names (Api, RefreshToken, Web, Full, OpenID)",
        "Metadata API schema validation",
    ),
    real(
        "in this version",
        "the org does not offer this metadata type through the API to this admin: External Client Apps need API 60.0 or later, the org's opt-in to External Client Apps, and, for the OAuth settings, \"Allow Access to OAuth Consumer Secrets via Metadata API\" (Setup > External Client App Settings; docs/security.md)",
        "INVALID_TYPE: Cannot use: X in this version (forcedotcom force-meta-backup#44)",
    ),
    real(
        "Invalid version specified",
        "the org does not serve API version 62.0: it is too old for External Client Apps",
        "Metadata API",
    ),
    real(
        "invalid at this location",
        "the org does not know an element of this file (or not in this order): certmint writes the schema's order for API 62.0; if the file was edited, restore it from --save-metadata",
        "Metadata API schema validation",
    ),
    emulator(
        "not a valid PEM-encoded X.509 certificate",
        "Salesforce could not read the certificate: check the directory with `certmint check DIR`",
    ),
    emulator(
        "not an RSA key",
        "the certificate's key is not one Salesforce accepts: make an RSA 2048, 3072 or 4096-bit key with `certmint rotate DIR --bits 2048`",
    ),
    emulator(
        "isAdminApproved",
        "pre-authorized profiles and permission sets need \"Admin approved users are pre-authorized\": certmint sets it; if the file was edited, restore it",
    ),
    emulator(
        "can only be set when its global OAuth settings are created",
        "the External Client App exists and keeps the consumer key it was created with: certmint sends none to an app it finds; if it could not find it, let the admin read the app's metadata, or give the app's own key with --client-id",
    ),
    emulator(
        "Required field is missing",
        "the file lacks an element Salesforce requires; deploy the files as `certmint connect --save-metadata` writes them",
    ),
    real(
        "was named in package.xml, but was not found",
        "package.xml names a file the deploy does not hold: deploy the whole directory written by --save-metadata",
        "Metadata API deploy",
    ),
    emulator(
        "insufficient access",
        "the admin may not change this app: deploying needs Modify Metadata Through Metadata API Functions (or Modify All Data) and Customize Application; an External Client App's global OAuth settings also need View External Client Apps Consumer Secrets in Metadata and, in orgs before Spring '26, the org setting Allow Access to OAuth Consumer Secrets via Metadata API (docs/security.md)",
    ),
];

/// What to do about a failure certmint does not know: nothing changed in the org (a
/// deploy is all or nothing), so the cause must be fixed before another run can pass.
pub const DEFAULT_FIX: &str = "Salesforce's text names the cause, which certmint does not know; nothing changed in the org (the deploy is all or nothing): fix it in the org or with connect's options (docs/troubleshooting.md), then run the command again";

/// The known problem `problem` matches, if any.
pub fn known(problem: &str) -> Option<&'static Known> {
    let lower = problem.to_ascii_lowercase();
    FIXES
        .iter()
        .find(|k| lower.contains(&k.needle.to_ascii_lowercase()))
}

/// The fix for one problem text.
pub fn fix_for(problem: &str) -> &'static str {
    known(problem).map_or(DEFAULT_FIX, |k| k.fix)
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
        _ => {
            "see Salesforce's message; fix what it names, then run the command again (it resumes where it stopped)"
        }
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
        // The live duplicate-policy text (fidelity D1) has its own fix.
        let dup = "duplicate value found: ExternalClientApplicationId duplicates value on record with id: 0xI000000000001";
        assert!(fix_for(dup).contains("policies itself"), "{}", fix_for(dup));
    }

    /// Every fix for a deterministic failure asks for a change first: none says that
    /// running the same command again resumes or helps as it is (fidelity D9); and every
    /// text is marked as seen from a real org (with its source) or as the emulator's own.
    #[test]
    fn no_fix_tells_a_deterministic_failure_to_just_run_again() {
        for k in FIXES {
            let f = k.fix.to_ascii_lowercase();
            assert!(!f.contains("it resumes"), "{}: {}", k.needle, k.fix);
            assert!(!f.starts_with("run "), "{}: {}", k.needle, k.fix);
            if let Seen::RealOrg(src) = k.seen {
                assert!(!src.is_empty(), "{}", k.needle);
            }
        }
        assert!(!DEFAULT_FIX.contains("resumes"));
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
