//! The client side of the OAuth 2.0 JWT bearer grant (RFC 7523 §2.1) against Salesforce's
//! token endpoint, `POST <login URL>/services/oauth2/token`, and the identity check that
//! proves the token works.
//!
//! - [`LoginUrl`]: `login`, `test`, a My Domain, a sandbox My Domain or an Experience Cloud
//!   site URL, and the audience Salesforce expects for each.
//! - [`Client`]: HTTPS with the system's trusted roots (or a private CA), proxies from the
//!   environment, plain `http://` only to loopback (the local emulator), timeouts.
//! - [`Exchange`]: the granted token ([`TokenResponse`]) or Salesforce's refusal
//!   ([`OAuthError`]), with an [`explain`]ed cause and fix for every known error.
//!
//! There is no refresh token in this flow: a new assertion is signed for each token.

use std::fmt;
use std::net::IpAddr;
use std::sync::OnceLock;
use std::time::Duration;

use serde::Deserialize;
use ureq::Agent;
use ureq::tls::{Certificate, RootCerts, TlsConfig};
use zeroize::Zeroizing;

use crate::error::NetworkKind;
use crate::{Error, Result};

/// The `grant_type` of the JWT bearer flow.
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Production and Developer Edition login server (also the audience for My Domains).
pub const PRODUCTION: &str = "https://login.salesforce.com";
/// Sandbox login server (also the audience for sandbox My Domains).
pub const SANDBOX: &str = "https://test.salesforce.com";
/// Path of the token endpoint below a login URL.
pub const TOKEN_PATH: &str = "/services/oauth2/token";
/// Path of the OpenID Connect UserInfo endpoint.
pub const USERINFO_PATH: &str = "/services/oauth2/userinfo";

/// Largest response body read from a token or identity endpoint.
const MAX_RESPONSE: u64 = 256 * 1024;

/// What kind of Salesforce endpoint a login URL is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginKind {
    /// `https://login.salesforce.com`.
    Production,
    /// `https://test.salesforce.com`.
    Sandbox,
    /// `https://NAME.my.salesforce.com` (or another `*.salesforce.com` host).
    MyDomain,
    /// `https://NAME--SANDBOX.sandbox.my.salesforce.com`.
    SandboxMyDomain,
    /// An Experience Cloud site (`*.my.site.com`, `*.force.com/path`, a custom domain).
    Site,
    /// `http(s)://127.0.0.1:PORT`, `localhost` or `[::1]`: a local emulator.
    Loopback,
}

/// A parsed login URL: scheme, host, optional port and optional site path, without a
/// trailing slash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginUrl {
    base: String,
    origin: String,
    host: String,
    kind: LoginKind,
}

impl LoginUrl {
    /// Parse `login`, `test`, or a URL. A URL without a scheme gets `https://`; a pasted
    /// token endpoint URL is cut back to its login URL. Plain `http://` is refused unless
    /// the host is loopback, and Lightning domains (`*.lightning.force.com`) are refused
    /// because Salesforce does not serve OAuth there.
    pub fn parse(text: &str) -> Result<Self> {
        let t = text.trim();
        match t.to_ascii_lowercase().as_str() {
            "login" | "prod" | "production" => return Self::parse(PRODUCTION),
            "test" | "sandbox" => return Self::parse(SANDBOX),
            "" => return Err(Error::invalid("login URL", "it is empty")),
            _ => {}
        }
        let u = Url::parse(t, "login URL")?;
        let host = u.host.clone();
        if host.ends_with(".lightning.force.com") {
            return Err(Error::invalid(
                "login URL",
                format!(
                    "`{host}` is a Lightning domain, which does not serve OAuth; use the My Domain URL \
                     (https://NAME.my.salesforce.com) instead"
                ),
            ));
        }
        let loopback = is_loopback_host(&host);
        if u.scheme == "http" && !loopback {
            return Err(Error::invalid(
                "login URL",
                format!(
                    "plain http:// is only allowed to a loopback address (the local emulator), not to \
                     `{host}`; use https://"
                ),
            ));
        }
        let mut path = u.path.trim_end_matches('/').to_owned();
        if let Some(p) = path.strip_suffix(TOKEN_PATH) {
            path = p.to_owned();
        }
        let kind = if loopback {
            LoginKind::Loopback
        } else if host == "login.salesforce.com" {
            LoginKind::Production
        } else if host == "test.salesforce.com" {
            LoginKind::Sandbox
        } else if host.ends_with(".sandbox.my.salesforce.com") {
            LoginKind::SandboxMyDomain
        } else if host.ends_with(".salesforce.com") {
            LoginKind::MyDomain
        } else {
            LoginKind::Site
        };
        let origin = u.origin();
        Ok(LoginUrl {
            base: format!("{origin}{path}"),
            origin,
            host,
            kind,
        })
    }

    /// The login URL, e.g. `https://acme.my.salesforce.com` or `https://acme.my.site.com/customers`.
    pub fn as_str(&self) -> &str {
        &self.base
    }

    /// Scheme, host and port.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The host name (lowercase; IPv6 without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// What kind of endpoint this is.
    pub fn kind(&self) -> LoginKind {
        self.kind
    }

    /// True for a loopback address (the local emulator).
    pub fn is_loopback(&self) -> bool {
        self.kind == LoginKind::Loopback
    }

    /// `<login URL>/services/oauth2/token`.
    pub fn token_url(&self) -> String {
        format!("{}{TOKEN_PATH}", self.base)
    }

    /// The audience Salesforce expects for assertions sent here: production and My Domain
    /// (and the emulator) `https://login.salesforce.com`; sandboxes and sandbox My Domains
    /// `https://test.salesforce.com`; an Experience Cloud site its own URL.
    pub fn default_audience(&self) -> String {
        match self.kind {
            LoginKind::Production | LoginKind::MyDomain | LoginKind::Loopback => PRODUCTION.into(),
            LoginKind::Sandbox | LoginKind::SandboxMyDomain => SANDBOX.into(),
            LoginKind::Site => self.base.clone(),
        }
    }
}

impl fmt::Display for LoginUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base)
    }
}

/// Resolve an `--audience` value: `login` and `test` are aliases, anything else must be an
/// `http(s)://` URL and is used as given without a trailing slash.
pub fn resolve_audience(text: &str) -> Result<String> {
    let t = text.trim();
    match t.to_ascii_lowercase().as_str() {
        "login" | "prod" | "production" => return Ok(PRODUCTION.into()),
        "test" | "sandbox" => return Ok(SANDBOX.into()),
        _ => {}
    }
    let u = Url::parse(t, "audience")?;
    if !t.contains("://") {
        return Err(Error::invalid(
            "audience",
            format!(
                "`{}` is neither `login`, `test` nor a URL such as https://login.salesforce.com",
                crate::x509::escape(t)
            ),
        ));
    }
    Ok(format!("{}{}", u.origin(), u.path.trim_end_matches('/')))
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
struct Url {
    scheme: &'static str,
    host: String,
    port: Option<u16>,
    path: String,
}

impl Url {
    fn parse(text: &str, what: &'static str) -> Result<Self> {
        let with_scheme;
        let t = if text.contains("://") {
            text
        } else {
            with_scheme = format!("https://{text}");
            &with_scheme
        };
        let shown = crate::x509::escape(text);
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

    fn origin(&self) -> String {
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

/// An access token: redacted in Debug, wiped on drop. Print it with [`AccessToken::masked`]
/// unless the user asked for the token itself.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(Zeroizing<String>);

impl AccessToken {
    /// Wrap a token.
    pub fn new(token: String) -> Self {
        AccessToken(Zeroizing::new(token))
    }

    /// The token itself.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The token masked for display, see [`mask_token`].
    pub fn masked(&self) -> String {
        mask_token(&self.0)
    }

    /// The 15-character org id prefix (`00D...`) before `!`, when the token has one.
    pub fn org_prefix(&self) -> Option<&str> {
        let (org, _) = self.0.split_once('!')?;
        (org.len() == 15 || org.len() == 18).then_some(org)
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccessToken({})", self.masked())
    }
}

/// Mask a token for logs and terminals: the org id prefix, the first four and the last
/// four characters of the secret part, e.g. `00Dxx0000001gPL!AR8A…wXyZ`. Short or
/// unusual tokens show less (never more than eight characters of the secret part, and
/// never more than a third of it).
pub fn mask_token(token: &str) -> String {
    let (prefix, secret) = match token.split_once('!') {
        Some((org, rest)) if org.len() <= 18 && org.chars().all(|c| c.is_ascii_alphanumeric()) => {
            (format!("{org}!"), rest)
        }
        _ => (String::new(), token),
    };
    let chars: Vec<char> = secret.chars().collect();
    let n = chars.len();
    let escape = |s: String| crate::x509::escape(&s);
    if n >= 24 {
        let head: String = chars[..4].iter().collect();
        let tail: String = chars[n - 4..].iter().collect();
        format!("{}{}…{}", escape(prefix), escape(head), escape(tail))
    } else if n >= 12 {
        let tail: String = chars[n - 4..].iter().collect();
        format!("{}…{}", escape(prefix), escape(tail))
    } else {
        format!("{}…", escape(prefix))
    }
}

/// A successful token response. Salesforce sends exactly `access_token`, `scope`,
/// `instance_url`, `id` and `token_type` for this flow; other members are tolerated and
/// their names kept in `other`. There is never a refresh token.
#[derive(Clone, Debug)]
pub struct TokenResponse {
    /// The access token (a session id).
    pub access_token: AccessToken,
    /// Space-separated scopes, e.g. `api web`.
    pub scope: Option<String>,
    /// The org's instance (My Domain) URL, where the APIs are.
    pub instance_url: Option<String>,
    /// The identity URL, `https://login.salesforce.com/id/<org id>/<user id>`.
    pub id: Option<String>,
    /// `Bearer`.
    pub token_type: Option<String>,
    /// Names of any other members in the response.
    pub other: Vec<String>,
}

impl TokenResponse {
    /// Parse a 200 response body. Requires `access_token`.
    pub fn parse(body: &[u8]) -> Result<Self> {
        let map: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(body)
            .map_err(|e| Error::corrupt("token response", format!("not a JSON object: {e}")))?;
        let mut token = None;
        let mut r = TokenResponse {
            access_token: AccessToken::new(String::new()),
            scope: None,
            instance_url: None,
            id: None,
            token_type: None,
            other: Vec::new(),
        };
        for (k, v) in map {
            let s = match v {
                serde_json::Value::String(s) => Some(s),
                _ => None,
            };
            match k.as_str() {
                "access_token" => token = s,
                "scope" => r.scope = s,
                "instance_url" => r.instance_url = s,
                "id" => r.id = s,
                "token_type" => r.token_type = s,
                _ => r.other.push(k),
            }
        }
        match token {
            Some(t) if !t.is_empty() => {
                r.access_token = AccessToken::new(t);
                Ok(r)
            }
            _ => Err(Error::corrupt("token response", "it has no access_token")),
        }
    }

    /// The 18-character org id from the identity URL (`…/id/<org>/<user>`).
    pub fn org_id(&self) -> Option<&str> {
        id_url_parts(self.id.as_deref()?).map(|(o, _)| o)
    }

    /// The 18-character user id from the identity URL.
    pub fn user_id(&self) -> Option<&str> {
        id_url_parts(self.id.as_deref()?).map(|(_, u)| u)
    }
}

fn id_url_parts(url: &str) -> Option<(&str, &str)> {
    let path = url.split(['?', '#']).next()?;
    let mut it = path.trim_end_matches('/').rsplit('/');
    let user = it.next()?;
    let org = it.next()?;
    let id = it.next()?;
    (id == "id" && !org.is_empty() && !user.is_empty()).then_some((org, user))
}

/// Salesforce's refusal: `{"error":…,"error_description":…}` with the HTTP status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthError {
    /// HTTP status (400 for every error of this flow).
    pub status: u16,
    /// `error`, e.g. `invalid_grant`.
    pub error: String,
    /// `error_description`, e.g. `user hasn't approved this consumer`.
    pub description: String,
}

impl OAuthError {
    /// Parse an error body; `None` when it is not an OAuth error object.
    pub fn parse(status: u16, body: &[u8]) -> Option<Self> {
        #[derive(Deserialize)]
        struct Body {
            error: String,
            #[serde(default)]
            error_description: Option<String>,
        }
        let b: Body = serde_json::from_slice(body).ok()?;
        Some(OAuthError {
            status,
            error: b.error,
            description: b.error_description.unwrap_or_default(),
        })
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}",
            crate::x509::escape(&self.error),
            crate::x509::escape(&self.description)
        )
    }
}

/// The outcome of a token request that reached Salesforce.
#[derive(Clone, Debug)]
pub enum Exchange {
    /// HTTP 200 with a token.
    Granted(TokenResponse),
    /// An OAuth error (Salesforce said no).
    Refused(OAuthError),
}

/// Who the identity endpoint says the token belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The username (`username`, or `preferred_username` from UserInfo).
    pub username: String,
    /// The user id.
    pub user_id: Option<String>,
    /// The org id.
    pub organization_id: Option<String>,
    /// Display name (`display_name`, or `name` from UserInfo).
    pub display_name: Option<String>,
    /// Whether the user is active, when reported.
    pub active: Option<bool>,
    /// The URL that answered.
    pub url: String,
}

impl Identity {
    /// Parse an identity-URL or UserInfo response.
    pub fn parse(url: &str, body: &[u8]) -> Result<Self> {
        #[derive(Deserialize)]
        struct Body {
            username: Option<String>,
            preferred_username: Option<String>,
            user_id: Option<String>,
            organization_id: Option<String>,
            display_name: Option<String>,
            name: Option<String>,
            active: Option<bool>,
        }
        let b: Body = serde_json::from_slice(body).map_err(|e| {
            Error::corrupt("identity response", format!("not the expected JSON: {e}"))
        })?;
        let username = b
            .username
            .or(b.preferred_username)
            .ok_or_else(|| Error::corrupt("identity response", "it names no user"))?;
        Ok(Identity {
            username,
            user_id: b.user_id,
            organization_id: b.organization_id,
            display_name: b.display_name.or(b.name),
            active: b.active,
            url: url.to_owned(),
        })
    }
}

/// The outcome of the identity check.
#[derive(Clone, Debug)]
pub enum IdentityCheck {
    /// 200 with a user.
    Verified(Identity),
    /// The endpoint refused the token (e.g. 401, or 403 `Bad_OAuth_Token`).
    Rejected {
        /// The URL asked.
        url: String,
        /// HTTP status.
        status: u16,
        /// The start of the body, escaped.
        body: String,
    },
}

/// Proxy settings for HTTPS requests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxySettings {
    /// The proxy URL (`http://[user:pass@]host:port`).
    pub proxy: Option<String>,
    /// Hosts that bypass the proxy (comma-separated, curl's `NO_PROXY` syntax).
    pub no_proxy: Option<String>,
}

impl ProxySettings {
    /// From the environment: `https_proxy`/`HTTPS_PROXY`, else `all_proxy`/`ALL_PROXY`, else
    /// `http_proxy`/`HTTP_PROXY`; and `no_proxy`/`NO_PROXY`. Empty values count as unset.
    pub fn from_env() -> Self {
        let get = |names: &[&str]| {
            names
                .iter()
                .filter_map(|n| std::env::var(n).ok())
                .map(|v| v.trim().to_owned())
                .find(|v| !v.is_empty())
        };
        ProxySettings {
            proxy: get(&[
                "https_proxy",
                "HTTPS_PROXY",
                "all_proxy",
                "ALL_PROXY",
                "http_proxy",
                "HTTP_PROXY",
            ]),
            no_proxy: get(&["no_proxy", "NO_PROXY"]),
        }
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
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            ca_certs: None,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            proxy: ProxySettings::default(),
            user_agent: concat!("certmint/", env!("CARGO_PKG_VERSION")).into(),
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
type TlsAgents = (Agent, Option<Agent>, RootsSource);

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
    /// A client; fails when `ca_certs` holds no certificate or the proxy URL is invalid.
    pub fn new(opts: ClientOptions) -> Result<Self> {
        let ca = match &opts.ca_certs {
            Some(bytes) => Some(parse_ca(bytes)?),
            None => None,
        };
        if let Some(p) = &opts.proxy.proxy {
            make_proxy(p)?;
        }
        Ok(Client {
            opts,
            ca,
            plain: OnceLock::new(),
            tls: OnceLock::new(),
        })
    }

    fn config(&self, tls: Option<TlsConfig>, proxy: Option<ureq::Proxy>) -> Agent {
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
            .proxy(proxy);
        if let Some(tls) = tls {
            b = b.tls_config(tls);
        }
        b.build().new_agent()
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
            let proxied = match &self.opts.proxy.proxy {
                Some(p) => {
                    Some(self.config(Some(tls), Some(make_proxy(p).map_err(|e| e.to_string())?)))
                }
                None => None,
            };
            Ok((direct, proxied, source))
        });
        r.as_ref().map_err(|e| Error::network(NetworkKind::Tls, e))
    }

    fn agent_for(&self, url: &str) -> Result<&Agent> {
        let u = Url::parse(url, "URL")?;
        if u.scheme == "http" {
            if !is_loopback_host(&u.host) {
                return Err(Error::invalid(
                    "URL",
                    format!(
                        "refusing plain http:// to `{}`: only loopback may be reached without TLS",
                        u.host
                    ),
                ));
            }
            return Ok(self.plain.get_or_init(|| self.config(None, None)));
        }
        let (direct, proxied, _) = self.tls_agents()?;
        match proxied {
            Some(p) if self.opts.proxy.uses_proxy_for(&u.host) => Ok(p),
            _ => Ok(direct),
        }
    }

    /// True when requests to `login` go through a proxy.
    pub fn is_proxied(&self, login: &LoginUrl) -> bool {
        !login.is_loopback() && self.opts.proxy.uses_proxy_for(login.host())
    }

    /// POST the assertion to `<login>/services/oauth2/token`.
    pub fn exchange(&self, login: &LoginUrl, assertion: &str) -> Result<Exchange> {
        let url = login.token_url();
        let body = form_body(&[("grant_type", GRANT_TYPE), ("assertion", assertion)]);
        let agent = self.agent_for(&url)?;
        let resp = agent
            .post(&url)
            .content_type("application/x-www-form-urlencoded")
            .send(body.as_bytes())
            .map_err(|e| classify(e, &url))?;
        let (status, ctype, location, bytes) = read_response(resp, &url)?;
        if status == 200 {
            return TokenResponse::parse(&bytes).map(Exchange::Granted);
        }
        if let Some(err) = OAuthError::parse(status, &bytes) {
            return Ok(Exchange::Refused(err));
        }
        Err(unexpected(
            &url,
            status,
            &ctype,
            location.as_deref(),
            &bytes,
        ))
    }

    /// Prove the token works: GET the identity URL (`id`) with the token, or
    /// `/services/oauth2/userinfo` on the instance when there is no `id`. When the token
    /// came from a loopback emulator the request stays on that emulator. The token is only
    /// sent over HTTPS to the login host or a Salesforce domain, or to loopback.
    pub fn identity(&self, login: &LoginUrl, grant: &TokenResponse) -> Result<IdentityCheck> {
        let url = identity_url(login, grant)?;
        let agent = self.agent_for(&url)?;
        let auth = format!("Bearer {}", grant.access_token.expose());
        let resp = agent
            .get(&url)
            .header("Authorization", auth.as_str())
            .call()
            .map_err(|e| classify(e, &url))?;
        let (status, ctype, location, bytes) = read_response(resp, &url)?;
        match status {
            200 => Identity::parse(&url, &bytes).map(IdentityCheck::Verified),
            401 | 403 => Ok(IdentityCheck::Rejected {
                url,
                status,
                body: snippet(&bytes),
            }),
            _ => Err(unexpected(
                &url,
                status,
                &ctype,
                location.as_deref(),
                &bytes,
            )),
        }
    }
}

/// The URL [`Client::identity`] asks, after the safety checks it describes.
pub fn identity_url(login: &LoginUrl, grant: &TokenResponse) -> Result<String> {
    let raw = match (&grant.id, &grant.instance_url) {
        (Some(id), _) => id.clone(),
        (None, Some(inst)) => format!("{}{USERINFO_PATH}", inst.trim_end_matches('/')),
        (None, None) => format!("{}{USERINFO_PATH}", login.as_str()),
    };
    let u = Url::parse(&raw, "identity URL")?;
    if login.is_loopback() {
        // The emulator may hand out Salesforce-shaped URLs; keep the token on loopback.
        if is_loopback_host(&u.host) {
            return Ok(raw);
        }
        return Ok(format!("{}{}", login.origin(), u.path));
    }
    let trusted = u.scheme == "https"
        && (u.host == login.host()
            || [
                ".salesforce.com",
                ".force.com",
                ".site.com",
                ".salesforce.mil",
                ".cloudforce.com",
            ]
            .iter()
            .any(|d| u.host.ends_with(d)));
    if !trusted {
        return Err(Error::invalid(
            "identity URL",
            format!(
                "the token response points at `{}`, which is not a Salesforce host; the token was not sent there",
                crate::x509::escape(&raw)
            ),
        ));
    }
    Ok(raw)
}

/// `application/x-www-form-urlencoded` body from pairs.
pub fn form_body(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        form_encode_into(k, &mut out);
        out.push('=');
        form_encode_into(v, &mut out);
    }
    out
}

fn form_encode_into(s: &str, out: &mut String) {
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
}

fn parse_ca(bytes: &[u8]) -> Result<Vec<Certificate<'static>>> {
    let ders: Vec<Vec<u8>> = if crate::pemfile::is_pem(bytes) {
        crate::pemfile::parse_all(bytes, "CA certificate file")?
            .iter()
            .filter(|b| b.label == "CERTIFICATE" || b.label == "TRUSTED CERTIFICATE")
            .map(|b| b.contents.clone())
            .collect()
    } else {
        vec![bytes.to_vec()]
    };
    if ders.is_empty() {
        return Err(Error::WrongKind {
            expected: "CA certificates (PEM `BEGIN CERTIFICATE` blocks or one DER certificate)",
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

type RawResponse = (u16, String, Option<String>, Vec<u8>);

fn read_response(mut resp: ureq::http::Response<ureq::Body>, url: &str) -> Result<RawResponse> {
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

fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]);
    crate::x509::escape(text.trim())
}

fn unexpected(url: &str, status: u16, ctype: &str, location: Option<&str>, body: &[u8]) -> Error {
    let mut detail = format!("{url} answered HTTP {status}");
    if let Some(loc) = location {
        detail.push_str(&format!(", redirecting to {}", crate::x509::escape(loc)));
    }
    if !ctype.is_empty() {
        detail.push_str(&format!(" ({})", crate::x509::escape(ctype)));
    }
    let s = snippet(body);
    if !s.is_empty() {
        detail.push_str(&format!(": {s}"));
    }
    Error::network(NetworkKind::UnexpectedResponse, detail)
}

fn classify(e: ureq::Error, url: &str) -> Error {
    use ureq::Error as U;
    let (kind, detail) = match &e {
        U::HostNotFound => (
            NetworkKind::Dns,
            "the host name does not resolve".to_owned(),
        ),
        U::Timeout(t) => (NetworkKind::Timeout, format!("no answer in time ({t})")),
        U::ConnectProxyFailed(m) => (NetworkKind::Proxy, m.clone()),
        U::InvalidProxyUrl => (NetworkKind::Proxy, "invalid proxy URL".to_owned()),
        U::Rustls(r) => (NetworkKind::Tls, r.to_string()),
        U::Tls(m) => (NetworkKind::Tls, (*m).to_owned()),
        U::Pem(p) => (NetworkKind::Tls, p.to_string()),
        U::Io(io) => io_kind(io),
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

fn io_kind(io: &std::io::Error) -> (NetworkKind, String) {
    use std::io::ErrorKind as K;
    // rustls errors travel inside io::Error on reads and writes.
    if let Some(inner) = io.get_ref()
        && let Some(r) = inner.downcast_ref::<rustls::Error>()
    {
        return (NetworkKind::Tls, r.to_string());
    }
    let kind = match io.kind() {
        K::TimedOut | K::WouldBlock => NetworkKind::Timeout,
        K::InvalidData => NetworkKind::Tls,
        _ => NetworkKind::Connect,
    };
    (kind, io.to_string())
}

/// A Salesforce error this module can explain.
#[derive(Debug)]
pub struct KnownError {
    /// `error`.
    pub error: &'static str,
    /// `error_description`, exactly as Salesforce sends it.
    pub description: &'static str,
    /// What it means, one sentence.
    pub meaning: &'static str,
    /// Likely causes, most likely first.
    pub causes: &'static [&'static str],
    /// What to change, in order.
    pub fixes: &'static [&'static str],
}

/// Every error Salesforce is known to return from the JWT bearer token endpoint.
pub static KNOWN_ERRORS: &[KnownError] = &[
    KnownError {
        error: "unsupported_grant_type",
        description: "grant type not supported",
        meaning: "the request did not carry grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer as a form field",
        causes: &[
            "the body was not form-encoded (a JSON body, or a proxy or gateway that dropped or rewrote it)",
            "the URL is not a Salesforce token endpoint, or a redirect turned the POST into a GET",
        ],
        fixes: &[
            "send Content-Type: application/x-www-form-urlencoded with grant_type and assertion (certmint mint does)",
            "check --login-url and any proxy between you and Salesforce",
        ],
    },
    KnownError {
        error: "invalid_grant",
        description: "invalid assertion",
        meaning: "Salesforce could not accept the JWT: it is malformed, its signature does not verify against the certificate uploaded to the connected app, or it names a user this org does not have",
        causes: &[
            "the private key does not match the certificate uploaded to the app (\"Use digital signatures\")",
            "the username (sub) does not exist in this org, e.g. a sandbox username (user@acme.com.dev) sent to production",
            "the certificate was changed in the app minutes ago and the change has not propagated yet (2 to 10 minutes)",
            "the assertion is not a signed RS256 JWT (e.g. a key or certificate pasted instead)",
        ],
        fixes: &[
            "compare the public-key fingerprint below with the certificate in the app: `certmint inspect server.crt`",
            "upload the certificate made from this key (certmint cert --key ...) to the app, then wait a few minutes",
            "check the username; for a sandbox use --login-url test and the sandbox username",
        ],
    },
    KnownError {
        error: "invalid_client_id",
        description: "client identifier invalid",
        meaning: "the iss claim is not the consumer key of a connected app or external client app that this login server knows",
        causes: &[
            "the consumer key was copied wrongly or belongs to another app",
            "the app lives in another org or environment (a production app while logging in to a sandbox, or the other way round)",
            "the app was created or changed minutes ago and has not propagated yet",
        ],
        fixes: &[
            "copy the Consumer Key from Setup > App Manager > (app) > View > Manage Consumer Details",
            "use the login URL of the org that holds the app (--login-url login, test or the My Domain URL)",
        ],
    },
    KnownError {
        error: "app_not_found",
        description: "External client app is not installed in this org",
        meaning: "the consumer key belongs to an external client app that is not installed (or not usable) in the org you are logging in to",
        causes: &[
            "the external client app was created in another org and not installed here",
            "an external client app addressed through test.salesforce.com instead of the org's My Domain",
        ],
        fixes: &[
            "install the external client app package in this org, or log in to the org that owns it",
            "use the org's My Domain URL as --login-url (audiences: My Domain URL or https://login.salesforce.com)",
        ],
    },
    KnownError {
        error: "invalid_grant",
        description: "audience is invalid",
        meaning: "the aud claim is not what this login server accepts",
        causes: &[
            "production audience sent to a sandbox or the other way round: sandboxes want https://test.salesforce.com, production and My Domains https://login.salesforce.com",
            "an Experience Cloud site needs the site URL as audience",
            "a trailing slash or a typo in --audience",
        ],
        fixes: &[
            "for a sandbox use --login-url test (or the sandbox My Domain URL); for production --login-url login",
            "let certmint derive the audience from --login-url, or pass --audience login|test|SITE-URL",
        ],
    },
    KnownError {
        error: "invalid_grant",
        description: "expired authorization code",
        meaning: "the assertion's exp had already passed when Salesforce received it",
        causes: &[
            "the local clock is behind (or its time zone handling is wrong)",
            "the assertion was made earlier (certmint jwt) and sent more than --ttl seconds later",
            "exp was written in the wrong unit or the wrong time zone by another signer",
        ],
        fixes: &[
            "set the clock right (NTP: `timedatectl set-ntp true`, or `chronyc makestep`)",
            "mint immediately after signing; certmint mint signs and sends in one step",
        ],
    },
    KnownError {
        error: "invalid_grant",
        description: "user hasn't approved this consumer",
        meaning: "the user is not allowed to use this app without an interactive approval",
        causes: &[
            "the app's Permitted Users policy is \"All users may self-authorize\" and the user never approved it with the refresh_token scope",
            "the policy is \"Admin approved users are pre-authorized\" but the user's profile or permission set is not assigned to the app (reported as this error too)",
            "the username belongs to another org (e.g. a sandbox username)",
        ],
        fixes: &[
            "Setup > App Manager > (app) > Manage > Edit Policies: Permitted Users = \"Admin approved users are pre-authorized\"",
            "then add the user's profile or a permission set assigned to the user under Profiles / Permission Sets on the app's Manage page",
            "make sure the app's OAuth scopes include \"Perform requests at any time (refresh_token, offline_access)\"",
        ],
    },
    KnownError {
        error: "invalid_app_access",
        description: "user is not admin approved to access this app",
        meaning: "the app is set to admin-approved users only, and this user is not among them",
        causes: &[
            "neither the user's profile nor any of the user's permission sets is assigned to the app",
        ],
        fixes: &[
            "Setup > App Manager > (app) > Manage > Manage Profiles / Manage Permission Sets: add the user's profile or a permission set the user has",
        ],
    },
    KnownError {
        error: "invalid_grant",
        description: "inactive user",
        meaning: "the user exists but is deactivated or frozen",
        causes: &["the integration user was deactivated or frozen"],
        fixes: &["reactivate or unfreeze the user (Setup > Users), or use another active user"],
    },
    KnownError {
        error: "invalid_grant",
        description: "ip restricted",
        meaning: "the login was refused by an IP range or login-hours restriction",
        causes: &[
            "the profile's Login IP Ranges do not include this machine's address",
            "the request came outside the profile's login hours",
        ],
        fixes: &[
            "set the app's IP Relaxation policy to \"Relax IP restrictions\", or add this address to the profile's Login IP Ranges",
        ],
    },
];

/// Look up a known error by `error` and `error_description` (case-insensitive; a
/// description with extra text after the known one still matches). When only the error
/// code is known and it has a single description, that entry is returned.
pub fn known_error(error: &str, description: &str) -> Option<&'static KnownError> {
    let d = description.trim().to_ascii_lowercase();
    KNOWN_ERRORS
        .iter()
        .find(|k| {
            k.error.eq_ignore_ascii_case(error)
                && d.starts_with(&k.description.to_ascii_lowercase())
        })
        .or_else(|| {
            let mut same = KNOWN_ERRORS
                .iter()
                .filter(|k| k.error.eq_ignore_ascii_case(error));
            match (same.next(), same.next()) {
                (Some(k), None) => Some(k),
                _ => None,
            }
        })
}

/// What the caller knows about the request, used to make an explanation concrete.
#[derive(Clone, Debug, Default)]
pub struct ExplainContext {
    /// The local clock when the request was sent (seconds since the Unix epoch).
    pub now: Option<i64>,
    /// The assertion's `exp`.
    pub exp: Option<u64>,
    /// The login URL used.
    pub login_url: Option<String>,
    /// The audience sent.
    pub audience: Option<String>,
    /// The consumer key sent.
    pub client_id: Option<String>,
    /// The username sent.
    pub username: Option<String>,
    /// SHA-256 of the signing key's public key (DER SubjectPublicKeyInfo), hex with colons.
    pub key_spki_sha256: Option<String>,
    /// SHA-1 fingerprint of the certificate that should be in the app, when known.
    pub cert_sha1: Option<String>,
    /// True when that certificate's public key is the signing key's.
    pub cert_matches_key: Option<bool>,
}

/// An explanation of a refusal: the catalogue entry and facts from the request.
#[derive(Debug)]
pub struct Explanation {
    /// The catalogue entry, when the error is known.
    pub known: Option<&'static KnownError>,
    /// Concrete facts for this error ("the local clock is …", "the key's fingerprint is …").
    pub facts: Vec<String>,
}

/// Explain a refusal.
pub fn explain(err: &OAuthError, ctx: &ExplainContext) -> Explanation {
    let known = known_error(&err.error, &err.description);
    let mut facts = Vec::new();
    let esc = |s: &str| crate::x509::escape(s);
    match known.map(|k| k.description) {
        Some("invalid assertion") => {
            if let Some(fp) = &ctx.key_spki_sha256 {
                facts.push(format!("the signing key's public-key SHA-256 is {fp}"));
            }
            if let Some(sha1) = &ctx.cert_sha1 {
                facts.push(format!(
                    "the certificate you named has SHA-1 fingerprint {sha1}; Setup > Certificate shows the app's"
                ));
            }
            match ctx.cert_matches_key {
                Some(true) => facts.push(
                    "that certificate matches the key, so if the app holds it, check the username and login URL".into(),
                ),
                Some(false) => facts.push("that certificate does NOT match the signing key".into()),
                None => {}
            }
            if let (Some(u), Some(l)) = (&ctx.username, &ctx.login_url) {
                facts.push(format!("the username sent was {} to {}", esc(u), esc(l)));
            }
        }
        Some("expired authorization code") => {
            if let Some(now) = ctx.now {
                facts.push(format!(
                    "the local clock said {} when the assertion was sent",
                    format_unix(now)
                ));
            }
            if let Some(exp) = ctx.exp {
                facts.push(format!(
                    "the assertion's exp was {exp} ({})",
                    format_unix(i64::try_from(exp).unwrap_or(i64::MAX))
                ));
            }
            facts.push("compare with the real time, e.g. `curl -sI https://login.salesforce.com | grep -i ^date`".into());
        }
        Some("audience is invalid") => {
            if let Some(a) = &ctx.audience {
                facts.push(format!("the audience sent was {}", esc(a)));
            }
            if let Some(l) = &ctx.login_url {
                facts.push(format!("the login URL was {}", esc(l)));
            }
        }
        Some("client identifier invalid")
        | Some("External client app is not installed in this org") => {
            if let Some(c) = &ctx.client_id {
                facts.push(format!("the consumer key sent was {}", esc(c)));
            }
            if let Some(l) = &ctx.login_url {
                facts.push(format!("the login URL was {}", esc(l)));
            }
        }
        Some("user hasn't approved this consumer")
        | Some("user is not admin approved to access this app")
        | Some("inactive user") => {
            if let Some(u) = &ctx.username {
                facts.push(format!("the username sent was {}", esc(u)));
            }
        }
        _ => {}
    }
    Explanation { known, facts }
}

/// Seconds since the epoch as `2026-01-02T03:04:05Z`, or the number when out of range.
pub fn format_unix(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{secs} (not a date)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_aliases_and_audiences() {
        let cases = [
            (
                "login",
                "https://login.salesforce.com",
                LoginKind::Production,
                PRODUCTION,
            ),
            (
                "test",
                "https://test.salesforce.com",
                LoginKind::Sandbox,
                SANDBOX,
            ),
            (
                "https://acme.my.salesforce.com/",
                "https://acme.my.salesforce.com",
                LoginKind::MyDomain,
                PRODUCTION,
            ),
            (
                "acme.my.salesforce.com",
                "https://acme.my.salesforce.com",
                LoginKind::MyDomain,
                PRODUCTION,
            ),
            (
                "https://acme--uat.sandbox.my.salesforce.com",
                "https://acme--uat.sandbox.my.salesforce.com",
                LoginKind::SandboxMyDomain,
                SANDBOX,
            ),
            (
                "https://acme.my.site.com/customers/",
                "https://acme.my.site.com/customers",
                LoginKind::Site,
                "https://acme.my.site.com/customers",
            ),
            (
                "https://site.force.com/customers",
                "https://site.force.com/customers",
                LoginKind::Site,
                "https://site.force.com/customers",
            ),
            (
                "https://portal.acme.com",
                "https://portal.acme.com",
                LoginKind::Site,
                "https://portal.acme.com",
            ),
            (
                "http://127.0.0.1:8080",
                "http://127.0.0.1:8080",
                LoginKind::Loopback,
                PRODUCTION,
            ),
            (
                "http://localhost:1",
                "http://localhost:1",
                LoginKind::Loopback,
                PRODUCTION,
            ),
            (
                "http://[::1]:9",
                "http://[::1]:9",
                LoginKind::Loopback,
                PRODUCTION,
            ),
            (
                "https://login.salesforce.com/services/oauth2/token",
                "https://login.salesforce.com",
                LoginKind::Production,
                PRODUCTION,
            ),
        ];
        for (input, base, kind, aud) in cases {
            let l = LoginUrl::parse(input).unwrap();
            assert_eq!(l.as_str(), base, "{input}");
            assert_eq!(l.kind(), kind, "{input}");
            assert_eq!(l.default_audience(), aud, "{input}");
        }
        assert_eq!(
            LoginUrl::parse("login").unwrap().token_url(),
            "https://login.salesforce.com/services/oauth2/token"
        );
    }

    #[test]
    fn refuses_unsafe_login_urls() {
        for bad in [
            "http://login.salesforce.com",
            "http://10.0.0.1:80",
            "ftp://x",
            "https://acme.lightning.force.com",
            "https://user:pw@login.salesforce.com",
            "https://login.salesforce.com?x=1",
            "",
        ] {
            assert!(LoginUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn audience_values() {
        assert_eq!(resolve_audience("login").unwrap(), PRODUCTION);
        assert_eq!(resolve_audience("TEST").unwrap(), SANDBOX);
        assert_eq!(
            resolve_audience("https://acme.my.site.com/customers/").unwrap(),
            "https://acme.my.site.com/customers"
        );
        assert!(resolve_audience("prodd").is_err());
    }

    #[test]
    fn masking() {
        let t = "00Dxx0000001gPL!AR8AQJXg5oj8jXSgxJfA0lBog.39AsX.LVpxezPwuX5VAIrrbbHMuol7GQxnMeYMN7cj8EoWr78nT1yBx1W1WwXyZ";
        assert_eq!(mask_token(t), "00Dxx0000001gPL!AR8A…wXyZ");
        assert_eq!(mask_token("short"), "…");
        assert_eq!(mask_token("abcdefghijklmnop"), "…mnop");
        assert!(!format!("{:?}", AccessToken::new(t.into())).contains("LVpxez"));
        assert_eq!(
            AccessToken::new(t.into()).org_prefix(),
            Some("00Dxx0000001gPL")
        );
    }

    #[test]
    fn token_response_is_tolerant() {
        let body = br#"{"access_token":"00D!abc","scope":"api web","instance_url":"https://acme.my.salesforce.com","id":"https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS","token_type":"Bearer","issued_at":"1","x":{}}"#;
        let r = TokenResponse::parse(body).unwrap();
        assert_eq!(r.org_id(), Some("00Dxx0000001gPLEAY"));
        assert_eq!(r.user_id(), Some("005xx000001SwiUAAS"));
        assert_eq!(r.other, vec!["issued_at".to_owned(), "x".to_owned()]);
        assert!(TokenResponse::parse(b"{}").is_err());
        assert!(TokenResponse::parse(b"<html>").is_err());
        let e = OAuthError::parse(
            400,
            br#"{"error":"invalid_grant","error_description":"audience is invalid"}"#,
        )
        .unwrap();
        assert_eq!(e.description, "audience is invalid");
        assert!(OAuthError::parse(400, b"[]").is_none());
    }

    #[test]
    fn explanations_cover_the_catalogue() {
        for k in KNOWN_ERRORS {
            let e = OAuthError {
                status: 400,
                error: k.error.into(),
                description: k.description.into(),
            };
            let x = explain(&e, &ExplainContext::default());
            assert!(std::ptr::eq(x.known.unwrap(), k));
        }
        assert!(known_error("invalid_client_id", "something new").is_some());
        assert!(known_error("invalid_grant", "something new").is_none());
        let e = OAuthError {
            status: 400,
            error: "invalid_grant".into(),
            description: "expired authorization code".into(),
        };
        let ctx = ExplainContext {
            now: Some(1_700_000_000),
            exp: Some(1_699_999_000),
            ..Default::default()
        };
        let x = explain(&e, &ctx);
        assert!(x.facts[0].contains("2023-11-14T22:13:20Z"), "{:?}", x.facts);
    }

    #[test]
    fn no_proxy_rules() {
        assert!(no_proxy_matches("*", "login.salesforce.com"));
        assert!(no_proxy_matches("salesforce.com", "login.salesforce.com"));
        assert!(no_proxy_matches(
            " .salesforce.com ",
            "login.salesforce.com"
        ));
        assert!(no_proxy_matches("*.salesforce.com", "login.salesforce.com"));
        assert!(no_proxy_matches("salesforce.com", "salesforce.com"));
        assert!(!no_proxy_matches("force.com", "salesforce.com"));
        assert!(no_proxy_matches(
            "example.org,login.salesforce.com:443",
            "login.salesforce.com"
        ));
        assert!(no_proxy_matches("10.0.0.0/8", "10.1.2.3"));
        assert!(!no_proxy_matches("10.0.0.0/8", "11.1.2.3"));
        assert!(no_proxy_matches("::1", "[::1]"));
        assert!(!no_proxy_matches("", "a.b"));
        let p = ProxySettings {
            proxy: Some("http://proxy:3128".into()),
            no_proxy: Some("internal.example".into()),
        };
        assert!(p.uses_proxy_for("login.salesforce.com"));
        assert!(!p.uses_proxy_for("127.0.0.1"));
        assert!(!p.uses_proxy_for("a.internal.example"));
    }

    #[test]
    fn identity_url_stays_on_loopback_and_salesforce() {
        let mut r = TokenResponse::parse(
            br#"{"access_token":"x","id":"https://login.salesforce.com/id/00D/005"}"#,
        )
        .unwrap();
        let lo = LoginUrl::parse("http://127.0.0.1:5000").unwrap();
        assert_eq!(
            identity_url(&lo, &r).unwrap(),
            "http://127.0.0.1:5000/id/00D/005"
        );
        let prod = LoginUrl::parse("https://acme.my.salesforce.com").unwrap();
        assert_eq!(
            identity_url(&prod, &r).unwrap(),
            "https://login.salesforce.com/id/00D/005"
        );
        r.id = Some("https://evil.example/id/00D/005".into());
        assert!(identity_url(&prod, &r).is_err());
        r.id = Some("http://login.salesforce.com/id/00D/005".into());
        assert!(identity_url(&prod, &r).is_err());
    }

    #[test]
    fn form_encoding() {
        assert_eq!(
            form_body(&[("grant_type", GRANT_TYPE), ("assertion", "a.b-c_d")]),
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=a.b-c_d"
        );
    }
}
