//! A local emulator of Salesforce's OAuth 2.0 JWT bearer token endpoint, and of the
//! follow-up calls that prove a token works (identity URL, UserInfo, REST API versions),
//! so the whole flow can be tried, tested and taught offline.
//!
//! It checks assertions the way Salesforce does (see [`validate`]) and answers with
//! Salesforce's exact JSON errors, status and headers: the bodies are the
//! [`crate::wire`] types that the client parses. HTTP/1.1 over hyper and tokio, HTTPS
//! through rustls when given a certificate and key.
//!
//! Layered bottom-up, each layer importing only those below it: `config` (the org) and
//! `tokens` (access tokens); `state` (what handlers share: limits, log, clock, URLs,
//! precomputed documents); `response` (answers and their builders); `handlers` (the
//! token grant; identity, UserInfo and REST data); `routes` (dispatch); `server` (accept
//! loop, TLS, per-connection limits). This module and `memory` sit on top.
//!
//! ```no_run
//! # fn main() -> certmint::Result<()> {
//! use certmint::emulator::{Config, ServerOptions, start};
//! let cert = std::fs::read("server.crt")?;
//! let config = Config::simple(&cert, "3MVG9-consumer-key", &["alice@example.com".into()])?;
//! let running = start(config, ServerOptions::default())?; // 127.0.0.1, a free port
//! println!("{}", running.base_url());
//! running.shutdown();
//! # Ok(()) }
//! ```

mod config;
mod handlers;
mod memory;
mod org;
mod response;
mod routes;
mod server;
pub mod soql;
mod state;
#[cfg(test)]
mod tests;
mod tokens;

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub use config::{
    App, Config, DEFAULT_ORG_ID, DEFAULT_PROPAGATION_SECONDS, EcaKeyOnUpdate, GeneratedPolicies,
    LoginHostEca, OmittedCertificate, Permission, PermissionSetRecord, Permissions, PermittedUsers,
    Profile, STANDARD_USER, SYSTEM_ADMINISTRATOR, UrlStyle, User, id18, id18_suffix,
};
pub use handlers::grant::{Endpoint, Refusal, validate, validate_with};
pub use memory::InMemory;
pub use org::{
    MAX_APPS, MAX_ASSIGNMENTS, MAX_DEPLOYS, MAX_PERMISSION_SETS, MAX_PROFILES, MAX_USERS,
};
pub use server::TlsIdentity;
pub use state::Limits;
pub use tokens::{Grant, MAX_REVOKED};

use crate::{Error, Result};

/// How the server runs.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Address to bind; port 0 picks a free port. Default `127.0.0.1:0`.
    pub listen: SocketAddr,
    /// Serve HTTPS with this identity.
    pub tls: Option<TlsIdentity>,
    /// Size limits and timeouts.
    pub limits: Limits,
    /// Log one line per request to stderr (method, path, status, error, latency; never
    /// assertions or tokens).
    pub log: bool,
    /// Worker threads; 0 means one per CPU.
    pub workers: usize,
    /// Stop on Ctrl-C or SIGTERM.
    pub stop_on_signals: bool,
    /// Keep the org's profiles, permission sets, apps and users in this file: loaded at
    /// start when it exists (instead of the configuration's), rewritten after each change.
    pub state_file: Option<std::path::PathBuf>,
    /// The host the base URL names (`localhost` for `--listen localhost:PORT`); `None`
    /// shows the bound address.
    pub shown_host: Option<String>,
    /// Also play the login host (login.salesforce.com, or test.salesforce.com for a
    /// sandbox) on this address: its token endpoint only (connected apps as on the org's
    /// own, External Client Apps refused unless `eca_at_login_host = "accept"`), 404 for
    /// everything else. Same scheme as the main listener.
    pub login_listen: Option<SocketAddr>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: None,
            limits: Limits::default(),
            log: false,
            workers: 0,
            stop_on_signals: false,
            state_file: None,
            shown_host: None,
            login_listen: None,
        }
    }
}

/// A running emulator. Dropping it stops the server.
pub struct Running {
    base_url: String,
    login_url: Option<String>,
    shared: Arc<state::Shared>,
    local_addr: SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("base_url", &self.base_url)
            .finish()
    }
}

/// A handle that can stop a [`Running`] emulator from another thread.
#[derive(Clone, Debug)]
pub struct StopHandle(tokio::sync::watch::Sender<bool>);

impl StopHandle {
    /// Ask the server to stop (in-flight requests are given two seconds).
    pub fn stop(&self) {
        let _ = self.0.send(true);
    }
}

impl Running {
    /// `http://127.0.0.1:PORT` (or `https://…`): where clients connect. For a wildcard
    /// bind address the loopback address is shown.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The login host's URL (`http://127.0.0.1:PORT`), when it plays one
    /// ([`ServerOptions::login_listen`]).
    pub fn login_url(&self) -> Option<&str> {
        self.login_url.as_deref()
    }

    /// A session (an access token) for `username`, as if the user had logged in to the org
    /// in a browser: the admin session `certmint demo` and tests use, without an app to log
    /// in through. The token names the org's first app and expires as any other.
    pub fn session_for(&self, username: &str) -> Result<String> {
        let org = self.shared.org();
        let user = org.cfg.user_by_name(username).ok_or_else(|| {
            Error::invalid(
                crate::error::Input::User,
                format!(
                    "the emulator has no user `{}`",
                    crate::text::escape(username)
                ),
            )
        })?;
        if org.cfg.apps.is_empty() {
            return Err(Error::invalid(
                crate::error::Input::App,
                "the emulator has no app to issue a session through",
            ));
        }
        self.shared.tokens.issue(
            org.cfg.org_id15(),
            tokens::Grant { app: 0, user },
            self.shared.now(),
        )
    }

    /// A handle to stop the server from elsewhere.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle(self.stop.clone())
    }

    /// Stop the server and wait for it.
    pub fn shutdown(mut self) {
        let _ = self.stop.send(true);
        self.join();
    }

    /// Block until the server stops (a signal, when `stop_on_signals`, or a [`StopHandle`]).
    pub fn wait(mut self) {
        self.join();
    }

    fn join(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        self.join();
    }
}

/// True when `addr` is a loopback address (the emulator's safe default).
pub fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

/// Bind, then serve on background threads. Returns once the socket is listening, so the
/// base URL is immediately usable.
pub fn start(config: Config, opts: ServerOptions) -> Result<Running> {
    let workers = if opts.workers == 0 {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    } else {
        opts.workers
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("certmint-emulator")
        .enable_io()
        .enable_time()
        .build()?;
    let (listener, login_listener) = {
        let _in_runtime = runtime.enter();
        let main = server::listen(opts.listen, &opts.limits)?;
        let login = match opts.login_listen {
            Some(addr) => Some(server::listen(addr, &opts.limits)?),
            None => None,
        };
        (main, login)
    };
    let local_addr = listener.local_addr()?;
    let scheme = if opts.tls.is_some() { "https" } else { "http" };
    let url_of = |addr: SocketAddr, shown_host: Option<&String>| {
        let shown_ip = match addr.ip() {
            _ if shown_host.is_some() => shown_host.cloned().unwrap_or_default(),
            ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_owned(),
            ip if ip.is_unspecified() => "[::1]".to_owned(),
            std::net::IpAddr::V6(v6) => format!("[{v6}]"),
            ip => ip.to_string(),
        };
        format!("{scheme}://{shown_ip}:{}", addr.port())
    };
    let base_url = url_of(local_addr, opts.shown_host.as_ref());
    let login_url = match &login_listener {
        Some(l) => Some(url_of(l.local_addr()?, None)),
        None => None,
    };
    let tls = match &opts.tls {
        Some(id) => Some(server::tls_acceptor(id)?),
        None => None,
    };
    let config = match &opts.state_file {
        Some(p) if p.exists() => {
            // An org at its caps writes a few MiB; a bounded, regular-file-only read.
            let bytes = crate::readfile::read_at_most(p, 64 << 20)?;
            let text = std::str::from_utf8(&bytes)
                .map_err(|e| Error::corrupt(crate::error::Input::EmulatorState, e))?;
            config.with_state(text)?
        }
        _ => config,
    };
    let mut shared = state::Shared::new(
        config,
        base_url.clone(),
        opts.limits.clone(),
        opts.log,
        opts.state_file.clone(),
    )?;
    if let Some(u) = &login_url {
        shared = shared.with_login_host(u);
    }
    let shared = Arc::new(shared);
    let kept = Arc::clone(&shared);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stop_on_signals = opts.stop_on_signals;
    let signal_tx = stop_tx.clone();
    let thread = std::thread::Builder::new()
        .name("certmint-emulator-main".into())
        .spawn(move || {
            runtime.block_on(async move {
                if stop_on_signals {
                    tokio::spawn(wait_for_signal(signal_tx));
                }
                let login = login_listener.map(|l| {
                    tokio::spawn(server::serve(
                        l,
                        tls.clone(),
                        shared.clone(),
                        stop_rx.clone(),
                        server::Listener::Login,
                    ))
                });
                server::serve(listener, tls, shared, stop_rx, server::Listener::Org).await;
                if let Some(l) = login {
                    let _ = l.await;
                }
            });
            runtime.shutdown_timeout(Duration::from_millis(500));
        })
        .map_err(Error::Io)?;
    Ok(Running {
        base_url,
        login_url,
        shared: kept,
        local_addr,
        stop: stop_tx,
        thread: Some(thread),
    })
}

async fn wait_for_signal(stop: tokio::sync::watch::Sender<bool>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        match term {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    let _ = stop.send(true);
}
