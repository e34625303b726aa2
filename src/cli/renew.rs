//! `certmint renew`: a new certificate over the same key (new serial and validity). The
//! key does not change, so clients keep working before and after the new certificate is
//! uploaded: zero downtime.

use std::path::PathBuf;

use certmint::manifest::Role;
use certmint::output::Mode;
use certmint::workdir;
use certmint::x509::Validity;
use clap::Args;

use super::common::{Ctx, check_out};
use super::error::{CliError, CliResult, shown};
use super::password::{PassSource, Purpose};
use super::stdio::errln;

pub(super) const AFTER_HELP: &str = "\
EXAMPLES:
  $ certmint renew acme-jwt --passin env:CERT_PASS    # a directory made by init
  $ certmint renew acme-jwt --passin env:CERT_PASS --days 730
  $ certmint renew --cert server.crt --key server.key --out server-2027.crt
  $ certmint renew acme-jwt --passin env:CERT_PASS --deploy --check-only \\
      --target-org acme                          # validate, change nothing
  $ certmint renew acme-jwt --passin env:CERT_PASS --deploy \\
      --target-org acme                                # onto the app, proven

NOTES:
On a directory: makes a new generation with the same key (copied), a new CSR and
certificate, and rebuilt PKCS#12 and JKS, and makes it current; the previous generation
and its certificate stay untouched. Salesforce verifies assertions with the public key,
which does not change, so clients keep working before and after you upload the new
certificate: zero downtime. An interrupted renewal resumes when run again.
With --cert/--key: writes only the new certificate (same subject, new serial, validity
from now).

With --deploy (on a directory `certmint connect` connected): the app is read from the org
and only its certificate changes, deployed through the Metadata API; the certificate read
back from the org shows the new one is on the app, and a token minted with the key, up to
--wait (default 900 s), that the app works; clients keep working throughout, since old
and new certificates carry the same public key. The admin session is --target-org ALIAS
or --instance-url with --access-token (see `certmint help connect`). When the deploy
failed or timed out, run the same command again: it deploys the renewal it made instead
of renewing once more. --check-only makes the renewed certificate in memory and validates
its deploy with a check-only deploy: nothing changes in the org or the directory.

EXIT CODES:
  0  renewed (and with --deploy, deployed and proven; with --check-only, the
     org accepts the deploy)
  1  with --deploy: the org refused the deploy (or the check), the app read
     back holds another certificate, or no token came within --wait
  2  error (wrong password, no complete generation, key and certificate do not
     match)";

#[derive(Args, Debug)]
pub(crate) struct RenewArgs {
    /// A directory made by `certmint init`.
    #[arg(value_name = "DIR", required_unless_present = "cert", conflicts_with_all = ["cert", "key", "out"])]
    pub dir: Option<PathBuf>,
    /// The certificate to renew (without a directory).
    #[arg(long, value_name = "FILE", requires_all = ["key", "out"])]
    pub cert: Option<PathBuf>,
    /// Its private key.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// Where to write the new certificate (with --cert/--key).
    #[arg(long, short = 'o', value_name = "FILE", requires = "cert")]
    pub out: Option<PathBuf>,
    /// Password source for the key (and, on a directory, its keystores): pass:TEXT,
    /// env:VAR, file:PATH, fd:N or stdin.
    #[arg(long, value_name = "SRC")]
    pub passin: Option<PassSource>,
    /// Days of validity of the new certificate (default: the directory's setting, or 365).
    #[arg(long, value_name = "DAYS")]
    pub days: Option<u32>,
    /// With --out: replace the output if it exists.
    #[arg(long)]
    pub force: bool,
    /// Deploy the renewed certificate to the directory's app (`certmint connect`) and prove
    /// it with a token.
    #[arg(long, requires = "dir")]
    pub deploy: bool,
    /// With --deploy: make the renewed certificate in memory and validate its deploy with
    /// a check-only deploy; nothing changes in the org or the directory.
    #[arg(long, requires = "deploy")]
    pub check_only: bool,
    #[command(flatten)]
    pub admin: super::org_session::AdminArgs,
    #[command(flatten)]
    pub wait: super::org_session::WaitArgs,
}

pub(super) fn run(ctx: &mut Ctx, args: RenewArgs) -> CliResult<super::error::ExitStatus> {
    if args.admin.given() && !args.deploy {
        return Err(CliError::new("an admin session is only used with --deploy")
            .hint("add --deploy to put the renewed certificate on the app"));
    }
    if let Some(dir) = &args.dir {
        if args.check_only {
            super::deploy::require_connected(dir)?;
            return check_renewal(ctx, dir, &args);
        }
        if args.deploy {
            super::deploy::require_connected(dir)?;
            if let Some(g) = super::deploy::undeployed_renewal(dir)? {
                ctx.say(format!(
                    "generation {g} (a renewal) is not on the app yet: deploying it, without renewing again"
                ));
            } else {
                renew_dir(ctx, dir, &args)?;
            }
            return super::deploy::renew(ctx, dir, &args.admin, &args.wait, args.passin.as_ref());
        }
        renew_dir(ctx, dir, &args)?;
        return Ok(super::error::ExitStatus::Success);
    }
    let (Some(cert_path), Some(key_path), Some(out)) = (&args.cert, &args.key, &args.out) else {
        return Err(CliError::new(
            "give a directory, or --cert, --key and --out",
        ));
    };
    check_out(out, args.force)?;
    let data = ctx.read(cert_path, "certificate")?;
    if let Some(e) =
        super::common::keystore_given_as(super::common::Given::Cert, cert_path, &data, None)
    {
        return Err(e);
    }
    let old = certmint::x509::parse(&data)
        .map_err(|e| CliError::lib("cannot read certificate", Some(cert_path), e))?;
    let (key, _) = ctx.load_key(key_path, args.passin.as_ref())?;
    let validity = Validity::starting_now(args.days.unwrap_or(365))
        .map_err(|e| CliError::lib("cannot prepare the certificate", None, e))?;
    let der = certmint::x509::reissue(&key, &old, &validity)
        .map_err(|e| CliError::lib("cannot renew", Some(cert_path), e))?;
    let info = certmint::x509::parse_der(&der)
        .map_err(|e| CliError::lib("cannot read back the certificate", None, e))?;
    ctx.write(
        out,
        certmint::x509::to_pem(&der).as_bytes(),
        Mode::Public,
        args.force,
        &format!(
            "renewed certificate for {}, serial {}, valid until {}, same public key",
            info.subject,
            info.serial,
            info.not_after.date()
        ),
    )?;
    ctx.say(format!(
        "the old certificate `{}` is unchanged; upload the new one to the app in Salesforce when convenient: clients keep working either way",
        shown(cert_path)
    ));
    Ok(super::error::ExitStatus::Success)
}

/// `renew DIR --deploy --check-only`: the renewal the real run would make (the current
/// key, a new certificate over it), made in memory only, and its deploy validated.
fn check_renewal(
    ctx: &mut Ctx,
    dir: &std::path::Path,
    args: &RenewArgs,
) -> CliResult<super::error::ExitStatus> {
    let m = super::connect::load_dir(dir)?;
    let g = m
        .current_generation()
        .cloned()
        .ok_or_else(|| CliError::new(format!("`{}` has no complete generation", shown(dir))))?;
    let key = super::connect::generation_key(ctx, dir, &m, &g, args.passin.as_ref())?;
    let cert_path = workdir::file_path(dir, &m, &g, Role::Certificate);
    let old = certmint::x509::parse(&ctx.read(&cert_path, "certificate")?)
        .map_err(|e| CliError::lib("cannot read certificate", Some(&cert_path), e))?;
    let validity = Validity::starting_now(args.days.unwrap_or(m.days))
        .map_err(|e| CliError::lib("cannot prepare the certificate", None, e))?;
    let der = certmint::x509::reissue(&key, &old, &validity)
        .map_err(|e| CliError::lib("cannot make the renewed certificate", Some(&cert_path), e))?;
    let pem = certmint::connect::plan::certificate_text(&der)
        .map_err(|e| CliError::lib("cannot make the renewed certificate", None, e))?;
    ctx.say("made the renewed certificate in memory (nothing is written); validating its deploy");
    super::deploy::check(
        ctx,
        dir,
        &pem,
        None,
        &args.admin,
        &args.wait,
        "the renewed certificate",
    )
}

fn renew_dir(ctx: &mut Ctx, dir: &std::path::Path, args: &RenewArgs) -> CliResult<()> {
    let cannot = |e| CliError::lib("cannot renew", Some(dir), e);
    let m = workdir::load(dir).map_err(cannot)?;
    super::common::warn_open_secrets_in(dir, &m);
    let what = format!("the keys and keystores in `{}`", shown(dir));
    let pw = ctx
        .passwords
        .get(args.passin.as_ref(), "--passin", &what, Purpose::Existing)?;
    let previous = m.current.clone();
    let report =
        workdir::renew(dir, &pw, args.days, certmint::x509::now_seconds()).map_err(cannot)?;
    super::init::print_report(ctx, &report);
    let g = report
        .manifest
        .generations
        .iter()
        .find(|g| g.dir == report.generation);
    let link = dir.join(certmint::manifest::CURRENT_LINK);
    if !ctx.quiet && args.deploy {
        errln!(
            "Renewed: generation {} is current (same key as {}); deploying it to the app.",
            report.generation,
            previous.as_deref().unwrap_or("?")
        );
    } else if !ctx.quiet {
        errln!();
        errln!(
            "Renewed: generation {} is current (same key as {}).",
            report.generation,
            previous.as_deref().unwrap_or("?")
        );
        if let Some(c) = g.and_then(|g| g.certificate.as_ref()) {
            errln!(
                "  new certificate: serial {}, valid until {}, SHA-1 {}",
                c.serial,
                c.not_after,
                c.sha1
            );
        }
        errln!(
            "  1. Upload {} to the External Client App (\"Enable JWT Bearer Flow\") or connected app\n     (\"Use digital signatures\") when convenient:",
            shown(&link.join(Role::Certificate.file_name(&report.manifest.stem)))
        );
        errln!(
            "     the key is unchanged, so clients keep working before and after: zero downtime."
        );
        if let Some(g) = g {
            let m = &report.manifest;
            errln!(
                "  2. The PKCS#12 and JKS keep the alias {}, so Java programs loading {} by it go on working.",
                certmint::text::escape(m.alias_of(g)),
                shown(&link.join(Role::Pkcs12.file_name(&m.stem)))
            );
            errln!(
                "     If the JKS is imported in Certificate and Key Management, nothing needs to change there: the"
            );
            errln!(
                "     key is the same, and importing again only refreshes the dates Salesforce shows. The org already"
            );
            errln!(
                "     holds the Unique Name {}, so to import, make a copy named {} and import that:",
                certmint::text::escape(m.alias_of(g)),
                m.import_alias(g.number)
            );
            errln!(
                "       {}",
                super::common::import_copy_command(dir, m, g, args.passin.as_ref())
            );
        }
        errln!(
            "  The previous generation ({}) is kept as it was.",
            previous.as_deref().unwrap_or("?")
        );
    }
    Ok(())
}
