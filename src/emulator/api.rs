//! The follow-up calls that prove a token works: the identity URL, OpenID Connect
//! UserInfo, and enough of the REST API (versions, a resource list, `Organization` and
//! `User` queries) for the Salesforce CLI's login to complete.

use std::borrow::Cow;
use std::fmt::Write as _;

use hyper::body::Incoming;
use hyper::header;
use hyper::{Request, StatusCode};

use super::http::{Note, Resp, Shared, json, not_found, query_param, respond, urls};
use super::validate::Session;

const INVALID_SESSION: &str =
    r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#;
/// The newest API version served (Spring '26).
const LATEST_API: u32 = 66;
const OLDEST_API: u32 = 31;

/// The bearer token of a request: `Authorization: Bearer|OAuth <token>`, or the
/// `oauth_token` query parameter.
fn bearer(req: &Request<Incoming>) -> Option<String> {
    if let Some(v) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let v = v.trim();
        for scheme in ["Bearer ", "OAuth "] {
            if v.len() > scheme.len() && v[..scheme.len()].eq_ignore_ascii_case(scheme) {
                return Some(v[scheme.len()..].trim().to_owned());
            }
        }
        return None;
    }
    query_param(req.uri().query(), "oauth_token")
}

fn session(sh: &Shared, req: &Request<Incoming>) -> Option<Session> {
    let token = bearer(req)?;
    sh.tokens.check(&sh.cfg, &token, sh.now())
}

fn bad_oauth_token() -> (Resp, Note) {
    (
        respond(
            StatusCode::FORBIDDEN,
            "text/plain;charset=UTF-8",
            "Bad_OAuth_Token",
        ),
        Cow::Borrowed("Bad_OAuth_Token"),
    )
}

pub(super) fn identity(sh: &Shared, req: &Request<Incoming>, rest: &str) -> (Resp, Note) {
    let Some(s) = session(sh, req) else {
        return bad_oauth_token();
    };
    let mut it = rest.trim_end_matches('/').split('/');
    let (Some(org), Some(uid), None) = (it.next(), it.next(), it.next()) else {
        return bad_id();
    };
    let org_ok = org == sh.cfg.org_id || org == sh.cfg.org_id15();
    let Some(user_ix) = sh.cfg.user_by_id(uid).filter(|_| org_ok) else {
        return bad_id();
    };
    let _ = s;
    let Some(u) = sh.cfg.users.get(user_ix) else {
        return bad_id();
    };
    let (instance, id) = urls(sh, user_ix);
    let v = format!("{LATEST_API}.0");
    let (first, last) = split_name(&u.name);
    let body = serde_json::json!({
        "id": id,
        "asserted_user": true,
        "user_id": u.id,
        "organization_id": sh.cfg.org_id,
        "username": u.username,
        "nick_name": u.name,
        "display_name": u.name,
        "email": u.email,
        "email_verified": true,
        "first_name": first,
        "last_name": last,
        "timezone": "GMT",
        "photos": {},
        "status": {"created_date": null, "body": null},
        "urls": {
            "enterprise": format!("{instance}/services/Soap/c/{v}/{}", sh.cfg.org_id),
            "partner": format!("{instance}/services/Soap/u/{v}/{}", sh.cfg.org_id),
            "rest": format!("{instance}/services/data/v{v}/"),
            "sobjects": format!("{instance}/services/data/v{v}/sobjects/"),
            "query": format!("{instance}/services/data/v{v}/query/"),
            "profile": format!("{instance}/{}", u.id),
            "custom_domain": sh.cfg.my_domain,
        },
        "active": u.active,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": 0,
        "is_app_installed": true,
    });
    (json(StatusCode::OK, body.to_string()), Cow::Borrowed(""))
}

fn bad_id() -> (Resp, Note) {
    (
        respond(StatusCode::FORBIDDEN, "text/plain;charset=UTF-8", "Bad_Id"),
        Cow::Borrowed("Bad_Id"),
    )
}

fn split_name(name: &str) -> (String, String) {
    match name.rsplit_once(' ') {
        Some((f, l)) => (f.to_owned(), l.to_owned()),
        None => (String::new(), name.to_owned()),
    }
}

pub(super) fn userinfo(sh: &Shared, req: &Request<Incoming>) -> (Resp, Note) {
    let Some(s) = session(sh, req) else {
        return bad_oauth_token();
    };
    let Some(u) = sh.cfg.users.get(s.user) else {
        return bad_oauth_token();
    };
    let (_, id) = urls(sh, s.user);
    let (first, last) = split_name(&u.name);
    let body = serde_json::json!({
        "sub": id,
        "user_id": u.id,
        "organization_id": sh.cfg.org_id,
        "preferred_username": u.username,
        "nickname": u.name,
        "name": u.name,
        "email": u.email,
        "email_verified": true,
        "given_name": first,
        "family_name": last,
        "zoneinfo": "GMT",
        "photos": {},
        "profile": format!("{}/{}", sh.base_url, u.id),
        "is_salesforce_integration_user": false,
        "active": u.active,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": 0,
        "updated_at": "1970-01-01T00:00:00Z",
        "is_app_installed": true,
    });
    (json(StatusCode::OK, body.to_string()), Cow::Borrowed(""))
}

pub(super) fn versions_json() -> String {
    let mut out = String::from("[");
    for v in OLDEST_API..=LATEST_API {
        let k = v - 20;
        let season = ["Winter", "Spring", "Summer"][(k % 3) as usize];
        let year = 11 + k / 3;
        if v > OLDEST_API {
            out.push(',');
        }
        let _ = write!(
            out,
            "{{\"label\":\"{season} '{year:02}\",\"url\":\"/services/data/v{v}.0\",\"version\":\"{v}.0\"}}"
        );
    }
    out.push(']');
    out
}

pub(super) fn data(sh: &Shared, req: &Request<Incoming>, rest: &str) -> (Resp, Note) {
    let (version, sub) = rest.split_once('/').unwrap_or((rest, ""));
    let known_version = version == "latest"
        || version
            .strip_prefix('v')
            .and_then(|v| v.strip_suffix(".0"))
            .and_then(|v| v.parse::<u32>().ok())
            .is_some_and(|v| (OLDEST_API..=LATEST_API).contains(&v) || v < OLDEST_API);
    if !known_version {
        return not_found();
    }
    let Some(s) = session(sh, req) else {
        return (
            json(StatusCode::UNAUTHORIZED, INVALID_SESSION),
            Cow::Borrowed("INVALID_SESSION_ID"),
        );
    };
    let v = if version == "latest" {
        format!("v{LATEST_API}.0")
    } else {
        version.to_owned()
    };
    let sub = sub.trim_end_matches('/');
    if sub.is_empty() {
        let body = serde_json::json!({
            "sobjects": format!("/services/data/{v}/sobjects"),
            "query": format!("/services/data/{v}/query"),
            "limits": format!("/services/data/{v}/limits"),
        });
        return (json(StatusCode::OK, body.to_string()), Cow::Borrowed(""));
    }
    if sub == "query" {
        let q = query_param(req.uri().query(), "q")
            .unwrap_or_default()
            .to_ascii_lowercase();
        return soql(sh, s, &v, &q);
    }
    if let Some(id) = sub.strip_prefix("sobjects/User/") {
        return match sh.cfg.user_by_id(id) {
            Some(ix) => (
                json(StatusCode::OK, user_record(sh, ix, &v).to_string()),
                Cow::Borrowed(""),
            ),
            None => not_found(),
        };
    }
    not_found()
}

fn user_record(sh: &Shared, ix: usize, v: &str) -> serde_json::Value {
    let u = &sh.cfg.users[ix.min(sh.cfg.users.len().saturating_sub(1))];
    serde_json::json!({
        "attributes": {"type": "User", "url": format!("/services/data/{v}/sobjects/User/{}", u.id)},
        "Id": u.id,
        "Username": u.username,
        "Name": u.name,
        "Email": u.email,
        "IsActive": u.active,
    })
}

fn soql(sh: &Shared, s: Session, v: &str, q: &str) -> (Resp, Note) {
    let from = q
        .split_whitespace()
        .skip_while(|w| *w != "from")
        .nth(1)
        .unwrap_or("");
    let record = match from {
        "organization" => serde_json::json!({
            "attributes": {"type": "Organization", "url": format!("/services/data/{v}/sobjects/Organization/{}", sh.cfg.org_id)},
            "Id": sh.cfg.org_id,
            "Name": sh.cfg.org_name,
            "NamespacePrefix": null,
            "IsSandbox": sh.cfg.sandbox,
            "InstanceName": "EMU1",
            "OrganizationType": "Developer Edition",
            "TrialExpirationDate": null,
        }),
        "user" => user_record(sh, s.user, v),
        other => {
            let body = serde_json::json!([{
                "message": format!("sObject type '{other}' is not supported. (the certmint emulator answers only Organization and User queries)"),
                "errorCode": "INVALID_TYPE",
            }]);
            return (
                json(StatusCode::BAD_REQUEST, body.to_string()),
                Cow::Borrowed("INVALID_TYPE"),
            );
        }
    };
    let body = serde_json::json!({"totalSize": 1, "done": true, "records": [record]});
    (json(StatusCode::OK, body.to_string()), Cow::Borrowed(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        let v = versions_json();
        assert!(
            v.contains(r#"{"label":"Winter '15","url":"/services/data/v32.0","version":"32.0"}"#)
        );
        assert!(v.contains(r#""label":"Spring '26","url":"/services/data/v66.0""#));
        serde_json::from_str::<serde_json::Value>(&v).unwrap();
    }
}
