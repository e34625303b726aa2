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
        r#"{{"iss":"KEY","sub":"alice@example.com","aud":"https://login.salesforce.com","exp":{}}}"#,
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
