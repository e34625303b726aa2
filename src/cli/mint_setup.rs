//! What one `certmint mint` and a batch (`--usernames`, `mint_batch`) share: the
//! options, and the setup before the first request (the login URL and audience, the key
//! and certificate checked against each other, the HTTP client and the signer), and the
//! hints for network errors.

use std::path::PathBuf;
use std::time::Duration;

use certmint::Error;
use certmint::error::NetworkKind;
use certmint::jwt::Signer;
use certmint::key::RsaKey;
use certmint::token_endpoint::{
    Client, ClientOptions, ExplainContext, LoginUrl, ProxySettings, resolve_audience,
};
use certmint::x509::CertInfo;
use clap::Args;

use super::common::Ctx;
use super::error::{CliError, CliResult};
use super::jwt::SignerArgs;
use super::stdio::errln;
use certmint::text::escape;

#[derive(Args, Debug)]
pub(crate) struct MintArgs {
    #[command(flatten)]
    pub signer: SignerArgs,
    /// Where to log in: `login` (https://login.salesforce.com), `test`
    /// (https://test.salesforce.com), a My Domain URL, an Experience Cloud site URL, or
    /// http://127.0.0.1:PORT for the emulator.
    /// Default: `login`, or the login URL recorded in --dir.
    #[arg(long, value_name = "URL", value_parser = super::shell::LOGIN_URLS, hide_possible_values = true)]
    pub login_url: Option<String>,
    /// Override the audience: `login`, `test` or a URL.
    #[arg(long, value_name = "login|test|URL", value_parser = super::shell::LOGIN_URLS, hide_possible_values = true)]
    pub audience: Option<String>,
    /// The certificate uploaded to the connected app: checked against the key before
    /// anything is sent, and its fingerprint shown if Salesforce says "invalid assertion".
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// Trust only this CA (PEM or DER) for HTTPS: a private CA, a TLS-inspecting proxy, or
    /// the emulator's certificate.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Print the access token itself instead of a masked form; with -q (and without
    /// --json), only the token and a newline.
    #[arg(long)]
    pub show_token: bool,
    /// Write the access token to FILE (mode 0600).
    #[arg(long, value_name = "FILE")]
    pub token_out: Option<PathBuf>,
    /// Replace the --token-out file if it exists.
    #[arg(long)]
    pub force: bool,
    /// Print the result as one JSON object on stdout (without the token unless
    /// --show-token), also when Salesforce refuses (exit 1) or anything fails (exit 2).
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
    /// Then log the Salesforce CLI in with the token under ALIAS (`sf org login
    /// access-token`, the token passed in its environment, never on its command line), so
    /// `sf` works against the org without an unencrypted key on disk.
    #[arg(long, value_name = "ALIAS")]
    pub sf_alias: Option<String>,
    /// Mint a token for each username in FILE (one per line; blank lines and `#` comments
    /// are skipped), in parallel, printing one JSON line per user (token masked unless
    /// --show-token). Exit code 0 when every user got a token, 1 when Salesforce refused
    /// any, 2 on an error.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["username", "token_out", "retry", "sf_alias"])]
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
            // Checked here, so a bad recorded URL is reported as the manifest's.
            d.checked_login_url("--login-url")?;
            args.login_url = d.login_url.clone();
            // The audience connect recorded with that login URL goes with it.
            if args.audience.is_none() {
                args.audience = d.audience.clone();
            }
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
    // Only when asked for: by default a loopback endpoint gets its own URL as audience.
    if login.exposes_audience(&audience) {
        errln!(
            "warning: the assertion for {} goes to {}, a local port any user of this machine could hold; Salesforce would accept it from whoever receives it, for up to three minutes",
            escape(&audience),
            login
        );
    }
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
            let given = super::common::Given::Cert;
            if let Some(e) = super::common::keystore_given_as(given, p, &data, Some("--keystore")) {
                return Err(e);
            }
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
                "the key's public key has SHA-256 {}, the certificate's has SHA-256 {} (certificate {}, SHA-1 {} as Salesforce shows it)",
                key.public_key_sha256(),
                certmint::key::spki_sha256(&c.spki),
                c.subject,
                c.sha1
            ))
            .hint("sign with the key the certificate was made from, or upload a certificate made from this key"));
    }
    Ok((ca_certs, key, cert))
}

/// What every explanation of a refusal can say about this setup (the per-request facts,
/// `now`, `exp` and `username`, are the caller's).
pub(super) fn explain_context(
    login: &LoginUrl,
    audience: &str,
    client_id: Option<String>,
    key: &RsaKey,
    cert: Option<&CertInfo>,
) -> ExplainContext {
    ExplainContext {
        now: None,
        exp: None,
        login_url: Some(login.to_string()),
        audience: Some(audience.to_owned()),
        client_id,
        username: None,
        key_spki_sha256: Some(key.public_key_sha256()),
        cert_sha1: cert.map(|c| c.sha1.clone()),
        cert_matches_key: cert.map(|c| key.matches_spki(&c.spki)),
    }
}

pub(super) fn network_error(action: &str, login: &LoginUrl, e: Error) -> CliError {
    let hint = match &e {
        Error::Network { kind, .. } => Some(match kind {
            NetworkKind::UntrustedCertificate => {
                if login.is_loopback() {
                    "the emulator's certificate is not trusted: pass it (or its CA) with --ca-file".to_owned()
                } else {
                    "the server's certificate is not trusted by this machine: behind a TLS-inspecting proxy or with a private CA, pass that CA with --ca-file (or set SSL_CERT_FILE)".to_owned()
                }
            }
            NetworkKind::NotTls => {
                if login.is_loopback() {
                    format!(
                        "this server speaks plain HTTP: use {} (plain http:// is allowed to loopback only)",
                        login.origin().replacen("https://", "http://", 1)
                    )
                } else {
                    "the server does not speak TLS on this port: check the port in --login-url (Salesforce serves HTTPS on 443) and any proxy in between".to_owned()
                }
            }
            NetworkKind::Tls => {
                "check --login-url, the server's certificate and --ca-file (or SSL_CERT_FILE)".to_owned()
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
            NetworkKind::Proxy => "check the proxy named above (HTTPS_PROXY, else ALL_PROXY; HTTP_PROXY is not used for HTTPS) and NO_PROXY".to_owned(),
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
