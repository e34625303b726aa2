//! The REST API (`/services/data/…`): the versions list (no authentication), a version's
//! resources, and enough SOQL (`Organization`, `User`) and sObject reads (`User`) for the
//! Salesforce CLI's login to complete. A missing or bad token gets 401
//! `INVALID_SESSION_ID`.

use std::borrow::Cow;

use hyper::StatusCode;
use hyper::http::request::Parts;

use super::super::response::{self, Reply};
use super::super::state::{LATEST_API, Shared};
use super::super::tokens::Session;
use super::{query_param, session};
use crate::wire::rest::{
    Attributes, OrganizationRecord, QueryResult, RestError, UserRecord, VersionResources,
};

/// `GET /services/data/`: the versions list, computed at start-up.
pub(in crate::emulator) fn versions(sh: &Shared) -> Reply {
    (
        response::json(StatusCode::OK, sh.versions.clone()),
        Cow::Borrowed(""),
    )
}

/// `GET /services/data/<rest>`.
pub(in crate::emulator) fn data(sh: &Shared, req: &Parts, rest: &str) -> Reply {
    let (version, sub) = rest.split_once('/').unwrap_or((rest, ""));
    let known_version = version == "latest"
        || version
            .strip_prefix('v')
            .and_then(|v| v.strip_suffix(".0"))
            .and_then(|v| v.parse::<u32>().ok())
            .is_some_and(|v| v <= LATEST_API);
    if !known_version {
        return response::not_found();
    }
    let Some(s) = session(sh, req) else {
        return response::invalid_session();
    };
    let v = if version == "latest" {
        format!("v{LATEST_API}.0")
    } else {
        version.to_owned()
    };
    let sub = sub.trim_end_matches('/');
    if sub.is_empty() {
        return response::ok_json(&VersionResources::of(&v));
    }
    if sub == "query" {
        let q = query_param(req, "q")
            .unwrap_or_default()
            .to_ascii_lowercase();
        return soql(sh, s, &v, &q);
    }
    if let Some(id) = sub.strip_prefix("sobjects/User/") {
        return match sh.cfg.user_by_id(id) {
            Some(ix) => response::ok_json(&user_record(sh, ix, &v)),
            None => response::not_found(),
        };
    }
    response::not_found()
}

fn user_record(sh: &Shared, ix: usize, v: &str) -> UserRecord {
    let u = &sh.cfg.users[ix.min(sh.cfg.users.len().saturating_sub(1))];
    UserRecord {
        attributes: Attributes::of("User", v, &u.id),
        id: u.id.clone(),
        username: u.username.clone(),
        name: u.name.clone(),
        email: u.email.clone(),
        is_active: u.active,
    }
}

fn soql(sh: &Shared, s: Session, v: &str, q: &str) -> Reply {
    let from = q
        .split_whitespace()
        .skip_while(|w| *w != "from")
        .nth(1)
        .unwrap_or("");
    match from {
        "organization" => response::ok_json(&QueryResult::of(vec![OrganizationRecord {
            attributes: Attributes::of("Organization", v, &sh.cfg.org_id),
            id: sh.cfg.org_id.clone(),
            name: sh.cfg.org_name.clone(),
            namespace_prefix: None,
            is_sandbox: sh.cfg.sandbox,
            instance_name: "EMU1".into(),
            organization_type: "Developer Edition".into(),
            trial_expiration_date: None,
        }])),
        "user" => response::ok_json(&QueryResult::of(vec![user_record(sh, s.user, v)])),
        other => response::rest_error(
            StatusCode::BAD_REQUEST,
            RestError::new(
                "INVALID_TYPE",
                format!(
                    "sObject type '{other}' is not supported. (the certmint emulator answers only Organization and User queries)"
                ),
            ),
        ),
    }
}
