//! `certmint decrypt`: the `openssl rsa -in server.pass.key -out server.key` step.

use std::path::PathBuf;

use certmint::output::Mode;
use clap::Args;

use super::common::{Ctx, Encoding, check_out};
use super::error::CliResult;
use super::password::PassSource;

pub(super) const AFTER_HELP: &str = "\
EXAMPLES:
  $ certmint decrypt server.pass.key --out server.key --passin env:KEY_PASS
  $ certmint decrypt server.pass.key --out server.key --pkcs1  # BEGIN RSA ...
  $ certmint decrypt legacy.key --out server.der --to der --passin file:pw.txt

NOTES:
Reads any key certmint reads: encrypted PKCS#8 (PBES2 with AES or DES-EDE3, PBKDF2 or
scrypt), OpenSSL 1.x traditional encrypted PEM (Proc-Type/DEK-Info), or an unencrypted
PKCS#1/PKCS#8 key in PEM or DER. It also reads the old encrypted PKCS#8 that `openssl
pkcs8 -topk8 -v1` and older Java write (PBES1 with MD5 or SHA-1 and DES or RC2, the
PKCS#12 PBE with 3DES or RC2, PBES2 with single DES), but never writes them. Writes the key
unencrypted, mode 0600: PKCS#8 by default, PKCS#1 with --pkcs1. Both are what `sf org
login jwt --jwt-key-file` accepts.

EXIT CODES:
  0  the key was written
  2  error (wrong password, unreadable or unsupported key, output exists);
     nothing was written";

#[derive(Args, Debug)]
pub(crate) struct DecryptArgs {
    /// The encrypted key.
    #[arg(value_name = "IN")]
    pub input: PathBuf,
    /// Where to write the unencrypted key.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: PathBuf,
    /// Password source for the input: pass:TEXT, env:VAR, file:PATH, fd:N or stdin.
    #[arg(long, value_name = "SRC")]
    pub passin: Option<PassSource>,
    /// Write PKCS#1 (`BEGIN RSA PRIVATE KEY`) instead of PKCS#8 (`BEGIN PRIVATE KEY`).
    #[arg(long)]
    pub pkcs1: bool,
    /// Output encoding.
    #[arg(long, value_enum, default_value_t = Encoding::Pem)]
    pub to: Encoding,
    /// Replace the output if it exists.
    #[arg(long)]
    pub force: bool,
}

pub(super) fn run(ctx: &mut Ctx, args: DecryptArgs) -> CliResult<()> {
    check_out(&args.out, args.force)?;
    let (key, info) = ctx.load_key(&args.input, args.passin.as_ref())?;
    let map = |e| super::error::CliError::lib("cannot encode the key", None, e);
    let (bytes, desc) = match (args.pkcs1, args.to) {
        (false, Encoding::Pem) => (key.to_pkcs8_pem(), "unencrypted PKCS#8 PEM"),
        (false, Encoding::Der) => (key.pkcs8_der().clone(), "unencrypted PKCS#8 DER"),
        (true, Encoding::Pem) => (key.to_pkcs1_pem().map_err(map)?, "unencrypted PKCS#1 PEM"),
        (true, Encoding::Der) => (key.to_pkcs1_der().map_err(map)?, "unencrypted PKCS#1 DER"),
    };
    ctx.say(format!("read {info}"));
    ctx.write(
        &args.out,
        bytes.expose(),
        Mode::Secret,
        args.force,
        &format!("{}-bit RSA key, {desc}", key.bits()),
    )
}
