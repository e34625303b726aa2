//! The HTTP side of the emulator: the accept loop, limits and timeouts, TLS, routing and
//! the responses. One line per request goes to stderr when logging is on, never with a
//! query string, an assertion or a token.

use std::borrow::Cow;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{Semaphore, watch};

use super::TlsIdentity;
use super::config::{Config, UrlStyle};
use super::validate::{Endpoint, Failure, Grant, Session, TokenRequest, Tokens, validate};
use crate::token_endpoint::{TOKEN_PATH, USERINFO_PATH};
use crate::{Error, Result};

/// Size limits and timeouts that keep the emulator bounded under hostile or slow clients.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest request body (bytes); larger gets 413. Default 64 KiB.
    pub max_body: usize,
    /// Largest request head, request line plus headers (bytes); larger gets 431.
    /// Default 16 KiB.
    pub max_header: usize,
    /// Time a client has to send a complete request head, and to send the next one on
    /// an idle keep-alive connection. Default 10 s.
    pub header_timeout: Duration,
    /// Time a client has to send the request body. Default 10 s.
    pub body_timeout: Duration,
    /// Time a client has to complete the TLS handshake. Default 10 s.
    pub tls_handshake_timeout: Duration,
    /// Connections served at once; more wait in the listen backlog. Default 1024.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: 64 * 1024,
            max_header: 16 * 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            tls_handshake_timeout: Duration::from_secs(10),
            max_connections: 1024,
        }
    }
}

const JSON: &str = "application/json;charset=UTF-8";
const NO_CACHE: &str = "no-cache,must-revalidate,max-age=0,no-store,private";
const INVALID_SESSION: &str =
    r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#;
const LATEST_API: u32 = 66;
const OLDEST_API: u32 = 31;

/// Everything a request handler needs.
pub(crate) struct Shared {
    cfg: Config,
    base_url: String,
    tokens: Tokens,
    limits: Limits,
    log: Option<Logger>,
    versions: Bytes,
}

impl Shared {
    pub(crate) fn new(cfg: Config, base_url: String, limits: Limits, log: bool) -> Result<Self> {
        Ok(Shared {
            versions: Bytes::from(versions_json(&base_url)),
            cfg,
            base_url,
            tokens: Tokens::new()?,
            limits,
            log: log.then(Logger::new),
        })
    }

    fn log(&self, line: impl FnOnce() -> String) {
        if let Some(l) = &self.log {
            l.line(line());
        }
    }
}

/// Writes log lines on a thread of its own so a slow or blocked stderr never stalls the
/// server; lines beyond a bounded backlog are dropped.
struct Logger {
    tx: std::sync::mpsc::SyncSender<String>,
}

impl Logger {
    fn new() -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel::<String>(4096);
        let _ = std::thread::Builder::new()
            .name("certmint-emulator-log".into())
            .spawn(move || {
                use std::io::Write;
                let stderr = std::io::stderr();
                for line in rx {
                    let _ = writeln!(stderr.lock(), "{line}");
                }
            });
        Logger { tx }
    }

    fn line(&self, s: String) {
        let _ = self.tx.try_send(s);
    }
}

pub(crate) fn tls_acceptor(id: &TlsIdentity) -> Result<tokio_rustls::TlsAcceptor> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    if id.cert_chain.is_empty() {
        return Err(Error::invalid("TLS certificate", "no certificate given"));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs: Vec<CertificateDer<'static>> = id
        .cert_chain
        .iter()
        .map(|c| CertificateDer::from(c.clone()))
        .collect();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(id.key_pkcs8.expose().to_vec()));
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(Error::crypto)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| Error::invalid("TLS certificate and key", e))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(cfg)))
}

/// Accept and serve until `stop` turns true, then give open connections two seconds.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let max = shared.limits.max_connections.clamp(1, 1 << 20);
    let sem = Arc::new(Semaphore::new(max));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(shared.limits.header_timeout)
        .max_header_size(shared.limits.max_header.max(1024))
        .max_buf_size(shared.limits.max_header.max(8192))
        .keep_alive(true);
    loop {
        if *stop.borrow() {
            break;
        }
        let permit = tokio::select! {
            _ = stop.changed() => break,
            p = sem.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (tcp, _peer) = tokio::select! {
            _ = stop.changed() => break,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    shared.log(|| format!("accept failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let shared = shared.clone();
        let builder = builder.clone();
        let tls = tls.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let _permit = permit;
            match tls {
                Some(acceptor) => {
                    let hs = shared.limits.tls_handshake_timeout;
                    match tokio::time::timeout(hs, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => {
                            serve_conn(&builder, TokioIo::new(stream), shared, stop).await
                        }
                        Ok(Err(e)) => shared.log(|| format!("- - TLS handshake failed: {e}")),
                        Err(_) => shared.log(|| "- - TLS handshake timed out".into()),
                    }
                }
                None => serve_conn(&builder, TokioIo::new(tcp), shared, stop).await,
            }
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(
        Duration::from_secs(3),
        sem.acquire_many(u32::try_from(max).unwrap_or(u32::MAX)),
    )
    .await;
}

async fn serve_conn<I>(
    builder: &http1::Builder,
    io: TokioIo<I>,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let sh = shared.clone();
    let svc = service_fn(move |req| {
        let sh = sh.clone();
        async move { Ok::<_, Infallible>(handle(&sh, req).await) }
    });
    let conn = builder.serve_connection(io, svc);
    tokio::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => r,
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            tokio::time::timeout(Duration::from_secs(2), conn.as_mut()).await.unwrap_or(Ok(()))
        }
    };
    if let Err(e) = result {
        // hyper has already answered parse errors (400, 431) and closed the connection.
        let what = if e.is_parse_too_large() {
            "431 request head too large"
        } else if e.is_parse() {
            "400 malformed request"
        } else if e.is_timeout() {
            "408 request head timed out"
        } else if e.is_incomplete_message() {
            "- connection closed mid-request"
        } else {
            "- connection error"
        };
        shared.log(|| format!("- - {what}"));
    }
}

type Resp = Response<Full<Bytes>>;

fn respond(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Resp {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_CACHE));
    r
}

fn json(status: StatusCode, body: impl Into<Bytes>) -> Resp {
    respond(status, JSON, body)
}

fn closing(mut r: Resp) -> Resp {
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

fn system_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Shared {
    /// The emulator's clock: the system's plus the configured offset.
    fn now(&self) -> i64 {
        system_now().saturating_add(self.cfg.clock_offset)
    }
}

async fn handle(sh: &Shared, req: Request<Incoming>) -> Resp {
    let start = Instant::now();
    let method = req.method().clone();
    let path = normalize_path(req.uri().path()).into_owned();
    let (resp, note) = route(sh, req, &path).await;
    sh.log(|| {
        let mut line = format!(
            "{method} {} {}",
            crate::x509::escape(&truncate(&path, 200)),
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

type Note = Cow<'static, str>;

async fn route(sh: &Shared, req: Request<Incoming>, path: &str) -> (Resp, Note) {
    if let Some(prefix) = path.strip_suffix(TOKEN_PATH) {
        let Some(endpoint) = endpoint_for(sh, &req, prefix) else {
            return not_found();
        };
        return token(sh, req, endpoint).await;
    }
    let get = matches!(*req.method(), Method::GET | Method::HEAD);
    let get_or_post = get || req.method() == Method::POST;
    if path.ends_with(USERINFO_PATH) && get_or_post {
        return userinfo(sh, &req);
    }
    if let Some(rest) = path.strip_prefix("/id/")
        && get_or_post
    {
        return identity(sh, &req, rest);
    }
    if path == "/services/data" || path == "/services/data/" {
        if !get {
            return method_not_allowed();
        }
        return (json(StatusCode::OK, sh.versions.clone()), Cow::Borrowed(""));
    }
    if let Some(rest) = path.strip_prefix("/services/data/") {
        if !get {
            return method_not_allowed();
        }
        return data(sh, &req, rest);
    }
    if path == "/" && get {
        return (
            respond(
                StatusCode::OK,
                "text/plain;charset=UTF-8",
                format!(
                    "certmint emulator of the Salesforce OAuth 2.0 JWT bearer token endpoint\nPOST {}{TOKEN_PATH}\n",
                    sh.base_url
                ),
            ),
            Cow::Borrowed(""),
        );
    }
    not_found()
}

fn not_found() -> (Resp, Note) {
    (
        json(
            StatusCode::NOT_FOUND,
            r#"[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]"#,
        ),
        Cow::Borrowed("NOT_FOUND"),
    )
}

fn method_not_allowed() -> (Resp, Note) {
    (
        json(
            StatusCode::METHOD_NOT_ALLOWED,
            r#"[{"errorCode":"METHOD_NOT_ALLOWED","message":"HTTP Method not allowed. Allowed are GET,HEAD"}]"#,
        ),
        Cow::Borrowed("METHOD_NOT_ALLOWED"),
    )
}

/// Which token endpoint a path prefix (before `/services/oauth2/token`) addresses: the
/// org's for an empty prefix (unless the Host is a site's), a site's for its path.
fn endpoint_for(sh: &Shared, req: &Request<Incoming>, prefix: &str) -> Option<Endpoint> {
    let host = req
        .headers()
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

async fn token(sh: &Shared, req: Request<Incoming>, endpoint: Endpoint) -> (Resp, Note) {
    if req.method() != Method::POST {
        return failure(Failure::MustUsePost);
    }
    let max = sh.limits.max_body;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return too_large();
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let (parts, body) = req.into_parts();
    let body = match tokio::time::timeout(sh.limits.body_timeout, Limited::new(body, max).collect())
        .await
    {
        Err(_) => {
            return (
                closing(json(
                    StatusCode::REQUEST_TIMEOUT,
                    r#"[{"errorCode":"REQUEST_TIMEOUT","message":"the request body was not received in time"}]"#,
                )),
                Cow::Borrowed("body timed out"),
            );
        }
        Ok(Err(e)) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                return too_large();
            }
            return (
                closing(json(
                    StatusCode::BAD_REQUEST,
                    r#"[{"errorCode":"BAD_REQUEST","message":"the request body could not be read"}]"#,
                )),
                Cow::Borrowed("body unreadable"),
            );
        }
        Ok(Ok(c)) => c.to_bytes(),
    };
    let mut grant_type = None;
    let mut assertion = None;
    if is_form {
        find_params(&body, &mut grant_type, &mut assertion);
    }
    if let Some(q) = parts.uri.query() {
        find_params(q.as_bytes(), &mut grant_type, &mut assertion);
    }
    let req = TokenRequest {
        grant_type: grant_type.as_deref(),
        assertion: assertion.as_deref(),
    };
    let now = sh.now();
    match validate(&sh.cfg, endpoint, &req, &sh.base_url, now) {
        Ok(grant) => grant_response(sh, grant, now),
        Err(f) => failure(f),
    }
}

fn too_large() -> (Resp, Note) {
    (
        closing(json(
            StatusCode::PAYLOAD_TOO_LARGE,
            r#"[{"errorCode":"PAYLOAD_TOO_LARGE","message":"the request body is too large"}]"#,
        )),
        Cow::Borrowed("body too large"),
    )
}

fn failure(f: Failure) -> (Resp, Note) {
    let mut note = format!("{} \"{}\"", f.error(), f.description());
    if let Failure::InvalidAssertion(why) = f {
        let _ = write!(note, " ({why})");
    }
    (json(StatusCode::BAD_REQUEST, f.body()), Cow::Owned(note))
}

fn grant_response(sh: &Shared, grant: Grant, now: i64) -> (Resp, Note) {
    let token = match sh.tokens.issue(sh.cfg.org_id15(), grant, now) {
        Ok(t) => t,
        Err(_) => {
            return (
                json(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    r#"{"error":"server_error","error_description":"random number generator failed"}"#,
                ),
                Cow::Borrowed("rng failure"),
            );
        }
    };
    let (instance, id) = urls(sh, grant.user);
    let scope = &sh
        .cfg
        .apps
        .get(grant.app)
        .map_or("api", |a| a.scopes.as_str());
    let mut body = String::with_capacity(400);
    body.push_str("{\"access_token\":");
    push_json_str(&mut body, &token);
    body.push_str(",\"scope\":");
    push_json_str(&mut body, scope);
    body.push_str(",\"instance_url\":");
    push_json_str(&mut body, &instance);
    body.push_str(",\"id\":");
    push_json_str(&mut body, &id);
    body.push_str(",\"token_type\":\"Bearer\"}");
    (json(StatusCode::OK, body), Cow::Borrowed(""))
}

fn urls(sh: &Shared, user: usize) -> (String, String) {
    let uid = sh.cfg.users.get(user).map_or("", |u| u.id.as_str());
    match sh.cfg.urls {
        UrlStyle::Emulator => (
            sh.base_url.clone(),
            format!("{}/id/{}/{uid}", sh.base_url, sh.cfg.org_id),
        ),
        UrlStyle::Salesforce => (
            sh.cfg
                .my_domain
                .clone()
                .unwrap_or_else(|| sh.base_url.clone()),
            format!("{}/id/{}/{uid}", sh.cfg.login_host(), sh.cfg.org_id),
        ),
    }
}

fn push_json_str(out: &mut String, s: &str) {
    // Serialising a &str cannot fail.
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()));
}

/// The first `grant_type` and `assertion` in a form-encoded string, unless already found.
fn find_params(data: &[u8], grant_type: &mut Option<String>, assertion: &mut Option<String>) {
    for pair in data.split(|&b| b == b'&') {
        let (k, v) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &b""[..]),
        };
        let k = form_decode(k);
        if k == "grant_type" && grant_type.is_none() {
            *grant_type = Some(form_decode(v).into_owned());
        } else if k == "assertion" && assertion.is_none() {
            *assertion = Some(form_decode(v).into_owned());
        }
    }
}

fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    let q = query?;
    q.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (form_decode(k.as_bytes()) == name).then(|| form_decode(v.as_bytes()).into_owned())
    })
}

/// Decode `application/x-www-form-urlencoded` (`+` is a space, `%XX` a byte); invalid
/// UTF-8 is replaced.
fn form_decode(b: &[u8]) -> Cow<'_, str> {
    if !b.iter().any(|&c| c == b'%' || c == b'+') {
        return String::from_utf8_lossy(b);
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex_val(b[i + 1]), hex_val(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

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

fn identity(sh: &Shared, req: &Request<Incoming>, rest: &str) -> (Resp, Note) {
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

fn userinfo(sh: &Shared, req: &Request<Incoming>) -> (Resp, Note) {
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

fn versions_json(_base: &str) -> String {
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

fn data(sh: &Shared, req: &Request<Incoming>, rest: &str) -> (Resp, Note) {
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
    fn form_decoding() {
        assert_eq!(form_decode(b"a+b%3Dc"), "a b=c");
        assert_eq!(form_decode(b"%"), "%");
        assert_eq!(form_decode(b"%4"), "%4");
        assert_eq!(form_decode(b"%zz"), "%zz");
        assert_eq!(form_decode(b"%41"), "A");
        let (mut g, mut a) = (None, None);
        find_params(b"grant_type=x&assertion=a.b.c&grant_type=y", &mut g, &mut a);
        assert_eq!((g.as_deref(), a.as_deref()), (Some("x"), Some("a.b.c")));
    }

    #[test]
    fn paths_and_versions() {
        assert_eq!(normalize_path("//services//data/"), "/services/data/");
        assert_eq!(normalize_path(""), "/");
        let v = versions_json("");
        assert!(
            v.contains(r#"{"label":"Winter '15","url":"/services/data/v32.0","version":"32.0"}"#)
        );
        assert!(v.contains(r#""label":"Spring '26","url":"/services/data/v66.0""#));
        serde_json::from_str::<serde_json::Value>(&v).unwrap();
    }
}
