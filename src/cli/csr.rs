//! `certmint csr`: the `openssl req -new -key server.key -out server.csr` step.

use std::path::PathBuf;

use certmint::output::Mode;
use clap::Args;

use super::common::{Ctx, Encoding, SubjectArgs, check_out};
use super::error::{CliError, CliResult};
use super::password::PassSource;

pub(super) const AFTER_HELP: &str = "\
EXAMPLES:
  $ certmint csr --key server.pass.key --passin env:KEY_PASS --out server.csr \\
      --subj \"/C=US/ST=California/O=Acme/CN=acme-jwt\"
  $ certmint csr --key server.key --out server.csr --cn acme-jwt --org Acme \\
      --country US
  $ certmint csr --key server.key --out server.csr      # asks field by field

NOTES:
The CSR is PKCS#10, signed with SHA-256 and RSA. Check it with:
  $ openssl req -in server.csr -verify -noout -text

EXIT CODES:
  0  the CSR was written
  2  error (bad subject, unreadable key, wrong password, output exists);
     nothing was written";

#[derive(Args, Debug)]
pub(crate) struct CsrArgs {
    /// The private key (any format certmint reads; encrypted keys need --passin or a prompt).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Password source for the key: pass:TEXT, env:VAR, file:PATH, fd:N or stdin.
    #[arg(long, value_name = "SRC")]
    pub passin: Option<PassSource>,
    /// Where to write the CSR.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: PathBuf,
    #[command(flatten)]
    pub subject: SubjectArgs,
    /// Output encoding.
    #[arg(long, value_enum, default_value_t = Encoding::Pem)]
    pub to: Encoding,
    /// Replace the output if it exists.
    #[arg(long)]
    pub force: bool,
}

pub(super) fn run(ctx: &mut Ctx, args: CsrArgs) -> CliResult<()> {
    check_out(&args.out, args.force)?;
    // Subject flags are checked before the key is read; a subject asked for field by
    // field comes after the key's password, so that a wrong password loses nothing typed.
    let given = args.subject.given()?;
    let (key, _) = ctx.load_key(&args.key, args.passin.as_ref())?;
    let subject = match given {
        Some(subject) => subject,
        None => super::common::prompt_subject()?,
    };
    certmint::key::check_salesforce_bits(key.bits())
        .map_err(|e| CliError::lib("cannot use private key", Some(&args.key), e))?;
    let der = certmint::csr::build(&key, &subject)
        .map_err(|e| CliError::lib("cannot build the CSR", None, e))?;
    let bytes = match args.to {
        Encoding::Pem => certmint::csr::to_pem(&der).into_bytes(),
        Encoding::Der => der,
    };
    ctx.write(
        &args.out,
        &bytes,
        Mode::Public,
        args.force,
        &format!("PKCS#10 CSR for {subject}"),
    )
}
