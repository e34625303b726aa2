//! `certmint rotate`: a new key and certificate beside the current generation, with a
//! switchover plan; `--activate` switches, and switches back.

use std::path::PathBuf;

use certmint::key::KeyEncryption;
use certmint::manifest::Role;
use certmint::workdir;
use clap::Args;

use super::common::Ctx;
use super::error::{CliError, CliResult, shown};
use super::key::Kdf;
use super::password::{PassSource, Purpose};
use super::stdio::errln;

pub(super) const AFTER_HELP: &str = "\
EXAMPLES:
  $ certmint rotate acme-jwt --passin env:CERT_PASS          # make generation N+1, print the plan
  $ certmint mint --dir acme-jwt --generation g2 --retry 900  # prove it after the upload
  $ certmint rotate acme-jwt --activate                      # switch DIR/current to it
  $ certmint rotate acme-jwt --activate g1                   # the way back

Makes a new generation with a new key, CSR, certificate, PKCS#12 and JKS next to the
current one, which stays current (and is never deleted) until --activate. Prints the
switchover plan: upload the new certificate, prove the new key with `certmint mint`
(retrying while the change propagates), then switch clients with --activate; and the way
back. A connected app holds one certificate, so between the upload and the switch,
clients still signing with the old key are refused: switch promptly, or use a second
connected app for a switch without any window. An interrupted rotation resumes when run
again.

EXIT CODES:
  0  the new generation is ready (or activated)
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
}

pub(super) fn run(ctx: &mut Ctx, args: RotateArgs) -> CliResult<()> {
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
        return Ok(());
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
    if ctx.quiet {
        return Ok(());
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
        "  1. Upload {} to the connected app (\"Use digital signatures\").",
        s(gdir.join(Role::Certificate.file_name(stem)))
    );
    errln!(
        "     The app holds one certificate: from now until step 3, assertions signed with the old key"
    );
    errln!(
        "     are refused (\"invalid assertion\"). For no window at all, put the new certificate on a second"
    );
    errln!(
        "     connected app, pre-authorize the same user, and switch clients to its consumer key instead."
    );
    errln!("  2. Prove the new key (retries while the change propagates, usually 2-10 minutes):");
    errln!(
        "       certmint mint --dir {} --generation {new} --client-id {} --retry 900",
        shown(dir),
        certmint::text::escape(&client)
    );
    errln!(
        "  3. Switch: certmint rotate {} --activate {new}",
        shown(dir)
    );
    errln!(
        "     ({}/current then points at {new}; update clients that copied the old files:",
        shown(dir)
    );
    errln!(
        "     Salesforce CLI --jwt-key-file {}, Java {}; if the JKS is in Certificate and Key Management,",
        s(gdir.join(Role::PlainKey.file_name(stem))),
        s(gdir.join(Role::Jks.file_name(stem)))
    );
    let alias = report
        .manifest
        .generations
        .iter()
        .find(|g| &g.dir == new)
        .map(|g| report.manifest.alias_of(g).to_owned())
        .unwrap_or_default();
    errln!(
        "     import the new one too: its alias {} is a new Unique Name, so it sits beside the old certificate.)",
        certmint::text::escape(&alias)
    );
    errln!(
        "  Way back: upload {} again and run certmint rotate {} --activate {old}. {old} is never deleted.",
        s(dir.join(&old).join(Role::Certificate.file_name(stem))),
        shown(dir)
    );
    Ok(())
}
