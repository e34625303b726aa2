//! `certmint completions` and `certmint man`: shell completion scripts and man pages,
//! generated from the same clap definition as `--help`.

use std::path::PathBuf;

use clap::Args;

use super::common::Ctx;
use super::error::{CliError, CliResult};
use super::stdio;

pub(super) const COMPLETIONS_HELP: &str = "\
EXAMPLES:
  $ certmint completions bash \\
      > ~/.local/share/bash-completion/completions/certmint
  $ certmint completions zsh > \"${fpath[1]}/_certmint\"
  $ certmint completions fish > ~/.config/fish/completions/certmint.fish
  $ certmint completions powershell >> $PROFILE

NOTES:
The script completes subcommands and options, file paths where a file is expected, and
the values certmint knows: the choices of --profile, --kdf, --to and the other fixed
lists, and login and test for --login-url and --audience (which take any URL too).

EXIT CODES:
  0  the script was printed
  2  error (unknown shell)";

pub(super) const MAN_HELP: &str = "\
EXAMPLES:
  $ certmint man | man -l -                  # read certmint(1) now
  $ certmint man --out-dir /usr/local/share/man/man1  # and certmint-<command>.1

EXIT CODES:
  0  the page(s) were written
  2  error (directory missing or not writable)";

/// A value parser for a free-form string that offers well-known values to shell
/// completion (`--login-url` completes to `login` and `test`, and still takes any URL).
/// The values are not a limit: the argument's help says what else it takes, and clap's
/// `[possible values: ...]` is hidden (`hide_possible_values`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Suggest(&'static [(&'static str, &'static str)]);

impl clap::builder::TypedValueParser for Suggest {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(self.0.iter().map(|(value, help)| {
            clap::builder::PossibleValue::new(*value).help(*help)
        })))
    }
}

/// The login URLs (and audiences) completion offers.
pub(crate) const LOGIN_URLS: Suggest = Suggest(&[
    (
        "login",
        "https://login.salesforce.com (production, Developer Edition, My Domain)",
    ),
    ("test", "https://test.salesforce.com (sandboxes)"),
]);

#[derive(Args, Debug)]
pub(crate) struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub(crate) struct ManArgs {
    /// Write certmint.1 and one page per subcommand into this directory instead of
    /// printing certmint(1) to stdout.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

pub(super) fn completions(_ctx: &mut Ctx, args: CompletionsArgs) -> CliResult<()> {
    let mut cmd = super::command();
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "certmint", &mut buf);
    stdio::out(&buf)
}

pub(super) fn man(ctx: &mut Ctx, args: ManArgs) -> CliResult<()> {
    let pages = super::help::man_pages(super::command())
        .map_err(|e| CliError::new("cannot render the man pages").cause(e))?;
    match args.out_dir {
        None => match pages.first() {
            Some((_, page)) => stdio::out(page),
            None => Err(CliError::new("cannot render the man page")),
        },
        Some(dir) => {
            for (name, page) in &pages {
                let path = dir.join(name);
                std::fs::write(&path, page)
                    .map_err(|e| CliError::io("cannot write the man page", &path, e))?;
            }
            ctx.say(format!("wrote man pages to {}", super::error::shown(&dir)));
            Ok(())
        }
    }
}
