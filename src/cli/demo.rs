//! `certmint demo`: the whole job offline, end to end, in one command: the recipe into a
//! fresh directory (`init`), the app created in certmint's emulated org through the
//! Metadata API (`connect`: an External Client App with the certificate, a permission set
//! assigned to the integration user, the proof by a token), then a real JWT bearer exchange
//! (`mint`) with the consumer key connect chose, and the identity check.

use std::path::PathBuf;

use certmint::connect::{self, AdminSession, OrgClient};
use certmint::emulator::{Config, ServerOptions};
use certmint::jwt::{Claims, HeaderStyle, Signer};
use certmint::key::KeyEncryption;
use certmint::manifest::{Role, SalesforceSettings};
use certmint::output::Mode;
use certmint::pkcs12::Profile;
use certmint::text::escape;
use certmint::token_endpoint::{
    AccessToken, Client, ClientOptions, Exchange, IdentityCheck, LoginUrl,
};
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

NOTES:
Runs the whole job offline: `certmint init` into DIR (encrypted key, plain key, CSR,
certificate, PKCS#12, JKS and the manifest); starts certmint's emulated Salesforce org on
127.0.0.1, with an admin and an integration user; `certmint connect` as the admin: an
External Client App with the new certificate, a consumer key certmint generates, admin
approval and a permission set assigned to the integration user, deployed through the
Metadata API and proven; then `certmint mint`: signs an RS256 assertion with the new key,
exchanges it for an access token (shown masked) and proves the token with the identity URL.
Nothing leaves the machine.
Without --passout, a random password is generated and saved in DIR/demo-password.txt
(mode 0600). Run it again to reuse the directory.

EXIT CODES:
  0  a token was minted and verified
  1  the emulator refused the assertion (printed with its explanation)
  2  error";

/// The demo integration user.
pub(super) const DEMO_USER: &str = "integration@certmint-demo.example";
/// The demo org's admin, who connects the app.
pub(super) const DEMO_ADMIN: &str = "admin@certmint-demo.example";

/// The demo org: an admin (System Administrator), the integration user (Standard User,
/// so only the permission set connect assigns pre-authorizes it), and the app the admin's
/// session comes through (as the Salesforce CLI's own app would be); deploys are quick.
fn demo_org() -> String {
    format!(
        r#"[org]
name = "certmint demo"

[emulator]
deploy_millis = 200
propagation_seconds = 2

[[apps]]
name = "demo_admin_console"
consumer_key = "DEMOADMINCONSOLE"
external_client_app = true
permitted_users = "admin-approved"

[[users]]
username = "{DEMO_ADMIN}"
name = "Demo Admin"
email = "{DEMO_ADMIN}"

[[users]]
username = "{DEMO_USER}"
name = "Demo Integration"
profile = "Standard User"
"#
    )
}

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
            client_id: None,
            username: Some(DEMO_USER.into()),
            login_url: None,
            audience: None,
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
    let key_path = workdir::file_path(dir, m, g, Role::PlainKey);
    let key = ctx.load_key(&key_path, None)?.0;

    // 2. The org, and the app in it: `certmint connect` as the admin.
    let config = Config::from_toml(&demo_org(), &mut |p: &std::path::Path| {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("the demo org reads no file ({})", p.display()),
        ))
    })
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
        "2. certmint's emulated org listens on {base}; connecting the app as {DEMO_ADMIN}"
    ));
    let token = emulator
        .session_for(DEMO_ADMIN)
        .map_err(|e| CliError::lib("cannot log the demo admin in", None, e))?;
    let session = AdminSession::new(&base, AccessToken::new(token), "the demo admin's session")
        .map_err(|e| CliError::lib("cannot use the demo admin's session", None, e))?;
    let client = Client::new(ClientOptions::default())
        .map_err(|e| CliError::lib("cannot set up the HTTP client", None, e))?;
    let org = OrgClient::new(&client, session);
    let settings = connect::Settings {
        login_url: Some(base.clone()),
        wait: std::time::Duration::from_secs(30),
        backoff: connect::Backoff::new(
            std::time::Duration::from_millis(100),
            std::time::Duration::from_secs(1),
        ),
        ..connect::Settings::default()
    };
    let mut talk = super::org_session::Talk::new(ctx);
    let connected = connect::connect(dir, &settings, Some(&org), &key, &mut talk)
        .map_err(|e| CliError::lib("cannot connect the demo app", Some(dir), e))?;
    if !matches!(
        connected.status,
        connect::Status::Connected { .. } | connect::Status::Unchanged
    ) {
        let m = workdir::load(dir).map_err(|e| CliError::lib("cannot read", Some(dir), e))?;
        let code = super::connect::print_outcome(ctx, dir, &m, &connected)?;
        return Ok(code);
    }
    let client_id = connected.app.consumer_key.clone();
    ctx.say(format!(
        "   the External Client App `{}` has the certificate; its consumer key is {client_id}",
        connected.app.name
    ));

    // 3. The JWT bearer exchange, exactly as `certmint mint --dir` does it.
    let login = LoginUrl::parse(&base).map_err(|e| CliError::lib("bad emulator URL", None, e))?;
    let signer = Signer::new(&key, HeaderStyle::Bare)
        .map_err(|e| CliError::lib("cannot use the key", Some(&key_path), e))?;
    let now = super::jwt::now_unix();
    let claims = Claims::new(&client_id, DEMO_USER, &login.default_audience(), now, 180)
        .map_err(|e| CliError::lib("cannot build the assertion", None, e))?;
    let assertion = signer
        .sign(&claims)
        .map_err(|e| CliError::lib("cannot sign", None, e))?;
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
        "3. signed an RS256 assertion (iss {client_id}, sub {DEMO_USER}, aud {}) and exchanged it for a token",
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
        // What was made, through the stable `current/` link; the demo's key and
        // certificate stay a demo: a real app gets its own from `certmint init`.
        let current = dir.join("current");
        errln!(
            "It works end to end, offline (the emulated org is gone now). Look at what was made:"
        );
        errln!("  certmint inspect {}", shown(dir));
        errln!(
            "  certmint inspect {}",
            shown(&current.join(Role::Certificate.file_name(&m.stem)))
        );
        errln!("  certmint check -v {}", shown(dir));
        errln!("This directory is a demo: its key is not for a real app. With a real org:");
        errln!("  certmint init DIR --cn NAME -u integration@your.org");
        errln!(
            "  certmint connect DIR --target-org ALIAS    # an org the Salesforce CLI is logged in to"
        );
        errln!("  certmint mint --dir DIR");
    }
    Ok(ExitStatus::Success)
}

fn getrandom_fill(buf: &mut [u8]) -> CliResult<()> {
    getrandom::fill(buf)
        .map_err(|e| CliError::new("cannot get random bytes from the operating system").cause(e))
}
