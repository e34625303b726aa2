//! Dispatch: which handler answers a request, by method and path (and, for the token
//! endpoint of an Experience Cloud site, by `Host`), and the one log line per request
//! (method, path, status, note, latency; never a query string, an assertion or a token).
//! The token endpoint's body is read here, within the size and time limits.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::time::Instant;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header;
use hyper::http::request::Parts;
use hyper::{Method, Request, StatusCode};

use super::handlers::grant::Endpoint;
use super::handlers::{data, grant, identity};
use super::response::{self, Reply, Resp};
use super::state::Shared;
use crate::wire::FORM_CONTENT_TYPE;
use crate::wire::identity::{ID_PATH, USERINFO_PATH};
use crate::wire::oauth::{TOKEN_PATH, TokenError, TokenRequest};
use crate::wire::rest::DATA_PATH;

/// Answer one request and log it.
pub(super) async fn handle(sh: &Shared, req: Request<Incoming>) -> Resp {
    let start = Instant::now();
    let (parts, body) = req.into_parts();
    let path = normalize_path(parts.uri.path()).into_owned();
    let (resp, note) = route(sh, &parts, body, &path).await;
    sh.log(|| {
        let mut line = format!(
            "{} {} {}",
            parts.method,
            crate::text::escape(&truncate(&path, 200)),
            resp.status().as_u16()
        );
        if !note.is_empty() {
            let _ = write!(line, " {note}");
        }
        let _ = write!(line, " {:.2}ms", start.elapsed().as_secs_f64() * 1000.0);
        line
    });
    resp
}

fn truncate(s: &str, n: usize) -> Cow<'_, str> {
    match s.char_indices().nth(n) {
        Some((i, _)) => Cow::Owned(format!("{}…", &s[..i])),
        None => Cow::Borrowed(s),
    }
}

/// Collapse runs of `/` (the Salesforce CLI asks for `//services/data/...`).
fn normalize_path(p: &str) -> Cow<'_, str> {
    if !p.contains("//") {
        return Cow::Borrowed(if p.is_empty() { "/" } else { p });
    }
    let mut out = String::with_capacity(p.len());
    for c in p.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

async fn route(sh: &Shared, req: &Parts, body: Incoming, path: &str) -> Reply {
    if let Some(prefix) = path.strip_suffix(TOKEN_PATH) {
        let Some(endpoint) = endpoint_for(sh, req, prefix) else {
            return response::not_found();
        };
        if req.method != Method::POST {
            return response::token_refused(TokenError::MustUsePost, None);
        }
        return match read_body(sh, req, body).await {
            Ok(bytes) => {
                let mut form = if is_form(req) {
                    TokenRequest::from_form(&bytes)
                } else {
                    TokenRequest::default()
                };
                // Salesforce falls back to the query string.
                if let Some(q) = req.uri.query() {
                    form.fill_from(q.as_bytes());
                }
                grant::token(sh, endpoint, &form)
            }
            Err(reply) => reply,
        };
    }
    let get = matches!(req.method, Method::GET | Method::HEAD);
    let get_or_post = get || req.method == Method::POST;
    if path.ends_with(USERINFO_PATH) && get_or_post {
        return identity::userinfo(sh, req);
    }
    if let Some(rest) = path.strip_prefix(ID_PATH)
        && get_or_post
    {
        return identity::identity(sh, req, rest);
    }
    if path == DATA_PATH || path.strip_prefix(DATA_PATH) == Some("/") {
        if !get {
            return response::method_not_allowed();
        }
        return data::versions(sh);
    }
    if let Some(rest) = path
        .strip_prefix(DATA_PATH)
        .and_then(|p| p.strip_prefix('/'))
    {
        if !get {
            return response::method_not_allowed();
        }
        return data::data(sh, req, rest);
    }
    if path == "/" && get {
        return (
            response::respond(
                StatusCode::OK,
                crate::wire::TEXT_CONTENT_TYPE,
                format!(
                    "certmint emulator of the Salesforce OAuth 2.0 JWT bearer token endpoint\nPOST {}{TOKEN_PATH}\n",
                    sh.urls.base
                ),
            ),
            Cow::Borrowed(""),
        );
    }
    response::not_found()
}

fn is_form(req: &Parts) -> bool {
    req.headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .get(..FORM_CONTENT_TYPE.len())
                .is_some_and(|t| t.eq_ignore_ascii_case(FORM_CONTENT_TYPE))
        })
}

/// The whole body, within `max_body` and `body_timeout`; else the answer to give.
async fn read_body(sh: &Shared, req: &Parts, body: Incoming) -> Result<hyper::body::Bytes, Reply> {
    let max = sh.limits.max_body;
    let declared = req
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(response::too_large());
    }
    match tokio::time::timeout(sh.limits.body_timeout, Limited::new(body, max).collect()).await {
        Err(_) => Err(response::body_timed_out()),
        Ok(Err(e))
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(response::too_large())
        }
        Ok(Err(_)) => Err(response::body_unreadable()),
        Ok(Ok(c)) => Ok(c.to_bytes()),
    }
}

/// Which token endpoint a path prefix (before `/services/oauth2/token`) addresses: the
/// org's for an empty prefix (unless the Host is a site's), a site's for its path.
fn endpoint_for(sh: &Shared, req: &Parts, prefix: &str) -> Option<Endpoint> {
    let host = req
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| h.split(':').next().unwrap_or(h).to_ascii_lowercase());
    let mut by_path = None;
    for (i, site) in sh.cfg.sites.iter().enumerate() {
        let rest = site.split_once("://").map_or(site.as_str(), |(_, r)| r);
        let (site_host, site_path) = match rest.find('/') {
            Some(p) => (&rest[..p], &rest[p..]),
            None => (rest, ""),
        };
        if site_path == prefix {
            if host.as_deref() == Some(site_host) {
                return Some(Endpoint::Site(i));
            }
            if !prefix.is_empty() && by_path.is_none() {
                by_path = Some(Endpoint::Site(i));
            }
        }
    }
    if by_path.is_some() {
        return by_path;
    }
    prefix.is_empty().then_some(Endpoint::Org)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(normalize_path("//services//data/"), "/services/data/");
        assert_eq!(normalize_path(""), "/");
        assert_eq!(truncate("abcdef", 3), "abc…");
    }

    #[test]
    fn form_content_type() {
        let parts = |ct: &str| {
            Request::builder()
                .header(header::CONTENT_TYPE, ct)
                .body(())
                .unwrap()
                .into_parts()
                .0
        };
        assert!(is_form(&parts("application/x-www-form-urlencoded")));
        assert!(is_form(&parts(
            " Application/X-WWW-Form-Urlencoded; charset=UTF-8"
        )));
        assert!(!is_form(&parts("application/json")));
    }
}
