//! Completions and man pages come from the same definition as `--help`.

use crate::support::*;
use predicates::str::contains;

cases!(completions {
    bash => completions_for("bash"),
    zsh => completions_for("zsh"),
    fish => completions_for("fish"),
    powershell => completions_for("powershell"),
    elvish => completions_for("elvish"),
});

fn completions_for(shell: &str) {
    certmint()
        .args(["completions", shell])
        .assert()
        .success()
        .stdout(contains("certmint"))
        .stdout(contains("decrypt"));
}

#[test]
fn completions_for_an_unknown_shell_is_a_usage_error() {
    certmint().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn man_pages() {
    certmint()
        .arg("man")
        .assert()
        .success()
        .stdout(contains(".TH certmint 1"))
        .stdout(contains("decrypt"));
    let dir = tempfile::tempdir().unwrap();
    certmint()
        .args(["man", "--out-dir", dir.path().to_str().unwrap()])
        .assert()
        .success();
    let names = dir_names(dir.path());
    assert!(names.contains(&"certmint.1".to_string()), "{names:?}");
    assert!(names.contains(&"certmint-key.1".to_string()), "{names:?}");
}

/// What bash offers after `words` (the last one being completed), through the script
/// `certmint completions bash` prints.
fn bash_completes(words: &[&str]) -> Vec<String> {
    let script = r#"
source <("$CERTMINT" completions bash)
COMP_WORDS=("$@")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE="${COMP_WORDS[*]}"
COMP_POINT=${#COMP_LINE}
_certmint certmint "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
"#;
    let out = std::process::Command::new("bash")
        .args(["-c", script, "bash"])
        .args(words)
        .env("CERTMINT", BIN)
        .output()
        .expect("run bash");
    assert!(out.status.success(), "{}", stderr(&out));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

cases!(
    /// `--login-url` and `--audience` complete to the values certmint knows (`login`,
    /// `test`; issue 12, item 29) while still taking any URL; enums keep completing.
    completion_offers_known_values {
        mint_login_url => assert_eq!(bash_completes(&["certmint", "mint", "--login-url", ""]), ["login", "test"]),
        mint_login_url_prefix => assert_eq!(bash_completes(&["certmint", "mint", "--login-url", "t"]), ["test"]),
        init_login_url => assert_eq!(bash_completes(&["certmint", "init", "acme-jwt", "--login-url", ""]), ["login", "test"]),
        mint_audience => assert_eq!(bash_completes(&["certmint", "mint", "--audience", ""]), ["login", "test"]),
        jwt_audience => assert_eq!(bash_completes(&["certmint", "jwt", "--audience", ""]), ["login", "test"]),
        p12_profile => assert_eq!(bash_completes(&["certmint", "p12", "--profile", ""]), ["modern", "java8", "legacy"]),
    }
);

/// The completion values are suggestions, not a limit: a URL is still accepted, and
/// `--help` does not claim `[possible values: login, test]`.
#[test]
fn suggested_values_are_not_a_limit() {
    certmint()
        .args([
            "mint",
            "--login-url",
            "https://acme.my.salesforce.com",
            "--help",
        ])
        .assert()
        .success();
    let out = certmint().args(["mint", "--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(!help.contains("possible values: login"), "{help}");
}

/// zsh and fish scripts carry the values with their descriptions.
#[test]
fn zsh_and_fish_completions_describe_the_login_urls() {
    for shell in ["zsh", "fish"] {
        let out = certmint().args(["completions", shell]).output().unwrap();
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(
            script.contains("test.salesforce.com (sandboxes)"),
            "{shell}: {script}"
        );
    }
}
