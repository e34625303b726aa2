//! A certmint directory: the whole recipe as generations of files described by a
//! [`Manifest`] (see [`crate::manifest`] for the layout).
//!
//! Every operation is resumable and never loses a key:
//! - the manifest is written *before* any file of a new generation, so an interrupted run
//!   leaves a `pending` generation that the next run finishes;
//! - files are only ever created (temp file, fsync, rename without replacing), never
//!   overwritten; an existing file is checked (it must parse and belong to the key) and
//!   kept;
//! - a generation's key is generated only when neither its encrypted nor its plain file
//!   exists and no public key has been recorded for it; once recorded, a missing key file
//!   is an error, never a reason to make a new key.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::error::Input;
use crate::key::{KeyEncryption, RsaKey};
use crate::manifest::{
    self, CertRecord, FileRecord, Generation, Manifest, Origin, Role, SalesforceSettings, Status,
};
use crate::output::{self, Mode};
use crate::pkcs12::Profile;
use crate::subject::Subject;
use crate::x509::{self, Validity};
use crate::{Error, Password, Result, pkcs12, salesforce};

/// What `init` is asked to make.
#[derive(Clone, Debug)]
pub struct InitSettings {
    /// File stem inside each generation (`server`).
    pub stem: String,
    /// Certificate subject.
    pub subject: Subject,
    /// RSA key size.
    pub bits: usize,
    /// Certificate validity in days.
    pub days: u32,
    /// Keystore alias; default: the CN made a valid Salesforce Unique Name.
    pub alias: Option<String>,
    /// PKCS#12 profile.
    pub profile: Profile,
    /// Encryption of the key file.
    pub kdf: KeyEncryption,
    /// Client id, username, login URL for `mint`.
    pub salesforce: SalesforceSettings,
    /// Make a JKS keystore in each generation (`init --no-jks`: false, recorded in the
    /// manifest; `check`, `renew` and `rotate` then do not expect one).
    pub jks: bool,
}

/// What happened to a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Written by this run.
    Created,
    /// Already there, checked and kept.
    Kept,
}

/// The result of `init`, `renew`, `rotate` or `activate`.
#[derive(Clone, Debug)]
pub struct Report {
    /// The directory.
    pub dir: PathBuf,
    /// The generation worked on.
    pub generation: String,
    /// Each file of the generation and what happened to it.
    pub files: Vec<(Role, PathBuf, Action)>,
    /// True when a pending generation from an interrupted run was finished.
    pub resumed: bool,
    /// The manifest as written.
    pub manifest: Manifest,
}

impl Report {
    /// True when nothing was written.
    pub fn nothing_to_do(&self) -> bool {
        !self.resumed && self.files.iter().all(|(_, _, a)| *a == Action::Kept)
    }

    /// Path of a file of the generation.
    pub fn path(&self, role: Role) -> Option<&Path> {
        self.files
            .iter()
            .find(|(r, _, _)| *r == role)
            .map(|(_, p, _)| p.as_path())
    }
}

/// Update the client id, username and login URL recorded for `mint` (only the fields
/// given). Returns true when the manifest changed. No key or file is touched.
pub fn update_salesforce(dir: &Path, settings: &SalesforceSettings) -> Result<bool> {
    validate_salesforce(settings)?;
    let given = |m: &Manifest| {
        let mut s = m.salesforce.clone();
        if let Some(c) = &settings.client_id {
            s.client_id = Some(c.clone());
        }
        if let Some(u) = &settings.username {
            s.username = Some(u.clone());
        }
        if let Some(l) = &settings.login_url {
            s.login_url = Some(l.clone());
        }
        s
    };
    // Nothing to change: nothing is locked or written (a read-only directory is fine).
    let m = load(dir)?;
    if given(&m) == m.salesforce {
        return Ok(false);
    }
    let _lock = lock(dir)?;
    let mut m = load(dir)?;
    let before = m.salesforce.clone();
    if let Some(c) = &settings.client_id {
        m.salesforce.client_id = Some(c.clone());
    }
    if let Some(u) = &settings.username {
        m.salesforce.username = Some(u.clone());
    }
    if let Some(l) = &settings.login_url {
        m.salesforce.login_url = Some(l.clone());
    }
    if m.salesforce == before {
        return Ok(false);
    }
    save(dir, &m)?;
    Ok(true)
}

/// Check the settings `mint --dir` will use as `mint` checks its flags: the login URL
/// with [`crate::token_endpoint::LoginUrl::parse`] (a Lightning domain, plain `http://` to
/// a remote host or a malformed URL is refused here rather than by every later `mint`).
pub fn validate_salesforce(settings: &SalesforceSettings) -> Result<()> {
    if let Some(l) = &settings.login_url {
        crate::token_endpoint::LoginUrl::parse(l)?;
    }
    Ok(())
}

/// Name of the lock file in a certmint directory: every command that changes the directory
/// holds an exclusive lock on it ([`std::fs::File::try_lock`]; the operating system drops it
/// when the process ends, however it ends), so a second run at the same time stops at once
/// with [`Error::Busy`] instead of racing the first.
pub const LOCK_FILE: &str = ".certmint.lock";

/// The directory's lock, held until dropped.
struct DirLock {
    _file: std::fs::File,
}

/// Take the lock of `dir` (which exists), or fail with [`Error::Busy`].
fn lock(dir: &Path) -> Result<DirLock> {
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| at(&path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(DirLock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Busy {
            lock: crate::text::escape(&path.display().to_string()),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(at(&path, e)),
    }
}

/// An I/O error on `path`, with the path in its message (the kind is kept, so a full disk
/// is still a full disk).
fn at(path: &Path, e: std::io::Error) -> Error {
    let shown = crate::text::escape(&path.display().to_string());
    Error::Io(std::io::Error::new(e.kind(), format!("`{shown}`: {e}")))
}

/// [`at`] for an error of [`output::write_atomic`] on `path`.
fn writing(path: &Path, e: Error) -> Error {
    match e {
        Error::Io(io) => at(path, io),
        other => other,
    }
}

/// Change the manifest of `dir` with `change` and write it (atomically, only when it
/// changed); no key or other file is touched. Returns the manifest as written. This is how
/// `certmint connect` records the apps it makes (`[[app]]`) and the client id `mint`
/// uses.
pub fn update(dir: &Path, change: impl FnOnce(&mut Manifest) -> Result<()>) -> Result<Manifest> {
    let _lock = lock(dir)?;
    let mut m = load(dir)?;
    change(&mut m)?;
    m.validate_apps()?;
    save(dir, &m)?;
    Ok(m)
}

/// Path of the manifest in `dir`.
pub fn manifest_path(dir: &Path) -> PathBuf {
    dir.join(manifest::FILE_NAME)
}

/// True when `dir` holds a certmint manifest.
pub fn is_workdir(dir: &Path) -> bool {
    manifest_path(dir).is_file()
}

/// The certmint directory that `dir` lies inside, at any depth (`DIR/current`,
/// `DIR/g1-2026-11-28/sub`), if any: a new directory there would nest a whole certmint
/// directory inside an immutable generation. `dir` need not exist; symlinks (`current`)
/// are followed. `None` when `dir` is itself a certmint directory or lies in none.
pub fn enclosing_workdir(dir: &Path) -> Option<PathBuf> {
    if is_workdir(dir) {
        return None;
    }
    // The nearest part of the path that exists, resolved; the rest is yet to be made.
    let absolute = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(dir)
    };
    let mut existing = absolute.as_path();
    let resolved = loop {
        if let Ok(real) = std::fs::canonicalize(existing) {
            break real;
        }
        existing = existing.parent()?;
    };
    // `dir` itself (when it exists) was found not to be a certmint directory above.
    let start = if existing == absolute {
        resolved.parent()?.to_path_buf()
    } else {
        resolved
    };
    start
        .ancestors()
        .find(|a| is_workdir(a))
        .map(Path::to_path_buf)
}

/// Read the manifest of `dir`.
pub fn load(dir: &Path) -> Result<Manifest> {
    let path = manifest_path(dir);
    let bytes =
        crate::readfile::read_at_most(&path, manifest::MAX_LEN as u64).map_err(|e| match e {
            Error::TooLarge { .. } => Error::corrupt(Input::Manifest, "larger than 1 MiB"),
            other => other,
        })?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Error::corrupt(Input::Manifest, "it is not UTF-8 text"))?;
    Manifest::parse(text, &path)
}

/// Write the manifest (atomically), unless it is unchanged.
fn save(dir: &Path, m: &Manifest) -> Result<()> {
    let text = m.to_toml()?;
    let path = manifest_path(dir);
    if crate::readfile::read(&path).is_ok_and(|old| old == text.as_bytes()) {
        return Ok(());
    }
    output::write_atomic(&path, text.as_bytes(), Mode::Public, true).map_err(|e| writing(&path, e))
}

/// True when the current generation is complete, nothing is pending, and every recorded
/// file is present with the recorded digest: `init` then has nothing to do and needs no
/// password.
pub fn intact(dir: &Path) -> Result<bool> {
    if !is_workdir(dir) {
        return Ok(false);
    }
    let m = load(dir)?;
    if m.pending().is_some() {
        return Ok(false);
    }
    let Some(g) = m.current_generation() else {
        return Ok(false);
    };
    if g.files.len() != m.roles().len() {
        return Ok(false);
    }
    for (role, f) in &g.files {
        let path = dir.join(&g.dir).join(&f.name);
        match crate::readfile::read_secret(&path) {
            Ok(bytes) if manifest::file_digest(&bytes) == f.sha256 => {}
            // A deleted unencrypted key or JKS is the user's choice, not damage: not remade.
            Err(_) if role.is_optional() && path.symlink_metadata().is_err() => {}
            _ => return Ok(false),
        }
    }
    Ok(true)
}

/// True when [`init`] on `dir` would encrypt a new key file with the password it is given:
/// a new directory, or a generation (the one left unfinished, else the current one) whose
/// encrypted key file does not exist yet and whose key is not copied from another
/// generation (then it is decrypted, which proves the password). A password for a new
/// key must be confirmed: nothing else would catch a typing mistake.
pub fn init_encrypts_new_key(dir: &Path) -> Result<bool> {
    if !is_workdir(dir) {
        return Ok(true);
    }
    let m = load(dir)?;
    let Some(g) = m.pending().or_else(|| m.current_generation()) else {
        return Ok(true);
    };
    if g.key_from.is_some() {
        return Ok(false);
    }
    let key = file_path(dir, &m, g, Role::EncryptedKey);
    Ok(key.symlink_metadata().is_err())
}

/// Point the `current` symlink at `generation` (atomically: a new link renamed over the
/// old one). Only on Unix; elsewhere the manifest's `current` field is the pointer.
fn update_current_link(dir: &Path, generation: &str) -> Result<()> {
    #[cfg(unix)]
    {
        let link = dir.join(manifest::CURRENT_LINK);
        if let Ok(meta) = std::fs::symlink_metadata(&link)
            && !meta.file_type().is_symlink()
        {
            return Err(Error::invalid(
                Input::Directory,
                format!(
                    "`{}` exists and is not a symlink; move it away so certmint can point it at the current generation",
                    link.display()
                ),
            ));
        }
        let tmp = dir.join(format!(".certmint-current-{}.tmp", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(generation, &tmp)?;
        std::fs::rename(&tmp, &link)?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (dir, generation);
    }
    Ok(())
}

mod build;
use build::{KeySource, build_generation, new_generation};

/// `certmint init DIR`: the whole recipe, or finish an interrupted one, or check that a
/// complete directory is intact (then nothing is written).
pub fn init(
    dir: &Path,
    settings: &InitSettings,
    password: &Password,
    now: OffsetDateTime,
) -> Result<Report> {
    if let Some(outer) = enclosing_workdir(dir) {
        return Err(Error::invalid(
            Input::Directory,
            format!(
                "it lies inside the certmint directory `{}`, whose generations are immutable; a certmint directory cannot be made inside another",
                crate::text::escape(&outer.display().to_string())
            ),
        ));
    }
    // 0700 whatever the umask (see [`output::create_private_dir`]).
    match output::create_private_dir(dir) {
        Ok(()) => {}
        // Another run may have made it a moment ago: the lock below decides.
        Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => {}
        Err(Error::Io(e)) => return Err(at(dir, e)),
        Err(e) => return Err(e),
    }
    let _lock = lock(dir)?;
    let (mut m, resumed) = if is_workdir(dir) {
        let m = load(dir)?;
        let resumed = m.pending().is_some();
        (m, resumed)
    } else {
        settings.subject.validate()?;
        validate_salesforce(&settings.salesforce)?;
        crate::key::check_salesforce_bits(settings.bits)?;
        let alias = match &settings.alias {
            Some(a) => {
                salesforce::validate_alias(a).map_err(|why| Error::invalid(Input::Alias, why))?;
                a.clone()
            }
            None => salesforce::default_alias_from_cn(settings.subject.common_name()),
        };
        let mut m = Manifest {
            format: manifest::FORMAT,
            stem: settings.stem.clone(),
            alias,
            subject: settings.subject.to_string(),
            days: settings.days,
            p12_profile: settings.profile,
            current: None,
            salesforce: settings.salesforce.clone(),
            jks: settings.jks,
            generations: Vec::new(),
            apps: Vec::new(),
        };
        let g = new_generation(&m, Origin::Init, settings.bits, now, None);
        m.generations.push(g);
        save(dir, &m)?;
        (m, false)
    };
    // The generation to work on: a pending one, else the current one (check and repair).
    let (g_name, source) = match (m.pending(), m.current_generation()) {
        (Some(g), _) => {
            let src = match &g.key_from {
                Some(prev) => KeySource::From(prev.clone()),
                None => KeySource::New(g.key_bits, settings.kdf),
            };
            (g.dir.clone(), src)
        }
        (None, Some(g)) => (g.dir.clone(), KeySource::New(g.key_bits, settings.kdf)),
        (None, None) => {
            let g = new_generation(&m, Origin::Init, settings.bits, now, None);
            let name = g.dir.clone();
            m.generations.push(g);
            save(dir, &m)?;
            (name, KeySource::New(settings.bits, settings.kdf))
        }
    };
    let was_current = m.current.as_deref() == Some(g_name.as_str());
    let files = build_generation(dir, &mut m, &g_name, source, password, now)?;
    let origin = m
        .generations
        .iter()
        .find(|g| g.dir == g_name)
        .map(|g| g.origin);
    // A finished init or renewal becomes current; a rotation waits for `activate`.
    if !was_current && origin != Some(Origin::Rotate) {
        m.current = Some(g_name.clone());
        save(dir, &m)?;
    }
    if let Some(c) = m.current.clone() {
        update_current_link(dir, &c)?;
    }
    Ok(Report {
        dir: dir.to_path_buf(),
        generation: g_name,
        files,
        resumed,
        manifest: m,
    })
}

fn require_complete_current(m: &Manifest) -> Result<Generation> {
    if let Some(p) = m.pending() {
        return Err(Error::invalid(
            Input::Directory,
            format!(
                "generation {} was interrupted; finish it first with `certmint init` (or the command that started it) on this directory",
                p.dir
            ),
        ));
    }
    m.current_generation().cloned().ok_or_else(|| {
        Error::invalid(
            Input::Directory,
            "no complete generation yet; run `certmint init` on it first",
        )
    })
}

/// The generation an interrupted `origin` command left, to resume; an error when another
/// command left one, which must be finished first.
fn pending_of(dir: &Path, m: &Manifest, origin: Origin) -> Result<Option<Generation>> {
    match m.pending() {
        Some(p) if p.origin != origin => Err(Error::invalid(
            Input::Directory,
            format!(
                "generation {} was left by an interrupted `{}`; run `certmint {} {}` again to finish it first",
                p.dir,
                p.origin.command(),
                p.origin.command(),
                dir.display()
            ),
        )),
        p => Ok(p.cloned()),
    }
}

/// `certmint renew DIR`: a new certificate (new serial and validity) over the current key,
/// in a new generation that becomes current; the old generation is kept untouched.
/// Resumes an interrupted renewal.
pub fn renew(
    dir: &Path,
    password: &Password,
    days: Option<u32>,
    now: OffsetDateTime,
) -> Result<Report> {
    let _lock = lock(dir)?;
    let mut m = load(dir)?;
    if let Some(p) = pending_of(dir, &m, Origin::Renew)? {
        return finish(dir, m, p.dir, password, now, true);
    }
    let current = require_complete_current(&m)?;
    if let Some(d) = days {
        m.days = d;
    }
    let g = new_generation(
        &m,
        Origin::Renew,
        current.key_bits,
        now,
        Some(current.dir.clone()),
    );
    let name = g.dir.clone();
    m.generations.push(g);
    save(dir, &m)?;
    finish(dir, m, name, password, now, false)
}

/// `certmint rotate DIR`: a new key and certificate in a new generation, kept *beside*
/// the current one; the current generation only changes with [`activate`], after the
/// new certificate is uploaded and proven. Resumes an interrupted rotation.
pub fn rotate(
    dir: &Path,
    password: &Password,
    bits: Option<usize>,
    kdf: KeyEncryption,
    now: OffsetDateTime,
) -> Result<Report> {
    let _lock = lock(dir)?;
    let mut m = load(dir)?;
    // The new key is encrypted with `password`: prove it is the directory's first, so a
    // mistyped password cannot lock the new key away.
    if let Some(current) = m.current_generation() {
        prove_password(dir, &m, current, password)?;
    }
    if let Some(p) = pending_of(dir, &m, Origin::Rotate)? {
        let files = build_generation(
            dir,
            &mut m,
            &p.dir,
            KeySource::New(p.key_bits, kdf),
            password,
            now,
        )?;
        return Ok(Report {
            dir: dir.to_path_buf(),
            generation: p.dir,
            files,
            resumed: true,
            manifest: m,
        });
    }
    let current = require_complete_current(&m)?;
    // A rotation already prepared and not yet activated is the one the user may have
    // uploaded: report it again instead of making yet another key.
    if let Some(prepared) = newest_inactive(&m)
        .filter(|g| g.number > current.number && g.origin == Origin::Rotate)
        .cloned()
    {
        let files = build_generation(
            dir,
            &mut m,
            &prepared.dir,
            KeySource::New(prepared.key_bits, kdf),
            password,
            now,
        )?;
        return Ok(Report {
            dir: dir.to_path_buf(),
            generation: prepared.dir,
            files,
            resumed: false,
            manifest: m,
        });
    }
    let bits = bits.unwrap_or(current.key_bits);
    crate::key::check_salesforce_bits(bits)?;
    let g = new_generation(&m, Origin::Rotate, bits, now, None);
    let name = g.dir.clone();
    m.generations.push(g);
    save(dir, &m)?;
    let files = build_generation(dir, &mut m, &name, KeySource::New(bits, kdf), password, now)?;
    Ok(Report {
        dir: dir.to_path_buf(),
        generation: name,
        files,
        resumed: false,
        manifest: m,
    })
}

/// Prove that `password` is the directory's: it decrypts generation `g`'s encrypted key,
/// or, when that file is gone, opens its PKCS#12 ([`Error::WrongPassword`] otherwise).
/// Nothing is proven when neither file is there.
fn prove_password(dir: &Path, m: &Manifest, g: &Generation, password: &Password) -> Result<()> {
    if let Ok(bytes) = crate::readfile::read_secret(&file_path(dir, m, g, Role::EncryptedKey)) {
        crate::key::load(&bytes, Some(password))?;
    } else if let Ok(bytes) = crate::readfile::read_secret(&file_path(dir, m, g, Role::Pkcs12)) {
        crate::keystore::open(&bytes, password, None, None, true)?;
    }
    Ok(())
}

fn finish(
    dir: &Path,
    mut m: Manifest,
    name: String,
    password: &Password,
    now: OffsetDateTime,
    resumed: bool,
) -> Result<Report> {
    let key_from = m
        .generations
        .iter()
        .find(|g| g.dir == name)
        .and_then(|g| g.key_from.clone())
        .ok_or_else(|| {
            Error::corrupt(
                Input::Manifest,
                "a renewal without the generation it renews",
            )
        })?;
    let files = build_generation(dir, &mut m, &name, KeySource::From(key_from), password, now)?;
    m.current = Some(name.clone());
    save(dir, &m)?;
    update_current_link(dir, &name)?;
    Ok(Report {
        dir: dir.to_path_buf(),
        generation: name,
        files,
        resumed,
        manifest: m,
    })
}

/// Make `generation` (a complete one) the current generation: the switch after a
/// rotation, or the way back.
pub fn activate(dir: &Path, generation: &str) -> Result<Manifest> {
    activate_with(dir, generation, |_| Ok(()))
}

/// [`activate`], with `change` applied to the manifest in the same write: the switch of
/// the current generation and of what `change` sets (the app and client id after a
/// rotation onto a second app) is one atomic rename, so `mint --dir` never sees one
/// without the other.
pub fn activate_with(
    dir: &Path,
    generation: &str,
    change: impl FnOnce(&mut Manifest) -> Result<()>,
) -> Result<Manifest> {
    let _lock = lock(dir)?;
    let mut m = load(dir)?;
    let g = m.find_generation(generation).cloned().ok_or_else(|| {
        Error::invalid(
            Input::Generation,
            format!(
                "`{}` is not a generation of this directory (it has: {})",
                crate::text::escape(generation),
                m.generations
                    .iter()
                    .map(|g| g.dir.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })?;
    if g.status != Status::Complete {
        return Err(Error::invalid(
            Input::Generation,
            format!("{} is not complete; finish it first", g.dir),
        ));
    }
    // Never point `current` at files that are gone or changed (the unencrypted key and a
    // JKS removed after its import, as advised, excepted).
    for (role, f) in &g.files {
        let path = dir.join(&g.dir).join(&f.name);
        match crate::readfile::read_secret(&path) {
            Ok(bytes) if manifest::file_digest(&bytes) == f.sha256 => {}
            // The unencrypted key and the JKS may have been deleted as the docs advise.
            Err(_) if role.is_optional() && path.symlink_metadata().is_err() => {}
            Ok(_) => {
                return Err(Error::invalid(
                    Input::Generation,
                    format!(
                        "`{}` changed since certmint wrote it; restore it before activating {}",
                        path.display(),
                        g.dir
                    ),
                ));
            }
            Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::invalid(
                    Input::Generation,
                    format!(
                        "`{}` is missing; restore it (or run `certmint init` on the directory) before activating {}",
                        path.display(),
                        g.dir
                    ),
                ));
            }
            Err(e) => {
                return Err(Error::invalid(
                    Input::Generation,
                    format!(
                        "`{}` cannot be read ({e}); restore it before activating {}",
                        path.display(),
                        g.dir
                    ),
                ));
            }
        }
    }
    m.current = Some(g.dir.clone());
    change(&mut m)?;
    m.validate_apps()?;
    save(dir, &m)?;
    update_current_link(dir, &g.dir)?;
    Ok(m)
}

/// The newest complete generation that is not current (what `activate` switches to after
/// a rotation).
pub fn newest_inactive(m: &Manifest) -> Option<&Generation> {
    m.generations
        .iter()
        .filter(|g| g.status == Status::Complete && Some(&g.dir) != m.current.as_ref())
        .max_by_key(|g| g.number)
}

/// The path of a role's file in a generation.
pub fn file_path(dir: &Path, m: &Manifest, g: &Generation, role: Role) -> PathBuf {
    dir.join(&g.dir).join(role.file_name(&m.stem))
}
