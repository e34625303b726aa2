//! What several subcommands share: reading inputs, writing outputs, loading keys, subject
//! flags.

use std::path::Path;

use certmint::error::Input;
use certmint::key::{KeyInfo, RsaKey};
use certmint::output::Mode;
use certmint::subject::{Attr, Subject};
use clap::Args;

use super::error::{CliError, CliResult, shown};
use super::password::{PassSource, Passwords, Purpose, can_prompt, prompt_line};
use super::stdio::errln;

/// Largest input file certmint reads (keys, certificates and keystores are a few KiB).
pub(super) const MAX_INPUT: u64 = certmint::readfile::MAX_INPUT;

/// Per-invocation context.
pub(crate) struct Ctx {
    pub quiet: bool,
    pub passwords: Passwords,
}

impl Ctx {
    pub(crate) fn new(quiet: bool) -> Self {
        Ctx {
            quiet,
            passwords: Passwords::new(),
        }
    }

    /// Progress and confirmations go to stderr (stdout is for data) unless `-q`.
    pub(crate) fn say(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            errln!("{}", msg.as_ref());
        }
    }

    /// Read an input file (bounded in size), with the path in any error.
    pub(crate) fn read(&self, path: &Path, what: &str) -> CliResult<Vec<u8>> {
        read_file(path, what)
    }

    /// Write an output atomically; report it on stderr.
    pub(crate) fn write(
        &self,
        path: &Path,
        data: &[u8],
        mode: Mode,
        force: bool,
        description: &str,
    ) -> CliResult<()> {
        certmint::output::write_atomic(path, data, mode, force)
            .map_err(|e| CliError::lib("cannot write", Some(path), e))?;
        self.say(format!(
            "wrote {} ({description}, mode {:04o})",
            shown(path),
            mode.bits()
        ));
        Ok(())
    }

    /// Load a private key from any format, asking for a password only when it is encrypted.
    pub(crate) fn load_key(
        &mut self,
        path: &Path,
        passin: Option<&PassSource>,
    ) -> CliResult<(RsaKey, KeyInfo)> {
        self.load_key_for(path, passin, None)
    }

    /// [`Ctx::load_key`] for a command that also takes a keystore with `keystore_flag`
    /// (`--keystore`): a keystore given as `--key` is pointed there.
    pub(crate) fn load_key_for(
        &mut self,
        path: &Path,
        passin: Option<&PassSource>,
        keystore_flag: Option<&str>,
    ) -> CliResult<(RsaKey, KeyInfo)> {
        let data = zeroize::Zeroizing::new(self.read(path, "private key")?);
        if let Some(e) = keystore_given_as(Given::Key, path, &data, keystore_flag) {
            return Err(e);
        }
        let info = certmint::key::probe(&data)
            .map_err(|e| CliError::lib("cannot read private key", Some(path), e))?;
        warn_if_open_to_others(path, "the private key");
        let pw = if info.is_encrypted() {
            Some(self.passwords.get(
                passin,
                "--passin",
                &format!("the private key `{}`", shown(path)),
                Purpose::Existing,
            )?)
        } else {
            None
        };
        certmint::key::load(&data, pw.as_ref())
            .map_err(|e| CliError::lib("cannot read private key", Some(path), e))
    }
}

/// Read a whole input file the user named through the library's reader: a regular file
/// or a pipe (`--key <(vault read ...)`; a device, socket or directory is refused), at
/// most [`MAX_INPUT`] bytes, pre-sized (`certmint::readfile::read_named_input`).
pub(super) fn read_file(path: &Path, what: &str) -> CliResult<Vec<u8>> {
    certmint::readfile::read_named_input(path)
        .map(|mut z| std::mem::take(&mut *z))
        .map_err(|e| CliError::lib(format!("cannot read {what}"), Some(path), e))
}

/// Warn when a file a private key is read from is open to other users of the machine (ssh
/// refuses such a key; certmint writes keys 0600).
pub(super) fn warn_if_open_to_others(path: &Path, what: &str) {
    if let Some(mode) = certmint::readfile::open_to_others(path) {
        let how = if mode & 0o044 != 0 {
            "can be read by other users of this machine"
        } else {
            "is open to other users of this machine"
        };
        errln!(
            "warning: {what} `{}` {how} (mode {mode:04o}); restrict it with `chmod 600 {}` (ssh refuses keys like this)",
            shown(path),
            shown(path)
        );
    }
}

/// [`warn_if_open_to_others`] for the keys and keystores of a certmint directory.
pub(super) fn warn_open_secrets_in(dir: &Path, m: &certmint::manifest::Manifest) {
    for (path, _) in certmint::check::exposed_secrets(dir, m) {
        warn_if_open_to_others(&path, "the private key file");
    }
}

/// Fail before slow work when an output exists (and `--force` is off).
pub(super) fn check_out(path: &Path, force: bool) -> CliResult<()> {
    certmint::output::check_target(path, force)
        .map_err(|e| CliError::lib("cannot write", Some(path), e))
}

/// PEM or DER output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Encoding {
    /// Base64 text between BEGIN/END lines.
    Pem,
    /// Binary DER.
    Der,
}

/// Subject given as OpenSSL's `--subj` or as separate fields.
#[derive(Args, Debug, Clone, Default)]
pub(crate) struct SubjectArgs {
    /// Subject in OpenSSL's syntax, e.g. "/C=US/ST=California/O=Acme/CN=acme-jwt"
    /// (a backslash escapes `/`).
    #[arg(long, value_name = "DN", conflicts_with_all = ["cn", "org", "org_unit", "country", "state", "locality", "email"])]
    pub subj: Option<String>,
    /// Common name (CN): Salesforce shows it as the certificate's name.
    #[arg(long, value_name = "NAME")]
    pub cn: Option<String>,
    /// Organization (O).
    #[arg(long, value_name = "NAME")]
    pub org: Option<String>,
    /// Organizational unit (OU).
    #[arg(long, value_name = "NAME")]
    pub org_unit: Option<String>,
    /// Two-letter country code (C), e.g. US.
    #[arg(long, value_name = "CC")]
    pub country: Option<String>,
    /// State or province (ST).
    #[arg(long, value_name = "NAME")]
    pub state: Option<String>,
    /// Locality or city (L).
    #[arg(long, value_name = "NAME")]
    pub locality: Option<String>,
    /// Email address (emailAddress).
    #[arg(long, value_name = "ADDRESS")]
    pub email: Option<String>,
}

impl SubjectArgs {
    /// True when no subject information was given.
    pub(crate) fn is_empty(&self) -> bool {
        self.subj.is_none()
            && self.cn.is_none()
            && self.org.is_none()
            && self.org_unit.is_none()
            && self.country.is_none()
            && self.state.is_none()
            && self.locality.is_none()
            && self.email.is_none()
    }

    /// Build the subject from flags, or prompt on a terminal like `openssl req`.
    pub(crate) fn resolve(&self) -> CliResult<Subject> {
        match self.given()? {
            Some(subject) => Ok(subject),
            None => prompt_subject(),
        }
    }

    /// The subject the flags give, validated; `None` when no subject flag was given (the
    /// caller then asks with [`prompt_subject`], after any password it needs).
    pub(crate) fn given(&self) -> CliResult<Option<Subject>> {
        let bad = |e: certmint::Error| CliError::lib("invalid subject", None, e);
        if let Some(s) = &self.subj {
            return Subject::parse_openssl(s).map(Some).map_err(bad);
        }
        if self.is_empty() {
            return Ok(None);
        }
        let mut subject = Subject::new();
        let fields = [
            (Attr::Country, &self.country),
            (Attr::State, &self.state),
            (Attr::Locality, &self.locality),
            (Attr::Org, &self.org),
            (Attr::OrgUnit, &self.org_unit),
            (Attr::CommonName, &self.cn),
            (Attr::Email, &self.email),
        ];
        for (attr, v) in fields {
            if let Some(v) = v {
                subject.push(attr, v.clone());
            }
        }
        subject.validate().map_err(bad)?;
        Ok(Some(subject))
    }
}

/// How many times a subject field is asked for before the command gives up.
const FIELD_TRIES: usize = 3;

/// Ask for the subject field by field on the terminal, in `openssl req`'s order. Each
/// field is checked as it is typed and asked again when it is not valid (a three-letter
/// country, an empty common name), so nothing typed before is lost.
pub(crate) fn prompt_subject() -> CliResult<Subject> {
    if !can_prompt() {
        return Err(
            CliError::new("no subject given, and no terminal to ask on").hint(
                "pass --subj \"/C=US/O=Acme/CN=acme-jwt\" or --cn NAME (with --org, --country ...)",
            ),
        );
    }
    errln!(
        "Enter the certificate subject. Leave a field empty (or enter '.') to skip it;\nthe common name is required."
    );
    let mut subject = Subject::new();
    for attr in Attr::PROMPT_ORDER {
        if let Some(value) = prompt_field(attr)? {
            subject.push(attr, value);
        }
    }
    subject
        .validate()
        .map_err(|e| CliError::lib("invalid subject", None, e))?;
    Ok(subject)
}

/// One field: its value, `None` when skipped.
fn prompt_field(attr: Attr) -> CliResult<Option<String>> {
    let mut problem = String::new();
    for attempt in 1..=FIELD_TRIES {
        let typed = prompt_line(attr.prompt())?;
        let value = typed.trim();
        if value.is_empty() || value == "." {
            if attr != Attr::CommonName {
                return Ok(None);
            }
            problem =
                "the common name (CN) is required: Salesforce shows it as the certificate's name"
                    .to_owned();
        } else {
            match certmint::subject::check_value(attr, value) {
                Ok(()) => return Ok(Some(value.to_owned())),
                Err(certmint::Error::InvalidSubject(why)) => problem = why,
                Err(other) => problem = other.to_string(),
            }
        }
        if attempt < FIELD_TRIES {
            errln!("  {problem}; try again");
        }
    }
    Err(CliError::new(format!(
        "no valid {} after {FIELD_TRIES} tries",
        attr.short_name()
    ))
    .cause(problem)
    .hint("run the command again, or pass the subject with --subj or --cn, --org, --country ..."))
}

impl Ctx {
    /// Open a PKCS#12 or JKS keystore and select an entry. The format is checked before a
    /// password is asked for; `keypass` is for JKS entries whose key password differs.
    pub(crate) fn open_keystore(
        &mut self,
        path: &Path,
        passin: Option<&PassSource>,
        keypass: Option<&PassSource>,
        alias: Option<&str>,
        want_key: bool,
    ) -> CliResult<certmint::keystore::Opened> {
        let data = zeroize::Zeroizing::new(self.read(path, "keystore")?);
        let cannot = |e| CliError::lib("cannot read keystore", Some(path), e);
        certmint::keystore::probe(&data).map_err(cannot)?;
        if want_key {
            warn_if_open_to_others(path, "the keystore");
        }
        let what = format!("the keystore `{}`", shown(path));
        let pw = self
            .passwords
            .get(passin, "--passin", &what, Purpose::Existing)?;
        let key_pw = match keypass {
            Some(src) => Some(self.passwords.get(
                Some(src),
                "--keypass",
                &format!("the key entry in {what}"),
                Purpose::Existing,
            )?),
            None => None,
        };
        certmint::keystore::open(&data, &pw, key_pw.as_ref(), alias, want_key).map_err(|e| {
            match e {
                certmint::Error::UnknownAlias { alias, available } if alias.is_empty() => {
                    CliError::new(format!("`{}` holds several entries; choose one", shown(path)))
                        .cause(format!("the aliases are: {available}"))
                        .hint("pass one of them with --alias")
                }
                // The store password opened the keystore but not the key entry inside.
                certmint::Error::WrongPassword {
                    what: what @ (Input::JksKeyEntry | Input::Pkcs12PrivateKey | Input::PrivateKey),
                } => {
                    let hinted = keypass.is_none();
                    let err = cannot(certmint::Error::WrongPassword { what });
                    if hinted {
                        err.hint("the key entry has its own password (keytool -keypass): give it with --keypass")
                    } else {
                        err.hint("check the password given with --keypass")
                    }
                }
                other => cannot(other),
            }
        })
    }
}

/// What a file was given as, for [`keystore_given_as`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Given {
    /// A private key file (`--key`, `--tls-key`).
    Key,
    /// A certificate file (`--cert`, `--tls-cert`).
    Cert,
}

/// When `data` (given as `--key` or `--cert`) is a keystore (PKCS#12, JKS, JCEKS), the
/// error that says so and where a keystore goes: `keystore_flag` (`--keystore`) when the
/// command takes one, else `certmint export` to take the key or certificate out. `None`
/// for any other file, which its reader then judges.
pub(super) fn keystore_given_as(
    given: Given,
    path: &Path,
    data: &[u8],
    keystore_flag: Option<&str>,
) -> Option<CliError> {
    use certmint::detect::FileType;
    let detected = certmint::detect::detect(data);
    if !matches!(
        detected,
        FileType::Jks { .. } | FileType::Pkcs12 | FileType::Jceks
    ) {
        return None;
    }
    let file = shown(path);
    let (what, export) = match given {
        Given::Key => (
            "private key",
            format!("certmint export {file} --key-out server.key --passin SRC"),
        ),
        Given::Cert => (
            "certificate",
            format!("certmint export {file} --cert-out server.crt --passin SRC"),
        ),
    };
    let hint = match (keystore_flag, &detected) {
        (_, FileType::Jceks) => format!(
            "certmint reads PKCS#12 and JKS keystores; convert it first: {}",
            certmint::jks::jceks_conversion(&file, certmint::jks::ConvertFor::Java)
        ),
        (Some(ks), _) => format!(
            "pass the keystore with {ks} {file} (its password with --passin), or take the {what} out: {export}"
        ),
        (None, _) => format!(
            "give a {what} file (PEM or DER): take it out of the keystore with {export}, and give {} instead",
            if given == Given::Key {
                "server.key"
            } else {
                "server.crt"
            }
        ),
    };
    Some(
        CliError::new(format!("cannot read {what} `{file}`"))
            .cause(format!(
                "it is {}, not a {what} (a keystore holds a key and its certificate)",
                detected.describe()
            ))
            .hint(hint),
    )
}

/// Read a certificate file: PEM (possibly a chain, in file order) or DER.
pub(super) fn read_cert_chain(ctx: &Ctx, path: &Path) -> CliResult<Vec<certmint::x509::CertInfo>> {
    let data = ctx.read(path, "certificate")?;
    if let Some(e) = keystore_given_as(Given::Cert, path, &data, None) {
        return Err(e);
    }
    certmint::x509::parse_chain(&data)
        .map_err(|e| CliError::lib("cannot read certificate", Some(path), e))
}

/// The password source to repeat in a printed command, when it can be given again as it
/// was (`env:VAR`, `file:PATH`); `None` for a typed password, `pass:` (never printed),
/// `fd:` and `stdin` (read once), where the printed command then asks on the terminal.
pub(super) fn repeatable_source(src: Option<&PassSource>) -> Option<String> {
    match src? {
        PassSource::Env(var) => Some(format!("env:{}", certmint::text::escape(var))),
        PassSource::File(path) => Some(format!("file:{}", shown(path))),
        PassSource::Pass(_) | PassSource::Fd(_) | PassSource::Stdin => None,
    }
}

/// The command that copies generation `g`'s keystore into a JKS under the Unique Name a
/// second import into Certificate and Key Management needs ([`certmint::manifest::Manifest::import_alias`]),
/// with the directory's password (`src`, when it can be repeated) for both.
pub(super) fn import_copy_command(
    dir: &Path,
    m: &certmint::manifest::Manifest,
    g: &certmint::manifest::Generation,
    src: Option<&PassSource>,
) -> String {
    let name = m.import_alias(g.number);
    let p12 = certmint::workdir::file_path(dir, m, g, certmint::manifest::Role::Pkcs12);
    let (passin, passout) = match repeatable_source(src) {
        Some(s) => (format!(" --passin {s}"), format!(" --passout {s}")),
        None => (String::new(), String::new()),
    };
    format!(
        "certmint jks --p12 {}{passin} --alias {name} --out {name}.jks{passout}",
        shown(&p12)
    )
}
