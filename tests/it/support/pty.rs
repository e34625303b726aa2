//! certmint under a pseudo-terminal, for the tests of what it asks on a terminal (password
//! and subject prompts): the binary runs inside `script` from util-linux, which gives it a
//! terminal for stdin, stdout and stderr (and `/dev/tty`, where rpassword reads), forwards
//! what the test writes to it, and copies everything the terminal shows to the test.
//!
//! `script` was chosen over a dev-dependency (`expectrl`, `rexpect`): util-linux is already
//! required by the tests (`unshare`), it needs no `unsafe` `setsid`/`TIOCSCTTY` dance in the
//! test binary, and nothing new has to pass `cargo deny`. It is required like every peer:
//! missing, the test fails, never skips.
//!
//! ```ignore
//! let mut t = Pty::spawn(&["init", "acme", "--cn", "x"], &[], None);
//! t.expect("Enter new password").send_line("correct horse");
//! t.expect("Verifying").send_line("correct horse");
//! let (status, transcript) = t.finish();
//! ```

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use super::{BIN, require};

/// How long [`Pty::expect`] waits for a text before the test fails.
const EXPECT_TIMEOUT: Duration = Duration::from_secs(60);

/// A certmint process on a pseudo-terminal.
pub(crate) struct Pty {
    child: Child,
    stdin: Option<ChildStdin>,
    output: Receiver<Vec<u8>>,
    /// Everything the terminal showed so far (`\r` removed).
    transcript: String,
    /// How much of the transcript earlier `expect`s consumed.
    seen: usize,
}

impl Pty {
    /// Run `certmint ARGS` on a new terminal, with `envs` added to a clean environment (as
    /// [`super::certmint`]: no `CERTMINT_PASS`, `NO_COLOR`, a UTF-8 locale) and in `cwd`.
    pub(crate) fn spawn(args: &[&str], envs: &[(&str, &str)], cwd: Option<&Path>) -> Pty {
        require_script();
        let mut words = vec![BIN];
        words.extend_from_slice(args);
        let command = shlex::try_join(words).expect("arguments without NUL bytes");
        let mut c = Command::new("script");
        // -q: no "Script started" lines; -e: the child's exit status; -c: the command;
        // /dev/null: no typescript file.
        c.args(["-q", "-e", "-c", &command, "/dev/null"])
            .env_remove("CERTMINT_PASS")
            .env("NO_COLOR", "1")
            .env("LC_ALL", "C.UTF-8")
            .env("SHELL", "/bin/sh")
            .env("TERM", "dumb")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in envs {
            c.env(k, v);
        }
        if let Some(dir) = cwd {
            c.current_dir(dir);
        }
        let mut child = c.spawn().expect("start script(1)");
        let stdin = child.stdin.take();
        let (tx, output) = channel();
        for mut stream in [
            Box::new(child.stdout.take().expect("piped stdout")) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().expect("piped stderr")),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            });
        }
        Pty {
            child,
            stdin,
            output,
            transcript: String::new(),
            seen: 0,
        }
    }

    fn take(&mut self, chunk: &[u8]) {
        self.transcript
            .push_str(&String::from_utf8_lossy(chunk).replace('\r', ""));
    }

    /// Wait until the terminal shows `text` (after what earlier calls matched); fail the
    /// test with the transcript when it does not within a minute or the process ends.
    pub(crate) fn expect(&mut self, text: &str) -> &mut Self {
        let deadline = Instant::now() + EXPECT_TIMEOUT;
        loop {
            if let Some(at) = self.transcript[self.seen..].find(text) {
                self.seen += at + text.len();
                return self;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(chunk) => self.take(&chunk),
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "no `{text}` on the terminal in time; it showed:\n{}",
                        self.transcript
                    )
                }
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "certmint ended without showing `{text}`; it showed:\n{}",
                    self.transcript
                ),
            }
        }
    }

    /// Type `line` and Enter. A short pause first lets the program that printed the prompt
    /// turn echo off before the text arrives (rpassword prints, then hides the input).
    pub(crate) fn send_line(&mut self, line: &str) -> &mut Self {
        std::thread::sleep(Duration::from_millis(150));
        let stdin = self.stdin.as_mut().expect("the terminal is still open");
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| stdin.flush())
            .expect("type on the terminal");
        self
    }

    /// Wait for the process to end (at most a minute more); its exit status and the whole
    /// transcript of the terminal.
    pub(crate) fn finish(mut self) -> (ExitStatus, String) {
        let deadline = Instant::now() + EXPECT_TIMEOUT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for script(1)") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "certmint did not end; the terminal showed:\n{}",
                    self.transcript
                );
            }
            while let Ok(chunk) = self.output.try_recv() {
                self.take(&chunk);
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // The readers end when script's pipes close.
        while let Ok(chunk) = self.output.recv_timeout(Duration::from_secs(5)) {
            self.take(&chunk);
        }
        drop(self.stdin.take());
        (status, self.transcript)
    }
}

/// `script` from util-linux is required (never skipped).
fn require_script() {
    require("script");
}
