//! The REST deploy contract (`/services/data/vNN.0/metadata/deployRequest`): the request's
//! [`DeployOptions`] and its multipart body ([`multipart_body`]), the answers
//! ([`DeployRequestResponse`] around a [`DeployResult`] with its [`DeployStatus`]), and the
//! per-component [`DeployMessage`]s. Sources: Salesforce's "Deploy Metadata with Apex
//! Testing Using REST" and DeployResult reference, and the clients that speak it (jsforce
//! sends the JSON part as `entity_content`, other clients as `json`).
//!
//! Reading is tolerant where real answers vary: numbers and booleans may come as strings
//! (the documentation's own example has `"numberComponentsDeployed" : "10"`), and a single
//! component failure or success may come as an object instead of a one-element array.

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};

use super::xml::Problem;
use crate::wire::rest::DATA_PATH;

/// Path of the deploy resource below a version's REST root (`/services/data/vNN.0`).
pub const DEPLOY_REQUEST_PATH: &str = "/metadata/deployRequest";
/// Name of the multipart part holding the JSON `{"deployOptions":…}` (most clients).
pub const JSON_PART: &str = "json";
/// The name jsforce (and so the Salesforce CLI) gives the JSON part.
pub const ENTITY_CONTENT_PART: &str = "entity_content";
/// Name of the multipart part holding the zip.
pub const FILE_PART: &str = "file";

/// The deploy resource of API version `major`.0.
pub fn deploy_request_path(api_version: u32) -> String {
    format!("{DATA_PATH}/v{api_version}.0{DEPLOY_REQUEST_PATH}")
}

/// `testLevel` of a deploy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TestLevel {
    /// No tests (development orgs only; their default).
    NoTestRun,
    /// The tests in `runTests`.
    RunSpecifiedTests,
    /// The tests relevant to the deployed components (beta).
    RunRelevantTests,
    /// Local tests (production's default when Apex is deployed).
    RunLocalTests,
    /// Every test in the org.
    RunAllTestsInOrg,
}

/// `deployOptions`: every member optional, absent ones not sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployOptions {
    /// Deploy even when files named in package.xml are missing.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex_bool"
    )]
    pub allow_missing_files: Option<bool>,
    /// Reserved.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex_bool"
    )]
    pub auto_update_package: Option<bool>,
    /// Validate only: nothing changes in the org.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex_bool"
    )]
    pub check_only: Option<bool>,
    /// Deploy despite warnings.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex_bool"
    )]
    pub ignore_warnings: Option<bool>,
    /// Reserved in REST.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex_bool"
    )]
    pub perform_retrieve: Option<bool>,
    /// Delete components permanently.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex_bool"
    )]
    pub purge_on_delete: Option<bool>,
    /// Roll everything back on any failure (must be true for production).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex_bool"
    )]
    pub rollback_on_error: Option<bool>,
    /// Tests to run with `RunSpecifiedTests`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub run_tests: Vec<String>,
    /// The zip holds one package.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex_bool"
    )]
    pub single_package: Option<bool>,
    /// Which tests run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_level: Option<TestLevel>,
}

/// The JSON part of a deploy request: `{"deployOptions":{…}}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployRequestBody {
    /// The options.
    #[serde(default)]
    pub deploy_options: DeployOptions,
}

/// The multipart/form-data body of a deploy request: the JSON part (named `json`) and the
/// zip (part `file`, `deploy.zip`, `application/zip`). Returns the `Content-Type` header
/// value and the body. `boundary` must not occur in the zip (a random one of 32 or more
/// characters never does in practice).
pub fn multipart_body(options: &DeployOptions, zip: &[u8], boundary: &str) -> (String, Vec<u8>) {
    let json = serde_json::to_vec(&DeployRequestBody {
        deploy_options: options.clone(),
    })
    .unwrap_or_default();
    let mut body = Vec::with_capacity(zip.len() + json.len() + 512);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{JSON_PART}\"\r\nContent-Type: application/json\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(&json);
    body.extend_from_slice(
        format!(
            "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"{FILE_PART}\"; filename=\"deploy.zip\"\r\nContent-Type: application/zip\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(zip);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// `DeployResult.status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DeployStatus {
    /// Queued.
    Pending,
    /// Running.
    InProgress,
    /// Committing.
    FinalizingDeploy,
    /// Committing failed.
    FinalizingDeployFailed,
    /// Every component deployed.
    Succeeded,
    /// Some components deployed (`rollbackOnError` false).
    SucceededPartial,
    /// Nothing deployed.
    Failed,
    /// Being canceled.
    Canceling,
    /// Canceled.
    Canceled,
}

impl DeployStatus {
    /// Whether the deploy has finished (no further change will come).
    pub fn is_done(self) -> bool {
        matches!(
            self,
            DeployStatus::Succeeded
                | DeployStatus::SucceededPartial
                | DeployStatus::Failed
                | DeployStatus::Canceled
                | DeployStatus::FinalizingDeployFailed
        )
    }
}

/// `problemType` of a [`DeployMessage`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ProblemType {
    /// A warning: the component deployed.
    Warning,
    /// An error: the component did not deploy.
    Error,
    /// Information.
    Info,
}

/// One component's outcome (`DeployMessage`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployMessage {
    /// The component changed.
    #[serde(default, deserialize_with = "flex_bool_plain")]
    pub changed: bool,
    /// Column of the problem.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex_u32"
    )]
    pub column_number: Option<u32>,
    /// The component's type (`ConnectedApp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component_type: Option<String>,
    /// The component was created.
    #[serde(default, deserialize_with = "flex_bool_plain")]
    pub created: bool,
    /// When it was created (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_date: Option<String>,
    /// The component was deleted.
    #[serde(default, deserialize_with = "flex_bool_plain")]
    pub deleted: bool,
    /// Its file, as in the zip (`connectedApps/App.connectedApp`, or `package.xml`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// Its full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// Its record id, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Line of the problem.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flex_u32"
    )]
    pub line_number: Option<u32>,
    /// What went wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// How bad.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem_type: Option<ProblemType>,
    /// It deployed.
    #[serde(default, deserialize_with = "flex_bool_plain")]
    pub success: bool,
}

impl DeployMessage {
    /// A failure of `file_name` (component `full_name` of `component_type`).
    pub fn failure(
        component_type: Option<&str>,
        full_name: &str,
        file_name: &str,
        problem: &Problem,
    ) -> Self {
        DeployMessage {
            column_number: problem.column,
            component_type: component_type.map(str::to_owned),
            file_name: Some(file_name.to_owned()),
            full_name: Some(full_name.to_owned()),
            line_number: problem.line,
            problem: Some(problem.message.clone()),
            problem_type: Some(ProblemType::Error),
            ..DeployMessage::default()
        }
    }
}

/// `details` of a [`DeployResult`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployDetails {
    /// Components that failed (an array, or one object).
    #[serde(default, deserialize_with = "one_or_many")]
    pub component_failures: Vec<DeployMessage>,
    /// Components that deployed, `package.xml` included (an array, or one object).
    #[serde(default, deserialize_with = "one_or_many")]
    pub component_successes: Vec<DeployMessage>,
    /// Apex test results (none here: no Apex is deployed).
    #[serde(
        default,
        alias = "runTestResults",
        skip_serializing_if = "Option::is_none"
    )]
    pub run_test_result: Option<serde_json::Value>,
}

/// `deployResult`: a deploy's state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployResult {
    /// The deploy id (`0Af…`).
    pub id: String,
    /// Who canceled it.
    #[serde(default)]
    pub canceled_by: Option<String>,
    /// Their name.
    #[serde(default)]
    pub canceled_by_name: Option<String>,
    /// Validation only.
    #[serde(default, deserialize_with = "flex_bool_plain")]
    pub check_only: bool,
    /// When it finished.
    #[serde(default)]
    pub completed_date: Option<String>,
    /// Who started it (user id).
    #[serde(default)]
    pub created_by: Option<String>,
    /// Their name.
    #[serde(default)]
    pub created_by_name: Option<String>,
    /// When it was requested.
    #[serde(default)]
    pub created_date: Option<String>,
    /// Per-component outcomes (with `includeDetails=true`).
    #[serde(default)]
    pub details: Option<DeployDetails>,
    /// Finished.
    #[serde(default, deserialize_with = "flex_bool_plain")]
    pub done: bool,
    /// A message for the whole deploy.
    #[serde(default)]
    pub error_message: Option<String>,
    /// Its code.
    #[serde(default)]
    pub error_status_code: Option<String>,
    /// Warnings ignored.
    #[serde(default, deserialize_with = "flex_bool_plain")]
    pub ignore_warnings: bool,
    /// Last change.
    #[serde(default)]
    pub last_modified_date: Option<String>,
    /// Components that failed.
    #[serde(default, deserialize_with = "flex_u32_plain")]
    pub number_component_errors: u32,
    /// Components deployed.
    #[serde(default, deserialize_with = "flex_u32_plain")]
    pub number_components_deployed: u32,
    /// Components in the deploy.
    #[serde(default, deserialize_with = "flex_u32_plain")]
    pub number_components_total: u32,
    /// Test failures.
    #[serde(default, deserialize_with = "flex_u32_plain")]
    pub number_test_errors: u32,
    /// Tests run.
    #[serde(default, deserialize_with = "flex_u32_plain")]
    pub number_tests_completed: u32,
    /// Tests to run.
    #[serde(default, deserialize_with = "flex_u32_plain")]
    pub number_tests_total: u32,
    /// Roll back on any error.
    #[serde(default, deserialize_with = "flex_bool_plain")]
    pub rollback_on_error: bool,
    /// Tests were run.
    #[serde(default, deserialize_with = "flex_bool_plain")]
    pub run_tests_enabled: bool,
    /// When it started.
    #[serde(default)]
    pub start_date: Option<String>,
    /// What it is doing.
    #[serde(default)]
    pub state_detail: Option<String>,
    /// The state.
    pub status: DeployStatus,
    /// Succeeded.
    #[serde(default, deserialize_with = "flex_bool_plain")]
    pub success: bool,
}

/// The answer to `POST …/deployRequest` (201) and `GET …/deployRequest/{id}` (200).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployRequestResponse {
    /// The deploy id.
    pub id: String,
    /// The deploy's URL (path).
    #[serde(default)]
    pub url: Option<String>,
    /// Its state.
    pub deploy_result: DeployResult,
    /// The options it runs with.
    #[serde(default)]
    pub deploy_options: Option<DeployOptions>,
    /// For a quick deploy, the validation it reuses.
    #[serde(default)]
    pub validated_deploy_request_id: Option<String>,
}

fn flex_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::Bool(b) => Ok(Some(b)),
        serde_json::Value::String(s) if s == "true" => Ok(Some(true)),
        serde_json::Value::String(s) if s == "false" => Ok(Some(false)),
        other => Err(de::Error::custom(format!(
            "expected a boolean, got {other}"
        ))),
    }
}

fn flex_bool_plain<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(flex_bool(d)?.unwrap_or(false))
}

fn flex_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::Number(n) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| de::Error::custom("expected a non-negative integer")),
        serde_json::Value::String(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| de::Error::custom("expected a non-negative integer")),
        other => Err(de::Error::custom(format!(
            "expected an integer, got {other}"
        ))),
    }
}

fn flex_u32_plain<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    Ok(flex_u32(d)?.unwrap_or(0))
}

fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<DeployMessage>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<DeployMessage>),
        One(Box<DeployMessage>),
        Null(()),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::Many(v) => v,
        OneOrMany::One(m) => vec![*m],
        OneOrMany::Null(()) => Vec::new(),
    })
}
