//! `certmint mint --usernames FILE`: one JWT bearer token per user, many users at once.
//!
//! The key is read once and parsed once into one RS256 [`Signer`]; one HTTP [`Client`]
//! keeps one pooled keep-alive connection per worker; `--concurrency N` workers take
//! users from the list in turn, so at most N requests (and N connections) are open at a
//! time. Results are written as JSON lines on stdout, in the order of the file, as they
//! become ready; talk (the summary) goes to stderr.
//!
//! Exit codes: 0 every user got a token (and passed the identity check), 1 Salesforce
//! refused at least one, 2 an error (bad input, or a network failure, after which no new
//! user is started).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use certmint::jwt::{Claims, Signer};
use certmint::token_endpoint::{
    Client, Exchange, ExplainContext, IdentityCheck, LoginUrl, TokenError, explain, likely_cause,
};
use serde_json::json;

use super::common::Ctx;
use super::error::{CliError, CliResult, ExitStatus};
use super::jwt::now_unix;
use super::mint_setup::{
    MintArgs, apply_dir, client_and_signer, explain_context, login_and_audience, network_error,
    signing_material,
};
use super::stdio;

/// The users named in a `--usernames` file: one per line, surrounding whitespace
/// trimmed, blank lines and lines starting with `#` skipped.
pub(super) fn parse_usernames(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// How one user's mint ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Granted,
    Refused,
    Failed,
}

/// What every worker shares.
struct Job<'a> {
    args: &'a MintArgs,
    users: &'a [&'a str],
    login: &'a LoginUrl,
    audience: &'a str,
    signer: &'a Signer,
    client: &'a Client,
    explain_base: ExplainContext,
    next: AtomicUsize,
    stop: AtomicBool,
}

pub(super) fn run(ctx: &mut Ctx, mut args: MintArgs, file: &Path) -> CliResult<ExitStatus> {
    let data = ctx.read(file, "username list")?;
    let text = String::from_utf8(data).map_err(|_| {
        CliError::new(format!(
            "cannot read username list `{}`",
            super::error::shown(file)
        ))
        .cause("it is not UTF-8 text")
    })?;
    let users = parse_usernames(&text);
    let Some(first) = users.first() else {
        return Err(
            CliError::new(format!("no usernames in `{}`", super::error::shown(file)))
                .hint("write one Salesforce username per line (lines starting with # are skipped)"),
        );
    };
    // The users come from the file. `resolve` checks the rest (--client-id, or --dir with
    // its key, certificate and login URL) and wants a username: it gets the first one.
    args.signer.username = Some((*first).to_owned());
    apply_dir(&mut args)?;
    let args = &args;
    let (login, audience) = login_and_audience(args)?;
    // Check the options once, before reading the key.
    claims_for(args, first, &audience, now_unix())?;

    let (ca_certs, key, cert) = signing_material(ctx, args)?;
    let workers = usize::from(args.concurrency.unwrap_or(8)).clamp(1, users.len());
    let (client, signer) = client_and_signer(args, ca_certs, &key, Some(workers))?;
    if client.is_proxied(&login) {
        ctx.say(format!(
            "using the proxy from the environment for {}",
            login.host()
        ));
    }

    let job = Job {
        args,
        users: &users,
        login: &login,
        audience: &audience,
        signer: &signer,
        client: &client,
        explain_base: explain_context(
            &login,
            &audience,
            args.signer.client_id.clone(),
            &key,
            cert.as_ref(),
        ),
        next: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
    };
    let started = Instant::now();
    let (tx, rx) = mpsc::channel::<(usize, Outcome, Line, Option<CliError>)>();
    let mut tally = Tally::default();
    let written = std::thread::scope(|s| {
        for _ in 0..workers {
            let tx = tx.clone();
            let job = &job;
            s.spawn(move || worker(job, &tx));
        }
        drop(tx);
        write_in_order(&rx, &job.stop, &mut tally)
    });
    // Standard output closed (`| head`) ends the command as a success, silently; any
    // other failure to write it is the error to report.
    written?;
    let elapsed = started.elapsed().as_secs_f64();
    ctx.say(format!(
        "{} of {} users got a token, {} refused{} in {elapsed:.2} s ({:.0}/s over {workers} connections)",
        tally.granted,
        users.len(),
        tally.refused,
        if tally.failed > 0 || tally.done < users.len() {
            format!(
                ", {} failed, {} not attempted,",
                tally.failed,
                users.len() - tally.done
            )
        } else {
            String::new()
        },
        tally.done as f64 / elapsed.max(1e-9),
    ));
    if let Some(err) = tally.first_error {
        return Err(err);
    }
    Ok(if tally.refused > 0 {
        ExitStatus::No
    } else {
        ExitStatus::Success
    })
}

/// One user's JSON line, or, for an `invalid assertion`, the line still without its
/// `likely_cause`: that is the key unless another user of the batch got a token with the
/// same key, then the username. Such a line waits (and the lines after it, to keep the
/// file's order) until a token is granted or the batch ends.
enum Line {
    /// Ready to print.
    Ready(String),
    /// An `invalid assertion` whose cause depends on the rest of the batch.
    KeyInDoubt(serde_json::Value),
}

impl Line {
    /// The text to print, knowing whether the key got a token for any user.
    fn resolve(self, key_proven: bool) -> String {
        match self {
            Line::Ready(s) => s,
            Line::KeyInDoubt(mut v) => {
                v["likely_cause"] = json!(likely_cause(TokenError::InvalidAssertion, key_proven));
                v.to_string()
            }
        }
    }
}

#[derive(Default)]
struct Tally {
    done: usize,
    granted: usize,
    refused: usize,
    failed: usize,
    first_error: Option<CliError>,
}

/// Print results in the order of the file as soon as each one's predecessors are out.
/// When standard output fails (closed by its reader, or full), no new user is started,
/// the results still coming back are counted, and the failure is returned.
fn write_in_order(
    rx: &mpsc::Receiver<(usize, Outcome, Line, Option<CliError>)>,
    stop: &AtomicBool,
    tally: &mut Tally,
) -> CliResult<()> {
    let mut out = stdio::Lines::new();
    let mut pending: BTreeMap<usize, Line> = BTreeMap::new();
    let mut next_out = 0usize;

    let record = |(i, outcome, line, err): (usize, Outcome, Line, Option<CliError>),
                  pending: &mut BTreeMap<usize, Line>,
                  tally: &mut Tally| {
        tally.done += 1;
        match outcome {
            Outcome::Granted => tally.granted += 1,
            Outcome::Refused => tally.refused += 1,
            Outcome::Failed => tally.failed += 1,
        }
        if tally.first_error.is_none() {
            tally.first_error = err;
        }
        pending.insert(i, line);
    };
    while let Ok(first) = rx.recv() {
        record(first, &mut pending, tally);
        while let Ok(more) = rx.try_recv() {
            record(more, &mut pending, tally);
        }
        while let Some(line) = pending.get(&next_out) {
            // An `invalid assertion` waits for the batch's verdict on the key.
            if matches!(line, Line::KeyInDoubt(_)) && tally.granted == 0 {
                break;
            }
            if let Some(line) = pending.remove(&next_out) {
                out.line(&line.resolve(tally.granted > 0));
            }
            next_out += 1;
        }
        if !out.flush() {
            // Standard output is gone (`| head`) or full: start no more users.
            stop.store(true, Ordering::Relaxed);
        }
    }
    // What is left: lines that waited for the verdict on the key (now known), and after a
    // stop, users that came back while others were never started. In order.
    for line in pending.into_values() {
        out.line(&line.resolve(tally.granted > 0));
    }
    out.finish()
}

fn worker(job: &Job<'_>, tx: &mpsc::Sender<(usize, Outcome, Line, Option<CliError>)>) {
    loop {
        if job.stop.load(Ordering::Relaxed) {
            return;
        }
        let i = job.next.fetch_add(1, Ordering::Relaxed);
        let Some(user) = job.users.get(i) else {
            return;
        };
        let (outcome, line, err) = mint_one(job, user);
        if outcome == Outcome::Failed {
            job.stop.store(true, Ordering::Relaxed);
        }
        if tx.send((i, outcome, line, err)).is_err() {
            return;
        }
    }
}

fn claims_for(args: &MintArgs, user: &str, audience: &str, now: u64) -> CliResult<Claims> {
    let claims = Claims::new(
        args.signer.client_id.as_deref().unwrap_or_default(),
        user,
        audience,
        now,
        args.signer.ttl,
    )
    .map_err(|e| {
        CliError::lib("cannot build the assertion", None, e)
            .hint("--ttl takes 1 to 180 seconds; --client-id must not be empty")
    })?;
    Ok(if args.signer.iat {
        claims.with_iat(now)
    } else {
        claims
    })
}

fn failed(user: &str, what: &str, err: CliError) -> (Outcome, Line, Option<CliError>) {
    let line = json!({
        "username": user,
        "ok": false,
        "error": what,
        "error_description": err.cause.clone().unwrap_or_else(|| err.message.clone()),
    });
    (Outcome::Failed, Line::Ready(line.to_string()), Some(err))
}

fn mint_one(job: &Job<'_>, user: &str) -> (Outcome, Line, Option<CliError>) {
    let args = job.args;
    let now = now_unix();
    let claims = match claims_for(args, user, job.audience, now) {
        Ok(c) => c,
        Err(e) => return failed(user, "invalid_claims", e),
    };
    let assertion = match job.signer.sign(&claims) {
        Ok(a) => a,
        Err(e) => {
            return failed(
                user,
                "signing_failed",
                CliError::lib("cannot sign the assertion", None, e),
            );
        }
    };
    let exchange = match job.client.exchange(job.login, &assertion) {
        Ok(x) => x,
        Err(e) => {
            return failed(
                user,
                "network",
                network_error("the token request failed", job.login, e),
            );
        }
    };
    let grant = match exchange {
        Exchange::Granted(g) => g,
        Exchange::Refused(err) => {
            let mut cx = job.explain_base.clone();
            cx.now = i64::try_from(now).ok();
            cx.exp = Some(claims.exp);
            cx.username = Some(user.to_owned());
            let x = explain(&err, &cx);
            let line = json!({
                "username": user,
                "ok": false,
                "status": err.status,
                "error": err.error,
                "error_description": err.description,
                "meaning": x.advice.map(|k| k.meaning),
                "likely_cause": x.error.and_then(|e| likely_cause(e, false)),
            });
            // Whether the key is to blame depends on the other users' results.
            let line = if x.error == Some(TokenError::InvalidAssertion) {
                Line::KeyInDoubt(line)
            } else {
                Line::Ready(line.to_string())
            };
            return (Outcome::Refused, line, None);
        }
    };
    let mut line = json!({
        "username": user,
        "ok": true,
        "org_id": grant.org_id(),
        "user_id": grant.user_id(),
        "instance_url": grant.instance_url,
        "access_token_masked": grant.access_token.masked(),
    });
    if args.show_token {
        line["access_token"] = json!(grant.access_token.expose());
    }
    if args.no_verify {
        line["verified"] = serde_json::Value::Null;
        return (Outcome::Granted, Line::Ready(line.to_string()), None);
    }
    match job.client.identity(job.login, &grant) {
        Ok(IdentityCheck::Verified(id)) if id.username.eq_ignore_ascii_case(user) => {
            line["verified"] = json!(true);
            (Outcome::Granted, Line::Ready(line.to_string()), None)
        }
        Ok(IdentityCheck::Verified(id)) => {
            line["ok"] = json!(false);
            line["verified"] = json!(false);
            line["error"] = json!("identity_mismatch");
            line["error_description"] = json!(format!(
                "the identity endpoint names {}, not {user}",
                id.username
            ));
            (Outcome::Refused, Line::Ready(line.to_string()), None)
        }
        Ok(IdentityCheck::Rejected { status, .. }) => {
            line["ok"] = json!(false);
            line["verified"] = json!(false);
            line["error"] = json!("identity_rejected");
            line["error_description"] = json!(format!(
                "the token was issued, but the identity endpoint answered HTTP {status}"
            ));
            (Outcome::Refused, Line::Ready(line.to_string()), None)
        }
        Err(e) => failed(
            user,
            "network",
            network_error("the identity check failed", job.login, e),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_skip_blanks_and_comments() {
        let text = "# team A\nalice@example.com\n\n  bob@example.com \r\n#carol@example.com\n\t\n";
        assert_eq!(
            parse_usernames(text),
            ["alice@example.com", "bob@example.com"]
        );
        assert!(parse_usernames("# only a comment\n\n").is_empty());
    }
}
