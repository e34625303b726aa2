//! Crash-safe output files.
//!
//! Every file is written to a temp file in the target directory (created 0600), given its
//! final mode explicitly (so the umask does not matter), flushed with `fsync`, then put in
//! place; the directory is synced afterwards. A kill at any moment leaves either the old
//! state or the complete new file, never a partial one. Without `force`, nothing replaces
//! an existing file (`linkat` or `renameat2(RENAME_NOREPLACE)` semantics), so a race cannot
//! clobber a key either.
//!
//! # Temp files and SIGKILL
//!
//! On Linux the temp file is unnamed (`O_TMPFILE`): it has no name until it is complete,
//! and a kill before that leaves nothing behind, because the kernel frees an unnamed file
//! when its last descriptor closes. The file is then linked in place (`linkat`, which
//! fails on an existing name), or, with `force`, linked as `.certmint-XXXXXXXX.tmp` and
//! renamed over the old file: only a kill between those two calls (microseconds) can leave
//! that name behind. Where `O_TMPFILE` is unavailable (another OS, some network file
//! systems), the temp file is a named `.certmint-XXXXXX.tmp` for the whole write, and a
//! kill can leave it.
//!
//! Either way a temp file holds an exclusive `flock` for as long as its writer lives, and
//! every write removes the `.certmint-*.tmp` files in its directory whose lock is free
//! (their writer is dead: see [`clean_stale_temps`]). Readers that list a directory
//! ignore these names ([`is_temp_name`]).

use std::ffi::OsStr;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::FileKind;
use crate::{Error, Result};

/// Prefix of certmint's temp files.
pub const TEMP_PREFIX: &str = ".certmint-";
/// Suffix of certmint's temp files.
pub const TEMP_SUFFIX: &str = ".tmp";

/// True for the name of one of certmint's temp files (`.certmint-*.tmp`): directory
/// readers ignore these, and writers remove the stale ones.
pub fn is_temp_name(name: &OsStr) -> bool {
    name.to_str().is_some_and(|n| {
        n.len() > TEMP_PREFIX.len() + TEMP_SUFFIX.len()
            && n.starts_with(TEMP_PREFIX)
            && n.ends_with(TEMP_SUFFIX)
    })
}

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

/// Fail early (before any slow work) when `path` exists and `force` is off, when it is
/// anything but a regular file (`force` replaces only regular files: never a device such
/// as `/dev/null`, a FIFO, a socket, a directory or a symbolic link, which a rename would
/// replace with a file holding the secret), or when its directory does not exist.
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
    if let Ok(meta) = path.symlink_metadata() {
        if !force {
            return Err(Error::AlreadyExists);
        }
        if let Some(kind) = FileKind::of(&meta.file_type()) {
            return Err(Error::NotRegularFile(kind));
        }
    }
    // A read-only or unwritable directory fails here, before a key is generated, not
    // after. The probe is an unnamed file: it leaves nothing behind.
    #[cfg(target_os = "linux")]
    drop(unnamed::create(&dir)?);
    Ok(())
}

/// Create the directory `path` with mode 0700 whatever the umask (a certmint directory and
/// its generations: under umask 000 they would otherwise be 0777, and anyone could
/// replace `current/server.crt` or edit `certmint.toml`). Fails if it exists.
pub fn create_private_dir(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new().mode(0o700).create(path)?;
        // The umask can only take bits away; set the mode itself so that it is exactly 0700.
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))?;
    }
    #[cfg(not(unix))]
    std::fs::create_dir(path)?;
    Ok(())
}

/// Write `data` to `path` atomically with the given mode (see the module documentation).
pub fn write_atomic(path: &Path, data: &[u8], mode: Mode, force: bool) -> Result<()> {
    check_target(path, force)?;
    let dir = parent_dir(path);
    clean_stale_temps(&dir);
    #[cfg(target_os = "linux")]
    if let Some(file) = unnamed::create(&dir)? {
        fill(&file, data, mode)?;
        if unnamed::publish(&file, &dir, path, force)? {
            sync_dir(&dir);
            return Ok(());
        }
        // The file system cannot link an unnamed file: write a named temp file instead.
    }
    write_named(&dir, path, data, mode, force)?;
    sync_dir(&dir);
    Ok(())
}

/// The portable path: a named, locked `.certmint-*.tmp` in `dir`, persisted into place.
fn write_named(dir: &Path, path: &Path, data: &[u8], mode: Mode, force: bool) -> Result<()> {
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)?;
    // Held until the temp file is gone, so no other writer takes it for stale.
    let _ = tmp.as_file().try_lock();
    fill(tmp.as_file(), data, mode)?;
    tmp.flush()?;
    if force {
        replaceable(path)?;
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
    Ok(())
}

/// Just before a rename over `path`: it is absent or a regular file (checked again, as
/// [`check_target`] did before the slow work, so that what was swapped in meanwhile is
/// not replaced either).
fn replaceable(path: &Path) -> Result<()> {
    match path.symlink_metadata() {
        Ok(meta) => match FileKind::of(&meta.file_type()) {
            Some(kind) => Err(Error::NotRegularFile(kind)),
            None => Ok(()),
        },
        Err(_) => Ok(()),
    }
}

/// Give the temp file its mode and contents, and flush them to the disk.
fn fill(mut file: &File, data: &[u8], mode: Mode) -> Result<()> {
    set_mode(file, mode)?;
    file.write_all(data)?;
    file.sync_all()?;
    Ok(())
}

/// Remove the `.certmint-*.tmp` files in `dir` that no live writer holds (a writer keeps
/// an exclusive lock on its temp file until it is renamed or removed), i.e. those left by
/// a killed run. Best effort: errors are ignored, and files that cannot be locked (another
/// certmint is writing them) are kept. Returns how many were removed.
pub fn clean_stale_temps(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        if !is_temp_name(&entry.file_name()) {
            continue;
        }
        let path = entry.path();
        let is_file = path
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_file());
        if !is_file {
            continue;
        }
        let Ok(f) = File::open(&path) else { continue };
        if f.try_lock().is_ok() && std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Unnamed temp files (`O_TMPFILE`) on Linux.
#[cfg(target_os = "linux")]
mod unnamed {
    use std::fs::File;
    use std::os::fd::AsRawFd;
    use std::path::Path;

    use rustix::fs::{AtFlags, CWD, Mode, OFlags};
    use rustix::io::Errno;

    use crate::{Error, Result};

    /// An unnamed, locked file in `dir`, or `None` when the file system (or kernel) has
    /// no `O_TMPFILE`.
    pub(super) fn create(dir: &Path) -> Result<Option<File>> {
        let flags = OFlags::WRONLY | OFlags::TMPFILE | OFlags::CLOEXEC;
        match rustix::fs::openat(CWD, dir, flags, Mode::RUSR | Mode::WUSR) {
            Ok(fd) => {
                let file = File::from(fd);
                let _ = file.try_lock();
                Ok(Some(file))
            }
            // The errors that say the directory cannot be written at all; any other (no
            // O_TMPFILE on this file system or kernel: EOPNOTSUPP, EISDIR, EINVAL ...)
            // means "use a named temp file", which reports a real problem itself.
            Err(
                e @ (Errno::ROFS
                | Errno::ACCESS
                | Errno::PERM
                | Errno::NOSPC
                | Errno::DQUOT
                | Errno::NOENT
                | Errno::NOTDIR),
            ) => Err(Error::Io(e.into())),
            Err(_) => Ok(None),
        }
    }

    /// True when a `link` error means "this system cannot link an unnamed file" (no
    /// /proc and no CAP_DAC_READ_SEARCH, or a file system without the support) rather
    /// than a problem with the target.
    fn cannot_link(e: Errno) -> bool {
        matches!(
            e,
            Errno::NOENT
                | Errno::PERM
                | Errno::INVAL
                | Errno::OPNOTSUPP
                | Errno::NOSYS
                | Errno::XDEV
        )
    }

    /// Give the file the name `to` (failing with `EEXIST` if taken), through `/proc`, or
    /// `AT_EMPTY_PATH` (which needs `CAP_DAC_READ_SEARCH`) when `/proc` is not mounted.
    fn link(file: &File, to: &Path) -> std::result::Result<(), Errno> {
        let proc_path = format!("/proc/self/fd/{}", file.as_raw_fd());
        match rustix::fs::linkat(CWD, proc_path.as_str(), CWD, to, AtFlags::SYMLINK_FOLLOW) {
            Err(Errno::NOENT) => rustix::fs::linkat(file, "", CWD, to, AtFlags::EMPTY_PATH),
            other => other,
        }
    }

    /// Put the complete file at `path`: linked there directly, or, with `force`, linked
    /// under a fresh temp name and renamed over whatever is at `path`. `Ok(false)` when
    /// the system cannot link an unnamed file (nothing was changed).
    pub(super) fn publish(file: &File, dir: &Path, path: &Path, force: bool) -> Result<bool> {
        if !force {
            return match link(file, path) {
                Ok(()) => Ok(true),
                Err(Errno::EXIST) => Err(Error::AlreadyExists),
                Err(e) if cannot_link(e) => Ok(false),
                Err(e) => Err(Error::Io(e.into())),
            };
        }
        for _ in 0..16 {
            let mut r = [0u8; 6];
            getrandom::fill(&mut r).map_err(Error::internal)?;
            let hex: String = r.iter().map(|b| format!("{b:02x}")).collect();
            let tmp = dir.join(format!("{}{hex}{}", super::TEMP_PREFIX, super::TEMP_SUFFIX));
            match link(file, &tmp) {
                Ok(()) => {
                    if let Err(e) = super::replaceable(path) {
                        let _ = std::fs::remove_file(&tmp);
                        return Err(e);
                    }
                    return std::fs::rename(&tmp, path).map(|()| true).map_err(|e| {
                        let _ = std::fs::remove_file(&tmp);
                        Error::Io(e)
                    });
                }
                Err(Errno::EXIST) => continue,
                Err(e) if cannot_link(e) => return Ok(false),
                Err(e) => return Err(Error::Io(e.into())),
            }
        }
        Err(Error::Io(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "no free temp file name",
        )))
    }
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
    fn the_named_fallback_writes_and_refuses_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.pem");
        write_named(dir.path(), &p, b"one", Mode::Secret, false).unwrap();
        assert!(matches!(
            write_named(dir.path(), &p, b"two", Mode::Secret, false),
            Err(Error::AlreadyExists)
        ));
        write_named(dir.path(), &p, b"three", Mode::Public, true).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"three");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [OsStr::new("k.pem")]);
    }

    #[test]
    fn temp_names() {
        assert!(is_temp_name(OsStr::new(".certmint-a1B2c3.tmp")));
        assert!(!is_temp_name(OsStr::new(".certmint-.tmp")));
        assert!(!is_temp_name(OsStr::new("certmint-a.tmp")));
        assert!(!is_temp_name(OsStr::new(".certmint-a.tmp.bak")));
    }

    #[test]
    fn stale_temps_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join(".certmint-dead01.tmp");
        std::fs::write(&stale, b"partial").unwrap();
        let live = dir.path().join(".certmint-live01.tmp");
        std::fs::write(&live, b"being written").unwrap();
        let holder = File::open(&live).unwrap();
        holder.try_lock().unwrap();
        let other = dir.path().join("notes.tmp");
        std::fs::write(&other, b"not ours").unwrap();
        write_atomic(&dir.path().join("k.pem"), b"key", Mode::Secret, false).unwrap();
        assert!(!stale.exists(), "a stale temp file survived a write");
        assert!(live.exists(), "a locked temp file was removed");
        assert!(other.exists());
        drop(holder);
        assert_eq!(clean_stale_temps(dir.path()), 1);
        assert!(!live.exists());
    }

    #[test]
    fn force_replaces_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ks.p12");
        for (i, data) in [&b"first"[..], b"second", b"third"].iter().enumerate() {
            write_atomic(&p, data, Mode::Secret, i > 0).unwrap();
            assert_eq!(std::fs::read(&p).unwrap(), *data);
        }
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [OsStr::new("ks.p12")]);
    }

    #[test]
    fn force_replaces_only_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.key");
        std::fs::write(&target, b"old").unwrap();
        let link = dir.path().join("link.key");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let fifo = dir.path().join("fifo.key");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        for (path, kind) in [
            (&link, FileKind::Symlink),
            (&fifo, FileKind::Fifo),
            (&Path::new("/dev/null").to_path_buf(), FileKind::CharDevice),
        ] {
            let got = write_atomic(path, b"secret", Mode::Secret, true);
            assert!(
                matches!(got, Err(Error::NotRegularFile(k)) if k == kind),
                "{path:?}: {got:?}"
            );
        }
        assert!(write_atomic(&sub, b"secret", Mode::Secret, true).is_err());
        assert!(sub.is_dir());
        assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        {
            use std::os::unix::fs::FileTypeExt;
            let null = std::fs::symlink_metadata("/dev/null").unwrap().file_type();
            assert!(null.is_char_device(), "/dev/null was replaced");
        }
        // The named fallback refuses too.
        assert!(matches!(
            write_named(dir.path(), &link, b"secret", Mode::Secret, true),
            Err(Error::NotRegularFile(FileKind::Symlink))
        ));
        assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
        write_atomic(&target, b"new", Mode::Secret, true).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
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
