//! What `connect`, `renew --deploy` and `rotate --deploy` share: the admin session
//! options (the Salesforce CLI's `--target-org`, or `--instance-url` with
//! `--access-token SRC`), the HTTP client, the terminal report of what the library does,
//! and the hints for the org's refusals and the session's problems.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use certmint::Error;
use certmint::connect::{AdminSession, Backoff, Report, explain, sf::Sf};
use certmint::error::{OrgCall, SessionProblem};
use certmint::token_endpoint::{AccessToken, Client, ClientOptions, ProxySettings};
use clap::Args;

use super::common::Ctx;
use super::error::{CliError, CliResult, ExitStatus};
use super::password::{PassSource, Purpose};
use super::stdio::{errln, errprint};

/// The admin session: who deploys.
#[derive(Args, Debug, Default)]
pub(crate) struct AdminArgs {
    /// An org the Salesforce CLI is logged in to (its alias or username): the instance
    /// URL comes from `sf org display`, the access token from
    /// `sf org auth show-access-token`.
    #[arg(long, value_name = "ALIAS", conflicts_with_all = ["instance_url", "access_token"])]
    pub target_org: Option<String>,
    /// The org's instance URL (its My Domain, https://NAME.my.salesforce.com), with
    /// --access-token.
    #[arg(long, value_name = "URL", requires = "access_token")]
    pub instance_url: Option<String>,
    /// Where an admin access token for --instance-url comes from: env:VAR, file:PATH, fd:N
    /// or stdin (never the command line). It is not printed, logged or written.
    #[arg(long, value_name = "SRC", requires = "instance_url")]
    pub access_token: Option<PassSource>,
    /// Trust only this CA (PEM or DER) for HTTPS to the org and its token endpoint.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
}

impl AdminArgs {
    /// True when a session was asked for.
    pub(super) fn given(&self) -> bool {
        self.target_org.is_some() || self.instance_url.is_some() || self.access_token.is_some()
    }
}

/// How long `--deploy` and `connect` wait.
#[derive(Args, Debug)]
pub(crate) struct WaitArgs {
    /// Seconds to wait for the deploy and then for the app to issue a token: Salesforce
    /// distributes a change within 15 minutes; attempts back off from 1 s to 30 s.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_WAIT_SECS)]
    pub wait: u64,
}

/// The default `--wait`, in seconds (`certmint::connect::DEFAULT_WAIT`).
pub(crate) const DEFAULT_WAIT_SECS: u64 = certmint::connect::DEFAULT_WAIT.as_secs();

impl WaitArgs {
    pub(super) fn duration(&self) -> Duration {
        Duration::from_secs(self.wait)
    }

    pub(super) fn backoff(&self) -> Backoff {
        Backoff::default()
    }
}

/// The HTTP client for the org and its token endpoint (proxy from the environment,
/// --ca-file roots).
pub(super) fn client(ctx: &Ctx, a: &AdminArgs) -> CliResult<Client> {
    let ca_certs = match &a.ca_file {
        Some(p) => Some(ctx.read(p, "CA certificate")?),
        None => None,
    };
    Client::new(ClientOptions {
        ca_certs,
        proxy: ProxySettings::from_env(),
        ..ClientOptions::default()
    })
    .map_err(|e| CliError::lib("cannot set up HTTPS", a.ca_file.as_deref(), e))
}

/// `--access-token pass:...` is refused: the token must not be on the command line.
pub(super) fn refuse_token_on_argv(a: &AdminArgs) -> CliResult<()> {
    if matches!(a.access_token, Some(PassSource::Pass(_))) {
        return Err(CliError::new(
            "--access-token pass:... would put the admin token on the command line",
        )
        .hint("use --access-token env:VAR, file:PATH, fd:N or stdin"));
    }
    Ok(())
}

/// The admin session asked for; `None` when none was (an error when `what` needs one).
pub(super) fn session(
    ctx: &mut Ctx,
    a: &AdminArgs,
    what: Option<&str>,
) -> CliResult<Option<AdminSession>> {
    if let Some(alias) = &a.target_org {
        certmint::connect::sf::check_alias(alias)
            .map_err(|e| CliError::lib("invalid --target-org", None, e))?;
        let s = Sf::new()
            .session(alias)
            .map_err(|e| session_error("cannot get an admin session from the Salesforce CLI", e))?;
        return Ok(Some(s));
    }
    match (&a.instance_url, &a.access_token) {
        (Some(url), Some(src)) => {
            refuse_token_on_argv(a)?;
            let pw = ctx.passwords.get(
                Some(src),
                "--access-token",
                "the admin access token",
                Purpose::Existing,
            )?;
            let token = AccessToken::new(pw.expose().trim().to_owned());
            drop(pw);
            let s = AdminSession::new(url, token, format!("--access-token {src:?}"))
                .map_err(|e| session_error("cannot use the admin session", e))?;
            Ok(Some(s))
        }
        _ => match what {
            Some(w) => Err(CliError::new(format!("{w} needs an admin session"))
                .hint("pass --target-org ALIAS (an org the Salesforce CLI is logged in to), or --instance-url URL --access-token env:VAR")),
            None => Ok(None),
        },
    }
}

/// An admin session's problem, with what to do.
pub(super) fn session_error(action: &str, e: Error) -> CliError {
    let hint = match &e {
        Error::AdminSession { problem, .. } => Some(match problem {
            SessionProblem::SfMissing => {
                "install the Salesforce CLI (`npm install --global @salesforce/cli`) and log in with `sf org login web --alias ALIAS`, or pass --instance-url URL --access-token env:VAR instead"
            }
            SessionProblem::SfNotLoggedIn => {
                "log in first: `sf org login web --alias ALIAS --instance-url https://NAME.my.salesforce.com` (`sf org list` shows the orgs sf knows)"
            }
            SessionProblem::SfTokenRedacted => {
                "update the Salesforce CLI (`sf update`), or pass --instance-url URL --access-token env:VAR instead"
            }
            SessionProblem::SfTooOld => {
                "update the Salesforce CLI (`sf update`, or `npm install --global @salesforce/cli`): `sf org auth show-access-token` came with plugin-org 5.11.0; or pass --instance-url URL --access-token env:VAR"
            }
            SessionProblem::SfFailed => {
                "run the sf command named above yourself to see what it says"
            }
            SessionProblem::BadToken => {
                "give the access token alone, on one line (it starts with the org id, 00D…!)"
            }
            SessionProblem::BadInstanceUrl => {
                "give the org's https:// URL, as `sf org display` shows it (https://NAME.my.salesforce.com)"
            }
            _ => "see the cause above",
        }),
        _ => None,
    };
    let mut err = org_error(action, e);
    if let Some(h) = hint {
        err = err.hint(h);
    }
    err
}

/// An error met while talking to the org, with the fix for Salesforce's error code.
pub(super) fn org_error(action: &str, e: Error) -> CliError {
    match &e {
        Error::OrgRefused { code, call, .. } => {
            let fix = explain::org_error_fix(code);
            // The org said no to the deploy itself (an HTTP 4xx such as 403
            // INSUFFICIENT_ACCESS): exit 1, as a deploy refused component by component
            // does and as every --deploy command's help says. An expired session is not a
            // refusal of the deploy: exit 2 (no admin session).
            let refused_deploy = matches!(call, OrgCall::Deploy | OrgCall::DeployStatus)
                && code != certmint::wire::rest::INVALID_SESSION_ID;
            let err = CliError::lib(action, None, e).hint(fix);
            if refused_deploy {
                err.code(ExitStatus::No)
            } else {
                err
            }
        }
        Error::Network { .. } => {
            CliError::lib(action, None, e).hint("check the instance URL and the network; behind a proxy set HTTPS_PROXY; a private CA goes in --ca-file")
        }
        _ => CliError::lib(action, None, e),
    }
}

/// `mint --sf-alias ALIAS`: log the Salesforce CLI in with the minted token.
pub(super) fn sf_login(
    ctx: &Ctx,
    alias: &str,
    grant: &certmint::token_endpoint::TokenResponse,
) -> CliResult<()> {
    certmint::connect::sf::check_alias(alias)
        .map_err(|e| CliError::lib("invalid --sf-alias", None, e))?;
    let instance = grant.instance_url.as_deref().ok_or_else(|| {
        CliError::new("the token response has no instance_url for the Salesforce CLI")
    })?;
    let login = Sf::new()
        .login_access_token(instance, alias, &grant.access_token)
        .map_err(|e| {
            // mint has no --instance-url/--access-token: its way around sf is its output.
            let hint = match &e {
                Error::AdminSession {
                    problem: SessionProblem::SfMissing,
                    ..
                } => Some(
                    "install the Salesforce CLI (`npm install --global @salesforce/cli`), or leave out --sf-alias: `certmint mint --show-token -q` prints the token for any other client",
                ),
                Error::AdminSession {
                    problem: SessionProblem::SfTooOld | SessionProblem::SfTokenRedacted,
                    ..
                } => Some(
                    "update the Salesforce CLI (`sf update`), or leave out --sf-alias: `certmint mint --show-token -q` prints the token for any other client",
                ),
                _ => None,
            };
            let err = session_error("cannot log the Salesforce CLI in with the token", e);
            match hint {
                Some(h) => err.hint(h),
                None => err,
            }
        })?;
    ctx.say(format!(
        "the Salesforce CLI is logged in to {} as {} under the alias `{alias}` (try `sf org display --target-org {alias}`); the token was passed in its environment, and no key file was needed",
        certmint::text::escape(instance),
        certmint::text::escape(&login.username)
    ));
    Ok(())
}

/// How often a long wait prints a line where stderr is not a terminal (a CI log): CI
/// systems stop jobs that are silent for minutes.
pub(super) const QUIET_LINE_EVERY: Duration = Duration::from_secs(30);

/// What the library reports, on stderr: steps unless --quiet; progress and, during long
/// waits, a live countdown on a terminal; where stderr is not a terminal, a line at least
/// every 30 seconds of a wait (even with --quiet, so a CI job is never silent for long).
pub(super) struct Talk {
    quiet: bool,
    tty: bool,
    /// A countdown is on the terminal's last line.
    counting: bool,
    /// When the last line was written.
    last_line: std::time::Instant,
}

impl Talk {
    pub(super) fn new(ctx: &Ctx) -> Self {
        Talk {
            quiet: ctx.quiet,
            tty: std::io::stderr().is_terminal(),
            counting: false,
            last_line: std::time::Instant::now(),
        }
    }

    fn line(&mut self, text: &str) {
        if self.counting {
            errprint!("\r\x1b[K");
            self.counting = false;
        }
        errln!("{text}");
        self.last_line = std::time::Instant::now();
    }
}

/// `12m05s`, `45s`.
pub(super) fn minutes(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

impl Report for Talk {
    fn step(&mut self, text: &str) {
        if !self.quiet {
            self.line(text);
        }
    }

    fn progress(&mut self, text: &str) {
        if self.tty && !self.quiet {
            self.line(&format!("  … {text}"));
        }
    }

    fn tick(&mut self, what: &str, left: Duration) {
        if self.tty {
            if !self.quiet {
                errprint!("\r\x1b[K  … {what}: {} left", minutes(left));
                self.counting = true;
            }
        } else if self.last_line.elapsed() >= QUIET_LINE_EVERY {
            self.line(&format!("  … still {what}: {} left", minutes(left)));
        }
    }
}

impl Drop for Talk {
    fn drop(&mut self) {
        if self.counting {
            errprint!("\r\x1b[K");
        }
    }
}
