//! `certmint emulate`: run a local emulator of Salesforce's JWT bearer token endpoint.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use certmint::emulator::{self, Config, Limits, ServerOptions, TlsIdentity, id18};
use certmint::error::Input;
use certmint::text::escape;
use clap::Args;

use super::common::Ctx;
use super::error::{CliError, CliResult, shown};
use super::password::PassSource;
use super::stdio::{errln, outln};

pub(super) const AFTER_HELP: &str = "\
EXAMPLES:
  $ certmint emulate --cert server.crt --client-id KEY -u alice@example.com
  $ certmint emulate --cert server.crt --client-id KEY -u alice@example.com \\
      --listen localhost:0
  $ certmint emulate --config org.toml --state org-state.toml
  $ certmint emulate --config org.toml
  $ certmint emulate --config org.toml --tls-cert tls.crt --tls-key tls.key
  $ certmint emulate --config org.toml --login-listen 127.0.0.1:0
  $ certmint mint --key server.key --client-id KEY -u alice@example.com \\
      --login-url http://127.0.0.1:7357

ROUTES:
The first line on stdout is the base URL (e.g. http://127.0.0.1:7357), so scripts can read
it: `url=$(certmint emulate ... | head -n1)`; with --login-listen the second line is the
login host's URL. Then it serves until Ctrl-C or SIGTERM:
  POST /services/oauth2/token        the JWT bearer grant, checked as Salesforce
  GET  /id/ORG/USER                  identity URL (Bearer token)
  GET  /services/oauth2/userinfo     OpenID Connect UserInfo
  GET  /services/data/               API versions (no auth)
  GET  /services/data/vNN.0/...      with a token: query (SOQL), tooling/query,
                                     sobjects (describe, PermissionSet and
                                     PermissionSetAssignment creates, deletes),
                                     limits, metadata/deployRequest (deploys)
  POST /services/Soap/m/NN.0         Metadata API readMetadata and listMetadata
  GET  /services/oauth2/singleaccess frontdoor URL
  POST /services/oauth2/revoke       logout
Errors are Salesforce's exact JSON. One line per request goes to stderr
(method, path, status, error, latency; never assertions or tokens); --no-log silences it.

NOTES:
With flags, the org has one connected app (admin-approved, pre-authorizing the System
Administrator profile) and the given users with that profile, who may also deploy. A
TOML file (--config) describes apps, Permitted Users policies, users, sandbox and My
Domain; see docs/emulator.md. The certificate's validity dates are not checked, as in
Salesforce.

It binds 127.0.0.1 unless --listen says otherwise, and warns when it is reachable from
other machines. --login-listen also plays the login host (login.salesforce.com) on a
second address: its token endpoint only, where External Client Apps are not found, as
users report from the real one.

EXIT CODES:
  0  stopped by Ctrl-C or SIGTERM
  2  error (bad configuration, unreadable certificate, address in use)";

#[derive(Args, Debug)]
pub(crate) struct EmulateArgs {
    /// The certificate uploaded to the emulated connected app (PEM or DER).
    #[arg(long, value_name = "FILE", required_unless_present = "config")]
    pub cert: Option<PathBuf>,
    /// The emulated app's consumer key.
    #[arg(
        long,
        value_name = "KEY",
        visible_alias = "consumer-key",
        required_unless_present = "config"
    )]
    pub client_id: Option<String>,
    /// A username the org knows (active, System Administrator, pre-authorized); repeat
    /// for more (alias --user, as before).
    #[arg(
        long = "username",
        short = 'u',
        visible_alias = "user",
        value_name = "USERNAME",
        required_unless_present = "config"
    )]
    pub users: Vec<String>,
    /// A TOML file describing the org, apps and users (see docs/emulator.md).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["cert", "client_id", "users", "sandbox", "org_id", "my_domain"])]
    pub config: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7357")]
    pub listen: String,
    /// Also play the login host (login.salesforce.com) on this address: the token
    /// endpoint only; its URL is the second line on stdout.
    #[arg(long, value_name = "ADDR")]
    pub login_listen: Option<String>,
    /// Serve HTTPS with this certificate (PEM, leaf first; may hold the chain).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Password source for an encrypted --tls-key.
    #[arg(long, value_name = "SRC")]
    pub tls_passin: Option<PassSource>,
    /// Emulate a sandbox (audience https://test.salesforce.com).
    #[arg(long)]
    pub sandbox: bool,
    /// The org id (15 or 18 characters, starting 00D).
    #[arg(long, value_name = "ID")]
    pub org_id: Option<String>,
    /// The org's My Domain URL (accepted as an audience too).
    #[arg(long, value_name = "URL")]
    pub my_domain: Option<String>,
    /// Seconds an expired `exp` is still accepted (default 0; overrides the file).
    #[arg(long, value_name = "SECONDS")]
    pub clock_skew: Option<u64>,
    /// Keep the org (profiles, permission sets, apps, users) in this file across restarts:
    /// loaded when it exists, rewritten after each deploy or REST write.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Do not log requests to stderr.
    #[arg(long)]
    pub no_log: bool,
    /// Worker threads (default: one per CPU).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub workers: usize,
}

pub(super) fn run(ctx: &mut Ctx, args: EmulateArgs) -> CliResult<()> {
    let mut config = match &args.config {
        Some(path) => {
            let text = ctx.read(path, "emulator configuration")?;
            let text = String::from_utf8(text).map_err(|_| {
                CliError::new(format!(
                    "cannot read emulator configuration `{}`",
                    shown(path)
                ))
                .cause("it is not UTF-8 text")
            })?;
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            let mut read = |p: &Path| {
                let full = if p.is_absolute() {
                    p.to_path_buf()
                } else {
                    dir.join(p)
                };
                super::common::read_file(&full, "certificate")
                    .map_err(|e| std::io::Error::other(e.cause.unwrap_or(e.message)))
            };
            Config::from_toml(&text, &mut read).map_err(|e| {
                CliError::lib("invalid emulator configuration", Some(path), e)
                    .hint("see docs/emulator.md for the schema and a full example")
            })?
        }
        None => {
            let (Some(cert_path), Some(client_id)) = (&args.cert, &args.client_id) else {
                return Err(CliError::new(
                    "give --cert, --client-id and --user, or --config FILE.toml",
                ));
            };
            let cert = ctx.read(cert_path, "certificate")?;
            if let Some(e) =
                super::common::keystore_given_as(super::common::Given::Cert, cert_path, &cert, None)
            {
                return Err(e);
            }
            let mut c = Config::simple(&cert, client_id, &args.users)
                .map_err(|e| CliError::lib("cannot use certificate", Some(cert_path), e))?;
            c.sandbox = args.sandbox;
            if let Some(id) = &args.org_id {
                c.org_id = id18(id, "00D", Input::OrgId)
                    .map_err(|e| CliError::lib("invalid --org-id", None, e))?;
            }
            if let Some(d) = &args.my_domain {
                let d = d.trim().trim_end_matches('/');
                c.my_domain = Some(if d.contains("://") {
                    d.to_owned()
                } else {
                    format!("https://{d}")
                });
            }
            c
        }
    };
    if let Some(s) = args.clock_skew {
        config.clock_skew = s;
    }
    let listen = resolve_listen(&args.listen, "--listen")?;
    let login_listen = match &args.login_listen {
        Some(l) => Some(resolve_listen(l, "--login-listen")?),
        None => None,
    };
    // Print the base URL under the host the user asked for (`localhost`, `[::1]`).
    let shown_host = args
        .listen
        .rsplit_once(':')
        .map(|(h, _)| h.to_owned())
        .filter(|h| !h.is_empty() && h != "0.0.0.0" && h != "[::]");
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(c), Some(k)) => Some(load_tls(ctx, c, k, args.tls_passin.as_ref())?),
        _ => None,
    };
    let summary = summary(&config);
    let running = emulator::start(
        config,
        ServerOptions {
            listen,
            tls,
            limits: Limits::default(),
            log: !args.no_log,
            workers: args.workers,
            stop_on_signals: true,
            state_file: args.state.clone(),
            shown_host,
            login_listen,
        },
    )
    .map_err(|e| start_error(&args, e))?;
    // The warning comes before the URL line, so whoever reads the URL (a script, a test)
    // knows the warning has been written.
    if !emulator::is_loopback(&running.local_addr()) {
        errln!(
            "WARNING: the emulator listens on {}, reachable from other machines. It issues tokens to anyone \
             holding a key it trusts. Use --listen 127.0.0.1:PORT unless you mean it.",
            running.local_addr()
        );
    }
    // A reader that took the URL and closed the pipe (`| head -n1`) does not stop the
    // emulator.
    if let Err(e) = outln!("{}", running.base_url())
        && !e.is_stdout_closed()
    {
        return Err(e);
    }
    if let Some(login) = running.login_url()
        && let Err(e) = outln!("{login}")
        && !e.is_stdout_closed()
    {
        return Err(e);
    }
    ctx.say(format!("certmint emulator at {}", running.base_url()));
    ctx.say(format!(
        "  token endpoint: POST {}/services/oauth2/token",
        running.base_url()
    ));
    if let Some(login) = running.login_url() {
        ctx.say(format!(
            "  login host (token endpoint only): POST {login}/services/oauth2/token"
        ));
    }
    for line in summary {
        ctx.say(format!("  {line}"));
    }
    ctx.say("  stop with Ctrl-C");
    running.wait();
    ctx.say("emulator stopped");
    Ok(())
}

fn summary(c: &Config) -> Vec<String> {
    let mut v = vec![format!(
        "org {} ({}), audience {}{}",
        c.org_id,
        if c.sandbox { "sandbox" } else { "production" },
        c.login_host(),
        if c.accept_my_domain_audience {
            " (also the My Domain / emulator URL)"
        } else {
            ""
        }
    )];
    for a in &c.apps {
        v.push(format!(
            "app {}: consumer key {}, certificate SHA-1 {}, {}",
            escape(&a.name),
            escape(&a.consumer_key),
            a.cert_sha1,
            a.permitted_users
        ));
    }
    for u in &c.users {
        v.push(format!(
            "user {} ({}){}",
            escape(&u.username),
            u.id,
            if u.active { "" } else { ", inactive" }
        ));
    }
    v
}

fn resolve_listen(s: &str, flag: &str) -> CliResult<SocketAddr> {
    let bad = || {
        CliError::new(format!("invalid {flag} `{}`", escape(s)))
            .hint("give HOST:PORT, e.g. 127.0.0.1:7357 or 127.0.0.1:0")
    };
    s.to_socket_addrs()
        .map_err(|e| bad().cause(e))?
        .next()
        .ok_or_else(bad)
}

fn load_tls(
    ctx: &mut Ctx,
    cert: &Path,
    key: &Path,
    passin: Option<&PassSource>,
) -> CliResult<TlsIdentity> {
    let data = ctx.read(cert, "TLS certificate")?;
    if let Some(e) = super::common::keystore_given_as(super::common::Given::Cert, cert, &data, None)
    {
        return Err(e);
    }
    let certs = certmint::x509::parse_chain(&data)
        .map_err(|e| CliError::lib("cannot read TLS certificate", Some(cert), e))?;
    let Some(info) = certs.first() else {
        return Err(
            CliError::new(format!("cannot read TLS certificate `{}`", shown(cert)))
                .cause("it holds no CERTIFICATE block"),
        );
    };
    let chain: Vec<Vec<u8>> = certs.iter().map(|c| c.der.clone()).collect();
    let (k, _) = ctx.load_key(key, passin)?;
    if !k.matches_spki(&info.spki) {
        return Err(
            CliError::new("the TLS key does not match the TLS certificate")
                .hint("pass the key --tls-cert was made from"),
        );
    }
    Ok(TlsIdentity {
        cert_chain: chain,
        key_pkcs8: k.pkcs8_der().clone(),
    })
}

/// Why `emulate` could not start: the address (bound first), or, with `--state`, the state
/// file (loaded after); each with what to do.
fn start_error(args: &EmulateArgs, e: certmint::Error) -> CliError {
    use std::io::ErrorKind as K;
    let binding = matches!(&e, certmint::Error::Io(io)
        if matches!(io.kind(), K::AddrInUse | K::AddrNotAvailable)
            // A privileged port; the state file is read only after the port is bound.
            || (io.kind() == K::PermissionDenied
                && (args.state.is_none() || listen_port(&args.listen).is_some_and(|p| p < 1024))));
    match &args.state {
        Some(state) if !binding => CliError::lib("cannot load the emulator state", Some(state), e)
            .hint(
                "fix the file, or move it away to start from the configuration again (--config or the flags); the emulator writes it again after the next deploy or REST write",
            ),
        _ => CliError::lib(
            format!("cannot listen on {}", escape(&args.listen)),
            None,
            e,
        )
        .hint("pick another port with --listen 127.0.0.1:PORT (port 0 picks a free one)"),
    }
}

fn listen_port(listen: &str) -> Option<u16> {
    listen.rsplit_once(':')?.1.parse().ok()
}
