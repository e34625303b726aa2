//! The emulator under stress (issue 7): many requests over 64 concurrent keep-alive
//! connections with zero errors and bounded memory (the `certmint emulate` process's RSS,
//! read from /proc), slow clients that time out without holding the server, oversize
//! heads and bodies refused with 431/413, and malformed HTTP refused with 400.
//!
//! The suite runs the issue's 100,000 requests (about 15 s with the debug binary;
//! `CERTMINT_STRESS_REQUESTS` overrides the count). Nothing here asserts on speed:
//! throughput is printed, not checked.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use certmint::emulator::{Config, Limits, ServerOptions, start};
use certmint::jwt::{HeaderStyle, Signer};
use certmint::token_endpoint::{GRANT_TYPE, form_body};

use crate::support::emulator::Child as Emulator;
use crate::support::fixture;

const CONNECTIONS: usize = 64;

/// A token request for alice, signed with the fixture key (valid for an hour).
fn token_request(host: &str) -> Vec<u8> {
    token_request_for(host, "KEY", "alice@example.com")
}

/// A token request for `user` of the app with consumer key `iss`, signed with the fixture
/// key (valid for an hour; it may be sent any number of times).
fn token_request_for(host: &str, iss: &str, user: &str) -> Vec<u8> {
    let (key, _) = certmint::key::load(
        &std::fs::read(fixture("keys/base.pkcs8.pem")).unwrap(),
        None,
    )
    .unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = format!(
        r#"{{"iss":"{iss}","sub":"{user}","aud":"https://login.salesforce.com","exp":{}}}"#,
        now + 3600
    );
    let assertion = Signer::new(&key, HeaderStyle::Bare)
        .unwrap()
        .sign_json(claims.as_bytes())
        .unwrap();
    let body = form_body(&[("grant_type", GRANT_TYPE), ("assertion", &assertion)]);
    format!(
        "POST /services/oauth2/token HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Read one response from a keep-alive connection: (status, body).
fn read_response(r: &mut BufReader<TcpStream>) -> std::io::Result<(u16, Vec<u8>)> {
    let mut status = 0u16;
    let mut len = 0usize;
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some(rest) = l.strip_prefix("HTTP/1.1 ") {
            status = rest.get(..3).and_then(|s| s.parse().ok()).unwrap_or(0);
        } else if let Some((k, v)) = l.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body)?;
    Ok((status, body))
}

/// One request on a fresh connection: the status, or 0 when the connection failed.
fn one_shot(addr: &str, request: &[u8]) -> u16 {
    let Ok(s) = TcpStream::connect(addr) else {
        return 0;
    };
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut w = s.try_clone().unwrap();
    if w.write_all(request).is_err() {
        return 0;
    }
    read_response(&mut BufReader::new(s)).map_or(0, |(st, _)| st)
}

struct Load {
    ok: usize,
    errors: usize,
    elapsed: Duration,
}

/// `total` token requests over `CONNECTIONS` keep-alive connections.
fn load(addr: &str, total: usize) -> Load {
    let request = token_request(addr);
    let per = total.div_ceil(CONNECTIONS);
    let start = Instant::now();
    let threads: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let addr = addr.to_owned();
            let request = request.clone();
            std::thread::spawn(move || {
                let (mut ok, mut errors) = (0, 0);
                let mut conn: Option<(TcpStream, BufReader<TcpStream>)> = None;
                for _ in 0..per {
                    if conn.is_none() {
                        match TcpStream::connect(&addr) {
                            Ok(s) => {
                                s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                                let r = BufReader::new(s.try_clone().unwrap());
                                conn = Some((s, r));
                            }
                            Err(_) => {
                                errors += 1;
                                continue;
                            }
                        }
                    }
                    let Some((w, r)) = conn.as_mut() else {
                        continue;
                    };
                    let res = w.write_all(&request).and_then(|_| read_response(r));
                    match res {
                        Ok((200, body))
                            if body.starts_with(b"{\"access_token\":\"00DEMULATOR0001!") =>
                        {
                            ok += 1
                        }
                        _ => {
                            errors += 1;
                            conn = None;
                        }
                    }
                }
                (ok, errors)
            })
        })
        .collect();
    let (mut ok, mut errors) = (0, 0);
    for t in threads {
        let (o, e) = t.join().unwrap();
        ok += o;
        errors += e;
    }
    Load {
        ok,
        errors,
        elapsed: start.elapsed(),
    }
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// `certmint emulate` for alice with KEY over the base certificate, without a request log.
fn emulate() -> Emulator {
    Emulator::simple("127.0.0.1:0", &["--no-log"])
}

#[test]
#[allow(
    clippy::print_stderr,
    reason = "the measured figures, for whoever runs the slow tier with --nocapture"
)]
fn many_requests_over_64_connections_with_zero_errors_and_bounded_memory() {
    let total: usize = std::env::var("CERTMINT_STRESS_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let emu = emulate();
    let pid = emu.child.id();
    let idle = rss_kib(pid);
    // Warm up (thread stacks, buffers, connection state), then measure.
    let warm = load(&emu.addr, 2 * CONNECTIONS * 8);
    assert_eq!(warm.errors, 0);
    let warm_rss = rss_kib(pid);
    let run = load(&emu.addr, total);
    let end_rss = rss_kib(pid);
    // A second run must not grow memory further: nothing is kept per token or request.
    let again = load(&emu.addr, total / 4);
    let final_rss = rss_kib(pid);
    eprintln!(
        "stress: {} requests over {CONNECTIONS} connections in {:.1}s ({:.0}/s), {} errors; RSS idle {idle} KiB, warm {warm_rss} KiB, after {end_rss} KiB, after {} more {final_rss} KiB",
        run.ok + run.errors,
        run.elapsed.as_secs_f64(),
        (run.ok + run.errors) as f64 / run.elapsed.as_secs_f64(),
        run.errors,
        again.ok + again.errors,
    );
    assert_eq!(run.errors, 0, "errors under load");
    assert!(run.ok >= total, "{} of {total} requests answered", run.ok);
    assert_eq!(again.errors, 0);
    // Generous bounds: the emulator stores nothing per token or request.
    assert!(
        end_rss < warm_rss + 64 * 1024,
        "RSS grew from {warm_rss} to {end_rss} KiB"
    );
    assert!(
        final_rss < end_rss + 16 * 1024,
        "RSS kept growing: {end_rss} then {final_rss} KiB"
    );
    assert!(final_rss < 256 * 1024, "RSS {final_rss} KiB");
}

fn small_timeouts() -> certmint::emulator::Running {
    let cfg = Config::simple(
        &std::fs::read(fixture("certs/base.crt")).unwrap(),
        "KEY",
        &["alice@example.com".into()],
    )
    .unwrap();
    start(
        cfg,
        ServerOptions {
            limits: Limits {
                header_timeout: Duration::from_secs(2),
                body_timeout: Duration::from_secs(2),
                ..Limits::default()
            },
            workers: 2,
            ..ServerOptions::default()
        },
    )
    .unwrap()
}

/// 200 connections that trickle their request head a byte at a time never complete it;
/// meanwhile other clients are served, and the server closes every slow connection once
/// its header timeout (2 s here) passes.
#[test]
fn slow_clients_time_out_without_holding_the_server() {
    let emu = small_timeouts();
    let addr = emu.base_url().trim_start_matches("http://").to_owned();
    let head = b"POST /services/oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n";
    // 200 connections, each with the start of a request head and nothing more.
    let mut slow: Vec<TcpStream> = (0..200)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).unwrap();
            s.write_all(&head[..20]).unwrap();
            s.set_read_timeout(Some(Duration::from_millis(5))).unwrap();
            s
        })
        .collect();
    // While they hold their connections, everyone else is served.
    let request = token_request(&addr);
    for _ in 0..20 {
        assert_eq!(
            one_shot(&addr, &request),
            200,
            "a normal client was not served while slow clients held connections"
        );
    }
    // The slow clients keep trickling bytes (never finishing the head); the server closes
    // each one once its header timeout passes.
    let mut closed = vec![false; slow.len()];
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut step = 20;
    while closed.iter().any(|c| !c) && Instant::now() < deadline {
        for (i, s) in slow.iter_mut().enumerate() {
            if closed[i] {
                continue;
            }
            let _ = s.write_all(&head[step % head.len()..step % head.len() + 1]);
            let mut b = [0u8; 512];
            match s.read(&mut b) {
                Ok(_) => closed[i] = true, // EOF, or a 408 before the close
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => closed[i] = true, // reset
            }
        }
        step += 1;
        assert_eq!(one_shot(&addr, &request), 200);
    }
    let still_open = closed.iter().filter(|c| !**c).count();
    assert_eq!(
        still_open, 0,
        "{still_open} slow connections were never closed by the server"
    );
    // A slow body: the head arrives, the body trickles; the answer is 408.
    let mut s = TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(b"POST /services/oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ngrant_type=").unwrap();
    let (status, _) = read_response(&mut BufReader::new(s)).unwrap();
    assert_eq!(status, 408);
    assert_eq!(one_shot(&addr, &request), 200);
}

/// Limits and malformed input against the real binary (the in-process server is covered
/// in tests/it/emulator.rs): 413 for a declared or streamed oversize body, 431 for an
/// oversize head, 400 for malformed requests, and the server still answers afterwards.
#[test]
fn oversize_and_malformed_requests_get_413_431_400() {
    let emu = emulate();
    let addr = emu.addr.clone();
    let huge_declared = b"POST /services/oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000000000000\r\n\r\n".to_vec();
    assert_eq!(one_shot(&addr, &huge_declared), 413);
    let mut chunked = b"POST /services/oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..12 {
        chunked.extend_from_slice(format!("2000\r\n{}\r\n", "a".repeat(0x2000)).as_bytes());
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(one_shot(&addr, &chunked), 413);
    let big_head = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: {}\r\n\r\n",
        "p".repeat(64 * 1024)
    );
    assert_eq!(one_shot(&addr, big_head.as_bytes()), 431);
    let long_uri = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "u".repeat(64 * 1024));
    let status = one_shot(&addr, long_uri.as_bytes());
    assert!(status == 431 || status == 414, "long URI: {status}");
    for bad in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nHost x\r\n\r\n",
        b"GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", // a TLS hello to the HTTP port
        b"POST /services/oauth2/token HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ] {
        let st = one_shot(&addr, bad);
        assert!(
            st == 400 || st == 0,
            "{:?}: {st}",
            String::from_utf8_lossy(bad)
        );
        if st == 0 {
            // hyper may answer a broken chunked body by closing; the head was valid.
            assert!(
                bad.starts_with(b"POST"),
                "{:?}: no answer",
                String::from_utf8_lossy(bad)
            );
        }
    }
    assert_eq!(one_shot(&addr, &token_request(&addr)), 200);
}

/// Connections the server at `port` (IPv4 loopback) still holds, from `/proc/net/tcp`:
/// sockets whose local port is the server's in state ESTABLISHED or CLOSE_WAIT (the client
/// closed its side, the server not yet). Accepted connections and those waiting in the
/// listen backlog both count; once the server closes one, its socket leaves these states.
fn held_by_server(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let port = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 3
                && f[1].ends_with(&port)
                && f[2] != "00000000:0000"
                && matches!(f[3], "01" | "08")
        })
        .count()
}

/// Sample [`held_by_server`] every 20 ms from `since` until it reaches 0 or `limit`
/// passes, on a thread of its own: when it first fell below `from`, and when it reached 0
/// (`None` when that did not happen).
fn watch_closes(
    port: u16,
    from: usize,
    since: Instant,
    limit: Duration,
) -> std::thread::JoinHandle<(Option<Duration>, Option<Duration>)> {
    std::thread::spawn(move || {
        let mut first = None;
        while since.elapsed() < limit {
            let held = held_by_server(port);
            if held < from && first.is_none() {
                first = Some(since.elapsed());
            }
            if held == 0 {
                return (first, Some(since.elapsed()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        (first, None)
    })
}

/// Whether the server closed this connection: reading what is left ends in EOF or a reset
/// (the server closed with requests unread, so the kernel reset the connection), never in
/// a read that waits.
fn closed_by_server(s: &mut TcpStream) -> bool {
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false;
            }
            Err(_) => return true,
        }
    }
}

fn emulator_with(limits: Limits) -> certmint::emulator::Running {
    let cfg = Config::simple(
        &std::fs::read(fixture("certs/base.crt")).unwrap(),
        "KEY",
        &["alice@example.com".into()],
    )
    .unwrap();
    start(
        cfg,
        ServerOptions {
            limits,
            workers: 2,
            ..ServerOptions::default()
        },
    )
    .unwrap()
}

/// Issue 13 item 4, with the default limits: 1,100 clients pipeline requests and never
/// read their responses (more than the 1,024 connections served at once, so the last 76
/// wait in the listen backlog for a permit). Each asks 256 times for the versions list
/// (about 680 KB of responses, well past what its connection's 64 KiB send buffer and its
/// own receive buffer hold), so the server's writes stall. While every permit is taken,
/// a stalled connection is closed after the pressure write timeout (500 ms) instead of the
/// write timeout, so a normal token request made meanwhile is answered long before the
/// write timeout. The write timeout is raised to 10 s here (the default is 2 s) so that
/// the difference holds on a machine loaded by the rest of the suite, where scheduling
/// alone has delayed the answer past 2 s; the stalled connections are closed (measured from the server's side in
/// /proc/net/tcp: a second wave for those that waited in the backlog, closed after the
/// write timeout once the pressure is gone), and every stalled client then reads EOF or a
/// reset.
#[test]
#[allow(
    clippy::print_stderr,
    reason = "the measured times, for whoever runs the slow tier with --nocapture"
)]
fn clients_that_never_read_are_closed_after_the_write_timeout() {
    const STALLED: usize = 1100;
    let limits = Limits {
        write_timeout: Duration::from_secs(10),
        ..Limits::default()
    };
    let write_timeout = limits.write_timeout;
    let pressure_timeout = limits.pressure_write_timeout;
    let max = limits.max_connections;
    let emu = emulator_with(limits);
    let addr = emu.base_url().trim_start_matches("http://").to_owned();
    let port = emu.local_addr().port();
    let pipelined = b"GET /services/data/ HTTP/1.1\r\nHost: x\r\n\r\n".repeat(256);
    let begun = Instant::now();
    let mut stalled: Vec<TcpStream> = (0..STALLED)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).unwrap();
            // 10 KB: the kernel takes it at once, whether or not the server reads.
            s.write_all(&pipelined).unwrap();
            s
        })
        .collect();
    let written = begun.elapsed();
    let held = held_by_server(port);
    assert!(
        held >= max,
        "the stalled clients hold {held} connections, fewer than the server's {max}"
    );
    // The server closes the stalled connections: the first wave write_timeout after their
    // writes stalled, the 76 that waited in the backlog write_timeout after theirs.
    let closes = watch_closes(port, STALLED, begun, Duration::from_secs(60));
    // A normal client, meanwhile.
    let request = token_request(&addr);
    let asked = Instant::now();
    assert_eq!(one_shot(&addr, &request), 200);
    let answered = asked.elapsed();
    let (first, all) = closes.join().unwrap();
    let secs = |d: Option<Duration>| {
        d.map_or("never (60 s)".into(), |d| {
            format!("{:.2} s", d.as_secs_f64())
        })
    };
    eprintln!(
        "never-reading clients: {STALLED} connected and written in {:.2} s; a normal request answered after {:.2} s; the first stalled connection closed at {}, the last at {}",
        written.as_secs_f64(),
        answered.as_secs_f64(),
        secs(first),
        secs(all),
    );
    let first = first.expect("no stalled connection was closed within 60 s");
    let all = all.expect("the stalled connections were not all closed within 60 s");
    assert!(
        first >= pressure_timeout,
        "a stalled connection was closed after {first:?}, before the pressure write timeout"
    );
    // Long before the write timeout (the pressure timeout, then the time to close a
    // thousand connections and accept the ones before it in the backlog, on a busy
    // machine): without the pressure timeout it would wait the whole write timeout.
    assert!(
        answered <= write_timeout / 2,
        "a normal request waited {answered:?} (pressure write timeout {pressure_timeout:?}, write timeout {write_timeout:?})"
    );
    // The second wave is accepted once the first has been closed (seconds on a machine
    // the rest of the suite loads), then closed a write timeout later.
    let margin = Duration::from_secs(8);
    assert!(
        all <= written + pressure_timeout + write_timeout + margin,
        "the stalled connections were all closed only after {all:?}"
    );
    let open = stalled
        .iter_mut()
        .map(closed_by_server)
        .filter(|closed| !closed)
        .count();
    assert_eq!(
        open, 0,
        "{open} stalled clients still have an open connection"
    );
    assert_eq!(one_shot(&addr, &request), 200);
}

/// The total deadline (issue 13 item 4), tuned to 4 s here since the default is 120 s: a
/// client that reads its responses slowly but steadily (64 KiB every 250 ms) makes the
/// server's writes progress often enough that the 2 s write timeout never applies, and it
/// is the deadline that closes the connection, measured from the server's side. A client
/// that keeps asking and reading at once is closed by the deadline too.
#[test]
#[allow(
    clippy::print_stderr,
    reason = "the measured times, for whoever runs the slow tier with --nocapture"
)]
fn the_connection_deadline_closes_slow_and_busy_readers() {
    let deadline = Duration::from_secs(4);
    let emu = emulator_with(Limits {
        connection_deadline: deadline,
        ..Limits::default()
    });
    let addr = emu.base_url().trim_start_matches("http://").to_owned();
    let port = emu.local_addr().port();
    // The slow reader: 1,000 requests pipelined (about 2.6 MB of responses).
    let begun = Instant::now();
    let mut slow = TcpStream::connect(&addr).unwrap();
    slow.write_all(&b"GET /services/data/ HTTP/1.1\r\nHost: x\r\n\r\n".repeat(1000))
        .unwrap();
    // The busy client: one request and its response after another.
    let busy = {
        let addr = addr.clone();
        std::thread::spawn(move || {
            let s = TcpStream::connect(&addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut w = s.try_clone().unwrap();
            let mut r = BufReader::new(s);
            let started = Instant::now();
            let mut answered = 0;
            while w
                .write_all(b"GET /services/data/ HTTP/1.1\r\nHost: x\r\n\r\n")
                .is_ok()
            {
                match read_response(&mut r) {
                    Ok((200, _)) => answered += 1,
                    _ => break,
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            (answered, started.elapsed())
        })
    };
    let mut read = 0usize;
    let mut buf = vec![0u8; 64 * 1024];
    slow.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let closed = loop {
        if held_by_server(port) == 0 {
            break begun.elapsed();
        }
        assert!(
            begun.elapsed() < deadline * 3,
            "the slow reader's connection outlived its deadline"
        );
        match slow.read(&mut buf) {
            Ok(n) => read += n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => {}
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    let (answered, busy_for) = busy.join().unwrap();
    eprintln!(
        "connection deadline {deadline:?}: the slow reader (took {read} bytes) closed at {:.2} s, the busy client ({answered} answers) at {:.2} s",
        closed.as_secs_f64(),
        busy_for.as_secs_f64()
    );
    assert!(
        closed >= deadline && closed <= deadline + Duration::from_secs(2),
        "the slow reader's connection was closed after {closed:?} (deadline {deadline:?})"
    );
    assert!(
        read > 256 * 1024,
        "the slow reader took only {read} bytes: it was not kept busy"
    );
    assert!(
        busy_for >= deadline - Duration::from_millis(100)
            && busy_for <= deadline + Duration::from_secs(2),
        "the busy client's connection ended after {busy_for:?} (deadline {deadline:?})"
    );
    assert!(answered >= 20, "only {answered} requests answered");
    assert_eq!(one_shot(&addr, &token_request(&addr)), 200);
}

/// One keep-alive connection to the emulator, for the RSS test's many requests.
struct Conn {
    w: TcpStream,
    r: BufReader<TcpStream>,
    addr: String,
}

impl Conn {
    fn open(addr: &str) -> Conn {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
        Conn {
            w: s.try_clone().unwrap(),
            r: BufReader::new(s),
            addr: addr.to_owned(),
        }
    }

    /// One request: (status, body).
    fn call(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        ct: &str,
        body: &[u8],
    ) -> (u16, Vec<u8>) {
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\n{auth}Content-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        );
        let mut request = head.into_bytes();
        request.extend_from_slice(body);
        self.raw(&request)
    }

    fn json(
        &mut self,
        method: &str,
        path: &str,
        token: &str,
        body: &str,
    ) -> (u16, serde_json::Value) {
        let (status, body) = self.call(
            method,
            path,
            Some(token),
            "application/json",
            body.as_bytes(),
        );
        (
            status,
            serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        )
    }

    /// Every record of a query, following `nextRecordsUrl`: (totalSize, records seen).
    fn query_all(&mut self, token: &str, q: &str) -> (u64, usize) {
        let mut page = self.query(token, q);
        let total = page["totalSize"].as_u64().unwrap();
        let mut seen = 0;
        loop {
            seen += page["records"].as_array().unwrap().len();
            let Some(next) = page["nextRecordsUrl"].as_str().map(str::to_owned) else {
                return (total, seen);
            };
            let (status, v) = self.json("GET", &next, token, "");
            assert_eq!(status, 200, "{v}");
            page = v;
        }
    }

    fn query(&mut self, token: &str, q: &str) -> serde_json::Value {
        let q: String = form_urlencoded::byte_serialize(q.as_bytes()).collect();
        let (status, v) = self.json(
            "GET",
            &format!("/services/data/v66.0/query?q={q}"),
            token,
            "",
        );
        assert_eq!(status, 200, "{v}");
        v
    }
}

impl Conn {
    /// A request given whole: (status, body). When the server has closed the connection
    /// (its 120 s deadline), once more on a new one, as an HTTP client's pool does.
    fn raw(&mut self, request: &[u8]) -> (u16, Vec<u8>) {
        match self
            .w
            .write_all(request)
            .and_then(|()| read_response(&mut self.r))
        {
            Ok(r) => r,
            Err(_) => {
                *self = Conn::open(&self.addr);
                self.w.write_all(request).unwrap();
                read_response(&mut self.r).unwrap()
            }
        }
    }
}

/// A `certmint emulate` child with its stdout in a file (a summary of 10,000 users is more
/// than a pipe holds), killed when dropped.
struct Emulate {
    child: std::process::Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Drop for Emulate {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn emulate_config(toml: &str) -> Emulate {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("org.toml");
    std::fs::write(&config, toml).unwrap();
    let out = dir.path().join("stdout");
    let child = std::process::Command::new(crate::support::BIN)
        .args(["emulate", "--no-log", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let addr = loop {
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        if let Some(url) = text
            .lines()
            .next()
            .and_then(|l| l.split_whitespace().last())
            && url.starts_with("http://")
        {
            break url.trim_start_matches("http://").to_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the emulator did not start: {text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    Emulate {
        child,
        addr,
        _dir: dir,
    }
}

/// `n` tokens granted and revoked over `threads` keep-alive connections.
fn grant_and_revoke(addr: &str, n: usize, threads: usize) {
    let request = token_request_for(addr, "KEY_MAIN", "alice@example.com");
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (addr, request) = (addr.to_owned(), request.clone());
            let count = n / threads + usize::from(t < n % threads);
            std::thread::spawn(move || {
                let mut c = Conn::open(&addr);
                for _ in 0..count {
                    let (status, body) = c.raw(&request);
                    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
                    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                    let tok = v["access_token"].as_str().unwrap();
                    let form: String = form_urlencoded::byte_serialize(tok.as_bytes()).collect();
                    let (status, _) = c.call(
                        "POST",
                        "/services/oauth2/revoke",
                        None,
                        "application/x-www-form-urlencoded",
                        format!("token={form}").as_bytes(),
                    );
                    assert_eq!(status, 200);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

fn deploy_zip(c: &mut Conn, tok: &str, zip: &[u8]) -> serde_json::Value {
    use certmint::wire::metadata::{DeployOptions, deploy_request_path, multipart_body};
    let (ct, body) = multipart_body(
        &DeployOptions::default(),
        zip,
        "certmintBoundary0123456789abcdef",
    );
    let (status, r) = c.call("POST", &deploy_request_path(66), Some(tok), &ct, &body);
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&r));
    let id = serde_json::from_slice::<serde_json::Value>(&r).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, v) = c.json(
        "GET",
        &format!("{}/{id}?includeDetails=true", deploy_request_path(66)),
        tok,
        "",
    );
    assert_eq!(status, 200, "{v}");
    v["deployResult"].clone()
}

/// Issue 14, "memory bounded with the org state": the `certmint emulate` process (debug
/// build) is driven over HTTP to every cap of its org: 10,000 users and half the permission
/// sets from its configuration, the other 500 permission sets and the last assignments up
/// to 100,000 created over REST, 1,000 apps by deploy, 100 kept deploys of 100 components
/// each, 100,000 revoked tokens (each granted first), and a query over every assignment
/// with two relationship paths, read 2,000 records at a time through `nextRecordsUrl`.
/// Then, twice, well past the caps: refused creates, a refused app, another 100 deploys,
/// 20,000 more revocations (folding the oldest) and the big query again. Its RSS
/// (from /proc) must not grow from the first round past the caps to the second, and stays
/// under 256 MiB.
#[test]
#[allow(
    clippy::print_stderr,
    reason = "the measured figures, for whoever runs the slow tier with --nocapture"
)]
fn the_emulator_process_stays_bounded_while_the_org_caps_are_hit() {
    use crate::org::{ACME_APPS, ACME_ASSIGNMENTS, ACME_SETS, ACME_USERS, at_scale};
    use certmint::emulator::{
        MAX_APPS, MAX_ASSIGNMENTS, MAX_DEPLOYS, MAX_PERMISSION_SETS, MAX_REVOKED, MAX_USERS,
    };
    use certmint::wire::metadata::{
        Component, DeployPackage, ExternalClientApplication, PermissionSet,
    };
    let began = Instant::now();
    let users = MAX_USERS - ACME_USERS;
    let configured_sets = MAX_PERMISSION_SETS / 2 - ACME_SETS;
    let cert = fixture("certs/base.crt");
    let toml = crate::support::emulator::acme_text_with(
        "deploy_millis = 0",
        &at_scale(users, configured_sets, 10),
    )
    .replace(
        "\"../certs/base.crt\"",
        &format!("{:?}", cert.to_str().unwrap()),
    );
    let emu = emulate_config(&toml);
    let pid = emu.child.id();
    let addr = emu.addr.clone();
    let mut c = Conn::open(&addr);
    let alice = token_request_for(&addr, "KEY_MAIN", "alice@example.com");
    let grant = |c: &mut Conn| {
        let (status, body) = c.raw(&alice);
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let mut tok = grant(&mut c);
    let loaded = rss_kib(pid);
    let mut log = vec![format!(
        "loaded {loaded} KiB ({:.0} s)",
        began.elapsed().as_secs_f64()
    )];
    let step = |what: &str, log: &mut Vec<String>| {
        let rss = rss_kib(pid);
        let line = format!("{what} {rss} KiB ({:.0} s)", began.elapsed().as_secs_f64());
        eprintln!("emulator RSS: {line}");
        log.push(line);
        rss
    };
    // Permission sets and assignments to their caps, over REST.
    let mut created = Vec::new();
    for i in 0..MAX_PERMISSION_SETS - MAX_PERMISSION_SETS / 2 {
        let (status, v) = c.json(
            "POST",
            "/services/data/v66.0/sobjects/PermissionSet",
            &tok,
            &format!(r#"{{"Name":"Rest_Set_{i}"}}"#),
        );
        assert_eq!(status, 201, "{v}");
        created.push(v["id"].as_str().unwrap().to_owned());
    }
    let bob = c.query(
        &tok,
        "SELECT Id FROM User WHERE Username = 'bob@example.com'",
    )["records"][0]["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let configured = users * 10 + ACME_ASSIGNMENTS;
    let assign = |c: &mut Conn, tok: &str, ps: &str| {
        c.json(
            "POST",
            "/services/data/v66.0/sobjects/PermissionSetAssignment",
            tok,
            &format!(r#"{{"PermissionSetId":"{ps}","AssigneeId":"{bob}"}}"#),
        )
    };
    for ps in &created[..MAX_ASSIGNMENTS - configured] {
        assert_eq!(assign(&mut c, &tok, ps).0, 201);
    }
    step("permission sets and assignments at their caps", &mut log);
    // Apps to their cap, by deploy.
    let header = Component::ExternalClientApplication(ExternalClientApplication {
        contact_email: "a@example.com".into(),
        label: "Load".into(),
        ..Default::default()
    });
    let mut p = DeployPackage::new(62);
    for i in 0..MAX_APPS - ACME_APPS {
        p.add(&format!("Load_App_{i}"), &header).unwrap();
    }
    let d = deploy_zip(&mut c, &tok, &p.to_zip_under("zip").unwrap());
    assert_eq!(d["status"], "Succeeded", "{}", d["errorMessage"]);
    let mut over = DeployPackage::new(62);
    over.add("One_Too_Many", &header).unwrap();
    let over = over.to_zip_under("zip").unwrap();
    // Deploys of 100 permission set changes each: every one is kept with its 101 messages
    // until 100 newer ones push it out.
    let mut p = DeployPackage::new(62);
    for i in 0..100 {
        p.add(
            &format!("Load_Set_{i}"),
            &Component::PermissionSet(PermissionSet {
                label: format!("Load {i}"),
                ..Default::default()
            }),
        )
        .unwrap();
    }
    let changes = p.to_zip_under("zip").unwrap();
    for _ in 0..MAX_DEPLOYS {
        assert_eq!(deploy_zip(&mut c, &tok, &changes)["status"], "Succeeded");
    }
    step("apps and deploys at their caps", &mut log);
    grant_and_revoke(&addr, MAX_REVOKED, 4);
    step("100,000 revocations", &mut log);
    // Every assignment, 2,000 at a time, with two relationship paths: those made, and
    // each user's of their profile's own permission set.
    let big = "SELECT Id, PermissionSet.Name, Assignee.Username FROM PermissionSetAssignment";
    let every = MAX_ASSIGNMENTS + MAX_USERS;
    assert_eq!(c.query_all(&tok, big), (every as u64, every));
    let full = step("the query over every assignment", &mut log);
    // Past the caps, twice.
    let mut rounds = Vec::new();
    for round in 1..=2 {
        for i in 0..100 {
            let (status, v) = c.json(
                "POST",
                "/services/data/v66.0/sobjects/PermissionSet",
                &tok,
                &format!(r#"{{"Name":"Over_{round}_{i}"}}"#),
            );
            assert_eq!(
                (status, &v[0]["errorCode"]),
                (400, &serde_json::json!("LIMIT_EXCEEDED"))
            );
            let (status, v) = assign(
                &mut c,
                &tok,
                &created[MAX_ASSIGNMENTS - configured + i % 10],
            );
            assert_eq!(
                (status, &v[0]["errorCode"]),
                (400, &serde_json::json!("LIMIT_EXCEEDED"))
            );
        }
        assert_eq!(deploy_zip(&mut c, &tok, &over)["status"], "Failed");
        for _ in 0..MAX_DEPLOYS {
            assert_eq!(deploy_zip(&mut c, &tok, &changes)["status"], "Succeeded");
        }
        grant_and_revoke(&addr, 20_000, 4);
        // The oldest revocations were folded into the cut-off, which also ends the tokens
        // issued before them (documented): in the first round alice's, granted before the
        // 100,000, stops working and she logs in again.
        let (status, _) = c.json("GET", "/services/data/v66.0/limits", &tok, "");
        if round == 1 {
            assert_eq!(
                status, 401,
                "a token older than the folded revocations still works"
            );
        }
        if status == 401 {
            tok = grant(&mut c);
        }
        assert_eq!(c.query_all(&tok, big), (every as u64, every));
        rounds.push(step(&format!("past the caps, round {round}:"), &mut log));
    }
    let peak = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:").map(|v| v.trim().to_owned()))
        .unwrap_or_default();
    eprintln!("emulator RSS: {}; peak {peak}", log.join(", "));
    assert!(
        rounds[1] <= rounds[0] + 32 * 1024,
        "RSS grew past the caps: {} then {} KiB",
        rounds[0],
        rounds[1]
    );
    assert!(rounds[1] < 256 * 1024, "RSS {} KiB", rounds[1]);
    assert!(full < 256 * 1024, "RSS {full} KiB at the caps");
}
