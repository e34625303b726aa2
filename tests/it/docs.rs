//! The documentation's command lines are real: every `certmint ...` command shown in
//! docs/*.md and README.md must get through the binary's argument parser, every
//! subcommand must be documented somewhere, and relative links must reach an existing
//! file and heading.
//!
//! What counts as a command:
//! - a line starting with `$ ` (a `console` prompt), anywhere in a document;
//! - every line of a fenced block marked `sh`, `bash`, `shell`, `yaml`, `yml`, `ini`,
//!   `systemd` or `crontab` (CI snippets, unit files and cron lines), with `- `, `run:` and
//!   `script:` prefixes and a crontab schedule removed.
//!
//! Lines are joined at a trailing `\`, split into words with shell rules (the `shlex`
//! crate), cut at `|`, `||`, `&&`, `;` and `&`, stripped of redirections (`> f`, `2>&1`,
//! `3<f`), and `<(...)` / `$(...)` groups become one dummy word. In each piece, the word
//! `certmint` (or a path ending in it), after any `NAME=value` assignments, starts an
//! invocation. In `ini`/`systemd` blocks only `Exec*=` lines count. A placeholder written `<like this>` becomes the
//! word `PLACEHOLDER`, so the flags around it are still checked.
//!
//! How an invocation is checked: the binary runs with the documented arguments plus
//! `--help`. clap parses every argument before it acts on `--help`, so an unknown flag or
//! subcommand, a surplus positional argument or an invalid value (`--profile modrn`,
//! `--passin bogus:x`, `--retry abc`) exits 2, while file arguments need not exist and
//! nothing is written (checked in `help_after_the_arguments_still_validates_them`).
//! Missing required arguments and conflicting flags are only checked when the command
//! really runs, which this test does not do. `certmint help CMD` runs as written.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::{BIN, subcommands};

/// Fence info strings whose every line is a shell command (or holds one).
const SCRIPT_FENCES: &[&str] = &[
    "sh", "bash", "shell", "yaml", "yml", "ini", "systemd", "crontab",
];

/// One `certmint` invocation found in a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invocation {
    /// Where: `docs/x.md:12`.
    pub(crate) place: String,
    /// The arguments after `certmint`.
    pub(crate) args: Vec<String>,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and docs/*.md, sorted, with their text.
fn documents() -> Vec<(String, String)> {
    let root = repo();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("read docs/")
        .map(|e| e.expect("read docs/ entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    paths.sort();
    paths.insert(0, root.join("README.md"));
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
            let name = p
                .strip_prefix(&root)
                .unwrap_or(&p)
                .to_string_lossy()
                .into_owned();
            (name, text)
        })
        .collect()
}

/// The command lines of a markdown document: (line number, text), continuations joined.
fn command_lines(markdown: &str) -> Vec<(usize, String)> {
    let lines: Vec<&str> = markdown.lines().collect();
    let mut out = Vec::new();
    let mut fence: Option<String> = None;
    let mut i = 0;
    while i < lines.len() {
        let trimmed = lines[i].trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fence = match fence {
                Some(_) => None,
                None => Some(
                    trimmed
                        .trim_start_matches(['`', '~'])
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_ascii_lowercase(),
                ),
            };
            i += 1;
            continue;
        }
        let script = fence.as_deref().is_some_and(|f| SCRIPT_FENCES.contains(&f));
        let start = if let Some(rest) = trimmed.strip_prefix("$ ") {
            Some(rest.to_string())
        } else if script {
            Some(trimmed.to_string())
        } else {
            None
        };
        let first = i + 1;
        i += 1;
        let Some(mut text) = start else { continue };
        while text.ends_with('\\') && i < lines.len() {
            text.pop();
            text.push(' ');
            text.push_str(lines[i].trim());
            i += 1;
        }
        let text = match fence.as_deref() {
            Some("crontab") => strip_cron_schedule(&text),
            Some("ini" | "systemd") => systemd_exec(&text),
            _ => Some(strip_script_prefix(&text)),
        };
        let Some(text) = text else { continue };
        out.push((first, text));
    }
    out
}

/// `- run: certmint ...` → `certmint ...` (YAML list items and keys).
fn strip_script_prefix(line: &str) -> String {
    let mut s = line.trim();
    if let Some(rest) = s.strip_prefix("- ") {
        s = rest.trim_start();
    }
    for key in ["run:", "script:"] {
        if let Some(rest) = s.strip_prefix(key) {
            s = rest.trim_start();
        }
    }
    s.to_string()
}

/// A crontab line without its schedule; None for comments and variable settings.
fn strip_cron_schedule(line: &str) -> Option<String> {
    let s = line.trim();
    if s.is_empty() || s.starts_with('#') {
        return None;
    }
    let fields = if s.starts_with('@') { 1 } else { 5 };
    let mut rest = s;
    for _ in 0..fields {
        let (_, tail) = rest.split_once(char::is_whitespace)?;
        rest = tail.trim_start();
    }
    Some(rest.to_string())
}

/// The command of a systemd `ExecStart=` (or other `Exec*=`) line; None for other lines.
fn systemd_exec(line: &str) -> Option<String> {
    let (key, value) = line.trim().split_once('=')?;
    key.trim().starts_with("Exec").then(|| {
        value
            .trim()
            .trim_start_matches(['-', '@', '+', '!', ':'])
            .to_string()
    })
}

/// `<consumer key>` → `PLACEHOLDER`: a `<` followed by a letter, up to the next `>`.
fn replace_placeholders(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('<') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let starts_word = after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic());
        match after.find(['>', '<']) {
            Some(end) if starts_word && after.as_bytes()[end] == b'>' => {
                out.push_str("PLACEHOLDER");
                rest = &after[end + 1..];
            }
            _ => {
                out.push('<');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn is_separator(word: &str) -> bool {
    matches!(word, "|" | "||" | "&&" | ";" | "&" | "|&")
}

/// `>`, `>>`, `<`, `2>`, `&>`: a redirection whose target is the next word.
fn is_bare_redirection(word: &str) -> bool {
    let w = word.trim_start_matches(|c: char| c.is_ascii_digit());
    matches!(w, ">" | ">>" | "<" | "&>" | "&>>" | ">|")
}

/// `2>&1`, `>/dev/null`, `3<pw.txt`: a redirection with its target attached.
fn is_attached_redirection(word: &str) -> bool {
    let w = word.trim_start_matches(|c: char| c.is_ascii_digit());
    (w.starts_with('>') || w.starts_with('<') || w.starts_with("&>")) && !w.starts_with("<(")
}

fn is_certmint(word: &str) -> bool {
    Path::new(word).file_name().is_some_and(|n| n == "certmint")
}

/// `NAME=value` with a shell variable name.
fn is_assignment(word: &str) -> bool {
    let Some((name, _)) = word.split_once('=') else {
        return false;
    };
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The `certmint` invocations in one command line.
fn invocations(text: &str) -> Result<Vec<Vec<String>>, String> {
    let words = shlex::split(&replace_placeholders(text))
        .ok_or_else(|| "unbalanced quotes or a trailing backslash".to_string())?;
    // `<(...)` and `$(...)` become one dummy word.
    let mut flat = Vec::new();
    let mut depth = 0usize;
    for w in words {
        if depth > 0 {
            depth += w.matches('(').count();
            depth = depth.saturating_sub(w.matches(')').count());
            continue;
        }
        if w.starts_with("<(") || w.starts_with("$(") {
            depth = w
                .matches('(')
                .count()
                .saturating_sub(w.matches(')').count());
            flat.push("/dev/fd/63".to_string());
        } else {
            flat.push(w);
        }
    }
    let mut found = Vec::new();
    for piece in flat.split(|w| is_separator(w)) {
        let mut words = Vec::new();
        let mut skip_next = false;
        for w in piece {
            if skip_next {
                skip_next = false;
            } else if is_bare_redirection(w) {
                skip_next = true;
            } else if !is_attached_redirection(w) {
                words.push(w.clone());
            }
        }
        // Skip `NAME=value` assignments and command prefixes, then expect `certmint`.
        let mut iter = words.into_iter();
        while let Some(w) = iter.next() {
            if is_certmint(&w) {
                found.push(iter.collect());
                break;
            }
            let prefix = matches!(w.as_str(), "sudo" | "exec" | "env" | "nohup" | "time");
            if !prefix && !is_assignment(&w) {
                break;
            }
        }
    }
    Ok(found)
}

/// Every invocation in a document (or in help text: its `$ ` lines); errors for lines that
/// cannot be split.
pub(crate) fn extract(name: &str, markdown: &str) -> (Vec<Invocation>, Vec<String>) {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for (line, text) in command_lines(markdown) {
        let place = format!("{name}:{line}");
        match invocations(&text) {
            Ok(list) => found.extend(list.into_iter().map(|args| Invocation {
                place: place.clone(),
                args,
            })),
            Err(e) if text.contains("certmint") => errors.push(format!("{place}: {e}: {text}")),
            Err(_) => {}
        }
    }
    (found, errors)
}

/// Run the binary on a documented invocation (plus `--help`); Err with clap's complaint.
pub(crate) fn check(inv: &Invocation, cwd: &Path) -> Result<(), String> {
    let mut args = inv.args.clone();
    if args.first().map(String::as_str) != Some("help") {
        args.push("--help".into());
    }
    let out = Command::new(BIN)
        .args(&args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run certmint");
    if out.status.success() && !out.stdout.is_empty() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    Err(format!(
        "{}: `certmint {}` is not accepted ({}): {first}",
        inv.place,
        inv.args.join(" "),
        out.status
    ))
}

#[test]
fn every_documented_command_is_accepted() {
    let cwd = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    let mut count = 0;
    for (name, text) in documents() {
        let (found, errors) = extract(&name, &text);
        failures.extend(errors);
        for inv in &found {
            count += 1;
            if let Err(e) = check(inv, cwd.path()) {
                failures.push(e);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} documented commands are wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        count >= 50,
        "only {count} certmint commands found in the docs: is the extraction broken?"
    );
    // Nothing was written by `--help`.
    let left: Vec<_> = std::fs::read_dir(cwd.path())
        .expect("read temp dir")
        .collect();
    assert!(left.is_empty(), "--help runs wrote files: {left:?}");
}

/// Whether `text` holds `certmint NAME` as whole words.
fn mentions(text: &str, name: &str) -> bool {
    let needle = format!("certmint {name}");
    text.match_indices(&needle).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + needle.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-')
            && !after.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-')
    })
}

#[test]
fn every_subcommand_is_documented() {
    let names = subcommands();
    assert!(
        names.len() >= 15 && names.iter().any(|n| n == "mint"),
        "could not read the subcommands from `certmint --help`: {names:?}"
    );
    let docs = documents();
    let missing: Vec<_> = names
        .iter()
        .filter(|n| !docs.iter().any(|(_, text)| mentions(text, n)))
        .collect();
    assert!(
        missing.is_empty(),
        "subcommands that no document (README.md, docs/*.md) mentions as `certmint NAME`: {missing:?}"
    );
}

// The assumption the check rests on, verified: arguments before `--help` are parsed.
crate::support::cases!(
    /// Accepted: real flags, files that do not exist, values clap need not see as files.
    help_after_the_arguments_accepts {
        mint_dir_generation_retry => help_after_the_arguments(
            "certmint mint --dir acme-jwt --generation g2 --retry 900",
            true
        ),
        p12_missing_files => help_after_the_arguments(
            "certmint p12 --cert missing.crt --key missing.key --out x.p12 --profile java8",
            true
        ),
        rotate_activate => help_after_the_arguments("certmint rotate acme-jwt --activate g1", true),
        check_warn_days_json => help_after_the_arguments(
            "certmint check acme-jwt --warn-days 45 --json",
            true
        ),
        help_rotate => help_after_the_arguments("certmint help rotate", true),
    }
);

crate::support::cases!(
    /// Refused: each has one mistake.
    help_after_the_arguments_still_validates_them {
        typoed_flag => help_after_the_arguments("certmint mint --dir acme-jwt --retyr 900", false),
        invalid_number => help_after_the_arguments("certmint mint --dir acme-jwt --retry soon", false),
        typoed_subcommand => help_after_the_arguments("certmint rotaet acme-jwt", false),
        unknown_value => help_after_the_arguments(
            "certmint p12 --cert a --key b --out c --profile java9",
            false
        ),
        bad_password_source => help_after_the_arguments(
            "certmint jks --cert a --key b --out c --passout bogus:x",
            false
        ),
        surplus_positional => help_after_the_arguments("certmint init acme-jwt extra", false),
        unknown_shell => help_after_the_arguments("certmint completions tcsh", false),
        unknown_help_topic => help_after_the_arguments("certmint help nosuch", false),
    }
);

/// Check `line` (a documented command line) as the docs test does: accepted or refused as
/// `accepted` says, and nothing written.
fn help_after_the_arguments(line: &str, accepted: bool) {
    let cwd = tempfile::tempdir().expect("temp dir");
    let run = |line: &str| {
        let md = format!("```console\n$ {line}\n```\n");
        let (found, errors) = extract("t.md", &md);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(found.len(), 1, "{line}: {found:?}");
        check(&found[0], cwd.path())
    };
    if accepted {
        assert_eq!(run(line), Ok(()), "{line}");
    } else {
        let result = run(line);
        assert!(result.is_err(), "{line} was accepted");
    }
    assert!(
        std::fs::read_dir(cwd.path())
            .expect("read")
            .next()
            .is_none(),
        "a --help run wrote a file"
    );
}

#[test]
fn extraction_follows_shell_rules() {
    let md = r#"Intro with $ certmint not-a-prompt in prose.

```console
$ certmint key --out server.pass.key \
    --passout env:KEY_PASS
wrote server.pass.key (output, not a command: certmint decrypt x)
$ certmint jwt --key server.key --client-id K -u u@x | certmint inspect -
$ mkdir d && cd d && CERT_PASS=x certmint init d --passout env:CERT_PASS 2>&1 >log
$ certmint mint --key <(printf '%s' "$SF_KEY") --passin fd:3 3<pw.txt --client-id <consumer key> -u "a b"
$ certmint emulate --listen 127.0.0.1:0 > url.txt 2> emulator.log &
$ sf org login jwt --client-id K   # not certmint
```

```yaml
- run: certmint check acme-jwt --warn-days 45
      script:
        - certmint mint --dir acme-jwt --json
```

```ini
[Service]
Description=Daily certmint check
User=certmint
ExecStart=/usr/local/bin/certmint check /srv/acme-jwt
```

```crontab
MAILTO=ops@example.com
17 6 * * * /usr/local/bin/certmint check /srv/acme-jwt --warn-days 45
@daily certmint check /srv/other
```
"#;
    let (found, errors) = extract("t.md", md);
    assert!(errors.is_empty(), "{errors:?}");
    let got: Vec<(String, String)> = found
        .iter()
        .map(|i| (i.place.clone(), i.args.join(" ")))
        .collect();
    let want = [
        ("t.md:4", "key --out server.pass.key --passout env:KEY_PASS"),
        ("t.md:7", "jwt --key server.key --client-id K -u u@x"),
        ("t.md:7", "inspect -"),
        ("t.md:8", "init d --passout env:CERT_PASS"),
        (
            "t.md:9",
            "mint --key /dev/fd/63 --passin fd:3 --client-id PLACEHOLDER -u a b",
        ),
        ("t.md:10", "emulate --listen 127.0.0.1:0"),
        ("t.md:15", "check acme-jwt --warn-days 45"),
        ("t.md:17", "mint --dir acme-jwt --json"),
        ("t.md:24", "check /srv/acme-jwt"),
        ("t.md:29", "check /srv/acme-jwt --warn-days 45"),
        ("t.md:30", "check /srv/other"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(p, a)| (p.to_string(), a.to_string()))
        .collect();
    assert_eq!(got, want);
    // "-u a b" is one word in the shell: the quotes were honoured.
    assert_eq!(found[4].args.last().map(String::as_str), Some("a b"));
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a markdown document's headings (outside code blocks).
fn anchors(markdown: &str) -> Vec<String> {
    let mut in_fence = false;
    let mut out = Vec::new();
    for line in markdown.lines() {
        let t = line.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            in_fence = !in_fence;
        } else if !in_fence && t.starts_with('#') {
            out.push(slug(t.trim_start_matches('#')));
        }
    }
    out
}

#[test]
fn relative_links_point_at_existing_files_and_headings() {
    let docs = documents();
    let mut broken = Vec::new();
    for (name, text) in &docs {
        let dir = repo()
            .join(name)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        for (at, _) in text.match_indices("](") {
            let rest = &text[at + 2..];
            let Some(end) = rest.find(')') else { continue };
            let target = &rest[..end];
            if target.contains("://") || target.starts_with("mailto:") || target.contains(' ') {
                continue;
            }
            let (file, anchor) = target.split_once('#').unwrap_or((target, ""));
            let (path, body) = if file.is_empty() {
                (repo().join(name), Some(text.clone()))
            } else {
                let p = dir.join(file);
                let body = std::fs::read_to_string(&p).ok();
                (p, body)
            };
            match body {
                None if !path.exists() => broken.push(format!("{name}: `{target}`: no such file")),
                Some(body) if !anchor.is_empty() && !anchors(&body).iter().any(|a| a == anchor) => {
                    broken.push(format!("{name}: `{target}`: no heading with that anchor"))
                }
                _ => {}
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The TOML example in docs/emulator.md is `fixtures/emulator/acme.toml` (which the
/// emulator's unit tests and fuzz target load) with the certificate named `server.crt`:
/// the documented configuration is one the emulator is tested with, and it loads.
#[test]
fn the_documented_emulator_configuration_is_the_tested_fixture() {
    let doc = std::fs::read_to_string(repo().join("docs/emulator.md")).unwrap();
    let section = &doc[doc.find("## TOML configuration").expect("section")..];
    let start = section.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let block = &section[start..start + section[start..].find("```").expect("block end")];
    let fixture_path = repo().join("fixtures/emulator/acme.toml");
    let fixture = std::fs::read_to_string(&fixture_path).unwrap();
    let normalize = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .skip_while(String::is_empty)
            .collect()
    };
    let from_fixture = fixture.replace("\"../certs/base.crt\"", "\"server.crt\"");
    assert_eq!(normalize(block), normalize(&from_fixture));
    // And it loads, with its certificates resolved next to it.
    let dir = fixture_path.parent().unwrap().to_path_buf();
    let cfg = certmint::emulator::Config::from_toml(&fixture, &mut |p| std::fs::read(dir.join(p)))
        .expect("the documented configuration loads");
    assert_eq!(cfg.apps.len(), 3);
    assert_eq!(cfg.users.len(), 5);
}

/// `.ci/run` runs exactly the README's test command (the full suite), so what a
/// contributor is told to run is what CI checks.
#[test]
fn ci_runs_the_readme_test_command() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let ci = std::fs::read_to_string(repo().join(".ci/run")).expect(".ci/run");
    let command = "cargo test --locked --features slow-tests";
    assert!(
        readme.lines().any(|l| l == format!("$ {command}")),
        "README.md no longer shows `$ {command}`"
    );
    let tests: Vec<&str> = ci
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("cargo test"))
        .collect();
    assert_eq!(
        tests,
        [command],
        ".ci/run must run the README's test command"
    );
}

/// The one set-up command (issue 20, item 18): the README shows `scripts/setup-tests.sh`
/// before its test command, `.ci/run` runs it, and every program a test runs (through
/// `require` or `Command::new`) is either part of every Debian system or installed by one
/// of its `need TOOL PACKAGE` lines.
#[test]
fn the_setup_script_installs_every_tool_the_tests_run() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let ci = std::fs::read_to_string(repo().join(".ci/run")).expect(".ci/run");
    let script =
        std::fs::read_to_string(repo().join("scripts/setup-tests.sh")).expect("setup-tests.sh");
    let lines: Vec<&str> = readme.lines().collect();
    let setup = lines.iter().position(|l| *l == "$ scripts/setup-tests.sh");
    let test = lines
        .iter()
        .position(|l| *l == "$ cargo test --locked --features slow-tests");
    assert!(
        matches!((setup, test), (Some(a), Some(b)) if a < b),
        "README.md must show `$ scripts/setup-tests.sh` before its test command"
    );
    assert!(
        ci.lines().any(|l| l.trim() == "scripts/setup-tests.sh"),
        ".ci/run must run scripts/setup-tests.sh"
    );
    let needed: Vec<&str> = script
        .lines()
        .filter_map(|l| l.strip_prefix("need "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    // Essential on Debian (coreutils, dash, bash, procps' kill): always there.
    let essential = ["sh", "bash", "cp", "kill", "mkfifo", "cat", "env", "true"];
    let mut files = vec![];
    let mut stack = vec![repo().join("tests/it")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    let mut missing = vec![];
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for pat in ["require(\"", "require_with(\"", "Command::new(\""] {
            for (i, _) in text.match_indices(pat) {
                let rest = &text[i + pat.len()..];
                let tool = &rest[..rest.find('"').unwrap_or(0)];
                if tool.is_empty() || essential.contains(&tool) || needed.contains(&tool) {
                    continue;
                }
                missing.push(format!("{tool} ({})", f.display()));
            }
        }
    }
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "tests run programs scripts/setup-tests.sh does not install: {missing:?}"
    );
}

/// The `... | jq ...` command lines of the docs (console lines and inline code) and of
/// every command's help: (place, line).
fn jq_examples() -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut add = |place: String, line: &str| {
        if line.contains("certmint") && line.contains("| jq") {
            found.push((place, line.to_string()));
        }
    };
    for (name, text) in documents() {
        for (line, cmd) in command_lines(&text) {
            add(format!("{name}:{line}"), &cmd);
        }
        for (n, line) in text.lines().enumerate() {
            // Inline code in prose: `certmint ... | jq ...`.
            for (i, span) in line.split('`').enumerate() {
                if i % 2 == 1 && span.starts_with("certmint ") {
                    add(format!("{name}:{}", n + 1), span);
                }
            }
        }
    }
    for sub in subcommands() {
        let out = Command::new(BIN)
            .args(["help", &sub])
            .env("NO_COLOR", "1")
            .output()
            .expect("run certmint help");
        let help = String::from_utf8_lossy(&out.stdout).into_owned();
        for (line, cmd) in command_lines(&help) {
            add(format!("certmint help {sub}:{line}"), &cmd);
        }
    }
    found.sort();
    found.dedup_by(|a, b| a.1 == b.1);
    found
}

/// Every documented `certmint ... | jq ...` example runs as written (issue 12, item 10:
/// `inspect --json server.crt | jq .not_after` failed on an array): in a directory with
/// `server.crt`, `server.csr`, `server.key` and an `acme-jwt` made by init, through `sh`
/// with pipefail, it exits 0 and prints something other than `null`.
#[test]
fn documented_jq_examples_run() {
    crate::support::require("jq");
    let dir = tempfile::tempdir().expect("temp dir");
    let cwd = dir.path();
    for (from, to) in [
        ("certs/base.crt", "server.crt"),
        ("certs/base.csr", "server.csr"),
        ("keys/base.pkcs8.pem", "server.key"),
    ] {
        std::fs::copy(crate::support::fixture(from), cwd.join(to)).expect("copy fixture");
    }
    let init = Command::new(BIN)
        .args([
            "init",
            "acme-jwt",
            "--cn",
            "acme-jwt",
            "--passout",
            "env:CERT_PASS",
        ])
        .current_dir(cwd)
        .env("CERT_PASS", "a long passphrase")
        .stdin(Stdio::null())
        .output()
        .expect("run certmint init");
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let bin_dir = Path::new(BIN).parent().expect("binary directory");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let examples = jq_examples();
    assert!(
        examples.len() >= 5,
        "only {} jq examples found: {examples:?}",
        examples.len()
    );
    let mut failures = Vec::new();
    for (place, line) in &examples {
        let out = Command::new("bash")
            .args(["-c", &format!("set -o pipefail; {line}")])
            .current_dir(cwd)
            .env("PATH", &path)
            .env("CERT_PASS", "a long passphrase")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .expect("run bash");
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() || stdout.trim().is_empty() || stdout.trim() == "null" {
            failures.push(format!(
                "{place}: `{line}` ({}): stdout {stdout:?}, stderr {:?}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Inline code spans (between backticks) of a markdown text.
fn inline_code(text: &str) -> Vec<String> {
    text.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_string())
        .collect()
}

/// docs/troubleshooting.md's reproduce steps (`$M ...` with M defined there, and plain
/// `certmint mint ...`) are accepted by the argument parser: section 2 once passed
/// `--key` twice, which clap refuses.
#[test]
fn troubleshooting_reproduce_steps_are_accepted() {
    let text = std::fs::read_to_string(repo().join("docs/troubleshooting.md")).expect("read");
    let m = text
        .split("`M=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("troubleshooting.md defines M=\"certmint mint ...\"")
        .to_string();
    let cwd = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    let mut count = 0;
    for code in inline_code(&text) {
        let line = match code.strip_prefix("$M ") {
            Some(rest) => format!("{m} {rest}"),
            None if code.starts_with("certmint mint ") => code.clone(),
            None => continue,
        };
        let md = format!("```console\n$ {line}\n```\n");
        let (found, errors) = extract("docs/troubleshooting.md", &md);
        failures.extend(errors);
        for inv in &found {
            count += 1;
            if let Err(e) = check(inv, cwd.path()) {
                failures.push(format!("{e} (from `{code}`)"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(count >= 10, "only {count} reproduce steps found");
}

/// docs/openssl-mapping.md's fingerprint recipe (`openssl ... | openssl dgst -sha256`)
/// gives certmint's public-key SHA-256 for the key and for the certificate; it once hashed
/// the PEM text, which never matches.
#[test]
fn openssl_fingerprint_recipe_matches_certmint() {
    let text = std::fs::read_to_string(repo().join("docs/openssl-mapping.md")).expect("read");
    let recipe: Vec<(usize, String)> = command_lines(&text)
        .into_iter()
        .filter(|(_, l)| l.contains("openssl dgst -sha256"))
        .collect();
    assert_eq!(recipe.len(), 2, "the key and the certificate: {recipe:?}");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(
        crate::support::fixture("keys/base.pkcs8.pem"),
        dir.path().join("server.key"),
    )
    .expect("copy");
    std::fs::copy(
        crate::support::fixture("certs/base.crt"),
        dir.path().join("server.crt"),
    )
    .expect("copy");
    crate::support::require("openssl");
    let inspect = Command::new(BIN)
        .args(["inspect", "server.key"])
        .current_dir(dir.path())
        .output()
        .expect("run certmint inspect");
    let shown = String::from_utf8_lossy(&inspect.stdout);
    let certmint_fp = shown
        .lines()
        .find_map(|l| l.trim().strip_prefix("public key SHA-256:"))
        .expect("inspect shows the public key SHA-256")
        .trim()
        .to_ascii_lowercase();
    for (line, cmd) in recipe {
        let out = Command::new("bash")
            .args(["-c", &format!("set -o pipefail; {cmd}")])
            .current_dir(dir.path())
            .output()
            .expect("run bash");
        assert!(out.status.success(), "line {line}: {cmd}");
        let digest = String::from_utf8_lossy(&out.stdout);
        let digest = digest.rsplit("= ").next().unwrap_or("").trim();
        assert_eq!(digest, certmint_fp, "docs/openssl-mapping.md:{line}: {cmd}");
    }
}

/// docs/ci.md's GitHub Actions workflow installs certmint before it uses it (issue 12,
/// item 30): a checkout of certmint's source into a path, `cargo install --locked --path`
/// of that path, and every `certmint` step after the install; the cache holds the file
/// `cargo install` writes.
#[test]
fn ci_github_actions_example_installs_certmint() {
    let text = std::fs::read_to_string(repo().join("docs/ci.md")).expect("read");
    let section = text
        .split("### GitHub Actions")
        .nth(1)
        .expect("a GitHub Actions section");
    let yaml = section
        .split("```yaml")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("a yaml block");
    let lines: Vec<&str> = yaml.lines().map(str::trim).collect();
    let value = |key: &str| -> Vec<(usize, String)> {
        lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| {
                l.trim_start_matches("- ")
                    .strip_prefix(key)
                    .map(|v| (i, v.trim().to_string()))
            })
            .collect()
    };
    let checkout_path = value("path:")
        .into_iter()
        .find(|(i, _)| lines[..*i].iter().any(|l| l.starts_with("repository:")))
        .map(|(_, p)| p)
        .expect("a checkout of certmint's source with a path");
    let runs = value("run:");
    let install = runs
        .iter()
        .find(|(_, r)| r.contains(&format!("cargo install --locked --path {checkout_path}")))
        .map(|(i, _)| *i)
        .expect("cargo install --locked --path of the checkout");
    let mut uses = 0;
    for (i, line) in lines.iter().enumerate() {
        let line = line.trim_start_matches("- ");
        let line = line.strip_prefix("run: |").map(|_| "").unwrap_or(line);
        let cmd = line.strip_prefix("run:").map(str::trim).unwrap_or(line);
        if cmd.starts_with("certmint ") {
            uses += 1;
            assert!(i > install, "`{cmd}` runs before certmint is installed");
        }
    }
    assert!(uses >= 3, "{uses} certmint steps");
    assert!(
        value("path:")
            .iter()
            .any(|(_, p)| p == "~/.cargo/bin/certmint"),
        "the cache holds what cargo install writes"
    );
    // The binary cargo install builds is named certmint.
    let manifest = std::fs::read_to_string(repo().join("Cargo.toml")).expect("Cargo.toml");
    assert!(manifest.contains("[[bin]]\nname = \"certmint\""));
}

/// The module map in docs/design.md names every module of `src/` (a newcomer looks there
/// first), and no source file is longer than 900 lines (issue 11: split it instead).
#[test]
fn the_module_map_names_every_module_and_no_source_file_exceeds_900_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let design = std::fs::read_to_string(root.join("docs/design.md")).unwrap();
    let map =
        &design[design.find("### Module map").unwrap()..design.find("### Layering rules").unwrap()];
    let mut named = std::collections::BTreeSet::new();
    for quoted in map.split('`').skip(1).step_by(2) {
        for word in quoted.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
            named.insert(word.to_owned());
        }
    }
    let mut files = Vec::new();
    let mut dirs = vec![root.join("src")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    let mut missing = Vec::new();
    let mut long = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(root).unwrap().display().to_string();
        let lines = std::fs::read_to_string(f).unwrap().lines().count();
        if lines > 900 {
            long.push(format!("{rel}: {lines} lines"));
        }
        let stem = f.file_stem().unwrap().to_str().unwrap();
        if !matches!(stem, "tests" | "lib" | "main") && !named.contains(stem) {
            missing.push(rel);
        }
    }
    assert!(
        missing.is_empty(),
        "not in docs/design.md's module map: {missing:?}"
    );
    assert!(long.is_empty(), "over 900 lines: {long:?}");
}
