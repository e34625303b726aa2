//! Crash-safe output files.
//!
//! Every file is written to a temp file in the target directory (created 0600), given its
//! final mode explicitly (so the umask does not matter), flushed with `fsync`, then renamed
//! into place; the directory is synced afterwards. A kill at any moment leaves either the
//! old state or the complete new file, never a partial one. Without `force`, the rename
//! refuses to replace an existing file (`link`/`renameat2(RENAME_NOREPLACE)` semantics, via
//! `tempfile::NamedTempFile::persist_noclobber`), so a race cannot clobber a key either.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Who may read the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Private keys, keystores, tokens: 0600.
    Secret,
    /// Certificates, CSRs, manifests: 0644.
    Public,
}

impl Mode {
    /// The Unix permission bits.
    pub fn bits(self) -> u32 {
        match self {
            Mode::Secret => 0o600,
            Mode::Public => 0o644,
        }
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Fail early (before any slow work) when `path` exists and `force` is off, or when its
/// directory does not exist.
pub fn check_target(path: &Path, force: bool) -> Result<()> {
    let dir = parent_dir(path);
    if !dir.is_dir() {
        return Err(Error::Io(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("directory {} does not exist", dir.display()),
        )));
    }
    if path.is_dir() {
        return Err(Error::Io(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "is a directory",
        )));
    }
    if !force && path.symlink_metadata().is_ok() {
        return Err(Error::AlreadyExists);
    }
    Ok(())
}

/// Write `data` to `path` atomically with the given mode.
pub fn write_atomic(path: &Path, data: &[u8], mode: Mode, force: bool) -> Result<()> {
    check_target(path, force)?;
    let dir = parent_dir(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(".certmint-")
        .suffix(".tmp")
        .tempfile_in(&dir)?;
    set_mode(tmp.as_file(), mode)?;
    tmp.write_all(data)?;
    tmp.as_file().sync_all()?;
    if force {
        tmp.persist(path).map_err(|e| Error::Io(e.error))?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                Error::AlreadyExists
            } else {
                Error::Io(e.error)
            }
        })?;
    }
    sync_dir(&dir);
    Ok(())
}

#[cfg(unix)]
fn set_mode(file: &std::fs::File, mode: Mode) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(mode.bits()))?;
    Ok(())
}

#[cfg(not(unix))]
fn set_mode(_file: &std::fs::File, _mode: Mode) -> Result<()> {
    Ok(())
}

fn sync_dir(dir: &Path) {
    // Durability of the rename; not every platform lets a directory be fsynced.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_with_mode_and_refuses_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.pem");
        write_atomic(&p, b"one", Mode::Secret, false).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"one");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let m = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(m, 0o600);
        }
        assert!(matches!(
            write_atomic(&p, b"two", Mode::Secret, false),
            Err(Error::AlreadyExists)
        ));
        assert_eq!(std::fs::read(&p).unwrap(), b"one");
        write_atomic(&p, b"three", Mode::Public, true).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"three");
        // No temp files left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("nope/k.pem");
        assert!(matches!(
            write_atomic(&p, b"x", Mode::Secret, false),
            Err(Error::Io(_))
        ));
    }
}
