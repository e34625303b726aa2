//! The Metadata API's REST deploy: `POST …/metadata/deployRequest` (multipart: the JSON
//! `{"deployOptions":…}` in a part named `json` or `entity_content`, the zip in `file`)
//! answers 201 with the deploy's id and its Pending state; `GET …/deployRequest/<id>`
//! (`?includeDetails=true` for the per-component messages) answers its state as the clock
//! moves it. The deploy itself is `org::deploy`. Only users who may deploy (the System
//! Administrator profile, or a permission set granting Modify All Data or Modify Metadata)
//! may.

use std::borrow::Cow;

use hyper::http::request::Parts;
use hyper::{Method, StatusCode};

use super::super::org::deploy::{self, Request};
use super::super::response::{self, Reply};
use super::super::state::Shared;
use super::super::tokens::Session;
use super::{Payload, query_param};
use crate::wire::metadata::{
    DeployRequestBody, DeployRequestResponse, ENTITY_CONTENT_PART, FILE_PART, JSON_PART, ZipLimits,
};
use crate::wire::rest::RestError;

/// `…/metadata/deployRequest<tail>`.
pub(in crate::emulator) fn deploy_request(
    sh: &Shared,
    req: &Parts,
    s: Session,
    major: u32,
    tail: &str,
    body: &Payload,
) -> Reply {
    // Absolute, as in the status example of "Deploy Metadata with Apex Testing Using REST".
    let base = format!(
        "{}/services/data/v{major}.0/metadata/deployRequest",
        sh.urls.base
    );
    match (tail.trim_end_matches('/'), &req.method) {
        ("", &Method::POST) => post(sh, s, &base, body),
        (id, &Method::GET) if id.starts_with('/') && id.len() > 1 => {
            let id = &id[1..];
            let details = query_param(req, "includeDetails").as_deref() == Some("true");
            let org = sh.org();
            let Some(rec) = org
                .deploys
                .iter()
                .find(|d| d.id == id || (id.len() == 15 && d.id.starts_with(id)))
            else {
                return response::not_found();
            };
            response::ok_json(&DeployRequestResponse {
                id: rec.id.clone(),
                url: Some(format!("{base}/{}", rec.id)),
                deploy_result: rec.at(sh.now_ms(), details),
                deploy_options: Some(rec.options.clone()),
                validated_deploy_request_id: None,
            })
        }
        _ => response::method_not_allowed(),
    }
}

fn bad_request(code: &'static str, message: &'static str) -> Reply {
    response::rest_error(StatusCode::BAD_REQUEST, RestError::new(code, message))
}

fn post(sh: &Shared, s: Session, base: &str, body: &Payload) -> Reply {
    let part = |name: &str| {
        body.form
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.clone())
    };
    if body.form.is_empty() {
        return bad_request(
            "INVALID_MULTIPART_REQUEST",
            "a deploy request is multipart/form-data with a JSON part (json or entity_content) and the zip (file)",
        );
    }
    let json = part(JSON_PART).or_else(|| part(ENTITY_CONTENT_PART));
    let options = match json {
        Some(j) => match serde_json::from_slice::<DeployRequestBody>(&j) {
            Ok(b) => b.deploy_options,
            Err(_) => {
                return bad_request(
                    "JSON_PARSER_ERROR",
                    "the JSON part is not {\"deployOptions\":{...}}",
                );
            }
        },
        None => {
            return bad_request(
                "INVALID_MULTIPART_REQUEST",
                "no JSON part (json or entity_content)",
            );
        }
    };
    let Some(zip) = part(FILE_PART) else {
        return bad_request("INVALID_MULTIPART_REQUEST", "no zip part (file)");
    };
    let mut org = sh.org_mut();
    let may = org
        .cfg
        .users
        .get(s.user)
        .is_some_and(|u| org.cfg.may_deploy(u));
    if !may {
        return response::rest_error(
            StatusCode::FORBIDDEN,
            RestError::new(
                "INSUFFICIENT_ACCESS",
                "the user needs Modify Metadata Through Metadata API Functions or Modify All Data",
            ),
        );
    }
    let limits = ZipLimits::default();
    let rec = match deploy::start(
        &mut org,
        Request {
            zip: &zip,
            options,
            user: s.user,
            now_ms: sh.now_ms(),
            limits: &limits,
        },
    ) {
        Ok(r) => r,
        Err(_) => return response::server_error("the deploy could not be recorded"),
    };
    let (mut r, _) = response::ok_json(&DeployRequestResponse {
        id: rec.id.clone(),
        url: Some(format!("{base}/{}", rec.id)),
        deploy_result: rec.at(rec.created_ms, false),
        deploy_options: Some(rec.options.clone()),
        validated_deploy_request_id: None,
    });
    *r.status_mut() = StatusCode::CREATED;
    let note = format!(
        "deploy {} {:?} ({} failures)",
        rec.id, rec.result.status, rec.result.number_component_errors
    );
    (r, Cow::Owned(note))
}
