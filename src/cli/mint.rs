//! `certmint mint`: sign an assertion, exchange it for an access token (OAuth 2.0 JWT
//! bearer, RFC 7523) and prove the token works with the identity URL.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use certmint::Error;
use certmint::error::NetworkKind;
use certmint::jwt::Signer;
use certmint::key::RsaKey;
use certmint::output::Mode;
use certmint::text::escape;
use certmint::token_endpoint::{
    Client, ClientOptions, Exchange, ExplainContext, IdentityCheck, LoginUrl, OAuthError,
    ProxySettings, TokenResponse, explain, resolve_audience,
};
use certmint::x509::CertInfo;
use clap::Args;
use serde_json::json;

use super::common::{Ctx, check_out};
use super::error::{CliError, CliResult, EXIT_NO};
use super::jwt::{SignerArgs, now_unix};

pub const AFTER_HELP: &str = "\
EXAMPLES:
  $ certmint mint --key server.key --client-id \"$CONSUMER_KEY\" --username integration@acme.com
  $ certmint mint --key server.key --client-id \"$CONSUMER_KEY\" --username ci@acme.com.uat --login-url test
  $ certmint mint --key server.key --client-id \"$CONSUMER_KEY\" --username ci@acme.com \\
      --login-url https://acme.my.salesforce.com --cert server.crt --token-out token.txt
  $ certmint mint --key server.key --client-id KEY --username alice@example.com \\
      --login-url http://127.0.0.1:7357 --json      # against `certmint emulate`
  $ certmint mint --key server.key --client-id KEY --usernames users.txt --concurrency 8 > tokens.jsonl

The token request is POST <login URL>/services/oauth2/token with grant_type and assertion,
form-encoded. The audience follows the login URL: production and My Domain
https://login.salesforce.com; sandboxes (test, *.sandbox.my.salesforce.com)
https://test.salesforce.com; an Experience Cloud site its own URL. --audience overrides it.

The access token is shown masked (org id prefix, first and last four characters) unless
--show-token; --token-out writes it to a file with mode 0600. There is no refresh token in
this flow: mint again when the session expires. Then the token is proven with a GET of
the identity URL it came with (skip with --no-verify).

HTTPS uses the system's trusted roots (SSL_CERT_FILE and SSL_CERT_DIR are honoured), or
only the CA in --ca-file. Proxies come from HTTPS_PROXY (else ALL_PROXY, else HTTP_PROXY)
and NO_PROXY; loopback is never proxied. Plain http:// is allowed only to loopback.

EXIT CODES:
  0  a token was issued (and the identity check passed)
  1  Salesforce refused the assertion (the error, its meaning and the fix are printed),
     or the identity check refused the token
  2  error: bad option, unreadable key, network, proxy or TLS failure";

#[derive(Args, Debug)]
pub struct MintArgs {
    #[command(flatten)]
    pub signer: SignerArgs,
    /// Where to log in: `login` (https://login.salesforce.com), `test`
    /// (https://test.salesforce.com), a My Domain URL, an Experience Cloud site URL, or
    /// http://127.0.0.1:PORT for the emulator.
    /// Default: `login`, or the login URL recorded in --dir.
    #[arg(long, value_name = "URL")]
    pub login_url: Option<String>,
    /// Override the audience: `login`, `test` or a URL.
    #[arg(long, value_name = "login|test|URL")]
    pub audience: Option<String>,
    /// The certificate uploaded to the connected app: checked against the key before
    /// anything is sent, and its fingerprint shown if Salesforce says "invalid assertion".
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// Trust only this CA (PEM or DER) for HTTPS: a private CA, a TLS-inspecting proxy, or
    /// the emulator's certificate.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Print the access token itself instead of a masked form.
    #[arg(long)]
    pub show_token: bool,
    /// Write the access token to FILE (mode 0600).
    #[arg(long, value_name = "FILE")]
    pub token_out: Option<PathBuf>,
    /// Replace the --token-out file if it exists.
    #[arg(long)]
    pub force: bool,
    /// Print the result as JSON on stdout (without the token unless --show-token).
    #[arg(long)]
    pub json: bool,
    /// Skip the identity check after the token is issued.
    #[arg(long)]
    pub no_verify: bool,
    /// Keep trying for up to SECONDS while Salesforce refuses or cannot be reached
    /// (connected-app changes take minutes to propagate); a fresh assertion each time.
    #[arg(long, value_name = "SECONDS")]
    pub retry: Option<u64>,
    /// Seconds between attempts with --retry.
    #[arg(long, value_name = "SECONDS", default_value_t = 15, requires = "retry")]
    pub retry_every: u64,
    /// Seconds allowed for name lookup and connecting.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub connect_timeout: u64,
    /// Seconds allowed for each response.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub timeout: u64,
    /// Mint a token for each username in FILE (one per line; blank lines and `#` comments
    /// are skipped), in parallel, printing one JSON line per user (token masked unless
    /// --show-token). Exit code 0 when every user got a token, 1 when Salesforce refused
    /// any, 2 on an error.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["username", "token_out", "retry"])]
    pub usernames: Option<PathBuf>,
    /// With --usernames: how many connections (and signing threads) to use at once
    /// [default: 8].
    #[arg(
        long,
        value_name = "N",
        requires = "usernames",
        conflicts_with = "username",
        value_parser = clap::value_parser!(u16).range(1..=256)
    )]
    pub concurrency: Option<u16>,
}

/// The HTTP client (timeouts, proxy, trusted roots; `pool` idle connections per host when
/// given) and the assertion signer, for one mint or a batch.
pub(super) fn client_and_signer(
    args: &MintArgs,
    ca_certs: Option<Vec<u8>>,
    key: &RsaKey,
    pool: Option<usize>,
) -> CliResult<(Client, Signer)> {
    let defaults = ClientOptions::default();
    let client = Client::new(ClientOptions {
        ca_certs,
        connect_timeout: Duration::from_secs(args.connect_timeout.max(1)),
        read_timeout: Duration::from_secs(args.timeout.max(1)),
        proxy: ProxySettings::from_env(),
        pool_per_host: pool.unwrap_or(defaults.pool_per_host),
        ..defaults
    })
    .map_err(|e| CliError::lib("cannot set up HTTPS", args.ca_file.as_deref(), e))?;
    let signer = Signer::new(key, args.signer.header()).map_err(|e| {
        CliError::lib(
            "cannot use the key for signing",
            Some(args.signer.source_path()),
            e,
        )
    })?;
    Ok((client, signer))
}

/// Check the signer options; with --dir, take the generation's login URL and certificate
/// where none is given, and return what the directory named.
pub(super) fn apply_dir(args: &mut MintArgs) -> CliResult<Option<super::jwt::DirSettings>> {
    let dir = args.signer.resolve()?;
    if let Some(d) = &dir {
        if args.login_url.is_none() {
            args.login_url = d.login_url.clone();
        }
        if args.cert.is_none() {
            args.cert = Some(d.cert.clone());
        }
    }
    Ok(dir)
}

/// The login URL (default `login`) and the audience it implies (or --audience).
pub(super) fn login_and_audience(args: &MintArgs) -> CliResult<(LoginUrl, String)> {
    let login = LoginUrl::parse(args.login_url.as_deref().unwrap_or("login")).map_err(|e| {
        CliError::lib("invalid --login-url", None, e)
            .hint("pass login, test, https://NAME.my.salesforce.com, a site URL, or http://127.0.0.1:PORT")
    })?;
    let audience = match &args.audience {
        Some(a) => resolve_audience(a).map_err(|e| {
            CliError::lib("invalid --audience", None, e).hint("pass login, test or a URL")
        })?,
        None => login.default_audience(),
    };
    Ok((login, audience))
}

/// The CA file's bytes, the signing key, and the certificate it must match (from --cert,
/// --dir or the keystore), checked against each other before anything is sent.
pub(super) fn signing_material(
    ctx: &mut Ctx,
    args: &MintArgs,
) -> CliResult<(Option<Vec<u8>>, RsaKey, Option<CertInfo>)> {
    let ca_certs = match &args.ca_file {
        Some(p) => Some(ctx.read(p, "CA certificate")?),
        None => None,
    };
    let cert = match &args.cert {
        Some(p) => {
            let data = ctx.read(p, "certificate")?;
            Some(
                certmint::x509::parse(&data)
                    .map_err(|e| CliError::lib("cannot read certificate", Some(p), e))?,
            )
        }
        None => None,
    };
    let loaded = args.signer.load_key(ctx)?;
    let key = loaded.key;
    let cert = cert.or(loaded.cert);
    if let Some(c) = &cert
        && !key.matches_spki(&c.spki)
    {
        return Err(CliError::new("the key does not match the certificate")
            .cause(format!(
                "key public-key SHA-256 {}; certificate {} (SHA-1 {})",
                key.public_key_sha256(),
                c.subject,
                c.sha1
            ))
            .hint("sign with the key the certificate was made from, or upload a certificate made from this key"));
    }
    Ok((ca_certs, key, cert))
}

pub fn run(ctx: &mut Ctx, mut args: MintArgs) -> CliResult<u8> {
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
                login_url: Some(login.to_string()),
                audience: Some(audience.clone()),
                client_id: Some(claims.iss.clone()),
                username: Some(claims.sub.clone()),
                key_spki_sha256: Some(key.public_key_sha256()),
                cert_sha1: cert.as_ref().map(|c| c.sha1.clone()),
                cert_matches_key: cert.as_ref().map(|c| key.matches_spki(&c.spki)),
            };
            report_refusal(&err, &ctx_x, args.json);
            return Ok(EXIT_NO);
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
    print_success(
        &args,
        &login,
        &audience,
        &claims.sub,
        &grant,
        identity.as_ref(),
    );
    match &identity {
        Some(IdentityCheck::Verified(id)) if !id.username.eq_ignore_ascii_case(&claims.sub) => {
            Err(CliError::new(format!(
                "the identity endpoint names {}, not {}",
                escape(&id.username),
                escape(&claims.sub)
            ))
            .hint("the token belongs to another user than the one asked for; check --username")
            .code(EXIT_NO))
        }
        Some(IdentityCheck::Rejected { url, status, body }) => Err(CliError::new(
            "the token was issued, but the identity endpoint refused it",
        )
        .cause(format!("{url} answered HTTP {status}: {body}"))
        .hint(
            "the session may have been revoked at once (Setup > Session Management); \
                     --no-verify skips this check",
        )
        .code(EXIT_NO)),
        _ => Ok(0),
    }
}

fn print_success(
    args: &MintArgs,
    login: &LoginUrl,
    audience: &str,
    username: &str,
    grant: &TokenResponse,
    identity: Option<&IdentityCheck>,
) {
    let shown_token = if args.show_token {
        grant.access_token.expose().to_owned()
    } else {
        grant.access_token.masked()
    };
    let opt = |s: Option<&str>| s.map(escape);
    if args.json {
        let identity_json = match identity {
            None => serde_json::Value::Null,
            Some(IdentityCheck::Verified(id)) => json!({
                "verified": true,
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
            "ok": true,
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
        println!("{v}");
        return;
    }
    let mut out = std::io::stdout().lock();
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
}

fn report_refusal(err: &OAuthError, ctx: &ExplainContext, as_json: bool) {
    let x = explain(err, ctx);
    eprintln!(
        "error: Salesforce refused the assertion (HTTP {})",
        err.status
    );
    eprintln!("  error:             {}", escape(&err.error));
    eprintln!("  error_description: {}", escape(&err.description));
    match x.known {
        Some(k) => {
            eprintln!("  meaning: {}", k.meaning);
            eprintln!("  likely causes:");
            for c in k.causes {
                eprintln!("    - {c}");
            }
            eprintln!("  fix:");
            for f in k.fixes {
                eprintln!("    - {f}");
            }
        }
        None => {
            eprintln!("  (certmint has no explanation for this error; see docs/troubleshooting.md)")
        }
    }
    if !x.facts.is_empty() {
        eprintln!("  what certmint sent:");
        for f in &x.facts {
            eprintln!("    - {f}");
        }
    }
    if as_json {
        let v = json!({
            "ok": false,
            "status": err.status,
            "error": err.error,
            "error_description": err.description,
            "meaning": x.known.map(|k| k.meaning),
            "causes": x.known.map(|k| k.causes),
            "fixes": x.known.map(|k| k.fixes),
            "facts": x.facts,
        });
        println!("{v}");
    }
}

pub(super) fn network_error(action: &str, login: &LoginUrl, e: Error) -> CliError {
    let hint = match &e {
        Error::Network { kind, .. } => Some(match kind {
            NetworkKind::Tls => {
                if login.is_loopback() {
                    "the emulator's certificate is not trusted: pass it (or its CA) with --ca-file".to_owned()
                } else {
                    "the server's certificate is not trusted by this machine: behind a TLS-inspecting proxy or with a private CA, pass that CA with --ca-file (or set SSL_CERT_FILE)".to_owned()
                }
            }
            NetworkKind::Dns => format!(
                "check the spelling of {} and this machine's DNS; behind a proxy set HTTPS_PROXY",
                login.host()
            ),
            NetworkKind::Connect => {
                if login.is_loopback() {
                    "is the emulator running? Start it with `certmint emulate` and use the URL it prints".to_owned()
                } else {
                    "check the network and firewall; behind a proxy set HTTPS_PROXY (and NO_PROXY for exceptions)".to_owned()
                }
            }
            NetworkKind::Timeout => {
                "the server did not answer in time: check the network or proxy, or raise --connect-timeout / --timeout".to_owned()
            }
            NetworkKind::Proxy => "check HTTPS_PROXY / ALL_PROXY / HTTP_PROXY and NO_PROXY".to_owned(),
            NetworkKind::UnexpectedResponse => {
                "this is not a Salesforce token endpoint answer: check --login-url (login, test, or the My Domain or site URL without a path beyond the site)".to_owned()
            }
            _ => "check --login-url and the network".to_owned(),
        }),
        Error::InvalidInput { .. } => None,
        _ => None,
    };
    let mut err = CliError::lib(action, None, e);
    if let Some(h) = hint {
        err = err.hint(h);
    }
    err
}
