//! The help and the man pages show their examples verbatim (issue 12, item 9): at any
//! terminal width no example is split, and the man pages have an unfilled EXAMPLES
//! section without hyphenation, so that a command copied from either runs.

use std::path::Path;
use std::process::Command;

use crate::docs::{check, extract};
use crate::support::*;

/// `certmint help <command>` (or `certmint --help` for `None`) at `columns` columns.
fn help_at(command: Option<&str>, columns: u32) -> String {
    let mut c = Command::new(BIN);
    match command {
        Some(name) => c.args(["help", name]),
        None => c.arg("--help"),
    };
    let out = c
        .env("NO_COLOR", "1")
        .env("COLUMNS", columns.to_string())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// A heading of the text after the options: `EXAMPLES:`, `EXIT CODES:`.
fn is_heading(line: &str) -> bool {
    !line.starts_with(' ')
        && line.ends_with(':')
        && line.chars().any(|c| c.is_ascii_uppercase())
        && !line.chars().any(|c| c.is_lowercase())
}

/// The lines of the EXAMPLES section (up to the next heading).
fn examples(help: &str) -> Vec<&str> {
    let mut lines = help.lines().skip_while(|l| *l != "EXAMPLES:").skip(1);
    let mut out = Vec::new();
    for line in lines.by_ref() {
        if is_heading(line) {
            break;
        }
        out.push(line);
    }
    out
}

/// Every indented line after the options (examples, exit codes, tables): these are
/// printed as written.
fn verbatim_lines(help: &str) -> Vec<&str> {
    help.lines()
        .skip_while(|l| !is_heading(l))
        .filter(|l| l.starts_with(' '))
        .collect()
}

fn commands() -> Vec<Option<String>> {
    std::iter::once(None)
        .chain(subcommands().into_iter().map(Some))
        .collect()
}

#[test]
fn help_examples_are_verbatim_at_80_and_200_columns() {
    let cwd = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    for command in commands() {
        let name = command.as_deref().unwrap_or("certmint");
        let narrow = help_at(command.as_deref(), 80);
        let wide = help_at(command.as_deref(), 200);
        let examples_80 = examples(&narrow);
        assert!(
            examples_80.iter().any(|l| l.trim_start().starts_with("$ ")),
            "{name}: no EXAMPLES section with commands:\n{narrow}"
        );
        // The same lines at both widths: nothing was reflowed.
        assert_eq!(
            verbatim_lines(&narrow),
            verbatim_lines(&wide),
            "{name}: the verbatim lines differ between 80 and 200 columns"
        );
        for line in narrow.lines() {
            assert!(
                line.chars().count() <= 80,
                "{name}: a line wider than 80 columns:\n{line}"
            );
        }
        // A continuation line never stands alone: the line before it ends with `\`.
        for pair in examples_80.windows(2) {
            let continues = pair[1].starts_with("      ") && !pair[1].trim().starts_with('#');
            if continues {
                assert!(
                    pair[0].ends_with('\\'),
                    "{name}: a command split over two lines:\n{}\n{}",
                    pair[0],
                    pair[1]
                );
            }
        }
        // Every example command is complete: clap accepts it.
        let (found, errors) = extract(&format!("help {name}"), &examples_80.join("\n"));
        failures.extend(errors);
        for inv in &found {
            checked += 1;
            if let Err(e) = check(inv, cwd.path()) {
                failures.push(e);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 60, "only {checked} example commands found");
}

/// The short help stays short: the examples are in `--help` only.
#[test]
fn short_help_has_no_examples() {
    let out = certmint().args(["key", "-h"]).output().unwrap();
    let text = texts(&out).0;
    assert!(!text.contains("EXAMPLES:"), "{text}");
    assert!(text.contains("see more with '--help'"), "{text}");
}

/// A man page formatted as `man` shows it: plain UTF-8 text, no overstriking.
fn groff(page: &Path) -> String {
    require("groff");
    let out = Command::new("groff")
        .args(["-man", "-Tutf8", "-P-cbu"])
        .arg(page)
        .env("LC_ALL", "C.UTF-8")
        .output()
        .expect("run groff");
    assert!(out.status.success(), "groff: {}", stderr(&out));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn man_pages_have_unfilled_examples_without_hyphenation() {
    let dir = tempfile::tempdir().unwrap();
    certmint()
        .args(["man", "--out-dir", p(dir.path())])
        .assert()
        .success();
    for command in commands() {
        let (page, help) = match &command {
            None => ("certmint.1".to_string(), help_at(None, 80)),
            Some(name) => (format!("certmint-{name}.1"), help_at(Some(name), 80)),
        };
        let source = std::fs::read_to_string(dir.path().join(&page)).unwrap();
        assert!(source.contains("\n.SH EXAMPLES\n"), "{page}: no EXAMPLES");
        assert!(source.contains("\n.nf\n"), "{page}: no unfilled block");
        assert!(source.contains("\n.nh\n"), "{page}: hyphenation is on");
        assert!(!source.contains(".SH EXTRA"), "{page}: an EXTRA section");
        let shown = groff(&dir.path().join(&page));
        assert!(
            !shown.contains('\u{2010}'),
            "{page}: U+2010 HYPHEN in the formatted page:\n{shown}"
        );
        let shown_lines: Vec<&str> = shown.lines().map(str::trim).collect();
        for line in verbatim_lines(&help) {
            assert!(
                shown_lines.contains(&line.trim()),
                "{page}: `{}` is not a line of the formatted page:\n{shown}",
                line.trim()
            );
        }
    }
}

/// `certmint man` (no directory) prints certmint(1), with the recipe as EXAMPLES.
#[test]
fn man_prints_the_top_page() {
    let out = certmint().arg("man").output().unwrap();
    assert!(out.status.success());
    let page = texts(&out).0;
    assert!(page.starts_with(".ie \\n(.g .ds Aq"), "{page}");
    assert!(page.contains(".TH certmint 1"), "{page}");
    assert!(page.contains(".SH EXAMPLES\n"), "{page}");
    assert!(page.contains("$ certmint init acme\\-jwt"), "{page}");
}
