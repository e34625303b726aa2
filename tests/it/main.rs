//! certmint's integration tests: one test binary, one module per area, one support module.
//!
//! Two tiers. The default tier (`cargo test --locked`) is the fast loop a developer runs
//! after every change. The slow tier adds the crash-kill, stress and namespace disk tests;
//! it is compiled in by the `slow-tests` feature (`cargo test --locked --features
//! slow-tests`), which `.ci/run` and the README's test command turn on. A slow test is
//! never skipped at run time: without the feature it is not built at all, and with it,
//! it runs and fails when what it needs is missing.
//!
//! Tests and their helpers may unwrap and expect: a test that cannot go on fails with the
//! panic's message (clippy.toml allows it inside `#[test]` functions; the helpers in
//! support/ and the tables need it too).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test that cannot go on fails with the panic's message"
)]

mod support;

mod clients;
mod connect;
#[cfg(feature = "slow-tests")]
mod crash;
#[cfg(feature = "slow-tests")]
mod disk;
mod docs;
mod emulator;
mod errors;
mod guides;
mod help;
mod jks;
mod keystores;
mod lengths;
mod lifecycle;
mod mint;
mod mint_batch;
mod org;
mod pkcs12;
mod polish;
mod prompts;
mod recipe;
mod regression;
mod secrets;
mod security;
mod shell;
mod snapshots;
#[cfg(feature = "slow-tests")]
mod stress;
