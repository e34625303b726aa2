//! The Salesforce CLI (`sf`) as a source of admin sessions, and as the place a minted token
//! can be handed to.
//!
//! - [`Sf::session`]: the instance URL from `sf org display --target-org ALIAS --json`,
//!   the access token from `sf org auth show-access-token --target-org ALIAS --json`
//!   (plugin-org 5.11.0 and later; since 5.11.1 `org display` shows
//!   `[REDACTED] Use 'sf org auth show-access-token' to view` instead of the token). With
//!   an older sf, which has no `show-access-token`, the token `org display` still shows is
//!   used.
//! - [`Sf::login_access_token`]: `sf org login access-token --instance-url URL --alias
//!   ALIAS --no-prompt --json` with the token in the child's environment
//!   (`SF_ACCESS_TOKEN`), never on its command line.
//!
//! Both commands answer `{"status":0,"result":{…},"warnings":[…]}` with `--json`, or an
//! error object `{"name","message","status",…}` (salesforcecli/plugin-org
//! `src/commands/org/display.ts` and `src/commands/org/auth/show-access-token.ts`;
//! sf-plugins-core's `SfCommand`). Tokens read from sf are held zeroized and never
//! printed; the child's output is wiped once read.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde::Deserialize;
use zeroize::Zeroizing;

use super::org::AdminSession;
use crate::error::{Input, SessionProblem};
use crate::token_endpoint::AccessToken;
use crate::{Error, Result};

/// Most bytes of sf output read (its JSON answers are a few KiB).
const MAX_OUTPUT: usize = 4 << 20;

/// The Salesforce CLI.
#[derive(Clone, Debug)]
pub struct Sf {
    program: OsString,
}

impl Default for Sf {
    fn default() -> Self {
        Sf {
            program: OsString::from("sf"),
        }
    }
}

/// What `sf org login access-token` reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SfLogin {
    /// The user the token belongs to.
    pub username: String,
    /// The org's id.
    pub org_id: Option<String>,
    /// The instance URL sf recorded.
    pub instance_url: Option<String>,
}

#[derive(Deserialize)]
struct Envelope<R> {
    #[serde(default)]
    status: Option<i64>,
    result: Option<R>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Display {
    #[serde(default)]
    instance_url: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShowToken {
    #[serde(default)]
    access_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Login {
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    org_id: Option<String>,
    #[serde(default)]
    instance_url: Option<String>,
}

/// What running sf gave.
struct Run {
    code: Option<i32>,
    stdout: Zeroizing<Vec<u8>>,
    stderr: String,
}

/// The sf error names that mean "not logged in to that org" (sfdx-core's
/// `NamedOrgNotFoundError`, `NoAuthInfoFound`, `NoOrgFound`, an expired refresh token).
const NOT_LOGGED_IN: &[&str] = &[
    "NamedOrgNotFoundError",
    "NamedOrgNotFound",
    "NoAuthInfoFound",
    "NoOrgFound",
    "NoDefaultEnvError",
    "NoUsernameFoundError",
    "AuthInfoCreationError",
    "RefreshTokenAuthError",
    "INVALID_SESSION_ID",
];

/// True when `token` is the placeholder of a redacting sf, or not a token at all.
pub fn is_redacted(token: &str) -> bool {
    let t = token.trim();
    t.is_empty() || t.contains("REDACTED") || t.contains(char::is_whitespace)
}

impl Sf {
    /// The sf found on `PATH`.
    pub fn new() -> Self {
        Self::default()
    }

    /// An sf at a given path.
    pub fn at(program: impl Into<PathBuf>) -> Self {
        Sf {
            program: program.into().into_os_string(),
        }
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Result<Run> {
        let mut c = Command::new(&self.program);
        c.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            c.env(k, v);
        }
        let out = match c.output() {
            Ok(o) => o,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::AdminSession {
                    problem: SessionProblem::SfMissing,
                    detail: format!(
                        "`{}` was not found on PATH",
                        crate::text::escape(&self.program.to_string_lossy())
                    ),
                });
            }
            Err(e) => {
                return Err(Error::AdminSession {
                    problem: SessionProblem::SfFailed,
                    detail: format!(
                        "cannot run `{}`: {e}",
                        crate::text::escape(&self.program.to_string_lossy())
                    ),
                });
            }
        };
        let mut stdout = Zeroizing::new(out.stdout);
        if stdout.len() > MAX_OUTPUT {
            stdout.truncate(MAX_OUTPUT);
        }
        let stderr = String::from_utf8_lossy(&out.stderr[..out.stderr.len().min(4096)]);
        Ok(Run {
            code: out.status.code(),
            stdout,
            stderr: crate::text::escape(stderr.trim()),
        })
    }

    /// An admin session from the org sf knows as `target_org` (an alias or username).
    pub fn session(&self, target_org: &str) -> Result<AdminSession> {
        let display = self.run(
            &["org", "display", "--target-org", target_org, "--json"],
            &[],
        )?;
        let d: Display = parse(&display, "sf org display", target_org)?;
        let instance = d.instance_url.clone().ok_or_else(|| Error::AdminSession {
            problem: SessionProblem::SfFailed,
            detail: "`sf org display --json` gave no instanceUrl".into(),
        })?;
        let display_token = d.access_token.map(AccessToken::new);
        let show = self.run(
            &[
                "org",
                "auth",
                "show-access-token",
                "--target-org",
                target_org,
                "--json",
            ],
            &[],
        )?;
        let token = if is_unknown_command(&show) {
            match display_token {
                Some(t) if !is_redacted(t.expose()) => t,
                _ => {
                    return Err(Error::AdminSession {
                        problem: SessionProblem::SfTooOld,
                        detail: "this sf has no `sf org auth show-access-token`, and `sf org display` hides the token".into(),
                    });
                }
            }
        } else {
            let s: ShowToken = parse(&show, "sf org auth show-access-token", target_org)?;
            match s.access_token.map(AccessToken::new) {
                Some(t) if !is_redacted(t.expose()) => t,
                _ => {
                    return Err(Error::AdminSession {
                        problem: SessionProblem::SfTokenRedacted,
                        detail: "`sf org auth show-access-token --json` gave no access token"
                            .into(),
                    });
                }
            }
        };
        let who = d
            .username
            .as_deref()
            .map(|u| format!(" as {}", crate::text::escape(u)))
            .unwrap_or_default();
        let _ = d.id;
        AdminSession::new(
            &instance,
            token,
            format!(
                "the Salesforce CLI's org `{}`{who}",
                crate::text::escape(target_org)
            ),
        )
    }

    /// Log the Salesforce CLI in to `instance_url` with `token` under `alias`: `sf org
    /// login access-token --instance-url URL --alias ALIAS --no-prompt --json`, the token
    /// in the child's environment (`SF_ACCESS_TOKEN`), never on its command line.
    pub fn login_access_token(
        &self,
        instance_url: &str,
        alias: &str,
        token: &AccessToken,
    ) -> Result<SfLogin> {
        let run = self.run(
            &[
                "org",
                "login",
                "access-token",
                "--instance-url",
                instance_url,
                "--alias",
                alias,
                "--no-prompt",
                "--json",
            ],
            &[("SF_ACCESS_TOKEN", token.expose())],
        )?;
        let l: Login = parse(&run, "sf org login access-token", alias)?;
        Ok(SfLogin {
            username: l.username.unwrap_or_default(),
            org_id: l.org_id,
            instance_url: l.instance_url,
        })
    }
}

fn is_unknown_command(run: &Run) -> bool {
    run.code == Some(127)
        || run.stderr.contains("is not a sf command")
        || run.stderr.contains("command not found")
}

/// The `result` of an sf `--json` answer, or the error it reports.
fn parse<R: for<'de> Deserialize<'de>>(run: &Run, what: &str, target: &str) -> Result<R> {
    let text = &run.stdout[..];
    let start = text.iter().position(|b| *b == b'{');
    let env: Option<Envelope<R>> = start.and_then(|s| serde_json::from_slice(&text[s..]).ok());
    let Some(env) = env else {
        let detail = if run.stderr.is_empty() {
            format!("`{what} --json` printed no JSON (exit code {:?})", run.code)
        } else {
            format!(
                "`{what} --json` printed no JSON (exit code {:?}): {}",
                run.code, run.stderr
            )
        };
        return Err(Error::AdminSession {
            problem: SessionProblem::SfFailed,
            detail,
        });
    };
    let message = env
        .message
        .as_deref()
        .map(|m| crate::text::escape(&m.split_whitespace().collect::<Vec<_>>().join(" ")))
        .unwrap_or_default();
    match (env.status, env.result) {
        (Some(0), Some(r)) => Ok(r),
        (Some(0) | None, None) | (Some(_), _) => {
            let name = env.name.unwrap_or_default();
            let problem = if NOT_LOGGED_IN.iter().any(|n| name.contains(n))
                || message.contains("No authorization information found")
                || message.contains("expired")
            {
                SessionProblem::SfNotLoggedIn
            } else {
                SessionProblem::SfFailed
            };
            Err(Error::AdminSession {
                problem,
                detail: format!(
                    "`{what}` for `{}`: {}{}",
                    crate::text::escape(target),
                    if name.is_empty() {
                        String::new()
                    } else {
                        format!("{}: ", crate::text::escape(&name))
                    },
                    message
                ),
            })
        }
        (None, Some(r)) => Ok(r),
    }
}

/// Check that `alias` is an alias sf accepts (letters, digits and `-_.@`), before it goes
/// on sf's command line.
pub fn check_alias(alias: &str) -> Result<()> {
    if !alias.is_empty()
        && alias.len() <= 255
        && !alias.starts_with('-')
        && alias
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@' | '+'))
    {
        Ok(())
    } else {
        Err(Error::invalid(
            Input::Alias,
            format!(
                "`{}` is not a Salesforce CLI alias (letters, digits and - _ . @ +, not starting with -)",
                crate::text::escape(alias)
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(code: i32, stdout: &str, stderr: &str) -> Run {
        Run {
            code: Some(code),
            stdout: Zeroizing::new(stdout.as_bytes().to_vec()),
            stderr: stderr.into(),
        }
    }

    #[test]
    fn envelopes_and_errors() {
        let d: Display = parse(
            &run(0, r#"{"status":0,"result":{"instanceUrl":"https://a.my.salesforce.com","accessToken":"00D!x","username":"u"},"warnings":[]}"#, ""),
            "sf org display",
            "a",
        )
        .unwrap();
        assert_eq!(
            d.instance_url.as_deref(),
            Some("https://a.my.salesforce.com")
        );
        let e = parse::<Display>(
            &run(2, r#"{"name":"NamedOrgNotFoundError","message":"No authorization information found for nope.","status":2}"#, ""),
            "sf org display",
            "nope",
        )
        .err()
        .unwrap();
        assert!(
            matches!(
                e,
                Error::AdminSession {
                    problem: SessionProblem::SfNotLoggedIn,
                    ..
                }
            ),
            "{e}"
        );
        assert!(
            e.to_string().contains("No authorization information found"),
            "{e}"
        );
        let e = parse::<Display>(&run(1, "oops", "boom"), "sf org display", "a")
            .err()
            .unwrap();
        assert!(
            matches!(
                e,
                Error::AdminSession {
                    problem: SessionProblem::SfFailed,
                    ..
                }
            ),
            "{e}"
        );
        // Leading warnings before the JSON are skipped.
        let s: ShowToken = parse(
            &run(
                0,
                "Warning: x\n{\"status\":0,\"result\":{\"accessToken\":\"00D!y\"}}",
                "",
            ),
            "sf org auth show-access-token",
            "a",
        )
        .unwrap();
        assert_eq!(s.access_token.as_deref(), Some("00D!y"));
    }

    #[test]
    fn redaction_and_unknown_commands() {
        assert!(is_redacted(
            "[REDACTED] Use 'sf org auth show-access-token' to view"
        ));
        assert!(is_redacted(""));
        assert!(!is_redacted("00Dxx0000001gPL!AQ4AQ"));
        assert!(is_unknown_command(&run(127, "", "")));
        assert!(is_unknown_command(&run(
            2,
            "",
            "Warning: org auth show-access-token is not a sf command."
        )));
        assert!(!is_unknown_command(&run(1, "{}", "")));
    }

    #[test]
    fn a_missing_sf_is_named() {
        let e = Sf::at("/nonexistent/certmint-test-sf")
            .session("x")
            .unwrap_err();
        assert!(
            matches!(
                e,
                Error::AdminSession {
                    problem: SessionProblem::SfMissing,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn aliases() {
        check_alias("emu").unwrap();
        check_alias("ci@acme.com").unwrap();
        assert!(check_alias("--json").is_err());
        assert!(check_alias("a b").is_err());
        assert!(check_alias("").is_err());
    }
}
