//! Unwritable targets (issue 7): a read-only directory, a directory without write
//! permission, and a full disk each give a clear error naming the file and saying what to
//! do, exit 2, leave no partial or temp file, and leave every existing file untouched.
//!
//! Root ignores directory permissions (and CI runs as root), so these tests do not rely on
//! them: they run certmint inside a user and mount namespace (`unshare` from util-linux)
//! where the directory is a read-only bind mount, or a 64 KiB tmpfs filled up, or where
//! certmint runs as an unprivileged user. When namespaces are unavailable the tests fail
//! and say what to enable; they never skip.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{BIN, FIXTURE_PW, fixture, stderr};

const PW: &str = "disk-pass";

/// `unshare ARGS true` must work, or the test fails with what to install or enable.
fn require_unshare(args: &[&str]) {
    let out = Command::new("unshare").args(args).arg("true").output();
    match out {
        Ok(o) if o.status.success() => {}
        other => panic!(
            "this test needs `unshare {}` (user and mount namespaces) and it is not usable: {other:?}\n\
             install util-linux, and allow unprivileged user namespaces \
             (sysctl -w kernel.unprivileged_userns_clone=1 and user.max_user_namespaces > 0; \
             in a container, run it with --privileged or a seccomp/AppArmor profile that allows unshare)",
            args.join(" ")
        ),
    }
}

/// Inputs (outside the target directory) and the command lines to try.
struct Inputs {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

fn inputs() -> Inputs {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    std::fs::copy(fixture("keys/base.pkcs8.pem"), dir.join("server.key")).unwrap();
    std::fs::copy(fixture("keys/enc-aes256.pem"), dir.join("server.pass.key")).unwrap();
    std::fs::copy(fixture("certs/base.crt"), dir.join("server.crt")).unwrap();
    std::fs::write(dir.join("pw.txt"), format!("{FIXTURE_PW}\n")).unwrap();
    Inputs { _tmp: tmp, dir }
}

/// Each writing command, with its output file name in the target directory `T`.
fn commands(inp: &Path, target: &Path) -> Vec<(&'static str, Vec<String>, &'static str)> {
    let i = |f: &str| inp.join(f).display().to_string();
    let t = |f: &str| target.join(f).display().to_string();
    vec![
        (
            "key",
            vec![
                "key".into(),
                "--out".into(),
                t("new.pass.key"),
                "--passout".into(),
                "env:DISK_PW".into(),
                "--kdf".into(),
                "scrypt".into(),
            ],
            "new.pass.key",
        ),
        (
            "decrypt",
            vec![
                "decrypt".into(),
                i("server.pass.key"),
                "--out".into(),
                t("plain.key"),
                "--passin".into(),
                format!("file:{}", i("pw.txt")),
            ],
            "plain.key",
        ),
        (
            "cert",
            vec![
                "cert".into(),
                "--key".into(),
                i("server.key"),
                "--subj".into(),
                "/CN=acme-jwt".into(),
                "--out".into(),
                t("new.crt"),
            ],
            "new.crt",
        ),
        (
            "p12",
            vec![
                "p12".into(),
                "--cert".into(),
                i("server.crt"),
                "--key".into(),
                i("server.key"),
                "--out".into(),
                t("new.p12"),
                "--passout".into(),
                "env:DISK_PW".into(),
            ],
            "new.p12",
        ),
        (
            "p12 --force over an existing keystore",
            vec![
                "p12".into(),
                "--cert".into(),
                i("server.crt"),
                "--key".into(),
                i("server.key"),
                "--out".into(),
                t("old.p12"),
                "--passout".into(),
                "env:DISK_PW".into(),
                "--force".into(),
            ],
            "old.p12",
        ),
        (
            "jks",
            vec![
                "jks".into(),
                "--cert".into(),
                i("server.crt"),
                "--key".into(),
                i("server.key"),
                "--out".into(),
                t("new.jks"),
                "--passout".into(),
                "env:DISK_PW".into(),
                "--alias".into(),
                "acme_jwt".into(),
            ],
            "new.jks",
        ),
    ]
}

/// The files a target directory starts with: an old keystore and an unrelated file.
fn fill_target(dir: &Path) {
    std::fs::write(dir.join("old.p12"), b"previous keystore bytes").unwrap();
    std::fs::write(dir.join("notes.txt"), b"keep me\n").unwrap();
}

fn listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap_or_default(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Check one failed write: exit 2, the message names the output path, the cause and the
/// hint are the expected ones.
fn assert_clear_error(name: &str, o: &Output, out_path: &Path, cause: &str, hint: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{name}: {err}");
    assert!(
        err.contains(&format!("error: cannot write `{}`", out_path.display())),
        "{name}: the error must name the file: {err}"
    );
    assert!(
        err.contains(cause),
        "{name}: expected cause `{cause}`: {err}"
    );
    assert!(err.contains(hint), "{name}: expected hint `{hint}`: {err}");
    assert!(
        !err.contains(PW) && !err.contains(FIXTURE_PW),
        "{name}: a password leaked: {err}"
    );
}

#[test]
fn read_only_directory_is_a_clear_error_and_nothing_changes() {
    require_unshare(&["-rm"]);
    let inp = inputs();
    let target = tempfile::tempdir().unwrap();
    fill_target(target.path());
    let before = listing(target.path());
    // Inside a user+mount namespace the target becomes a read-only bind mount; outside,
    // nothing changes, so the directory is inspected afterwards on the host.
    let script = r#"mount --bind "$T" "$T" && mount -o remount,bind,ro "$T" || exit 99; exec "$@""#;
    for (name, args, out) in commands(&inp.dir, target.path()) {
        let o = Command::new("unshare")
            .args(["-rm", "sh", "-c", script, "sh", BIN])
            .args(&args)
            .env("T", target.path())
            .env("DISK_PW", PW)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert_ne!(
            o.status.code(),
            Some(99),
            "could not make a read-only bind mount: {}",
            stderr(&o)
        );
        assert_clear_error(
            name,
            &o,
            &target.path().join(out),
            "Read-only file system",
            "write to a writable directory; existing files were not touched",
        );
        assert_eq!(
            listing(target.path()),
            before,
            "{name}: the directory changed"
        );
    }
}

#[test]
fn directory_without_write_permission_is_a_clear_error_and_nothing_changes() {
    // As an unprivileged user (uid 65534 in a user namespace, so this works for root too,
    // who would otherwise ignore the permissions), in a directory with mode 0555.
    let ns = ["-U", "--map-user=65534", "--map-group=65534"];
    require_unshare(&ns);
    let inp = inputs();
    let target = tempfile::tempdir().unwrap();
    fill_target(target.path());
    let before = listing(target.path());
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(target.path(), std::fs::Permissions::from_mode(0o555)).unwrap();
    for (name, args, out) in commands(&inp.dir, target.path()) {
        let o = Command::new("unshare")
            .args(ns)
            .arg(BIN)
            .args(&args)
            .env("DISK_PW", PW)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert_clear_error(
            name,
            &o,
            &target.path().join(out),
            "Permission denied",
            "check the permissions of the file and its directory",
        );
        assert_eq!(
            listing(target.path()),
            before,
            "{name}: the directory changed"
        );
    }
    std::fs::set_permissions(target.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn full_disk_is_a_clear_error_and_nothing_changes() {
    require_unshare(&["-rm"]);
    let inp = inputs();
    // The initial contents, copied into a 64 KiB tmpfs that is then filled to the last
    // byte; afterwards the tmpfs is copied out to be inspected on the host.
    let seed = tempfile::tempdir().unwrap();
    fill_target(seed.path());
    let script = r#"mount -t tmpfs -o size=64k tmpfs "$T" || exit 99
cp -a "$SEED"/. "$T"/ || exit 99
dd if=/dev/zero of="$T/filler" bs=4096 2>/dev/null
"$@"; rc=$?
cp -a "$T"/. "$OUT"/ || exit 98
exit $rc"#;
    for (name, args, out) in commands(&inp.dir, Path::new("/placeholder")) {
        let target = tempfile::tempdir().unwrap();
        let after = tempfile::tempdir().unwrap();
        let args: Vec<String> = args
            .into_iter()
            .map(|a| a.replace("/placeholder", &target.path().display().to_string()))
            .collect();
        let o = Command::new("unshare")
            .args(["-rm", "sh", "-c", script, "sh", BIN])
            .args(&args)
            .env("T", target.path())
            .env("SEED", seed.path())
            .env("OUT", after.path())
            .env("DISK_PW", PW)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert!(
            !matches!(o.status.code(), Some(98 | 99)),
            "could not set up the full tmpfs: {}",
            stderr(&o)
        );
        assert_clear_error(
            name,
            &o,
            &target.path().join(out),
            "No space left on device",
            "free some disk space and run the command again; existing files were not touched",
        );
        let mut expected = listing(seed.path());
        let got: Vec<(String, Vec<u8>)> = listing(after.path())
            .into_iter()
            .filter(|(n, _)| n != "filler")
            .collect();
        expected.sort();
        assert_eq!(got, expected, "{name}: the directory changed");
        // The host directory under the tmpfs was never touched.
        assert!(listing(target.path()).is_empty());
    }
}

/// Issue 12, item 25: `init` on a full disk said only "No space left on device (os error
/// 28)". The error names the file it could not write; a re-run once there is room
/// finishes the directory.
#[test]
fn init_on_a_full_disk_names_the_file_it_could_not_write() {
    require_unshare(&["-rm"]);
    let target = tempfile::tempdir().unwrap();
    let after = tempfile::tempdir().unwrap();
    // Fill the 64 KiB tmpfs but a few blocks at several sizes, so that init stops at
    // different files (the manifest, the key, a keystore); each time the file is named.
    let script = r#"mount -t tmpfs -o size=64k tmpfs "$T" || exit 99
dd if=/dev/zero of="$T/filler" bs=1024 count="$FILL" 2>/dev/null
"$@"; rc=$?
rm -f "$T/filler"
"$@" >/dev/null 2>&1 || exit 97
cp -a "$T"/. "$OUT"/ || exit 98
exit $rc"#;
    for fill in ["64", "60", "54"] {
        let dir = target.path().join("acme");
        let o = Command::new("unshare")
            .args(["-rm", "sh", "-c", script, "sh", BIN])
            .args([
                "init",
                dir.to_str().unwrap(),
                "--cn",
                "acme-jwt",
                "--passout",
                "env:DISK_PW",
            ])
            .env("T", target.path())
            .env("OUT", after.path())
            .env("FILL", fill)
            .env("DISK_PW", PW)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert!(
            !matches!(o.status.code(), Some(97..=99)),
            "fill {fill}: could not set up the full tmpfs, or the re-run failed: {}",
            stderr(&o)
        );
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "fill {fill}: {err}");
        let cause = err
            .lines()
            .find_map(|l| l.trim().strip_prefix("cause: "))
            .unwrap_or_else(|| panic!("fill {fill}: {err}"));
        assert!(
            cause.starts_with(&format!("`{}", dir.display()))
                && cause.contains("`: No space left on device"),
            "fill {fill}: the cause must name the file: {err}"
        );
        assert!(
            err.contains("hint: free some disk space and run the command again"),
            "fill {fill}: {err}"
        );
        assert!(!err.contains(PW), "fill {fill}: a password leaked: {err}");
        // The re-run with room finished it.
        assert!(
            after.path().join("acme/certmint.toml").is_file(),
            "fill {fill}"
        );
        std::fs::remove_dir_all(after.path().join("acme")).unwrap();
    }
}
