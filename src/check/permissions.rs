//! Who else may change or read a certmint directory: a directory or file writable by
//! group or others lets them replace `current/server.crt` (the file uploaded to the app)
//! or edit `certmint.toml`; a private key or keystore readable by them gives the key
//! away (ssh refuses such a key). certmint creates directories 0700 and secret files
//! 0600 whatever the umask; this finds what was loosened afterwards (or made by an older
//! certmint, or by hand).

use std::path::Path;

use super::{Check, Finding, Status};
use crate::manifest::{self, Manifest};
use crate::text::escape;

/// Group- or other-writable bits.
const WRITABLE_BY_OTHERS: u32 = 0o022;
/// Any group or other bit: what ssh refuses on a private key.
const OPEN_TO_OTHERS: u32 = 0o077;

/// The permission findings for `dir` and every generation of `m`: one failure per
/// directory or file that others may write (or, for a secret, read), each with its
/// `chmod`; a single pass when there is none.
pub(super) fn findings(dir: &Path, m: &Manifest) -> Vec<Finding> {
    let mut out = Vec::new();
    let shown = |p: &Path| escape(&p.display().to_string());
    let mut dir_check = |path: &Path, label: Option<&str>| {
        if let Some(mode) = mode_of(path).filter(|m| m & WRITABLE_BY_OTHERS != 0) {
            let f = Finding::new(
                Check::Permissions,
                Status::Fail,
                format!(
                    "{} is writable by other users (mode {mode:04o}): they can replace the certificate uploaded to the app or edit the manifest",
                    shown(path)
                ),
            )
            .fix(format!("chmod 700 {}", shown(path)));
            out.push(match label {
                Some(g) => f.generation(g),
                None => f,
            });
        }
    };
    dir_check(dir, None);
    for g in &m.generations {
        dir_check(&dir.join(&g.dir), Some(g.dir.as_str()));
    }
    let manifest_path = dir.join(manifest::FILE_NAME);
    if let Some(mode) = mode_of(&manifest_path).filter(|m| m & WRITABLE_BY_OTHERS != 0) {
        out.push(
            Finding::new(
                Check::Permissions,
                Status::Fail,
                format!(
                    "{} is writable by other users (mode {mode:04o})",
                    manifest::FILE_NAME
                ),
            )
            .fix(format!("chmod 644 {}", shown(&manifest_path))),
        );
    }
    for g in &m.generations {
        for (role, rec) in &g.files {
            let path = dir.join(&g.dir).join(&rec.name);
            let Some(mode) = mode_of(&path) else { continue };
            let (bad, what, fix) = if role.is_secret() {
                (
                    mode & OPEN_TO_OTHERS != 0,
                    "is open to other users: it holds the private key",
                    "600",
                )
            } else {
                (
                    mode & WRITABLE_BY_OTHERS != 0,
                    "is writable by other users",
                    "644",
                )
            };
            if bad {
                out.push(
                    Finding::new(
                        Check::Permissions,
                        Status::Fail,
                        format!("{} {what} (mode {mode:04o})", rec.name),
                    )
                    .generation(g.dir.as_str())
                    .fix(format!("chmod {fix} {}", shown(&path))),
                );
            }
        }
    }
    if out.is_empty() {
        out.push(Finding::new(
            Check::Permissions,
            Status::Pass,
            "no directory or file is writable by other users, and no key or keystore readable by them",
        ));
    }
    out
}

/// The keys and keystores of `dir` (every generation of `m`) that other users may read
/// or change, with their modes: what a command that reads them warns about.
pub fn exposed_secrets(dir: &Path, m: &Manifest) -> Vec<(std::path::PathBuf, u32)> {
    let mut out = Vec::new();
    for g in &m.generations {
        for (role, rec) in &g.files {
            let path = dir.join(&g.dir).join(&rec.name);
            if let Some(mode) =
                mode_of(&path).filter(|m| role.is_secret() && m & OPEN_TO_OTHERS != 0)
            {
                out.push((path, mode));
            }
        }
    }
    out
}

/// The permission bits of `path` (following symlinks), if it exists.
#[cfg(unix)]
fn mode_of(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn mode_of(_path: &Path) -> Option<u32> {
    None
}
