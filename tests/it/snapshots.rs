//! Snapshot tests (insta) of what certmint shows a person, through the real binary: every
//! subcommand's `--help` (and the top level's `-h`), each documented error message (the
//! EXIT CODES sections of the help and docs/troubleshooting.md), and `inspect`/`check`
//! text on fixtures with a fixed clock.
//!
//! The snapshots are in `tests/it/snapshots/`. A missing or different snapshot fails the
//! test; CI runs with `INSTA_UPDATE=no`, so nothing is written there. To accept a change,
//! run `cargo insta review` (cargo-insta), or `INSTA_UPDATE=always cargo test --test it
//! snapshots` and read `git diff tests/it/snapshots/` before committing.
//!
//! The clock: `inspect` and `check` on fixtures run under libfaketime (`LD_PRELOAD`, Debian
//! package `faketime`) at [`CLOCK`], inside `fixtures/certs/base.crt`'s validity, so days
//! left and expiry are exact. Output about files made at run time (keys, certificates,
//! tokens, ports, temp paths) goes through insta filters instead ([`Filters::Generated`]).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use crate::support::emulator as emu;
use crate::support::*;

/// The fixed clock for fixture output: 48 days after base.crt's notBefore (2026-11-28).
const CLOCK: &str = "2027-01-15 12:00:00";
/// After base.crt's notAfter (2027-11-28), for the expired case.
const LATE_CLOCK: &str = "2028-03-01 09:30:00";

/// The repository root: fixture commands run there with relative paths, so the output
/// names `fixtures/...` as a user would see it.
fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// libfaketime's preload library; a missing one fails the test (never skips it).
pub(crate) fn faketime_lib() -> PathBuf {
    let candidates = [
        std::env::var("FAKETIME_LIB").unwrap_or_default(),
        "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1".into(),
        "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1".into(),
        "/usr/lib/faketime/libfaketime.so.1".into(),
    ];
    candidates
        .iter()
        .filter(|c| !c.is_empty())
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!(
                "libfaketime is required by the snapshot tests and was not found ({candidates:?}); \
                 install it (apt-get install -y faketime) or set FAKETIME_LIB, instead of skipping the test"
            )
        })
}

/// certmint with a clean environment, a fixed terminal width (help wraps to it) and, when
/// `clock` is given, libfaketime's clock.
fn cm(cwd: &Path, clock: Option<&str>) -> Command {
    let mut c = certmint_offline();
    c.current_dir(cwd)
        .env("COLUMNS", "100")
        .env("LC_ALL", "C.UTF-8");
    if let Some(t) = clock {
        c.env("LD_PRELOAD", faketime_lib())
            .env("FAKETIME", format!("@{t}"))
            .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
            .env("FAKETIME_DONT_RESET", "1");
    }
    c
}

/// The exit code, stdout and stderr as one text to snapshot.
fn shown(out: &Output) -> String {
    let (stdout, stderr) = texts(out);
    let mut s = format!("exit: {}\n", out.status.code().map_or(-1, |c| c));
    if !stdout.is_empty() {
        s.push_str("--- stdout\n");
        s.push_str(&stdout);
    }
    if !stderr.is_empty() {
        s.push_str("--- stderr\n");
        s.push_str(&stderr);
    }
    s
}

/// Which filters a snapshot needs.
#[derive(Clone, Copy)]
enum Filters {
    /// Fixture output under the fixed clock: only paths, ports and the version.
    Fixed,
    /// Output about files, tokens and times made at run time: also dates, times, days,
    /// fingerprints, serials and tokens.
    Generated,
}

fn settings(filters: Filters) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    let root = repo().display().to_string();
    s.add_filter(&regex_escape(&root), "[REPO]");
    s.add_filter(r"/tmp/\.tmp[A-Za-z0-9]+", "[TMP]");
    s.add_filter(r"(127\.0\.0\.1|localhost):\d{2,5}", "$1:[PORT]");
    s.add_filter(
        &format!(r"\b{}\b", regex_escape(env!("CARGO_PKG_VERSION"))),
        "[VERSION]",
    );
    if let Filters::Generated = filters {
        s.add_filter(
            r"00D[A-Za-z0-9]{12}![A-Za-z0-9._\-]+(…[A-Za-z0-9._\-]+)?",
            "[TOKEN]",
        );
        s.add_filter(r"\b([0-9A-F]{2}:){15,}[0-9A-F]{2}\b", "[FINGERPRINT]");
        s.add_filter(r"\b[0-9a-f]{40,64}\b", "[HEX]");
        s.add_filter(
            r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z| UTC|[+-]\d{2}:\d{2})?",
            "[DATETIME]",
        );
        s.add_filter(r"\b\d{4}-\d{2}-\d{2}\b", "[DATE]");
        s.add_filter(r"\b1[6-9]\d{8}\b", "[EPOCH]");
        s.add_filter(
            r"\b\d+ (days?|seconds?|s) (left|ago|ahead|behind)",
            "[N] $1 $2",
        );
        s.add_filter(r"\bg\d{8}T\d{6}Z?\b", "[GENERATION]");
    }
    s
}

/// Escape `text` for a regular expression.
fn regex_escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Snapshot `text` as `name` with `filters`.
fn snap(name: &str, text: &str, filters: Filters) {
    settings(filters).bind(|| insta::assert_snapshot!(name, text));
}

// ---------------------------------------------------------------------------------------
// Help

/// Every subcommand has a help snapshot below: a new subcommand fails here until it gets
/// one.
#[test]
fn every_subcommand_has_a_help_snapshot() {
    let mut listed = subcommands();
    listed.sort();
    let mut snapped: Vec<String> = HELP.iter().map(|s| s.to_string()).collect();
    snapped.sort();
    assert_eq!(
        listed, snapped,
        "add the new subcommand to HELP and to help_of"
    );
}

const HELP: &[&str] = &[
    "demo",
    "init",
    "connect",
    "disconnect",
    "renew",
    "rotate",
    "key",
    "decrypt",
    "csr",
    "cert",
    "convert",
    "p12",
    "export",
    "jks",
    "inspect",
    "check",
    "jwt",
    "mint",
    "emulate",
    "completions",
    "man",
];

fn help(args: &[&str], name: &str) {
    let out = cm(&repo(), None).args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", shown(&out));
    snap(name, &texts(&out).0, Filters::Fixed);
}

#[test]
fn help_top_level() {
    help(&["--help"], "help_top_level");
}

#[test]
fn help_top_level_short() {
    help(&["-h"], "help_top_level_short");
}

cases!(help_of {
    demo => help(&["demo", "--help"], "help_demo"),
    init => help(&["init", "--help"], "help_init"),
    connect => help(&["connect", "--help"], "help_connect"),
    disconnect => help(&["disconnect", "--help"], "help_disconnect"),
    renew => help(&["renew", "--help"], "help_renew"),
    rotate => help(&["rotate", "--help"], "help_rotate"),
    key => help(&["key", "--help"], "help_key"),
    decrypt => help(&["decrypt", "--help"], "help_decrypt"),
    csr => help(&["csr", "--help"], "help_csr"),
    cert => help(&["cert", "--help"], "help_cert"),
    convert => help(&["convert", "--help"], "help_convert"),
    p12 => help(&["p12", "--help"], "help_p12"),
    export => help(&["export", "--help"], "help_export"),
    jks => help(&["jks", "--help"], "help_jks"),
    inspect => help(&["inspect", "--help"], "help_inspect"),
    check => help(&["check", "--help"], "help_check"),
    jwt => help(&["jwt", "--help"], "help_jwt"),
    mint => help(&["mint", "--help"], "help_mint"),
    emulate => help(&["emulate", "--help"], "help_emulate"),
    completions => help(&["completions", "--help"], "help_completions"),
    man => help(&["man", "--help"], "help_man"),
});

// ---------------------------------------------------------------------------------------
// Documented errors (the EXIT CODES sections): certmint run in a scratch directory that
// holds copies of the fixtures it needs, so every path in a message is relative.

/// A scratch directory with the fixtures the error cases use, by short names.
fn scratch() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (from, to) in [
        ("keys/base.pkcs8.pem", "server.key"),
        ("keys/enc-aes256.pem", "server.pass.key"),
        ("keys/other.pkcs8.pem", "other.key"),
        ("keys/ec-p256.pem", "ec.key"),
        ("keys/rsa1024.pem", "small.key"),
        ("keys/enc-pbe-sha1-rc4.pem", "pbe-sha1-rc4.key"),
        ("certs/base.crt", "server.crt"),
        ("certs/other.csr", "other.csr"),
        ("certs/base.csr.der", "server.csr.der"),
        ("p12/openssl-default.p12", "server.p12"),
        ("p12/keytool-two.p12", "two.p12"),
        ("jks/keytool-equal.jks", "server.jks"),
        ("jks/keytool.jceks", "server.jceks"),
        ("jks/small.key", "jks-small.key"),
        ("jks/small.crt", "jks-small.crt"),
    ] {
        std::fs::copy(fixture(from), d.path().join(to)).unwrap();
    }
    std::fs::write(d.path().join("notes.txt"), "not a key\n").unwrap();
    let der = std::fs::read(fixture("p12/openssl-default.p12")).unwrap();
    std::fs::write(d.path().join("truncated.p12"), &der[..der.len() / 2]).unwrap();
    let mut csr = std::fs::read(fixture("certs/base.csr.der")).unwrap();
    let last = csr.len() - 1;
    csr[last] ^= 0x01;
    std::fs::write(d.path().join("tampered.csr.der"), csr).unwrap();
    std::fs::write(d.path().join("exists.pem"), "precious\n").unwrap();
    d
}

/// Run `args` in a scratch directory with `P` = the fixtures' password and `WRONG` = a
/// wrong one; snapshot exit code, stdout and stderr; the exit code must be `code`.
fn error(name: &str, code: i32, args: &[&str]) {
    let d = scratch();
    let out = cm(d.path(), Some(CLOCK))
        .args(args)
        .env("P", FIXTURE_PW)
        .env("WRONG", "not-the-password")
        .env("SHORT", "abc")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(code), "{args:?}: {}", shown(&out));
    snap(name, &shown(&out), Filters::Generated);
}

cases!(documented_error {
    key_bad_size => error("error_key_bad_size", 2, &["key", "--bits", "1024", "--out", "new.key", "--passout", "env:P"]),
    key_no_password_source => error("error_key_no_password_source", 2, &["key", "--out", "new.key"]),
    key_short_password => error("error_key_short_password", 2, &["key", "--out", "new.key", "--passout", "env:SHORT"]),
    key_output_exists => error("error_key_output_exists", 2, &["key", "--unencrypted", "--out", "exists.pem"]),
    decrypt_wrong_password => error("error_decrypt_wrong_password", 2, &["decrypt", "server.pass.key", "--out", "plain.key", "--passin", "env:WRONG"]),
    decrypt_missing_file => error("error_decrypt_missing_file", 2, &["decrypt", "missing.key", "--out", "plain.key"]),
    decrypt_wrong_kind_of_file => error("error_decrypt_wrong_kind_of_file", 2, &["decrypt", "server.crt", "--out", "plain.key"]),
    decrypt_not_a_key => error("error_decrypt_not_a_key", 2, &["decrypt", "notes.txt", "--out", "plain.key"]),
    decrypt_not_rsa => error("error_decrypt_not_rsa", 2, &["decrypt", "ec.key", "--out", "plain.key"]),
    decrypt_unsupported_encryption => error("error_decrypt_unsupported_encryption", 2, &["decrypt", "pbe-sha1-rc4.key", "--out", "plain.key", "--passin", "env:P"]),
    decrypt_no_password_source => error("error_decrypt_no_password_source", 2, &["decrypt", "server.pass.key", "--out", "plain.key"]),
    decrypt_output_exists => error("error_decrypt_output_exists", 2, &["decrypt", "server.key", "--out", "exists.pem"]),
    csr_bad_subject => error("error_csr_bad_subject", 2, &["csr", "--key", "server.key", "--subj", "/C=USA/CN=x", "--out", "new.csr"]),
    csr_no_subject => error("error_csr_no_subject", 2, &["csr", "--key", "server.key", "--out", "new.csr"]),
    csr_small_key => error("error_csr_small_key", 2, &["csr", "--key", "small.key", "--cn", "x", "--out", "new.csr"]),
    cert_key_mismatch => error("error_cert_key_mismatch", 2, &["cert", "--csr", "other.csr", "--key", "server.key", "--out", "new.crt"]),
    cert_csr_signature => error("error_cert_csr_signature", 2, &["cert", "--csr", "tampered.csr.der", "--key", "server.key", "--out", "new.crt"]),
    cert_zero_days => error("error_cert_zero_days", 2, &["cert", "--key", "server.key", "--cn", "x", "--days", "0", "--out", "new.crt"]),
    convert_unrecognised => error("error_convert_unrecognised", 2, &["convert", "notes.txt", "--to", "der", "--out", "notes.der"]),
    convert_output_exists => error("error_convert_output_exists", 2, &["convert", "server.crt", "--to", "der", "--out", "exists.pem"]),
    p12_key_mismatch => error("error_p12_key_mismatch", 2, &["p12", "--cert", "server.crt", "--key", "other.key", "--out", "new.p12", "--passout", "env:P"]),
    p12_wrong_key_password => error("error_p12_wrong_key_password", 2, &["p12", "--cert", "server.crt", "--key", "server.pass.key", "--passin", "env:WRONG", "--out", "new.p12", "--passout", "env:P"]),
    export_wrong_password => error("error_export_wrong_password", 2, &["export", "server.p12", "--passin", "env:WRONG", "--key-out", "out.key"]),
    export_unknown_alias => error("error_export_unknown_alias", 2, &["export", "two.p12", "--passin", "env:P", "--alias", "nope", "--cert-out", "out.crt"]),
    export_damaged_keystore => error("error_export_damaged_keystore", 2, &["export", "truncated.p12", "--passin", "env:P", "--cert-out", "out.crt"]),
    export_jceks => error("error_export_jceks", 2, &["export", "server.jceks", "--passin", "env:P", "--cert-out", "out.crt"]),
    jks_invalid_alias => error("error_jks_invalid_alias", 2, &["jks", "--cert", "server.crt", "--key", "server.key", "--alias", "1", "--out", "new.jks", "--passout", "env:P"]),
    jks_small_key => error("error_jks_small_key", 2, &["jks", "--cert", "jks-small.crt", "--key", "jks-small.key", "--out", "new.jks", "--passout", "env:P"]),
    jks_key_mismatch => error("error_jks_key_mismatch", 2, &["jks", "--cert", "server.crt", "--key", "other.key", "--out", "new.jks", "--passout", "env:P"]),
    inspect_unrecognised => error("error_inspect_unrecognised", 2, &["inspect", "notes.txt"]),
    inspect_wrong_password => error("error_inspect_wrong_password", 2, &["inspect", "server.p12", "--passin", "env:WRONG"]),
    check_key_mismatch => error("error_check_key_mismatch", 1, &["check", "server.crt", "--key", "other.key"]),
    check_corrupt => error("error_check_corrupt", 2, &["check", "truncated.p12", "--passin", "env:P"]),
    check_wrong_password => error("error_check_wrong_password", 2, &["check", "server.jks", "--passin", "env:WRONG"]),
    jwt_ttl_too_long => error("error_jwt_ttl_too_long", 2, &["jwt", "--key", "server.key", "--client-id", "K", "--username", "u", "--ttl", "181"]),
    jwt_wrong_password => error("error_jwt_wrong_password", 2, &["jwt", "--key", "server.pass.key", "--passin", "env:WRONG", "--client-id", "K", "--username", "u"]),
    mint_plain_http_to_a_remote_host => error("error_mint_plain_http", 2, &["mint", "--key", "server.key", "--client-id", "K", "--username", "u", "--login-url", "http://login.salesforce.com"]),
    mint_key_does_not_match_cert => error("error_mint_key_does_not_match_cert", 2, &["mint", "--key", "other.key", "--cert", "server.crt", "--client-id", "K", "--username", "u", "--login-url", "http://127.0.0.1:9"]),
    emulate_bad_configuration => error("error_emulate_bad_configuration", 2, &["emulate", "--config", "notes.txt"]),
    emulate_unreadable_certificate => error("error_emulate_unreadable_certificate", 2, &["emulate", "--cert", "notes.txt", "--client-id", "K", "--user", "u@example.com"]),
    init_bad_subject => error("error_init_bad_subject", 2, &["init", "acme", "--subj", "/C=USA/CN=x", "--passout", "env:P"]),
    renew_no_generation => error("error_renew_no_generation", 2, &["renew", "."]),
    connect_not_a_directory => error("error_connect_not_a_directory", 2, &["connect", ".", "--target-org", "acme"]),
    connect_access_token_on_argv => error("error_connect_access_token_on_argv", 2, &["connect", ".", "--instance-url", "https://acme.my.salesforce.com", "--access-token", "pass:00Dxx0000001gPL!secret"]),
    renew_deploy_not_connected => error("error_renew_deploy_not_connected", 2, &["renew", ".", "--deploy", "--target-org", "acme"]),
});

/// `emulate --listen` on an address another process holds.
#[test]
fn error_emulate_address_in_use() {
    let d = scratch();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let out = cm(d.path(), None)
        .args(["emulate", "--cert", "server.crt", "--client-id", "K"])
        .args(["--user", "u@example.com", "--listen", &addr])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", shown(&out));
    snap(
        "error_emulate_address_in_use",
        &shown(&out),
        Filters::Generated,
    );
}

/// `rotate --activate` of a generation that does not exist, in a directory made by init.
#[test]
fn error_rotate_unknown_generation() {
    let d = scratch();
    let init = cm(d.path(), None)
        .args([
            "-q",
            "init",
            "acme",
            "--cn",
            "acme-jwt",
            "--passout",
            "env:P",
        ])
        .env("P", FIXTURE_PW)
        .output()
        .unwrap();
    assert!(init.status.success(), "{}", shown(&init));
    let out = cm(d.path(), None)
        .args(["rotate", "acme", "--activate", "g9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", shown(&out));
    snap(
        "error_rotate_unknown_generation",
        &shown(&out),
        Filters::Generated,
    );
}

// ---------------------------------------------------------------------------------------
// docs/troubleshooting.md: every Salesforce error `mint` explains, from the emulator with
// fixtures/emulator/acme.toml, and the network failures.

/// A scratch directory with the base key (`server.key`, which acme.toml's apps trust) and
/// another key (`other.key`).
fn mint_dir() -> &'static tempfile::TempDir {
    static D: OnceLock<tempfile::TempDir> = OnceLock::new();
    D.get_or_init(scratch)
}

fn acme() -> &'static certmint::emulator::Running {
    static E: OnceLock<certmint::emulator::Running> = OnceLock::new();
    E.get_or_init(|| emu::start(emu::acme()))
}

/// acme.toml with the emulator's clock an hour ahead (troubleshooting.md, section 6).
fn acme_ahead() -> &'static certmint::emulator::Running {
    static E: OnceLock<certmint::emulator::Running> = OnceLock::new();
    E.get_or_init(|| emu::start(emu::acme_with("clock_offset_seconds = 3600", "")))
}

fn mint(name: &str, code: i32, base: &str, key: &str, client_id: &str, user: &str, extra: &[&str]) {
    let out = cm(mint_dir().path(), None)
        .args([
            "mint",
            "--key",
            key,
            "--client-id",
            client_id,
            "--username",
            user,
        ])
        .args(["--login-url", base])
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(code), "{}", shown(&out));
    snap(name, &shown(&out), Filters::Generated);
}

cases!(troubleshooting {
    success => mint("mint_success", 0, acme().base_url(), "server.key", "KEY_MAIN", "alice@example.com", &[]),
    invalid_assertion_wrong_key => mint("mint_invalid_assertion_wrong_key", 1, acme().base_url(), "other.key", "KEY_MAIN", "alice@example.com", &[]),
    invalid_assertion_unknown_user => mint("mint_invalid_assertion_unknown_user", 1, acme().base_url(), "server.key", "KEY_MAIN", "zed@example.com", &[]),
    invalid_client_id => mint("mint_invalid_client_id", 1, acme().base_url(), "server.key", "KEY_WRONG", "alice@example.com", &[]),
    app_not_found => mint("mint_app_not_found", 1, acme().base_url(), "server.key", "KEY_ECA", "alice@example.com", &[]),
    audience_is_invalid => mint("mint_audience_is_invalid", 1, acme().base_url(), "server.key", "KEY_MAIN", "alice@example.com", &["--audience", "test"]),
    expired_authorization_code => mint("mint_expired_authorization_code", 1, acme_ahead().base_url(), "server.key", "KEY_MAIN", "alice@example.com", &[]),
    user_hasnt_approved_this_consumer => mint("mint_user_hasnt_approved_this_consumer", 1, acme().base_url(), "server.key", "KEY_SELF", "bob@example.com", &[]),
    user_is_not_admin_approved => mint("mint_user_is_not_admin_approved", 1, acme().base_url(), "server.key", "KEY_MAIN", "bob@example.com", &[]),
    inactive_user => mint("mint_inactive_user", 1, acme().base_url(), "server.key", "KEY_MAIN", "carol@example.com", &[]),
    ip_restricted => mint("mint_ip_restricted", 1, acme().base_url(), "server.key", "KEY_MAIN", "dave@example.com", &[]),
});

/// Section 1 (`unsupported_grant_type`) cannot come from `certmint mint`: the emulator's
/// answer to a JSON body, status, the two documented headers and the body.
#[test]
fn troubleshooting_unsupported_grant_type_response() {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let resp = agent
        .post(format!("{}/services/oauth2/token", acme().base_url()))
        .header("Content-Type", "application/json")
        .send(r#"{"grant_type":"urn:ietf:params:oauth:grant-type:jwt-bearer"}"#)
        .unwrap();
    let header = |n: &str| {
        resp.headers()
            .get(n)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let text = format!(
        "status: {}\ncontent-type: {}\ncache-control: {}\n",
        resp.status().as_u16(),
        header("content-type"),
        header("cache-control"),
    );
    let mut resp = resp;
    let body = resp.body_mut().read_to_string().unwrap();
    snap(
        "mint_unsupported_grant_type_response",
        &format!("{text}body: {body}\n"),
        Filters::Generated,
    );
}

/// Nothing listens: "connection failed" with its hint.
#[test]
fn troubleshooting_connection_failed() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    mint(
        "mint_connection_failed",
        2,
        &base,
        "server.key",
        "KEY_MAIN",
        "alice@example.com",
        &[],
    );
}

/// An HTTPS emulator whose certificate is not trusted: the TLS hint.
#[test]
fn troubleshooting_tls_untrusted() {
    let (tls, _) = emu::tls_identity();
    let e = emu::start_with(
        emu::acme(),
        certmint::emulator::ServerOptions {
            tls: Some(tls),
            ..Default::default()
        },
    );
    mint(
        "mint_tls_untrusted",
        2,
        e.base_url(),
        "server.key",
        "KEY_MAIN",
        "alice@example.com",
        &[],
    );
}

/// `https://` to a server that speaks plain HTTP (the emulator without TLS): said as
/// such, with the `http://` URL to use instead.
#[test]
fn troubleshooting_https_to_plain_http() {
    let base = acme().base_url().replacen("http://", "https://", 1);
    mint(
        "mint_https_to_plain_http",
        2,
        &base,
        "server.key",
        "KEY_MAIN",
        "alice@example.com",
        &[],
    );
}

/// A host name that does not resolve (`.invalid` never does, RFC 6761): "host name
/// lookup failed" and the name. The resolver's own reason varies with the machine.
#[test]
fn troubleshooting_lookup_failed() {
    let out = cm(mint_dir().path(), None)
        .args(["mint", "--key", "server.key", "--client-id", "KEY_MAIN"])
        .args(["--username", "alice@example.com"])
        .args(["--login-url", "https://acme.certmint-test.invalid"])
        .args(["--connect-timeout", "10"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", shown(&out));
    let mut s = settings(Filters::Generated);
    s.add_filter(r"does not resolve \([^)]*\)", "does not resolve ([REASON])");
    s.bind(|| insta::assert_snapshot!("mint_lookup_failed", shown(&out)));
}

/// docs/troubleshooting.md's table of network and TLS failures shows what `mint` prints:
/// each documented message (`…` for the parts that vary, `NAME` for the host) matches
/// the `cause:` line of the snapshot of that failure.
#[test]
fn troubleshooting_documents_the_network_messages_mint_prints() {
    let doc = std::fs::read_to_string(repo().join("docs/troubleshooting.md")).unwrap();
    let section = doc
        .split("## Network and TLS failures")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .unwrap();
    // The first cell of each row, without its code-span backticks.
    let messages: Vec<String> = section
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(" | ").next())
        .map(|cell| {
            let cell = cell.trim();
            let cell = cell
                .strip_prefix("`` ")
                .and_then(|c| c.strip_suffix(" ``"))
                .unwrap_or(cell);
            let cell = cell.split("` ").next().unwrap_or(cell);
            cell.trim_matches('`').to_string()
        })
        .collect();
    for (snapshot, host, starts) in [
        (
            "mint_lookup_failed",
            "acme.certmint-test.invalid",
            "host name lookup failed",
        ),
        (
            "mint_tls_untrusted",
            "",
            "TLS handshake failed: the server's certificate",
        ),
        (
            "mint_https_to_plain_http",
            "",
            "TLS handshake failed: the server does not",
        ),
        ("mint_connection_failed", "", "connection failed"),
        ("error_mint_plain_http", "", "plain http://"),
    ] {
        let message = messages
            .iter()
            .find(|m| m.starts_with(starts))
            .unwrap_or_else(|| panic!("no row for `{starts}` in {messages:?}"));
        let text =
            std::fs::read_to_string(repo().join(format!("tests/it/snapshots/{snapshot}.snap")))
                .unwrap();
        let cause = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("cause: "))
            .unwrap_or_else(|| panic!("{snapshot} has no cause"));
        let mut rest = cause;
        for piece in message.replace("NAME", host).split('…') {
            let piece = piece.trim();
            match rest.find(piece) {
                Some(at) => rest = &rest[at + piece.len()..],
                None => {
                    panic!("docs/troubleshooting.md documents `{message}`, but mint says `{cause}`")
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// inspect and check on fixtures, at the fixed clock

fn fixed(name: &str, code: i32, clock: &str, args: &[&str]) {
    let out = cm(&repo(), Some(clock))
        .args(args)
        .env("P", FIXTURE_PW)
        .env("JKS", "changeit")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(code), "{args:?}: {}", shown(&out));
    snap(name, &shown(&out), Filters::Fixed);
}

/// libfaketime really sets the clock certmint sees (else the fixed-clock snapshots would
/// pass for the wrong reason on a quiet day and fail on another).
#[test]
fn the_fixed_clock_reaches_certmint() {
    let out = cm(&repo(), Some(CLOCK))
        .args(["inspect", "fixtures/certs/base.crt"])
        .output()
        .unwrap();
    let text = texts(&out).0;
    // base.crt ends 2027-11-28T16:48:37Z: 317 days after 2027-01-15 12:00.
    assert!(text.contains("(317 days left)"), "{text}");
}

cases!(inspect_fixture {
    certificate => fixed("inspect_certificate", 0, CLOCK, &["inspect", "fixtures/certs/base.crt"]),
    certificate_der => fixed("inspect_certificate_der", 0, CLOCK, &["inspect", "fixtures/certs/base.der"]),
    csr => fixed("inspect_csr", 0, CLOCK, &["inspect", "fixtures/certs/base.csr"]),
    key => fixed("inspect_key", 0, CLOCK, &["inspect", "fixtures/keys/base.pkcs8.pem"]),
    encrypted_key => fixed("inspect_encrypted_key", 0, CLOCK, &["inspect", "fixtures/keys/enc-aes256.pem"]),
    pkcs12 => fixed("inspect_pkcs12", 0, CLOCK, &["inspect", "fixtures/p12/openssl-default.p12", "--passin", "env:P"]),
    jks => fixed("inspect_jks", 0, CLOCK, &["inspect", "fixtures/jks/keytool-equal.jks", "--passin", "env:JKS"]),
    jceks => fixed("inspect_jceks", 2, CLOCK, &["inspect", "fixtures/jks/keytool.jceks"]),
});

cases!(check_fixture {
    certificate_valid => fixed("check_certificate_valid", 0, CLOCK, &["check", "-v", "fixtures/certs/base.crt"]),
    certificate_expiring => fixed("check_certificate_expiring", 1, CLOCK, &["check", "fixtures/certs/base.crt", "--warn-days", "400"]),
    certificate_expired => fixed("check_certificate_expired", 1, LATE_CLOCK, &["check", "fixtures/certs/base.crt"]),
    key_match => fixed("check_key_match", 0, CLOCK, &["check", "-v", "fixtures/certs/base.crt", "--key", "fixtures/keys/base.pkcs8.pem"]),
    key_mismatch => fixed("check_key_mismatch", 1, CLOCK, &["check", "fixtures/certs/base.crt", "--key", "fixtures/keys/other.pkcs8.pem"]),
    pkcs12 => fixed("check_pkcs12", 0, CLOCK, &["check", "-v", "fixtures/p12/openssl-default.p12", "--passin", "env:P"]),
    jks_salesforce_rules_pass => fixed("check_jks_salesforce", 0, CLOCK, &["check", "--salesforce", "fixtures/jks/keytool-equal.jks", "--passin", "env:JKS"]),
    jks_small_key => fixed("check_jks_small_key", 1, CLOCK, &["check", "--salesforce", "fixtures/jks/keytool-1024.jks", "--passin", "env:JKS"]),
    jks_bad_alias => fixed("check_jks_bad_alias", 1, CLOCK, &["check", "--salesforce", "fixtures/jks/keytool-alias-1.jks", "--passin", "env:JKS"]),
    jks_key_password_differs => fixed("check_jks_key_password_differs", 1, CLOCK, &["check", "--salesforce", "fixtures/jks/keytool-keypass-differs.jks", "--passin", "env:JKS"]),
});
