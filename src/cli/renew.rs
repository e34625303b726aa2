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
  $ certmint renew acme-jwt --passin env:CERT_PASS             # a directory made by init
  $ certmint renew acme-jwt --passin env:CERT_PASS --days 730
  $ certmint renew --cert server.crt --key server.key --out server-2027.crt

On a directory: makes a new generation with the same key (copied), a new CSR and
certificate, and rebuilt PKCS#12 and JKS, and makes it current; the previous generation
and its certificate stay untouched. Salesforce verifies assertions with the public key,
which does not change, so clients keep working before and after you upload the new
certificate: zero downtime. An interrupted renewal resumes when run again.
With --cert/--key: writes only the new certificate (same subject, new serial, validity
from now).

EXIT CODES:
  0  renewed
  2  error (wrong password, no complete generation, key and certificate do not match)";

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
}

pub(super) fn run(ctx: &mut Ctx, args: RenewArgs) -> CliResult<()> {
    if let Some(dir) = &args.dir {
        return renew_dir(ctx, dir, &args);
    }
    let (Some(cert_path), Some(key_path), Some(out)) = (&args.cert, &args.key, &args.out) else {
        return Err(CliError::new(
            "give a directory, or --cert, --key and --out",
        ));
    };
    check_out(out, args.force)?;
    let data = ctx.read(cert_path, "certificate")?;
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
        "the old certificate `{}` is unchanged; upload the new one to the connected app when convenient: clients keep working either way",
        shown(cert_path)
    ));
    Ok(())
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
    if !ctx.quiet {
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
            "  1. Upload {} to the connected app (\"Use digital signatures\") when convenient:",
            shown(&link.join(Role::Certificate.file_name(&report.manifest.stem)))
        );
        errln!(
            "     the key is unchanged, so clients keep working before and after: zero downtime."
        );
        errln!(
            "  2. If the JKS is imported in Certificate and Key Management, import the new {} too:",
            shown(&link.join(Role::Jks.file_name(&report.manifest.stem)))
        );
        errln!(
            "     its alias {} is a new Unique Name, so it sits beside the old certificate.",
            certmint::text::escape(g.map(|g| report.manifest.alias_of(g)).unwrap_or("?"))
        );
        errln!(
            "  The previous generation ({}) is kept as it was.",
            previous.as_deref().unwrap_or("?")
        );
    }
    Ok(())
}
