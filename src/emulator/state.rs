//! The bottom layer of the emulator: what every request handler reads. The org as
//! configured ([`Config`]), the access tokens ([`Tokens`]), the URLs the emulator hands
//! out ([`Urls`]), its clock ([`Clock`]), the size limits and timeouts ([`Limits`]), the
//! request log ([`Logger`]) and the documents computed once at start-up (the REST API
//! versions list).
//!
//! The layers above, each importing only those below it: `response` (answers and their
//! builders), `handlers` (the token grant; identity, UserInfo and REST data), `routes`
//! (dispatch by method and path), `server` (accept loop, TLS, per-connection limits).
//!
//! `cfg` is the org as configured at start-up, for its fixed settings (org id, My Domain,
//! clock, URLs); what requests change (users, profiles, permission sets, apps) lives in
//! [`Org`] behind a lock (`org`), which grants and queries read and deploys and REST
//! writes change.

use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hyper::body::Bytes;

use super::config::{Config, UrlStyle};
use super::org::Org;
use super::tokens::Tokens;
use crate::Result;
use crate::wire::identity::id_url;
use crate::wire::rest::ApiVersion;

/// The newest REST API version served (Summer '26).
pub(crate) const LATEST_API: u32 = 67;
/// The oldest REST API version listed (older ones are still answered).
pub(super) const OLDEST_API: u32 = 31;

/// Deploy request bodies (up to [`Limits::max_deploy_body`] each) received at once; more
/// wait, up to the body timeout, then get 503.
pub(super) const DEPLOY_UPLOADS: usize = 4;

/// Records a query answers with at once; the rest follow through `nextRecordsUrl`
/// (Salesforce's REST query resource: "up to 2,000 records can be returned at a time").
pub(super) const QUERY_BATCH: usize = 2000;

/// Query locators (for `nextRecordsUrl`) kept at most, and the most query text they hold
/// together; the oldest are dropped first (their next pages answer `INVALID_QUERY_LOCATOR`).
const MAX_LOCATORS: usize = 1000;
const MAX_LOCATOR_BYTES: usize = 4 << 20;

/// A query whose next pages may still be asked for.
pub(super) struct Locator {
    /// `01g…`.
    id: String,
    /// The query's text.
    pub(super) query: String,
    /// Asked through the Tooling API.
    pub(super) tooling: bool,
    /// Its matches, as its first page counted them (`totalSize`).
    pub(super) total: usize,
    /// Where in the object's rows the page starting at each offset begins.
    starts: Vec<(usize, usize)>,
}

impl Locator {
    /// The row the page at `offset` starts at, when a page before found it.
    pub(super) fn start_of(&self, offset: usize) -> Option<usize> {
        self.starts
            .iter()
            .find(|(o, _)| *o == offset)
            .map(|(_, row)| *row)
    }
}

/// The queries whose next pages may still be asked for, oldest first, at most
/// [`MAX_LOCATORS`] holding [`MAX_LOCATOR_BYTES`] of query text.
#[derive(Default)]
pub(super) struct Locators {
    made: usize,
    kept: std::collections::VecDeque<Locator>,
    bytes: usize,
}

impl Locators {
    /// Keep a query whose next page (at `offset`) starts at row `start`; its locator (an
    /// 18-character `01g…` id).
    pub(super) fn keep(
        &mut self,
        query: &str,
        tooling: bool,
        total: usize,
        offset: usize,
        start: usize,
    ) -> Result<String> {
        self.made += 1;
        let id = super::config::record_id("01g", self.made)?;
        while !self.kept.is_empty()
            && (self.kept.len() >= MAX_LOCATORS || self.bytes + query.len() > MAX_LOCATOR_BYTES)
        {
            if let Some(l) = self.kept.pop_front() {
                self.bytes -= l.query.len();
            }
        }
        self.bytes += query.len();
        self.kept.push_back(Locator {
            id: id.clone(),
            query: query.to_owned(),
            tooling,
            total,
            starts: vec![(offset, start)],
        });
        Ok(id)
    }

    /// A locator still kept.
    pub(super) fn find(&self, id: &str) -> Option<&Locator> {
        self.kept.iter().find(|l| l.id == id)
    }

    /// Remember where the page of locator `id` at `offset` starts (a query has at most
    /// `MAX_ASSIGNMENTS / QUERY_BATCH` pages).
    pub(super) fn remember(&mut self, id: &str, offset: usize, start: usize) {
        if let Some(l) = self.kept.iter_mut().find(|l| l.id == id)
            && l.start_of(offset).is_none()
        {
            l.starts.push((offset, start));
        }
    }
}

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
    /// Time the server waits for a client to take a response (a client that never reads
    /// stalls the write); the connection is closed after it. Default 2 s.
    pub write_timeout: Duration,
    /// The write timeout while every connection permit is taken (`max_connections` served
    /// at once and more waiting): a stalled connection gives its place to a waiting client
    /// after this instead. Clients that never read then cannot keep others out for more
    /// than about a second. Default 500 ms.
    pub pressure_write_timeout: Duration,
    /// Longest life of one connection, however busy; closed after it. Default 120 s.
    pub connection_deadline: Duration,
    /// Kernel send buffer of each connection (`SO_SNDBUF`, which Linux doubles), bytes;
    /// what a client that never reads can leave unread before the write stalls and
    /// `write_timeout` applies. 0 leaves the system's autotuning. Default 64 KiB.
    pub send_buffer: usize,
    /// Largest deploy request body (multipart with the zip), bytes. Default 4 MiB.
    pub max_deploy_body: usize,
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
            write_timeout: Duration::from_secs(2),
            pressure_write_timeout: Duration::from_millis(500),
            connection_deadline: Duration::from_secs(120),
            send_buffer: 64 * 1024,
            max_deploy_body: 4 << 20,
        }
    }
}

/// The emulator's clock: the system's plus a configured offset (a positive offset runs
/// ahead, which is how to reproduce `expired authorization code`).
#[derive(Clone, Copy, Debug)]
pub(super) struct Clock {
    offset: i64,
}

impl Clock {
    pub(super) fn with_offset(offset: i64) -> Self {
        Clock { offset }
    }

    /// Seconds since the Unix epoch.
    pub(super) fn now(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Milliseconds since the Unix epoch.
    pub(super) fn now_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
            .saturating_add(self.offset.saturating_mul(1000))
    }
}

/// The URLs the emulator hands out in token responses and identity bodies.
#[derive(Clone, Debug)]
pub(super) struct Urls {
    /// Where clients reach the emulator (`http://127.0.0.1:PORT`).
    pub(super) base: String,
    /// `instance_url` of a token response.
    pub(super) instance: String,
    /// The host of identity URLs.
    id_host: String,
    org_id: String,
    /// The base URL under every loopback name of the emulator (`localhost`, `127.0.0.1`,
    /// `[::1]`), accepted as an audience.
    pub(super) aliases: Vec<String>,
}

impl Urls {
    fn new(cfg: &Config, base: String) -> Self {
        let (instance, id_host) = match cfg.urls {
            UrlStyle::Emulator => (base.clone(), base.clone()),
            UrlStyle::Salesforce => (
                cfg.my_domain.clone().unwrap_or_else(|| base.clone()),
                cfg.login_host().to_owned(),
            ),
        };
        let aliases = loopback_aliases(&base);
        Urls {
            base,
            instance,
            id_host,
            org_id: cfg.org_id.clone(),
            aliases,
        }
    }

    /// The identity URL of a user (by 18-character id).
    pub(super) fn identity(&self, user_id: &str) -> String {
        id_url(&self.id_host, &self.org_id, user_id)
    }
}

/// `scheme://host:port` under each loopback name when `base` is a loopback URL.
fn loopback_aliases(base: &str) -> Vec<String> {
    let Some((scheme, rest)) = base.split_once("://") else {
        return Vec::new();
    };
    let host_port = rest.split('/').next().unwrap_or(rest);
    let Some((host, port)) = host_port.rsplit_once(':') else {
        return Vec::new();
    };
    if !matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
        return Vec::new();
    }
    ["localhost", "127.0.0.1", "[::1]"]
        .iter()
        .map(|h| format!("{scheme}://{h}:{port}"))
        .collect()
}

/// Writes log lines on a thread of its own so a slow or blocked stderr never stalls the
/// server; lines beyond a bounded backlog are dropped. When the server stops (the logger
/// is dropped), the lines still queued are written before it returns, waiting at most
/// [`LOG_DRAIN`] for a blocked stderr.
pub(super) struct Logger {
    tx: Option<std::sync::mpsc::SyncSender<String>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// How long a stopping server waits for its queued log lines to be written.
const LOG_DRAIN: Duration = Duration::from_secs(1);

impl Logger {
    fn new() -> Self {
        Self::to(std::io::stderr())
    }

    /// A logger writing to `out` (stderr, or a buffer in the tests).
    fn to(mut out: impl std::io::Write + Send + 'static) -> Self {
        let (tx, rx) = std::sync::mpsc::sync_channel::<String>(4096);
        let thread = std::thread::Builder::new()
            .name("certmint-emulator-log".into())
            .spawn(move || {
                for line in rx {
                    let _ = writeln!(out, "{line}");
                }
            })
            .ok();
        Logger {
            tx: Some(tx),
            thread,
        }
    }

    fn line(&self, s: String) {
        if let Some(tx) = &self.tx {
            let _ = tx.try_send(s);
        }
    }
}

impl Drop for Logger {
    fn drop(&mut self) {
        // Without a sender the thread ends once it has written what is queued.
        drop(self.tx.take());
        let Some(thread) = self.thread.take() else {
            return;
        };
        let deadline = std::time::Instant::now() + LOG_DRAIN;
        while !thread.is_finished() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        if thread.is_finished() {
            let _ = thread.join();
        }
    }
}

/// Everything a request handler needs.
pub(crate) struct Shared {
    /// The org as configured at start-up (its fixed settings).
    pub(super) cfg: Config,
    /// The org as it is now.
    org: RwLock<Org>,
    /// Issues and checks access tokens.
    pub(super) tokens: Tokens,
    /// The URLs handed out.
    pub(super) urls: Urls,
    /// The login host's URL under each loopback name, when the emulator plays one
    /// (`ServerOptions::login_listen`): accepted as an audience there.
    pub(super) login_urls: Vec<String>,
    /// Size limits and timeouts.
    pub(super) limits: Limits,
    clock: Clock,
    log: Option<Logger>,
    /// `GET /services/data/`, serialised once.
    pub(super) versions: Bytes,
    /// Authenticated REST requests served (`Sforce-Limit-Info`, `limits`).
    api_requests: std::sync::atomic::AtomicU64,
    /// Deploy bodies being received ([`DEPLOY_UPLOADS`] at once).
    pub(super) deploy_uploads: tokio::sync::Semaphore,
    /// Queries with pages still to come.
    pub(super) locators: std::sync::Mutex<Locators>,
}

impl Shared {
    pub(crate) fn new(
        cfg: Config,
        base_url: String,
        limits: Limits,
        log: bool,
        state_file: Option<std::path::PathBuf>,
    ) -> Result<Self> {
        let versions: Vec<ApiVersion> = (OLDEST_API..=LATEST_API).map(ApiVersion::new).collect();
        Ok(Shared {
            org: RwLock::new(Org::new(cfg.clone(), state_file)),
            // Strings only: serialising cannot fail.
            versions: Bytes::from(serde_json::to_vec(&versions).unwrap_or_default()),
            urls: Urls::new(&cfg, base_url),
            login_urls: Vec::new(),
            clock: Clock::with_offset(cfg.clock_offset),
            cfg,
            tokens: Tokens::new()?,
            limits,
            log: log.then(Logger::new),
            api_requests: std::sync::atomic::AtomicU64::new(0),
            deploy_uploads: tokio::sync::Semaphore::new(DEPLOY_UPLOADS),
            locators: std::sync::Mutex::new(Locators::default()),
        })
    }

    /// The same, also playing the login host at `base` (its own URL, as an audience).
    pub(crate) fn with_login_host(mut self, base: &str) -> Self {
        let mut urls = vec![base.to_owned()];
        urls.extend(loopback_aliases(base).into_iter().filter(|u| u != base));
        self.login_urls = urls;
        self
    }

    /// The emulator's clock, seconds since the Unix epoch.
    pub(super) fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The emulator's clock, milliseconds since the Unix epoch.
    pub(super) fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Count an authenticated REST request; returns the count so far.
    pub(super) fn count_api_request(&self) -> u64 {
        self.api_requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .saturating_add(1)
    }

    /// Authenticated REST requests so far.
    pub(super) fn api_requests(&self) -> u64 {
        self.api_requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The org, to read.
    pub(super) fn org(&self) -> RwLockReadGuard<'_, Org> {
        self.org.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The org, to change.
    pub(super) fn org_mut(&self) -> RwLockWriteGuard<'_, Org> {
        self.org.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Log a line (built only when logging is on).
    pub(super) fn log(&self, line: impl FnOnce() -> String) {
        if let Some(l) = &self.log {
            l.line(line());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that takes 1 ms per write, into a buffer the test reads.
    struct Slow(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Slow {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            std::thread::sleep(Duration::from_millis(1));
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Regression: the lines still queued when the server stopped were lost if the process
    /// exited before the log thread wrote them (`certmint emulate` stopped by SIGTERM
    /// right after a request sometimes logged `emulator stopped` without the request's
    /// line). Dropping the logger now writes them first.
    #[test]
    fn a_stopping_logger_writes_the_lines_still_queued() {
        let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = Logger::to(Slow(buf.clone()));
        for i in 0..100 {
            log.line(format!("line {i}"));
        }
        drop(log);
        let text = String::from_utf8(buf.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 100, "{text}");
        assert!(text.ends_with("line 99\n"), "{text}");
    }

    /// A stderr that never takes a line delays the stop by at most [`LOG_DRAIN`].
    #[test]
    fn a_blocked_log_delays_the_stop_by_at_most_the_drain_time() {
        struct Blocked;
        impl std::io::Write for Blocked {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                std::thread::sleep(Duration::from_secs(3600));
                Ok(0)
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let log = Logger::to(Blocked);
        log.line("stuck".into());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            drop(log);
            let _ = tx.send(());
        });
        // Generous: a hang guard on the drop, not a measurement of it.
        assert!(rx.recv_timeout(LOG_DRAIN * 30).is_ok(), "the stop hung");
    }

    #[test]
    fn versions_document() {
        let cert = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/certs/base.crt"),
        )
        .unwrap();
        let cfg = Config::simple(&cert, "K", &["a@example.com".into()]).unwrap();
        let sh = Shared::new(
            cfg,
            "http://127.0.0.1:1".into(),
            Limits::default(),
            false,
            None,
        )
        .unwrap();
        assert_eq!(
            sh.urls.aliases,
            ["http://localhost:1", "http://127.0.0.1:1", "http://[::1]:1"]
        );
        let v = std::str::from_utf8(&sh.versions).unwrap();
        assert!(
            v.contains(r#"{"label":"Winter '15","url":"/services/data/v32.0","version":"32.0"}"#)
        );
        assert!(v.contains(r#""label":"Spring '26","url":"/services/data/v66.0""#));
        assert!(v.contains(r#""label":"Summer '26","url":"/services/data/v67.0""#));
        let parsed: Vec<ApiVersion> = serde_json::from_str(v).unwrap();
        assert_eq!(parsed.len(), (OLDEST_API..=LATEST_API).count());
        assert_eq!(
            sh.urls.identity(&sh.cfg.users[0].id),
            format!(
                "http://127.0.0.1:1/id/{}/{}",
                sh.cfg.org_id, sh.cfg.users[0].id
            )
        );
    }
}
