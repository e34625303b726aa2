//! The library's one error type.
//!
//! Messages are lowercase and specific; the binary adds the file name, what the user was
//! doing and a hint. A wrong password, an unsupported algorithm and a corrupt file are
//! always different variants, because they call for different fixes.

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
        /// What was being decrypted ("private key", "PKCS#12 file", "JKS keystore").
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
        /// The kind of thing (format, algorithm, cipher).
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

    /// A signature (on a CSR, a certificate or a JWT) does not verify.
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
    /// The TLS handshake failed (for example an untrusted certificate).
    Tls,
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
            NetworkKind::Protocol => "HTTP protocol error",
            NetworkKind::UnexpectedResponse => "unexpected response",
        })
    }
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
/// What an error is about: the input being read, the part of it certmint refuses, or the
/// value the caller gave. Its `Display` is the phrase the messages use, so the binary
/// matches on the variant and never on message text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Input {
    /// A private key file (any encoding certmint reads).
    PrivateKey,
    /// The RSA key inside a PKCS#1 or PKCS#8 structure.
    RsaPrivateKey,
    /// A public key (SubjectPublicKeyInfo).
    PublicKey,
    /// An X.509 certificate.
    Certificate,
    /// The certificates that go with a key, leaf first.
    CertificateChain,
    /// A PKCS#10 certificate signing request.
    Csr,
    /// A file of CA certificates to trust for TLS.
    CaCertificates,
    /// The emulator's TLS server certificate.
    TlsCertificate,
    /// The emulator's TLS certificate with its key.
    TlsCertificateAndKey,
    /// A PKCS#12 (PFX) file.
    Pkcs12,
    /// An encrypted safe inside a PKCS#12 file.
    Pkcs12Contents,
    /// The shrouded key bag of a PKCS#12 file.
    Pkcs12PrivateKey,
    /// The integrity MAC of a PKCS#12 file.
    Mac,
    /// A Java KeyStore (JKS) file.
    Jks,
    /// A private-key entry of a JKS keystore, under its own password.
    JksKeyEntry,
    /// The encrypted key of a JKS private-key entry.
    ProtectedKey,
    /// A PKCS#12 or JKS keystore.
    Keystore,
    /// The certificate of a keystore entry.
    KeystoreCertificate,
    /// A JSON Web Token as `certmint inspect` reads it.
    Jwt,
    /// A signed JWT bearer assertion.
    JwtAssertion,
    /// The `certmint.toml` manifest of a certmint directory.
    Manifest,
    /// A file of PEM blocks.
    PemFile,
    /// A binary DER file.
    DerFile,
    /// A file of a kind not yet known.
    File,
    /// The emulator's TOML configuration.
    EmulatorConfig,
    /// The token endpoint's answer.
    TokenResponse,
    /// The identity URL's answer.
    IdentityResponse,
    /// The encoding of a key.
    KeyFormat,
    /// The scheme that encrypts a private key.
    KeyEncryption,
    /// The algorithm that protects a JKS key entry.
    KeyProtection,
    /// The cipher named by a traditional PEM `DEK-Info` header.
    LegacyPemCipher,
    /// A header line inside a PEM block.
    PemHeader,
    /// The label of a PEM block (`BEGIN ...`).
    PemLabel,
    /// The `alg` of a JWT.
    JwtAlgorithm,
    /// The type of a keystore (for example JCEKS).
    KeystoreType,
    /// A kind of keystore entry.
    KeystoreEntry,
    /// The version of a JKS file.
    JksVersion,
    /// A conversion between PEM and DER.
    Conversion,
    /// The format version of a manifest.
    ManifestFormat,
    /// A distinguished name read from a certificate or CSR.
    Subject,
    /// The digest of a PKCS#12 MAC.
    Pkcs12MacAlgorithm,
    /// How a PKCS#12 structure is encoded.
    Pkcs12Encoding,
    /// The version of a PKCS#12 file.
    Pkcs12Version,
    /// How a PKCS#12 file proves its integrity.
    Pkcs12IntegrityMode,
    /// How a PKCS#12 file keeps its contents secret.
    Pkcs12PrivacyMode,
    /// How the bags of a PKCS#12 file are arranged.
    Pkcs12Layout,
    /// The salts and iteration counts of a PKCS#12 file.
    Pkcs12Parameters,
    /// The scheme that encrypts part of a PKCS#12 file.
    Pkcs12Encryption,
    /// A keystore alias (friendly name).
    Alias,
    /// A generation of a certmint directory (`g1`, `g2`, ...).
    Generation,
    /// A certmint directory.
    Directory,
    /// A password.
    Password,
    /// A certificate's validity period.
    Validity,
    /// A subject alternative name (DNS name or IP address).
    SubjectAltName,
    /// The cost parameters of scrypt.
    ScryptParameters,
    /// The iteration count of PBKDF2.
    Pbkdf2IterationCount,
    /// A PKCS#12 compatibility profile.
    Pkcs12Profile,
    /// The iteration count of a PKCS#12 file.
    Pkcs12IterationCount,
    /// The certificate type string of a JKS entry.
    CertificateType,
    /// The path of a certificate in the emulator's configuration.
    CertificatePath,
    /// A claim of a JWT.
    Claim,
    /// How long a JWT assertion is valid.
    AssertionLifetime,
    /// A URL.
    Url,
    /// The Salesforce login URL (token endpoint host).
    LoginUrl,
    /// The `aud` claim of an assertion.
    Audience,
    /// The identity URL a token response names.
    IdentityUrl,
    /// A connected app in the emulator's configuration.
    App,
    /// A user in the emulator's configuration.
    User,
    /// A Salesforce user id.
    UserId,
    /// A Salesforce org id.
    OrgId,
    /// A site URL in the emulator's configuration.
    SiteUrl,
    /// The My Domain in the emulator's configuration.
    MyDomain,
}

impl Input {
    /// The phrase messages use ("private key").
    pub const fn as_str(self) -> &'static str {
        match self {
            Input::PrivateKey => "private key",
            Input::RsaPrivateKey => "RSA private key",
            Input::PublicKey => "public key",
            Input::Certificate => "certificate",
            Input::CertificateChain => "certificate chain",
            Input::Csr => "certificate signing request",
            Input::CaCertificates => "CA certificate file",
            Input::TlsCertificate => "TLS certificate",
            Input::TlsCertificateAndKey => "TLS certificate and key",
            Input::Pkcs12 => "PKCS#12 file",
            Input::Pkcs12Contents => "encrypted contents of the PKCS#12 file",
            Input::Pkcs12PrivateKey => "private key in the PKCS#12 file",
            Input::Mac => "MAC",
            Input::Jks => "JKS keystore",
            Input::JksKeyEntry => "JKS key entry",
            Input::ProtectedKey => "protected key",
            Input::Keystore => "keystore",
            Input::KeystoreCertificate => "certificate in the keystore",
            Input::Jwt => "JWT",
            Input::JwtAssertion => "JWT assertion",
            Input::Manifest => "manifest",
            Input::PemFile => "PEM file",
            Input::DerFile => "DER file",
            Input::File => "file",
            Input::EmulatorConfig => "emulator configuration",
            Input::TokenResponse => "token response",
            Input::IdentityResponse => "identity response",
            Input::KeyFormat => "key format",
            Input::KeyEncryption => "key encryption",
            Input::KeyProtection => "key protection",
            Input::LegacyPemCipher => "legacy PEM cipher",
            Input::PemHeader => "PEM header",
            Input::PemLabel => "PEM label",
            Input::JwtAlgorithm => "JWT algorithm",
            Input::KeystoreType => "keystore type",
            Input::KeystoreEntry => "keystore entry",
            Input::JksVersion => "JKS version",
            Input::Conversion => "conversion",
            Input::ManifestFormat => "manifest format",
            Input::Subject => "subject",
            Input::Pkcs12MacAlgorithm => "PKCS#12 MAC algorithm",
            Input::Pkcs12Encoding => "PKCS#12 encoding",
            Input::Pkcs12Version => "PKCS#12 version",
            Input::Pkcs12IntegrityMode => "PKCS#12 integrity mode",
            Input::Pkcs12PrivacyMode => "PKCS#12 privacy mode",
            Input::Pkcs12Layout => "PKCS#12 layout",
            Input::Pkcs12Parameters => "PKCS#12 parameters",
            Input::Pkcs12Encryption => "PKCS#12 encryption",
            Input::Alias => "alias",
            Input::Generation => "generation",
            Input::Directory => "directory",
            Input::Password => "password",
            Input::Validity => "validity",
            Input::SubjectAltName => "subject alternative name",
            Input::ScryptParameters => "scrypt parameters",
            Input::Pbkdf2IterationCount => "PBKDF2 iteration count",
            Input::Pkcs12Profile => "PKCS#12 profile",
            Input::Pkcs12IterationCount => "PKCS#12 iteration count",
            Input::CertificateType => "certificate type",
            Input::CertificatePath => "certificate path",
            Input::Claim => "claim",
            Input::AssertionLifetime => "assertion lifetime",
            Input::Url => "URL",
            Input::LoginUrl => "login URL",
            Input::Audience => "audience",
            Input::IdentityUrl => "identity URL",
            Input::App => "app",
            Input::User => "user",
            Input::UserId => "user id",
            Input::OrgId => "org id",
            Input::SiteUrl => "site URL",
            Input::MyDomain => "my_domain",
        }
    }
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of input an operation wanted (see [`Error::WrongKind`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Expected {
    /// A private key.
    PrivateKey,
    /// A certificate.
    Certificate,
    /// A certificate signing request.
    Csr,
    /// Anything `certmint convert` converts.
    Convertible,
    /// Anything `certmint check` checks.
    Checkable,
    /// CA certificates to trust.
    CaCertificates,
    /// A PKCS#12 file.
    Pkcs12,
    /// A PKCS#12 file, which is binary DER.
    Pkcs12Der,
    /// A PKCS#12 file that holds a key or a certificate.
    Pkcs12WithContents,
    /// A JKS keystore.
    Jks,
    /// A keystore that holds a private key.
    KeystoreWithKey,
    /// A keystore entry with a private key, by alias.
    PrivateKeyEntry,
    /// A keystore entry with a private key.
    EntryWithKey,
}

impl Expected {
    /// The phrase messages use ("a certificate").
    pub const fn as_str(self) -> &'static str {
        match self {
            Expected::PrivateKey => "a private key",
            Expected::Certificate => "a certificate",
            Expected::Csr => "a certificate signing request",
            Expected::Convertible => "a certificate, CSR, public key or private key",
            Expected::Checkable => "a certificate, keystore or certmint directory",
            Expected::CaCertificates => {
                "CA certificates (PEM `BEGIN CERTIFICATE` blocks or one DER certificate)"
            }
            Expected::Pkcs12 => "a PKCS#12 file",
            Expected::Pkcs12Der => "a PKCS#12 file (binary DER, not PEM)",
            Expected::Pkcs12WithContents => "a PKCS#12 file with a key or certificate",
            Expected::Jks => "a JKS keystore",
            Expected::KeystoreWithKey => "a keystore with a private key",
            Expected::PrivateKeyEntry => "a private-key entry",
            Expected::EntryWithKey => "an entry with a private key",
        }
    }
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What carries a signature that did not verify (see [`Error::BadSignature`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Signed {
    /// A certificate signing request (self-signed with its key).
    Csr,
    /// A JWT bearer assertion.
    JwtAssertion,
}

impl Signed {
    /// The phrase messages use ("CSR").
    pub const fn as_str(self) -> &'static str {
        match self {
            Signed::Csr => "CSR",
            Signed::JwtAssertion => "JWT assertion",
        }
    }
}

impl fmt::Display for Signed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
