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
use super::handlers::{self, Payload, data, grant, identity, soap};
use super::response::{self, Reply, Resp};
use super::server::Listener;
use super::state::Shared;
use crate::wire::FORM_CONTENT_TYPE;
use crate::wire::identity::{ID_PATH, USERINFO_PATH};
use crate::wire::metadata::soap::SOAP_PATH_PREFIX;
use crate::wire::oauth::{TOKEN_PATH, TokenError, TokenRequest};
use crate::wire::rest::{DATA_PATH, FRONTDOOR_PATH, REVOKE_PATH, SINGLEACCESS_PATH};

/// Answer one request and log it.
pub(super) async fn handle(sh: &Shared, req: Request<Incoming>, which: Listener) -> Resp {
    let start = Instant::now();
    let (parts, body) = req.into_parts();
    let path = normalize_path(parts.uri.path()).into_owned();
    let (mut resp, note) = match which {
        Listener::Org => route(sh, &parts, body, &path).await,
        Listener::Login => login_route(sh, &parts, body, &path).await,
    };
    // The emulator's clock (with its offset), not the system's.
    if let Ok(v) = hyper::header::HeaderValue::from_str(&http_date(sh.now())) {
        resp.headers_mut().insert(header::DATE, v);
    }
    sh.log(|| {
        let mut line = format!(
            "{}{} {} {}",
            if which == Listener::Login {
                "login "
            } else {
                ""
            },
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

/// An HTTP date (RFC 9110 IMF-fixdate) of `secs` since the epoch.
fn http_date(secs: i64) -> String {
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_else(|| "Thu, 01 Jan 1970 00:00:00 GMT".into())
}

/// The origin the `Host` header names, with the scheme of the emulator's base URL.
fn host_origin(sh: &Shared, req: &Parts) -> Option<String> {
    let host = req.headers.get(header::HOST)?.to_str().ok()?.trim();
    if host.is_empty() || host.contains(['/', ' ', '@']) {
        return None;
    }
    let scheme = sh.urls.base.split("://").next().unwrap_or("http");
    Some(format!("{scheme}://{host}"))
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

/// The login host: its token endpoint, nothing else (login.salesforce.com serves no org's
/// API).
async fn login_route(sh: &Shared, req: &Parts, body: Incoming, path: &str) -> Reply {
    if path != TOKEN_PATH {
        return response::not_found();
    }
    if req.method != Method::POST {
        return response::token_refused(TokenError::MustUsePost, None);
    }
    match read_body(sh, req, body, sh.limits.max_body).await {
        Ok(bytes) => grant::token(
            sh,
            Endpoint::LoginHost,
            &token_request(req, &bytes),
            host_origin(sh, req).as_deref(),
        ),
        Err(reply) => reply,
    }
}

/// The parameters of a token request: the form body, falling back to the query string
/// (as Salesforce does).
fn token_request<'a>(req: &'a Parts, bytes: &'a [u8]) -> TokenRequest<'a> {
    let mut form = if is_form(req) {
        TokenRequest::from_form(bytes)
    } else {
        TokenRequest::default()
    };
    if let Some(q) = req.uri.query() {
        form.fill_from(q.as_bytes());
    }
    form
}

async fn route(sh: &Shared, req: &Parts, body: Incoming, path: &str) -> Reply {
    if let Some(v) = path.strip_prefix(SOAP_PATH_PREFIX) {
        // `NN.0`, or the `metadataServerUrl` form a SOAP login hands out, `NN.0/<org id>`.
        let version = v.split('/').next().unwrap_or(v);
        if data::version_of(&format!("v{version}")).is_none() {
            return response::not_found();
        }
        if req.method != Method::POST {
            return response::method_not_allowed();
        }
        return match read_body(sh, req, body, sh.limits.max_body).await {
            Ok(bytes) => soap::call(sh, req, &bytes),
            Err(reply) => reply,
        };
    }
    if let Some(prefix) = path.strip_suffix(TOKEN_PATH) {
        let Some(endpoint) = endpoint_for(sh, req, prefix) else {
            return response::not_found();
        };
        if req.method != Method::POST {
            return response::token_refused(TokenError::MustUsePost, None);
        }
        return match read_body(sh, req, body, sh.limits.max_body).await {
            Ok(bytes) => grant::token(
                sh,
                endpoint,
                &token_request(req, &bytes),
                host_origin(sh, req).as_deref(),
            ),
            Err(reply) => reply,
        };
    }
    let get = matches!(req.method, Method::GET | Method::HEAD);
    let get_or_post = get || req.method == Method::POST;
    if path.ends_with(USERINFO_PATH) && get_or_post {
        return identity::userinfo(sh, req);
    }
    if path.ends_with(REVOKE_PATH) && get_or_post {
        return match read_body(sh, req, body, sh.limits.max_body).await {
            Ok(bytes) => identity::revoke(sh, req, &bytes),
            Err(reply) => reply,
        };
    }
    if path.ends_with(SINGLEACCESS_PATH) && get_or_post {
        return identity::singleaccess(sh, req);
    }
    if path == FRONTDOOR_PATH && get {
        return identity::frontdoor(sh);
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
        let mut payload = Payload::default();
        // Held until the deploy's answer is made: its bytes live until then.
        let mut _upload = None;
        if !get {
            let deploy = rest
                .trim_end_matches('/')
                .ends_with("/metadata/deployRequest");
            let max = if deploy {
                // Only a valid session may have a deploy's megabytes kept, and only a few
                // at once; anyone else's body is read and dropped as it arrives (so the
                // client sees the 401 rather than a reset connection).
                if handlers::session(sh, req).is_none() {
                    return match drain_body(sh, req, body, sh.limits.max_deploy_body).await {
                        Ok(()) => response::invalid_session(),
                        Err(reply) => reply,
                    };
                }
                let wait = sh.deploy_uploads.acquire();
                match tokio::time::timeout(sh.limits.body_timeout, wait).await {
                    Ok(Ok(permit)) => _upload = Some(permit),
                    _ => return response::unavailable(),
                }
                sh.limits.max_deploy_body
            } else {
                sh.limits.max_body
            };
            payload.bytes = match read_body(sh, req, body, max).await {
                Ok(b) => b,
                Err(reply) => return reply,
            };
            if let Some(boundary) = multipart_boundary(req) {
                payload.form = match multipart(payload.bytes.clone(), boundary).await {
                    Some(f) => f,
                    None => {
                        return response::rest_error(
                            StatusCode::BAD_REQUEST,
                            crate::wire::rest::RestError::new(
                                "INVALID_MULTIPART_REQUEST",
                                "the multipart/form-data body could not be read",
                            ),
                        );
                    }
                };
            }
        }
        return data::data(sh, req, rest, &payload);
    }
    if path == "/" && get {
        return (
            response::respond(
                StatusCode::OK,
                crate::wire::TEXT_CONTENT_TYPE,
                format!(
                    "certmint emulator of a Salesforce org (OAuth 2.0 JWT bearer token endpoint, REST API, Metadata API deploys and reads)\nPOST {}{TOKEN_PATH}\n",
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

/// The boundary of a multipart/form-data body.
fn multipart_boundary(req: &Parts) -> Option<String> {
    let ct = req.headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    multer::parse_boundary(ct).ok()
}

/// The parts (name, bytes) of a multipart body already read; `None` when it is not valid
/// multipart. Parts beyond 16 are refused (a deploy has two).
async fn multipart(
    body: hyper::body::Bytes,
    boundary: String,
) -> Option<Vec<(String, hyper::body::Bytes)>> {
    let stream = http_body_util::BodyDataStream::new(http_body_util::Full::new(body));
    let mut m = multer::Multipart::new(stream, boundary);
    let mut out = Vec::new();
    while let Some(field) = m.next_field().await.ok()? {
        if out.len() >= 16 {
            return None;
        }
        let name = field.name().unwrap_or("").to_owned();
        let bytes = field.bytes().await.ok()?;
        out.push((name, bytes));
    }
    Some(out)
}

/// The whole body, within `max` bytes and `body_timeout`; else the answer to give.
async fn read_body(
    sh: &Shared,
    req: &Parts,
    body: Incoming,
    max: usize,
) -> Result<hyper::body::Bytes, Reply> {
    if declared_length(req).is_some_and(|n| n > max as u64) {
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

/// Read the body within `max` bytes and `body_timeout`, keeping none of it.
async fn drain_body(sh: &Shared, req: &Parts, body: Incoming, max: usize) -> Result<(), Reply> {
    if declared_length(req).is_some_and(|n| n > max as u64) {
        return Err(response::too_large());
    }
    let drain = async {
        let mut body = body;
        let mut seen = 0usize;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|_| response::body_unreadable())?;
            if let Some(data) = frame.data_ref() {
                seen = seen.saturating_add(data.len());
                if seen > max {
                    return Err(response::too_large());
                }
            }
        }
        Ok(())
    };
    match tokio::time::timeout(sh.limits.body_timeout, drain).await {
        Ok(r) => r,
        Err(_) => Err(response::body_timed_out()),
    }
}

/// The `Content-Length` a request declares, when it is a number.
fn declared_length(req: &Parts) -> Option<u64> {
    req.headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
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
