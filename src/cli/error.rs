//! Errors as the user sees them: what failed, on which file, why, and what to do next.
//!
//! Exit codes are a contract (see `certmint --help`): 0 success, 1 a clean "no" (a check
//! failed, Salesforce refused the assertion), 2 any error.

use std::fmt;
use std::path::Path;
use std::process::ExitCode;

use certmint::error::Input;

use super::stdio::errln;

/// How a command ends. The numbers of the contract live only in the `From` below.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: the command did what was asked.
    Success,
    /// 1: a clean "no": a check found something that needs attention, or Salesforce (or
    /// the emulator) refused the assertion.
    No,
    /// 2: bad usage, unreadable or invalid input, a wrong password, I/O, an internal error.
    Error,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(match status {
            ExitStatus::Success => 0,
            ExitStatus::No => 1,
            ExitStatus::Error => 2,
        })
    }
}

/// An error ready to print.
#[derive(Debug)]
pub(crate) struct CliError {
    /// `error: <message>`.
    pub message: String,
    /// The underlying cause, if any.
    pub cause: Option<String>,
    /// `hint: <next step>`.
    pub hint: Option<String>,
    /// How the process ends.
    pub code: ExitStatus,
    /// Standard output was closed by its reader: print nothing (see [`CliError::stdout_closed`]).
    stdout_closed: bool,
}

pub(super) type CliResult<T> = Result<T, CliError>;

impl CliError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            cause: None,
            hint: None,
            code: ExitStatus::Error,
            stdout_closed: false,
        }
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub(crate) fn cause(mut self, cause: impl fmt::Display) -> Self {
        self.cause = Some(cause.to_string());
        self
    }

    pub(crate) fn code(mut self, code: ExitStatus) -> Self {
        self.code = code;
        self
    }

    /// Wrap a library error: `action` says what was being done ("cannot read private key"),
    /// `path` the file; a hint is chosen from the error kind unless one is set later.
    pub(crate) fn lib(
        action: impl fmt::Display,
        path: Option<&Path>,
        err: certmint::Error,
    ) -> Self {
        let message = match path {
            Some(p) => format!("{action} `{}`", shown(p)),
            None => action.to_string(),
        };
        let hint = default_hint(&err);
        CliError {
            message,
            cause: Some(err.to_string()),
            hint,
            code: ExitStatus::Error,
            stdout_closed: false,
        }
    }

    /// Standard output was closed by its reader (`certmint ... | head -1`): the command
    /// stops, prints nothing more and exits 0, because the reader has what it wanted.
    pub(crate) fn stdout_closed() -> Self {
        CliError {
            code: ExitStatus::Success,
            stdout_closed: true,
            ..CliError::new("standard output was closed")
        }
    }

    /// True for [`CliError::stdout_closed`].
    pub(crate) fn is_stdout_closed(&self) -> bool {
        self.stdout_closed
    }

    /// Wrap an I/O error on a path.
    pub(crate) fn io(action: impl fmt::Display, path: &Path, err: std::io::Error) -> Self {
        CliError::lib(action, Some(path), certmint::Error::Io(err))
    }

    /// Print the error on stderr (nothing for [`CliError::stdout_closed`]).
    pub(crate) fn print(&self) {
        if self.stdout_closed {
            return;
        }
        errln!("error: {}", self.message);
        if let Some(c) = &self.cause {
            errln!("  cause: {c}");
        }
        if let Some(h) = &self.hint {
            errln!("  hint: {h}");
        }
    }
}

/// A path as shown in messages (escaped so a hostile name cannot drive the terminal).
pub(super) fn shown(p: &Path) -> String {
    certmint::text::escape(&p.display().to_string())
}

fn default_hint(err: &certmint::Error) -> Option<String> {
    use certmint::Error as E;
    Some(match err {
        E::WrongPassword { .. } => {
            "check the password given with --passin (or typed at the prompt); nothing was changed".into()
        }
        E::PasswordRequired { .. } => {
            "give the password with --passin env:VAR, file:PATH, fd:N or stdin, or run on a terminal to be asked".into()
        }
        E::Unsupported { what: Input::File, .. } => {
            "check that this is the file you meant: certmint reads RSA keys (PEM or DER, PKCS#1, PKCS#8, encrypted, legacy), CSRs, certificates, PKCS#12, JKS and JWTs".into()
        }
        E::Unsupported {
            what: Input::KeystoreType,
            ..
        } => {
            "certmint reads PKCS#12 and JKS keystores: convert this one with keytool as the cause says, then give certmint the converted file".into()
        }
        E::Unsupported {
            what: Input::Conversion,
            ..
        } => "decrypt it first (`certmint decrypt FILE --out plain.key`), then convert the decrypted key".into(),
        E::Unsupported { .. } => "convert the file with openssl to a supported form".into(),
        E::Corrupt {
            what: Input::Manifest,
            ..
        } => "fix the line named above, or restore certmint.toml from a backup: it records every file's digest, so certmint cannot rebuild it from the files".into(),
        E::Corrupt { .. } => {
            "the file is damaged, truncated or not the expected kind; `certmint inspect FILE` shows what it holds".into()
        }
        E::WrongKind { .. } => "pass the right file; `certmint inspect FILE` shows what a file holds".into(),
        E::KeySize { .. } => {
            "make a new key with `certmint key --bits 2048` (or 3072, 4096)".into()
        }
        E::NotRsa(_) => "Salesforce's JWT bearer flow needs an RSA key; make one with `certmint key`".into(),
        E::KeyMismatch(_) => {
            "use the key the file was made from; `certmint inspect` shows the public-key fingerprints to compare".into()
        }
        E::BadSignature(_) => "the file was altered or signed with another key; regenerate it".into(),
        E::InvalidSubject(_) => {
            "write the subject as /C=US/O=Acme/CN=acme-jwt, or use --cn, --org, --country ...".into()
        }
        E::InvalidInput { .. } => "see `certmint help` for the accepted values".into(),
        E::UnknownAlias { .. } => "pass one of the listed aliases with --alias".into(),
        E::AlreadyExists => "pass --force to replace it, or choose another output path".into(),
        E::Busy { .. } => {
            "wait for the other run to finish (or stop it), then run the command again; nothing was changed by this one".into()
        }
        E::NotRegularFile(certmint::error::FileKind::Directory) => {
            "give the path of a file, not a directory".into()
        }
        E::NotRegularFile(_) => {
            "certmint reads and replaces only regular files (--force never replaces a device, pipe, socket or symbolic link): give the path of a regular file".into()
        }
        E::KdfLimit(x) => {
            use certmint::kdf::LimitKind as K;
            match x.kind {
                K::ScryptMemory => format!(
                    "if you trust this file, allow it with --max-scrypt-memory {} (MiB)",
                    x.needed.div_ceil(1 << 20)
                ),
                K::Iterations => format!(
                    "if you trust this file, allow it with --max-kdf-iterations {}",
                    x.needed
                ),
                _ => format!(
                    "if you trust these files, raise --max-kdf-iterations (the budget is {} times it), or read fewer files at once",
                    certmint::kdf::BUDGET_FACTOR
                ),
            }
        }
        E::TooLarge { .. } => {
            "check that this is the file you meant: keys, certificates and keystores are a few KiB".into()
        }
        E::MissingPermissions { .. } => {
            "nothing was changed in the org: grant the permissions (Setup > Users > the admin > Permission Set Assignments, or their profile), or run it as a System Administrator; docs/security.md lists what each step needs".into()
        }
        E::Io(e) => match e.kind() {
            std::io::ErrorKind::NotFound => "check the path".into(),
            std::io::ErrorKind::PermissionDenied => {
                "check the permissions of the file and its directory".into()
            }
            std::io::ErrorKind::StorageFull => {
                "free some disk space and run the command again; existing files were not touched".into()
            }
            std::io::ErrorKind::ReadOnlyFilesystem => {
                "write to a writable directory; existing files were not touched".into()
            }
            std::io::ErrorKind::IsADirectory => "give a file path, not a directory".into(),
            _ => return None,
        },
        _ => return None,
    })
}
