//! `certmint init DIR`: the whole recipe in one command, resumable, with a plan printed at
//! the end.

use std::path::{Path, PathBuf};

use certmint::key::KeyEncryption;
use certmint::manifest::{Manifest, Role, SalesforceSettings};
use certmint::workdir::{self, Action, InitSettings, Report};
use clap::Args;

use super::common::{Ctx, SubjectArgs};
use super::error::{CliError, CliResult, shown};
use super::key::Kdf;
use super::p12::ProfileArg;
use super::password::{PassSource, Purpose};
use super::stdio::errln;

pub(super) const AFTER_HELP: &str = "\
EXAMPLES:
  $ certmint init acme-jwt --subj \"/C=US/O=Acme/CN=acme-jwt\" \\
      --passout env:CERT_PASS
  $ certmint init acme-jwt --cn acme-jwt --org Acme --client-id \"$CLIENT_ID\" \\
      --username integration@acme.com --passout file:/run/secrets/cert-pass
  $ certmint init acme-jwt              # asks for the subject and the password

NOTES:
Makes, in DIR/g1-<date>/: the encrypted key (server.pass.key), the unencrypted key for the
Salesforce CLI (server.key), the CSR, the certificate as PEM (server.crt, upload this to
the External Client App or connected app) and DER (server.cer), a PKCS#12 (server.p12)
and a Salesforce-ready JKS (server.jks; none with --no-jks: a JKS is only as strong as its
password), all under one password; DIR/current points at the generation, and
DIR/certmint.toml records every file, its SHA-256, the certificate's validity and the
alias, so that check, renew, rotate, mint and inspect work from DIR alone. It ends with the
next steps: what to upload where, and the exact commands to prove the setup.

Run it again at any time: on a complete directory it changes nothing and says so (no
password needed); after an interruption it finishes what is missing, reusing the key it
already made. It never overwrites a key or any other file, and refuses a DIR inside
another certmint directory (its current/, a generation, or deeper).

EXIT CODES:
  0  the directory is complete (made, finished, or already complete)
  2  error (bad subject, wrong password, a file that does not belong, DIR
     inside a certmint directory, I/O)";

/// RSA key size of a new directory.
const DEFAULT_BITS: usize = 2048;
/// Certificate validity of a new directory, in days.
const DEFAULT_DAYS: u32 = 365;

#[derive(Args, Debug)]
pub(crate) struct InitArgs {
    /// The directory to create (or finish).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub subject: SubjectArgs,
    /// One password source for the key, the PKCS#12 and the JKS: pass:TEXT, env:VAR,
    /// file:PATH, fd:N or stdin (default: ask on the terminal). When finishing a directory,
    /// give the password it was made with.
    #[arg(long, value_name = "SRC")]
    pub passout: Option<PassSource>,
    /// RSA key size: 2048, 3072 or 4096 [default: 2048].
    ///
    /// On an existing directory it is ignored: `certmint rotate DIR --bits N` makes a key of
    /// another size.
    #[arg(long, value_name = "BITS")]
    pub bits: Option<usize>,
    /// Days of validity of the certificate [default: 365].
    ///
    /// On an existing directory it is ignored: `certmint renew DIR --days N` issues a
    /// certificate with another validity.
    #[arg(long, value_name = "DAYS")]
    pub days: Option<u32>,
    /// Keystore alias (Salesforce's Unique Name for the certificate); default: the common
    /// name made valid.
    #[arg(long, value_name = "ALIAS")]
    pub alias: Option<String>,
    /// PKCS#12 profile (see `certmint help p12`).
    #[arg(long, value_enum, default_value_t = ProfileArg::Modern)]
    pub profile: ProfileArg,
    /// Key derivation for the encrypted key.
    #[arg(long, value_enum, default_value_t = Kdf::Pbkdf2)]
    pub kdf: Kdf,
    /// File stem inside each generation.
    #[arg(long, default_value = "server", value_name = "STEM")]
    pub name: String,
    /// The connected app's consumer key, recorded for `certmint mint --dir`.
    #[arg(long, value_name = "KEY")]
    pub client_id: Option<String>,
    /// The integration user, recorded for `certmint mint --dir`.
    #[arg(long, short = 'u', value_name = "USER")]
    pub username: Option<String>,
    /// Login URL recorded for `certmint mint --dir`: login, test, a My Domain or site URL.
    #[arg(long, value_name = "URL", value_parser = super::shell::LOGIN_URLS, hide_possible_values = true)]
    pub login_url: Option<String>,
    /// Make no JKS keystore, for integrations that never import one into Certificate and
    /// Key Management: a JKS protects its key with about one SHA-1 per password guess, so
    /// it is as weak as its password. Recorded in the manifest; check, renew and rotate
    /// then do not expect one.
    #[arg(long)]
    pub no_jks: bool,
}

pub(super) fn run(ctx: &mut Ctx, args: InitArgs) -> CliResult<()> {
    let dir = &args.dir;
    let cannot = |e| CliError::lib("cannot initialise", Some(dir), e);
    let given = SalesforceSettings {
        client_id: args.client_id.clone(),
        username: args.username.clone(),
        login_url: args.login_url.clone(),
        audience: None,
    };
    // Before any prompt: a directory inside another certmint directory (its `current`, a
    // generation, or deeper) would nest a whole new one in an immutable generation.
    if let Some(outer) = workdir::enclosing_workdir(dir) {
        return Err(CliError::new(format!("cannot initialise `{}`", shown(dir)))
            .cause(format!(
                "it lies inside the certmint directory `{}`, whose generations are immutable; a certmint directory cannot be made inside another",
                shown(&outer)
            ))
            .hint(format!(
                "choose a directory outside `{0}`; to finish or check `{0}` itself, run `certmint init {0}` (renew and rotate make its next generations)",
                shown(&outer)
            )));
    }
    // The login URL `mint --dir` will use, with the rules `mint --login-url` applies,
    // before anything is asked or written.
    workdir::validate_salesforce(&given).map_err(|e| {
        CliError::lib("invalid --login-url", None, e).hint(
            "pass login, test, https://NAME.my.salesforce.com, a site URL, or http://127.0.0.1:PORT",
        )
    })?;
    if workdir::intact(dir).map_err(cannot)? {
        if workdir::update_salesforce(dir, &given).map_err(cannot)? {
            ctx.say(format!(
                "updated the client id, username or login URL recorded in `{}` for `certmint mint --dir`; no key or keystore was touched",
                shown(&workdir::manifest_path(dir))
            ));
        }
        let m = workdir::load(dir).map_err(cannot)?;
        ctx.say(format!(
            "nothing to do: `{}` is complete (current generation {}); every file is present and unchanged",
            shown(dir),
            m.current.as_deref().unwrap_or("?")
        ));
        note_ignored_flags(ctx, &args, &m);
        if !ctx.quiet {
            print_next_steps(dir, &m, None);
        }
        return Ok(());
    }
    let existing = workdir::is_workdir(dir);
    let bits = args.bits.unwrap_or(DEFAULT_BITS);
    if !existing {
        validate_stem(&args.name)?;
        if dir.exists() && !dir.is_dir() {
            return Err(
                CliError::new(format!("`{}` is not a directory", shown(dir)))
                    .hint("give a directory path for certmint to create"),
            );
        }
    }
    let subject = if existing {
        let m = workdir::load(dir).map_err(cannot)?;
        note_ignored_flags(ctx, &args, &m);
        super::common::warn_open_secrets_in(dir, &m);
        certmint::subject::Subject::parse_openssl(&m.subject).map_err(cannot)?
    } else {
        args.subject.resolve()?
    };
    if !existing {
        certmint::key::check_salesforce_bits(bits).map_err(|e| {
            CliError::lib(format!("cannot make a {bits}-bit key"), None, e)
                .hint("pass --bits 2048 (the default), 3072 or 4096")
        })?;
        if let Some(a) = &args.alias {
            certmint::salesforce::validate_alias(a).map_err(|why| {
                CliError::new(format!(
                    "--alias `{}` is not a valid Salesforce Unique Name",
                    certmint::text::escape(a)
                ))
                .cause(why)
                .hint(format!(
                    "use --alias {}",
                    certmint::salesforce::suggest_alias(a)
                ))
            })?;
        }
    }
    let what = format!("the keys and keystores in `{}`", shown(dir));
    // A password that will encrypt a new key is confirmed (asked twice on a terminal),
    // also when an interrupted init is resumed before its key was written.
    let purpose = if workdir::init_encrypts_new_key(dir).map_err(cannot)? {
        Purpose::New
    } else {
        Purpose::Existing
    };
    let password = ctx
        .passwords
        .get(args.passout.as_ref(), "--passout", &what, purpose)?;
    let settings = InitSettings {
        stem: args.name.clone(),
        subject,
        bits,
        days: args.days.unwrap_or(DEFAULT_DAYS),
        alias: args.alias.clone(),
        profile: args.profile.into(),
        kdf: match args.kdf {
            Kdf::Pbkdf2 => KeyEncryption::pbkdf2_default(),
            Kdf::Scrypt => KeyEncryption::scrypt_default(),
        },
        salesforce: given.clone(),
        jks: !args.no_jks,
    };
    if !existing && !ctx.quiet {
        errln!(
            "making a {}-bit RSA key, certificate and keystores in `{}` ...",
            bits,
            shown(dir)
        );
    }
    if existing {
        workdir::update_salesforce(dir, &given).map_err(cannot)?;
    }
    let report = workdir::init(dir, &settings, &password, certmint::x509::now_seconds())
        .map_err(|e| {
            let wrong_pw = matches!(e, certmint::Error::WrongPassword { .. });
            let lost = matches!(&e, certmint::Error::InvalidInput { .. });
            let err = CliError::lib("cannot initialise", Some(dir), e);
            if existing && wrong_pw {
                err.hint("give the password the directory was made with (--passout); nothing was overwritten")
            } else if lost {
                err.hint("nothing was overwritten; `certmint check` on the directory shows what is missing or changed")
            } else {
                err
            }
        })?;
    print_report(ctx, &report);
    if !ctx.quiet {
        print_next_steps(dir, &report.manifest, None);
    }
    Ok(())
}

fn validate_stem(stem: &str) -> CliResult<()> {
    let ok = !stem.is_empty()
        && stem.len() <= 64
        && !stem.starts_with('.')
        && stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(CliError::new(format!(
            "--name `{}` is not a usable file stem",
            certmint::text::escape(stem)
        ))
        .hint("use letters, digits, `-`, `_` and `.`, as in --name server"))
    }
}

fn note_ignored_flags(ctx: &Ctx, args: &InitArgs, m: &Manifest) {
    let dir = shown(&args.dir);
    if let Some(days) = args.days.filter(|d| *d != m.days) {
        ctx.say(format!(
            "note: `{dir}` already has a manifest; its validity ({} days) is kept and --days {days} is ignored; to issue a certificate valid for {days} days, run `certmint renew {dir} --days {days}`",
            m.days
        ));
    }
    let current_bits = m.current_generation().or(m.pending()).map(|g| g.key_bits);
    if let Some(bits) = args.bits.filter(|b| Some(*b) != current_bits) {
        ctx.say(format!(
            "note: `{dir}` already has a manifest; its key is kept and --bits {bits} is ignored; to move to a {bits}-bit key, run `certmint rotate {dir} --bits {bits}`"
        ));
    }
    if args.no_jks && m.jks {
        ctx.say(format!(
            "note: `{dir}` was made with a JKS keystore; --no-jks applies to a new directory only (delete the JKS files yourself once imported, or not needed)"
        ));
    }
    // Flags that say what the directory already holds are not ignored: no note.
    let kept = certmint::subject::Subject::parse_openssl(&m.subject).ok();
    let other_subject = match args.subject.given() {
        Ok(Some(given)) => Some(given) != kept,
        Ok(None) => false,
        Err(_) => true,
    };
    if other_subject || args.alias.as_ref().is_some_and(|a| a != &m.alias) {
        ctx.say(format!(
            "note: `{}` already has a manifest; its subject ({}) and alias ({}) are kept, and the subject/alias flags are ignored",
            shown(&args.dir),
            certmint::text::escape(&m.subject),
            certmint::text::escape(&m.alias)
        ));
    }
}

/// One line per file: created or kept.
pub(super) fn print_report(ctx: &Ctx, report: &Report) {
    if report.resumed {
        ctx.say(format!(
            "finished the interrupted generation {}",
            report.generation
        ));
    }
    for (role, path, action) in &report.files {
        let verb = match action {
            Action::Created => "wrote",
            Action::Kept => "kept ",
        };
        ctx.say(format!("  {verb} {}  ({})", shown(path), role.describe()));
    }
    if report.nothing_to_do() {
        ctx.say("nothing to do: every file was already there and checked");
    }
}

/// The plan printed after `init`: what to upload where, and the exact commands to prove it.
pub(super) fn print_next_steps(dir: &Path, m: &Manifest, generation: Option<&str>) {
    let Some(g) = generation
        .and_then(|name| m.generations.iter().find(|g| g.dir == name))
        .or_else(|| m.current_generation())
    else {
        return;
    };
    let link = if generation.is_none() && cfg!(unix) {
        dir.join(certmint::manifest::CURRENT_LINK)
    } else {
        dir.join(&g.dir)
    };
    let file = |role: Role| shown(&link.join(role.file_name(&m.stem)));
    let client = m
        .salesforce
        .client_id
        .clone()
        .unwrap_or_else(|| "<consumer key>".into());
    let user = m
        .salesforce
        .username
        .clone()
        .unwrap_or_else(|| "<integration user>".into());
    let login = m
        .salesforce
        .login_url
        .clone()
        .unwrap_or_else(|| "login".into());
    // An External Client App mints at the org's My Domain, not at login/test
    // (Salesforce's ECA JWT document; `External client app is not installed in this org`
    // is reported from the login hosts): shown as a placeholder until connect knows it.
    let (login, login_full) = match login.as_str() {
        "login" | "https://login.salesforce.com" => (
            "https://NAME.my.salesforce.com".to_string(),
            "https://NAME.my.salesforce.com".to_string(),
        ),
        "test" | "https://test.salesforce.com" => (
            "https://NAME--SANDBOX.sandbox.my.salesforce.com".to_string(),
            "https://NAME--SANDBOX.sandbox.my.salesforce.com".to_string(),
        ),
        other => (other.to_string(), other.to_string()),
    };
    let cert = g.certificate.as_ref();
    let esc = certmint::text::escape;
    errln!();
    errln!("Next steps");
    if let Some(app) = m.active_app() {
        errln!(
            "  The directory is connected to the {} `{}` (certmint connect): mint with",
            app.kind.describe(),
            esc(&app.name)
        );
        errln!("       certmint mint --dir {}", shown(dir));
        errln!("  The steps by hand, for reference:");
    } else {
        errln!("  The quick way: with an admin logged in to the org with the Salesforce CLI, one");
        errln!(
            "  command does steps 1, 2 and 4 (an External Client App with this certificate, the"
        );
        errln!("  user pre-authorized through a permission set, a token minted through it):");
        errln!(
            "       certmint connect {} --target-org ALIAS{}",
            shown(dir),
            if m.salesforce.username.is_some() {
                ""
            } else {
                " --username <integration user>"
            }
        );
        errln!("  Or by hand in Setup:");
    }
    errln!("  1. Upload the certificate to the app in Salesforce:");
    errln!("       {}", file(Role::Certificate));
    if let Some(c) = cert {
        errln!(
            "     SHA-1 {} (Salesforce shows this), valid until {}",
            c.sha1,
            c.not_after
        );
    }
    errln!("     External Client App: Setup > External Client App Manager > your app > Settings >");
    errln!("       Flow Enablement > \"Enable JWT Bearer Flow\" > Upload Files.");
    errln!(
        "     Connected app (existing orgs): Setup > App Manager > your app > Edit > Enable OAuth"
    );
    errln!("       Settings > \"Use digital signatures\".");
    errln!("  2. Pre-authorize the integration user: Permitted Users \"Admin approved users are");
    errln!("     pre-authorized\", then add the user's profile or a permission set.");
    errln!(
        "     External Client App: Edit Policies > OAuth Policies. Connected app: Manage > Edit Policies."
    );
    if m.jks {
        errln!(
            "  3. Only if Apex or Named Credentials must sign inside Salesforce: Setup > Certificate and"
        );
        errln!("     Key Management > Import from Keystore:");
        errln!(
            "       {}   alias {}, password: the one you gave certmint",
            file(Role::Jks),
            esc(m.alias_of(g))
        );
        errln!(
            "     The JKS guards the key with about one SHA-1 per password guess (Sun's key protector),"
        );
        errln!(
            "     so it is only as strong as the password: delete it once imported (or if never needed);"
        );
        errln!("     check and renew do not need it. `init --no-jks` makes none.");
    } else {
        errln!(
            "  3. No JKS keystore (made with --no-jks): if Apex must sign later, `certmint jks` makes one."
        );
    }
    errln!(
        "  4. Prove it once the change has propagated (Salesforce: within 15 minutes), at the org's"
    );
    errln!("     My Domain (an External Client App is not served at login/test.salesforce.com):");
    errln!(
        "       certmint mint --dir {} --client-id {} --username {}{}",
        shown(dir),
        esc(&client),
        esc(&user),
        if login == "login" {
            String::new()
        } else {
            format!(" --login-url {}", esc(&login))
        }
    );
    errln!("     The same with the Salesforce CLI:");
    errln!(
        "       sf org login jwt --client-id {} --username {} --jwt-key-file {} --instance-url {}",
        esc(&client),
        esc(&user),
        file(Role::PlainKey),
        esc(&login_full)
    );
    errln!(
        "  5. Salesforce does not warn before the certificate expires: run `certmint check {}` from cron or CI.",
        shown(dir)
    );
    errln!(
        "  Note: {} is unencrypted (mode 0600) because the Salesforce CLI cannot read an encrypted key;",
        file(Role::PlainKey)
    );
    errln!(
        "  keep it in a secret store, or delete it and sign with {} (certmint mint --passin ...).",
        file(Role::EncryptedKey)
    );
}
