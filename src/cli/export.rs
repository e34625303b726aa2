//! `certmint export`: the PEM key and certificate out of a keystore (`openssl pkcs12 -in
//! server.p12 -nodes`, which keytool cannot do for keys).

use std::path::PathBuf;

use certmint::output::Mode;
use clap::{ArgGroup, Args};

use super::common::{Ctx, check_out};
use super::error::{CliError, CliResult, shown};
use super::password::PassSource;

pub(super) const AFTER_HELP: &str = "\
EXAMPLES:
  $ certmint export server.p12 --key-out server.key --cert-out server.crt \\
      --passin env:P12_PASS
  $ certmint export keystore.p12 --alias acme_jwt --cert-out acme.crt --chain
  $ certmint export legacy.pfx --key-out server.key --passin file:pw.txt
  $ certmint export server.jks --key-out server.key --passin env:STORE_PASS \\
      --keypass env:KEY_PASS

NOTES:
Reads PKCS#12 files from any tool (OpenSSL 3 default, OpenSSL 1.x or -legacy with 3DES
and RC2, keytool -storetype PKCS12, certmint) and JKS keystores (keytool, certmint),
including JKS entries whose key password differs from the store password (--keypass).
The key is written as unencrypted PKCS#8 PEM (BEGIN PRIVATE KEY), mode 0600, which
`sf org login jwt --jwt-key-file` takes; the certificate as PEM, mode 0644: the entry's
own, plus its issuers with --chain. A keystore with several entries needs --alias (the
error lists them). A wrong password, a damaged file and an unsupported algorithm are
reported as such, and nothing is written.

EXIT CODES:
  0  the requested files were written
  2  error (wrong password, unknown alias, damaged or unsupported keystore,
     output exists); nothing was written";

#[derive(Args, Debug)]
#[command(group(ArgGroup::new("outputs").required(true).multiple(true).args(["key_out", "cert_out"])))]
pub(crate) struct ExportArgs {
    /// The keystore: PKCS#12 (.p12, .pfx) or JKS, recognised by content.
    #[arg(value_name = "KEYSTORE")]
    pub keystore: PathBuf,
    /// Password source for the keystore: pass:TEXT, env:VAR, file:PATH, fd:N or stdin.
    #[arg(long, value_name = "SRC")]
    pub passin: Option<PassSource>,
    /// Password source for the key entry, when it differs from the keystore's (JKS made by
    /// keytool with -keypass; PKCS#12 files normally use one password).
    #[arg(long, value_name = "SRC")]
    pub keypass: Option<PassSource>,
    /// The entry to export (required when the keystore holds several).
    #[arg(long, value_name = "ALIAS")]
    pub alias: Option<String>,
    /// Where to write the private key (unencrypted PKCS#8 PEM, mode 0600).
    #[arg(long, value_name = "FILE")]
    pub key_out: Option<PathBuf>,
    /// Where to write the certificate (PEM, mode 0644).
    #[arg(long, value_name = "FILE")]
    pub cert_out: Option<PathBuf>,
    /// With --cert-out, also write the issuer certificates after the entry's own.
    #[arg(long, requires = "cert_out")]
    pub chain: bool,
    /// Replace the outputs if they exist.
    #[arg(long)]
    pub force: bool,
}

/// What `export` takes out of a keystore, whatever its format.
struct Exported {
    alias: Option<String>,
    /// Unencrypted PKCS#8 DER, when the entry has a key.
    key_pkcs8: Option<certmint::SecretBytes>,
    /// DER, the entry's own certificate first.
    chain: Vec<Vec<u8>>,
    /// How the keystore was protected, for the report on stderr.
    description: String,
}

/// Open the keystore (PKCS#12 or JKS) and pick the entry.
fn open(ctx: &mut Ctx, args: &ExportArgs) -> CliResult<Exported> {
    let opened = ctx.open_keystore(
        &args.keystore,
        args.passin.as_ref(),
        args.keypass.as_ref(),
        args.alias.as_deref(),
        args.key_out.is_some(),
    )?;
    Ok(Exported {
        alias: opened.alias.clone(),
        key_pkcs8: opened.key.clone(),
        chain: opened.chain.clone(),
        description: opened.description.clone(),
    })
}

pub(super) fn run(ctx: &mut Ctx, args: ExportArgs) -> CliResult<()> {
    if let (Some(k), Some(c)) = (&args.key_out, &args.cert_out)
        && k == c
    {
        return Err(CliError::new("--key-out and --cert-out name the same file")
            .hint("write the key and the certificate to two files"));
    }
    for out in [&args.key_out, &args.cert_out].into_iter().flatten() {
        check_out(out, args.force)?;
    }
    let exported = open(ctx, &args)?;
    let alias = exported
        .alias
        .as_deref()
        .map(certmint::text::escape)
        .unwrap_or_else(|| "(no name)".into());
    ctx.say(format!(
        "read `{}`: entry `{alias}`; {}",
        shown(&args.keystore),
        exported.description
    ));

    // Everything is decoded before anything is written.
    let key_pem = match (&args.key_out, &exported.key_pkcs8) {
        (Some(_), Some(der)) => Some(certmint::SecretBytes::from(certmint::pemfile::encode(
            "PRIVATE KEY",
            der.expose(),
        ))),
        (Some(_), None) => {
            return Err(CliError::new(format!(
                "entry `{alias}` of `{}` holds no private key",
                shown(&args.keystore)
            ))
            .hint("it is a certificate-only entry; export its certificate with --cert-out"));
        }
        (None, _) => None,
    };
    let count = if args.chain { exported.chain.len() } else { 1 };
    let cert_pem: String = exported
        .chain
        .iter()
        .take(count)
        .map(|der| certmint::x509::to_pem(der))
        .collect();
    if args.cert_out.is_some() && cert_pem.is_empty() {
        return Err(CliError::new(format!(
            "entry `{alias}` of `{}` has no certificate",
            shown(&args.keystore)
        )));
    }

    if let (Some(path), Some(pem)) = (&args.key_out, &key_pem) {
        ctx.write(
            path,
            pem.expose(),
            Mode::Secret,
            args.force,
            "unencrypted PKCS#8 private key",
        )?;
    }
    if let Some(path) = &args.cert_out {
        let written = ctx.write(
            path,
            cert_pem.as_bytes(),
            Mode::Public,
            args.force,
            &format!("{} certificate(s), PEM", count.min(exported.chain.len())),
        );
        if let Err(e) = written {
            // Leave no half-done export behind: remove the key written a moment ago.
            if let Some(k) = &args.key_out {
                let _ = std::fs::remove_file(k);
            }
            return Err(e);
        }
    }
    Ok(())
}
