//! `certmint jwt`: sign a JWT bearer assertion and print it (for curl, Postman, or any
//! client that does the token request itself). Also home of the key and claim options
//! that `mint` shares.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use certmint::jwt::{Claims, HeaderStyle, MAX_TTL, Signer};
use certmint::key::RsaKey;
use certmint::token_endpoint::{format_unix, resolve_audience};
use clap::Args;

use super::common::Ctx;
use super::error::{CliError, CliResult, shown};
use super::password::PassSource;
use super::stdio::outln;

pub(super) const AFTER_HELP: &str = "\
EXAMPLES:
  $ certmint jwt --key server.key --client-id \"$CONSUMER_KEY\" \\
      --username integration@acme.com
  $ certmint jwt --key server.pass.key --passin env:KEY_PASS \\
      --client-id \"$CONSUMER_KEY\" --username integration@acme.com.uat \\
      --audience test
  $ certmint jwt --keystore server.jks --passin env:STORE_PASS \\
      --client-id \"$CONSUMER_KEY\" -u integration@acme.com
  $ ASSERTION=$(certmint jwt --key server.key --client-id \"$CONSUMER_KEY\" \\
      --username integration@acme.com)
  $ curl -s https://login.salesforce.com/services/oauth2/token \\
      -d grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer \\
      -d assertion=\"$ASSERTION\"

NOTES:
The assertion is what Salesforce's documentation builds: header {\"alg\":\"RS256\"} (add
\"typ\":\"JWT\" with --typ), claims iss (consumer key), sub (username), aud and exp (seconds,
--ttl ahead, at most 180), base64url without padding, signed RSASSA-PKCS1-v1_5 with
SHA-256. It is a bearer credential until it expires: do not log it. `certmint mint` signs
and exchanges it in one step.

EXIT CODES:
  0  the assertion was printed
  2  error (unreadable key, wrong password, bad option)";

/// The signing key and the claims, shared by `jwt` and `mint`.
#[derive(Args, Debug, Clone)]
pub(crate) struct SignerArgs {
    /// The private key that signs: PEM or DER, PKCS#1 or PKCS#8, encrypted or not.
    #[arg(long, value_name = "FILE", required_unless_present_any = ["keystore", "dir"])]
    pub key: Option<PathBuf>,
    /// Sign with the key in a keystore instead: PKCS#12 or JKS (recognised by content).
    #[arg(long, value_name = "FILE", conflicts_with = "key")]
    pub keystore: Option<PathBuf>,
    /// Use a directory made by `certmint init`: its current generation's key and
    /// certificate, and the client id, username and login URL recorded there.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["key", "keystore"])]
    pub dir: Option<PathBuf>,
    /// With --dir: use this generation (e.g. g2, or g2-2027-11-01) instead of the
    /// current one, to prove a rotated key before switching to it.
    #[arg(long, value_name = "GEN", requires = "dir")]
    pub generation: Option<String>,
    /// With --keystore: the entry to use (needed when it holds several keys).
    #[arg(long, value_name = "ALIAS", requires = "keystore")]
    pub alias: Option<String>,
    /// With --keystore: password source for a JKS key entry whose password differs from
    /// the store password.
    #[arg(long, value_name = "SRC", requires = "keystore")]
    pub keypass: Option<PassSource>,
    /// Password source for an encrypted key or for the keystore: pass:TEXT, env:VAR,
    /// file:PATH, fd:N or stdin.
    #[arg(long, value_name = "SRC")]
    pub passin: Option<PassSource>,
    /// The connected app's consumer key (the `iss` claim).
    #[arg(long, value_name = "KEY", visible_alias = "consumer-key")]
    pub client_id: Option<String>,
    /// The Salesforce username to act as (the `sub` claim).
    #[arg(long, short = 'u', value_name = "USER")]
    pub username: Option<String>,
    /// Seconds until the assertion expires (1 to 180).
    #[arg(long, value_name = "SECONDS", default_value_t = MAX_TTL)]
    pub ttl: u64,
    /// Write the header as {"alg":"RS256","typ":"JWT"} (what the Salesforce CLI sends).
    #[arg(long)]
    pub typ: bool,
    /// Add an `iat` (issued-at) claim.
    #[arg(long)]
    pub iat: bool,
}

/// What a certmint directory contributes to `jwt` and `mint`.
pub(crate) struct DirSettings {
    /// The generation's certificate (checked against the key).
    pub cert: PathBuf,
    /// The login URL recorded by `init` (or `connect`).
    pub login_url: Option<String>,
    /// The audience `connect` recorded, when it is not the login URL's own.
    pub audience: Option<String>,
    /// The generation used.
    pub generation: String,
    /// The directory's manifest (where the login URL was recorded).
    pub manifest: PathBuf,
}

impl DirSettings {
    /// The login URL recorded by `init`, checked with the rules `mint --login-url` applies;
    /// an invalid one (recorded by a certmint that did not check it) is reported as the
    /// manifest's, with the command that records a valid one, never as a flag the user
    /// did not pass. `flag` is the command's own way around it (`--login-url`, `--audience`).
    pub(crate) fn checked_login_url(
        &self,
        flag: &str,
    ) -> CliResult<Option<certmint::token_endpoint::LoginUrl>> {
        let Some(text) = &self.login_url else {
            return Ok(None);
        };
        certmint::token_endpoint::LoginUrl::parse(text)
            .map(Some)
            .map_err(|e| {
                let dir = self.manifest.parent().unwrap_or(std::path::Path::new("."));
                CliError::lib(
                    "invalid login URL recorded in",
                    Some(&self.manifest),
                    e,
                )
                .hint(format!(
                    "record a valid one with `certmint init {} --login-url URL` (login, test, https://NAME.my.salesforce.com, a site URL), or pass {flag}",
                    shown(dir)
                ))
            })
    }
}

/// A key ready to sign, and what is known about it.
pub(crate) struct LoadedKey {
    pub key: RsaKey,
    /// The certificate that came with the key (from a keystore), if any.
    pub cert: Option<certmint::x509::CertInfo>,
}

impl SignerArgs {
    /// The file the key comes from (for messages).
    pub(crate) fn source_path(&self) -> &std::path::Path {
        self.key
            .as_deref()
            .or(self.keystore.as_deref())
            .unwrap_or(std::path::Path::new("-"))
    }

    /// With --dir: read the manifest, fill in the client id and username recorded there
    /// (flags win), and point --key at the generation's key. Returns the directory's
    /// settings; without --dir, checks that --client-id and --username were given.
    pub(crate) fn resolve(&mut self) -> CliResult<Option<DirSettings>> {
        let Some(dir) = self.dir.clone() else {
            if self.client_id.is_none() || self.username.is_none() {
                return Err(CliError::new("--client-id and --username are required")
                    .hint("give both, or --dir DIR for a directory made by `certmint init --client-id ... --username ...`"));
            }
            return Ok(None);
        };
        let cannot = |e| CliError::lib("cannot use the directory", Some(&dir), e);
        if !certmint::workdir::is_workdir(&dir) {
            return Err(CliError::new(format!(
                "`{}` is not a certmint directory (it has no {})",
                shown(&dir),
                certmint::manifest::FILE_NAME
            ))
            .hint("give a directory made by `certmint init`, or --key, --client-id and --username instead of --dir"));
        }
        let m = certmint::workdir::load(&dir).map_err(cannot)?;
        let g = match &self.generation {
            Some(name) => m
                .generations
                .iter()
                .find(|g| &g.dir == name || &format!("g{}", g.number) == name)
                .ok_or_else(|| {
                    CliError::new(format!(
                        "`{}` has no generation `{}`",
                        shown(&dir),
                        certmint::text::escape(name)
                    ))
                    .hint(format!(
                        "its generations are: {}",
                        m.generations
                            .iter()
                            .map(|g| g.dir.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?,
            None => m.current_generation().ok_or_else(|| {
                CliError::new(format!("`{}` has no complete generation yet", shown(&dir)))
                    .hint("finish it with `certmint init`")
            })?,
        };
        use certmint::manifest::Role;
        let plain = certmint::workdir::file_path(&dir, &m, g, Role::PlainKey);
        let encrypted = certmint::workdir::file_path(&dir, &m, g, Role::EncryptedKey);
        self.key = Some(if plain.is_file() { plain } else { encrypted });
        if self.client_id.is_none() {
            self.client_id = m.salesforce.client_id.clone();
        }
        if self.username.is_none() {
            self.username = m.salesforce.username.clone();
        }
        if self.client_id.is_none() || self.username.is_none() {
            return Err(CliError::new(format!(
                "no client id or username for `{}`",
                shown(&dir)
            ))
            .hint("pass --client-id and --username (or record them with `certmint init --client-id ... --username ...`)"));
        }
        Ok(Some(DirSettings {
            cert: certmint::workdir::file_path(&dir, &m, g, Role::Certificate),
            login_url: m.salesforce.login_url.clone(),
            audience: m.salesforce.audience.clone(),
            generation: g.dir.clone(),
            manifest: certmint::workdir::manifest_path(&dir),
        }))
    }

    /// Load the signing key (and, from a keystore, its certificate).
    pub(crate) fn load_key(&self, ctx: &mut Ctx) -> CliResult<LoadedKey> {
        if let Some(path) = &self.keystore {
            let opened = ctx.open_keystore(
                path,
                self.passin.as_ref(),
                self.keypass.as_ref(),
                self.alias.as_deref(),
                true,
            )?;
            let key = opened
                .rsa_key()
                .map_err(|e| CliError::lib("cannot use the key in", Some(path), e))?;
            let cert = opened
                .chain
                .first()
                .map(|der| certmint::x509::parse_der(der))
                .transpose()
                .map_err(|e| CliError::lib("cannot read the certificate in", Some(path), e))?;
            return Ok(LoadedKey { key, cert });
        }
        let Some(path) = &self.key else {
            return Err(CliError::new("give --key FILE or --keystore FILE"));
        };
        let (key, _) = ctx.load_key_for(path, self.passin.as_ref(), Some("--keystore"))?;
        Ok(LoadedKey { key, cert: None })
    }

    /// The header style.
    pub(crate) fn header(&self) -> HeaderStyle {
        if self.typ {
            HeaderStyle::WithTyp
        } else {
            HeaderStyle::Bare
        }
    }

    /// Claims for `audience` at `now`.
    pub(crate) fn claims(&self, audience: &str, now: u64) -> CliResult<Claims> {
        let client_id = self.client_id.as_deref().unwrap_or_default();
        let username = self.username.as_deref().unwrap_or_default();
        let claims = Claims::new(client_id, username, audience, now, self.ttl).map_err(|e| {
            CliError::lib("cannot build the assertion", None, e)
                .hint("--ttl takes 1 to 180 seconds; --client-id and --username must not be empty")
        })?;
        Ok(if self.iat {
            claims.with_iat(now)
        } else {
            claims
        })
    }
}

/// Seconds since the Unix epoch by the local clock.
pub(super) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[derive(Args, Debug)]
pub(crate) struct JwtArgs {
    #[command(flatten)]
    pub signer: SignerArgs,
    /// The audience: `login` (https://login.salesforce.com, production and My Domain),
    /// `test` (https://test.salesforce.com, sandboxes) or a URL (an Experience Cloud site).
    /// Default: `login`, or what the login URL recorded in --dir implies.
    #[arg(long, value_name = "login|test|URL", value_parser = super::shell::LOGIN_URLS, hide_possible_values = true)]
    pub audience: Option<String>,
}

pub(super) fn run(ctx: &mut Ctx, mut args: JwtArgs) -> CliResult<()> {
    let dir = args.signer.resolve()?;
    let recorded = match (&args.audience, &dir) {
        (None, Some(d)) => d.checked_login_url("--audience")?,
        _ => None,
    };
    let audience = match (&args.audience, recorded) {
        (Some(a), _) => resolve_audience(a).map_err(|e| {
            CliError::lib("invalid --audience", None, e).hint("pass login, test or a site URL")
        })?,
        (None, Some(login)) => login.default_audience(),
        (None, None) => certmint::token_endpoint::PRODUCTION.to_owned(),
    };
    // Check the claims before asking for a password.
    args.signer.claims(&audience, now_unix())?;
    let loaded = args.signer.load_key(ctx)?;
    let signer = Signer::new(&loaded.key, args.signer.header()).map_err(|e| {
        CliError::lib(
            "cannot use the key for signing",
            Some(args.signer.source_path()),
            e,
        )
    })?;
    let now = now_unix();
    let claims = args.signer.claims(&audience, now)?;
    let assertion = signer
        .sign(&claims)
        .map_err(|e| CliError::lib("cannot sign the assertion", None, e))?;
    outln!("{assertion}")?;
    ctx.say(format!(
        "signed for {} (iss {}, aud {}), valid until {}",
        certmint::text::escape(&claims.sub),
        certmint::text::escape(&claims.iss),
        certmint::text::escape(&claims.aud),
        format_unix(i64::try_from(claims.exp).unwrap_or(i64::MAX))
    ));
    Ok(())
}
