//! certmint: provision the RSA key, certificate and keystores for OAuth 2.0 JWT bearer
//! (server-to-server) integrations such as Salesforce connected apps, and prove the setup
//! works by minting an access token.
//!
//! The library does the work and knows nothing of command lines, prompts or exit codes:
//! functions take bytes and typed options and return bytes or parsed values. Clocks,
//! randomness and the file system live at the edge (the `certmint` binary), with
//! `_with_rng`-style variants where a deterministic test needs them.
//!
//! One module per format:
//! - [`key`]: RSA private keys in every encoding OpenSSL writes (PKCS#1, PKCS#8, encrypted
//!   PKCS#8, the legacy `DEK-Info` PEM of OpenSSL 1.x), and new keys.
//! - [`legacy_pem`]: the OpenSSL 1.x `Proc-Type: 4,ENCRYPTED` PEM encryption.
//! - [`subject`]: distinguished names, including OpenSSL's `/C=US/O=Acme/CN=x` syntax.
//! - [`csr`]: PKCS#10 certificate signing requests.
//! - [`x509`]: self-signed X.509 v3 certificates and certificate reading.
//! - [`jks`]: Java KeyStore (JKS) version 2, read and written in-project.
//! - [`salesforce`]: Salesforce's keystore import rules, as data and checks.
//! - [`pkcs12`]: PKCS#12 / PFX files (RFC 7292) with compatibility profiles, both ways.
//! - [`detect`]: what any file is, from its bytes (the one file-type detector).
//! - [`check`]: does a file or certmint directory meet what its consumer requires
//!   (expiry, key match, Salesforce's import rules), as typed findings.
//! - [`output`]: crash-safe file writing (temp file, fsync, rename, fixed modes).
//! - [`wire`]: the wire contract of the Salesforce endpoints, shared by the client
//!   ([`token_endpoint`]) and the [`emulator`].

#![forbid(unsafe_code)]

pub mod check;
pub mod convert;
pub mod csr;
pub mod detect;
pub mod emulator;
pub mod error;
pub mod inspect;
pub mod jks;
pub mod jwt;
pub mod key;
pub mod keystore;
pub mod legacy_pem;
pub mod manifest;
pub mod output;
pub mod pemfile;
pub mod pkcs12;
pub mod salesforce;
pub mod secret;
pub mod subject;
pub mod text;
pub mod token_endpoint;
pub mod wire;
pub mod workdir;
pub mod x509;

pub use error::{Error, Result};
pub use secret::{Password, SecretBytes};
