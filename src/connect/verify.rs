//! The proof that an app works: a JWT bearer token minted through it with the directory's
//! key, tried with backoff until the deploy has propagated or the wait is over. Salesforce
//! Help ("OAuth Plugin Enablement with Metadata API") says a change to an External Client
//! App's global settings, which hold the certificate, "takes effect immediately and is
//! distributed globally within 15 minutes"; a third party reports up to 30 minutes for a
//! new app. While it waits, [`sleep`] tells the [`Report`] how long is left every second.

use std::time::{Duration, Instant};

use super::Report;
use crate::jwt::{Claims, HeaderStyle, Signer};
use crate::key::RsaKey;
use crate::token_endpoint::{Client, Exchange, LoginUrl, OAuthError, TokenResponse};
use crate::{Error, Result};

/// Backoff between attempts: 1 s, doubling, at most `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    next: Duration,
    max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            next: Duration::from_secs(1),
            max: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// A backoff starting at `first`, doubling up to `max`.
    pub fn new(first: Duration, max: Duration) -> Self {
        Backoff {
            next: first.max(Duration::from_millis(1)),
            max: max.max(first),
        }
    }

    /// The next pause (never beyond `left`), and the one after doubles.
    pub fn pause(&mut self, left: Duration) -> Duration {
        let p = self.next.min(left);
        self.next = (self.next * 2).min(self.max);
        p
    }
}

/// One attempt's outcome.
#[derive(Debug)]
pub enum Attempt {
    /// A token was issued.
    Granted(TokenResponse),
    /// The token endpoint refused the assertion.
    Refused(OAuthError),
    /// The request failed (network, TLS, an answer that is not the protocol's).
    Failed(Error),
}

/// How a wait for an app ended.
#[derive(Debug)]
pub enum Proof {
    /// A token was minted.
    Works {
        /// Attempts made (1 when it worked at once).
        attempts: u32,
        /// Time from the first attempt to the token.
        after: Duration,
        /// The token (masked when shown).
        grant: TokenResponse,
    },
    /// It did not work within the wait.
    TimedOut {
        /// Attempts made.
        attempts: u32,
        /// The last attempt's outcome.
        last: Attempt,
    },
}

impl Proof {
    /// True when a token was minted.
    pub fn works(&self) -> bool {
        matches!(self, Proof::Works { .. })
    }
}

/// Mints through one app with one key.
pub struct Prover<'a> {
    http: &'a Client,
    login: LoginUrl,
    audience: String,
    signer: Signer,
    client_id: String,
    username: String,
}

impl std::fmt::Debug for Prover<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prover")
            .field("login", &self.login.as_str())
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .finish()
    }
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl<'a> Prover<'a> {
    /// A prover for `client_id` and `username` at `login`, signing with `key`; the
    /// audience is the login URL's default.
    pub fn new(
        http: &'a Client,
        login: LoginUrl,
        key: &RsaKey,
        client_id: &str,
        username: &str,
    ) -> Result<Self> {
        let audience = login.default_audience();
        Self::with_audience(http, login, audience, key, client_id, username)
    }

    /// A prover with the assertions' audience given (an External Client App minted at the
    /// org's My Domain keeps `https://login.salesforce.com` or `https://test.salesforce.com`).
    pub fn with_audience(
        http: &'a Client,
        login: LoginUrl,
        audience: String,
        key: &RsaKey,
        client_id: &str,
        username: &str,
    ) -> Result<Self> {
        Ok(Prover {
            audience,
            login,
            http,
            signer: Signer::new(key, HeaderStyle::Bare)?,
            client_id: client_id.to_owned(),
            username: username.to_owned(),
        })
    }

    /// The login URL.
    pub fn login(&self) -> &LoginUrl {
        &self.login
    }

    /// The assertions' audience.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// One attempt: a fresh assertion (three minutes), exchanged.
    pub fn attempt(&self) -> Result<Attempt> {
        let claims = Claims::new(
            &self.client_id,
            &self.username,
            &self.audience,
            now_unix(),
            180,
        )?;
        let assertion = self.signer.sign(&claims)?;
        Ok(match self.http.exchange(&self.login, &assertion) {
            Ok(Exchange::Granted(g)) => Attempt::Granted(g),
            Ok(Exchange::Refused(r)) => Attempt::Refused(r),
            Err(e) => Attempt::Failed(e),
        })
    }

    /// Attempt until a token is minted or `wait` is over (at least one attempt), pausing
    /// by `backoff`; each refusal is reported as progress.
    pub fn until(
        &self,
        wait: Duration,
        mut backoff: Backoff,
        report: &mut dyn Report,
    ) -> Result<Proof> {
        let start = Instant::now();
        let deadline = start + wait;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let a = self.attempt()?;
            if let Attempt::Granted(grant) = a {
                return Ok(Proof::Works {
                    attempts,
                    after: start.elapsed(),
                    grant,
                });
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(Proof::TimedOut { attempts, last: a });
            }
            let pause = backoff.pause(left);
            let why = match &a {
                Attempt::Refused(r) => format!(
                    "{}: {}",
                    crate::text::escape(&r.error),
                    crate::text::escape(&r.description)
                ),
                Attempt::Failed(e) => e.to_string(),
                Attempt::Granted(_) => String::new(),
            };
            report.progress(&format!(
                "attempt {attempts} refused ({why}); the change may still be propagating; next attempt in {}s ({}s left)",
                pause.as_millis().div_ceil(1000),
                left.as_secs()
            ));
            sleep(
                report,
                pause,
                deadline,
                "waiting for the app to issue a token",
            );
        }
    }
}

/// Sleep `pause`, telling `report` every second how long is left until `deadline`
/// ([`Report::tick`]), so a terminal can count down and a CI log sees a line every 30 s.
pub fn sleep(report: &mut dyn Report, pause: Duration, deadline: Instant, what: &str) {
    let end = Instant::now() + pause;
    loop {
        let now = Instant::now();
        if now >= end {
            return;
        }
        report.tick(what, deadline.saturating_duration_since(now));
        std::thread::sleep((end - now).min(Duration::from_secs(1)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap_and_never_past_the_deadline() {
        let mut b = Backoff::default();
        let long = Duration::from_secs(3600);
        let got: Vec<u64> = (0..7).map(|_| b.pause(long).as_secs()).collect();
        assert_eq!(got, [1, 2, 4, 8, 16, 30, 30]);
        assert_eq!(
            b.pause(Duration::from_millis(300)),
            Duration::from_millis(300)
        );
        let mut b = Backoff::new(Duration::from_millis(200), Duration::from_millis(500));
        assert_eq!(b.pause(long), Duration::from_millis(200));
        assert_eq!(b.pause(long), Duration::from_millis(400));
        assert_eq!(b.pause(long), Duration::from_millis(500));
    }
}
