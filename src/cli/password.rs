//! Password sources with OpenSSL's syntax (openssl-passphrase-options(1)):
//! `pass:TEXT`, `env:VAR`, `file:PATH` (first line), `fd:N` (first line), `stdin`.
//!
//! As in OpenSSL, when the same `file:`/`fd:`/`stdin` source serves two passwords in one
//! command (say `--passin stdin --passout stdin`), the first line is the first password
//! asked for and the second line the second. With no source, a terminal gets a hidden
//! prompt (new passwords asked twice); without a terminal the command fails at once rather
//! than hang.

use std::collections::HashMap;
use std::io::{BufRead, IsTerminal, Read};
use std::path::PathBuf;
use std::str::FromStr;

use certmint::Password;
use zeroize::Zeroizing;

use super::error::{CliError, CliResult};
use super::stdio::{errln, errprint};

/// Where a password comes from.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum PassSource {
    /// `pass:TEXT` (visible to other users: warned about).
    Pass(Zeroizing<String>),
    /// `env:VAR`
    Env(String),
    /// `file:PATH`
    File(PathBuf),
    /// `fd:N`
    Fd(u32),
    /// `stdin`
    Stdin,
}

impl std::fmt::Debug for PassSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PassSource::Pass(_) => f.write_str("pass:<redacted>"),
            PassSource::Env(v) => write!(f, "env:{v}"),
            PassSource::File(p) => write!(f, "file:{}", p.display()),
            PassSource::Fd(n) => write!(f, "fd:{n}"),
            PassSource::Stdin => f.write_str("stdin"),
        }
    }
}

impl FromStr for PassSource {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(t) = s.strip_prefix("pass:") {
            Ok(PassSource::Pass(Zeroizing::new(t.to_owned())))
        } else if let Some(v) = s.strip_prefix("env:") {
            if v.is_empty() {
                return Err("env: needs a variable name, as in env:CERTMINT_PASS".into());
            }
            Ok(PassSource::Env(v.to_owned()))
        } else if let Some(p) = s.strip_prefix("file:") {
            if p.is_empty() {
                return Err("file: needs a path, as in file:/run/secrets/keypass".into());
            }
            Ok(PassSource::File(PathBuf::from(p)))
        } else if let Some(n) = s.strip_prefix("fd:") {
            n.parse::<u32>()
                .map(PassSource::Fd)
                .map_err(|_| format!("fd: needs a file descriptor number, not `{n}`"))
        } else if s == "stdin" {
            Ok(PassSource::Stdin)
        } else {
            Err("expected pass:TEXT, env:VAR, file:PATH, fd:N or stdin (OpenSSL's syntax)".into())
        }
    }
}

/// Whether a password is being read for an existing secret or chosen for a new one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// Decrypt something that exists.
    Existing,
    /// Encrypt something new (asked twice on a terminal; at least 4 characters).
    New,
}

/// Minimum length of a new password (OpenSSL's rule).
pub(super) const MIN_NEW_PASSWORD: usize = 4;

/// How many times the terminal asks for a new password (too short, or not the same twice)
/// before the command gives up.
const NEW_PASSWORD_TRIES: usize = 3;

/// Reads passwords for one command, keeping OpenSSL's line-sharing semantics.
#[derive(Default)]
pub(crate) struct Passwords {
    lines: HashMap<String, Vec<Zeroizing<String>>>,
    used: HashMap<String, usize>,
    warned_pass: bool,
}

impl Passwords {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Get a password. `flag` is the option name for messages (`--passin`), `what` names
    /// the secret ("the private key `server.pass.key`").
    pub(crate) fn get(
        &mut self,
        source: Option<&PassSource>,
        flag: &str,
        what: &str,
        purpose: Purpose,
    ) -> CliResult<Password> {
        let pw = match source {
            // The prompt checks a new password itself, and asks again.
            None => return self.prompt(flag, what, purpose),
            Some(PassSource::Pass(t)) => {
                if !self.warned_pass {
                    errln!(
                        "warning: {flag} pass:... puts the password on the command line, where other users of this machine can read it (ps, /proc); prefer env:, file:, fd: or stdin"
                    );
                    self.warned_pass = true;
                }
                Password::new(t.to_string())
            }
            Some(PassSource::Env(var)) => match std::env::var(var) {
                Ok(v) => Password::new(v),
                Err(std::env::VarError::NotPresent) => {
                    return Err(CliError::new(format!(
                        "{flag} env:{var}: the environment variable `{var}` is not set"
                    ))
                    .hint(format!(
                        "export {var}=... before running certmint, or use another source"
                    )));
                }
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(CliError::new(format!(
                        "{flag} env:{var}: the variable is not valid UTF-8"
                    )));
                }
            },
            Some(PassSource::File(path)) => {
                let key = format!("file:{}", path.display());
                self.next_line(&key, flag, || {
                    std::fs::File::open(path)
                        .and_then(read_bounded)
                        .map_err(|e| {
                            CliError::io("cannot read the password file", path, e)
                                .hint("check the path given with file:")
                        })
                })?
            }
            Some(PassSource::Fd(n)) => {
                let key = format!("fd:{n}");
                let n = *n;
                self.next_line(&key, flag, || {
                    let path = PathBuf::from(format!("/dev/fd/{n}"));
                    let mut f = std::fs::File::open(&path).map_err(|e| {
                        CliError::new(format!("{flag} fd:{n}: cannot read file descriptor {n}"))
                            .cause(e)
                            .hint("open the descriptor in the shell, as in `3< secret.txt` or `3<<<\"$PASS\"`")
                    })?;
                    read_bounded(&mut f).map_err(|e| {
                        CliError::new(format!("{flag} fd:{n}: read failed")).cause(e)
                    })
                })?
            }
            Some(PassSource::Stdin) => self.next_line("stdin", flag, || {
                read_bounded(std::io::stdin().lock())
                    .map_err(|e| CliError::new(format!("{flag} stdin: read failed")).cause(e))
            })?,
        };
        if purpose == Purpose::New {
            check_new(&pw, flag)?;
        }
        Ok(pw)
    }

    fn next_line(
        &mut self,
        key: &str,
        flag: &str,
        read: impl FnOnce() -> CliResult<Vec<u8>>,
    ) -> CliResult<Password> {
        if !self.lines.contains_key(key) {
            let raw = Zeroizing::new(read()?);
            let text = std::str::from_utf8(&raw).map_err(|_| {
                CliError::new(format!("{flag} {key}: the password is not valid UTF-8"))
            })?;
            let lines: Vec<Zeroizing<String>> = text
                .split('\n')
                .map(|l| Zeroizing::new(l.strip_suffix('\r').unwrap_or(l).to_owned()))
                .collect();
            self.lines.insert(key.to_owned(), lines);
        }
        let idx = self.used.entry(key.to_owned()).or_insert(0);
        let lines = &self.lines[key];
        // A trailing newline leaves an empty last element that is not a line.
        let available = if lines.last().is_some_and(|l| l.is_empty()) {
            lines.len() - 1
        } else {
            lines.len()
        };
        if *idx >= available {
            return Err(CliError::new(format!(
                "{flag} {key}: no {} line to read the password from",
                ordinal(*idx + 1)
            ))
            .hint(format!(
                "{key} gives one password per line, in the order the command asks for them"
            )));
        }
        // Moved out, not copied: a line once used is gone from the cache, so a password is
        // kept only by the one who asked for it (a core of `mint` waiting on the network
        // held the `--passin file:` password otherwise).
        let i = *idx;
        *idx += 1;
        let line = self
            .lines
            .get_mut(key)
            .and_then(|l| l.get_mut(i))
            .map(|l| std::mem::take(&mut **l))
            .unwrap_or_default();
        Ok(Password::new(line))
    }

    fn prompt(&mut self, flag: &str, what: &str, purpose: Purpose) -> CliResult<Password> {
        if !can_prompt() {
            return Err(CliError::new(format!(
                "no password source for {what}, and no terminal to ask on"
            ))
            .hint(format!(
                "pass {flag} env:VAR, {flag} file:PATH, {flag} fd:N or {flag} stdin"
            )));
        }
        let ask = |p: &str| {
            rpassword::prompt_password(p)
                .map(Password::new)
                .map_err(|e| CliError::new("cannot read the password from the terminal").cause(e))
        };
        match purpose {
            Purpose::Existing => ask(&format!("Enter password for {what}: ")),
            Purpose::New => {
                // A password too short, or typed differently the second time, is asked
                // for again, up to NEW_PASSWORD_TRIES times.
                let mut problem = String::new();
                for attempt in 1..=NEW_PASSWORD_TRIES {
                    let first = ask(&format!("Enter new password for {what}: "))?;
                    if first.char_len() < MIN_NEW_PASSWORD {
                        problem = format!(
                            "the new password is too short: use at least {MIN_NEW_PASSWORD} characters"
                        );
                    } else {
                        let again = ask(&format!("Verifying - enter new password for {what}: "))?;
                        if first == again {
                            return Ok(first);
                        }
                        problem = "the two passwords do not match".to_owned();
                    }
                    if attempt < NEW_PASSWORD_TRIES {
                        errln!("{problem}; try again");
                    }
                }
                Err(CliError::new(format!(
                    "no new password for {what} after {NEW_PASSWORD_TRIES} tries"
                ))
                .cause(problem)
                .hint(format!(
                    "run the command again; or give the password with {flag} env:VAR, file:PATH, fd:N or stdin"
                )))
            }
        }
    }
}

/// Most bytes read from a `file:`, `fd:` or `stdin` password source (passwords are one
/// line each; this stops `file:/dev/zero` or an endless pipe from eating memory).
pub(super) const MAX_PASSWORD_SOURCE: usize = 64 * 1024;

/// Read a password source whole, up to [`MAX_PASSWORD_SOURCE`] bytes, into a buffer that
/// never reallocates (so no stray copy of a password is left in freed memory).
fn read_bounded(r: impl Read) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(MAX_PASSWORD_SOURCE + 1);
    r.take(MAX_PASSWORD_SOURCE as u64 + 1)
        .read_to_end(&mut buf)?;
    if buf.len() > MAX_PASSWORD_SOURCE {
        wipe(&mut buf);
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("the password source holds more than {MAX_PASSWORD_SOURCE} bytes"),
        ));
    }
    Ok(buf)
}

fn wipe(buf: &mut [u8]) {
    certmint::secret::wipe(buf);
}

fn check_new(pw: &Password, flag: &str) -> CliResult<()> {
    if pw.char_len() < MIN_NEW_PASSWORD {
        return Err(CliError::new(format!(
            "the new password from {flag} is too short: use at least {MIN_NEW_PASSWORD} characters"
        ))
        .hint("choose a longer password (a passphrase of several words is best)"));
    }
    Ok(())
}

fn ordinal(n: usize) -> String {
    match n {
        1 => "first".into(),
        2 => "second".into(),
        3 => "third".into(),
        n => format!("{n}th"),
    }
}

/// True when a prompt can be shown and answered: stdin and stderr are terminals.
pub(super) fn can_prompt() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Read one line from the terminal (for subject prompts); the end of input (Ctrl-D) is
/// an error, not an empty answer.
pub(super) fn prompt_line(label: &str) -> CliResult<String> {
    errprint!("{label}: ");
    let mut s = String::new();
    let n = std::io::stdin()
        .lock()
        .read_line(&mut s)
        .map_err(|e| CliError::new("cannot read from the terminal").cause(e))?;
    if n == 0 {
        errln!();
        return Err(CliError::new("no answer: the terminal input ended"));
    }
    Ok(s.trim_end_matches(['\n', '\r']).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sources() {
        assert!(matches!("pass:x".parse(), Ok(PassSource::Pass(_))));
        assert_eq!(
            "env:A".parse::<PassSource>().unwrap(),
            PassSource::Env("A".into())
        );
        assert_eq!(
            "file:/a".parse::<PassSource>().unwrap(),
            PassSource::File("/a".into())
        );
        assert_eq!("fd:3".parse::<PassSource>().unwrap(), PassSource::Fd(3));
        assert_eq!("stdin".parse::<PassSource>().unwrap(), PassSource::Stdin);
        assert!("fd:x".parse::<PassSource>().is_err());
        assert!("secret".parse::<PassSource>().is_err());
        assert!("env:".parse::<PassSource>().is_err());
        let dbg = format!("{:?}", "pass:hunter2".parse::<PassSource>().unwrap());
        assert!(!dbg.contains("hunter2"));
    }

    #[test]
    fn one_file_serves_two_passwords_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pw");
        std::fs::write(&f, "first-pw\r\nsecond-pw\n").unwrap();
        let src = PassSource::File(f);
        let mut p = Passwords::new();
        let a = p
            .get(Some(&src), "--passin", "k", Purpose::Existing)
            .unwrap();
        let b = p.get(Some(&src), "--passout", "k", Purpose::New).unwrap();
        assert_eq!(a.expose(), "first-pw");
        assert_eq!(b.expose(), "second-pw");
        let err = p
            .get(Some(&src), "--passout", "k", Purpose::New)
            .unwrap_err();
        assert!(err.message.contains("third"), "{}", err.message);
    }

    #[test]
    fn short_new_passwords_are_refused() {
        let mut p = Passwords::new();
        let src = PassSource::Pass(Zeroizing::new("abc".into()));
        assert!(p.get(Some(&src), "--passout", "k", Purpose::New).is_err());
        assert!(
            p.get(Some(&src), "--passin", "k", Purpose::Existing)
                .is_ok()
        );
    }
}
