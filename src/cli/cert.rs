//! `certmint cert`: the `openssl x509 -req -sha256 -days 365 -signkey` step.

use std::path::PathBuf;

use certmint::output::Mode;
use certmint::x509::Validity;
use clap::Args;

use super::common::{Ctx, Encoding, SubjectArgs, check_out};
use super::error::{CliError, CliResult};
use super::password::PassSource;

pub(super) const AFTER_HELP: &str = "\
EXAMPLES:
  $ certmint cert --csr server.csr --key server.key --out server.crt
  $ certmint cert --csr server.csr --key server.pass.key --passin env:KEY_PASS \\
      --days 730 --out server.crt
  $ certmint cert --key server.key --subj \"/O=Acme/CN=acme-jwt\" \\
      --out server.crt                                   # no CSR file
  $ certmint cert --key tls.key --cn localhost --san localhost --san 127.0.0.1 \\
      --out tls.crt                                      # emulator TLS

NOTES:
The certificate is X.509 v3, self-signed with SHA-256 and RSA, with a random 128-bit
serial, valid from now for --days (default 365), subject and issuer from the CSR (or
--subj). Upload it to the External Client App (Enable JWT Bearer Flow) or the connected
app (Use digital signatures). Check it with:
  $ openssl x509 -in server.crt -noout -text
  $ openssl verify -CAfile server.crt server.crt

EXIT CODES:
  0  the certificate was written
  2  error (CSR signature or key mismatch, bad subject, wrong password, output
     exists); nothing was written";

#[derive(Args, Debug)]
pub(crate) struct CertArgs {
    /// The CSR to take the subject and public key from.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["subj", "cn", "org", "org_unit", "country", "state", "locality", "email"])]
    pub csr: Option<PathBuf>,
    /// The private key that signs (and, for a CSR, must match it).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Password source for the key: pass:TEXT, env:VAR, file:PATH, fd:N or stdin.
    #[arg(long, value_name = "SRC")]
    pub passin: Option<PassSource>,
    #[command(flatten)]
    pub subject: SubjectArgs,
    /// Subject alternative name, repeatable: DNS:name or IP:address (for a TLS server
    /// certificate, e.g. `certmint emulate --tls-cert`); not needed for Salesforce.
    #[arg(long, value_name = "NAME")]
    pub san: Vec<String>,
    /// Days of validity from now.
    #[arg(long, default_value_t = 365, value_name = "DAYS")]
    pub days: u32,
    /// Where to write the certificate.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: PathBuf,
    /// Output encoding.
    #[arg(long, value_enum, default_value_t = Encoding::Pem)]
    pub to: Encoding,
    /// Replace the output if it exists.
    #[arg(long)]
    pub force: bool,
}

pub(super) fn run(ctx: &mut Ctx, args: CertArgs) -> CliResult<()> {
    check_out(&args.out, args.force)?;
    enum Source {
        Csr(certmint::csr::Csr),
        Subject(certmint::subject::Subject),
    }
    // Everything that can fail without a password is checked before the key is read.
    // `None`: the subject is to be asked for, field by field.
    let source = match &args.csr {
        Some(path) => Some({
            let data = ctx.read(path, "certificate signing request")?;
            Source::Csr(certmint::csr::parse(&data).map_err(|e| {
                CliError::lib("cannot use certificate signing request", Some(path), e)
            })?)
        }),
        // Subject flags are checked now; prompts wait for the key's password.
        None => args.subject.given()?.map(Source::Subject),
    };
    let sans = args
        .san
        .iter()
        .map(|s| certmint::x509::San::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CliError::lib("invalid --san", None, e))?;
    let (key, _) = ctx.load_key(&args.key, args.passin.as_ref())?;
    // The subject is asked for after the key's password, so that a wrong password does
    // not throw away a subject typed field by field.
    let source = match source {
        Some(source) => source,
        None => Source::Subject(super::common::prompt_subject()?),
    };
    let validity = Validity::starting_now(args.days)
        .map_err(|e| CliError::lib("cannot prepare the certificate", None, e))?;
    let der = match &source {
        Source::Csr(csr) => certmint::x509::self_signed_from_csr(&key, csr, &validity, &sans)
            .map_err(|e| {
                CliError::lib(
                    "cannot sign certificate signing request",
                    args.csr.as_deref(),
                    e,
                )
            })?,
        Source::Subject(subject) => {
            certmint::x509::self_signed_with_sans(&key, subject, &validity, &sans)
                .map_err(|e| CliError::lib("cannot build the certificate", None, e))?
        }
    };
    let info = certmint::x509::parse_der(&der)
        .map_err(|e| CliError::lib("cannot read back the certificate", None, e))?;
    let bytes = match args.to {
        Encoding::Pem => certmint::x509::to_pem(&der).into_bytes(),
        Encoding::Der => der,
    };
    ctx.write(
        &args.out,
        &bytes,
        Mode::Public,
        args.force,
        &format!(
            "self-signed X.509 v3 for {}, valid until {}, SHA-256 fingerprint {}",
            info.subject,
            info.not_after.date(),
            info.sha256
        ),
    )
}
