//! The one way the binary writes to standard output and standard error.
//!
//! `println!` and `eprintln!` panic when their stream is closed, and a panic exits 101:
//! `certmint check -v DIR | head -1` could end that way. Here a closed standard output
//! (`BrokenPipe`: the reader has all it wanted) stops the command as a success: [`out`]
//! returns [`CliError::stdout_closed`], which `?` carries up to `main`, which prints nothing
//! more and exits 0. Any other failure to write standard output (a full disk behind
//! `> file`) is an error, exit 2. Standard error is talk: a failure to write it is ignored,
//! as there is nowhere left to report it.
//!
//! `clippy::print_stdout` and `clippy::print_stderr` (Cargo.toml) keep `println!` and
//! `eprintln!` out of the code; use [`out`], [`outln!`], [`Lines`], [`errln!`] and
//! [`errprint!`]. (clap prints help, version and usage errors itself, ignoring write
//! errors, so those never panic either.)

use std::fmt;
use std::io::{self, Write};

use super::error::{CliError, CliResult};

/// Write `bytes` to standard output and flush them.
pub(crate) fn out(bytes: &[u8]) -> CliResult<()> {
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(stdout_error)
}

/// Standard output for lines written as they become ready (`mint --usernames`):
/// buffered; after the first failure nothing more is written, and [`Lines::finish`]
/// returns it.
pub(crate) struct Lines {
    out: io::BufWriter<io::StdoutLock<'static>>,
    failure: Option<io::Error>,
}

impl Lines {
    pub(crate) fn new() -> Self {
        Lines {
            out: io::BufWriter::new(io::stdout().lock()),
            failure: None,
        }
    }

    /// Write one line (unless a write has failed).
    pub(crate) fn line(&mut self, text: &str) {
        if self.failure.is_none()
            && let Err(e) = writeln!(self.out, "{text}")
        {
            self.failure = Some(e);
        }
    }

    /// Flush what is buffered; false once a write has failed.
    pub(crate) fn flush(&mut self) -> bool {
        if self.failure.is_none()
            && let Err(e) = self.out.flush()
        {
            self.failure = Some(e);
        }
        self.failure.is_none()
    }

    /// Flush, and return the first failure (see [`stdout_error`]).
    pub(crate) fn finish(mut self) -> CliResult<()> {
        self.flush();
        match self.failure.take() {
            None => Ok(()),
            Some(e) => Err(stdout_error(e)),
        }
    }
}

/// The error for a failed write to standard output: a closed pipe ends the command as a
/// success, anything else is an error.
pub(crate) fn stdout_error(e: io::Error) -> CliError {
    if e.kind() == io::ErrorKind::BrokenPipe {
        CliError::stdout_closed()
    } else {
        CliError::new("cannot write to standard output").cause(e)
    }
}

/// Write to standard error, ignoring failures (used by [`errln!`] and [`errprint!`]).
pub(crate) fn err_fmt(args: fmt::Arguments<'_>) {
    let _ = io::stderr().lock().write_fmt(args);
}

/// `println!` that returns `CliResult<()>` (see [`out`]).
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::stdio::out(format!("{}\n", format_args!($($arg)*)).as_bytes())
    };
}

/// `eprintln!` that never panics.
macro_rules! errln {
    () => {
        $crate::cli::stdio::err_fmt(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::stdio::err_fmt(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprint!` that never panics.
macro_rules! errprint {
    ($($arg:tt)*) => {
        $crate::cli::stdio::err_fmt(format_args!($($arg)*))
    };
}

pub(crate) use {errln, errprint, outln};
