//! A small load generator for `certmint emulate`: N keep-alive connections each POST
//! real JWT bearer token requests (RS256-signed assertion, verified by the emulator) and
//! report throughput, latency percentiles and errors.
//!
//! ```text
//! certmint emulate --cert server.crt --client-id KEY --user alice@example.com --listen 127.0.0.1:0 --no-log
//! cargo run --release --example emulator_load -- URL server.key KEY alice@example.com [CONNECTIONS] [REQUESTS]
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!(
            "usage: emulator_load URL KEY_FILE CLIENT_ID USERNAME [CONNECTIONS=64] [REQUESTS=100000]"
        );
        std::process::exit(2);
    }
    let url = args[1].trim_start_matches("http://").to_owned();
    let key_data = std::fs::read(&args[2]).expect("read key");
    let (key, _) = certmint::key::load(&key_data, None).expect("load key");
    let conns: usize = args.get(5).and_then(|s| s.parse().ok()).unwrap_or(64);
    let total: usize = args.get(6).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let signer = certmint::jwt::Signer::new(&key, certmint::jwt::HeaderStyle::Bare).unwrap();
    // exp far ahead (as the Salesforce CLI does) so a long run stays valid
    let json = format!(
        r#"{{"iss":"{}","sub":"{}","aud":"https://login.salesforce.com","exp":{}}}"#,
        args[3],
        args[4],
        (now + 3600) * 1000
    );
    let assertion = signer.sign_json(json.as_bytes()).unwrap();
    let body = certmint::token_endpoint::form_body(&[
        ("grant_type", certmint::token_endpoint::GRANT_TYPE),
        ("assertion", &assertion),
    ]);
    let request = format!(
        "POST /services/oauth2/token HTTP/1.1\r\nHost: {url}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let per = total / conns;
    let start = Instant::now();
    let handles: Vec<_> = (0..conns)
        .map(|_| {
            let url = url.clone();
            let request = request.clone();
            std::thread::spawn(move || run(&url, &request, per))
        })
        .collect();
    let mut lat = Vec::with_capacity(total);
    let mut errors = 0usize;
    for h in handles {
        let (l, e) = h.join().unwrap();
        lat.extend(l);
        errors += e;
    }
    let elapsed = start.elapsed();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "requests {} in {:.2}s: {:.0}/s, errors {}, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} connections)",
        lat.len() + errors,
        elapsed.as_secs_f64(),
        (lat.len() + errors) as f64 / elapsed.as_secs_f64(),
        errors,
        ms(pct(0.50)),
        ms(pct(0.99)),
        ms(lat.last().copied().unwrap_or_default()),
        conns
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn run(url: &str, request: &str, n: usize) -> (Vec<Duration>, usize) {
    let mut lat = Vec::with_capacity(n);
    let mut errors = 0;
    let stream = TcpStream::connect(url).expect("connect");
    stream.set_nodelay(true).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let mut body = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        writer.write_all(request.as_bytes()).unwrap();
        let mut status = 0u16;
        let mut len = 0usize;
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap() == 0 {
                return (lat, errors + 1);
            }
            if status == 0 {
                status = line
                    .split_whitespace()
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
            } else if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            } else if line == "\r\n" {
                break;
            }
        }
        body.resize(len, 0);
        reader.read_exact(&mut body).unwrap();
        if status == 200 {
            lat.push(t.elapsed());
        } else {
            errors += 1;
        }
    }
    (lat, errors)
}
