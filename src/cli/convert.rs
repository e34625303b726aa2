//! `certmint convert`: PEM ⇄ DER for certificates, CSRs and keys.

use std::path::PathBuf;

use certmint::convert::Encoding as E;
use certmint::output::Mode;
use clap::Args;

use super::common::{Ctx, Encoding, check_out};
use super::error::{CliError, CliResult};

pub(super) const AFTER_HELP: &str = "\
EXAMPLES:
  $ certmint convert server.crt --to pem --out server.pem  # \"save as .pem\"
  $ certmint convert server.crt --to der --out server.cer  # DER for Windows
  $ certmint convert server.key --to der --out server.key.der

NOTES:
Recognises certificates, CSRs, public keys and private keys (PKCS#1, PKCS#8, encrypted
PKCS#8) by content, not by file name. Private keys are written 0600, the rest 0644.

EXIT CODES:
  0  converted
  2  error (unrecognised content, output exists); nothing was written";

#[derive(Args, Debug)]
pub(crate) struct ConvertArgs {
    /// The file to convert.
    #[arg(value_name = "IN")]
    pub input: PathBuf,
    /// Target encoding.
    #[arg(long, value_enum)]
    pub to: Encoding,
    /// Where to write the result.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: PathBuf,
    /// Replace the output if it exists.
    #[arg(long)]
    pub force: bool,
}

pub(super) fn run(ctx: &mut Ctx, args: ConvertArgs) -> CliResult<()> {
    check_out(&args.out, args.force)?;
    let data = zeroize::Zeroizing::new(ctx.read(&args.input, "input")?);
    let to = match args.to {
        Encoding::Pem => E::Pem,
        Encoding::Der => E::Der,
    };
    let c = certmint::convert::convert(&data, to)
        .map_err(|e| CliError::lib("cannot convert", Some(&args.input), e))?;
    let mode = if c.secret { Mode::Secret } else { Mode::Public };
    let enc = match args.to {
        Encoding::Pem => "PEM",
        Encoding::Der => "DER",
    };
    ctx.write(
        &args.out,
        c.bytes.expose(),
        mode,
        args.force,
        &format!("{} as {enc}", c.label.to_lowercase()),
    )
}
