//! `certmint demo`: the whole job offline, end to end, in one command: the recipe into a
//! fresh directory, then a real JWT bearer exchange against certmint's emulator of the
//! Salesforce token endpoint, and the identity check with the token it returns.

use std::path::PathBuf;

use certmint::emulator::{Config, ServerOptions};
use certmint::jwt::{Claims, HeaderStyle, Signer};
use certmint::key::KeyEncryption;
use certmint::manifest::{Role, SalesforceSettings};
use certmint::output::Mode;
use certmint::pkcs12::Profile;
use certmint::text::escape;
use certmint::token_endpoint::{Client, ClientOptions, Exchange, IdentityCheck, LoginUrl};
use certmint::workdir::{self, InitSettings};
use clap::Args;

use super::common::Ctx;
use super::error::{CliError, CliResult, ExitStatus, shown};
use super::password::{PassSource, Purpose};
use super::stdio::{errln, outln};

pub(super) const AFTER_HELP: &str = "\
EXAMPLES:
  $ certmint demo                           # into ./certmint-demo
  $ certmint demo /tmp/jwt-demo --passout env:DEMO_PASS

Runs the whole job offline: `certmint init` into DIR (encrypted key, plain key, CSR,
certificate, PKCS#12, JKS and the manifest), then starts certmint's emulator of the
Salesforce token endpoint on 127.0.0.1 with the new certificate uploaded to a demo
connected app, signs an RS256 assertion with the new key, exchanges it for an access token
(shown masked) and proves the token with the identity URL. Nothing leaves the machine.
Without --passout, a random password is generated and saved in DIR/demo-password.txt
(mode 0600). Run it again to reuse the directory.

EXIT CODES:
  0  a token was minted and verified
  1  the emulator refused the assertion (printed with its explanation)
  2  error";

/// The demo connected app's consumer key.
pub(super) const DEMO_CLIENT_ID: &str = "3MVG9certmint.DEMO.consumer.key";
/// The demo integration user.
pub(super) const DEMO_USER: &str = "integration@certmint-demo.example";

#[derive(Args, Debug)]
pub(crate) struct DemoArgs {
    /// The directory to make (or reuse).
    #[arg(value_name = "DIR", default_value = "certmint-demo")]
    pub dir: PathBuf,
    /// Password source for the demo's keys and keystores (default: a random one saved in
    /// DIR/demo-password.txt).
    #[arg(long, value_name = "SRC")]
    pub passout: Option<PassSource>,
}

pub(super) fn run(ctx: &mut Ctx, args: DemoArgs) -> CliResult<ExitStatus> {
    let dir = &args.dir;
    let pw_file = dir.join("demo-password.txt");
    let password = match &args.passout {
        Some(src) => {
            let purpose = if workdir::is_workdir(dir) {
                Purpose::Existing
            } else {
                Purpose::New
            };
            ctx.passwords
                .get(Some(src), "--passout", "the demo's keys", purpose)?
        }
        None if pw_file.is_file() => {
            let text = zeroize::Zeroizing::new(ctx.read(&pw_file, "demo password")?);
            let line = String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or("")
                .to_owned();
            certmint::Password::new(line)
        }
        None if workdir::is_workdir(dir) => {
            return Err(CliError::new(format!(
                "`{}` already holds a certmint directory without demo-password.txt",
                shown(dir)
            ))
            .hint("give its password with --passout, or choose a new demo directory"));
        }
        None => {
            if !dir.exists() {
                certmint::output::create_private_dir(dir)
                    .map_err(|e| CliError::lib("cannot create", Some(dir), e))?;
            }
            let mut raw = [0u8; 18];
            getrandom_fill(&mut raw)?;
            let pw = certmint::jwt::b64url(&raw);
            certmint::secret::wipe(&mut raw);
            ctx.write(
                &pw_file,
                format!("{pw}\n").as_bytes(),
                Mode::Secret,
                false,
                "the demo's random password",
            )?;
            certmint::Password::new(pw)
        }
    };

    // 1. The recipe.
    let subject = certmint::subject::Subject::parse_openssl("/O=certmint demo/CN=certmint-demo")
        .map_err(|e| CliError::lib("cannot build the demo subject", None, e))?;
    let settings = InitSettings {
        stem: "server".into(),
        subject,
        bits: 2048,
        days: 365,
        alias: None,
        profile: Profile::Modern,
        kdf: KeyEncryption::pbkdf2_default(),
        salesforce: SalesforceSettings {
            client_id: Some(DEMO_CLIENT_ID.into()),
            username: Some(DEMO_USER.into()),
            login_url: None,
        },
        jks: true,
    };
    ctx.say(format!("1. the recipe, into `{}`", shown(dir)));
    let report = workdir::init(dir, &settings, &password, certmint::x509::now_seconds())
        .map_err(|e| CliError::lib("cannot make the demo directory", Some(dir), e))?;
    super::init::print_report(ctx, &report);
    let m = &report.manifest;
    let g = m
        .current_generation()
        .ok_or_else(|| CliError::new("the demo directory has no current generation"))?;
    let cert_path = workdir::file_path(dir, m, g, Role::Certificate);
    let key_path = workdir::file_path(dir, m, g, Role::PlainKey);
    let cert_pem = ctx.read(&cert_path, "certificate")?;
    let key = ctx.load_key(&key_path, None)?.0;

    // 2. The emulator, with the certificate "uploaded" to a pre-authorized connected app.
    let config = Config::simple(&cert_pem, DEMO_CLIENT_ID, &[DEMO_USER.to_string()])
        .map_err(|e| CliError::lib("cannot configure the emulator", None, e))?;
    let opts = ServerOptions {
        log: false,
        stop_on_signals: false,
        ..ServerOptions::default()
    };
    let emulator = certmint::emulator::start(config, opts)
        .map_err(|e| CliError::lib("cannot start the emulator", None, e))?;
    let base = emulator.base_url().to_owned();
    ctx.say(format!(
        "2. the emulator of Salesforce's token endpoint listens on {base}; the certificate is on app `{DEMO_CLIENT_ID}`, user {DEMO_USER} is pre-authorized"
    ));

    // 3. The JWT bearer exchange, exactly as `certmint mint` does it.
    let login = LoginUrl::parse(&base).map_err(|e| CliError::lib("bad emulator URL", None, e))?;
    let signer = Signer::new(&key, HeaderStyle::Bare)
        .map_err(|e| CliError::lib("cannot use the key", Some(&key_path), e))?;
    let now = super::jwt::now_unix();
    let claims = Claims::new(
        DEMO_CLIENT_ID,
        DEMO_USER,
        &login.default_audience(),
        now,
        180,
    )
    .map_err(|e| CliError::lib("cannot build the assertion", None, e))?;
    let assertion = signer
        .sign(&claims)
        .map_err(|e| CliError::lib("cannot sign", None, e))?;
    let client = Client::new(ClientOptions::default())
        .map_err(|e| CliError::lib("cannot set up the HTTP client", None, e))?;
    let grant = match client.exchange(&login, &assertion) {
        Ok(Exchange::Granted(g)) => g,
        Ok(Exchange::Refused(err)) => {
            errln!(
                "error: the emulator refused the assertion: {}: {}",
                escape(&err.error),
                escape(&err.description)
            );
            return Ok(ExitStatus::No);
        }
        Err(e) => return Err(CliError::lib("the token request failed", None, e)),
    };
    ctx.say(format!(
        "3. signed an RS256 assertion (iss {DEMO_CLIENT_ID}, sub {DEMO_USER}, aud {}) and exchanged it for a token",
        claims.aud
    ));
    let identity = client
        .identity(&login, &grant)
        .map_err(|e| CliError::lib("the identity check failed", None, e))?;
    let verified = match &identity {
        IdentityCheck::Verified(id) => id.clone(),
        IdentityCheck::Rejected { status, .. } => {
            errln!("error: the identity endpoint refused the token (HTTP {status})");
            return Ok(ExitStatus::No);
        }
    };
    emulator.shutdown();

    outln!(
        "access token:  {}  (masked)\ninstance URL:  {}\nverified user: {} ({}) via the identity URL",
        grant.access_token.masked(),
        escape(grant.instance_url.as_deref().unwrap_or("?")),
        escape(&verified.username),
        escape(verified.user_id.as_deref().unwrap_or("?"))
    )?;
    if !ctx.quiet {
        errln!();
        errln!("It works end to end, offline. With a real connected app:");
        errln!(
            "  upload {} to the app (\"Use digital signatures\"), pre-authorize your integration user, then",
            shown(&cert_path)
        );
        errln!(
            "  certmint mint --dir {} --client-id <consumer key> --username <user>",
            shown(dir)
        );
        errln!(
            "  For your own setup, start with `certmint init DIR --cn NAME` (see `certmint help init`)."
        );
    }
    Ok(ExitStatus::Success)
}

fn getrandom_fill(buf: &mut [u8]) -> CliResult<()> {
    getrandom::fill(buf)
        .map_err(|e| CliError::new("cannot get random bytes from the operating system").cause(e))
}
