//! `certmint p12`: the `openssl pkcs12 -export` step, with an explicit compatibility
//! profile.

use std::path::PathBuf;

use certmint::error::Input;
use certmint::key::RsaKey;
use certmint::output::Mode;
use certmint::pkcs12::Profile;
use clap::Args;

use super::common::{Ctx, check_out};
use super::error::{CliError, CliResult, shown};
use super::password::{PassSource, Purpose};
use super::stdio::errln;

pub(super) const AFTER_HELP: &str = "\
EXAMPLES:
  $ certmint p12 --cert server.crt --key server.key --out server.p12 \\
      --passout env:P12_PASS
  $ certmint p12 --cert server.crt --key server.pass.key --passin env:KEY_PASS \\
      --out server.p12 --passout env:P12_PASS --name acme_jwt
  $ certmint p12 --cert server.crt --key server.key --out old-jdk.p12 \\
      --profile java8

PROFILES:
  modern  PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) for key and certificates,
          HMAC-SHA256 MAC, 100,000 iterations. Read by OpenSSL 1.1.1 and 3.x,
          Java 8u301+, 11.0.12+, 17+. The default.
  java8   pbeWithSHAAnd3-KeyTripleDES-CBC for key and certificates, HMAC-SHA1
          MAC. Read by every Java since 8 (also before 8u301), older Windows and
          macOS keychains, and OpenSSL 1.x and 3.x without -legacy.
  legacy  3DES key, RC2-40 certificates, HMAC-SHA1 MAC: what OpenSSL 1.x wrote.
          OpenSSL 3 needs -legacy to open it. Only for a reader that needs
          exactly this.

NOTES:
The key bag and the certificate bag both carry the alias (--name; default: the
certificate's common name) as friendlyName, and the SHA-1 of the certificate as
localKeyID, as `openssl pkcs12 -export -name` writes them. A PEM --cert file may hold the
whole chain; the certificate that matches the key goes first. Java shows aliases in lower
case. The file is read back and checked before it is reported as written, mode 0600.

Java 17 and older refuse non-ASCII PKCS#12 passwords; certmint warns when one is used.

Check the result with (add -legacy to openssl for --profile legacy):
  $ openssl pkcs12 -info -in server.p12 -noout
  $ keytool -list -v -storetype PKCS12 -keystore server.p12

EXIT CODES:
  0  the keystore was written
  2  error (key does not match the certificate, wrong password, output exists,
     I/O); nothing was written";

/// Which readers the new file must suit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ProfileArg {
    /// PBES2/AES-256-CBC, SHA-256 MAC: OpenSSL 1.1.1+/3.x, Java 8u301+, 11.0.12+, 17+.
    Modern,
    /// 3DES, SHA-1 MAC: every Java since 8, older Windows and macOS keychains, any OpenSSL.
    Java8,
    /// 3DES key, RC2-40 certificates, SHA-1 MAC (OpenSSL 1.x): OpenSSL 3 needs -legacy.
    Legacy,
}

impl From<ProfileArg> for Profile {
    fn from(p: ProfileArg) -> Self {
        match p {
            ProfileArg::Modern => Profile::Modern,
            ProfileArg::Java8 => Profile::Java8,
            ProfileArg::Legacy => Profile::Legacy,
        }
    }
}

#[derive(Args, Debug)]
pub(crate) struct P12Args {
    /// The certificate, PEM or DER (a PEM file may hold the chain).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "jks",
        requires = "key"
    )]
    pub cert: Option<PathBuf>,
    /// The private key, in any format certmint reads (encrypted or not).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "jks",
        requires = "cert"
    )]
    pub key: Option<PathBuf>,
    /// Convert this JKS keystore instead (like `keytool -importkeystore -deststoretype
    /// PKCS12`); --passin is then its store password.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["cert", "key"])]
    pub jks: Option<PathBuf>,
    /// With --jks: the entry to convert (needed when the keystore holds several).
    #[arg(long, value_name = "ALIAS", requires = "jks")]
    pub src_alias: Option<String>,
    /// With --jks: password source for the key entry, when it differs from the store
    /// password (keytool -keypass).
    #[arg(long, value_name = "SRC", requires = "jks")]
    pub keypass: Option<PassSource>,
    /// Password source for an encrypted key, or for the --jks keystore: pass:TEXT,
    /// env:VAR, file:PATH, fd:N or stdin.
    #[arg(long, value_name = "SRC")]
    pub passin: Option<PassSource>,
    /// Where to write the PKCS#12 file.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: PathBuf,
    /// Password source for the new keystore (default: ask on the terminal, twice).
    #[arg(long, value_name = "SRC")]
    pub passout: Option<PassSource>,
    /// Alias (friendlyName) of the entry; default: the certificate's common name.
    #[arg(long, value_name = "ALIAS")]
    pub name: Option<String>,
    /// Which readers the file must suit.
    #[arg(long, value_enum, default_value_t = ProfileArg::Modern)]
    pub profile: ProfileArg,
    /// Iterations of every key derivation (encryption and MAC), like OpenSSL's -iter and
    /// -maciter: 2,048 to 1,000,000. Default: 100,000 for modern; Java 8's 50,000
    /// (encryption) and 100,000 (MAC) for java8 and legacy. OpenSSL 3 writes 2,048.
    #[arg(long, value_name = "N")]
    pub iter: Option<u32>,
    /// Replace the output if it exists.
    #[arg(long)]
    pub force: bool,
}

/// What goes into the keystore.
struct Source {
    key: RsaKey,
    /// DER, the key's own certificate first.
    chain: Vec<Vec<u8>>,
    /// The alias to use when --name is not given.
    default_alias: Option<String>,
}

/// Read the key and its certificates from --key and --cert, or from a --jks keystore.
fn load_source(ctx: &mut Ctx, args: &P12Args) -> CliResult<Source> {
    let (Some(cert_path), Some(key_path)) = (&args.cert, &args.key) else {
        return load_jks(ctx, args);
    };
    let mut certs = super::common::read_cert_chain(ctx, cert_path)?;
    let (key, _) = ctx.load_key(key_path, args.passin.as_ref())?;
    let leaf = certs
        .iter()
        .position(|c| key.matches_spki(&c.spki))
        .ok_or_else(|| {
            CliError::lib(
                "the key does not match the certificate",
                Some(cert_path),
                certmint::Error::KeyMismatch(Input::Certificate),
            )
            .hint(format!(
                "use the certificate made from `{}` (compare `certmint inspect` fingerprints)",
                shown(key_path)
            ))
        })?;
    let leaf_info = certs.remove(leaf);
    let default_alias = leaf_info.common_name.clone();
    let mut chain = vec![leaf_info.der];
    chain.extend(certs.into_iter().map(|c| c.der));
    Ok(Source {
        key,
        chain,
        default_alias,
    })
}

/// The entry of a JKS keystore, checked like --key/--cert input.
fn load_jks(ctx: &mut Ctx, args: &P12Args) -> CliResult<Source> {
    let Some(path) = &args.jks else {
        return Err(
            CliError::new("give --cert and --key, or --jks").hint("see `certmint help p12`")
        );
    };
    let opened = ctx.open_keystore(
        path,
        args.passin.as_ref(),
        args.keypass.as_ref(),
        args.src_alias.as_deref(),
        true,
    )?;
    let key = opened
        .rsa_key()
        .map_err(|e| CliError::lib("cannot use the key in", Some(path), e))?;
    let leaf = opened
        .chain
        .first()
        .map(|der| certmint::x509::parse_der(der))
        .transpose()
        .map_err(|e| CliError::lib("cannot read the certificate in", Some(path), e))?
        .ok_or_else(|| {
            CliError::new(format!(
                "the key entry in `{}` has no certificate",
                shown(path)
            ))
            .hint("a PKCS#12 entry needs the key's certificate")
        })?;
    if !key.matches_spki(&leaf.spki) {
        return Err(CliError::lib(
            "cannot convert",
            Some(path),
            certmint::Error::KeyMismatch(Input::KeystoreCertificate),
        ));
    }
    Ok(Source {
        key,
        chain: opened.chain,
        default_alias: opened.alias.or(leaf.common_name),
    })
}

pub(super) fn run(ctx: &mut Ctx, args: P12Args) -> CliResult<()> {
    check_out(&args.out, args.force)?;
    let source = load_source(ctx, &args)?;
    let alias = match (&args.name, &source.default_alias) {
        (Some(n), _) => n.clone(),
        (None, Some(cn)) if !cn.is_empty() => cn.clone(),
        (None, _) => {
            return Err(
                CliError::new("the certificate has no common name to use as the alias")
                    .hint("name the entry with --name ALIAS"),
            );
        }
    };
    let profile = Profile::from(args.profile);
    let pw = ctx.passwords.get(
        args.passout.as_ref(),
        "--passout",
        &format!("the new keystore `{}`", shown(&args.out)),
        Purpose::New,
    )?;
    if let Some(warning) = certmint::pkcs12::password_caveat(profile, &pw) {
        errln!("warning: {warning}");
    }
    if profile == Profile::Legacy {
        ctx.say(
            "note: the legacy profile encrypts the certificates with 40-bit RC2; OpenSSL 3 opens it only with -legacy",
        );
    }
    let mut options = certmint::pkcs12::WriteOptions::new(profile);
    if let Some(n) = args.iter {
        options.iterations = n;
        options.mac_iterations = n;
    }
    let der = certmint::pkcs12::write_with_rng(
        &source.key,
        &source.chain,
        &alias,
        &pw,
        &options,
        &mut getrandom::SysRng,
    )
    .map_err(|e| {
        let bad_alias = matches!(
            e,
            certmint::Error::InvalidInput {
                what: Input::Alias,
                ..
            }
        );
        let err = CliError::lib("cannot make the PKCS#12 file", Some(&args.out), e);
        if bad_alias {
            err.hint("choose another --name")
        } else {
            err
        }
    })?;
    ctx.write(
        &args.out,
        &der,
        Mode::Secret,
        args.force,
        &format!(
            "PKCS#12, {profile} profile, {} / {} iterations (encryption / MAC), alias `{}`, {} certificate(s)",
            options.iterations,
            options.mac_iterations,
            certmint::text::escape(&alias),
            source.chain.len()
        ),
    )?;
    ctx.say(format!(
        "readable by: {}",
        certmint::pkcs12::readable_by_with(profile, &pw)
    ));
    Ok(())
}
