//! The command line: argument parsing and dispatch. Each subcommand lives in its own file
//! with its clap `Args` and one `run`.

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

mod cert;
mod check;
mod common;
mod connect;
mod convert;
mod csr;
mod decrypt;
mod demo;
mod deploy;
mod disconnect;
mod emulate;
mod error;
mod export;
mod help;
mod init;
mod inspect;
mod jks;
mod jwt;
mod key;
mod mint;
mod mint_batch;
mod mint_setup;
mod org_session;
mod p12;
mod password;
mod renew;
mod rotate;
mod shell;
mod stdio;

use common::Ctx;
use error::{CliError, ExitStatus};

const ABOUT: &str = "Provision the RSA key, certificate and keystores for a Salesforce JWT bearer \
integration, natively (no openssl, no JDK), and prove them by minting a token.";

const AFTER_HELP: &str = "\
EXAMPLES:
  # Try it offline first: the recipe, then a token from the built-in emulator.
  $ certmint demo

  # The whole recipe in one command, then the app in the org (an External
  # Client App, a permission set, the proof); then mint from the directory.
  $ certmint init acme-jwt --cn acme-jwt --passout env:CERT_PASS \\
      -u integration@acme.com
  $ certmint connect acme-jwt --target-org acme
  $ certmint mint --dir acme-jwt

  # The recipe, step by step: each step replaces the command after the #.
  $ certmint key --out server.pass.key --passout env:PW      # openssl genrsa
  $ certmint decrypt server.pass.key --out server.key --passin env:PW  # rsa
  $ certmint csr --key server.key --out server.csr --subj /CN=acme-jwt  # req
  $ certmint cert --csr server.csr --key server.key --out server.crt  # x509
  $ certmint convert server.crt --to pem --out server.pem     # \"save as .pem\"
  $ certmint p12 --cert server.crt --key server.key --out server.p12  # pkcs12
  $ certmint jks --cert server.crt --key server.key --out server.jks  # keytool
  $ certmint mint --key server.key --client-id \"$CONSUMER_KEY\" \\
      -u integration@acme.com

  # Every year: the alarm, then the renewal or a new key, deployed and proven.
  $ certmint check acme-jwt     # exit 1 when the certificate expires in 30 days
  $ certmint renew acme-jwt --deploy --target-org acme    # same key
  $ certmint rotate acme-jwt --deploy --second-app --target-org acme

  # The way out: remove from the org what connect made.
  $ certmint disconnect acme-jwt --target-org acme

PASSWORDS:
--passin/--passout take OpenSSL's sources: pass:TEXT, env:VAR, file:PATH, fd:N, stdin.
Without one, certmint asks on the terminal: a new password twice, and again when it is
shorter than 4 characters or the two differ (up to three tries); without a terminal it
stops with exit code 2 instead of waiting.

KEY-DERIVATION LIMITS:
A key or keystore names its own key-derivation cost, which certmint pays before it can
tell a wrong password. Files asking for more than 1,000,000 PBKDF2 or PKCS#12 KDF
iterations per derivation, more than 64 MiB of scrypt memory, or more than 16 times the
iteration limit for a whole command are refused at once. For a file you trust, raise
them with --max-kdf-iterations N and --max-scrypt-memory MIB (before or after the
command name; see docs/security.md).

EXIT CODES:
  0  success
  1  a clean \"no\": a check failed, or Salesforce refused the assertion
  2  any error: bad usage, unreadable or invalid input, wrong password, I/O

Run `certmint help <command>` for each command's options, examples and exit codes.";

#[derive(Parser, Debug)]
#[command(
    name = "certmint",
    version,
    about = ABOUT,
    after_long_help = AFTER_HELP,
    propagate_version = true,
    max_term_width = 100
)]
pub(crate) struct Cli {
    /// Print nothing but data and errors.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,

    /// Most PBKDF2 or PKCS#12 KDF iterations certmint runs for one key derivation named by
    /// a file (the command's budget is 16 times this).
    #[arg(long, global = true, hide_short_help = true, value_name = "N",
          default_value_t = certmint::kdf::DEFAULT_MAX_ITERATIONS,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_kdf_iterations: u32,

    /// Most memory, in MiB, of one scrypt derivation named by a file.
    #[arg(long, global = true, hide_short_help = true, value_name = "MIB",
          default_value_t = certmint::kdf::DEFAULT_MAX_SCRYPT_MEMORY >> 20,
          value_parser = clap::value_parser!(u64).range(1..=65536))]
    pub max_scrypt_memory: u64,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Try the whole job offline: the recipe into a directory, the app created in an
    /// emulated org (connect), then a token minted from it.
    #[command(after_long_help = demo::AFTER_HELP)]
    Demo(demo::DemoArgs),
    /// The whole recipe in one command: key, CSR, certificate, PKCS#12 and JKS in a directory,
    /// resumable, ending with the next steps.
    #[command(after_long_help = init::AFTER_HELP)]
    Init(init::InitArgs),
    /// Create the app in the org (an External Client App with the certificate, admin
    /// approval and a pre-authorized permission set) through the Metadata API, and prove it.
    #[command(after_long_help = connect::AFTER_HELP)]
    Connect(connect::ConnectArgs),
    /// Remove from the org what `connect` made there (after showing it and asking).
    #[command(after_long_help = disconnect::AFTER_HELP)]
    Disconnect(disconnect::DisconnectArgs),
    /// A new certificate over the same key (zero downtime), for a directory or a cert/key pair.
    #[command(after_long_help = renew::AFTER_HELP)]
    Renew(renew::RenewArgs),
    /// A new key and certificate beside the current ones, with a switchover plan.
    #[command(after_long_help = rotate::AFTER_HELP)]
    Rotate(rotate::RotateArgs),
    /// Generate a new RSA key, written as encrypted PKCS#8 (replaces `openssl genrsa -des3`).
    #[command(after_long_help = key::AFTER_HELP)]
    Key(key::KeyArgs),
    /// Write a key unencrypted, as PKCS#8 or PKCS#1 (replaces `openssl rsa`).
    #[command(after_long_help = decrypt::AFTER_HELP)]
    Decrypt(decrypt::DecryptArgs),
    /// Create a certificate signing request (replaces `openssl req -new`).
    #[command(after_long_help = csr::AFTER_HELP)]
    Csr(csr::CsrArgs),
    /// Create a self-signed certificate from a CSR or a subject (replaces `openssl x509 -req -signkey`).
    #[command(after_long_help = cert::AFTER_HELP)]
    Cert(cert::CertArgs),
    /// Convert a certificate, CSR or key between PEM and DER.
    #[command(after_long_help = convert::AFTER_HELP)]
    Convert(convert::ConvertArgs),
    /// Bundle the key and certificate into a PKCS#12 keystore (replaces `openssl pkcs12 -export`).
    #[command(after_long_help = p12::AFTER_HELP)]
    P12(p12::P12Args),
    /// Write the PEM key and certificate out of a PKCS#12 or JKS keystore (replaces `openssl pkcs12 -nodes`).
    #[command(after_long_help = export::AFTER_HELP)]
    Export(export::ExportArgs),
    /// Build a Salesforce-ready JKS keystore from a key and certificate (replaces
    /// `keytool -importkeystore -deststoretype JKS`).
    #[command(after_long_help = jks::AFTER_HELP)]
    Jks(jks::JksArgs),
    /// Describe any key, CSR, certificate, keystore, JWT or certmint directory.
    #[command(after_long_help = inspect::AFTER_HELP)]
    Inspect(inspect::InspectArgs),
    /// Check certificates, keystores and certmint directories: expiry, key match, Salesforce rules (exit 1 when something needs attention).
    #[command(after_long_help = check::AFTER_HELP)]
    Check(check::CheckArgs),
    /// Sign a JWT bearer assertion and print it.
    #[command(after_long_help = jwt::AFTER_HELP)]
    Jwt(jwt::JwtArgs),
    /// Exchange a signed assertion for an access token and verify it (the JWT bearer flow).
    #[command(after_long_help = mint::AFTER_HELP)]
    Mint(mint::MintArgs),
    /// Run an emulated Salesforce org: the JWT bearer token endpoint, identity, and the
    /// REST and Metadata APIs connect and the Salesforce CLI use.
    #[command(after_long_help = emulate::AFTER_HELP)]
    Emulate(emulate::EmulateArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(after_long_help = shell::COMPLETIONS_HELP)]
    Completions(shell::CompletionsArgs),
    /// Print the man page, or write all pages to a directory.
    #[command(after_long_help = shell::MAN_HELP)]
    Man(shell::ManArgs),
}

pub(crate) fn main() -> ExitCode {
    // The help texts' examples are printed verbatim at any terminal width (cli/help.rs).
    let (cmd, verbatim) = help::for_terminal(Cli::command());
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let parsed = cmd
        .try_get_matches_from(&argv)
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        // Help and version are successes; usage errors exit 2 (`mint --json` also prints
        // its JSON error object on stdout).
        Err(e) => {
            if e.use_stderr()
                && let Some(line) = mint::usage_error_json(&argv, &e)
            {
                let _ = stdio::outln!("{line}");
            }
            return help::print_clap_error(&e, &verbatim).into();
        }
    };
    // One key-derivation budget for the whole command, across every file it reads.
    certmint::kdf::set_limits(certmint::kdf::Limits {
        command_budget: true,
        ..certmint::kdf::Limits::with(cli.max_kdf_iterations, cli.max_scrypt_memory << 20)
    });
    let mut ctx = Ctx::new(cli.quiet);
    match run(&mut ctx, cli.command) {
        Ok(status) => status.into(),
        Err(e) => {
            e.print();
            e.code.into()
        }
    }
}

fn run(ctx: &mut Ctx, command: Command) -> Result<ExitStatus, CliError> {
    // The commands that can end in a clean "no" say so; the others succeed or fail.
    let done = match command {
        Command::Demo(a) => return demo::run(ctx, a),
        Command::Check(a) => return check::run(ctx, a),
        Command::Mint(a) => return mint::run(ctx, a),
        Command::Connect(a) => return connect::run(ctx, a),
        Command::Disconnect(a) => return disconnect::run(ctx, a),
        Command::Renew(a) => return renew::run(ctx, a),
        Command::Rotate(a) => return rotate::run(ctx, a),
        Command::Init(a) => init::run(ctx, a),
        Command::Key(a) => key::run(ctx, a),
        Command::Decrypt(a) => decrypt::run(ctx, a),
        Command::Csr(a) => csr::run(ctx, a),
        Command::Cert(a) => cert::run(ctx, a),
        Command::Convert(a) => convert::run(ctx, a),
        Command::P12(a) => p12::run(ctx, a),
        Command::Export(a) => export::run(ctx, a),
        Command::Jks(a) => jks::run(ctx, a),
        Command::Inspect(a) => inspect::run(ctx, a),
        Command::Completions(a) => shell::completions(ctx, a),
        Command::Man(a) => shell::man(ctx, a),
        Command::Jwt(a) => jwt::run(ctx, a),
        Command::Emulate(a) => emulate::run(ctx, a),
    };
    done.map(|()| ExitStatus::Success)
}

/// The clap command, for tests, completions and the man page.
pub(crate) fn command() -> clap::Command {
    Cli::command()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_subcommand_has_examples_and_exit_codes() {
        let mut cmd = Cli::command();
        cmd.build();
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let help = sub
                .get_after_long_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            assert!(
                help.contains("EXAMPLES:"),
                "{} lacks EXAMPLES",
                sub.get_name()
            );
            assert!(
                help.contains("EXIT CODES:"),
                "{} lacks EXIT CODES",
                sub.get_name()
            );
            assert!(
                help.contains("$ certmint"),
                "{} has no example command",
                sub.get_name()
            );
        }
    }
}
