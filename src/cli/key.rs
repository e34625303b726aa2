//! `certmint key`: a new RSA key, written encrypted (the `openssl genrsa -des3` step).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use certmint::key::{KeyEncryption, RsaKey};
use certmint::output::Mode;
use clap::Args;

use super::common::{Ctx, check_out};
use super::error::{CliError, CliResult};
use super::password::{PassSource, Purpose};
use super::stdio::errprint;

pub(super) const AFTER_HELP: &str = "\
EXAMPLES:
  $ certmint key --out server.pass.key --passout env:KEY_PASS
  $ certmint key --out server.pass.key --bits 4096 \\
      --passout file:/run/secrets/keypass
  $ certmint key --out server.pass.key --kdf scrypt  # asks for the password

NOTES:
The key is written as encrypted PKCS#8 PEM (BEGIN ENCRYPTED PRIVATE KEY): PBES2 with
PBKDF2-HMAC-SHA256 (600,000 iterations) and AES-256-CBC, or scrypt with --kdf scrypt.
OpenSSL 3, Python's cryptography and Java read it. Check it with:
  $ openssl pkey -in server.pass.key -check -noout

EXIT CODES:
  0  the key was written
  2  error (bad size, no password source, output exists, I/O);
     nothing was written";

/// Key derivation for the key file's encryption.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Kdf {
    /// PBKDF2-HMAC-SHA256 (600,000 iterations by default): readable everywhere.
    Pbkdf2,
    /// scrypt N=2^14, r=8, p=1 (OpenSSL 3's parameters): memory-hard.
    Scrypt,
}

#[derive(Args, Debug)]
pub(crate) struct KeyArgs {
    /// Where to write the encrypted key.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: PathBuf,
    /// Modulus size; Salesforce accepts 2048, 3072 or 4096.
    #[arg(long, default_value_t = 2048, value_name = "BITS")]
    pub bits: usize,
    /// Password source for the new key: pass:TEXT, env:VAR, file:PATH, fd:N or stdin
    /// (default: ask on the terminal, twice).
    #[arg(long, value_name = "SRC")]
    pub passout: Option<PassSource>,
    /// Key derivation for the encryption.
    #[arg(long, value_enum, default_value_t = Kdf::Pbkdf2)]
    pub kdf: Kdf,
    /// PBKDF2 iterations (at least 600,000).
    #[arg(long, value_name = "N", default_value_t = KeyEncryption::DEFAULT_PBKDF2_ITERATIONS)]
    pub iter: u32,
    /// Write the key unencrypted (PKCS#8 PEM) instead; only for keys that will live in a
    /// secret store anyway.
    #[arg(long, conflicts_with_all = ["passout", "kdf", "iter"])]
    pub unencrypted: bool,
    /// Replace the output if it exists.
    #[arg(long)]
    pub force: bool,
}

pub(super) fn run(ctx: &mut Ctx, args: KeyArgs) -> CliResult<()> {
    certmint::key::check_salesforce_bits(args.bits).map_err(|e| {
        CliError::lib(format!("cannot make a {}-bit key", args.bits), None, e)
            .hint("pass --bits 2048 (the default), 3072 or 4096")
    })?;
    let enc = match args.kdf {
        Kdf::Pbkdf2 => KeyEncryption::Pbkdf2 {
            iterations: args.iter,
        },
        Kdf::Scrypt => KeyEncryption::scrypt_default(),
    };
    if let KeyEncryption::Pbkdf2 { iterations } = enc
        && iterations < KeyEncryption::MIN_PBKDF2_ITERATIONS
    {
        return Err(CliError::new(format!("--iter {iterations} is too low"))
            .hint("use at least 600,000 PBKDF2 iterations (the default)"));
    }
    // Never write a key that certmint would refuse to read back.
    let most = certmint::kdf::limits().max_iterations;
    if let KeyEncryption::Pbkdf2 { iterations } = enc
        && iterations > most
    {
        return Err(CliError::new(format!(
            "--iter {iterations} is more than certmint reads back ({most} per key derivation)"
        ))
        .hint(format!(
            "pass --max-kdf-iterations {iterations} too, here and to every certmint command that reads the key"
        )));
    }
    check_out(&args.out, args.force)?;
    let password = if args.unencrypted {
        None
    } else {
        Some(ctx.passwords.get(
            args.passout.as_ref(),
            "--passout",
            &format!("the new key `{}`", args.out.display()),
            Purpose::New,
        )?)
    };
    let key = generate_with_progress(ctx, args.bits)?;
    match password {
        Some(pw) => {
            let pem = key
                .to_encrypted_pkcs8_pem(&pw, enc)
                .map_err(|e| CliError::lib("cannot encrypt the key", None, e))?;
            ctx.write(
                &args.out,
                pem.as_bytes(),
                Mode::Secret,
                args.force,
                &format!("{}-bit RSA key, encrypted PKCS#8, {enc}", args.bits),
            )
        }
        None => {
            let pem = key.to_pkcs8_pem();
            ctx.write(
                &args.out,
                pem.expose(),
                Mode::Secret,
                args.force,
                &format!("{}-bit RSA key, UNENCRYPTED PKCS#8", args.bits),
            )
        }
    }
}

/// Generate a key, drawing a spinner on a terminal while it runs (4096-bit keys can take
/// seconds).
pub(super) fn generate_with_progress(ctx: &Ctx, bits: usize) -> CliResult<RsaKey> {
    let show = !ctx.quiet && std::io::stderr().is_terminal();
    let done = Arc::new(AtomicBool::new(false));
    let spinner = show.then(|| {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let frames = ['|', '/', '-', '\\'];
            let mut i = 0usize;
            // Stay silent for fast keys.
            std::thread::sleep(Duration::from_millis(250));
            while !done.load(Ordering::Relaxed) {
                errprint!("\rgenerating a {bits}-bit RSA key {} ", frames[i % 4]);
                i += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            if i > 0 {
                errprint!("\r\x1b[2K");
            }
        })
    });
    let result = RsaKey::generate(bits);
    done.store(true, Ordering::Relaxed);
    if let Some(h) = spinner {
        let _ = h.join();
    }
    result.map_err(|e| CliError::lib("cannot generate the key", None, e))
}
