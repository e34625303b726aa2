//! certmint: provision the RSA key, certificate and keystores for OAuth 2.0 JWT bearer
//! (server-to-server) integrations such as Salesforce connected apps, and prove the setup
//! works by minting an access token.
//!
//! The library does the work and knows nothing of command lines, prompts or exit codes:
//! functions take bytes and typed options and return bytes or parsed values. Clocks,
//! randomness and the file system live at the edge (the `certmint` binary), with
//! `_with_rng`-style variants where a deterministic test needs them.
//!
//! The modules, grouped as in the Architecture section of `docs/design.md`:
//!
//! Formats (one module per format, bytes in and bytes out):
//! - [`key`]: RSA private keys: generation, and every encoding OpenSSL writes (PKCS#1,
//!   PKCS#8, encrypted PKCS#8, OpenSSL 1.x legacy PEM), read and written.
//! - [`legacy_pem`]: the OpenSSL 1.x `Proc-Type: 4,ENCRYPTED` / `DEK-Info` PEM encryption.
//! - [`pemfile`]: PEM blocks (RFC 7468, with RFC 1421 headers) and the one list of PEM
//!   labels.
//! - [`subject`]: distinguished names, including OpenSSL's `/C=US/O=Acme/CN=x` syntax.
//! - [`csr`]: PKCS#10 certificate signing requests (RFC 2986).
//! - [`x509`]: self-signed X.509 v3 certificates; reading certificates and chains.
//! - [`convert`]: PEM ⇄ DER for certificates, CSRs and keys.
//! - [`pkcs12`]: PKCS#12 / PFX files (RFC 7292) with compatibility profiles, both ways.
//! - [`jks`]: Java KeyStore (JKS) version 2, read and written in-project; the writer
//!   proves what it wrote.
//! - [`jwt`]: JWT bearer assertions (RFC 7523): RS256 signing, parsing and verifying.
//!
//! Operations on those formats:
//! - [`detect`]: what any file is, from its bytes (the one file-type detector).
//! - [`inspect`]: a report on any file or certmint directory, for text and JSON.
//! - [`keystore`]: one door into keystores: PKCS#12 or JKS by content, an entry by alias.
//! - [`salesforce`]: Salesforce's keystore import rules, as data and checks, and the JKS
//!   writer that applies them.
//! - [`check`]: does a file or certmint directory meet what its consumer requires
//!   (expiry, key match, Salesforce's import rules), as typed findings.
//! - [`workdir`]: a certmint directory: init, renew, rotate and activate, generation by
//!   generation.
//! - [`manifest`]: the directory's `certmint.toml`: generations, files and their digests.
//!
//! Protocol:
//! - [`wire`]: the wire contract of the Salesforce endpoints (paths, bodies, error
//!   strings), shared by the client and the emulator.
//! - [`transport`]: HTTP for every request certmint sends: TLS roots and `--ca-file`,
//!   proxies, plain HTTP only to loopback, bounded answers, failures classified.
//! - [`token_endpoint`]: the client: login URLs and audiences, the JWT bearer exchange,
//!   Salesforce's errors explained, the identity check.
//! - [`connect`]: the org side: the app (an External Client App or a connected app), its
//!   certificate and permission set deployed through the Metadata API with an admin
//!   session, read back and proven by a token; the `--deploy` rotations and `disconnect`,
//!   through one deploy-and-prove state machine that resumes where a run stopped.
//!
//! Emulator:
//! - [`emulator`]: a local emulated Salesforce org: the token endpoint, identity and
//!   UserInfo, the REST data API and the Metadata API (REST and SOAP) that `connect` and
//!   the Salesforce CLI use, layered state → response → handlers → routes → server.
//!
//! Files, secrets and text:
//! - [`output`]: crash-safe file writing (temp file, fsync, rename, fixed modes).
//! - [`readfile`]: the one file reader: regular files only, bounded, wiped buffers.
//! - [`secret`]: [`Password`] and [`SecretBytes`]: zeroized, redacted in `Debug`.
//! - [`kdf`]: what key derivation from a file's parameters may cost (per derivation, per
//!   file, per command).
//! - [`text`]: terminal escaping of untrusted text, hex, RFC 3339 times.
//! - [`error`]: the one error type, [`Error`].

#![forbid(unsafe_code)]

pub mod check;
pub mod connect;
pub mod convert;
pub mod csr;
pub mod detect;
pub mod emulator;
pub mod error;
pub mod inspect;
pub mod jks;
pub mod jwt;
pub mod kdf;
pub mod key;
pub mod keystore;
pub mod legacy_pem;
pub mod manifest;
pub mod output;
pub mod pemfile;
pub mod pkcs12;
pub mod readfile;
pub mod salesforce;
pub mod secret;
pub mod subject;
pub mod text;
pub mod token_endpoint;
pub mod transport;
pub mod wire;
pub mod workdir;
pub mod x509;

pub use error::{Error, Result};
pub use secret::{Password, SecretBytes};
