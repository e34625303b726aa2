//! Security, second round (issue 13): each test is an attack that must fail, named after
//! what it tries. `docs/security.md` lists them beside the threat model. The attacks that
//! need timeouts, many processes or a debugger are in the slow tier (`slow` below).

use std::path::Path;
use std::process::Output;

use crate::support::{BIN, FIXTURE_PW, fixture, texts};

/// certmint with a clean environment, run in `dir`.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("CERTMINT_PASS")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

// Item 10: manifest parse errors give the place, never the text.

/// A secret file that ends up as `certmint.toml` (a private key, an env file holding an
/// API key, a TOML file whose values are secrets of the wrong type): every command that
/// reads the manifest fails with the line and column and prints no line of it.
#[test]
fn a_secret_file_as_the_manifest_is_never_printed() {
    let key = std::fs::read_to_string(fixture("keys/base.pkcs8.pem")).unwrap();
    let secrets = [
        key.clone(),
        "API_KEY=sk-live-0123456789abcdef\n".to_owned(),
        "format = \"hunter2-s3cret\"\n".to_owned(),
        "format = 1\nstem = 90210\n".to_owned(),
        "sk_live_0123456789 = 1\nsk_live_0123456789 = 2\n".to_owned(),
    ];
    for secret in &secrets {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("certmint.toml"), secret).unwrap();
        std::fs::write(d.path().join("pw"), FIXTURE_PW).unwrap();
        for args in [
            &["check", "."][..],
            &["inspect", "."],
            &["mint", "--dir", ".", "--login-url", "http://127.0.0.1:9"],
            &["renew", ".", "--passin", "file:pw"],
            &["init", ".", "--passout", "file:pw", "--cn", "x"],
        ] {
            let o = run_in(d.path(), args);
            let (stdout, stderr) = texts(&o);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(
                stderr.contains("certmint.toml` line ") && stderr.contains(", column "),
                "{args:?} does not give the place: {stderr}"
            );
            for line in secret.lines().filter(|l| l.len() > 4) {
                assert!(
                    !stderr.contains(line) && !stdout.contains(line),
                    "{args:?} printed {line:?}:\n{stdout}\n{stderr}"
                );
            }
            for word in ["sk-live", "sk_live", "hunter2", "90210", "MIIE"] {
                assert!(!stderr.contains(word), "{args:?} printed {word}: {stderr}");
            }
        }
    }
}
