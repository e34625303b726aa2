//! The one way certmint reads a file: a regular file only, bounded in size, into a buffer
//! that is wiped when dropped.
//!
//! Every input file and every file of a certmint directory is read through [`read`] or
//! [`read_secret`]. The file is opened first and checked afterwards, on the open
//! descriptor (`fstat`), so what is checked is what is read:
//!
//! - On Linux it is opened with `O_NONBLOCK`: a FIFO put in place of `server.crt` opens at
//!   once instead of waiting for a writer (a cron `check` would hang silently), and is then
//!   refused. Opening never makes a terminal the controlling one (`O_NOCTTY`).
//! - Anything but a regular file is refused with [`Error::NotRegularFile`], which names
//!   what is there: a FIFO, a device (a symlink to `/dev/zero` is refused as the character
//!   device it points at, before a byte is read), a socket or a directory. Symlinks to
//!   regular files are followed (`current/` is one).
//! - At most [`MAX_INPUT`] bytes (or the caller's smaller limit) are read, whatever the
//!   size the metadata claims; more is [`Error::TooLarge`].
//! - One exception, [`read_named_input`]: a file the user names on the command line may
//!   be a pipe this process already holds (`--key <(vault read ...)`, `/dev/stdin`), read
//!   to its end within the same bound; a named FIFO is refused everywhere.
//! - The buffer is sized from the file's length before reading, so it does not grow (and
//!   leave copies of a key in freed memory) while the file is read; if the file grows
//!   meanwhile, the old buffer is wiped when a larger one replaces it.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use zeroize::Zeroizing;

use crate::error::FileKind;
use crate::{Error, Result};

/// Largest file certmint reads: 16 MiB (keys, certificates and keystores are a few KiB).
pub const MAX_INPUT: u64 = 16 * 1024 * 1024;

/// Read a whole regular file of at most [`MAX_INPUT`] bytes (see the module
/// documentation).
pub fn read(path: &Path) -> Result<Vec<u8>> {
    read_at_most(path, MAX_INPUT).map(|mut z| std::mem::take(&mut *z))
}

/// [`read`] into a buffer that is wiped when dropped: for keys, keystores and anything
/// that may hold one.
pub fn read_secret(path: &Path) -> Result<Zeroizing<Vec<u8>>> {
    read_at_most(path, MAX_INPUT)
}

/// [`read_secret`] with another bound (the manifest is read up to 1 MiB, the emulator's
/// state file up to 64 MiB).
pub fn read_at_most(path: &Path, limit: u64) -> Result<Zeroizing<Vec<u8>>> {
    let file = open_regular(path)?;
    let claimed = file.metadata()?.len();
    if claimed > limit {
        return Err(Error::TooLarge { limit });
    }
    fill(file, claimed, limit)
}

/// [`read_secret`] for a file the user named on the command line: a regular file, or a
/// pipe this process already holds open, named through `/dev/fd/N`, `/proc/self/fd/N`
/// or `/dev/stdin` (process substitution such as `--key <(vault read ...)` keeps a key
/// off the disk), read to its end, at most [`MAX_INPUT`] bytes. A named FIFO anywhere on
/// the file system is still refused at once (it could make a cron job wait forever), as
/// are devices, sockets and directories.
pub fn read_named_input(path: &Path) -> Result<Zeroizing<Vec<u8>>> {
    if !names_an_open_descriptor(path) {
        return read_secret(path);
    }
    let file = File::open(path)?;
    match FileKind::of(&file.metadata()?.file_type()) {
        Some(FileKind::Fifo) | None => fill(file, 0, MAX_INPUT),
        Some(kind) => Err(Error::NotRegularFile(kind)),
    }
}

/// `/dev/fd/N`, `/proc/self/fd/N` or `/dev/stdin`: a descriptor this process holds.
fn names_an_open_descriptor(path: &Path) -> bool {
    let Some(p) = path.to_str() else {
        return false;
    };
    let fd = p
        .strip_prefix("/dev/fd/")
        .or_else(|| p.strip_prefix("/proc/self/fd/"));
    p == "/dev/stdin" || fd.is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Open `path` for reading and make sure it is a regular file, checking the descriptor
/// that was opened (not the name, which may change in between).
pub fn open_regular(path: &Path) -> Result<File> {
    let file = open_nonblocking(path)?;
    let kind = file.metadata()?.file_type();
    match FileKind::of(&kind) {
        None => Ok(file),
        Some(kind) => Err(Error::NotRegularFile(kind)),
    }
}

/// The permission bits of `path` (following symlinks) when group or other users have any
/// access to it: what ssh refuses for a private key file. `None` when only the owner has.
#[cfg(unix)]
pub fn open_to_others(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o7777;
    (mode & 0o077 != 0).then_some(mode)
}

/// Elsewhere, permissions are not Unix modes: `None`.
#[cfg(not(unix))]
pub fn open_to_others(_path: &Path) -> Option<u32> {
    None
}

#[cfg(target_os = "linux")]
fn open_nonblocking(path: &Path) -> Result<File> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    let fd = rustix::fs::open(path, flags, Mode::empty()).map_err(std::io::Error::from)?;
    Ok(File::from(fd))
}

/// Elsewhere there is no portable `O_NONBLOCK` in std: the name is checked before opening
/// (a FIFO swapped in between would block; the descriptor is checked again after).
#[cfg(not(target_os = "linux"))]
fn open_nonblocking(path: &Path) -> Result<File> {
    if let Some(kind) = FileKind::of(&std::fs::metadata(path)?.file_type()) {
        return Err(Error::NotRegularFile(kind));
    }
    Ok(File::open(path)?)
}

/// Read all of `file` (whose metadata says `claimed` bytes) into a wiped-on-drop buffer,
/// refusing more than `limit` bytes.
fn fill(mut file: File, claimed: u64, limit: u64) -> Result<Zeroizing<Vec<u8>>> {
    // One byte more than claimed, so that the end of the file is seen without growing.
    let first = usize::try_from(claimed.saturating_add(1).min(limit.saturating_add(1)))
        .map_err(|_| Error::TooLarge { limit })?;
    let mut buf = Zeroizing::new(vec![0u8; first.max(1)]);
    let mut len = 0usize;
    loop {
        if len == buf.len() {
            let max = usize::try_from(limit.saturating_add(1)).unwrap_or(usize::MAX);
            if len >= max {
                return Err(Error::TooLarge { limit });
            }
            // The file grew while it was read: a larger buffer, the old one wiped on drop.
            let mut bigger = Zeroizing::new(vec![0u8; len.saturating_mul(2).clamp(4096, max)]);
            bigger[..len].copy_from_slice(&buf[..len]);
            buf = bigger;
        }
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::Io(e)),
        }
    }
    if u64::try_from(len).unwrap_or(u64::MAX) > limit {
        return Err(Error::TooLarge { limit });
    }
    buf.truncate(len);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_regular_files_and_follows_symlinks_to_them() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("a.pem");
        std::fs::write(&f, b"hello").unwrap();
        assert_eq!(read(&f).unwrap(), b"hello");
        assert_eq!(&*read_secret(&f).unwrap(), b"hello");
        let link = d.path().join("link.pem");
        std::os::unix::fs::symlink(&f, &link).unwrap();
        assert_eq!(read(&link).unwrap(), b"hello");
        std::fs::write(&f, b"").unwrap();
        assert_eq!(read(&f).unwrap(), b"");
    }

    #[test]
    fn refuses_what_is_not_a_regular_file_by_kind() {
        let d = tempfile::tempdir().unwrap();
        assert!(matches!(
            read(d.path()),
            Err(Error::NotRegularFile(FileKind::Directory))
        ));
        let zero = d.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert!(matches!(
            read(&zero),
            Err(Error::NotRegularFile(FileKind::CharDevice))
        ));
        let sock = d.path().join("s.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        // A socket cannot be opened at all (ENXIO); either way it is not read.
        assert!(read(&sock).is_err());
        assert!(matches!(
            read(&d.path().join("missing")),
            Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::NotFound
        ));
    }

    #[test]
    fn a_named_input_may_be_a_held_pipe_but_not_a_named_fifo_nor_a_device() {
        assert!(names_an_open_descriptor(Path::new("/dev/fd/63")));
        assert!(names_an_open_descriptor(Path::new("/proc/self/fd/3")));
        assert!(names_an_open_descriptor(Path::new("/dev/stdin")));
        assert!(!names_an_open_descriptor(Path::new("/dev/fd/")));
        assert!(!names_an_open_descriptor(Path::new("/dev/fd/3/x")));
        assert!(!names_an_open_descriptor(Path::new("/tmp/dev/fd/3")));
        assert!(!names_an_open_descriptor(Path::new("/proc/1/fd/3")));

        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("key.pem");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        assert!(matches!(
            read_named_input(&fifo),
            Err(Error::NotRegularFile(FileKind::Fifo))
        ));
        let plain = dir.path().join("plain");
        std::fs::write(&plain, b"regular").unwrap();
        assert_eq!(&read_named_input(&plain).unwrap()[..], b"regular");
        assert!(matches!(
            read_named_input(Path::new("/dev/zero")),
            Err(Error::NotRegularFile(FileKind::CharDevice))
        ));
    }

    #[test]
    fn a_fifo_is_refused_at_once_not_waited_on() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("server.crt");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let (tx, rx) = std::sync::mpsc::channel();
        let path = fifo.clone();
        std::thread::spawn(move || {
            let _ = tx.send(read(&path).map(|_| ()));
        });
        let got = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("reading a FIFO with no writer hung");
        assert!(
            matches!(got, Err(Error::NotRegularFile(FileKind::Fifo))),
            "{got:?}"
        );
    }

    #[test]
    fn is_bounded_whatever_the_metadata_says() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("big");
        std::fs::write(&f, vec![b'x'; 100]).unwrap();
        assert!(matches!(
            read_at_most(&f, 99),
            Err(Error::TooLarge { limit: 99 })
        ));
        assert_eq!(read_at_most(&f, 100).unwrap().len(), 100);
        // A sparse file larger than the bound is refused before it is read.
        let sparse = d.path().join("sparse");
        File::create(&sparse)
            .unwrap()
            .set_len(MAX_INPUT + 1)
            .unwrap();
        assert!(matches!(read(&sparse), Err(Error::TooLarge { .. })));
    }

    #[test]
    fn a_file_that_grows_while_read_is_still_bounded() {
        // `fill` is given a claimed size smaller than the real one, as when the file grows
        // between fstat and read.
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("grows");
        std::fs::write(&f, vec![7u8; 10_000]).unwrap();
        let got = fill(File::open(&f).unwrap(), 3, 20_000).unwrap();
        assert_eq!(got.len(), 10_000);
        assert!(matches!(
            fill(File::open(&f).unwrap(), 3, 9_999),
            Err(Error::TooLarge { limit: 9_999 })
        ));
    }
}
