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
        what: &'static str,
    },

    /// The input is encrypted and no password was supplied.
    #[error("the {what} is encrypted and needs a password")]
    PasswordRequired {
        /// What is encrypted.
        what: &'static str,
    },

    /// The input is well formed but uses something certmint does not support.
    #[error("unsupported {what}: {detail}")]
    Unsupported {
        /// The kind of thing (format, algorithm, cipher).
        what: &'static str,
        /// Which one.
        detail: String,
    },

    /// The input is not what it claims to be: bad base64, truncated DER, garbage.
    #[error("corrupt or truncated {what}: {detail}")]
    Corrupt {
        /// What was being parsed.
        what: &'static str,
        /// Where or why parsing stopped.
        detail: String,
    },

    /// The input is a different kind of file than the one expected.
    #[error("expected {expected}, found {found}")]
    WrongKind {
        /// What the caller wanted.
        expected: &'static str,
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
    KeyMismatch(&'static str),

    /// A signature (on a CSR, a certificate or a JWT) does not verify.
    #[error("the {0} signature does not verify")]
    BadSignature(&'static str),

    /// A distinguished name that X.509 or Salesforce would refuse.
    #[error("invalid subject: {0}")]
    InvalidSubject(String),

    /// A value given by the caller is out of range or malformed.
    #[error("invalid {what}: {detail}")]
    InvalidInput {
        /// Which input.
        what: &'static str,
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

    /// A failure inside a cryptographic primitive that is not the caller's fault.
    #[error("internal cryptographic error: {0}")]
    Crypto(String),
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
    pub(crate) fn corrupt(what: &'static str, detail: impl fmt::Display) -> Self {
        Error::Corrupt {
            what,
            detail: detail.to_string(),
        }
    }

    pub(crate) fn unsupported(what: &'static str, detail: impl fmt::Display) -> Self {
        Error::Unsupported {
            what,
            detail: detail.to_string(),
        }
    }

    pub(crate) fn invalid(what: &'static str, detail: impl fmt::Display) -> Self {
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

    pub(crate) fn crypto(detail: impl fmt::Display) -> Self {
        Error::Crypto(detail.to_string())
    }
}
