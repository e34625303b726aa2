//! `certmint mint --usernames FILE` through the real binary against the emulator: JSON
//! lines in file order with per-user success or Salesforce's error, masking, exit codes,
//! and the connection bound (seen by a counting TCP relay in front of the emulator).
//! Results only: nothing here depends on timing.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use certmint::emulator::Running;

use crate::support::emulator as emu;
use crate::support::{BIN, base_pair_in, cases, certmint_offline, stderr};

struct Fixture {
    dir: tempfile::TempDir,
}

/// The committed base key and its certificate, in a scratch directory.
fn fx() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| Fixture {
        dir: base_pair_in(),
    })
}

fn emulator() -> &'static Running {
    static E: OnceLock<Running> = OnceLock::new();
    // fixtures/emulator/acme.toml: alice pre-authorized for KEY_MAIN, bob not, carol
    // inactive, erin pre-authorized through a permission set.
    E.get_or_init(|| emu::start(emu::acme()))
}

fn write_users(name: &str, text: &str) -> PathBuf {
    let p = fx().dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn batch(base: &str, users: &Path, extra: &[&str]) -> Output {
    certmint_offline()
        .args([
            "mint",
            "--key",
            "key.pem",
            "--client-id",
            "KEY_MAIN",
            "--login-url",
            base,
            "--usernames",
        ])
        .arg(users)
        .args(extra)
        .current_dir(fx().dir.path())
        .output()
        .unwrap()
}

fn lines(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

#[test]
fn mixed_success_and_refusals_in_file_order_exit_1() {
    let users = write_users(
        "mixed.txt",
        "# the integration users\nalice@example.com\n\n  bob@example.com  \ncarol@example.com\nnobody@example.com\r\n# end\nerin@example.com\n",
    );
    let o = batch(emulator().base_url(), &users, &["--concurrency", "3"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v = lines(&o);
    let names: Vec<&str> = v.iter().map(|l| l["username"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "alice@example.com",
            "bob@example.com",
            "carol@example.com",
            "nobody@example.com",
            "erin@example.com"
        ]
    );
    for ok in [&v[0], &v[4]] {
        assert_eq!(ok["ok"], true, "{ok}");
        assert_eq!(ok["org_id"], "00Dxx0000001gPLEAY");
        assert!(ok["user_id"].as_str().unwrap().starts_with("005"), "{ok}");
        assert_eq!(ok["instance_url"], emulator().base_url());
        assert_eq!(ok["verified"], true);
        let masked = ok["access_token_masked"].as_str().unwrap();
        assert!(masked.starts_with("00Dxx0000001gPL!"), "{masked}");
        assert!(masked.contains('…'), "{masked}");
        assert!(
            ok.get("access_token").is_none(),
            "token shown unasked: {ok}"
        );
    }
    assert_eq!(v[1]["ok"], false);
    assert_eq!(v[1]["error"], "invalid_app_access");
    assert_eq!(
        v[1]["error_description"],
        "user is not admin approved to access this app"
    );
    assert!(v[1]["meaning"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(v[1]["likely_cause"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(v[2]["error"], "invalid_grant");
    assert_eq!(v[2]["error_description"], "inactive user");
    assert_eq!(v[3]["error"], "invalid_grant");
    assert_eq!(v[3]["error_description"], "invalid assertion");
    assert_eq!(v[3]["status"], 400);
    let err = stderr(&o);
    assert!(err.contains("2 of 5 users got a token, 3 refused"), "{err}");
}

#[test]
fn all_granted_exit_0_and_show_token_prints_tokens() {
    let users = write_users(
        "ok.txt",
        "alice@example.com\nerin@example.com\nALICE@example.com\n",
    );
    let o = batch(emulator().base_url(), &users, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = lines(&o);
    assert_eq!(v.len(), 3);
    assert!(
        v.iter()
            .all(|l| l["ok"] == true && l.get("access_token").is_none())
    );
    // Masked tokens are not the tokens.
    let shown = batch(
        emulator().base_url(),
        &users,
        &["--show-token", "--no-verify"],
    );
    assert_eq!(shown.status.code(), Some(0), "{}", stderr(&shown));
    for l in lines(&shown) {
        let token = l["access_token"].as_str().unwrap();
        assert!(token.starts_with("00Dxx0000001gPL!"));
        assert!(token.len() > 40);
        assert_ne!(l["access_token_masked"].as_str().unwrap(), token);
        assert_eq!(l["verified"], serde_json::Value::Null);
    }
    // Without --show-token no token appears anywhere in the output.
    let out = String::from_utf8_lossy(&o.stdout).into_owned() + &stderr(&o);
    for l in lines(&shown) {
        assert!(!out.contains(l["access_token"].as_str().unwrap()));
    }
}

#[test]
fn errors_exit_2() {
    // Nothing listening: a network error stops the batch with a hint.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let users = write_users("two.txt", "alice@example.com\nerin@example.com\n");
    let o = batch(&format!("http://127.0.0.1:{port}"), &users, &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("error: the token request failed"), "{err}");
    assert!(err.contains("hint: is the emulator running?"), "{err}");
    for l in lines(&o) {
        assert_eq!(l["ok"], false);
        assert_eq!(l["error"], "network");
    }
    // An empty list.
    let empty = write_users("empty.txt", "# nobody\n\n");
    let o = batch(emulator().base_url(), &empty, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no usernames in"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    // A missing file.
    let o = batch(emulator().base_url(), Path::new("missing.txt"), &[]);
    assert_eq!(o.status.code(), Some(2));
}

cases!(
    /// --username and --usernames together, --token-out with --usernames, --concurrency 0.
    usage_errors_with_usernames_exit_2 {
        username_too => usage_error_with_usernames(&["--username", "alice@example.com"]),
        token_out => usage_error_with_usernames(&["--token-out", "t.txt"]),
        concurrency_0 => usage_error_with_usernames(&["--concurrency", "0"]),
    }
);

fn usage_error_with_usernames(extra: &[&str]) {
    // A file of its own: the cases run in parallel.
    let name = format!("two-{}.txt", extra.concat().replace(['-', '.', '@'], ""));
    let users = write_users(&name, "alice@example.com\nerin@example.com\n");
    {
        let o = batch(emulator().base_url(), &users, extra);
        assert_eq!(o.status.code(), Some(2), "{extra:?}");
        assert!(o.stdout.is_empty());
    }
}

cases!(
    /// --concurrency means nothing without --usernames: refused, never silently ignored.
    concurrency_without_usernames_exits_2 {
        with_username => concurrency_without_usernames(&["--username", "alice@example.com", "--concurrency", "4"]),
        alone => concurrency_without_usernames(&["--concurrency", "4"]),
    }
);

fn concurrency_without_usernames(extra: &[&str]) {
    {
        let o = Command::new(BIN)
            .args(["mint", "--key", "key.pem", "--client-id", "KEY_MAIN"])
            .args(["--login-url", emulator().base_url()])
            .args(extra)
            .current_dir(fx().dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{extra:?}");
        assert!(stderr(&o).contains("--usernames") || stderr(&o).contains("--username"));
        assert!(stderr(&o).contains("--concurrency"), "{}", stderr(&o));
        assert!(o.stdout.is_empty());
    }
}

/// A TCP relay in front of the emulator that counts connections: how many were opened
/// in all, and the most open at once.
struct Relay {
    port: u16,
    total: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

fn relay(target: std::net::SocketAddr) -> Relay {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let total = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let open = Arc::new(AtomicUsize::new(0));
    let (t, p) = (total.clone(), peak.clone());
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            t.fetch_add(1, Ordering::SeqCst);
            let now = open.fetch_add(1, Ordering::SeqCst) + 1;
            p.fetch_max(now, Ordering::SeqCst);
            let server = TcpStream::connect(target).unwrap();
            let open = open.clone();
            std::thread::spawn(move || {
                let up = {
                    let (mut c, mut s) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                    std::thread::spawn(move || {
                        pump(&mut c, &mut s);
                    })
                };
                let (mut s, mut c) = (server, client);
                pump(&mut s, &mut c);
                let _ = up.join();
                open.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    Relay { port, total, peak }
}

fn pump(from: &mut TcpStream, to: &mut TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

#[test]
fn connections_are_bounded_by_concurrency_and_reused() {
    let r = relay(emulator().local_addr());
    let mut text = String::new();
    for i in 0..60 {
        text.push_str(if i % 2 == 0 {
            "alice@example.com\n"
        } else {
            "erin@example.com\n"
        });
    }
    let users = write_users("sixty.txt", &text);
    let o = batch(
        &format!("http://127.0.0.1:{}", r.port),
        &users,
        &["--concurrency", "4", "--no-verify"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = lines(&o);
    assert_eq!(v.len(), 60);
    assert!(v.iter().all(|l| l["ok"] == true));
    let (total, peak) = (
        r.total.load(Ordering::SeqCst),
        r.peak.load(Ordering::SeqCst),
    );
    assert!(
        peak <= 4,
        "{peak} connections open at once with --concurrency 4"
    );
    assert!(
        total <= 4,
        "{total} connections for 60 users: keep-alive connections were not reused"
    );
}

/// Issue 12, item 18: in a batch, an unknown user's `invalid assertion` had the key as its
/// `likely_cause` although other users of the batch got tokens with the same key. Once a
/// user got a token, the cause is the username; with no token at all the key stays the
/// likeliest cause. The file's order is kept either way.
#[test]
fn an_unknown_users_likely_cause_does_not_blame_a_key_that_got_tokens() {
    let users = write_users(
        "unknown-first.txt",
        "nobody@example.com\nalice@example.com\nghost@example.com\n",
    );
    for concurrency in ["1", "3"] {
        let o = batch(
            emulator().base_url(),
            &users,
            &["--concurrency", concurrency],
        );
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let v = lines(&o);
        let names: Vec<&str> = v.iter().map(|l| l["username"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                "nobody@example.com",
                "alice@example.com",
                "ghost@example.com"
            ]
        );
        assert_eq!(v[1]["ok"], true, "{}", v[1]);
        for unknown in [&v[0], &v[2]] {
            assert_eq!(
                unknown["error_description"], "invalid assertion",
                "{unknown}"
            );
            let cause = unknown["likely_cause"].as_str().unwrap();
            assert!(cause.contains("username"), "{unknown}");
            assert!(!cause.contains("private key"), "{unknown}");
        }
    }
    // No user got a token: the key is the likeliest cause.
    let nobody = write_users(
        "unknown-only.txt",
        "nobody@example.com\nghost@example.com\n",
    );
    let o = batch(emulator().base_url(), &nobody, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    for line in lines(&o) {
        let cause = line["likely_cause"].as_str().unwrap();
        assert!(cause.contains("private key does not match"), "{line}");
    }
}
