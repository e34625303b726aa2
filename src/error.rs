//! The library's one error type.
//!
//! Messages are lowercase and specific; the binary adds the file name, what the user was
//! doing and a hint. A wrong password, an unsupported algorithm and a corrupt file are
//! always different variants, because they call for different fixes. What an error is
//! about is an enum too ([`Input`], [`Expected`], [`Signed`]), whose `Display` gives the
//! words of the message, so a caller matches variants, never message text.

use std::fmt;

/// Result alias used across the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in certmint's library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Decryption failed: the password is wrong (or, rarely, the encrypted bytes were altered).
    #[error("wrong password for the {what}")]
    WrongPassword {
        /// What was being decrypted ([`Input::PrivateKey`], [`Input::Pkcs12`],
        /// [`Input::JksKeyEntry`], ...).
        what: Input,
    },

    /// The input is encrypted and no password was supplied.
    #[error("the {what} is encrypted and needs a password")]
    PasswordRequired {
        /// What is encrypted.
        what: Input,
    },

    /// The input is well formed but uses something certmint does not support.
    #[error("unsupported {what}: {detail}")]
    Unsupported {
        /// The kind of thing (format, algorithm, cipher), e.g. [`Input::KeyEncryption`],
        /// [`Input::KeystoreType`].
        what: Input,
        /// Which one.
        detail: String,
    },

    /// The input is not what it claims to be: bad base64, truncated DER, garbage.
    #[error("corrupt or truncated {what}: {detail}")]
    Corrupt {
        /// What was being parsed.
        what: Input,
        /// Where or why parsing stopped.
        detail: String,
    },

    /// The input is a different kind of file than the one expected.
    #[error("expected {expected}, found {found}")]
    WrongKind {
        /// What the caller wanted.
        expected: Expected,
        /// What the input holds.
        found: String,
    },

    /// An RSA key size Salesforce does not accept.
    #[error(
        "RSA key size {bits} bits is not accepted: Salesforce takes 2048, 3072 or 4096-bit keys"
    )]
    KeySize {
        /// The requested or found modulus size.
        bits: usize,
    },

    /// The key is not RSA (Salesforce signs and verifies JWT bearer assertions with RSA only).
    #[error("not an RSA key ({0})")]
    NotRsa(String),

    /// A private key and a certificate or CSR hold different public keys.
    #[error("the private key does not match the {0}")]
    KeyMismatch(Input),

    /// A signature (on a CSR or a JWT assertion) does not verify.
    #[error("the {0} signature does not verify")]
    BadSignature(Signed),

    /// A distinguished name that X.509 or Salesforce would refuse.
    #[error("invalid subject: {0}")]
    InvalidSubject(String),

    /// A value given by the caller is out of range or malformed.
    #[error("invalid {what}: {detail}")]
    InvalidInput {
        /// Which input.
        what: Input,
        /// Why it is refused.
        detail: String,
    },

    /// A keystore has no entry under the requested alias.
    #[error("no entry named `{alias}` (the keystore has: {available})")]
    UnknownAlias {
        /// The alias asked for.
        alias: String,
        /// The aliases present, comma separated.
        available: String,
    },

    /// The output file exists and overwriting was not allowed.
    #[error("already exists")]
    AlreadyExists,

    /// Another certmint run is changing the same certmint directory: it holds the
    /// directory's lock file (two runs at once would make the same generation twice).
    #[error("another certmint run is working on this directory: it holds the lock `{lock}`")]
    Busy {
        /// The lock file, as shown (escaped).
        lock: String,
    },

    /// The path names something other than a regular file (a FIFO, a device, a socket, a
    /// directory, or, for an output, a symbolic link): certmint neither reads it nor
    /// replaces it, even with `--force` (see [`crate::readfile`], [`crate::output`]).
    #[error("it is {0}, not a regular file")]
    NotRegularFile(FileKind),

    /// A file holds more than certmint reads ([`crate::readfile::MAX_INPUT`], or the
    /// manifest's bound).
    #[error("it holds more than {limit} bytes; certmint reads at most {limit}")]
    TooLarge {
        /// The bound, in bytes.
        limit: u64,
    },

    /// A key derivation named by a file would cost more than [`crate::kdf::Limits`]
    /// allow: refused before anything is derived.
    #[error("{0}")]
    KdfLimit(crate::kdf::Excess),

    /// An operating-system I/O error.
    #[error(transparent)]
    Io(#[from] std::io::Error),

    /// A network exchange failed (name lookup, connection, proxy, TLS, timeout) or the
    /// server answered with something that is not the expected protocol.
    #[error("{kind}: {detail}")]
    Network {
        /// Which stage failed.
        kind: NetworkKind,
        /// What the lower layer said (never contains tokens or assertions).
        detail: String,
    },

    /// The org (Salesforce's REST API or Metadata API, or the emulator) refused a call with
    /// an error code, e.g. `INVALID_SESSION_ID` for an expired admin session or
    /// `INSUFFICIENT_ACCESS` for a user who may not deploy.
    #[error("{call}: HTTP {status}, {code}: {message}")]
    OrgRefused {
        /// What was asked of the org.
        call: OrgCall,
        /// The HTTP status.
        status: u16,
        /// Salesforce's `errorCode`.
        code: String,
        /// Salesforce's `message` (never a token).
        message: String,
    },

    /// The admin lacks a user permission a change needs; checked before anything is
    /// changed in the org.
    #[error("the admin `{user}` lacks {missing}, needed to {needed_for}")]
    MissingPermissions {
        /// The admin's username.
        user: String,
        /// The user permissions missing, by their names in Setup.
        missing: String,
        /// What needs them (`deploy the app, create the permission set`).
        needed_for: String,
    },

    /// No admin session could be had: the Salesforce CLI is missing or not logged in to
    /// the org, hides the token, or an access token source is empty or malformed.
    #[error("{problem}: {detail}")]
    AdminSession {
        /// What went wrong.
        problem: SessionProblem,
        /// The details (never the token).
        detail: String,
    },

    /// A failure that is not the caller's fault: a cryptographic primitive or encoder
    /// refused what certmint built, the operating system's random number generator failed,
    /// or a manifest could not be written as TOML. The text says which.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The stage at which a network exchange failed (see [`Error::Network`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NetworkKind {
    /// The host name did not resolve.
    Dns,
    /// The TCP connection could not be made (refused, unreachable, reset).
    Connect,
    /// A connect or read timeout expired.
    Timeout,
    /// The proxy refused or failed the CONNECT, or its setting is invalid.
    Proxy,
    /// The TLS handshake failed (for another reason than the two below).
    Tls,
    /// The TLS handshake failed because the server's certificate is not trusted: its
    /// issuer is not among the trusted roots (a self-signed certificate, a private CA, a
    /// TLS-inspecting proxy).
    UntrustedCertificate,
    /// The TLS handshake failed because the server answered in plain text: an `https://`
    /// URL pointing at a plain-HTTP server.
    NotTls,
    /// The server broke the HTTP protocol.
    Protocol,
    /// The server answered, but not with what the protocol expects (wrong URL, HTML page,
    /// redirect, server error).
    UnexpectedResponse,
}

impl fmt::Display for NetworkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NetworkKind::Dns => "host name lookup failed",
            NetworkKind::Connect => "connection failed",
            NetworkKind::Timeout => "timed out",
            NetworkKind::Proxy => "proxy failed",
            NetworkKind::Tls => "TLS handshake failed",
            NetworkKind::UntrustedCertificate => {
                "TLS handshake failed: the server's certificate is not trusted"
            }
            NetworkKind::NotTls => "TLS handshake failed: the server does not speak TLS",
            NetworkKind::Protocol => "HTTP protocol error",
            NetworkKind::UnexpectedResponse => "unexpected response",
        })
    }
}

/// A call to the org (see [`Error::OrgRefused`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OrgCall {
    /// A SOQL query.
    Query,
    /// Creating a record (`POST sobjects/<Type>`).
    Create,
    /// Starting a Metadata API deploy.
    Deploy,
    /// Polling a deploy.
    DeployStatus,
    /// The OpenID Connect UserInfo of the admin session.
    UserInfo,
    /// Deleting a record (`DELETE sobjects/<Type>/<id>`).
    Delete,
    /// Reading metadata (SOAP `readMetadata`).
    ReadMetadata,
    /// Listing metadata (SOAP `listMetadata`).
    ListMetadata,
}

impl fmt::Display for OrgCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OrgCall::Query => "the org refused the query",
            OrgCall::Create => "the org refused to create the record",
            OrgCall::Deploy => "the org refused the deploy",
            OrgCall::DeployStatus => "the org refused to report on the deploy",
            OrgCall::UserInfo => "the org refused the admin session",
            OrgCall::Delete => "the org refused to delete the record",
            OrgCall::ReadMetadata => "the org refused to read its metadata (readMetadata)",
            OrgCall::ListMetadata => "the org refused to list its metadata (listMetadata)",
        })
    }
}

impl FileKind {
    /// What a file type is, or `None` for a regular file.
    pub fn of(ft: &std::fs::FileType) -> Option<FileKind> {
        if ft.is_file() {
            return None;
        }
        Some(if ft.is_dir() {
            FileKind::Directory
        } else if ft.is_symlink() {
            FileKind::Symlink
        } else {
            special(ft)
        })
    }
}

/// Why no admin session could be had (see [`Error::AdminSession`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionProblem {
    /// The Salesforce CLI (`sf`) is not installed or not on `PATH`.
    SfMissing,
    /// The Salesforce CLI knows no org under that alias or username, or its
    /// authorization has expired.
    SfNotLoggedIn,
    /// `sf org display` hides the access token and `sf org auth show-access-token` gave
    /// none.
    SfTokenRedacted,
    /// The Salesforce CLI is too old to show the access token
    /// (`sf org auth show-access-token` is missing) and `sf org display` hides it.
    SfTooOld,
    /// The Salesforce CLI failed or answered something that is not its JSON.
    SfFailed,
    /// The access token (from `--access-token`) is empty or not an access token.
    BadToken,
    /// The instance URL is not an `https://` URL (or a loopback `http://` one).
    BadInstanceUrl,
}

impl fmt::Display for SessionProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SessionProblem::SfMissing => "the Salesforce CLI (sf) is not installed",
            SessionProblem::SfNotLoggedIn => "the Salesforce CLI is not logged in to that org",
            SessionProblem::SfTokenRedacted => "the Salesforce CLI hides the access token",
            SessionProblem::SfTooOld => "the Salesforce CLI is too old to show the access token",
            SessionProblem::SfFailed => "the Salesforce CLI failed",
            SessionProblem::BadToken => "the access token is not usable",
            SessionProblem::BadInstanceUrl => "the instance URL is not usable",
        })
    }
}

#[cfg(unix)]
fn special(ft: &std::fs::FileType) -> FileKind {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_fifo() {
        FileKind::Fifo
    } else if ft.is_char_device() {
        FileKind::CharDevice
    } else if ft.is_block_device() {
        FileKind::BlockDevice
    } else if ft.is_socket() {
        FileKind::Socket
    } else {
        FileKind::Other
    }
}

#[cfg(not(unix))]
fn special(_ft: &std::fs::FileType) -> FileKind {
    FileKind::Other
}

impl Error {
    pub(crate) fn corrupt(what: Input, detail: impl fmt::Display) -> Self {
        Error::Corrupt {
            what,
            detail: detail.to_string(),
        }
    }

    pub(crate) fn unsupported(what: Input, detail: impl fmt::Display) -> Self {
        Error::Unsupported {
            what,
            detail: detail.to_string(),
        }
    }

    pub(crate) fn invalid(what: Input, detail: impl fmt::Display) -> Self {
        Error::InvalidInput {
            what,
            detail: detail.to_string(),
        }
    }

    pub(crate) fn network(kind: NetworkKind, detail: impl fmt::Display) -> Self {
        Error::Network {
            kind,
            detail: detail.to_string(),
        }
    }

    pub(crate) fn internal(detail: impl fmt::Display) -> Self {
        Error::Internal(detail.to_string())
    }
}

/// Defines an enum of the phrases error messages use: each variant with its doc and its
/// words, `as_str` and a `Display` that writes them.
macro_rules! phrases {
    ($(
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal, )+
        }
    )+) => {$(
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// The words error messages use for it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )+};
}

phrases! {
    /// What an error is about: the input being read, the part of it certmint refuses, or
    /// the value the caller gave. Its `Display` is the phrase the messages use, so the
    /// binary matches on the variant and never on message text.
    Input {
        // What is read.
        /// A private key file (any encoding certmint reads).
        PrivateKey => "private key",
        /// The RSA key inside a PKCS#1 or PKCS#8 structure.
        RsaPrivateKey => "RSA private key",
        /// A public key (SubjectPublicKeyInfo).
        PublicKey => "public key",
        /// An X.509 certificate.
        Certificate => "certificate",
        /// The certificates that go with a key, leaf first.
        CertificateChain => "certificate chain",
        /// A PKCS#10 certificate signing request.
        Csr => "certificate signing request",
        /// A file of CA certificates to trust for TLS.
        CaCertificates => "CA certificate file",
        /// The emulator's TLS server certificate.
        TlsCertificate => "TLS certificate",
        /// The emulator's TLS certificate with its key.
        TlsCertificateAndKey => "TLS certificate and key",
        /// A PKCS#12 (PFX) file.
        Pkcs12 => "PKCS#12 file",
        /// An encrypted safe inside a PKCS#12 file.
        Pkcs12Contents => "encrypted contents of the PKCS#12 file",
        /// The shrouded key bag of a PKCS#12 file.
        Pkcs12PrivateKey => "private key in the PKCS#12 file",
        /// The integrity MAC of a PKCS#12 file.
        Mac => "MAC",
        /// A Java KeyStore (JKS) file.
        Jks => "JKS keystore",
        /// A private-key entry of a JKS keystore, under its own password.
        JksKeyEntry => "JKS key entry",
        /// The encrypted key of a JKS private-key entry.
        ProtectedKey => "protected key",
        /// A PKCS#12 or JKS keystore.
        Keystore => "keystore",
        /// The certificate of a keystore entry.
        KeystoreCertificate => "certificate in the keystore",
        /// A JSON Web Token as `certmint inspect` reads it.
        Jwt => "JWT",
        /// A signed JWT bearer assertion.
        JwtAssertion => "JWT assertion",
        /// The `certmint.toml` manifest of a certmint directory.
        Manifest => "manifest",
        /// A file of PEM blocks.
        PemFile => "PEM file",
        /// A binary DER file.
        DerFile => "DER file",
        /// A file of a kind not yet known.
        File => "file",
        /// The emulator's TOML configuration.
        EmulatorConfig => "emulator configuration",
        /// The token endpoint's answer.
        TokenResponse => "token response",
        /// The identity URL's answer.
        IdentityResponse => "identity response",
        // What certmint does not support.
        /// The encoding of a key.
        KeyFormat => "key format",
        /// The scheme that encrypts a private key.
        KeyEncryption => "key encryption",
        /// The algorithm that protects a JKS key entry.
        KeyProtection => "key protection",
        /// The cipher named by a traditional PEM `DEK-Info` header.
        LegacyPemCipher => "legacy PEM cipher",
        /// A header line inside a PEM block.
        PemHeader => "PEM header",
        /// The label of a PEM block (`BEGIN ...`).
        PemLabel => "PEM label",
        /// The `alg` of a JWT.
        JwtAlgorithm => "JWT algorithm",
        /// The type of a keystore (for example JCEKS).
        KeystoreType => "keystore type",
        /// A kind of keystore entry.
        KeystoreEntry => "keystore entry",
        /// The version of a JKS file.
        JksVersion => "JKS version",
        /// A conversion between PEM and DER.
        Conversion => "conversion",
        /// The format version of a manifest.
        ManifestFormat => "manifest format",
        /// A distinguished name read from a certificate or CSR.
        Subject => "subject",
        /// The digest of a PKCS#12 MAC.
        Pkcs12MacAlgorithm => "PKCS#12 MAC algorithm",
        /// How a PKCS#12 structure is encoded.
        Pkcs12Encoding => "PKCS#12 encoding",
        /// The version of a PKCS#12 file.
        Pkcs12Version => "PKCS#12 version",
        /// How a PKCS#12 file proves its integrity.
        Pkcs12IntegrityMode => "PKCS#12 integrity mode",
        /// How a PKCS#12 file keeps its contents secret.
        Pkcs12PrivacyMode => "PKCS#12 privacy mode",
        /// How the bags of a PKCS#12 file are arranged.
        Pkcs12Layout => "PKCS#12 layout",
        /// The salts and iteration counts of a PKCS#12 file.
        Pkcs12Parameters => "PKCS#12 parameters",
        /// The scheme that encrypts part of a PKCS#12 file.
        Pkcs12Encryption => "PKCS#12 encryption",
        // Values the caller gives.
        /// A keystore alias (friendly name).
        Alias => "alias",
        /// A generation of a certmint directory (`g1`, `g2`, ...).
        Generation => "generation",
        /// A certmint directory.
        Directory => "directory",
        /// A password.
        Password => "password",
        /// A certificate's validity period.
        Validity => "validity",
        /// A subject alternative name (DNS name or IP address).
        SubjectAltName => "subject alternative name",
        /// The cost parameters of scrypt.
        ScryptParameters => "scrypt parameters",
        /// The key derivations of a command, all files together.
        KeyDerivation => "key derivation",
        /// The iteration count of PBKDF2.
        Pbkdf2IterationCount => "PBKDF2 iteration count",
        /// A PKCS#12 compatibility profile.
        Pkcs12Profile => "PKCS#12 profile",
        /// The iteration count of a PKCS#12 file.
        Pkcs12IterationCount => "PKCS#12 iteration count",
        /// The certificate type string of a JKS entry.
        CertificateType => "certificate type",
        /// The path of a certificate in the emulator's configuration.
        CertificatePath => "certificate path",
        /// A claim of a JWT.
        Claim => "claim",
        /// How long a JWT assertion is valid.
        AssertionLifetime => "assertion lifetime",
        /// A URL.
        Url => "URL",
        /// The Salesforce login URL (token endpoint host).
        LoginUrl => "login URL",
        /// The `aud` claim of an assertion.
        Audience => "audience",
        /// The identity URL a token response names.
        IdentityUrl => "identity URL",
        /// A connected app in the emulator's configuration.
        App => "app",
        /// A user in the emulator's configuration.
        User => "user",
        /// A Salesforce user id.
        UserId => "user id",
        /// A Salesforce org id.
        OrgId => "org id",
        /// A site URL in the emulator's configuration.
        SiteUrl => "site URL",
        /// The My Domain in the emulator's configuration.
        MyDomain => "my_domain",
        /// The emulator's saved org state (`--state FILE`).
        EmulatorState => "emulator state",
        /// A profile in the emulator's org.
        Profile => "profile",
        /// A permission set in the emulator's org.
        PermissionSet => "permission set",
        /// A record id the emulator hands out.
        RecordId => "record id",
        /// A permission set assignment id the emulator hands out.
        AssignmentId => "assignment id",

        // The Metadata API.
        /// A metadata component file (XML).
        MetadataXml => "metadata XML",
        /// The full name of a metadata component.
        MetadataComponentName => "metadata component name",
        /// A value of one of the Metadata API's enumerations.
        MetadataValue => "metadata value",
        /// A deploy package (zip).
        DeployZip => "deploy zip",

        // The org side (`certmint connect`).
        /// The answer of the org's REST API.
        RestResponse => "REST API response",
        /// The answer of the Salesforce CLI (`sf ... --json`).
        SfOutput => "Salesforce CLI output",
        /// The name of an app in the org.
        AppName => "app name",
        /// An OAuth scope of an app.
        Scope => "OAuth scope",
        /// The org an app lives in.
        Org => "org",
        /// The metadata written by `--save-metadata`.
        SavedMetadata => "saved metadata",
    }

    /// The kind of input an operation wanted (see [`Error::WrongKind`]).
    Expected {
        /// A private key.
        PrivateKey => "a private key",
        /// A certificate.
        Certificate => "a certificate",
        /// A certificate signing request.
        Csr => "a certificate signing request",
        /// Anything `certmint convert` converts.
        Convertible => "a certificate, CSR, public key or private key",
        /// Anything `certmint check` checks.
        Checkable => "a certificate, keystore or certmint directory",
        /// CA certificates to trust.
        CaCertificates => "CA certificates (PEM `BEGIN CERTIFICATE` blocks or one DER certificate)",
        /// A PKCS#12 file.
        Pkcs12 => "a PKCS#12 file",
        /// A PKCS#12 file, which is binary DER.
        Pkcs12Der => "a PKCS#12 file (binary DER, not PEM)",
        /// A PKCS#12 file that holds a key or a certificate.
        Pkcs12WithContents => "a PKCS#12 file with a key or certificate",
        /// A JKS keystore.
        Jks => "a JKS keystore",
        /// A keystore that holds a private key.
        KeystoreWithKey => "a keystore with a private key",
        /// A keystore entry with a private key, by alias.
        PrivateKeyEntry => "a private-key entry",
        /// A keystore entry with a private key.
        EntryWithKey => "an entry with a private key",
    }

    /// What is at a path that is not a regular file (see [`Error::NotRegularFile`]).
    FileKind {
        /// A directory.
        Directory => "a directory",
        /// A symbolic link (an output is never written through one).
        Symlink => "a symbolic link",
        /// A named pipe.
        Fifo => "a named pipe (FIFO)",
        /// A character device such as `/dev/null` or `/dev/zero`.
        CharDevice => "a character device",
        /// A block device (a disk).
        BlockDevice => "a block device",
        /// A Unix domain socket.
        Socket => "a socket",
        /// Anything else the system may have.
        Other => "a special file",
    }

    /// What carries a signature that did not verify (see [`Error::BadSignature`]).
    Signed {
        /// A certificate signing request (self-signed with its key).
        Csr => "CSR",
        /// A JWT bearer assertion.
        JwtAssertion => "JWT assertion",
    }
}
