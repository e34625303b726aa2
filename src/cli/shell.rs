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
