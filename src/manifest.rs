//! The manifest of a certmint directory (`certmint.toml`).
//!
//! A directory made by `certmint init` holds one subdirectory per *generation* (the first
//! setup, each renewal, each rotation), a `current` symlink to the active one, and this
//! manifest. A generation is built completely before the manifest points at it, and is
//! never changed afterwards, so an interrupted run can always be resumed and a previous
//! generation is always there to go back to.
//!
//! ```text
//! DIR/
//!   certmint.toml
//!   .certmint.lock         (held by the command changing the directory)
//!   current -> g2-2027-11-01
//!   g1-2026-11-28/  server.pass.key server.key server.csr server.crt server.cer server.p12 server.jks
//!   g2-2027-11-01/  ...
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Input;
use crate::pkcs12::Profile;
use crate::{Error, Result};

mod app;

pub use app::{AppKind, AppRecord, AppState};

/// File name of the manifest inside a certmint directory.
pub const FILE_NAME: &str = "certmint.toml";
/// Name of the symlink to the current generation.
pub const CURRENT_LINK: &str = "current";
/// The manifest format version this build writes and reads.
pub const FORMAT: u32 = 1;
/// Longest manifest accepted (real ones are a few KiB; this bounds what a hostile one can
/// make the TOML parser allocate).
pub const MAX_LEN: usize = 1024 * 1024;
/// Highest generation number a manifest may hold (one a year would take a million years).
pub const MAX_GENERATION: u32 = 1_000_000;

/// The roles of the files in a generation.
pub const ROLES: [Role; 7] = [
    Role::EncryptedKey,
    Role::PlainKey,
    Role::Csr,
    Role::Certificate,
    Role::CertificateDer,
    Role::Pkcs12,
    Role::Jks,
];

/// What a file in a generation is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Encrypted PKCS#8 key.
    EncryptedKey,
    /// Unencrypted PKCS#8 key (for the Salesforce CLI and other signers).
    PlainKey,
    /// The CSR.
    Csr,
    /// The certificate, PEM (upload this to the connected app).
    Certificate,
    /// The certificate, DER.
    CertificateDer,
    /// PKCS#12 keystore.
    Pkcs12,
    /// JKS keystore (import this in Certificate and Key Management).
    Jks,
}

impl Role {
    /// The file name for a given stem.
    pub fn file_name(self, stem: &str) -> String {
        let ext = match self {
            Role::EncryptedKey => "pass.key",
            Role::PlainKey => "key",
            Role::Csr => "csr",
            Role::Certificate => "crt",
            Role::CertificateDer => "cer",
            Role::Pkcs12 => "p12",
            Role::Jks => "jks",
        };
        format!("{stem}.{ext}")
    }

    /// True for files that hold secrets (written 0600).
    pub fn is_secret(self) -> bool {
        matches!(
            self,
            Role::EncryptedKey | Role::PlainKey | Role::Pkcs12 | Role::Jks
        )
    }

    /// True for a file a user may delete without harm: the unencrypted key, which only the
    /// Salesforce CLI needs (`mint --dir` signs with the encrypted key when it is gone, and
    /// the docs advise deleting it where the CLI is not used), and the JKS, which protects
    /// the key only as well as its password (the next steps advise deleting it once
    /// imported in Certificate and Key Management; `certmint jks` remakes it). `check`
    /// reports their absence as information, `init` on the directory leaves them absent,
    /// and `rotate --activate` activates a generation without them.
    pub fn is_optional(self) -> bool {
        matches!(self, Role::PlainKey | Role::Jks)
    }

    /// Human description.
    pub fn describe(self) -> &'static str {
        match self {
            Role::EncryptedKey => "encrypted private key",
            Role::PlainKey => "unencrypted private key, for the Salesforce CLI",
            Role::Csr => "certificate signing request",
            Role::Certificate => "certificate, PEM: upload to the app in Salesforce",
            Role::CertificateDer => "certificate, DER",
            Role::Pkcs12 => "PKCS#12 keystore",
            Role::Jks => "JKS keystore: import in Certificate and Key Management",
        }
    }
}

/// How a generation came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// `certmint init`.
    Init,
    /// `certmint renew`: a new certificate over the previous generation's key.
    Renew,
    /// `certmint rotate`: a new key and certificate.
    Rotate,
}

impl Origin {
    /// The command that makes (and resumes) such a generation: `init`, `renew`, `rotate`.
    pub fn command(self) -> &'static str {
        match self {
            Origin::Init => "init",
            Origin::Renew => "renew",
            Origin::Rotate => "rotate",
        }
    }
}

/// Whether a generation is finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being built; a re-run resumes it.
    Pending,
    /// All files written and verified.
    Complete,
}

/// One recorded file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// File name inside the generation directory.
    pub name: String,
    /// SHA-256 of the file's bytes (hex), to notice edits and corruption.
    pub sha256: String,
}

/// The certificate of a generation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertRecord {
    /// Subject (display form).
    pub subject: String,
    /// Serial, hex with colons.
    pub serial: String,
    /// RFC 3339.
    pub not_before: String,
    /// RFC 3339.
    pub not_after: String,
    /// SHA-1 fingerprint (what Salesforce's certificate page shows).
    pub sha1: String,
    /// SHA-256 fingerprint.
    pub sha256: String,
}

/// One generation of key, certificate and keystores.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generation {
    /// Directory name, e.g. `g1-2026-11-28`.
    pub dir: String,
    /// Sequence number (1, 2, ...).
    pub number: u32,
    /// How it was made.
    pub origin: Origin,
    /// Pending or complete.
    pub status: Status,
    /// RFC 3339 creation time.
    pub created: String,
    /// RSA modulus size.
    pub key_bits: usize,
    /// SHA-256 of the public key (hex with colons), filled once the key exists.
    #[serde(default)]
    pub public_key_sha256: String,
    /// Generation whose key this one reuses (renewals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_from: Option<String>,
    /// The keystore alias of this generation, when it differs from the manifest's. certmint
    /// now writes every generation's keystores under the directory's alias, so that a
    /// program loading `current/server.p12` by alias keeps working after `renew` and
    /// `rotate --activate`; earlier versions gave later generations `<alias>_g<N>`, which
    /// this field records for their directories. The Unique Name a second import into
    /// Certificate and Key Management needs is [`Manifest::import_alias`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// The certificate, once made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertRecord>,
    /// The files, by role.
    #[serde(default)]
    pub files: BTreeMap<Role, FileRecord>,
}

/// Settings `mint` uses when run on a directory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesforceSettings {
    /// Connected app consumer key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Integration user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Login URL (`login`, `test`, My Domain or site URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_url: Option<String>,
    /// The assertions' audience when it is not the login URL's own (`connect` records
    /// `https://test.salesforce.com` for an External Client App in a sandbox whose My
    /// Domain is minted at).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
}

/// The whole manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version.
    pub format: u32,
    /// File stem inside each generation (`server`).
    pub stem: String,
    /// Keystore alias (a valid Salesforce Unique Name).
    pub alias: String,
    /// Subject in OpenSSL's `/C=../CN=..` form.
    pub subject: String,
    /// Certificate validity in days for new certificates.
    pub days: u32,
    /// The PKCS#12 profile of the generations' keystores (`modern`, `java8`, `legacy`).
    pub p12_profile: Profile,
    /// Directory name of the current generation, if any is complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    /// Salesforce settings for `mint`.
    #[serde(default)]
    pub salesforce: SalesforceSettings,
    /// Whether the generations hold a JKS keystore (`init --no-jks` records `false`; only
    /// written then, so older manifests read as `true`).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub jks: bool,
    /// Every generation, oldest first.
    #[serde(default, rename = "generation")]
    pub generations: Vec<Generation>,
    /// The apps `certmint connect` made or updated in an org, oldest first; at most one is
    /// `active` (the one `mint --dir` uses).
    #[serde(default, rename = "app", skip_serializing_if = "Vec::is_empty")]
    pub apps: Vec<AppRecord>,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

impl Manifest {
    /// Parse a manifest (errors name it [`FILE_NAME`]; see [`Manifest::parse`]).
    pub fn from_toml(text: &str) -> Result<Self> {
        Self::parse(text, Path::new(FILE_NAME))
    }

    /// Parse the manifest read from `source`, which errors name, with the line and column
    /// where the text breaks the format, never the text itself (a value certmint does not
    /// know, such as an unknown `p12_profile`, is refused with the accepted ones).
    pub fn parse(text: &str, source: &Path) -> Result<Self> {
        let at = || format!("`{}`", crate::text::escape(&source.display().to_string()));
        if text.len() > MAX_LEN {
            return Err(Error::corrupt(
                Input::Manifest,
                format!(
                    "{}: {} bytes, more than the {MAX_LEN} a manifest may hold",
                    at(),
                    text.len()
                ),
            ));
        }
        let m: Manifest = toml::from_str(text).map_err(|e| {
            let place = match e.span() {
                Some(span) => {
                    let (line, column) = line_and_column(text, span.start);
                    format!("{} line {line}, column {column}", at())
                }
                None => at(),
            };
            Error::corrupt(
                Input::Manifest,
                format!("{place}: {}", without_content(e.message().trim())),
            )
        })?;
        if m.format != FORMAT {
            return Err(Error::unsupported(
                Input::ManifestFormat,
                format!(
                    "version {} in {} (this certmint reads version {FORMAT})",
                    m.format,
                    at()
                ),
            ));
        }
        m.validate()?;
        Ok(m)
    }

    /// Serialise, with a header comment.
    pub fn to_toml(&self) -> Result<String> {
        let body = toml::to_string_pretty(self).map_err(serialisation_error)?;
        Ok(format!(
            "# certmint manifest: written by certmint, read by `certmint check|renew|rotate|mint|inspect`.\n\
             # Each generation directory is immutable once complete; `current` names the active one.\n\n{body}"
        ))
    }

    fn validate(&self) -> Result<()> {
        let safe = |s: &str| {
            !s.is_empty()
                && !s.contains(['/', '\\'])
                && s != "."
                && s != ".."
                && !s.starts_with('.')
        };
        if !safe(&self.stem) {
            return Err(Error::corrupt(Input::Manifest, "invalid stem"));
        }
        for (i, g) in self.generations.iter().enumerate() {
            if g.number == 0 || g.number > MAX_GENERATION {
                return Err(Error::corrupt(
                    Input::Manifest,
                    format!(
                        "generation number {} is out of range (1 to {MAX_GENERATION})",
                        g.number
                    ),
                ));
            }
            if self.generations[..i].iter().any(|o| o.dir == g.dir) {
                return Err(Error::corrupt(
                    Input::Manifest,
                    format!("generation `{}` is listed twice", g.dir.escape_debug()),
                ));
            }
            if !safe(&g.dir) {
                return Err(Error::corrupt(
                    Input::Manifest,
                    format!("invalid generation directory `{}`", g.dir.escape_debug()),
                ));
            }
            for f in g.files.values() {
                if !safe(&f.name) {
                    return Err(Error::corrupt(
                        Input::Manifest,
                        format!("invalid file name `{}`", f.name.escape_debug()),
                    ));
                }
            }
        }
        self.validate_apps()?;
        if let Some(c) = &self.current
            && !self.generations.iter().any(|g| &g.dir == c)
        {
            return Err(Error::corrupt(
                Input::Manifest,
                format!("current generation `{}` is not listed", c.escape_debug()),
            ));
        }
        Ok(())
    }

    /// Check the `[[app]]` records: at most one active, each naming a generation the
    /// manifest has.
    pub fn validate_apps(&self) -> Result<()> {
        if self.apps.iter().filter(|a| a.active).count() > 1 {
            return Err(Error::corrupt(
                Input::Manifest,
                "more than one app is marked active",
            ));
        }
        for a in &self.apps {
            if let Some(g) = &a.generation
                && !self.generations.iter().any(|x| &x.dir == g)
            {
                return Err(Error::corrupt(
                    Input::Manifest,
                    format!(
                        "app `{}` names generation `{}`, which is not listed",
                        a.name.escape_debug(),
                        g.escape_debug()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The files each generation of this directory holds: [`ROLES`], without the JKS when
    /// the directory was made with `--no-jks`.
    pub fn roles(&self) -> Vec<Role> {
        ROLES
            .iter()
            .copied()
            .filter(|r| self.jks || *r != Role::Jks)
            .collect()
    }

    /// The current (complete) generation.
    pub fn current_generation(&self) -> Option<&Generation> {
        let c = self.current.as_ref()?;
        self.generations.iter().find(|g| &g.dir == c)
    }

    /// A generation left pending by an interrupted run.
    pub fn pending(&self) -> Option<&Generation> {
        self.generations
            .iter()
            .find(|g| g.status == Status::Pending)
    }

    /// The keystore alias of a generation.
    pub fn alias_of<'a>(&'a self, g: &'a Generation) -> &'a str {
        g.alias.as_deref().unwrap_or(&self.alias)
    }

    /// The Unique Name for a copy of generation `number`'s JKS imported into Salesforce's
    /// Certificate and Key Management beside an earlier generation's, which already holds
    /// the directory's alias there (a Unique Name is unique in the org): the alias itself
    /// for the first generation, `<alias>_g<N>` after. The generation's own keystores keep
    /// the directory's alias; `certmint jks --p12 ... --alias` makes the copy.
    pub fn import_alias(&self, number: u32) -> String {
        if number <= 1 {
            return self.alias.clone();
        }
        let suffix = format!("_g{number}");
        let room = crate::salesforce::MAX_ALIAS_LEN.saturating_sub(suffix.len());
        let base: String = self.alias.chars().take(room).collect();
        format!("{}{suffix}", base.trim_end_matches('_'))
    }

    /// A generation by its short name (`g3`) or its directory name (`g3-2027-11-01`).
    pub fn find_generation(&self, name: &str) -> Option<&Generation> {
        self.generations
            .iter()
            .find(|g| g.dir == name || format!("g{}", g.number) == name)
    }

    /// The app `mint --dir` uses, when `certmint connect` made or updated one.
    pub fn active_app(&self) -> Option<&AppRecord> {
        self.apps.iter().find(|a| a.active)
    }

    /// Mutable access to a generation by directory name.
    pub fn generation_mut(&mut self, dir: &str) -> Option<&mut Generation> {
        self.generations.iter_mut().find(|g| g.dir == dir)
    }

    /// The next generation number ([`Manifest::from_toml`] refuses numbers beyond
    /// [`MAX_GENERATION`], so this cannot overflow).
    pub fn next_number(&self) -> u32 {
        self.generations
            .iter()
            .map(|g| g.number)
            .max()
            .unwrap_or(0)
            .saturating_add(1)
    }

    /// Directory name for a new generation.
    pub fn generation_dir_name(number: u32, date: time::Date) -> String {
        format!(
            "g{number}-{:04}-{:02}-{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        )
    }
}

/// The words a manifest error may quote: the manifest's own field names and the values
/// certmint defines. Anything else between quotes in a parser message came from the file.
const SCHEMA_WORDS: &[&str] = &[
    "format",
    "stem",
    "alias",
    "subject",
    "days",
    "p12_profile",
    "current",
    "salesforce",
    "generation",
    "dir",
    "number",
    "origin",
    "status",
    "created",
    "key_bits",
    "public_key_sha256",
    "key_from",
    "certificate",
    "files",
    "serial",
    "not_before",
    "not_after",
    "sha1",
    "sha256",
    "name",
    "client_id",
    "username",
    "login_url",
    "modern",
    "java8",
    "legacy",
    "init",
    "renew",
    "rotate",
    "pending",
    "complete",
    "encrypted_key",
    "plain_key",
    "csr",
    "certificate_der",
    "pkcs12",
    "jks",
    "true",
    "false",
    "inf",
    "nan",
];

/// A TOML or serde message with every quoted piece of the file's text taken out: serde
/// quotes the value it refused (``invalid type: string "hunter2", expected u32``) and TOML
/// the key it found twice, and a secret file that ends up as `certmint.toml` must not be
/// printed. What stays: the message's own words, TOML punctuation, and [`SCHEMA_WORDS`].
fn without_content(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find(['`', '"']) {
        out.push_str(&rest[..open]);
        let quote = &rest[open..=open];
        let after = &rest[open + 1..];
        let Some(close) = after.find(quote) else {
            // An unbalanced quote: whatever follows may be the file's text.
            out.push_str("(text not shown)");
            return crate::text::escape(&out);
        };
        let quoted = &after[..close];
        let ours = SCHEMA_WORDS.contains(&quoted)
            || (!quoted.is_empty() && !quoted.chars().any(char::is_alphanumeric));
        if ours {
            out.push_str(quote);
            out.push_str(quoted);
            out.push_str(quote);
        } else {
            out.push_str("(text not shown)");
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    crate::text::escape(&out)
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// A manifest that cannot be written as TOML: certmint built a value TOML cannot hold,
/// which is certmint's fault, not the caller's (and never a cryptographic failure).
fn serialisation_error(e: toml::ser::Error) -> Error {
    Error::internal(format!("certmint cannot write the manifest as TOML ({e})"))
}

/// SHA-256 of bytes as lowercase hex.
pub fn file_digest(bytes: &[u8]) -> String {
    use sha2::Digest;
    crate::text::hex(&sha2::Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        let mut files = BTreeMap::new();
        files.insert(
            Role::Certificate,
            FileRecord {
                name: "server.crt".into(),
                sha256: "00".into(),
            },
        );
        Manifest {
            format: FORMAT,
            stem: "server".into(),
            alias: "acme_jwt".into(),
            subject: "/CN=acme-jwt".into(),
            days: 365,
            p12_profile: Profile::Modern,
            current: Some("g1-2026-11-28".into()),
            salesforce: SalesforceSettings::default(),
            jks: true,
            generations: vec![Generation {
                dir: "g1-2026-11-28".into(),
                number: 1,
                origin: Origin::Init,
                status: Status::Complete,
                created: "2026-11-28T00:00:00Z".into(),
                key_bits: 2048,
                public_key_sha256: "AA".into(),
                key_from: None,
                alias: None,
                certificate: None,
                files,
            }],
            apps: Vec::new(),
        }
    }

    #[test]
    fn round_trips_through_toml() {
        let m = sample();
        let text = m.to_toml().unwrap();
        assert!(text.contains("[[generation]]"), "{text}");
        assert_eq!(Manifest::from_toml(&text).unwrap(), m);
    }

    fn app(name: &str, active: bool) -> AppRecord {
        AppRecord {
            name: name.into(),
            kind: AppKind::ExternalClientApp,
            consumer_key: "K0123456789abcdefghij".into(),
            created: true,
            org_id: "00DEMULATOR000125B".into(),
            instance_url: "http://127.0.0.1:7357".into(),
            username: "integration@acme.com".into(),
            permission_set: Some("acme_jwt".into()),
            profiles: Vec::new(),
            scopes: vec!["Api".into(), "RefreshToken".into()],
            label: name.into(),
            contact_email: "admin@acme.com".into(),
            callback_url: "http://localhost:1717/OauthRedirect".into(),
            state: AppState::Verified,
            replaces: None,
            active,
            generation: Some("g1-2026-11-28".into()),
            certificate_sha256: Some("AA".into()),
            plan_sha256: Some("00".into()),
            deploy_id: Some("0AfEMU0000000010BA".into()),
            parts: Some(crate::wire::metadata::EcaPartNames::generated(name)),
            permission_set_created: true,
            permission_set_assigned: true,
            admin_assignment: None,
            updated: "2026-11-28T00:00:00Z".into(),
        }
    }

    #[test]
    fn app_records_round_trip_and_at_most_one_is_active() {
        let mut m = sample();
        m.apps = vec![app("acme_jwt", false), app("acme_jwt_g2", true)];
        let text = m.to_toml().unwrap();
        assert!(text.contains("[[app]]"), "{text}");
        let back = Manifest::from_toml(&text).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.active_app().unwrap().name, "acme_jwt_g2");
        // A manifest without apps reads as before (older certmint wrote none).
        assert!(!sample().to_toml().unwrap().contains("[[app]]"));
        m.apps[0].active = true;
        assert!(Manifest::from_toml(&toml::to_string(&m).unwrap()).is_err());
        m.apps[0].active = false;
        m.apps[0].generation = Some("g9-2030-01-01".into());
        let e = Manifest::from_toml(&toml::to_string(&m).unwrap()).unwrap_err();
        assert!(e.to_string().contains("names generation"), "{e}");
    }

    #[test]
    fn rejects_path_traversal_and_unknown_format() {
        let mut m = sample();
        m.generations[0].dir = "../etc".into();
        m.current = Some("../etc".into());
        let text = toml::to_string(&m).unwrap();
        assert!(Manifest::from_toml(&text).is_err());
        let mut m = sample();
        m.format = 99;
        assert!(matches!(
            Manifest::from_toml(&toml::to_string(&m).unwrap()),
            Err(Error::Unsupported { .. })
        ));
    }

    #[test]
    fn later_generations_get_their_own_import_name() {
        let m = sample();
        assert_eq!(m.import_alias(1), "acme_jwt");
        assert_eq!(m.import_alias(3), "acme_jwt_g3");
        crate::salesforce::validate_alias(&m.import_alias(12)).unwrap();
        let mut long = sample();
        long.alias = "a".repeat(80);
        let a = long.import_alias(2);
        assert!(a.len() <= crate::salesforce::MAX_ALIAS_LEN);
        crate::salesforce::validate_alias(&a).unwrap();
    }

    #[test]
    fn an_unknown_p12_profile_is_refused_with_its_place_and_the_known_ones() {
        let text = sample().to_toml().unwrap();
        let bad = text.replace("p12_profile = \"modern\"", "p12_profile = \"s3cret-ish\"");
        assert_ne!(bad, text);
        let err = Manifest::parse(&bad, Path::new("dir/certmint.toml")).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Corrupt { .. }), "{msg}");
        let line = bad
            .lines()
            .position(|l| l.starts_with("p12_profile"))
            .unwrap()
            + 1;
        assert!(
            msg.contains(&format!("`dir/certmint.toml` line {line}, column 15")),
            "{msg}"
        );
        assert!(msg.contains("modern, java8, legacy"), "{msg}");
        assert!(!msg.contains("s3cr"), "the file's text is quoted: {msg}");
        // Nor any other type in its place.
        let number = text.replace("p12_profile = \"modern\"", "p12_profile = 12345");
        let msg = Manifest::from_toml(&number).unwrap_err().to_string();
        assert!(
            msg.contains("`certmint.toml` line") && !msg.contains("12345"),
            "{msg}"
        );
        // The names are read in any case, and written in lowercase.
        let upper = text.replace("p12_profile = \"modern\"", "p12_profile = \"Java8\"");
        let m = Manifest::from_toml(&upper).unwrap();
        assert_eq!(m.p12_profile, Profile::Java8);
        assert!(m.to_toml().unwrap().contains("p12_profile = \"java8\""));
    }

    #[test]
    fn parse_errors_give_the_place_and_never_the_text() {
        // Secret-looking files that end up as certmint.toml, and values of the wrong type.
        let cases = [
            "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7s3cr\n",
            "hunter2-s3cret\n",
            "API_KEY=sk-live-s3cret\n",
            "format = \"s3cret\"\n",
            "format = 1\nstem = 5005\n",
            "s3cret = 1\ns3cret = 2\n",
            "[s3cret]\nx = 1\n[s3cret]\n",
            "\"s3cret\" = 'x'\n\"s3cret\" = 'y'\n",
            "x = 'unterminated s3cret\n",
            "x = \"unterminated s3cret\n",
            "k = 1979-05-27T07:32:00Zs3cret\n",
        ];
        for text in cases {
            let err = Manifest::parse(text, Path::new("d/certmint.toml")).unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, Error::Corrupt { .. }), "{text:?}: {msg}");
            assert!(msg.contains("`d/certmint.toml` line "), "{text:?}: {msg}");
            assert!(msg.contains(", column "), "{text:?}: {msg}");
            for word in ["s3cr", "MIIE", "5005", "hunter", "sk-live", "API_KEY"] {
                assert!(!msg.contains(word), "{text:?} is quoted: {msg}");
            }
        }
        assert_eq!(
            without_content("invalid type: string \"pw\", expected u32"),
            "invalid type: string (text not shown), expected u32"
        );
        assert_eq!(
            without_content("missing field `format`"),
            "missing field `format`"
        );
        assert_eq!(
            without_content("key with no value, expected `=`"),
            "key with no value, expected `=`"
        );
    }

    #[test]
    fn a_serialisation_failure_is_not_a_cryptographic_error() {
        let e: toml::ser::Error = serde::ser::Error::custom("unsupported value");
        let err = serialisation_error(e);
        assert!(matches!(err, Error::Internal(_)), "{err:?}");
        assert!(err.to_string().contains("manifest as TOML"), "{err}");
        assert!(!err.to_string().contains("cryptographic"), "{err}");
    }

    #[test]
    fn no_jks_is_recorded_only_when_chosen() {
        let m = sample();
        assert!(!m.to_toml().unwrap().contains("jks ="));
        assert!(m.roles().contains(&Role::Jks));
        let mut no = sample();
        no.jks = false;
        let text = no.to_toml().unwrap();
        assert!(text.contains("jks = false"), "{text}");
        let back = Manifest::from_toml(&text).unwrap();
        assert!(!back.jks);
        assert_eq!(back.roles().len(), ROLES.len() - 1);
        assert!(!back.roles().contains(&Role::Jks));
    }

    #[test]
    fn dir_names() {
        let d = time::macros::date!(2026 - 01 - 05);
        assert_eq!(Manifest::generation_dir_name(3, d), "g3-2026-01-05");
    }
}
