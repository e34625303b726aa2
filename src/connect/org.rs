//! The admin session and the calls the org side makes with it: SOQL queries (the org, the
//! users, permission sets and assignments, the admin's permissions), record creation and
//! deletion (`PermissionSet`, `PermissionSetAssignment`), the admin's UserInfo, and in
//! `metadata` the REST Metadata API deploy (`POST …/metadata/deployRequest`, then
//! polling `GET …/deployRequest/{id}?includeDetails=true`) and the SOAP reads
//! (`readMetadata`, `listMetadata`). HTTP goes through [`crate::transport`], so TLS roots,
//! `--ca-file`, proxies and the loopback-only plain HTTP rule are the same as for `mint`.
//!
//! The access token is held in an [`AccessToken`] (zeroized, masked in `Debug`), sent only
//! to the session's instance URL (in the `Authorization` header; for the SOAP calls in
//! the envelope's `SessionHeader`), and never appears in an error: Salesforce's answers
//! are quoted, the request never is.

use std::fmt;

use serde_json::Value as Json;
use zeroize::Zeroizing;

mod metadata;

use super::plan::API_VERSION;
use crate::error::{Input, NetworkKind, OrgCall, SessionProblem};
use crate::token_endpoint::{AccessToken, Client, LoginUrl};
use crate::wire::identity::{USERINFO_PATH, UserInfoBody};
use crate::wire::metadata::soap::SoapFault;
use crate::wire::rest::{DATA_PATH, RestError, SaveResult, objects};
use crate::{Error, Result};

/// Longest access token accepted (Salesforce's are about 112 characters; JWT-format
/// tokens a few hundred).
const MAX_TOKEN_LEN: usize = 8192;

/// A session of a user who may deploy metadata, in one org.
pub struct AdminSession {
    instance: LoginUrl,
    token: AccessToken,
    source: String,
}

impl fmt::Debug for AdminSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminSession")
            .field("instance", &self.instance.as_str())
            .field("token", &self.token)
            .field("source", &self.source)
            .finish()
    }
}

impl AdminSession {
    /// A session on `instance_url` (https, or http to loopback for the emulator) with
    /// `token`; `source` says where it came from, for messages (`sf org "acme"`,
    /// `--access-token env:SF_TOKEN`). The token must be one line of visible characters.
    pub fn new(instance_url: &str, token: AccessToken, source: impl Into<String>) -> Result<Self> {
        let instance = LoginUrl::parse(instance_url).map_err(|e| Error::AdminSession {
            problem: SessionProblem::BadInstanceUrl,
            detail: e.to_string(),
        })?;
        let t = token.expose();
        if t.is_empty() {
            return Err(Error::AdminSession {
                problem: SessionProblem::BadToken,
                detail: "it is empty".into(),
            });
        }
        if t.len() > MAX_TOKEN_LEN || !t.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::AdminSession {
                problem: SessionProblem::BadToken,
                detail: format!(
                    "it is not one line of at most {MAX_TOKEN_LEN} visible characters (Salesforce tokens look like 00D…!…)"
                ),
            });
        }
        Ok(AdminSession {
            instance,
            token,
            source: source.into(),
        })
    }

    /// The instance URL (scheme, host and port).
    pub fn instance_url(&self) -> &str {
        self.instance.origin()
    }

    /// Where the session came from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The 15-character org id the token starts with, when it has one.
    pub fn org_prefix(&self) -> Option<&str> {
        self.token.org_prefix()
    }
}

/// The org as `connect` needs to know it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgInfo {
    /// 18-character org id.
    pub id: String,
    /// The org's name.
    pub name: String,
    /// A sandbox (logins go to test.salesforce.com).
    pub is_sandbox: bool,
}

/// A user of the org.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInfo {
    /// 18-character id.
    pub id: String,
    /// Username.
    pub username: String,
    /// Active.
    pub active: bool,
    /// Email.
    pub email: Option<String>,
}

/// The admin session's user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminInfo {
    /// 18-character id.
    pub id: String,
    /// Username.
    pub username: String,
    /// Email.
    pub email: Option<String>,
    /// What they may do, when the org says.
    pub permissions: Option<AdminPermissions>,
}

/// The user permissions the org side needs (`PermissionSet.Permissions*`, held through
/// any assigned permission set or the profile's own).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AdminPermissions {
    /// Modify All Data.
    pub modify_all_data: bool,
    /// Modify Metadata Through Metadata API Functions.
    pub modify_metadata: bool,
    /// Customize Application.
    pub customize_application: bool,
    /// Manage Profiles and Permission Sets.
    pub manage_permission_sets: bool,
    /// Assign Permission Sets.
    pub assign_permission_sets: bool,
}

impl AdminPermissions {
    /// May deploy metadata (Modify All Data, or Modify Metadata with Customize
    /// Application).
    pub fn may_deploy(&self) -> bool {
        self.modify_all_data || (self.modify_metadata && self.customize_application)
    }

    /// May create a permission set.
    pub fn may_create_permission_set(&self) -> bool {
        self.modify_all_data || self.manage_permission_sets
    }

    /// May assign a permission set.
    pub fn may_assign_permission_set(&self) -> bool {
        self.modify_all_data || self.assign_permission_sets
    }
}

/// What creating a record did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Created {
    /// A new record with this id.
    New(String),
    /// The record exists already (`DUPLICATE_VALUE`).
    Duplicate,
}

/// REST and Metadata API calls with an [`AdminSession`].
pub struct OrgClient<'a> {
    http: &'a Client,
    session: AdminSession,
}

impl fmt::Debug for OrgClient<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrgClient")
            .field("session", &self.session)
            .finish()
    }
}

/// A SOQL string literal: quotes and backslashes escaped.
pub fn soql_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

impl<'a> OrgClient<'a> {
    /// A client for `session` over `http`.
    pub fn new(http: &'a Client, session: AdminSession) -> Self {
        OrgClient { http, session }
    }

    /// The session.
    pub fn session(&self) -> &AdminSession {
        &self.session
    }

    /// The HTTP client.
    pub fn http(&self) -> &Client {
        self.http
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.session.instance.origin())
    }

    fn rest(&self, tail: &str) -> String {
        self.url(&format!("{DATA_PATH}/v{API_VERSION}.0{tail}"))
    }

    /// Send a request with the session's token; the status and body of a 2xx answer, or
    /// the org's refusal (a REST error list, or a SOAP fault for a `text/xml` request).
    pub(crate) fn call(
        &self,
        call: OrgCall,
        method: &str,
        url: &str,
        body: Option<(&str, &[u8])>,
    ) -> Result<(u16, Vec<u8>)> {
        // The agent is chosen by scheme and host; the query string plays no part.
        let agent = self.http.agent_for(url.split('?').next().unwrap_or(url))?;
        let auth = Zeroizing::new(format!("Bearer {}", self.session.token.expose()));
        let failed = |e| self.http.failed(e, url);
        let soap = body.is_some_and(|(ctype, _)| ctype.starts_with("text/xml"));
        let resp = match (method, body) {
            ("GET", _) => agent
                .get(url)
                .header("Authorization", auth.as_str())
                .call()
                .map_err(failed)?,
            ("DELETE", _) => agent
                .delete(url)
                .header("Authorization", auth.as_str())
                .call()
                .map_err(failed)?,
            ("POST", Some((ctype, bytes))) if soap => agent
                .post(url)
                .header("SOAPAction", "\"\"")
                .content_type(ctype)
                .send(bytes)
                .map_err(failed)?,
            ("POST", Some((ctype, bytes))) => agent
                .post(url)
                .header("Authorization", auth.as_str())
                .content_type(ctype)
                .send(bytes)
                .map_err(failed)?,
            _ => return Err(Error::internal(format!("no body for {method} {url}"))),
        };
        let (status, ctype, location, bytes) = crate::transport::read_response(resp, url)?;
        if status < 300 {
            return Ok((status, bytes));
        }
        if (soap || ctype.contains("xml"))
            && let Ok(env) = crate::wire::metadata::Element::parse(&bytes)
            && let Some(f) = SoapFault::from_envelope(&env)
        {
            return Err(Error::OrgRefused {
                call,
                status,
                code: crate::text::escape(&f.code),
                message: crate::text::escape(&f.message),
            });
        }
        if let Some(e) = rest_error(&bytes) {
            return Err(Error::OrgRefused {
                call,
                status,
                code: e.error_code.into_owned(),
                message: crate::text::escape(&e.message),
            });
        }
        if status == 401 {
            return Err(Error::OrgRefused {
                call,
                status,
                code: crate::wire::rest::INVALID_SESSION_ID.into(),
                message: "Session expired or invalid".into(),
            });
        }
        if status == 404 {
            return Err(Error::OrgRefused {
                call,
                status,
                code: "NOT_FOUND".into(),
                message: "The requested resource does not exist".into(),
            });
        }
        Err(crate::transport::unexpected(
            url,
            status,
            &ctype,
            location.as_deref(),
            &bytes,
        ))
    }

    /// The session's token, for a SOAP envelope (the caller zeroizes what it builds).
    pub(crate) fn token(&self) -> &str {
        self.session.token.expose()
    }

    /// The URL of `path` on the instance.
    pub(crate) fn instance(&self, path: &str) -> String {
        self.url(path)
    }

    fn json(&self, call: OrgCall, url: &str) -> Result<Json> {
        let (_, bytes) = self.call(call, "GET", url, None)?;
        serde_json::from_slice(&bytes).map_err(|e| Error::corrupt(Input::RestResponse, e))
    }

    /// The records of a SOQL query (one page: `connect` asks for a handful).
    pub fn query(&self, soql: &str) -> Result<Vec<Json>> {
        let q: String = form_urlencoded::byte_serialize(soql.as_bytes()).collect();
        let v = self.json(OrgCall::Query, &self.rest(&format!("/query?q={q}")))?;
        match v.get("records") {
            Some(Json::Array(r)) => Ok(r.clone()),
            _ => Err(Error::corrupt(
                Input::RestResponse,
                "a query answer without `records`",
            )),
        }
    }

    /// The org: id, name, sandbox or not.
    pub fn organization(&self) -> Result<OrgInfo> {
        let r = self.query("SELECT Id, Name, IsSandbox FROM Organization")?;
        let rec = r
            .first()
            .ok_or_else(|| Error::corrupt(Input::RestResponse, "no Organization record"))?;
        Ok(OrgInfo {
            id: text(rec, "Id")?,
            name: rec
                .get("Name")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_owned(),
            is_sandbox: rec
                .get("IsSandbox")
                .and_then(Json::as_bool)
                .unwrap_or(false),
        })
    }

    /// The user named `username` (case-insensitive, as Salesforce compares usernames).
    pub fn user(&self, username: &str) -> Result<Option<UserInfo>> {
        let r = self.query(&format!(
            "SELECT Id, Username, IsActive, Email FROM User WHERE Username = {}",
            soql_literal(username)
        ))?;
        r.first()
            .map(|rec| {
                Ok(UserInfo {
                    id: text(rec, "Id")?,
                    username: rec
                        .get("Username")
                        .and_then(Json::as_str)
                        .unwrap_or(username)
                        .to_owned(),
                    active: rec.get("IsActive").and_then(Json::as_bool).unwrap_or(true),
                    email: rec.get("Email").and_then(Json::as_str).map(str::to_owned),
                })
            })
            .transpose()
    }

    /// The id of the org's own permission set with API name `name`, if it exists: not a
    /// managed package's of the same name (`NamespacePrefix = null`), not a profile's own
    /// (`IsOwnedByProfile = false`).
    pub fn permission_set(&self, name: &str) -> Result<Option<String>> {
        let r = self.query(&format!(
            "SELECT Id, Name FROM {} WHERE Name = {} AND NamespacePrefix = null AND IsOwnedByProfile = false",
            objects::PERMISSION_SET,
            soql_literal(name)
        ))?;
        r.first().map(|rec| text(rec, "Id")).transpose()
    }

    /// Create the permission set `name` (label `label`) through the REST API; its id, or
    /// [`Created::Duplicate`] when one of that name exists.
    pub fn create_permission_set(
        &self,
        name: &str,
        label: &str,
        description: &str,
    ) -> Result<Created> {
        self.create(
            objects::PERMISSION_SET,
            &serde_json::json!({"Name": name, "Label": label, "Description": description}),
        )
    }

    /// The id of the assignment of permission set `ps` (id) to user `user` (id), if any.
    pub fn assignment(&self, ps: &str, user: &str) -> Result<Option<String>> {
        let r = self.query(&format!(
            "SELECT Id FROM {} WHERE AssigneeId = {} AND PermissionSetId = {}",
            objects::PERMISSION_SET_ASSIGNMENT,
            soql_literal(user),
            soql_literal(ps)
        ))?;
        r.first().map(|rec| text(rec, "Id")).transpose()
    }

    /// Whether permission set `ps` (id) is assigned to user `user` (id).
    pub fn is_assigned(&self, ps: &str, user: &str) -> Result<bool> {
        Ok(self.assignment(ps, user)?.is_some())
    }

    /// Delete record `id` of `sobject`; false when it was already gone.
    pub fn delete(&self, sobject: &str, id: &str) -> Result<bool> {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Error::invalid(
                Input::RecordId,
                format!("`{}` is not a record id", crate::text::escape(id)),
            ));
        }
        let url = self.rest(&format!("/sobjects/{sobject}/{id}"));
        match self.call(OrgCall::Delete, "DELETE", &url, None) {
            Ok(_) => Ok(true),
            Err(Error::OrgRefused { code, .. })
                if code == "NOT_FOUND" || code == "ENTITY_IS_DELETED" =>
            {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// The admin session's user: id, username, email, and what they may do (`None` when
    /// the org would not say: the permission fields are unknown to it or hidden).
    pub fn admin(&self) -> Result<AdminInfo> {
        let info = self.userinfo()?;
        let id = info.user_id.clone().ok_or_else(|| {
            Error::corrupt(Input::RestResponse, "the UserInfo answer has no user_id")
        })?;
        let permissions = match self.permissions_of(&id) {
            Ok(p) => Some(p),
            Err(Error::OrgRefused { code, .. })
                if matches!(
                    code.as_str(),
                    "INVALID_FIELD" | "INVALID_TYPE" | "INSUFFICIENT_ACCESS" | "MALFORMED_QUERY"
                ) =>
            {
                None
            }
            Err(e) => return Err(e),
        };
        Ok(AdminInfo {
            id,
            username: info.preferred_username.unwrap_or_default(),
            email: info.email,
            permissions,
        })
    }

    /// What user `id` may do, from the permission sets assigned to them (a profile's own
    /// permission set is one of them).
    pub fn permissions_of(&self, id: &str) -> Result<AdminPermissions> {
        let fields: Vec<String> = objects::PERMISSION_FIELDS
            .iter()
            .map(|f| format!("PermissionSet.{f}"))
            .collect();
        let rows = self.query(&format!(
            "SELECT {} FROM {} WHERE AssigneeId = {}",
            fields.join(", "),
            objects::PERMISSION_SET_ASSIGNMENT,
            soql_literal(id)
        ))?;
        let held = |field: &str| {
            rows.iter().any(|r| {
                r.get("PermissionSet")
                    .and_then(|ps| ps.get(field))
                    .and_then(Json::as_bool)
                    .unwrap_or(false)
            })
        };
        Ok(AdminPermissions {
            modify_all_data: held("PermissionsModifyAllData"),
            modify_metadata: held("PermissionsModifyMetadata"),
            customize_application: held("PermissionsCustomizeApplication"),
            manage_permission_sets: held("PermissionsManageProfilesPermissionsets"),
            assign_permission_sets: held("PermissionsAssignPermissionSets"),
        })
    }

    /// The id of the External Client App `name` through SOQL, when the org serves the
    /// object to this user (`None` inside `Ok` when it has no such app; an error when the
    /// object is not served).
    pub fn eca_by_soql(&self, name: &str) -> Result<Option<String>> {
        let r = self.query(&format!(
            "SELECT Id, DeveloperName FROM {} WHERE DeveloperName = {}",
            objects::EXTERNAL_CLIENT_APPLICATION,
            soql_literal(name)
        ))?;
        r.first().map(|rec| text(rec, "Id")).transpose()
    }

    /// Create a record of `sobject` with `fields`; a `DUPLICATE_VALUE` refusal is
    /// [`Created::Duplicate`].
    pub fn create(&self, sobject: &str, fields: &Json) -> Result<Created> {
        let body = serde_json::to_vec(fields).map_err(Error::internal)?;
        let url = self.rest(&format!("/sobjects/{sobject}"));
        match self.call(
            OrgCall::Create,
            "POST",
            &url,
            Some(("application/json", &body)),
        ) {
            Ok((_, bytes)) => {
                let r: SaveResult = serde_json::from_slice(&bytes)
                    .map_err(|e| Error::corrupt(Input::RestResponse, e))?;
                Ok(Created::New(r.id))
            }
            Err(Error::OrgRefused { code, .. }) if code == "DUPLICATE_VALUE" => {
                Ok(Created::Duplicate)
            }
            Err(e) => Err(e),
        }
    }

    /// Assign permission set `ps` to user `user` (ids); already assigned is fine.
    pub fn assign(&self, ps: &str, user: &str) -> Result<Created> {
        self.create(
            "PermissionSetAssignment",
            &serde_json::json!({"AssigneeId": user, "PermissionSetId": ps}),
        )
    }

    /// The admin session's own user (OpenID Connect UserInfo).
    pub fn userinfo(&self) -> Result<UserInfoBody> {
        let v = self.json(OrgCall::UserInfo, &self.url(USERINFO_PATH))?;
        serde_json::from_value(v).map_err(|e| Error::corrupt(Input::RestResponse, e))
    }
}

fn text_escape(s: &str) -> String {
    crate::text::escape(s)
}

/// The first error of a REST error body (`[{"message","errorCode"}]`, or one object).
fn rest_error(body: &[u8]) -> Option<RestError> {
    if let Ok(mut v) = serde_json::from_slice::<Vec<RestError>>(body) {
        return (!v.is_empty()).then(|| v.remove(0));
    }
    serde_json::from_slice::<RestError>(body).ok()
}

fn text(rec: &Json, field: &str) -> Result<String> {
    rec.get(field)
        .and_then(Json::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::corrupt(Input::RestResponse, format!("a record without `{field}`")))
}

/// True when an error means the session is gone (expired, revoked, logged out).
pub fn is_invalid_session(e: &Error) -> bool {
    matches!(e, Error::OrgRefused { code, .. } if code == crate::wire::rest::INVALID_SESSION_ID)
}

/// True when an error means the org does not know the resource (a deploy id it no
/// longer keeps, a record deleted).
pub fn is_not_found(e: &Error) -> bool {
    matches!(e, Error::OrgRefused { status: 404, .. })
        || matches!(e, Error::OrgRefused { code, .. } if code == "NOT_FOUND" || code == "INVALID_ID_FIELD")
}

/// True when an error is the network's, not the org's (worth a retry).
pub fn is_transient(e: &Error) -> bool {
    matches!(
        e,
        Error::Network {
            kind: NetworkKind::Connect | NetworkKind::Timeout | NetworkKind::Dns,
            ..
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soql_literals_are_escaped() {
        assert_eq!(soql_literal("a@b.c"), "'a@b.c'");
        assert_eq!(soql_literal("o'brien\\x"), "'o\\'brien\\\\x'");
    }

    #[test]
    fn sessions_check_the_url_and_the_token() {
        let ok = AdminSession::new(
            "https://acme.my.salesforce.com/",
            AccessToken::new("00Dxx0000001gPL!AQ4AQ.token".into()),
            "test",
        )
        .unwrap();
        assert_eq!(ok.instance_url(), "https://acme.my.salesforce.com");
        assert_eq!(ok.org_prefix(), Some("00Dxx0000001gPL"));
        assert!(!format!("{ok:?}").contains("AQ4AQ.token"));
        for (url, token, problem) in [
            (
                "http://acme.my.salesforce.com",
                "00D!x",
                SessionProblem::BadInstanceUrl,
            ),
            (
                "https://acme.my.salesforce.com",
                "",
                SessionProblem::BadToken,
            ),
            (
                "https://acme.my.salesforce.com",
                "two words",
                SessionProblem::BadToken,
            ),
            (
                "https://acme.my.salesforce.com",
                "a\nb",
                SessionProblem::BadToken,
            ),
        ] {
            let e = AdminSession::new(url, AccessToken::new(token.into()), "t").unwrap_err();
            assert!(
                matches!(e, Error::AdminSession { problem: p, .. } if p == problem),
                "{url} {token:?}: {e}"
            );
            assert!(token.is_empty() || !e.to_string().contains(token), "{e}");
        }
        AdminSession::new("http://127.0.0.1:7357", AccessToken::new("x!y".into()), "t").unwrap();
    }

    #[test]
    fn rest_errors_in_either_shape() {
        let e = rest_error(
            br#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#,
        )
        .unwrap();
        assert_eq!(e.error_code, "INVALID_SESSION_ID");
        let e = rest_error(br#"{"message":"m","errorCode":"X"}"#).unwrap();
        assert_eq!(e.message, "m");
        assert!(rest_error(b"<html>").is_none());
    }
}
