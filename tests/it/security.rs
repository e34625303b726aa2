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
            assert!(
                stderr.contains("hint: fix the line named above, or restore certmint.toml"),
                "{args:?}: {stderr}"
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

/// Run certmint in `dir` and wait at most `secs` seconds: a hang is a failure, not a
/// stuck test run.
fn run_with_deadline(dir: &Path, args: &[&str], secs: u64) -> Output {
    use std::process::{Command, Stdio};
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("CERTMINT_PASS")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            panic!(
                "certmint {args:?} hung for {secs} s:\n{}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(ok.success(), "mkfifo {path:?}");
}

fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// A certmint directory `acme` in a new scratch directory (with `pw` holding its
/// password), made by the real `init`, under `umask` (through `sh -c`).
fn init_dir(umask: &str, extra: &[&str]) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("pw"), format!("{FIXTURE_PW}\n")).unwrap();
    let mut script = format!(
        "umask {umask} && exec \"$0\" init acme --cn acme-jwt --org Acme --passout file:pw -q"
    );
    for a in extra {
        script.push(' ');
        script.push_str(a);
    }
    let o = std::process::Command::new("sh")
        .args(["-c", &script, BIN])
        .current_dir(root.path())
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "init: {}", texts(&o).1);
    root
}

/// The directory of the current generation of `dir`.
fn current_gen(dir: &Path) -> std::path::PathBuf {
    let m = certmint::workdir::load(dir).unwrap();
    dir.join(m.current.unwrap())
}

// Item 2: --force replaces only a regular file.

/// As root, `decrypt ... --out /dev/null --force` replaced the system's /dev/null with a
/// 0600 file holding the unencrypted key. `--force` now replaces only a regular file: a
/// character device, a FIFO, a symbolic link (to a file or to /dev/null), a directory and
/// a socket are each refused with exit 2 and a message saying what is there, and none
/// is touched.
#[test]
fn force_never_replaces_a_device_fifo_symlink_directory_or_socket() {
    use std::os::unix::fs::FileTypeExt;
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    std::fs::copy(fixture("keys/enc-aes256.pem"), dir.join("enc.pem")).unwrap();
    std::fs::write(dir.join("pw"), FIXTURE_PW).unwrap();
    std::fs::write(dir.join("victim.txt"), b"keep me").unwrap();
    mkfifo(&dir.join("fifo"));
    std::os::unix::fs::symlink("victim.txt", dir.join("link")).unwrap();
    std::os::unix::fs::symlink("/dev/null", dir.join("null-link")).unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    let _sock = std::os::unix::net::UnixListener::bind(dir.join("sock")).unwrap();
    let null_before = std::fs::symlink_metadata("/dev/null").unwrap();
    let cases = [
        ("/dev/null", "a character device"),
        ("fifo", "a named pipe (FIFO)"),
        ("link", "a symbolic link"),
        ("null-link", "a symbolic link"),
        ("sub", "directory"),
        ("sock", "a socket"),
    ];
    for (out, what) in cases {
        for cmd in [
            &[
                "decrypt", "enc.pem", "--passin", "file:pw", "--out", out, "--force",
            ][..],
            &[
                "p12",
                "--key",
                "enc.pem",
                "--cert",
                &crate::support::fx("certs/base.crt"),
                "--passin",
                "file:pw",
                "--passout",
                "file:pw",
                "--out",
                out,
                "--force",
            ],
        ] {
            let o = run_with_deadline(dir, cmd, 60);
            let (_, stderr) = texts(&o);
            assert_eq!(o.status.code(), Some(2), "{cmd:?}: {stderr}");
            assert!(
                stderr.contains(&format!("cannot write `{out}`")),
                "{cmd:?}: {stderr}"
            );
            assert!(
                stderr.contains(what),
                "{cmd:?} does not say {what}: {stderr}"
            );
        }
    }
    let null_after = std::fs::symlink_metadata("/dev/null").unwrap();
    assert!(null_after.file_type().is_char_device());
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        null_before.ino(),
        null_after.ino(),
        "/dev/null was replaced"
    );
    assert!(
        std::fs::symlink_metadata(dir.join("fifo"))
            .unwrap()
            .file_type()
            .is_fifo()
    );
    for l in ["link", "null-link"] {
        assert!(
            std::fs::symlink_metadata(dir.join(l))
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
    assert_eq!(std::fs::read(dir.join("victim.txt")).unwrap(), b"keep me");
    assert!(dir.join("sub").is_dir());
    // A regular file is still replaced.
    let o = run_with_deadline(
        dir,
        &[
            "decrypt",
            "enc.pem",
            "--passin",
            "file:pw",
            "--out",
            "victim.txt",
            "--force",
        ],
        60,
    );
    assert_eq!(o.status.code(), Some(0), "{}", texts(&o).1);
    assert!(
        std::fs::read_to_string(dir.join("victim.txt"))
            .unwrap()
            .contains("BEGIN PRIVATE KEY")
    );
}

// Item 3: directories 0700 whatever the umask; check reports loosened permissions;
// commands warn about keys readable by others.

/// Under umask 000, `init` made the directory and its generations 0777: any local user
/// could replace `current/server.crt` or edit `certmint.toml`. They are 0700 now, and
/// `demo` and a renewal's new generation too.
#[test]
fn directories_are_0700_under_umask_000() {
    let root = init_dir("000", &[]);
    let dir = root.path().join("acme");
    assert_eq!(mode_of(&dir), 0o700);
    let g1 = current_gen(&dir);
    assert_eq!(mode_of(&g1), 0o700);
    let o = std::process::Command::new("sh")
        .args([
            "-c",
            "umask 000 && exec \"$0\" renew acme --passin file:pw -q",
            BIN,
        ])
        .current_dir(root.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", texts(&o).1);
    let g2 = current_gen(&dir);
    assert_ne!(g1, g2);
    assert_eq!(mode_of(&g2), 0o700);
    let o = std::process::Command::new("sh")
        .args(["-c", "umask 000 && exec \"$0\" demo demo -q", BIN])
        .current_dir(root.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", texts(&o).1);
    let demo = root.path().join("demo");
    assert_eq!(mode_of(&demo), 0o700);
    assert_eq!(mode_of(&current_gen(&demo)), 0o700);
    // And `check` is happy with what certmint made.
    let o = run_in(root.path(), &["check", "acme", "-v"]);
    let (stdout, stderr) = texts(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("pass  permissions"), "{stdout}");
}

/// A certmint directory loosened after the fact: a world-writable directory and
/// generation, a group-writable manifest, a world-readable plain key and keystore.
/// `check` fails (exit 1) with one finding each and its `chmod`; every command that reads
/// one of those keys warns.
#[test]
fn check_reports_loosened_permissions_and_key_readers_warn() {
    use std::os::unix::fs::PermissionsExt;
    let root = init_dir("077", &[]);
    let dir = root.path().join("acme");
    let g = current_gen(&dir);
    let set =
        |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    set(&dir, 0o777);
    set(&g, 0o757);
    set(&dir.join("certmint.toml"), 0o664);
    set(&g.join("server.key"), 0o644);
    set(&g.join("server.p12"), 0o640);
    let o = run_in(root.path(), &["check", "acme"]);
    let (stdout, stderr) = texts(&o);
    assert_eq!(o.status.code(), Some(1), "{stdout}{stderr}");
    for needle in [
        "acme is writable by other users (mode 0777)",
        "fix: chmod 700 acme\n",
        "is writable by other users (mode 0757)",
        "certmint.toml is writable by other users (mode 0664)",
        "fix: chmod 644 acme/certmint.toml",
        "server.key is open to other users: it holds the private key (mode 0644)",
        "server.p12 is open to other users: it holds the private key (mode 0640)",
        "/server.key\n",
        "fix: chmod 600 acme/",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in:\n{stdout}");
    }
    let o = run_in(root.path(), &["check", "acme", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let perms: Vec<_> = v["files"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "permissions")
        .collect();
    assert_eq!(perms.len(), 5, "{perms:?}");
    assert!(
        perms
            .iter()
            .all(|f| f["status"] == "fail" && f["fix"].is_string())
    );

    // Every command that reads one of those keys warns, naming it and the fix.
    let key = g.join("server.key");
    let key = key
        .strip_prefix(root.path())
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let p12 = g.join("server.p12");
    let p12 = p12
        .strip_prefix(root.path())
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    for args in [
        vec!["decrypt", &key, "--out", "plain.pem", "--pkcs1"],
        vec![
            "jwt",
            "--key",
            &key,
            "--client-id",
            "K",
            "-u",
            "u@example.com",
        ],
        vec!["export", &p12, "--passin", "file:pw", "--key-out", "k.pem"],
        vec!["renew", "acme", "--passin", "file:pw"],
    ] {
        let o = run_in(root.path(), &args);
        let (_, stderr) = texts(&o);
        assert!(
            stderr.contains("warning: ")
                && stderr.contains("(mode 064")
                && stderr.contains("chmod 600 "),
            "{args:?} does not warn: {stderr}"
        );
    }
    // A key only its owner can read: no warning.
    set(&g.join("server.key"), 0o600);
    let o = run_in(
        root.path(),
        &[
            "jwt",
            "--key",
            &key,
            "--client-id",
            "K",
            "-u",
            "u@example.com",
        ],
    );
    assert!(!texts(&o).1.contains("warning"), "{}", texts(&o).1);
}

// Item 6: one bounded, regular-file-only reader.

/// A FIFO in place of `server.crt` hung `init` and `check` (a cron `check` hangs
/// silently), and a symlink to /dev/zero in place of `server.key` ate memory and was then
/// reported as missing. Both are refused at once, by name and kind.
#[test]
fn a_fifo_or_dev_zero_in_a_certmint_directory_neither_hangs_nor_eats_memory() {
    let root = init_dir("077", &[]);
    let dir = root.path().join("acme");
    let g = current_gen(&dir);
    std::fs::remove_file(g.join("server.crt")).unwrap();
    mkfifo(&g.join("server.crt"));
    std::fs::remove_file(g.join("server.key")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", g.join("server.key")).unwrap();

    let o = run_with_deadline(root.path(), &["check", "acme"], 30);
    let (stdout, stderr) = texts(&o);
    assert_eq!(o.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("server.crt cannot be read: it is a named pipe (FIFO), not a regular file"),
        "{stdout}"
    );
    assert!(
        stdout.contains("server.key cannot be read: it is a character device, not a regular file"),
        "{stdout}"
    );
    assert!(!stdout.contains("server.key is missing"), "{stdout}");

    let o = run_with_deadline(root.path(), &["init", "acme", "--passout", "file:pw"], 30);
    let (_, stderr) = texts(&o);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("not a regular file") && stderr.contains("server."),
        "{stderr}"
    );
    // Inputs given on the command line: the same reader.
    for args in [
        &["inspect", "acme/current/server.crt"][..],
        &["check", "acme/current/server.crt"],
        &["decrypt", "acme/current/server.key", "--out", "x.pem"],
    ] {
        let o = run_with_deadline(root.path(), args, 30);
        let (_, stderr) = texts(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("not a regular file"), "{args:?}: {stderr}");
    }
    assert!(!root.path().join("x.pem").exists());
}

/// The regular-file rule must not take process substitution away: a key or certificate
/// named as a pipe this process holds (`<(vault read ...)`, `/dev/stdin`) is read, within
/// the 16 MiB bound (an endless pipe is cut off, not read forever), while a named FIFO is
/// refused at once (above).
#[test]
fn a_pipe_the_user_hands_over_is_read_and_bounded_a_named_fifo_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let bash = |script: &str| {
        std::process::Command::new("bash")
            .args(["-c", script, "bash", BIN])
            .current_dir(dir.path())
            .env("P", FIXTURE_PW)
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let crt = fixture("certs/base.crt");
    let o = bash(&format!("\"$1\" inspect <(cat '{}')", crt.display()));
    let (stdout, stderr) = texts(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(stdout.contains("certificate"), "{stdout}");

    let key = fixture("keys/enc-aes256.pem");
    let o = bash(&format!(
        "\"$1\" decrypt <(cat '{}') --passin env:P --out plain.pem",
        key.display()
    ));
    assert!(o.status.success(), "{}", texts(&o).1);
    assert!(dir.path().join("plain.pem").is_file());

    let o = bash(&format!("\"$1\" inspect /dev/stdin < '{}'", crt.display()));
    assert!(o.status.success(), "{}", texts(&o).1);

    let o = bash("\"$1\" inspect <(yes)");
    let (_, stderr) = texts(&o);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("certmint reads at most 16777216"),
        "{stderr}"
    );
}

// Item 8: key-derivation cost.

fn pem_block(label: &str, der: &[u8]) -> Vec<u8> {
    certmint::pemfile::encode(label, der).into_bytes()
}

/// A 2 KB scrypt-encrypted key with N=2^20, r=8, p=2 passed the limits and cost 1 GiB and
/// 5 s even with a wrong password. It is refused at once, before a password is asked
/// for, naming the limit (64 MiB) and the flag that raises it; the flag works.
#[test]
fn a_scrypt_key_needing_1_gib_is_refused_at_once_naming_the_limit_and_the_flag() {
    use crate::support::der::{epki, pbes2_scrypt};
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("pw"), FIXTURE_PW).unwrap();
    let key = pem_block("ENCRYPTED PRIVATE KEY", &epki(pbes2_scrypt(1 << 20, 8, 2)));
    assert!(key.len() < 2048);
    std::fs::write(d.path().join("hostile.pem"), &key).unwrap();
    for args in [
        &[
            "decrypt",
            "hostile.pem",
            "--passin",
            "file:pw",
            "--out",
            "x.pem",
        ][..],
        &["inspect", "hostile.pem", "--passin", "file:pw"],
        &[
            "jwt",
            "--key",
            "hostile.pem",
            "--passin",
            "file:pw",
            "--client-id",
            "K",
            "-u",
            "u@x.com",
        ],
    ] {
        let o = run_in(d.path(), args);
        let (_, stderr) = texts(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        for needle in [
            "scrypt N=1048576 r=8 p=2",
            "1024 MiB of memory",
            "limit of 64 MiB",
            "--max-scrypt-memory 1024",
        ] {
            assert!(
                stderr.contains(needle),
                "{args:?}: no {needle:?} in {stderr}"
            );
        }
    }
    // Refused before anything is derived, proven without a clock: under a 512 MiB
    // address-space limit, deriving (1 GiB of scrypt memory) could not even start, and
    // the refusal is the same.
    let o = std::process::Command::new("bash")
        .args([
            "-c",
            "ulimit -v 524288 && exec \"$1\" decrypt hostile.pem --passin file:pw --out x.pem",
            "bash",
            crate::support::BIN,
        ])
        .current_dir(d.path())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let (_, stderr) = texts(&o);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("limit of 64 MiB"), "{stderr}");
    // 128 MiB is refused by default and read with the flag (then the fake ciphertext is
    // a wrong password).
    let key = pem_block("ENCRYPTED PRIVATE KEY", &epki(pbes2_scrypt(1 << 17, 8, 1)));
    std::fs::write(d.path().join("big.pem"), &key).unwrap();
    let args = [
        "decrypt", "big.pem", "--passin", "file:pw", "--out", "x.pem",
    ];
    let o = run_in(d.path(), &args);
    assert!(texts(&o).1.contains("limit of 64 MiB"), "{}", texts(&o).1);
    let mut raised = args.to_vec();
    raised.extend(["--max-scrypt-memory", "128"]);
    let o = run_in(d.path(), &raised);
    let (_, stderr) = texts(&o);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("wrong password"), "{stderr}");
}

/// A PKCS#12 file whose key bag (or MAC) asks for 10,000,000 PBKDF2 (or PKCS#12 KDF)
/// iterations cost 2 s per attempt. It is refused at once with the limit (1,000,000) and
/// the flag.
#[test]
fn a_pkcs12_with_10_million_iterations_is_refused_at_once() {
    use crate::support::der::{epki, pbes2_pbkdf2, pfx_with_bags, pfx_with_mac, shrouded_bag};
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("pw"), FIXTURE_PW).unwrap();
    let bag = shrouded_bag(epki(pbes2_pbkdf2(10_000_000)));
    std::fs::write(
        d.path().join("bag.p12"),
        pfx_with_bags(std::slice::from_ref(&bag)),
    )
    .unwrap();
    let cheap = shrouded_bag(epki(pbes2_pbkdf2(2048)));
    std::fs::write(d.path().join("mac.p12"), pfx_with_mac(&[cheap], 10_000_000)).unwrap();
    for file in ["bag.p12", "mac.p12"] {
        for args in [
            &["inspect", file, "--passin", "file:pw"][..],
            &["check", file, "--passin", "file:pw"],
            &["export", file, "--passin", "file:pw", "--key-out", "k.pem"],
        ] {
            let o = run_in(d.path(), args);
            let (_, stderr) = texts(&o);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
            for needle in [
                "10000000 iterations",
                "limit of 1000000 per derivation",
                "--max-kdf-iterations 10000000",
            ] {
                assert!(
                    stderr.contains(needle),
                    "{args:?}: no {needle:?} in {stderr}"
                );
            }
        }
    }
    // The limit is checked when the file is parsed, before any derivation: the message
    // above (the count, the limit, the flag) comes from that check, not from a timeout.
    // Raised, the derivation runs (and the fake file then fails on its contents).
    let o = run_in(
        d.path(),
        &[
            "inspect",
            "bag.p12",
            "--passin",
            "file:pw",
            "--max-kdf-iterations",
            "10000000",
        ],
    );
    assert!(!texts(&o).1.contains("limit of"), "{}", texts(&o).1);
}

/// Each file within its own limits, many files in one command: `check` and `inspect`
/// had no budget across files (or a directory's generations). One budget per command,
/// 16 times the per-derivation limit: with the limit lowered to 10,000 (a budget of
/// 160,000), five PKCS#12 files of 30,000 each are read and the sixth is refused.
#[test]
fn one_key_derivation_budget_per_command_across_files() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("pw"), FIXTURE_PW).unwrap();
    let o = run_in(
        d.path(),
        &[
            "p12",
            "--key",
            &crate::support::fx("keys/base.pkcs8.pem"),
            "--cert",
            &crate::support::fx("certs/base.crt"),
            "--iter",
            "10000",
            "--passout",
            "file:pw",
            "--out",
            "one.p12",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", texts(&o).1);
    // file: gives one password per line, one line per keystore.
    std::fs::write(d.path().join("pws"), format!("{FIXTURE_PW}\n").repeat(8)).unwrap();
    let mut names = Vec::new();
    for i in 0..8 {
        let name = format!("s{i}.p12");
        std::fs::copy(d.path().join("one.p12"), d.path().join(&name)).unwrap();
        names.push(name);
    }
    let limit = ["--max-kdf-iterations", "10000"];
    let mut args: Vec<&str> = vec!["inspect", "--passin", "file:pws"];
    args.extend(names[..5].iter().map(String::as_str));
    args.extend(limit);
    let o = run_in(d.path(), &args);
    assert_eq!(o.status.code(), Some(0), "five files: {}", texts(&o).1);
    for cmd in ["inspect", "check"] {
        let mut args: Vec<&str> = vec![cmd, "--passin", "file:pws"];
        args.extend(names.iter().map(String::as_str));
        args.extend(limit);
        let o = run_in(d.path(), &args);
        let (_, stderr) = texts(&o);
        assert_eq!(o.status.code(), Some(2), "{cmd}: {stderr}");
        assert!(
            stderr.contains("`s5.p12`")
                && stderr.contains("the key derivations of this command add up to")
                && stderr.contains("limit of 160000"),
            "{cmd}: {stderr}"
        );
        assert!(stderr.contains("--max-kdf-iterations"), "{stderr}");
    }
    // `key --iter` above what certmint reads back is refused, naming the flag.
    let o = run_in(
        d.path(),
        &[
            "key",
            "--out",
            "k.pem",
            "--passout",
            "file:pw",
            "--iter",
            "2000000",
        ],
    );
    let (_, stderr) = texts(&o);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--max-kdf-iterations 2000000"), "{stderr}");
    assert!(!d.path().join("k.pem").exists());
}

/// The attacks that need a debugger, another user or seconds of waiting.
#[cfg(feature = "slow-tests")]
mod slow {
    use std::io::Read;
    use std::net::TcpListener;
    use std::os::unix::fs::MetadataExt;
    use std::path::Path;
    use std::process::{Child, Command, Stdio};

    use crate::support::{BIN, FIXTURE_PW, fixture, require};

    /// `uid` 65534 (nobody), so that /proc shows whether the process is dumpable: the
    /// files of a non-dumpable process belong to root, whoever runs it.
    const NOBODY: u32 = 65534;

    struct Waiting {
        child: Child,
        _listener: TcpListener,
    }

    impl Drop for Waiting {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// `certmint mint` as nobody with `key_args`, against a local endpoint that accepts
    /// the connection and never answers, once it is waiting for the answer.
    fn waiting_mint(dir: &Path, key_args: &[&str]) -> Waiting {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let child = Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--inh-caps=-all",
                BIN,
                "mint",
                "--client-id",
                "K",
                "-u",
                "u@example.com",
                "--login-url",
                &url,
                "--timeout",
                "120",
                "--no-verify",
            ])
            .args(key_args)
            .current_dir(dir)
            .env_clear()
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // The request arrives: certmint has read the key and the password, signed, and now
        // waits for an answer that never comes.
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut head = [0u8; 64];
        let n = conn.read(&mut head).unwrap();
        assert!(head[..n].starts_with(b"POST "), "{:?}", &head[..n]);
        // Keep the connection open (the child waits on it) by leaking it into the listener's
        // lifetime: dropped with the test.
        std::mem::forget(conn);
        Waiting {
            child,
            _listener: listener,
        }
    }

    fn scratch() -> tempfile::TempDir {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        std::fs::copy(fixture("keys/enc-aes256.pem"), d.path().join("enc.pem")).unwrap();
        std::fs::copy(fixture("keys/base.pkcs8.pem"), d.path().join("plain.pem")).unwrap();
        std::fs::write(d.path().join("pw"), format!("{FIXTURE_PW}\n")).unwrap();
        for f in ["enc.pem", "plain.pem", "pw", "."] {
            let p = d.path().join(f);
            std::os::unix::fs::chown(&p, Some(NOBODY), Some(NOBODY)).unwrap();
        }
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        d
    }

    /// The lines of a PEM file that are base64 (the key itself).
    fn pem_lines(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("-----") && l.len() >= 16)
            .map(str::to_owned)
            .collect()
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        !found(hay, &[needle.to_vec()]).is_empty()
    }

    /// The indexes of the `needles` (each at least 8 bytes) that occur in `hay`, in one
    /// pass over it (a core is tens of MiB; the test build is unoptimised).
    fn found(hay: &[u8], needles: &[Vec<u8>]) -> std::collections::BTreeSet<usize> {
        use std::collections::{BTreeSet, HashMap};
        // A table of the needles' first two bytes filters almost every position cheaply.
        let mut first = vec![false; 1 << 16];
        let mut by_prefix: HashMap<[u8; 2], Vec<usize>> = HashMap::new();
        for (i, n) in needles.iter().enumerate() {
            assert!(n.len() >= 8);
            first[usize::from(u16::from_le_bytes([n[0], n[1]]))] = true;
            by_prefix.entry([n[0], n[1]]).or_default().push(i);
        }
        let mut hits = BTreeSet::new();
        for (at, pair) in hay.windows(2).enumerate() {
            if !first[usize::from(u16::from_le_bytes([pair[0], pair[1]]))] {
                continue;
            }
            for &i in &by_prefix[&[pair[0], pair[1]]] {
                if hay[at..].starts_with(&needles[i]) {
                    hits.insert(i);
                }
            }
        }
        hits
    }

    /// Item 7. While `mint` waits on the network: `/proc/PID/limits` shows a core size of
    /// 0 (soft and hard), its /proc files belong to root although it runs as nobody (it is
    /// not dumpable), SIGABRT leaves no core file, and a core taken anyway by root with
    /// gdb's `gcore` (ptrace, which root may still do) holds no line of the key file, no
    /// line of the key as unencrypted PEM, not its PKCS#8 DER, and not the `--passin
    /// file:` password.
    #[test]
    fn a_waiting_mint_cannot_dump_core_and_its_memory_holds_no_key_text_nor_password() {
        require("gdb"); // gcore is its script
        require("setpriv");
        let d = scratch();
        let plain_der = std::fs::read(fixture("keys/base.pkcs8.der")).unwrap();
        let mut needles: Vec<(String, Vec<u8>)> = Vec::new();
        for f in ["enc.pem", "plain.pem"] {
            for l in pem_lines(&d.path().join(f)) {
                needles.push((format!("a line of {f}"), l.into_bytes()));
            }
        }
        needles.push(("the PKCS#8 DER".into(), plain_der));
        needles.push(("the password".into(), FIXTURE_PW.as_bytes().to_vec()));

        for key_args in [
            &["--key", "enc.pem", "--passin", "file:pw"][..],
            &["--key", "plain.pem"],
        ] {
            let w = waiting_mint(d.path(), key_args);
            let pid = w.child.id();
            let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
            let core = limits
                .lines()
                .find(|l| l.starts_with("Max core file size"))
                .unwrap();
            let fields: Vec<&str> = core.split_whitespace().collect();
            assert_eq!(&fields[4..6], ["0", "0"], "{core}");
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
            let uid = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
            assert!(uid.contains("65534"), "{uid}");
            let owner = std::fs::metadata(format!("/proc/{pid}/status"))
                .unwrap()
                .uid();
            assert_eq!(
                owner, 0,
                "/proc/{pid} belongs to {owner}: the process is dumpable"
            );

            let out = d.path().join("gcore");
            let g = Command::new("gcore")
                .arg("-o")
                .arg(&out)
                .arg(pid.to_string())
                .output()
                .unwrap();
            let core_file = d.path().join(format!("gcore.{pid}"));
            assert!(
                core_file.exists(),
                "gcore made no core: {}",
                String::from_utf8_lossy(&g.stderr)
            );
            let image = std::fs::read(&core_file).unwrap();
            std::fs::remove_file(&core_file).unwrap();
            assert!(image.len() > 1 << 20, "a core of {} bytes", image.len());
            let bytes: Vec<Vec<u8>> = needles.iter().map(|(_, n)| n.clone()).collect();
            let held: Vec<&str> = found(&image, &bytes)
                .into_iter()
                .map(|i| needles[i].0.as_str())
                .collect();
            assert!(
                held.is_empty(),
                "{key_args:?}: the core of a waiting mint holds {held:?}"
            );
            // The core is real: it holds what the process must hold (its command line).
            assert!(contains(&image, b"u@example.com"));

            // SIGABRT: no core file in its directory (or anywhere core_pattern points
            // relative to it).
            let before: Vec<_> = std::fs::read_dir(d.path())
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            let _ = Command::new("kill")
                .args(["-ABRT", &pid.to_string()])
                .status();
            let mut w = w;
            let st = w.child.wait().unwrap();
            assert!(!st.success());
            let after: Vec<_> = std::fs::read_dir(d.path())
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(before, after, "SIGABRT left a file");
        }
    }
}

// Items 1, 5 and 11: the token endpoint client.

/// A token endpoint on a free loopback port that records what it receives and answers
/// every request with `status` and `body`: what a local squatter would run.
struct Squatter {
    url: String,
    got: std::sync::mpsc::Receiver<String>,
}

fn squatter(status: u16, body: &'static str) -> Squatter {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, got) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { return };
            let mut r = BufReader::new(conn.try_clone().unwrap());
            let mut len = 0usize;
            let mut line = String::new();
            while r.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut req = vec![0u8; len];
            let _ = r.read_exact(&mut req);
            let _ = tx.send(String::from_utf8_lossy(&req).into_owned());
            let mut w = conn;
            let _ = write!(
                w,
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    Squatter { url, got }
}

/// The `aud` of the assertion in a token request body.
fn audience_of(form: &str) -> Vec<String> {
    let assertion = form
        .split('&')
        .find_map(|kv| kv.strip_prefix("assertion="))
        .expect("an assertion parameter");
    let parsed = certmint::jwt::parse(assertion).unwrap();
    parsed.claims.aud.unwrap().values().to_vec()
}

fn mint_to(login: &str, extra: &[&str]) -> Output {
    let d = crate::support::base_pair_in();
    let mut args = vec![
        "mint",
        "--key",
        "key.pem",
        "--client-id",
        "KEY_MAIN",
        "-u",
        "alice@example.com",
        "--login-url",
        login,
        "--connect-timeout",
        "5",
        "--timeout",
        "10",
    ];
    args.extend_from_slice(extra);
    let o = crate::support::certmint_offline()
        .args(&args)
        .current_dir(d.path())
        .output()
        .unwrap();
    drop(d);
    o
}

/// With a loopback `--login-url`, `mint` signed for `aud=https://login.salesforce.com` and
/// sent it over plain HTTP to whatever process held the port: any local user could bind
/// it and redeem the assertion at Salesforce for three minutes. A fake endpoint on a free
/// port records the request: the audience is now its own URL; only an explicit
/// `--audience login` sends Salesforce's, and then certmint warns.
#[test]
fn a_local_squatter_never_gets_an_assertion_salesforce_would_accept() {
    let refusal = r#"{"error":"invalid_grant","error_description":"audience is invalid"}"#;
    let s = squatter(400, refusal);
    let o = mint_to(&s.url, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", texts(&o).1);
    let aud = audience_of(&s.got.recv().unwrap());
    assert_eq!(aud, std::slice::from_ref(&s.url));
    assert!(!texts(&o).1.contains("warning"), "{}", texts(&o).1);

    // Asked for explicitly: sent, with a warning naming the risk.
    for (flag, real) in [
        ("login", "https://login.salesforce.com"),
        ("test", "https://test.salesforce.com"),
    ] {
        let o = mint_to(&s.url, &["--audience", flag]);
        let stderr = texts(&o).1;
        assert_eq!(audience_of(&s.got.recv().unwrap()), [real]);
        assert!(
            stderr.contains(&format!(
                "warning: the assertion for {real} goes to {}",
                s.url
            )) && stderr.contains("any user of this machine could hold"),
            "{stderr}"
        );
    }
}

/// The emulator still accepts what `mint` now sends, under each of its loopback names.
#[test]
fn mint_against_the_emulator_works_under_every_loopback_name() {
    let emu = crate::support::emulator::start(crate::support::emulator::acme());
    let port = emu.base_url().rsplit(':').next().unwrap().to_owned();
    for host in ["127.0.0.1", "localhost"] {
        let url = format!("http://{host}:{port}");
        let o = mint_to(&url, &["--json"]);
        let (stdout, stderr) = texts(&o);
        assert_eq!(o.status.code(), Some(0), "{url}: {stderr}");
        let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
        assert_eq!(v["audience"], url.as_str());
        assert_eq!(v["identity"]["verified"], true, "{stdout}");
    }
}

/// Names ending in `.localhost` counted as loopback by name, so plain HTTP (the assertion,
/// then the access token) could go to another machine when the name resolved elsewhere.
/// In a mount namespace whose /etc/hosts maps `emu.localhost` to 127.0.0.1 and
/// `evil.localhost` to 192.0.2.7: the first reaches the emulator, the second is refused
/// before any connection, naming the address. (The resolver seam's unit test covers
/// mixed answers and `localhost` itself: token_endpoint::tests.)
#[test]
fn a_localhost_name_that_resolves_elsewhere_gets_no_plain_http() {
    let ns = ["-rm"];
    let probe = std::process::Command::new("unshare")
        .args(ns)
        .arg("true")
        .output();
    assert!(
        probe.as_ref().is_ok_and(|o| o.status.success()),
        "this test needs `unshare -rm` (util-linux, user and mount namespaces): {probe:?}"
    );
    let emu = crate::support::emulator::start(crate::support::emulator::acme());
    let port = emu.base_url().rsplit(':').next().unwrap().to_owned();
    let d = crate::support::base_pair_in();
    let hosts = d.path().join("hosts");
    std::fs::write(
        &hosts,
        "127.0.0.1 localhost\n127.0.0.1 emu.localhost\n192.0.2.7 evil.localhost\n",
    )
    .unwrap();
    let run = |host: &str| {
        let script = format!(
            "mount --bind {} /etc/hosts && exec \"$0\" mint --key key.pem --client-id KEY_MAIN -u alice@example.com --login-url http://{host}:{port} --connect-timeout 3 --json",
            hosts.display()
        );
        std::process::Command::new("unshare")
            .args(ns)
            .args(["sh", "-c", &script, BIN])
            .current_dir(d.path())
            .env("NO_COLOR", "1")
            .env_remove("HTTPS_PROXY")
            .env_remove("ALL_PROXY")
            .output()
            .unwrap()
    };
    let o = run("emu.localhost");
    let (stdout, stderr) = texts(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["identity"]["verified"], true, "{stdout}");
    let o = run("evil.localhost");
    let (_, stderr) = texts(&o);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("refusing plain http:// to `evil.localhost`: it resolves to 192.0.2.7, which is not a loopback address"),
        "{stderr}"
    );
    // Refused by the resolution check, before any connection: the message names the
    // address the name resolves to (a timed-out connection would say "timed out").
    assert!(!stderr.contains("timed out"), "{stderr}");
}

/// `HTTP_PROXY` was used for HTTPS when `HTTPS_PROXY` was unset (curl does not), and a
/// proxy that refused the connection was reported as the target refusing. A listener
/// stands in for the proxy: with only HTTP_PROXY set it is never contacted; with
/// HTTPS_PROXY pointing at a closed port, the error names the proxy, not Salesforce.
#[test]
fn http_proxy_is_not_used_for_https_and_a_refusing_proxy_is_named() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let proxy = format!("http://{}", listener.local_addr().unwrap());
    let d = crate::support::base_pair_in();
    let run = |var: &str, value: &str| {
        crate::support::certmint_offline()
            .args([
                "mint",
                "--key",
                "key.pem",
                "--client-id",
                "K",
                "-u",
                "a@example.com",
                "--login-url",
                "https://acme.invalid",
                "--connect-timeout",
                "3",
                "--timeout",
                "3",
            ])
            .env(var, value)
            .current_dir(d.path())
            .output()
            .unwrap()
    };
    for var in ["HTTP_PROXY", "http_proxy"] {
        let o = run(var, &proxy);
        let stderr = texts(&o).1;
        assert_eq!(o.status.code(), Some(2), "{stderr}");
        assert!(
            listener.accept().is_err(),
            "{var} was used for HTTPS: {stderr}"
        );
        assert!(!stderr.contains("the proxy"), "{var}: {stderr}");
        assert!(stderr.contains("acme.invalid"), "{var}: {stderr}");
    }
    // A closed port: bind, note it, close it.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    for var in ["HTTPS_PROXY", "ALL_PROXY"] {
        let o = run(var, &format!("http://user:s3cret@{closed}"));
        let stderr = texts(&o).1;
        assert_eq!(o.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!("the proxy http://{closed} (from HTTPS_PROXY or ALL_PROXY) refused or dropped the connection")),
            "{var}: {stderr}"
        );
        assert!(
            stderr.contains("hint: check the proxy named above"),
            "{stderr}"
        );
        assert!(
            !stderr.contains("s3cret"),
            "the proxy password is shown: {stderr}"
        );
    }
}

// Item 12: the JKS is as weak as its password.

/// `init` wrote `server.jks` (Sun's key protector: about one SHA-1 per password guess)
/// under the same password as the 600,000-iteration `server.pass.key`, and said nothing
/// about it. The next steps now say so and advise deleting it once imported; a deleted
/// JKS is neither a failure for `check` nor remade by `init`; and `init --no-jks` makes
/// none, recorded in the manifest, so that `check`, `renew` and `rotate` do not expect it.
#[test]
fn the_jks_is_flagged_as_weak_removable_and_optional() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("pw"), format!("{FIXTURE_PW}\n")).unwrap();
    let base = ["--cn", "acme-jwt", "--org", "Acme", "--passout", "file:pw"];
    // Default: a JKS, and the warning in the next steps.
    let mut args = vec!["init", "with"];
    args.extend(base);
    let o = run_in(root.path(), &args);
    let stderr = texts(&o).1;
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("about one SHA-1 per password guess")
            && stderr.contains("only as strong as the password: delete it once imported")
            && stderr.contains("--no-jks"),
        "{stderr}"
    );
    let with = root.path().join("with");
    let g = current_gen(&with);
    assert!(g.join("server.jks").exists());
    std::fs::remove_file(g.join("server.jks")).unwrap();
    let o = run_in(root.path(), &["check", "with", "-v", "--passin", "file:pw"]);
    let (stdout, stderr) = texts(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("server.jks is not there (fine once imported"),
        "{stdout}"
    );
    let o = run_in(root.path(), &["init", "with", "--passout", "file:pw"]);
    assert_eq!(o.status.code(), Some(0), "{}", texts(&o).1);
    assert!(texts(&o).1.contains("nothing to do"), "{}", texts(&o).1);
    assert!(
        !g.join("server.jks").exists(),
        "init remade the deleted JKS"
    );

    // --no-jks: none, recorded, and not expected by check, renew or rotate.
    let mut args = vec!["init", "without", "--no-jks"];
    args.extend(base);
    let o = run_in(root.path(), &args);
    let stderr = texts(&o).1;
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("No JKS keystore (made with --no-jks)"),
        "{stderr}"
    );
    let without = root.path().join("without");
    assert!(
        std::fs::read_to_string(without.join("certmint.toml"))
            .unwrap()
            .contains("jks = false")
    );
    let jks_files = |dir: &Path| -> Vec<std::path::PathBuf> {
        std::fs::read_dir(dir)
            .unwrap()
            .flat_map(|e| {
                let p = e.unwrap().path();
                if p.is_dir() && !p.is_symlink() {
                    std::fs::read_dir(&p)
                        .unwrap()
                        .map(|f| f.unwrap().path())
                        .collect()
                } else {
                    vec![p]
                }
            })
            .filter(|p| p.extension().is_some_and(|x| x == "jks"))
            .collect()
    };
    assert!(jks_files(&without).is_empty());
    for args in [
        &["check", "without", "--passin", "file:pw"][..],
        &["renew", "without", "--passin", "file:pw", "-q"],
        &["check", "without"],
        &["rotate", "without", "--passin", "file:pw", "-q"],
        &["rotate", "without", "--activate", "-q"],
        &["check", "without", "-v"],
        &["init", "without", "--passout", "file:pw", "-q"],
    ] {
        let o = run_in(root.path(), args);
        let (stdout, stderr) = texts(&o);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {stdout}{stderr}");
        assert!(!stdout.contains("jks"), "{args:?}: {stdout}");
    }
    assert!(jks_files(&without).is_empty(), "{:?}", jks_files(&without));
    let m = certmint::workdir::load(&without).unwrap();
    assert_eq!(m.generations.len(), 3);
    assert!(!m.jks);
}
