//! The REST API (`/services/data/…`): the versions list (no authentication), a version's
//! resources (only those served), SOQL (`query`, `queryAll`, `tooling/query`; with
//! `columns=true` the column metadata; 2,000 records at a time, the rest through
//! `nextRecordsUrl` and a query locator), the sObjects (describe global, basic information,
//! describe, a record by id, and creating a `PermissionSet` or a
//! `PermissionSetAssignment`), `limits`, and the Metadata API's REST deploy
//! (`metadata/deployRequest`, in [`super::deploy`]). A missing or bad token gets 401
//! `INVALID_SESSION_ID` with `WWW-Authenticate: Token`; every answer with a session
//! carries `Sforce-Limit-Info`.

use std::borrow::Cow;

use hyper::StatusCode;
use hyper::http::request::Parts;
use hyper::{Method, header::HeaderValue};
use serde_json::{Value as Json, json};

use super::super::response::{self, Reply};
use super::super::state::{LATEST_API, QUERY_BATCH, Shared};
use super::super::tokens::Session;
use super::objects;
use super::{Payload, query_param, session};
use crate::emulator::config::{Permission, Permissions};
use crate::emulator::soql;
use crate::wire::rest::{
    LIMIT_INFO_HEADER, Limit, QueryResult, RestError, SaveResult, VersionResources,
};

/// The daily API request allowance reported in `limits` and `Sforce-Limit-Info`.
pub(crate) const DAILY_API_REQUESTS: u64 = 15_000;

/// `GET /services/data/`: the versions list, computed at start-up.
pub(in crate::emulator) fn versions(sh: &Shared) -> Reply {
    (
        response::json(StatusCode::OK, sh.versions.clone()),
        Cow::Borrowed(""),
    )
}

/// The API version of a path segment (`v66.0`, `latest`), when served.
pub(in crate::emulator) fn version_of(segment: &str) -> Option<u32> {
    if segment == "latest" {
        return Some(LATEST_API);
    }
    segment
        .strip_prefix('v')
        .and_then(|v| v.strip_suffix(".0"))
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|v| (20..=LATEST_API).contains(v))
}

/// `/services/data/<rest>` (any method; `body` read already for writes).
pub(in crate::emulator) fn data(sh: &Shared, req: &Parts, rest: &str, body: &Payload) -> Reply {
    let (version, sub) = rest.split_once('/').unwrap_or((rest, ""));
    let Some(major) = version_of(version) else {
        return response::not_found();
    };
    let Some(s) = session(sh, req) else {
        return response::invalid_session();
    };
    let used = sh.count_api_request();
    let mut reply = route(sh, req, s, major, sub.trim_end_matches('/'), body);
    let info = format!("api-usage={used}/{DAILY_API_REQUESTS}");
    if let Ok(v) = HeaderValue::from_str(&info) {
        reply.0.headers_mut().insert(LIMIT_INFO_HEADER, v);
    }
    reply
}

fn route(sh: &Shared, req: &Parts, s: Session, major: u32, sub: &str, body: &Payload) -> Reply {
    let v = format!("v{major}.0");
    let get = matches!(req.method, Method::GET | Method::HEAD);
    if sub.is_empty() {
        return if get {
            response::ok_json(&VersionResources::of(&v))
        } else {
            response::method_not_allowed()
        };
    }
    if let Some(deploy) = sub.strip_prefix("metadata/deployRequest") {
        return super::deploy::deploy_request(sh, req, s, major, deploy, body);
    }
    let creating = req.method == Method::POST && sub.starts_with("sobjects/");
    let deleting = req.method == Method::DELETE && sub.starts_with("sobjects/");
    if !(get || creating || deleting) {
        return response::method_not_allowed();
    }
    for (prefix, tooling) in [
        ("query/", false),
        ("queryAll/", false),
        ("tooling/query/", true),
    ] {
        if let Some(locator) = sub.strip_prefix(prefix)
            && get
        {
            return query_more(sh, &v, tooling, locator);
        }
    }
    match sub {
        "query" | "queryAll" => return query(sh, req, &v, false),
        "tooling/query" => return query(sh, req, &v, true),
        "limits" => return limits(sh),
        "sobjects" => {
            let list: Vec<Json> = objects::OBJECTS
                .iter()
                .filter(|o| !o.tooling_only)
                .map(|o| objects::summary(o, &v))
                .collect();
            return response::ok_json(
                &json!({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": list}),
            );
        }
        _ => {}
    }
    let Some(rest) = sub.strip_prefix("sobjects/") else {
        return response::not_found();
    };
    let (name, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let Some(o) = objects::object(name, false) else {
        return response::rest_error(StatusCode::NOT_FOUND, objects::invalid_type(name));
    };
    match (tail, &req.method) {
        ("", &Method::POST) => create(sh, s, o.name, &body.bytes),
        (id, &Method::DELETE) if !id.is_empty() && !id.contains('/') => delete(sh, s, o.name, id),
        ("", _) => {
            let list = objects::summary(o, &v);
            response::ok_json(&json!({"objectDescribe": list, "recentItems": []}))
        }
        ("describe", m) if *m != Method::POST => response::ok_json(&objects::describe(o, &v)),
        (id, m) if *m != Method::POST && !id.contains('/') => {
            let org = sh.org();
            let found = objects::records(&org.cfg, o, &v).find(|r| {
                r.get("Id")
                    .and_then(Json::as_str)
                    .is_some_and(|rid| rid == id || (id.len() == 15 && rid.starts_with(id)))
            });
            let _ = s;
            match found {
                Some(r) => response::ok_json(&r),
                None => response::not_found(),
            }
        }
        _ => response::method_not_allowed(),
    }
}

fn query(sh: &Shared, req: &Parts, v: &str, tooling: bool) -> Reply {
    let q = query_param(req, "q").unwrap_or_default();
    let parsed = match soql::parse(&q) {
        Ok(p) => p,
        Err(e) => {
            return response::rest_error(
                StatusCode::BAD_REQUEST,
                RestError::new("MALFORMED_QUERY", e.to_string()),
            );
        }
    };
    if query_param(req, "columns").as_deref() == Some("true") {
        return match objects::columns(&parsed, tooling) {
            Ok(c) => response::ok_json(&c),
            Err(e) => response::rest_error(StatusCode::BAD_REQUEST, e),
        };
    }
    answer(
        sh,
        &q,
        &parsed,
        v,
        tooling,
        None,
        objects::Page::first(QUERY_BATCH),
    )
}

/// `GET …/query/<locator>-<offset>`: the next page of a query (its records as the org is
/// now), or 400 `INVALID_QUERY_LOCATOR` for a locator not (or no longer) kept.
fn query_more(sh: &Shared, v: &str, tooling: bool, locator: &str) -> Reply {
    let invalid = || {
        response::rest_error(
            StatusCode::BAD_REQUEST,
            RestError::new("INVALID_QUERY_LOCATOR", "invalid query locator"),
        )
    };
    let Some((id, offset)) = locator
        .rsplit_once('-')
        .and_then(|(id, n)| Some((id, n.parse::<usize>().ok()?)))
    else {
        return invalid();
    };
    let kept = {
        let locators = sh.locators.lock().unwrap_or_else(|e| e.into_inner());
        locators
            .find(id)
            .filter(|l| l.tooling == tooling)
            .map(|l| (l.query.clone(), l.total, l.start_of(offset)))
    };
    let Some((q, total, start)) = kept else {
        return invalid();
    };
    let Ok(parsed) = soql::parse(&q) else {
        return invalid();
    };
    // From where the page before ended; an offset no page led to is counted from the start.
    let page = objects::Page {
        offset,
        start: start.unwrap_or(0),
        size: QUERY_BATCH,
        total: start.map(|_| total),
    };
    answer(sh, &q, &parsed, v, tooling, Some(id.to_owned()), page)
}

/// A page of a query, with the `nextRecordsUrl` of the next when more follow (under
/// `locator`, or a new one for the query's first page).
fn answer(
    sh: &Shared,
    text: &str,
    parsed: &soql::Query,
    v: &str,
    tooling: bool,
    locator: Option<String>,
    page: objects::Page,
) -> Reply {
    let org = sh.org();
    let a = match objects::run(&org.cfg, parsed, v, tooling, page) {
        Ok(a) => a,
        Err(e) => return response::rest_error(StatusCode::BAD_REQUEST, e),
    };
    drop(org);
    let mut r = QueryResult::of(a.records);
    r.total_size = a.total;
    let next = page.offset.saturating_add(page.size);
    if let Some(start) = a.next_start.filter(|_| next < a.answered) {
        let mut locators = sh.locators.lock().unwrap_or_else(|e| e.into_inner());
        let id = match locator {
            Some(id) => {
                locators.remember(&id, next, start);
                id
            }
            None => match locators.keep(text, tooling, a.total, next, start) {
                Ok(id) => id,
                Err(_) => return response::server_error("the query locator could not be made"),
            },
        };
        let api = if tooling { "tooling/query" } else { "query" };
        r.done = false;
        r.next_records_url = Some(format!("/services/data/{v}/{api}/{id}-{next}"));
    }
    response::ok_json(&r)
}

fn limits(sh: &Shared) -> Reply {
    let used = sh.api_requests();
    let l = |max: u64, used: u64| Limit {
        max,
        remaining: max.saturating_sub(used),
    };
    response::ok_json(&json!({
        "DailyApiRequests": l(DAILY_API_REQUESTS, used),
        "DailyAsyncApexExecutions": l(250_000, 0),
        "DailyBulkApiBatches": l(15_000, 0),
        "DailyBulkV2QueryJobs": l(10_000, 0),
        "DataStorageMB": l(5, 0),
        "FileStorageMB": l(20, 0),
        "HourlyPublishedPlatformEvents": l(50_000, 0),
        "SingleEmail": l(15, 0),
    }))
}

/// `DELETE …/sobjects/PermissionSet/<id>` (Manage Profiles and Permission Sets) and
/// `…/PermissionSetAssignment/<id>` (Assign Permission Sets): 204, or Salesforce's REST
/// error shape.
fn delete(sh: &Shared, s: Session, object: &str, id: &str) -> Reply {
    let mut org = sh.org_mut();
    let done = match object {
        "PermissionSet" => org
            .require(s.user, Permission::ManageProfilesPermissionsets)
            .and_then(|()| org.delete_permission_set(id)),
        "PermissionSetAssignment" => org
            .require(s.user, Permission::AssignPermissionSets)
            .and_then(|()| org.delete_assignment(id)),
        _ => {
            return response::rest_error(
                StatusCode::BAD_REQUEST,
                RestError::new(
                    "INVALID_OPERATION",
                    format!("the certmint emulator cannot delete {object} records"),
                ),
            );
        }
    };
    match done {
        Ok(()) => {
            if let Err(e) = org.save() {
                sh.log(|| format!("- - cannot write the state file: {e}"));
            }
            response::no_content()
        }
        Err(e) if e.error_code == "NOT_FOUND" => response::rest_error(StatusCode::NOT_FOUND, e),
        Err(mut e) => {
            if e.fields.is_none() {
                e.fields = Some(Vec::new());
            }
            response::rest_error(StatusCode::BAD_REQUEST, e)
        }
    }
}

/// The user permissions a `PermissionSet` create sets (`"PermissionsModifyMetadata": true`).
fn permissions_in(fields: &serde_json::Map<String, Json>) -> Permissions {
    Permission::ALL
        .iter()
        .filter(|p| {
            fields
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case(&p.field()) && v.as_bool() == Some(true))
        })
        .fold(Permissions::NONE, |acc, p| acc.with(*p))
}

fn create(sh: &Shared, s: Session, object: &str, body: &[u8]) -> Reply {
    let Ok(Json::Object(fields)) = serde_json::from_slice::<Json>(body) else {
        return response::rest_error(
            StatusCode::BAD_REQUEST,
            RestError::new("JSON_PARSER_ERROR", "The request body is not a JSON object"),
        );
    };
    let get = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .and_then(|(_, v)| v.as_str())
    };
    let required = |k: &'static str| {
        let mut e = RestError::new(
            "REQUIRED_FIELD_MISSING",
            format!("Required fields are missing: [{k}]"),
        );
        e.fields = Some(vec![k.to_owned()]);
        response::rest_error(StatusCode::BAD_REQUEST, e)
    };
    let mut org = sh.org_mut();
    let made = match object {
        "PermissionSet" => {
            let Some(name) = get("Name") else {
                return required("Name");
            };
            org.require(s.user, Permission::ManageProfilesPermissionsets)
                .and_then(|()| {
                    org.create_permission_set(name, get("Label"), permissions_in(&fields))
                })
        }
        "PermissionSetAssignment" => {
            let (Some(ps), Some(user)) = (get("PermissionSetId"), get("AssigneeId")) else {
                return required("PermissionSetId");
            };
            org.require(s.user, Permission::AssignPermissionSets)
                .and_then(|()| org.assign(ps, user))
        }
        _ => {
            return response::rest_error(
                StatusCode::BAD_REQUEST,
                RestError::new(
                    "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
                    format!("the certmint emulator cannot create {object} records"),
                ),
            );
        }
    };
    match made {
        Ok(id) => {
            if let Err(e) = org.save() {
                sh.log(|| format!("- - cannot write the state file: {e}"));
            }
            let (mut r, note) = response::ok_json(&SaveResult {
                id,
                success: true,
                errors: Vec::new(),
            });
            *r.status_mut() = StatusCode::CREATED;
            (r, note)
        }
        Err(mut e) => {
            if e.error_code == "DUPLICATE_VALUE" {
                e.fields = Some(Vec::new());
            }
            response::rest_error(StatusCode::BAD_REQUEST, e)
        }
    }
}
