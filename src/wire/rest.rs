//! The REST API bodies the emulator serves (`/services/data/…`): the list of API versions
//! (no authentication), a version's resources, SOQL query results with the records of
//! `Organization` and `User`, and REST error lists. Salesforce names record fields in
//! PascalCase and wraps errors in a JSON array.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// Path of the REST API below an instance URL.
pub const DATA_PATH: &str = "/services/data";

/// `errorCode` of a request without a valid session.
pub const INVALID_SESSION_ID: &str = "INVALID_SESSION_ID";

/// The sObjects and fields the org side reads with SOQL, as the client asks for them and
/// the emulator serves them. Sources: sfdx-hardis
/// (`src/commands/hardis/org/diagnose/unsecure-connected-apps.ts`) queries the two External
/// Client App objects through the data API; a third party reports them unavailable through
/// the Tooling API, so a client treats both as optional and falls back to the SOAP
/// Metadata API ([`crate::wire::metadata::soap`]).
pub mod objects {
    /// External Client Apps: `Id`, `DeveloperName`, `MasterLabel`, `NamespacePrefix`.
    pub const EXTERNAL_CLIENT_APPLICATION: &str = "ExternalClientApplication";
    /// External Client App OAuth policies: `Id`, `ExternalClientApplicationId`,
    /// `PermittedUsersPolicyType`.
    pub const ECA_OAUTH_POLICY: &str = "ExtlClntAppOauthPlcyCnfg";
    /// Permission sets (`IsOwnedByProfile` is true for a profile's own; `NamespacePrefix`
    /// null for the org's own).
    pub const PERMISSION_SET: &str = "PermissionSet";
    /// Assignments of permission sets (a profile's own included) to users.
    pub const PERMISSION_SET_ASSIGNMENT: &str = "PermissionSetAssignment";
    /// The user permissions on `PermissionSet` that the org side needs, by field name:
    /// deploying (`ModifyAllData` or `ModifyMetadata`, with `CustomizeApplication`),
    /// creating a permission set (`ManageProfilesPermissionsets`) and assigning one
    /// (`AssignPermissionSets`).
    pub const PERMISSION_FIELDS: &[&str] = &[
        "PermissionsModifyAllData",
        "PermissionsModifyMetadata",
        "PermissionsCustomizeApplication",
        "PermissionsManageProfilesPermissionsets",
        "PermissionsAssignPermissionSets",
    ];
}

/// One entry of `GET /services/data/`: `{"label":"Winter '15","url":"/services/data/v32.0","version":"32.0"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiVersion {
    /// Release name, e.g. `Spring '26`.
    pub label: String,
    /// `/services/data/vNN.0`.
    pub url: String,
    /// `NN.0`.
    pub version: String,
}

impl ApiVersion {
    /// Version `major`.0 with its release name (three releases a year; 20.0 was Winter '11).
    pub fn new(major: u32) -> Self {
        let k = major.saturating_sub(20);
        let season = ["Winter", "Spring", "Summer"][(k % 3) as usize];
        let year = 11 + k / 3;
        ApiVersion {
            label: format!("{season} '{year:02}"),
            url: format!("{DATA_PATH}/v{major}.0"),
            version: format!("{major}.0"),
        }
    }
}

/// `GET /services/data/vNN.0/`: where a version's resources are (the emulator lists only
/// those it serves).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionResources {
    /// sObjects.
    pub sobjects: String,
    /// SOQL query.
    pub query: String,
    /// Org limits.
    pub limits: String,
    /// Tooling API (its `query`).
    #[serde(default)]
    pub tooling: Option<String>,
    /// Metadata API REST resources (`deployRequest`).
    #[serde(default)]
    pub metadata: Option<String>,
}

impl VersionResources {
    /// The resources of `version` (`vNN.0`).
    pub fn of(version: &str) -> Self {
        VersionResources {
            sobjects: format!("{DATA_PATH}/{version}/sobjects"),
            query: format!("{DATA_PATH}/{version}/query"),
            limits: format!("{DATA_PATH}/{version}/limits"),
            tooling: Some(format!("{DATA_PATH}/{version}/tooling")),
            metadata: Some(format!("{DATA_PATH}/{version}/metadata")),
        }
    }
}

/// Path of the single-use frontdoor URL service (`GET`, Bearer token).
pub const SINGLEACCESS_PATH: &str = "/services/oauth2/singleaccess";
/// Path of token revocation (`POST token=…`, or `GET ?token=…`).
pub const REVOKE_PATH: &str = "/services/oauth2/revoke";
/// Path of the frontdoor page a single-use URL opens.
pub const FRONTDOOR_PATH: &str = "/secur/frontdoor.jsp";
/// The header REST answers carry with the org's API usage: `api-usage=N/MAX`.
pub const LIMIT_INFO_HEADER: &str = "Sforce-Limit-Info";

/// `GET /services/oauth2/singleaccess`: a single-use URL that opens a UI session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SingleAccess {
    /// The frontdoor URL (`…/secur/frontdoor.jsp?otp=…`).
    pub frontdoor_uri: String,
}

/// One entry of `GET /services/data/vNN.0/limits`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Limit {
    /// The allowance.
    pub max: u64,
    /// What is left of it.
    pub remaining: u64,
}

/// The answer to creating a record (`POST …/sobjects/<Type>`, 201).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveResult {
    /// The new record's id.
    pub id: String,
    /// Created.
    pub success: bool,
    /// Errors (none on success).
    pub errors: Vec<RestError>,
}

/// One column of `query?q=…&columns=true` (`columnMetadata`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ColumnMetadata {
    /// An aggregate (a subquery or function).
    pub aggregate: bool,
    /// The Apex type (`String`, `Id`, `Boolean`).
    pub apex_type: Option<String>,
    /// A boolean column.
    pub boolean_type: bool,
    /// The field's API name.
    pub column_name: String,
    /// A custom field.
    pub custom: bool,
    /// Its label.
    pub display_name: String,
    /// The relationship a join goes through.
    pub foreign_key_name: Option<String>,
    /// Insertable.
    pub insertable: bool,
    /// The columns of a relationship path (`Profile.Name`).
    pub join_columns: Vec<ColumnMetadata>,
    /// A number column.
    pub number_type: bool,
    /// A text column.
    pub text_type: bool,
    /// Updatable.
    pub updatable: bool,
}

/// The answer to `query?q=…&columns=true`: the columns a query would return.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryColumns {
    /// The columns.
    pub column_metadata: Vec<ColumnMetadata>,
    /// The object queried.
    pub entity_name: String,
    /// A GROUP BY query.
    pub group_by: bool,
    /// `Id` is selected.
    pub id_selected: bool,
    /// The object's key prefix.
    pub key_prefix: Option<String>,
}

/// One REST error; the body is a list of them (see [`RestError::list`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestError {
    /// Human-readable text.
    pub message: Cow<'static, str>,
    /// Machine-readable code, e.g. `INVALID_SESSION_ID`.
    #[serde(rename = "errorCode")]
    pub error_code: Cow<'static, str>,
    /// The fields involved (`DUPLICATE_VALUE`, `REQUIRED_FIELD_MISSING`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<String>>,
}

impl RestError {
    /// An error.
    pub fn new(error_code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        RestError {
            message: message.into(),
            error_code: Cow::Borrowed(error_code),
            fields: None,
        }
    }

    /// 401: `Session expired or invalid`.
    pub fn invalid_session() -> Self {
        RestError::new(INVALID_SESSION_ID, "Session expired or invalid")
    }

    /// The body: a one-element JSON array.
    pub fn list(&self) -> Vec<u8> {
        // Strings only: serialising cannot fail.
        serde_json::to_vec(&[self]).unwrap_or_default()
    }
}

/// A record's `attributes`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attributes {
    /// sObject type, e.g. `User`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The record's REST URL.
    pub url: String,
}

impl Attributes {
    /// The attributes of record `id` of `kind` under API `version` (`vNN.0`).
    pub fn of(kind: &str, version: &str, id: &str) -> Self {
        Attributes {
            kind: kind.to_owned(),
            url: format!("{DATA_PATH}/{version}/sobjects/{kind}/{id}"),
        }
    }
}

/// The fields of a `User` record the emulator answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserRecord {
    /// Type and URL.
    #[serde(rename = "attributes")]
    pub attributes: Attributes,
    /// 18-character id.
    pub id: String,
    /// Username.
    pub username: String,
    /// Full name.
    pub name: String,
    /// Email.
    pub email: String,
    /// Active.
    pub is_active: bool,
}

/// The fields of the `Organization` record the emulator answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrganizationRecord {
    /// Type and URL.
    #[serde(rename = "attributes")]
    pub attributes: Attributes,
    /// 18-character org id.
    pub id: String,
    /// Org name.
    pub name: String,
    /// The org's namespace, if any.
    pub namespace_prefix: Option<String>,
    /// A sandbox.
    pub is_sandbox: bool,
    /// Instance, e.g. `NA1`.
    pub instance_name: String,
    /// Edition, e.g. `Developer Edition`.
    pub organization_type: String,
    /// Trial end, if a trial.
    pub trial_expiration_date: Option<String>,
}

/// A SOQL query result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryResult<R> {
    /// Number of records matched.
    pub total_size: usize,
    /// Whether every record is in this page.
    pub done: bool,
    /// Where the next page is (`/services/data/vNN.0/query/<locator>-<offset>`) when this
    /// one is not the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_records_url: Option<String>,
    /// The records.
    pub records: Vec<R>,
}

impl<R> QueryResult<R> {
    /// A complete result of these records.
    pub fn of(records: Vec<R>) -> Self {
        QueryResult {
            total_size: records.len(),
            done: true,
            next_records_url: None,
            records,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_named_by_release() {
        let v = serde_json::to_string(&ApiVersion::new(32)).unwrap();
        assert_eq!(
            v,
            r#"{"label":"Winter '15","url":"/services/data/v32.0","version":"32.0"}"#
        );
        assert_eq!(ApiVersion::new(66).label, "Spring '26");
        assert_eq!(ApiVersion::new(65).label, "Winter '26");
    }

    #[test]
    fn errors_and_records_are_salesforce_shaped() {
        assert_eq!(
            RestError::invalid_session().list(),
            br#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#
        );
        let r = QueryResult::of(vec![OrganizationRecord {
            attributes: Attributes::of("Organization", "v66.0", "00D"),
            id: "00D".into(),
            name: "Acme".into(),
            namespace_prefix: None,
            is_sandbox: false,
            instance_name: "EMU1".into(),
            organization_type: "Developer Edition".into(),
            trial_expiration_date: None,
        }]);
        let json = serde_json::to_string(&r).unwrap();
        for part in [
            r#""totalSize":1"#,
            r#""done":true"#,
            r#""attributes":{"type":"Organization","url":"/services/data/v66.0/sobjects/Organization/00D"}"#,
            r#""NamespacePrefix":null"#,
            r#""IsSandbox":false"#,
        ] {
            assert!(json.contains(part), "{part} in {json}");
        }
        let back: QueryResult<OrganizationRecord> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
    }
}
