//! The text after each command's options (`after_long_help`): in the terminal and in the
//! man pages, with its examples verbatim.
//!
//! The text of every `AFTER_HELP` constant follows three rules, so that one source serves
//! `--help` at any terminal width and `certmint man`:
//! - a *heading* is an unindented line in capitals ending with `:` (`EXAMPLES:`);
//! - a *verbatim* line is indented (examples, exit codes, tables): it is printed as
//!   written, never wrapped nor hyphenated, so a command copied from it runs;
//! - any other line is *prose*: consecutive prose lines form one paragraph, wrapped to
//!   the terminal (or filled by the man page formatter).
//!
//! clap wraps `after_long_help` to the terminal width as a whole, which would split long
//! example lines. So before parsing, [`for_terminal`] joins each paragraph into one line
//! (for clap to wrap) and replaces each verbatim line with a marker (a word clap leaves
//! alone); when clap hands back the help text, [`print_clap_error`] puts the verbatim lines
//! back. The man pages ([`man_page`]) turn headings into sections, paragraphs into filled
//! paragraphs and verbatim lines into unfilled blocks, with hyphenation off.

use std::io::Write;

use clap_mangen::roff::{Roff, roman};

use super::error::ExitStatus;

/// One piece of an after-help text.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Block<'a> {
    /// `EXAMPLES:` (without the colon).
    Heading(&'a str),
    /// One paragraph, its lines joined with single spaces.
    Paragraph(String),
    /// Consecutive indented lines, as written.
    Verbatim(Vec<&'a str>),
    /// An empty line.
    Blank,
}

fn is_heading(line: &str) -> bool {
    !line.starts_with(' ')
        && line.ends_with(':')
        && line.chars().any(|c| c.is_ascii_uppercase())
        && !line.chars().any(|c| c.is_lowercase())
}

/// Split an after-help text into its blocks.
pub(crate) fn blocks(text: &str) -> Vec<Block<'_>> {
    let mut out: Vec<Block<'_>> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            out.push(Block::Blank);
        } else if line.starts_with(' ') {
            match out.last_mut() {
                Some(Block::Verbatim(lines)) => lines.push(line),
                _ => out.push(Block::Verbatim(vec![line])),
            }
        } else if is_heading(line) {
            out.push(Block::Heading(line.trim_end_matches(':')));
        } else {
            match out.last_mut() {
                Some(Block::Paragraph(p)) => {
                    p.push(' ');
                    p.push_str(line);
                }
                _ => out.push(Block::Paragraph(line.to_owned())),
            }
        }
    }
    out
}

/// The verbatim lines taken out of the help texts by [`for_terminal`], by marker number.
#[derive(Debug, Default)]
pub(crate) struct Verbatim(Vec<String>);

const MARK: &str = "@@certmint-verbatim-";

impl Verbatim {
    fn marker(&mut self, line: &str) -> String {
        self.0.push(line.to_owned());
        format!("{MARK}{}@@", self.0.len() - 1)
    }

    /// `text` with every marker line replaced by its verbatim line.
    fn restore(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() * 2);
        for line in text.split_inclusive('\n') {
            let body = line.trim_end_matches('\n');
            let index = body
                .trim()
                .strip_prefix(MARK)
                .and_then(|rest| rest.strip_suffix("@@"))
                .and_then(|n| n.parse::<usize>().ok());
            match index.and_then(|i| self.0.get(i)) {
                Some(verbatim) => {
                    out.push_str(verbatim);
                    out.push_str(&line[body.len()..]);
                }
                None => out.push_str(line),
            }
        }
        out
    }
}

/// The after-help text as clap should get it for the terminal: paragraphs on one line
/// each (clap wraps them), verbatim lines replaced by markers kept in `verbatim`.
fn terminal_text(text: &str, verbatim: &mut Verbatim) -> String {
    let mut out = Vec::new();
    for block in blocks(text) {
        match block {
            Block::Heading(h) => out.push(format!("{h}:")),
            Block::Paragraph(p) => out.push(p),
            Block::Verbatim(lines) => out.extend(lines.iter().map(|l| verbatim.marker(l))),
            Block::Blank => out.push(String::new()),
        }
    }
    out.join("\n")
}

/// The command tree with every after-help text prepared for the terminal (see the module
/// documentation), and the verbatim lines to put back into clap's output.
pub(crate) fn for_terminal(cmd: clap::Command) -> (clap::Command, Verbatim) {
    fn prepare(cmd: clap::Command, verbatim: &mut Verbatim) -> clap::Command {
        let mut cmd = match cmd.get_after_long_help().map(|h| h.to_string()) {
            Some(text) => {
                let prepared = terminal_text(&text, verbatim);
                cmd.after_long_help(prepared)
            }
            None => cmd,
        };
        let names: Vec<String> = cmd
            .get_subcommands()
            .map(|s| s.get_name().to_owned())
            .collect();
        for name in names {
            cmd = cmd.mut_subcommand(name, |sub| prepare(sub, verbatim));
        }
        cmd
    }
    let mut verbatim = Verbatim::default();
    let cmd = prepare(cmd, &mut verbatim);
    (cmd, verbatim)
}

/// Print what clap returned instead of arguments (help, version, a usage error) with the
/// verbatim lines restored, in colour where clap would use it; the exit status to end with.
pub(crate) fn print_clap_error(e: &clap::Error, verbatim: &Verbatim) -> ExitStatus {
    let text = verbatim.restore(&e.render().ansi().to_string());
    // help and version are successes; usage errors go to stderr.
    let status = if e.use_stderr() {
        ExitStatus::Error
    } else {
        ExitStatus::Success
    };
    // Like clap, ignore a failure to write: there is nowhere left to report it.
    let _ = if e.use_stderr() {
        let mut w = anstream::AutoStream::auto(std::io::stderr().lock());
        w.write_all(text.as_bytes()).and_then(|()| w.flush())
    } else {
        let mut w = anstream::AutoStream::auto(std::io::stdout().lock());
        w.write_all(text.as_bytes()).and_then(|()| w.flush())
    };
    status
}

/// The after-help text as man page sections: `.SH` for each heading, filled paragraphs,
/// and unfilled (`.nf`) blocks for the verbatim lines, indented.
fn man_sections(text: &str, roff: &mut Roff) {
    for block in blocks(text) {
        match block {
            Block::Heading(h) => {
                roff.control("SH", [h]);
            }
            Block::Paragraph(p) => {
                roff.control("PP", []);
                roff.text([roman(p)]);
            }
            Block::Verbatim(lines) => {
                let indent = lines
                    .iter()
                    .map(|l| l.len() - l.trim_start().len())
                    .min()
                    .unwrap_or(0);
                roff.control("PP", []);
                roff.control("RS", ["2"]);
                roff.control("nf", []);
                for line in &lines {
                    roff.text([roman(line.get(indent..).unwrap_or(line))]);
                }
                roff.control("fi", []);
                roff.control("RE", []);
            }
            Block::Blank => {}
        }
    }
}

/// The man page of one (built) command: clap_mangen's page without its EXTRA section,
/// with hyphenation off, and the after-help sections before VERSION.
pub(crate) fn man_page(cmd: &clap::Command) -> std::io::Result<Vec<u8>> {
    let after = cmd.get_after_long_help().map(|h| h.to_string());
    let mut plain = Vec::new();
    clap_mangen::Man::new(
        cmd.clone()
            .after_long_help(None::<&str>)
            .after_help(None::<&str>),
    )
    .render(&mut plain)?;
    let page = String::from_utf8_lossy(&plain);
    let mut sections = Roff::new();
    if let Some(text) = &after {
        man_sections(text, &mut sections);
    }
    // to_roff: without a second copy of the apostrophe preamble, which the page has; an
    // apostrophe stays the ASCII one (`\*(Aq`) so that a quoted argument copies right.
    let sections = sections.to_roff().replace('\'', "\\*(Aq");
    let mut out = String::with_capacity(page.len() + sections.len() + 8);
    for line in page.split_inclusive('\n') {
        if line.starts_with(".SH VERSION") {
            out.push_str(&sections);
        }
        out.push_str(line);
        // No hyphenation: groff would break `--username` as `--user‐name` (U+2010), and
        // an option copied from the page must stay whole.
        // Left-adjusted: no stretched spaces between words.
        if line.starts_with(".TH ") {
            out.push_str(".nh\n.ad l\n");
        }
    }
    if !page.contains("\n.SH VERSION") {
        out.push_str(&sections);
    }
    Ok(out.into_bytes())
}

/// Every page: `certmint.1` and `certmint-<command>.1` (not `help`), as (file name, bytes).
pub(crate) fn man_pages(cmd: clap::Command) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    fn collect(cmd: &clap::Command, out: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
        let name = cmd.get_display_name().unwrap_or_else(|| cmd.get_name());
        out.push((format!("{name}.1"), man_page(cmd)?));
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            collect(sub, out)?;
        }
        Ok(())
    }
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    let mut out = Vec::new();
    collect(&cmd, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
EXAMPLES:
  $ certmint key --out k --passout env:P \\
      --bits 4096
  $ certmint key --out k

Prose that goes on
over two lines.
  $ openssl pkey -in k

EXIT CODES:
  0  success";

    #[test]
    fn blocks_follow_the_three_rules() {
        assert_eq!(
            blocks(TEXT),
            vec![
                Block::Heading("EXAMPLES"),
                Block::Verbatim(vec![
                    "  $ certmint key --out k --passout env:P \\",
                    "      --bits 4096",
                    "  $ certmint key --out k",
                ]),
                Block::Blank,
                Block::Paragraph("Prose that goes on over two lines.".into()),
                Block::Verbatim(vec!["  $ openssl pkey -in k"]),
                Block::Blank,
                Block::Heading("EXIT CODES"),
                Block::Verbatim(vec!["  0  success"]),
            ]
        );
    }

    #[test]
    fn markers_come_back_as_the_verbatim_lines() {
        let mut v = Verbatim::default();
        let prepared = terminal_text(TEXT, &mut v);
        assert!(!prepared.contains("$ certmint"), "{prepared}");
        assert!(prepared.contains("Prose that goes on over two lines."));
        let wrapped = prepared.replace("Prose that goes on ", "Prose that goes on\n");
        let back = v.restore(&wrapped);
        assert!(back.contains("  $ certmint key --out k --passout env:P \\\n      --bits 4096\n"));
        assert!(back.ends_with("  0  success"), "{back}");
    }

    #[test]
    fn man_sections_are_unfilled_for_verbatim_lines() {
        let mut roff = Roff::new();
        man_sections(TEXT, &mut roff);
        let page = roff.to_roff();
        assert!(page.starts_with(".SH EXAMPLES\n.PP\n.RS 2\n.nf\n$ certmint key \\-\\-out k \\-\\-passout env:P \\\\\n    \\-\\-bits 4096\n"), "{page}");
        assert!(page.contains(".SH \"EXIT CODES\"\n"), "{page}");
        assert!(page.contains(".fi\n.RE\n"), "{page}");
    }

    /// Every help text of every command follows the rules: a heading first, and no
    /// verbatim line wider than 80 columns (so that nothing wraps in an 80-column terminal).
    #[test]
    fn every_help_text_fits_80_columns_and_starts_with_a_heading() {
        fn walk(cmd: &clap::Command, path: &str) {
            if let Some(text) = cmd.get_after_long_help().map(|h| h.to_string()) {
                let b = blocks(&text);
                assert!(
                    matches!(b.first(), Some(Block::Heading(_))),
                    "{path}: the after-help must start with a heading"
                );
                for block in &b {
                    if let Block::Verbatim(lines) = block {
                        for line in lines {
                            assert!(
                                line.chars().count() <= 80,
                                "{path}: verbatim line wider than 80 columns:\n{line}"
                            );
                        }
                    }
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()));
            }
        }
        walk(&super::super::command(), "certmint");
    }
}
