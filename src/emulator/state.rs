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
//! The configured org is immutable while the server runs. State that requests change (an
//! offline org's users, profiles, permission sets, apps and deployed metadata) belongs in a
//! field of its own here, behind a lock, next to `cfg`; handlers reach it through
//! [`Shared`] like everything else, and new routes (REST describe, limits, query; a
//! Metadata API deploy endpoint) are new handler modules and new lines in `routes`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hyper::body::Bytes;

use super::config::{Config, UrlStyle};
use super::tokens::Tokens;
use crate::Result;
use crate::wire::identity::id_url;
use crate::wire::rest::ApiVersion;

/// The newest REST API version served (Spring '26).
pub(super) const LATEST_API: u32 = 66;
/// The oldest REST API version listed (older ones are still answered).
pub(super) const OLDEST_API: u32 = 31;

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
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0)
            .saturating_add(self.offset)
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
        Urls {
            base,
            instance,
            id_host,
            org_id: cfg.org_id.clone(),
        }
    }

    /// The identity URL of a user (by 18-character id).
    pub(super) fn identity(&self, user_id: &str) -> String {
        id_url(&self.id_host, &self.org_id, user_id)
    }
}

/// Writes log lines on a thread of its own so a slow or blocked stderr never stalls the
/// server; lines beyond a bounded backlog are dropped.
pub(super) struct Logger {
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

/// Everything a request handler needs.
pub(crate) struct Shared {
    /// The org as configured.
    pub(super) cfg: Config,
    /// Issues and checks access tokens.
    pub(super) tokens: Tokens,
    /// The URLs handed out.
    pub(super) urls: Urls,
    /// Size limits and timeouts.
    pub(super) limits: Limits,
    clock: Clock,
    log: Option<Logger>,
    /// `GET /services/data/`, serialised once.
    pub(super) versions: Bytes,
}

impl Shared {
    pub(crate) fn new(cfg: Config, base_url: String, limits: Limits, log: bool) -> Result<Self> {
        let versions: Vec<ApiVersion> = (OLDEST_API..=LATEST_API).map(ApiVersion::new).collect();
        Ok(Shared {
            // Strings only: serialising cannot fail.
            versions: Bytes::from(serde_json::to_vec(&versions).unwrap_or_default()),
            urls: Urls::new(&cfg, base_url),
            clock: Clock::with_offset(cfg.clock_offset),
            cfg,
            tokens: Tokens::new()?,
            limits,
            log: log.then(Logger::new),
        })
    }

    /// The emulator's clock, seconds since the Unix epoch.
    pub(super) fn now(&self) -> i64 {
        self.clock.now()
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

    #[test]
    fn versions_document() {
        let cert = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/certs/base.crt"),
        )
        .unwrap();
        let cfg = Config::simple(&cert, "K", &["a@example.com".into()]).unwrap();
        let sh = Shared::new(cfg, "http://127.0.0.1:1".into(), Limits::default(), false).unwrap();
        let v = std::str::from_utf8(&sh.versions).unwrap();
        assert!(
            v.contains(r#"{"label":"Winter '15","url":"/services/data/v32.0","version":"32.0"}"#)
        );
        assert!(v.contains(r#""label":"Spring '26","url":"/services/data/v66.0""#));
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
