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
use super::validate::{Endpoint, Failure, Grant, TokenRequest, Tokens, validate};
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

/// Everything a request handler needs.
pub(crate) struct Shared {
    pub(super) cfg: Config,
    pub(super) base_url: String,
    pub(super) tokens: Tokens,
    limits: Limits,
    log: Option<Logger>,
    versions: Bytes,
}

impl Shared {
    pub(crate) fn new(cfg: Config, base_url: String, limits: Limits, log: bool) -> Result<Self> {
        Ok(Shared {
            versions: Bytes::from(super::api::versions_json()),
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
    let builder = conn_builder(&shared.limits);
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

/// The HTTP/1.1 connection settings every connection is served with.
pub(crate) fn conn_builder(limits: &Limits) -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_header_size(limits.max_header.max(1024))
        .max_buf_size(limits.max_header.max(8192))
        .keep_alive(true);
    builder
}

/// Serve one connection until the client closes it, it breaks the protocol or times out,
/// or `stop` turns true.
pub(crate) async fn serve_conn<I>(
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

pub(super) type Resp = Response<Full<Bytes>>;

pub(super) fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Resp {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_CACHE));
    r
}

pub(super) fn json(status: StatusCode, body: impl Into<Bytes>) -> Resp {
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
    pub(super) fn now(&self) -> i64 {
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

pub(super) type Note = Cow<'static, str>;

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
        return super::api::userinfo(sh, &req);
    }
    if let Some(rest) = path.strip_prefix("/id/")
        && get_or_post
    {
        return super::api::identity(sh, &req, rest);
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
        return super::api::data(sh, &req, rest);
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

pub(super) fn not_found() -> (Resp, Note) {
    (
        json(
            StatusCode::NOT_FOUND,
            r#"[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]"#,
        ),
        Cow::Borrowed("NOT_FOUND"),
    )
}

pub(super) fn method_not_allowed() -> (Resp, Note) {
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

pub(super) fn urls(sh: &Shared, user: usize) -> (String, String) {
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

pub(super) fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    let q = query?;
    q.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (form_decode(k.as_bytes()) == name).then(|| form_decode(v.as_bytes()).into_owned())
    })
}

/// Decode `application/x-www-form-urlencoded` (`+` is a space, `%XX` a byte); invalid
/// UTF-8 is replaced.
pub(super) fn form_decode(b: &[u8]) -> Cow<'_, str> {
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
    fn paths() {
        assert_eq!(normalize_path("//services//data/"), "/services/data/");
        assert_eq!(normalize_path(""), "/");
    }
}
