//! The emulator without a socket: one HTTP/1.1 connection over an in-memory pipe, served by
//! exactly the code that serves TCP connections (limits, routing, validation, responses).
//! For fuzzing (`fuzz/fuzz_targets/emulator_http.rs`) and tests that want the server's
//! bytes without ports, a listener or threads.

use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::config::Config;
use super::server;
use super::state::{Limits, Shared};
use super::tokens::Grant;
use crate::Result;

/// The base URL the in-memory server believes it has.
pub(super) const BASE_URL: &str = "http://127.0.0.1:8080";

/// An emulator that answers raw request bytes. See the module documentation.
pub struct InMemory {
    runtime: tokio::runtime::Runtime,
    shared: Arc<Shared>,
    builder: http1::Builder,
}

impl std::fmt::Debug for InMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InMemory")
    }
}

impl InMemory {
    /// An emulator for `config` with `limits`, logging nothing.
    pub fn new(config: Config, limits: Limits) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let builder = server::conn_builder(&limits);
        let shared = Arc::new(Shared::new(
            config,
            BASE_URL.to_owned(),
            limits,
            false,
            None,
        )?);
        Ok(InMemory {
            runtime,
            shared,
            builder,
        })
    }

    /// A valid access token for user `user` of app `app` (indexes into the config), as
    /// if granted now: lets a caller reach the endpoints that need a session.
    pub fn token(&self, app: usize, user: usize) -> Result<String> {
        self.shared.tokens.issue(
            self.shared.cfg.org_id15(),
            Grant { app, user },
            self.shared.now(),
        )
    }

    /// Open a connection, send `request`, close the sending side, and return every byte
    /// the server wrote before it closed the connection; `None` when the server did not
    /// finish within `limit` (a hang: with the client's side closed, nothing should wait).
    ///
    /// The server treats the closed sending side as the client gone (HTTP/1.1 without
    /// half-close), so a request whose answer needs its body read may get no answer at all;
    /// [`InMemory::request`] keeps the sending side open.
    pub fn exchange(&self, request: &[u8], limit: Duration) -> Option<Vec<u8>> {
        self.run(request, limit, true)
    }

    /// Open a connection, send `request` (which should end with `Connection: close`),
    /// and return every byte the server wrote before it closed the connection, keeping the
    /// sending side open meanwhile, as a real client does; `None` when the server did not
    /// finish within `limit`.
    pub fn request(&self, request: &[u8], limit: Duration) -> Option<Vec<u8>> {
        self.run(request, limit, false)
    }

    fn run(&self, request: &[u8], limit: Duration, close_sending: bool) -> Option<Vec<u8>> {
        let shared = self.shared.clone();
        let builder = self.builder.clone();
        let input = request.to_vec();
        self.runtime.block_on(async move {
            let (client, server) = tokio::io::duplex(64 * 1024);
            // Held until the exchange ends: a dropped sender would read as "stop".
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            let served = tokio::spawn(async move {
                let io = server::WriteTimeout::new(server, shared.limits.write_timeout);
                server::serve_conn(
                    &builder,
                    TokioIo::new(io),
                    shared,
                    stop_rx,
                    server::Listener::Org,
                )
                .await;
            });
            let (mut rd, mut wr) = tokio::io::split(client);
            let writer = async move {
                // The server may stop reading (a 431, a 413, a parse error): not a failure.
                let _ = wr.write_all(&input).await;
                if close_sending {
                    let _ = wr.shutdown().await;
                }
                // Dropping `wr` alone does not close the stream: `rd` shares it.
            };
            let reader = async move {
                let mut out = Vec::new();
                let _ = rd.read_to_end(&mut out).await;
                out
            };
            let both = async { tokio::join!(writer, reader).1 };
            let out = tokio::time::timeout(limit, both).await.ok();
            let _ = stop_tx.send(true);
            let _ = tokio::time::timeout(limit, served).await;
            out
        })
    }
}
