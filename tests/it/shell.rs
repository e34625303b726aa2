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
