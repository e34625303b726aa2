//! Building one generation of a certmint directory: its key (new or reused), CSR,
//! certificate and keystores, each file created or checked and kept, then recorded in the
//! manifest (see [`super`] for the guarantees).

use super::*;
use crate::text::rfc3339;

fn cert_record(info: &x509::CertInfo) -> CertRecord {
    CertRecord {
        subject: info.subject.clone(),
        serial: info.serial.clone(),
        not_before: rfc3339(info.not_before),
        not_after: rfc3339(info.not_after),
        sha1: info.sha1.clone(),
        sha256: info.sha256.clone(),
    }
}

/// Where a generation's key comes from.
pub(super) enum KeySource {
    /// Generate a new key of this size.
    New(usize, KeyEncryption),
    /// Reuse the key of another generation (renewal).
    From(String),
}

/// The work of building (or finishing, or checking) one generation.
struct Builder<'a> {
    dir: &'a Path,
    gen_dir: PathBuf,
    stem: String,
    password: &'a Password,
    files: Vec<(Role, PathBuf, Action)>,
}

impl Builder<'_> {
    fn path(&self, role: Role) -> PathBuf {
        self.gen_dir.join(role.file_name(&self.stem))
    }

    fn exists(&self, role: Role) -> bool {
        self.path(role).symlink_metadata().is_ok()
    }

    /// Read a file of the generation (a FIFO, device or oversize file in its place is
    /// refused, naming it).
    fn read(&self, role: Role) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        crate::readfile::read_secret(&self.path(role)).map_err(|e| match e {
            Error::NotRegularFile(_) | Error::TooLarge { .. } => {
                self.mismatch(role, &format!("cannot be used ({e})"))
            }
            other => other,
        })
    }

    fn create(&mut self, role: Role, bytes: &[u8]) -> Result<()> {
        let mode = if role.is_secret() {
            Mode::Secret
        } else {
            Mode::Public
        };
        let path = self.path(role);
        output::write_atomic(&path, bytes, mode, false).map_err(|e| match e {
            // Checked absent just before, under the directory's lock: something other than
            // certmint made it meanwhile. Never replaced (init and rotate have no --force).
            Error::AlreadyExists => self.mismatch(role, "appeared while certmint was writing it"),
            other => writing(&path, other),
        })?;
        self.files.push((role, path, Action::Created));
        Ok(())
    }

    fn kept(&mut self, role: Role) {
        let path = self.path(role);
        self.files.push((role, path, Action::Kept));
    }

    /// Read an existing file and parse it with `f`; a failure names the file (a wrong
    /// password stays a wrong password).
    fn existing<T>(&self, role: Role, f: impl FnOnce(&[u8]) -> Result<T>) -> Result<T> {
        let data = self.read(role)?;
        f(&data).map_err(|e| match e {
            Error::WrongPassword { .. } => e,
            other => self.mismatch(role, &format!("cannot be used ({other})")),
        })
    }

    /// An existing PKCS#12 or JKS file of this generation is kept when it opens with the
    /// password and holds exactly this key and certificate (`Ok(true)`), and refused
    /// otherwise; `Ok(false)` when there is none yet.
    fn keep_keystore(&mut self, role: Role, key_sha256: &str, cert_der: &[u8]) -> Result<bool> {
        if !self.exists(role) {
            return Ok(false);
        }
        let opened = self.existing(role, |d| {
            crate::keystore::open(d, self.password, None, None, true)
        })?;
        if opened.rsa_key()?.public_key_sha256() != key_sha256
            || opened.chain.first().map(Vec::as_slice) != Some(cert_der)
        {
            return Err(self.mismatch(role, "does not hold this key and certificate"));
        }
        self.kept(role);
        Ok(true)
    }

    fn mismatch(&self, role: Role, why: &str) -> Error {
        Error::invalid(
            Input::Generation,
            format!(
                "`{}` already exists but {why}; certmint never overwrites it: move it away and run the command again",
                self.path(role).display()
            ),
        )
    }
}

/// Build or finish generation `g` of manifest `m` in `dir`. Saves the manifest as it goes.
pub(super) fn build_generation(
    dir: &Path,
    m: &mut Manifest,
    g_name: &str,
    source: KeySource,
    password: &Password,
    now: OffsetDateTime,
) -> Result<Vec<(Role, PathBuf, Action)>> {
    let gen_dir = dir.join(g_name);
    if !gen_dir.is_dir() {
        output::create_private_dir(&gen_dir).map_err(|e| match e {
            Error::Io(e) => at(&gen_dir, e),
            other => other,
        })?;
    }
    output::clean_stale_temps(&gen_dir);
    let mut b = Builder {
        dir,
        gen_dir,
        stem: m.stem.clone(),
        password,
        files: Vec::new(),
    };
    let recorded = m
        .generations
        .iter()
        .find(|g| g.dir == g_name)
        .map(|g| g.public_key_sha256.clone())
        .unwrap_or_default();
    let alias = m
        .generations
        .iter()
        .find(|g| g.dir == g_name)
        .map(|g| m.alias_of(g).to_owned())
        .unwrap_or_else(|| m.alias.clone());

    // 1. The key: existing file, another generation's, or new.
    let key = if b.exists(Role::EncryptedKey) {
        let (key, _) = b.existing(Role::EncryptedKey, |d| {
            crate::key::load(d, Some(b.password))
        })?;
        b.kept(Role::EncryptedKey);
        key
    } else if b.exists(Role::PlainKey) {
        let (key, _) = b.existing(Role::PlainKey, |d| crate::key::load(d, None))?;
        let pem = key.to_encrypted_pkcs8_pem(b.password, KeyEncryption::pbkdf2_default())?;
        b.create(Role::EncryptedKey, pem.as_bytes())?;
        key
    } else if !recorded.is_empty() {
        return Err(Error::invalid(
            Input::Generation,
            format!(
                "the key of generation {g_name} (public key SHA-256 {recorded}) is recorded in the manifest but its files are gone; certmint never makes a new key in its place: restore {} from a backup, or run `certmint rotate` for a new key",
                b.path(Role::EncryptedKey).display()
            ),
        ));
    } else {
        match source {
            KeySource::From(ref prev) => {
                let prev_path = dir.join(prev).join(Role::EncryptedKey.file_name(&b.stem));
                let bytes = crate::readfile::read_secret(&prev_path)?;
                let (key, _) = crate::key::load(&bytes, Some(b.password))?;
                b.create(Role::EncryptedKey, &bytes)?;
                key
            }
            KeySource::New(bits, kdf) => {
                let key = RsaKey::generate(bits)?;
                let pem = key.to_encrypted_pkcs8_pem(b.password, kdf)?;
                b.create(Role::EncryptedKey, pem.as_bytes())?;
                key
            }
        }
    };
    let fingerprint = key.public_key_sha256();
    if !recorded.is_empty() && recorded != fingerprint {
        return Err(b.mismatch(
            Role::EncryptedKey,
            "holds another key than the one recorded in the manifest",
        ));
    }
    if let Some(g) = m.generation_mut(g_name) {
        g.public_key_sha256 = fingerprint.clone();
        g.key_bits = key.bits();
    }
    save(dir, m)?;

    // 2. The plain key, for the Salesforce CLI.
    if b.exists(Role::PlainKey) {
        let (plain, _) = b.existing(Role::PlainKey, |d| crate::key::load(d, None))?;
        if plain.public_key_sha256() != fingerprint {
            return Err(b.mismatch(Role::PlainKey, "is not this generation's key"));
        }
        b.kept(Role::PlainKey);
    } else {
        b.create(Role::PlainKey, key.to_pkcs8_pem().expose())?;
    }

    // 3. The CSR.
    let subject = Subject::parse_openssl(&m.subject)?;
    if b.exists(Role::Csr) {
        let csr = b.existing(Role::Csr, crate::csr::parse)?;
        if !key.matches_spki(&csr.spki) {
            return Err(b.mismatch(Role::Csr, "was made from another key"));
        }
        b.kept(Role::Csr);
    } else {
        let der = crate::csr::build(&key, &subject)?;
        b.create(Role::Csr, crate::csr::to_pem(&der).as_bytes())?;
    }

    // 4. The certificate (PEM) and its DER twin.
    let cert = if b.exists(Role::Certificate) {
        let info = b.existing(Role::Certificate, x509::parse)?;
        if !key.matches_spki(&info.spki) {
            return Err(b.mismatch(Role::Certificate, "was made from another key"));
        }
        b.kept(Role::Certificate);
        info
    } else if b.exists(Role::CertificateDer) {
        let info = b.existing(Role::CertificateDer, x509::parse)?;
        if !key.matches_spki(&info.spki) {
            return Err(b.mismatch(Role::CertificateDer, "was made from another key"));
        }
        b.create(Role::Certificate, x509::to_pem(&info.der).as_bytes())?;
        info
    } else {
        let validity = Validity {
            not_before: now.replace_nanosecond(0).unwrap_or(now),
            days: m.days,
            serial: x509::random_serial()?,
        };
        let der = x509::self_signed(&key, &subject, &validity)?;
        let info = x509::parse_der(&der)?;
        b.create(Role::Certificate, x509::to_pem(&der).as_bytes())?;
        info
    };
    if b.exists(Role::CertificateDer) {
        if !b.files.iter().any(|(r, _, _)| *r == Role::CertificateDer) {
            if *b.read(Role::CertificateDer)? != cert.der {
                return Err(b.mismatch(Role::CertificateDer, "differs from the PEM certificate"));
            }
            b.kept(Role::CertificateDer);
        }
    } else {
        b.create(Role::CertificateDer, &cert.der)?;
    }
    if let Some(g) = m.generation_mut(g_name) {
        g.certificate = Some(cert_record(&cert));
    }

    // 5. PKCS#12 and JKS, read back and checked when they already exist.
    let chain = vec![cert.der.clone()];
    let profile = m.p12_profile;
    if !b.keep_keystore(Role::Pkcs12, &fingerprint, &cert.der)? {
        let der = pkcs12::write(&key, &chain, &alias, b.password, profile)?;
        b.create(Role::Pkcs12, &der)?;
    }
    if m.jks && !b.keep_keystore(Role::Jks, &fingerprint, &cert.der)? {
        let now_ms = u64::try_from(now.unix_timestamp()).unwrap_or(0) * 1000;
        // Proven by reading it back, and checked against Salesforce's rules, exactly as
        // `certmint jks` does.
        let der = salesforce::write_jks(&alias, &key, &chain, now_ms, b.password)?;
        b.create(Role::Jks, &der)?;
    }

    // 6. Record every file with its digest; the generation is complete.
    let mut records = std::collections::BTreeMap::new();
    for (role, path, _) in &b.files {
        let bytes = crate::readfile::read_secret(path)?;
        records.insert(
            *role,
            FileRecord {
                name: role.file_name(&b.stem),
                sha256: manifest::file_digest(&bytes),
            },
        );
    }
    if let Some(g) = m.generation_mut(g_name) {
        g.files = records;
        g.status = Status::Complete;
    }
    save(b.dir, m)?;
    let mut files = b.files;
    files.sort_by_key(|(r, _, _)| *r);
    Ok(files)
}

pub(super) fn new_generation(
    m: &Manifest,
    origin: Origin,
    bits: usize,
    now: OffsetDateTime,
    key_from: Option<String>,
) -> Generation {
    let number = m.next_number();
    Generation {
        dir: Manifest::generation_dir_name(number, now.date()),
        number,
        origin,
        status: Status::Pending,
        created: rfc3339(now),
        key_bits: bits,
        public_key_sha256: String::new(),
        key_from,
        // Every generation's keystores keep the directory's alias (Java programs load
        // `current/server.p12` by it); a second import into Certificate and Key
        // Management uses a copy named `Manifest::import_alias`.
        alias: None,
        certificate: None,
        files: Default::default(),
    }
}
