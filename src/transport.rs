//! HTTP for everything certmint sends over the network: the token endpoint client
//! ([`crate::token_endpoint`]) and the org client of `connect` ([`crate::connect::org`])
//! share it, so TLS roots, `--ca-file`, proxies and the plain-HTTP rule are the same for
//! both.
//!
//! - [`Client`]: HTTPS with the system's trusted roots (or a private CA), proxies from the
//!   environment (curl's rules: `HTTPS_PROXY` or `ALL_PROXY`, never `HTTP_PROXY`, for
//!   HTTPS), plain `http://` only to loopback (the local emulator: a literal loopback
//!   address, or a name every address of which is loopback, checked with the
//!   [`Resolver`] before connecting and again by the connection's own lookup), no
//!   redirects followed, timeouts, bounded answers.
//! - `Response`: what came back (status, content type, `Location`, body), and
//!   `unexpected` for an answer that is not the protocol's; failures are classified into
//!   [`NetworkKind`]s with the host named.

use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ureq::Agent;
use ureq::tls::{Certificate, RootCerts, TlsConfig};

use crate::error::NetworkKind;
use crate::error::{Expected, Input};
use crate::{Error, Result};

/// Largest response body read from a token or identity endpoint.
const MAX_RESPONSE: u64 = 256 * 1024;

/// Proxy settings for HTTPS requests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxySettings {
    /// The proxy URL (`http://[user:pass@]host:port`).
    pub proxy: Option<String>,
    /// Hosts that bypass the proxy (comma-separated, curl's `NO_PROXY` syntax).
    pub no_proxy: Option<String>,
}

impl ProxySettings {
    /// From the environment, by curl's rules for HTTPS (the only scheme certmint proxies):
    /// `https_proxy`/`HTTPS_PROXY`, else `all_proxy`/`ALL_PROXY`; and `no_proxy`/`NO_PROXY`.
    /// `http_proxy`/`HTTP_PROXY` are for plain HTTP and never used for HTTPS (curl does not
    /// either: a proxy meant for unencrypted traffic would otherwise see every token
    /// request's destination). Empty values count as unset.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`ProxySettings::from_env`] over any variable lookup (for tests).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Self {
        let get = |names: &[&str]| {
            names
                .iter()
                .filter_map(|n| var(n))
                .map(|v| v.trim().to_owned())
                .find(|v| !v.is_empty())
        };
        ProxySettings {
            proxy: get(&["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]),
            no_proxy: get(&["no_proxy", "NO_PROXY"]),
        }
    }

    /// The proxy as errors show it: without a user name or password.
    pub fn shown(&self) -> Option<String> {
        self.proxy.as_deref().map(|p| {
            let (scheme, rest) = p.split_once("://").unwrap_or(("http", p));
            let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
            crate::text::escape(&format!("{scheme}://{}", rest.trim_end_matches('/')))
        })
    }

    /// True when requests to `host` should go through the proxy. Loopback never does.
    pub fn uses_proxy_for(&self, host: &str) -> bool {
        if self.proxy.is_none() || is_loopback_host(host) {
            return false;
        }
        !self
            .no_proxy
            .as_deref()
            .is_some_and(|list| no_proxy_matches(list, host))
    }
}

/// curl-style `NO_PROXY` matching: `*` matches everything; `example.com`, `.example.com`
/// and `*.example.com` match that domain and its subdomains; IP addresses match exactly;
/// `10.0.0.0/8`-style CIDR ranges match addresses inside them. Entries may carry a `:port`,
/// which is ignored.
pub fn no_proxy_matches(list: &str, host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let host_ip = host.parse::<IpAddr>().ok();
    for raw in list.split([',', ' ', '\t']) {
        let e = raw.trim().to_ascii_lowercase();
        if e.is_empty() {
            continue;
        }
        if e == "*" {
            return true;
        }
        if let Some((net, bits)) = e.split_once('/') {
            if let (Ok(net), Ok(bits), Some(ip)) =
                (net.parse::<IpAddr>(), bits.parse::<u32>(), host_ip)
                && cidr_contains(net, bits, ip)
            {
                return true;
            }
            continue;
        }
        let e = e.trim_start_matches('[');
        let e = match e.split_once(']') {
            Some((ip, _)) => ip.to_owned(),
            None if e.matches(':').count() == 1 => e.split(':').next().unwrap_or("").to_owned(),
            None => e.to_owned(),
        };
        if let (Ok(a), Some(b)) = (e.parse::<IpAddr>(), host_ip) {
            if a == b {
                return true;
            }
            continue;
        }
        let domain = e.trim_start_matches("*.").trim_start_matches('.');
        if domain.is_empty() {
            continue;
        }
        if host == domain
            || (host.ends_with(domain) && host[..host.len() - domain.len()].ends_with('.'))
        {
            return true;
        }
    }
    false
}

fn cidr_contains(net: IpAddr, bits: u32, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) if bits <= 32 => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            (u32::from(n) & mask) == (u32::from(i) & mask)
        }
        (IpAddr::V6(n), IpAddr::V6(i)) if bits <= 128 => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            (u128::from(n) & mask) == (u128::from(i) & mask)
        }
        _ => false,
    }
}

/// Resolves a host name and port to its addresses, for the plain-HTTP check
/// ([`check_plain_http`]): the system's resolver by default, a fixed table in tests.
#[derive(Clone)]
pub struct Resolver(Arc<ResolveFn>);

type ResolveFn = dyn Fn(&str, u16) -> std::io::Result<Vec<IpAddr>> + Send + Sync;

impl Resolver {
    /// The operating system's resolver (`getaddrinfo`: /etc/hosts, DNS ...).
    pub fn system() -> Self {
        Resolver::new(|host, port| {
            use std::net::ToSocketAddrs;
            Ok((host, port).to_socket_addrs()?.map(|a| a.ip()).collect())
        })
    }

    /// A resolver from a function.
    pub fn new(
        f: impl Fn(&str, u16) -> std::io::Result<Vec<IpAddr>> + Send + Sync + 'static,
    ) -> Self {
        Resolver(Arc::new(f))
    }

    /// The addresses of `host`.
    pub fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<IpAddr>> {
        (self.0)(host, port)
    }
}

impl Default for Resolver {
    fn default() -> Self {
        Resolver::system()
    }
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Resolver")
    }
}

/// Plain `http://` may go to `host` only when it is a loopback address, or a loopback name
/// (`localhost`, `*.localhost`) every address of which is loopback: a `.localhost` name
/// that resolves elsewhere (a hosts file, a DNS answer) would send the assertion, and
/// then the access token, to another machine in clear text. Checked before connecting.
pub fn check_plain_http(host: &str, port: u16, resolver: &Resolver) -> Result<()> {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    let refuse = |why: String| {
        Err(Error::invalid(
            Input::Url,
            format!(
                "refusing plain http:// to `{}`: {why}; only loopback may be reached without TLS",
                crate::text::escape(h)
            ),
        ))
    };
    if let Ok(ip) = h.parse::<IpAddr>() {
        return if ip.to_canonical().is_loopback() {
            Ok(())
        } else {
            refuse("it is not a loopback address".into())
        };
    }
    if !is_loopback_host(h) {
        return refuse("it is not a loopback name".into());
    }
    let addrs = resolver.resolve(h, port).map_err(|e| {
        Error::network(
            NetworkKind::Dns,
            format!(
                "{}: the host name does not resolve ({e})",
                crate::text::escape(h)
            ),
        )
    })?;
    if addrs.is_empty() {
        return Err(Error::network(
            NetworkKind::Dns,
            format!("{}: the host name does not resolve", crate::text::escape(h)),
        ));
    }
    if let Some(other) = addrs.iter().find(|a| !a.to_canonical().is_loopback()) {
        return refuse(format!(
            "it resolves to {other}, which is not a loopback address"
        ));
    }
    Ok(())
}

/// The resolver of the plain-HTTP agent: the system's, refusing any address that is not
/// loopback at the lookup the connection uses. [`check_plain_http`] gives the clear
/// message first; this closes the window between its lookup and the connection's (a name
/// whose answer changes in between, as in DNS rebinding, gets no plain HTTP either).
#[derive(Debug, Default)]
struct LoopbackOnly(ureq::unversioned::resolver::DefaultResolver);

impl ureq::unversioned::resolver::Resolver for LoopbackOnly {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> std::result::Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let addrs = self.0.resolve(uri, config, timeout)?;
        match addrs.iter().find(|a| !a.ip().to_canonical().is_loopback()) {
            Some(other) => Err(ureq::Error::Io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                NotLoopback(other.ip()),
            ))),
            None => Ok(addrs),
        }
    }
}

/// [`LoopbackOnly`]'s refusal, carried through ureq's I/O error and turned back by
/// [`classify`] into the refusal [`check_plain_http`] gives.
#[derive(Debug)]
struct NotLoopback(IpAddr);

impl std::fmt::Display for NotLoopback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "it now resolves to {}, which is not a loopback address",
            self.0
        )
    }
}

impl std::error::Error for NotLoopback {}

/// Options for [`Client`].
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Trust only these CA certificates (PEM, one or more, or one DER) instead of the
    /// system's roots: for a private CA, a TLS-inspecting proxy, or the emulator over HTTPS.
    pub ca_certs: Option<Vec<u8>>,
    /// Time allowed for name lookup and the TCP connection.
    pub connect_timeout: Duration,
    /// Time allowed for the response once the request is sent.
    pub read_timeout: Duration,
    /// Proxy settings (usually [`ProxySettings::from_env`]).
    pub proxy: ProxySettings,
    /// `User-Agent` header.
    pub user_agent: String,
    /// Idle connections kept open per host for reuse (at least 1). Batch minting sets it
    /// to its number of workers so that every worker keeps its connection.
    pub pool_per_host: usize,
    /// Resolves names for the plain-HTTP check ([`check_plain_http`]).
    pub resolver: Resolver,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            ca_certs: None,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            proxy: ProxySettings::default(),
            user_agent: concat!("certmint/", env!("CARGO_PKG_VERSION")).into(),
            pool_per_host: 3,
            resolver: Resolver::system(),
        }
    }
}

/// Where trusted roots came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RootsSource {
    /// The `ca_certs` option.
    CaFile,
    /// The operating system's store (or `SSL_CERT_FILE` / `SSL_CERT_DIR`).
    System,
    /// Mozilla's roots compiled into certmint (the system store was empty or unreadable).
    Bundled,
}

/// The direct agent, the proxied one (when a proxy is set), and where the roots came from.
type TlsAgents = (
    Agent,
    Option<std::result::Result<Agent, Error>>,
    RootsSource,
);

/// An HTTP client for the token and identity endpoints. Cheap to share across threads;
/// connections are pooled. TLS roots are loaded on the first HTTPS request only, so a
/// client that talks only to a loopback emulator never reads the system store.
pub struct Client {
    opts: ClientOptions,
    ca: Option<Vec<Certificate<'static>>>,
    plain: OnceLock<Agent>,
    tls: OnceLock<std::result::Result<TlsAgents, String>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("opts", &self.opts).finish()
    }
}

impl Client {
    /// A client; fails when `ca_certs` holds no certificate. An invalid proxy setting is
    /// reported by the first request that would use it (loopback never does).
    pub fn new(opts: ClientOptions) -> Result<Self> {
        let ca = match &opts.ca_certs {
            Some(bytes) => Some(parse_ca(bytes)?),
            None => None,
        };
        Ok(Client {
            opts,
            ca,
            plain: OnceLock::new(),
            tls: OnceLock::new(),
        })
    }

    fn config(&self, tls: Option<TlsConfig>, proxy: Option<ureq::Proxy>) -> Agent {
        self.config_builder(tls, proxy).build().new_agent()
    }

    fn config_builder(
        &self,
        tls: Option<TlsConfig>,
        proxy: Option<ureq::Proxy>,
    ) -> ureq::config::ConfigBuilder<ureq::typestate::AgentScope> {
        let mut b = Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .user_agent(self.opts.user_agent.as_str())
            .accept("application/json")
            .timeout_resolve(Some(self.opts.connect_timeout))
            .timeout_connect(Some(self.opts.connect_timeout))
            .timeout_send_request(Some(self.opts.read_timeout))
            .timeout_send_body(Some(self.opts.read_timeout))
            .timeout_recv_response(Some(self.opts.read_timeout))
            .timeout_recv_body(Some(self.opts.read_timeout))
            .max_idle_connections_per_host(self.opts.pool_per_host.max(1))
            .max_idle_connections(self.opts.pool_per_host.max(10))
            .proxy(proxy);
        if let Some(tls) = tls {
            b = b.tls_config(tls);
        }
        b
    }

    /// Where the trusted roots come from (loads them if not done yet).
    pub fn roots_source(&self) -> Result<RootsSource> {
        self.tls_agents().map(|(_, _, s)| *s)
    }

    fn tls_agents(&self) -> Result<&TlsAgents> {
        let r = self.tls.get_or_init(|| {
            let (roots, source) = match &self.ca {
                Some(certs) => (RootCerts::new_with_certs(certs), RootsSource::CaFile),
                None => system_roots()?,
            };
            let tls = TlsConfig::builder().root_certs(roots).build();
            let direct = self.config(Some(tls.clone()), None);
            let proxied = self
                .opts
                .proxy
                .proxy
                .as_deref()
                .map(|p| make_proxy(p).map(|proxy| self.config(Some(tls), Some(proxy))));
            Ok((direct, proxied, source))
        });
        r.as_ref().map_err(|e| Error::network(NetworkKind::Tls, e))
    }

    /// The agent for `url` (plain HTTP only to loopback; TLS with the roots and proxy of
    /// these options). `connect`'s REST and Metadata API client shares it.
    pub(crate) fn agent_for(&self, url: &str) -> Result<&Agent> {
        let u = Url::parse(url, Input::Url)?;
        if u.scheme == "http" {
            check_plain_http(&u.host, u.port.unwrap_or(80), &self.opts.resolver)?;
            return Ok(self.plain.get_or_init(|| {
                let config = self.config_builder(None, None).build();
                Agent::with_parts(
                    config,
                    ureq::unversioned::transport::DefaultConnector::new(),
                    LoopbackOnly::default(),
                )
            }));
        }
        let (direct, proxied, _) = self.tls_agents()?;
        match proxied {
            Some(Ok(p)) if self.opts.proxy.uses_proxy_for(&u.host) => Ok(p),
            Some(Err(e)) if self.opts.proxy.uses_proxy_for(&u.host) => Err(match e {
                Error::Network { kind, detail } => Error::network(*kind, detail),
                other => Error::network(NetworkKind::Proxy, other),
            }),
            _ => Ok(direct),
        }
    }

    /// The proxy settings.
    pub fn proxy(&self) -> &ProxySettings {
        &self.opts.proxy
    }

    /// A failed request to `url`, classified; when it went through the proxy and failed
    /// before reaching the target (the proxy refused the connection, does not resolve,
    /// did not answer, or refused the tunnel), the proxy is named, not the target.
    pub(crate) fn failed(&self, e: ureq::Error, url: &str) -> Error {
        let err = classify(e, url);
        let proxied = url.starts_with("https")
            && Url::parse(url, Input::Url).is_ok_and(|u| self.opts.proxy.uses_proxy_for(&u.host));
        match (&err, self.opts.proxy.shown()) {
            (
                Error::Network {
                    kind:
                        kind @ (NetworkKind::Connect
                        | NetworkKind::Dns
                        | NetworkKind::Proxy
                        | NetworkKind::Timeout),
                    detail,
                },
                Some(proxy),
            ) if proxied => {
                let what = match kind {
                    NetworkKind::Connect => "refused or dropped the connection",
                    NetworkKind::Dns => "does not resolve",
                    NetworkKind::Timeout => "did not answer in time",
                    _ => "refused the tunnel",
                };
                let cause = detail.strip_prefix(&format!("{url}: ")).unwrap_or(detail);
                Error::network(
                    NetworkKind::Proxy,
                    format!(
                        "the proxy {proxy} (from HTTPS_PROXY or ALL_PROXY) {what}, on the way to {url}: {cause}"
                    ),
                )
            }
            _ => err,
        }
    }
}

fn parse_ca(bytes: &[u8]) -> Result<Vec<Certificate<'static>>> {
    let ders: Vec<Vec<u8>> = if crate::pemfile::is_pem(bytes) {
        crate::pemfile::parse_all(bytes, Input::CaCertificates)?
            .iter()
            .filter(|b| crate::pemfile::is_certificate_label(&b.label))
            .map(|b| b.contents.clone())
            .collect()
    } else {
        vec![bytes.to_vec()]
    };
    if ders.is_empty() {
        return Err(Error::WrongKind {
            expected: Expected::CaCertificates,
            found: "no certificate".into(),
        });
    }
    let mut out = Vec::with_capacity(ders.len());
    for der in ders {
        crate::x509::parse_der(&der)?;
        out.push(Certificate::from_der(&der).to_owned());
    }
    Ok(out)
}

fn system_roots() -> std::result::Result<(RootCerts, RootsSource), String> {
    let found = rustls_native_certs::load_native_certs();
    if !found.certs.is_empty() {
        let certs: Vec<Certificate<'static>> = found
            .certs
            .iter()
            .map(|c| Certificate::from_der(c.as_ref()).to_owned())
            .collect();
        return Ok((RootCerts::new_with_certs(&certs), RootsSource::System));
    }
    let env_set = ["SSL_CERT_FILE", "SSL_CERT_DIR"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()));
    if env_set {
        let why = found
            .errors
            .first()
            .map(|e| e.to_string())
            .unwrap_or_else(|| "no certificates found".into());
        return Err(format!(
            "cannot load the CA certificates named by SSL_CERT_FILE/SSL_CERT_DIR: {why}"
        ));
    }
    Ok((RootCerts::WebPki, RootsSource::Bundled))
}

fn make_proxy(url: &str) -> Result<ureq::Proxy> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("socks") {
        return Err(Error::network(
            NetworkKind::Proxy,
            "SOCKS proxies are not supported; use an HTTP CONNECT proxy (http://host:port)",
        ));
    }
    ureq::Proxy::new(url).map_err(|_| {
        Error::network(
            NetworkKind::Proxy,
            "the proxy setting is not a valid URL (expected http://[user:password@]host:port)",
        )
    })
}

pub(crate) type RawResponse = (u16, String, Option<String>, Vec<u8>);

pub(crate) fn read_response(
    mut resp: ureq::http::Response<ureq::Body>,
    url: &str,
) -> Result<RawResponse> {
    let status = resp.status().as_u16();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let ctype = header("content-type").unwrap_or_default();
    let location = header("location");
    let bytes = resp
        .body_mut()
        .with_config()
        .limit(MAX_RESPONSE)
        .read_to_vec()
        .map_err(|e| classify(e, url))?;
    Ok((status, ctype, location, bytes))
}

pub(crate) fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]);
    crate::text::escape(text.trim())
}

pub(crate) fn unexpected(
    url: &str,
    status: u16,
    ctype: &str,
    location: Option<&str>,
    body: &[u8],
) -> Error {
    let mut detail = format!("{url} answered HTTP {status}");
    if let Some(loc) = location {
        detail.push_str(&format!(", redirecting to {}", crate::text::escape(loc)));
    }
    if !ctype.is_empty() {
        detail.push_str(&format!(" ({})", crate::text::escape(ctype)));
    }
    let s = snippet(body);
    if !s.is_empty() {
        detail.push_str(&format!(": {s}"));
    }
    Error::network(NetworkKind::UnexpectedResponse, detail)
}

pub(crate) fn classify(e: ureq::Error, url: &str) -> Error {
    use ureq::Error as U;
    let host = Url::parse(url, Input::Url)
        .map(|u| u.host)
        .unwrap_or_default();
    if let U::Io(io) = &e
        && let Some(refused) = io.get_ref().and_then(|r| r.downcast_ref::<NotLoopback>())
    {
        return Error::invalid(
            Input::Url,
            format!(
                "refusing plain http:// to `{}`: {refused}; only loopback may be reached without TLS",
                crate::text::escape(&host)
            ),
        );
    }
    let (kind, detail) = match &e {
        U::HostNotFound => (
            NetworkKind::Dns,
            format!("`{}` does not resolve", crate::text::escape(&host)),
        ),
        U::Timeout(t) => (NetworkKind::Timeout, format!("no answer in time ({t})")),
        U::ConnectProxyFailed(m) => (NetworkKind::Proxy, m.clone()),
        U::InvalidProxyUrl => (NetworkKind::Proxy, "invalid proxy URL".to_owned()),
        U::Rustls(r) => tls_kind(r),
        U::Tls(m) => (NetworkKind::Tls, (*m).to_owned()),
        U::Pem(p) => (NetworkKind::Tls, p.to_string()),
        U::Io(io) => io_kind(io, &host),
        U::ConnectionFailed => (
            NetworkKind::Connect,
            "the connection could not be made".to_owned(),
        ),
        U::Protocol(p) => (NetworkKind::Protocol, p.to_string()),
        U::LargeResponseHeader(..) | U::BodyExceedsLimit(_) => {
            (NetworkKind::UnexpectedResponse, e.to_string())
        }
        _ => (NetworkKind::Protocol, e.to_string()),
    };
    Error::network(kind, format!("{url}: {detail}"))
}

/// What a TLS failure means, in words, for the two failures a user meets most: an
/// untrusted certificate and an `https://` URL on a plain-HTTP server.
fn tls_kind(r: &rustls::Error) -> (NetworkKind, String) {
    use rustls::{CertificateError as C, Error as R, InvalidMessage as M};
    match r {
        R::InvalidCertificate(C::UnknownIssuer) => (
            NetworkKind::UntrustedCertificate,
            "its issuer is not a CA this machine trusts (UnknownIssuer)".to_owned(),
        ),
        // A trusted root has the issuer's name, but did not sign it: not trusted either.
        R::InvalidCertificate(C::BadSignature) => (
            NetworkKind::UntrustedCertificate,
            "its issuer's name is that of a trusted CA, but that CA did not sign it (BadSignature)"
                .to_owned(),
        ),
        R::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => (
            NetworkKind::Tls,
            format!("the server's certificate is for another host name ({r})"),
        ),
        R::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => (
            NetworkKind::Tls,
            format!("the server's certificate has expired ({r})"),
        ),
        // The first bytes back are not a TLS record: "HTTP/1.1 400 ..." from a server
        // that speaks plain HTTP on this port.
        R::InvalidMessage(M::InvalidContentType) => (
            NetworkKind::NotTls,
            "it answered in plain text, as a plain-HTTP server does, not with a TLS handshake"
                .to_owned(),
        ),
        other => (NetworkKind::Tls, other.to_string()),
    }
}

/// The message std gives a failed `getaddrinfo` (the resolver's reason follows it).
const LOOKUP_FAILED: &str = "failed to lookup address information";

fn io_kind(io: &std::io::Error, host: &str) -> (NetworkKind, String) {
    use std::io::ErrorKind as K;
    // rustls errors travel inside io::Error on reads and writes.
    if let Some(inner) = io.get_ref()
        && let Some(r) = inner.downcast_ref::<rustls::Error>()
    {
        return tls_kind(r);
    }
    // ureq resolves with std's `to_socket_addrs`, whose lookup failures are io errors
    // without an OS error code, worded by std.
    let text = io.to_string();
    if io.raw_os_error().is_none()
        && let Some(reason) = text.strip_prefix(LOOKUP_FAILED)
    {
        let reason = reason.trim_start_matches(':').trim();
        let host = crate::text::escape(host);
        let detail = if reason.is_empty() {
            format!("`{host}` does not resolve")
        } else {
            format!("`{host}` does not resolve ({reason})")
        };
        return (NetworkKind::Dns, detail);
    }
    let kind = match io.kind() {
        K::TimedOut | K::WouldBlock => NetworkKind::Timeout,
        K::InvalidData => NetworkKind::Tls,
        _ => NetworkKind::Connect,
    };
    (kind, io.to_string())
}

/// True for `localhost`, `127.0.0.0/8` and `::1`.
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") || h.to_ascii_lowercase().ends_with(".localhost") {
        return true;
    }
    h.parse::<IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

/// A minimal absolute-URL split (scheme, host, port, path) on top of `http::Uri`.
#[derive(Clone, Debug)]
pub(crate) struct Url {
    pub(crate) scheme: &'static str,
    pub(crate) host: String,
    pub(crate) port: Option<u16>,
    pub(crate) path: String,
}

impl Url {
    pub(crate) fn parse(text: &str, what: Input) -> Result<Self> {
        let with_scheme;
        let t = if text.contains("://") {
            text
        } else {
            with_scheme = format!("https://{text}");
            &with_scheme
        };
        let shown = crate::text::escape(text);
        let uri: ureq::http::Uri = t
            .parse()
            .map_err(|e| Error::invalid(what, format!("`{shown}` is not a URL: {e}")))?;
        let scheme = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
            Some("https") => "https",
            Some("http") => "http",
            other => {
                return Err(Error::invalid(
                    what,
                    format!(
                        "`{shown}`: scheme {} is not http or https",
                        other.unwrap_or("(none)")
                    ),
                ));
            }
        };
        let authority = uri
            .authority()
            .ok_or_else(|| Error::invalid(what, format!("`{shown}` has no host")))?;
        if authority.as_str().contains('@') {
            return Err(Error::invalid(
                what,
                format!("`{shown}` must not contain a user name or password"),
            ));
        }
        if uri.query().is_some() {
            return Err(Error::invalid(
                what,
                format!("`{shown}` must not have a query string"),
            ));
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if host.is_empty() {
            return Err(Error::invalid(what, format!("`{shown}` has no host")));
        }
        Ok(Url {
            scheme,
            host,
            port: authority.port_u16(),
            path: uri.path().to_owned(),
        })
    }

    pub(crate) fn origin(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.port {
            Some(p) => format!("{}://{host}:{p}", self.scheme),
            None => format!("{}://{host}", self.scheme),
        }
    }
}

#[cfg(test)]
mod tests;
