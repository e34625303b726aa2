//! `certmint rotate`: a new key and certificate beside the current generation, with a
//! switchover plan; `--activate` switches, and switches back.

use std::path::PathBuf;

use certmint::key::KeyEncryption;
use certmint::manifest::Role;
use certmint::workdir;
use clap::Args;

use super::common::Ctx;
use super::error::{CliError, CliResult, ExitStatus, shown};
use super::key::Kdf;
use super::password::{PassSource, Purpose};
use super::stdio::errln;

pub(super) const AFTER_HELP: &str = "\
EXAMPLES:
  $ certmint rotate acme-jwt --passin env:CERT_PASS  # make generation N+1, plan
  $ certmint mint --dir acme-jwt --generation g2 --retry 900 # after the upload
  $ certmint rotate acme-jwt --activate               # switch DIR/current to it
  $ certmint rotate acme-jwt --activate g1            # the way back
  $ certmint rotate acme-jwt --passin env:CERT_PASS --deploy --check-only \\
      --target-org acme                           # validate, change nothing
  $ certmint rotate acme-jwt --passin env:CERT_PASS --deploy \\
      --target-org acme
  $ certmint rotate acme-jwt --passin env:CERT_PASS --deploy --second-app \\
      --target-org acme
  $ certmint rotate acme-jwt --retire-previous --target-org acme   # later

NOTES:
Makes a new generation with a new key, CSR, certificate, PKCS#12 and JKS next to the
current one, which stays current (and is never deleted) until --activate. Prints the
switchover plan: upload the new certificate, prove the new key with `certmint mint`
(retrying while the change propagates), then switch clients with --activate; and the way
back. An External Client App or connected app holds one certificate, so between the
upload and the switch, clients still signing with the old key are refused: switch
promptly, or use a second app for a switch without any window. An interrupted rotation
resumes when run again.

With --deploy (on a directory `certmint connect` connected), certmint does the plan itself:
it deploys the new certificate to the app through the Metadata API, mints with the new key
until it works (up to --wait), then activates the new generation. If the new certificate
does not work within --wait, it deploys the previous certificate again (the way back),
leaves the previous generation current, and exits 1. With --second-app the new certificate
goes on a second app (`<app>_g<N>`, its own consumer key, the same permission set and
user) instead: once it issues a token, the manifest switches to the second app and the new
generation in one write, so `mint --dir` moves at once, while programs still using the
first app keep working. --retire-previous disables that first app later, when asked;
never automatically, and proves it with a refused token when the previous key is at hand.
--check-only validates the deploy with a check-only deploy (the prepared generation's
certificate, else one over a new key made in memory) and changes nothing in the org or
the directory. See docs/rotation.md.

EXIT CODES:
  0  the new generation is ready (or activated; with --deploy, deployed,
     proven and active; with --check-only, the org accepts the deploy)
  1  with --deploy: the org refused the deploy (or the check), or the new
     certificate did not issue a token within --wait (rolled back); with
     --retire-previous: the org refused the deploy, or the retired app still
     issued tokens when --wait ran out
  2  error (wrong password, no complete generation, unknown generation)";

#[derive(Args, Debug)]
pub(crate) struct RotateArgs {
    /// A directory made by `certmint init`.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Password source for the keys and keystores (the new generation uses the same):
    /// pass:TEXT, env:VAR, file:PATH, fd:N or stdin.
    #[arg(long, value_name = "SRC")]
    pub passin: Option<PassSource>,
    /// Key size of the new key (default: the current one's).
    #[arg(long, value_name = "BITS")]
    pub bits: Option<usize>,
    /// Key derivation for the new encrypted key.
    #[arg(long, value_enum, default_value_t = Kdf::Pbkdf2)]
    pub kdf: Kdf,
    /// Make a generation current instead of making a new one: the newest one not yet
    /// current by default, or the one named (e.g. g1 to go back).
    #[arg(long, value_name = "GEN", num_args = 0..=1, default_missing_value = "")]
    pub activate: Option<String>,
    /// Deploy the new certificate to the directory's app, prove it, then activate it (with
    /// the way back if it does not work).
    #[arg(long, conflicts_with = "activate")]
    pub deploy: bool,
    /// With --deploy: put the new certificate on a second app with its own consumer key
    /// and switch to it once proven (no downtime).
    #[arg(long, requires = "deploy")]
    pub second_app: bool,
    /// With --deploy: validate the deploy with a check-only deploy (the prepared
    /// generation's certificate, else one over a new key made in memory); nothing changes
    /// in the org or the directory.
    #[arg(long, requires = "deploy")]
    pub check_only: bool,
    /// Disable the app the last --second-app rotation replaced (never done automatically).
    #[arg(long, conflicts_with_all = ["activate", "deploy", "bits"])]
    pub retire_previous: bool,
    #[command(flatten)]
    pub admin: super::org_session::AdminArgs,
    #[command(flatten)]
    pub wait: super::org_session::WaitArgs,
}

pub(super) fn run(ctx: &mut Ctx, args: RotateArgs) -> CliResult<ExitStatus> {
    let dir = &args.dir;
    if args.admin.given() && !args.deploy && !args.retire_previous {
        return Err(CliError::new(
            "an admin session is only used with --deploy or --retire-previous",
        )
        .hint("add --deploy to put the new certificate on the app"));
    }
    if args.retire_previous {
        super::deploy::require_connected(dir)?;
        return super::deploy::retire(ctx, dir, &args.admin, &args.wait, args.passin.as_ref());
    }
    if args.deploy {
        super::deploy::require_connected(dir)?;
    }
    if args.check_only {
        return check_rotation(ctx, &args);
    }
    let new = prepare(ctx, &args)?;
    match (new, args.deploy) {
        (Some(g), true) => super::deploy::rotate(
            ctx,
            dir,
            &g,
            args.second_app,
            &args.admin,
            &args.wait,
            args.passin.as_ref(),
        ),
        _ => Ok(ExitStatus::Success),
    }
}

/// Activate (returns `None`), or make the new generation and print its plan (unless it
/// is deployed); returns the new generation's directory name.
/// `rotate DIR --deploy --check-only [--second-app]`: the certificate of the rotation a
/// real run would deploy (a prepared generation's, else one over a new key made in memory
/// with the directory's subject), and its deploy validated; nothing is written.
fn check_rotation(ctx: &mut Ctx, args: &RotateArgs) -> CliResult<ExitStatus> {
    let dir = &args.dir;
    let m = super::connect::load_dir(dir)?;
    let (pem, number) = match workdir::newest_inactive(&m) {
        Some(g) => {
            let path = workdir::file_path(dir, &m, g, Role::Certificate);
            let bytes = ctx.read(&path, "certificate")?;
            ctx.say(format!(
                "validating the deploy of the prepared generation {}'s certificate",
                g.dir
            ));
            (
                certmint::connect::plan::certificate_text(&bytes)
                    .map_err(|e| CliError::lib("cannot read certificate", Some(&path), e))?,
                g.number,
            )
        }
        None => {
            let bits = args.bits.unwrap_or(2048);
            let key = certmint::key::RsaKey::generate(bits)
                .map_err(|e| CliError::lib(format!("cannot make a {bits}-bit key"), None, e))?;
            let subject = certmint::subject::Subject::parse_openssl(&m.subject)
                .map_err(|e| CliError::lib("cannot read the directory's subject", Some(dir), e))?;
            let validity = certmint::x509::Validity::starting_now(m.days)
                .map_err(|e| CliError::lib("cannot prepare the certificate", None, e))?;
            let der = certmint::x509::self_signed(&key, &subject, &validity)
                .map_err(|e| CliError::lib("cannot make a certificate", None, e))?;
            ctx.say("made a stand-in key and certificate in memory, as the rotation would (nothing is written); validating their deploy");
            let next = m.generations.iter().map(|g| g.number).max().unwrap_or(0) + 1;
            (
                certmint::connect::plan::certificate_text(&der)
                    .map_err(|e| CliError::lib("cannot make a certificate", None, e))?,
                next,
            )
        }
    };
    super::deploy::check(
        ctx,
        dir,
        &pem,
        args.second_app.then_some(number),
        &args.admin,
        &args.wait,
        if args.second_app {
            "a second app with the new certificate"
        } else {
            "the new certificate"
        },
    )
}

fn prepare(ctx: &mut Ctx, args: &RotateArgs) -> CliResult<Option<String>> {
    let dir = &args.dir;
    let cannot = |e| CliError::lib("cannot rotate", Some(dir), e);
    if let Some(which) = &args.activate {
        let m = workdir::load(dir).map_err(cannot)?;
        let target = if which.is_empty() {
            workdir::newest_inactive(&m)
                .map(|g| g.dir.clone())
                .ok_or_else(|| {
                    CliError::new(format!(
                        "`{}` has no generation waiting to be activated",
                        shown(dir)
                    ))
                    .hint("make one with `certmint rotate DIR`, or name one with --activate GEN")
                })?
        } else {
            which.clone()
        };
        let before = m.current.clone();
        if let Some(g) = m.find_generation(&target)
            && before.as_deref() == Some(g.dir.as_str())
        {
            ctx.say(format!(
                "nothing to do: `{}` already points at generation {}",
                shown(&dir.join(certmint::manifest::CURRENT_LINK)),
                g.dir
            ));
            return Ok(None);
        }
        let m = workdir::activate(dir, &target).map_err(cannot)?;
        let now = m.current.clone().unwrap_or_default();
        ctx.say(format!(
            "`{}` now points at generation {now} (was {})",
            shown(&dir.join(certmint::manifest::CURRENT_LINK)),
            before.as_deref().unwrap_or("none")
        ));
        ctx.say(format!(
            "clients reading {}/current/ use the new files now; update any that copied them. Way back: certmint rotate {} --activate {}",
            shown(dir),
            shown(dir),
            before.as_deref().unwrap_or("GEN")
        ));
        return Ok(None);
    }
    let m = workdir::load(dir).map_err(cannot)?;
    super::common::warn_open_secrets_in(dir, &m);
    let what = format!("the keys and keystores in `{}`", shown(dir));
    let pw = ctx
        .passwords
        .get(args.passin.as_ref(), "--passin", &what, Purpose::Existing)?;
    if let Some(bits) = args.bits {
        certmint::key::check_salesforce_bits(bits).map_err(|e| {
            CliError::lib(format!("cannot make a {bits}-bit key"), None, e)
                .hint("pass --bits 2048, 3072 or 4096")
        })?;
    }
    let kdf = match args.kdf {
        Kdf::Pbkdf2 => KeyEncryption::pbkdf2_default(),
        Kdf::Scrypt => KeyEncryption::scrypt_default(),
    };
    let old = m.current.clone().unwrap_or_default();
    let report =
        workdir::rotate(dir, &pw, args.bits, kdf, certmint::x509::now_seconds()).map_err(cannot)?;
    if report.nothing_to_do() {
        ctx.say(format!(
            "generation {} was already prepared by an earlier `certmint rotate` and is not active yet; its files are checked and unchanged (activate it, or go on with the plan below)",
            report.generation
        ));
    } else {
        super::init::print_report(ctx, &report);
    }
    if args.deploy {
        ctx.say(format!(
            "generation {} is ready; deploying its certificate ({} stays current until it works)",
            report.generation, old
        ));
        return Ok(Some(report.generation));
    }
    if ctx.quiet {
        return Ok(Some(report.generation));
    }
    let new = &report.generation;
    let stem = &report.manifest.stem;
    let gdir = dir.join(new);
    let s = |p: PathBuf| shown(&p);
    let client = report
        .manifest
        .salesforce
        .client_id
        .clone()
        .unwrap_or_else(|| "<consumer key>".into());
    errln!();
    errln!("Rotation plan: generation {new} is ready; {old} stays current until step 3.");
    if let Some(c) = report
        .manifest
        .generations
        .iter()
        .find(|g| &g.dir == new)
        .and_then(|g| g.certificate.as_ref())
    {
        errln!(
            "  new certificate: SHA-1 {}, valid until {}",
            c.sha1,
            c.not_after
        );
    }
    errln!(
        "  1. Upload {} to the External Client App (\"Enable JWT Bearer Flow\") or connected app\n     (\"Use digital signatures\").",
        s(gdir.join(Role::Certificate.file_name(stem)))
    );
    errln!(
        "     The app holds one certificate: from now until step 3, assertions signed with the old key"
    );
    errln!(
        "     are refused (\"invalid assertion\"). For no window at all, put the new certificate on a second"
    );
    errln!(
        "     app, pre-authorize the same user, and switch clients to its consumer key instead."
    );
    errln!(
        "  2. Prove the new key (retries while the change propagates; Salesforce: within 15 minutes):"
    );
    errln!(
        "       certmint mint --dir {} --generation {new} --client-id {} --retry 900",
        shown(dir),
        certmint::text::escape(&client)
    );
    errln!(
        "  3. Switch: certmint rotate {} --activate {new}",
        shown(dir)
    );
    let new_gen = report.manifest.generations.iter().find(|g| &g.dir == new);
    let alias = new_gen
        .map(|g| report.manifest.alias_of(g).to_owned())
        .unwrap_or_default();
    errln!(
        "     ({}/current then points at {new}; update clients that copied the old files:",
        shown(dir)
    );
    errln!(
        "     Salesforce CLI --jwt-key-file {}, Java {}; the keystores keep the alias {}).",
        s(gdir.join(Role::PlainKey.file_name(stem))),
        s(gdir.join(Role::Pkcs12.file_name(stem))),
        certmint::text::escape(&alias)
    );
    if let Some(g) = new_gen {
        let name = report.manifest.import_alias(g.number);
        errln!(
            "  If the JKS is in Certificate and Key Management, import the new key there before step 1, under a"
        );
        errln!(
            "  new Unique Name (the org already holds {}): make a copy named {name} and import that,",
            certmint::text::escape(&alias)
        );
        errln!(
            "       {}",
            super::common::import_copy_command(dir, &report.manifest, g, args.passin.as_ref())
        );
        errln!("  then point the Named Credential or Apex Auth.JWS at {name} in step 3.");
    }
    errln!(
        "  Way back: upload {} again and run certmint rotate {} --activate {old}. {old} is never deleted.",
        s(dir.join(&old).join(Role::Certificate.file_name(stem))),
        shown(dir)
    );
    Ok(Some(report.generation.clone()))
}
