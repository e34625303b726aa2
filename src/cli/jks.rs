//! `certmint jks`: a Salesforce-ready Java KeyStore (the `keytool -importkeystore
//! -deststoretype JKS` step).

use std::path::PathBuf;

use certmint::error::Input;
use certmint::key::RsaKey;
use certmint::output::Mode;
use certmint::x509::CertInfo;
use certmint::{jks, salesforce};
use clap::Args;

use super::common::{Ctx, check_out};
use super::error::{CliError, CliResult, shown};
use super::password::{PassSource, Purpose};

pub(super) const AFTER_HELP: &str = "\
EXAMPLES:
  $ certmint jks --cert server.crt --key server.key --out server.jks \\
      --passout env:JKS_PASS
  $ certmint jks --cert server.crt --key server.pass.key --passin env:KEY_PASS \\
      --out server.jks
  $ certmint jks --cert server.crt --key server.key --out server.jks \\
      --alias acme_jwt
  $ certmint jks --cert chain.pem --key app.key --out app.jks --alias 'My App' \\
      --no-salesforce-rules

NOTES:
The keystore is JKS version 2 with one PrivateKeyEntry whose key password is the store
password, because Salesforce asks only for the store password when you import it in
Setup > Certificate and Key Management > Import from Keystore.

The alias becomes the certificate's Unique Name in Salesforce. By default it is the
certificate's common name made valid (\"acme-jwt 2026\" becomes acme_jwt_2026); an --alias
that is not a valid Unique Name (letters, digits and underscores, starting with a letter,
no trailing or double underscore) is refused with a suggestion. JKS stores aliases in
lowercase, as keytool does.

Salesforce's import rules are enforced: an RSA key of 2048, 3072 or 4096 bits, matching
the certificate (the first one in --cert, which may hold a chain, leaf first).
--no-salesforce-rules lifts the size and alias rules for other Java consumers; a key that
does not match its certificate is always refused. Before the file is written, certmint
reads the keystore back with the password and checks the key and certificate.
Check the result with:
  $ keytool -list -v -storetype JKS -keystore server.jks
  $ certmint check --salesforce server.jks --passin env:JKS_PASS

EXIT CODES:
  0  the keystore was written
  2  error (Salesforce rule broken, invalid alias, key and certificate differ,
     wrong password, output exists, I/O); nothing was written";

#[derive(Args, Debug)]
pub(crate) struct JksArgs {
    /// The certificate (PEM or DER); a PEM file may hold the chain, leaf first.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "p12",
        requires = "key"
    )]
    pub cert: Option<PathBuf>,
    /// The private key (any format `certmint key`/openssl writes).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "p12",
        requires = "cert"
    )]
    pub key: Option<PathBuf>,
    /// Convert this PKCS#12 file instead (like `keytool -importkeystore
    /// -srcstoretype PKCS12 -deststoretype JKS`); --passin is then its password.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["cert", "key"])]
    pub p12: Option<PathBuf>,
    /// With --p12: the entry to convert (needed when the file holds several).
    #[arg(long, value_name = "ALIAS", requires = "p12")]
    pub src_alias: Option<String>,
    /// Password source for the key when it is encrypted, or for the --p12 file:
    /// pass:TEXT, env:VAR, file:PATH, fd:N or stdin.
    #[arg(long, value_name = "SRC")]
    pub passin: Option<PassSource>,
    /// Where to write the keystore.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: PathBuf,
    /// Password source for the keystore (also the key password): pass:TEXT, env:VAR,
    /// file:PATH, fd:N or stdin (default: ask on the terminal, twice).
    #[arg(long, value_name = "SRC")]
    pub passout: Option<PassSource>,
    /// The entry's alias (Salesforce's Unique Name for the certificate); default: the
    /// certificate's common name made valid.
    #[arg(long, value_name = "ALIAS")]
    pub alias: Option<String>,
    /// Do not enforce Salesforce's import rules (key size, alias), for other Java consumers.
    #[arg(long)]
    pub no_salesforce_rules: bool,
    /// Replace the output if it exists.
    #[arg(long)]
    pub force: bool,
}

/// What goes into the keystore: a key and its chain (leaf first), wherever they came from.
struct Material {
    key: RsaKey,
    chain: Vec<CertInfo>,
}

/// The alias to write: the user's (validated under the rules) or one made from the CN.
fn choose_alias(args: &JksArgs, leaf: &CertInfo, source: Option<&str>) -> CliResult<String> {
    // A converted entry keeps its alias when Salesforce would accept it (or rules are off).
    if args.alias.is_none()
        && let Some(src) = source.filter(|s| !s.is_empty())
        && (args.no_salesforce_rules || salesforce::validate_alias(src).is_ok())
    {
        return Ok(src.to_owned());
    }
    match &args.alias {
        Some(a) if !args.no_salesforce_rules => {
            salesforce::validate_alias(a).map_err(|why| {
                CliError::new(format!(
                    "--alias `{}` is not a valid Salesforce Unique Name",
                    certmint::text::escape(a)
                ))
                .cause(why)
                .hint(format!(
                    "use --alias {} (letters, digits and underscores, starting with a letter), or --no-salesforce-rules for a keystore Salesforce will not import",
                    salesforce::suggest_alias(a)
                ))
            })?;
            Ok(a.clone())
        }
        Some(a) => {
            if a.is_empty() {
                return Err(CliError::new("--alias is empty").hint("give a non-empty alias"));
            }
            Ok(a.clone())
        }
        None => Ok(salesforce::default_alias_from_cn(
            leaf.common_name.as_deref(),
        )),
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

pub(super) fn run(ctx: &mut Ctx, args: JksArgs) -> CliResult<()> {
    check_out(&args.out, args.force)?;
    let rules = !args.no_salesforce_rules;
    // Said after the write: a converted entry's alias that had to change.
    let mut alias_note = None;
    let (material, alias, key_label, cert_label) = match (&args.cert, &args.key, &args.p12) {
        (Some(cert), Some(key), _) => {
            // Everything that needs no password is checked first.
            let chain = super::common::read_cert_chain(ctx, cert)?;
            let alias = choose_alias(&args, &chain[0], None)?;
            if rules && let Some(bits) = chain[0].key_bits {
                certmint::key::check_salesforce_bits(bits).map_err(|e| {
                    CliError::lib("cannot use the certificate", Some(cert), e)
                        .hint("make a 2048-bit key and certificate with `certmint key` and `certmint cert`, or pass --no-salesforce-rules for a keystore Salesforce will not import")
                })?;
            }
            let (key_value, _) = ctx.load_key(key, args.passin.as_ref())?;
            (
                Material {
                    key: key_value,
                    chain,
                },
                alias,
                shown(key),
                shown(cert),
            )
        }
        (_, _, Some(p12)) => {
            let opened = ctx.open_keystore(
                p12,
                args.passin.as_ref(),
                None,
                args.src_alias.as_deref(),
                true,
            )?;
            let key_value = opened
                .rsa_key()
                .map_err(|e| CliError::lib("cannot use the key in", Some(p12), e))?;
            let chain = opened
                .chain
                .iter()
                .map(|der| certmint::x509::parse_der(der))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| CliError::lib("cannot read the certificate in", Some(p12), e))?;
            if chain.is_empty() {
                return Err(CliError::new(format!(
                    "the key entry in `{}` has no certificate",
                    shown(p12)
                ))
                .hint("a JKS PrivateKeyEntry needs the key's certificate"));
            }
            let alias = choose_alias(&args, &chain[0], opened.alias.as_deref())?;
            // A source alias Salesforce would refuse is replaced: say so, with the rule.
            if let Some(src) = opened.alias.as_deref().filter(|s| !s.is_empty())
                && args.alias.is_none()
                && src != alias
                && let Err(why) = salesforce::validate_alias(src)
            {
                alias_note = Some(format!(
                    "note: the entry's alias `{}` is not a valid Salesforce Unique Name ({why}), so the JKS entry is named `{}`; choose another with --alias, or keep it with --no-salesforce-rules",
                    certmint::text::escape(src),
                    certmint::text::escape(&alias)
                ));
            }
            let label = shown(p12);
            (
                Material {
                    key: key_value,
                    chain,
                },
                alias,
                format!("the key in {label}"),
                format!("the certificate in {label}"),
            )
        }
        _ => {
            return Err(
                CliError::new("give --cert and --key, or --p12").hint("see `certmint help jks`")
            );
        }
    };
    let leaf = &material.chain[0];
    if !material.key.matches_spki(&leaf.spki) {
        return Err(CliError::lib(
            "the key and the certificate do not belong together",
            None,
            certmint::Error::KeyMismatch(Input::Certificate),
        )
        .cause(format!(
            "`{key_label}` is not the key of the certificate `{cert_label}` ({})",
            leaf.subject
        ))
        .hint("pass the certificate made from this key (`certmint cert --key ...`); Salesforce refuses such a keystore with \"The private key does not match the certificate chain in the keystore.\""));
    }
    if rules {
        certmint::key::check_salesforce_bits(material.key.bits()).map_err(|e| {
            CliError::lib(format!("cannot use the private key `{key_label}`"), None, e)
                .hint("make a new key with `certmint key --bits 2048`, or pass --no-salesforce-rules for a keystore Salesforce will not import")
        })?;
    }

    let password = ctx.passwords.get(
        args.passout.as_ref(),
        "--passout",
        &format!("the new keystore `{}`", shown(&args.out)),
        Purpose::New,
    )?;
    let ders: Vec<Vec<u8>> = material.chain.iter().map(|c| c.der.clone()).collect();
    // The library reads the keystore back and proves it before returning it; under the
    // rules it also checks every Salesforce import rule.
    let bytes = if rules {
        salesforce::write_jks(&alias, &material.key, &ders, now_ms(), &password)
    } else {
        jks::write_private_key(
            &alias,
            material.key.pkcs8_der().expose(),
            &ders,
            now_ms(),
            &password,
        )
    }
    .map_err(|e| CliError::lib("cannot build the keystore", None, e))?;
    let stored_alias = jks::normalize_alias(&alias);

    let mut description = format!(
        "JKS keystore, alias `{}`, {}-bit RSA key and {} certificate{}, key password = store password",
        certmint::text::escape(&stored_alias),
        material.key.bits(),
        ders.len(),
        if ders.len() == 1 { "" } else { "s" }
    );
    if rules {
        description.push_str(", passes Salesforce's import rules");
    }
    ctx.write(&args.out, &bytes, Mode::Secret, args.force, &description)?;
    if let Some(note) = alias_note {
        ctx.say(note);
    }
    if stored_alias != alias {
        ctx.say(format!(
            "note: the alias is stored as `{}`: JKS keeps aliases in lowercase, as keytool does",
            certmint::text::escape(&stored_alias)
        ));
    }
    if rules {
        ctx.say(
            "next: in Salesforce, Setup > Certificate and Key Management > Import from Keystore, with the keystore password",
        );
    }
    Ok(())
}
