//! `certmint mint`: sign an assertion, exchange it for an access token (OAuth 2.0 JWT
//! bearer, RFC 7523) and prove the token works with the identity URL.

use std::fmt::Write;
use std::time::Duration;

use certmint::output::Mode;
use certmint::text::escape;
use certmint::token_endpoint::{
    Exchange, ExplainContext, IdentityCheck, LoginUrl, OAuthError, TokenResponse, explain,
};
use serde_json::json;
use zeroize::Zeroizing;

use super::common::{Ctx, check_out};
use super::error::{CliError, CliResult, ExitStatus};
use super::jwt::now_unix;
pub(super) use super::mint_setup::MintArgs;
use super::mint_setup::{
    apply_dir, client_and_signer, explain_context, login_and_audience, network_error,
    signing_material,
};
use super::stdio::{self, errln, outln};

pub(super) const AFTER_HELP: &str = "\
EXAMPLES:
  $ certmint mint --key server.key --client-id \"$CONSUMER_KEY\" \\
      --username integration@acme.com
  $ certmint mint --key server.key --client-id \"$CONSUMER_KEY\" \\
      --username ci@acme.com.uat --login-url test
  $ certmint mint --key server.key --client-id \"$CONSUMER_KEY\" \\
      --username ci@acme.com --login-url https://acme.my.salesforce.com \\
      --cert server.crt --token-out token.txt
  $ TOKEN=$(certmint mint --dir acme-jwt --show-token -q)   # the token alone
  $ certmint mint --key server.key --client-id KEY -u alice@example.com \\
      --login-url http://127.0.0.1:7357 --json      # against `certmint emulate`
  $ certmint mint --key server.key --client-id KEY --usernames users.txt \\
      --concurrency 8 > tokens.jsonl
  $ certmint mint --dir acme-jwt --passin env:CERT_PASS --sf-alias acme

NOTES:
The token request is POST <login URL>/services/oauth2/token with grant_type and assertion,
form-encoded. The audience follows the login URL: production and My Domain
https://login.salesforce.com; sandboxes (test, *.sandbox.my.salesforce.com)
https://test.salesforce.com; an Experience Cloud site its own URL. --audience overrides it.

The access token is shown masked (org id prefix, first and last four characters) unless
--show-token; --token-out writes it to a file with mode 0600. With --show-token and -q,
standard output is the token and a newline, nothing else. There is no refresh token in
this flow: mint again when the session expires. Then the token is proven with a GET of
the identity URL it came with (skip with --no-verify).

--sf-alias ALIAS hands the token to the Salesforce CLI (`sf org login access-token
--instance-url URL --alias ALIAS --no-prompt`, the token in its environment as
SF_ACCESS_TOKEN, never on its command line): sf then works against the org while the key
stays encrypted (`--dir` with --passin, after deleting server.key). The JWT flow has no
refresh token, so run it again when the session expires.

With --json, standard output is one JSON object whatever the outcome: \"ok\": true with
the token's details; \"ok\": false with \"exit_code\" 1 and Salesforce's \"error\" and
\"error_description\" (and \"meaning\", \"causes\", \"fixes\", \"facts\") when the assertion was
refused; \"ok\": false with \"exit_code\" 2 and \"error\", \"cause\" and \"hint\" for any other
failure. The fields are listed in docs/ci.md.

HTTPS uses the system's trusted roots (SSL_CERT_FILE and SSL_CERT_DIR are honoured), or
only the CA in --ca-file. Proxies come from HTTPS_PROXY (else ALL_PROXY; HTTP_PROXY is
not used for HTTPS, as curl does) and NO_PROXY; loopback is never proxied. Plain http:// is
allowed only to loopback: an address, or a name every address of which is loopback. A
loopback login URL is sent its own URL as the audience (--audience login warns).

EXIT CODES:
  0  a token was issued (and the identity check passed)
  1  Salesforce refused the assertion (the error, its meaning and the fix are
     printed), or the identity check refused the token
  2  error: bad option, unreadable key, network, proxy or TLS failure";

pub(super) fn run(ctx: &mut Ctx, args: MintArgs) -> CliResult<ExitStatus> {
    // --usernames prints one JSON line per user whatever happens (mint_batch).
    let json = args.json && args.usernames.is_none();
    let result = mint(ctx, args);
    // With --json, stdout is one JSON object whatever happens: an error (exit 2) is one
    // too, besides the message on stderr. Refusals (exit 1) print their own.
    if json
        && let Err(e) = &result
        && e.code == ExitStatus::Error
        && !e.is_stdout_closed()
    {
        outln!(
            "{}",
            json!({
                "ok": false,
                "exit_code": 2,
                "error": e.message,
                "cause": e.cause,
                "hint": e.hint,
            })
        )?;
    }
    result
}

/// For a usage error that clap found on a `certmint mint ... --json` command line (exit 2
/// before `run`): the JSON error object scripts read on stdout, as for any other error.
/// `None` for any other command line. The command line is read as clap reads it: global
/// `-q`/`--quiet` may come first, then `mint`; `--json` anywhere before a `--`.
pub(super) fn usage_error_json(argv: &[std::ffi::OsString], e: &clap::Error) -> Option<String> {
    let mut words = argv
        .iter()
        .skip(1)
        .map(|w| w.to_string_lossy())
        .skip_while(|w| w == "-q" || w == "--quiet");
    if words.next().as_deref() != Some("mint") {
        return None;
    }
    if !words.take_while(|w| w != "--").any(|w| w == "--json") {
        return None;
    }
    let text = e.render().to_string();
    let message = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("invalid command line")
        .trim_start_matches("error: ")
        .to_owned();
    let tip = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("tip: "))
        .map(str::to_owned);
    Some(
        json!({
            "ok": false,
            "exit_code": 2,
            "error": message,
            "cause": null,
            "hint": tip.unwrap_or_else(|| "see `certmint help mint`".to_owned()),
        })
        .to_string(),
    )
}

fn mint(ctx: &mut Ctx, mut args: MintArgs) -> CliResult<ExitStatus> {
    if let Some(file) = args.usernames.clone() {
        return super::mint_batch::run(ctx, args, &file);
    }
    if let Some(d) = apply_dir(&mut args)? {
        ctx.say(format!(
            "using generation {} of `{}`",
            d.generation,
            super::error::shown(
                args.signer
                    .dir
                    .as_deref()
                    .unwrap_or(std::path::Path::new("."))
            )
        ));
    }
    let (login, audience) = login_and_audience(&args)?;
    args.signer.claims(&audience, now_unix())?;
    if let Some(out) = &args.token_out {
        check_out(out, args.force)?;
    }
    let (ca_certs, key, cert) = signing_material(ctx, &args)?;
    let (client, signer) = client_and_signer(&args, ca_certs, &key, None)?;
    // What an explanation needs from the key, then the key itself is dropped (and wiped):
    // the signer holds what signing needs, and nothing else of the key stays in memory
    // while the exchange waits on the network.
    let explain_base = explain_context(&login, &audience, None, &key, cert.as_ref());
    drop(key);
    let deadline = args
        .retry
        .map(|secs| std::time::Instant::now() + Duration::from_secs(secs));
    let mut attempt = 1u32;
    let (now, claims, exchange) = loop {
        let now = now_unix();
        let claims = args.signer.claims(&audience, now)?;
        let assertion = signer
            .sign(&claims)
            .map_err(|e| CliError::lib("cannot sign the assertion", None, e))?;
        if attempt == 1 && client.is_proxied(&login) {
            ctx.say(format!(
                "using the proxy from the environment for {}",
                login.host()
            ));
        }
        let result = client.exchange(&login, &assertion);
        let retry_in = deadline.and_then(|d| {
            let left = d.saturating_duration_since(std::time::Instant::now());
            (!left.is_zero()).then(|| left.min(Duration::from_secs(args.retry_every.max(1))))
        });
        match (&result, retry_in) {
            (Ok(Exchange::Refused(err)), Some(wait)) => {
                ctx.say(format!(
                    "attempt {attempt}: refused ({}: {}); trying again in {}s",
                    escape(&err.error),
                    escape(&err.description),
                    wait.as_millis().div_ceil(1000)
                ));
                std::thread::sleep(wait);
            }
            (Err(e), Some(wait)) => {
                ctx.say(format!(
                    "attempt {attempt}: {e}; trying again in {}s",
                    wait.as_millis().div_ceil(1000)
                ));
                std::thread::sleep(wait);
            }
            _ => {
                let exchange =
                    result.map_err(|e| network_error("the token request failed", &login, e))?;
                break (now, claims, exchange);
            }
        }
        attempt += 1;
    };
    let grant = match exchange {
        Exchange::Granted(g) => g,
        Exchange::Refused(err) => {
            let ctx_x = ExplainContext {
                now: i64::try_from(now).ok(),
                exp: Some(claims.exp),
                username: Some(claims.sub.clone()),
                client_id: Some(claims.iss.clone()),
                ..explain_base
            };
            report_refusal(&err, &ctx_x, args.json)?;
            return Ok(ExitStatus::No);
        }
    };

    if let Some(out) = &args.token_out {
        let mut bytes = grant.access_token.expose().as_bytes().to_vec();
        bytes.push(b'\n');
        let r = ctx.write(out, &bytes, Mode::Secret, args.force, "access token");
        certmint::secret::wipe(&mut bytes);
        r?;
    }

    let identity = if args.no_verify {
        None
    } else {
        Some(
            client
                .identity(&login, &grant)
                .map_err(|e| network_error("the identity check failed", &login, e))?,
        )
    };
    let verdict = match &identity {
        Some(IdentityCheck::Verified(id)) if !id.username.eq_ignore_ascii_case(&claims.sub) => {
            Err(CliError::new(format!(
                "the identity endpoint names {}, not {}",
                escape(&id.username),
                escape(&claims.sub)
            ))
            .hint("the token belongs to another user than the one asked for; check --username")
            .code(ExitStatus::No))
        }
        Some(IdentityCheck::Rejected { url, status, body }) => Err(CliError::new(
            "the token was issued, but the identity endpoint refused it",
        )
        .cause(format!("{url} answered HTTP {status}: {body}"))
        .hint(
            "the session may have been revoked at once (Setup > Session Management); \
                     --no-verify skips this check",
        )
        .code(ExitStatus::No)),
        _ => Ok(()),
    };
    let shown = Shown {
        args: &args,
        login: &login,
        audience: &audience,
        username: &claims.sub,
        grant: &grant,
        identity: identity.as_ref(),
    };
    if args.show_token && ctx.quiet && !args.json {
        // `TOKEN=$(certmint mint ... --show-token -q)`: the token and a newline, nothing
        // else, and only once the identity check has passed.
        if verdict.is_ok() {
            let line = Zeroizing::new(format!("{}\n", grant.access_token.expose()));
            stdio::out(line.as_bytes())?;
        }
    } else {
        print_success(&shown, verdict.as_ref().err())?;
    }
    if verdict.is_ok()
        && let Some(alias) = &args.sf_alias
    {
        super::org_session::sf_login(ctx, alias, &grant)?;
    }
    verdict.map(|()| ExitStatus::Success)
}

/// What a successful exchange showed, for [`print_success`].
struct Shown<'a> {
    args: &'a MintArgs,
    login: &'a LoginUrl,
    audience: &'a str,
    username: &'a str,
    grant: &'a TokenResponse,
    identity: Option<&'a IdentityCheck>,
}

/// The token's details on stdout, as text or JSON. `refused` is the identity check's
/// verdict when it failed: the JSON object then says `"ok": false` (exit 1), with the
/// reason; the text is the same, and the error follows on stderr.
fn print_success(shown: &Shown<'_>, refused: Option<&CliError>) -> CliResult<()> {
    let Shown {
        args,
        login,
        audience,
        username,
        grant,
        identity,
    } = *shown;
    let shown_token = Zeroizing::new(if args.show_token {
        grant.access_token.expose().to_owned()
    } else {
        grant.access_token.masked()
    });
    let opt = |s: Option<&str>| s.map(escape);
    if args.json {
        let identity_json = match identity {
            None => serde_json::Value::Null,
            Some(IdentityCheck::Verified(id)) => json!({
                // Verified only when the identity is the user asked for.
                "verified": id.username.eq_ignore_ascii_case(username),
                "username": id.username,
                "user_id": id.user_id,
                "organization_id": id.organization_id,
                "display_name": id.display_name,
                "url": id.url,
            }),
            Some(IdentityCheck::Rejected { url, status, .. }) => json!({
                "verified": false,
                "status": status,
                "url": url,
            }),
        };
        let mut v = json!({
            "ok": refused.is_none(),
            "exit_code": if refused.is_none() { 0 } else { 1 },
            "login_url": login.as_str(),
            "audience": audience,
            "username": username,
            "org_id": grant.org_id(),
            "user_id": grant.user_id(),
            "instance_url": grant.instance_url,
            "id": grant.id,
            "scope": grant.scope,
            "token_type": grant.token_type,
            "access_token_masked": grant.access_token.masked(),
            "identity": identity_json,
        });
        if args.show_token {
            v["access_token"] = json!(grant.access_token.expose());
        }
        if let Some(e) = refused {
            let code = match identity {
                Some(IdentityCheck::Rejected { .. }) => "identity_rejected",
                _ => "identity_mismatch",
            };
            v["error"] = json!(code);
            v["error_description"] = json!(match &e.cause {
                Some(cause) => format!("{}: {cause}", e.message),
                None => e.message.clone(),
            });
            v["hint"] = json!(e.hint);
        }
        // With --show-token the object holds the token: build the line in a buffer that
        // is wiped.
        let line = Zeroizing::new(format!("{v}\n"));
        return stdio::out(line.as_bytes());
    }
    // With --show-token the text holds the token: build it in a buffer that is wiped.
    let mut out = Zeroizing::new(String::new());
    let out = &mut *out;
    let none = || "(not given)".to_owned();
    let _ = writeln!(out, "username:      {}", escape(username));
    let _ = writeln!(
        out,
        "org id:        {}",
        opt(grant.org_id()).unwrap_or_else(none)
    );
    let _ = writeln!(
        out,
        "user id:       {}",
        opt(grant.user_id()).unwrap_or_else(none)
    );
    let _ = writeln!(
        out,
        "instance URL:  {}",
        opt(grant.instance_url.as_deref()).unwrap_or_else(none)
    );
    let _ = writeln!(
        out,
        "scope:         {}",
        opt(grant.scope.as_deref()).unwrap_or_else(none)
    );
    let _ = writeln!(
        out,
        "access token:  {}{}",
        escape(&shown_token),
        if args.show_token {
            ""
        } else {
            "  (masked; --show-token prints it)"
        }
    );
    match identity {
        // The identity names another user: not verified (the error follows).
        Some(IdentityCheck::Verified(id)) if !id.username.eq_ignore_ascii_case(username) => {
            let _ = writeln!(
                out,
                "verified:      no (the identity endpoint names {}, not {})",
                escape(&id.username),
                escape(username)
            );
        }
        Some(IdentityCheck::Verified(id)) => {
            let _ = writeln!(
                out,
                "verified:      {} ({}) via {}",
                escape(&id.username),
                opt(id.user_id.as_deref()).unwrap_or_else(none),
                escape(&id.url)
            );
        }
        Some(IdentityCheck::Rejected { status, .. }) => {
            let _ = writeln!(
                out,
                "verified:      no (the identity endpoint answered HTTP {status})"
            );
        }
        None => {
            let _ = writeln!(out, "verified:      skipped (--no-verify)");
        }
    }
    stdio::out(out.as_bytes())
}

fn report_refusal(err: &OAuthError, ctx: &ExplainContext, as_json: bool) -> CliResult<()> {
    let x = explain(err, ctx);
    errln!(
        "error: Salesforce refused the assertion (HTTP {})",
        err.status
    );
    errln!("  error:             {}", escape(&err.error));
    errln!("  error_description: {}", escape(&err.description));
    match x.advice {
        Some(k) => {
            errln!("  meaning: {}", k.meaning);
            errln!("  likely causes:");
            for c in k.causes {
                errln!("    - {c}");
            }
            errln!("  fix:");
            for f in k.fixes {
                errln!("    - {f}");
            }
        }
        None => {
            errln!("  (certmint has no explanation for this error; see docs/troubleshooting.md)")
        }
    }
    if !x.facts.is_empty() {
        errln!("  what certmint sent:");
        for f in &x.facts {
            errln!("    - {f}");
        }
    }
    if as_json {
        let v = json!({
            "ok": false,
            "exit_code": 1,
            "status": err.status,
            "error": err.error,
            "error_description": err.description,
            "meaning": x.advice.map(|k| k.meaning),
            "causes": x.advice.map(|k| k.causes),
            "fixes": x.advice.map(|k| k.fixes),
            "facts": x.facts,
        });
        outln!("{v}")?;
    }
    Ok(())
}
