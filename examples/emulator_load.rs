//! Load generator for `certmint emulate`: N keep-alive connections POST real JWT bearer
//! token requests over loopback (RS256 assertions signed with ring, each verified by the
//! emulator) and it reports throughput, p50/p99/max latency, errors, and the emulator's
//! memory: resident set size sampled from `/proc/PID/status` as the run goes (to show it
//! stays flat) and the peak (`VmHWM`).
//!
//! By default it is self-contained: it makes a key and certificate in a temporary
//! directory and starts `certmint emulate` (the release binary next to this example) as a
//! child on a free port.
//!
//! ```text
//! cargo build --release --bin certmint --example emulator_load
//! target/release/examples/emulator_load                       # 64 connections, 100,000 requests
//! target/release/examples/emulator_load --connections 8 --requests 20000 --json
//! # against an emulator you started yourself (its PID for the memory figures):
//! target/release/examples/emulator_load --url http://127.0.0.1:7357 --pid 1234 \
//!     --key server.key --client-id KEY --username alice@example.com
//! ```
//!
//! Assertions are signed up front (a pool of distinct ones, rotated, so the emulator
//! verifies a different signature each time while the generator spends its CPU on
//! HTTP), with `exp` an hour ahead so a long run stays valid. A response counts as a
//! verified exchange only if it is `200` with an `access_token`.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line load generator: its report and its usage text are its output"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

struct Opts {
    connections: usize,
    requests: usize,
    assertions: usize,
    certmint: Option<PathBuf>,
    url: Option<String>,
    pid: Option<u32>,
    key: Option<PathBuf>,
    client_id: String,
    username: Option<String>,
    json: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: emulator_load [--connections N (64)] [--requests N (100000)] [--assertions N (256)]\n\
         \x20                    [--certmint PATH] [--json]\n\
         \x20                    [--url URL --pid PID --key FILE --client-id KEY --username USER]"
    );
    std::process::exit(2);
}

fn parse_args() -> Opts {
    let mut o = Opts {
        connections: 64,
        requests: 100_000,
        assertions: 256,
        certmint: None,
        url: None,
        pid: None,
        key: None,
        client_id: "LOAD_TEST_KEY".into(),
        username: None,
        json: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut val = || it.next().unwrap_or_else(|| usage());
        let num = |s: String| s.parse::<usize>().unwrap_or_else(|_| usage());
        match a.as_str() {
            "--connections" => o.connections = num(val()).max(1),
            "--requests" => o.requests = num(val()).max(1),
            "--assertions" => o.assertions = num(val()).max(1),
            "--certmint" => o.certmint = Some(val().into()),
            "--url" => o.url = Some(val()),
            "--pid" => o.pid = Some(val().parse::<u32>().unwrap_or_else(|_| usage())),
            "--key" => o.key = Some(val().into()),
            "--client-id" => o.client_id = val(),
            "--username" => o.username = Some(val()),
            "--json" => o.json = true,
            _ => usage(),
        }
    }
    if o.url.is_some() && (o.key.is_none() || o.username.is_none()) {
        usage();
    }
    o
}

/// The emulator under test: one we started (killed on drop) or one given by URL.
struct Target {
    url: String,
    pid: Option<u32>,
    child: Option<Child>,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

const USERS: usize = 16;

fn start_emulator(o: &Opts, key: &certmint::key::RsaKey) -> Res<Target> {
    let dir = tempfile::tempdir()?;
    let subject = certmint::subject::Subject::parse_openssl("/O=Load/CN=emulator-load")?;
    let validity = certmint::x509::Validity::starting_now(1)?;
    let cert = certmint::x509::self_signed(key, &subject, &validity)?;
    let cert_path = dir.path().join("cert.pem");
    std::fs::write(&cert_path, certmint::x509::to_pem(&cert))?;
    let bin = match &o.certmint {
        Some(p) => p.clone(),
        None => {
            // target/release/examples/emulator_load -> target/release/certmint
            let exe = std::env::current_exe()?;
            exe.parent()
                .and_then(|p| p.parent())
                .map(|p| p.join("certmint"))
                .ok_or("cannot locate the certmint binary; pass --certmint PATH")?
        }
    };
    let mut cmd = Command::new(&bin);
    cmd.args(["emulate", "--cert"]).arg(&cert_path).args([
        "--client-id",
        &o.client_id,
        "--listen",
        "127.0.0.1:0",
        "--no-log",
    ]);
    for i in 0..USERS {
        cmd.arg("--user").arg(format!("load{i}@example.com"));
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        BufReader::new(out).read_line(&mut line)?;
    }
    let url = line.trim().to_owned();
    if !url.starts_with("http://") {
        let _ = child.kill();
        return Err(format!("the emulator did not print its URL (got {url:?})").into());
    }
    Ok(Target {
        url,
        pid: Some(child.id()),
        child: Some(child),
        _dir: Some(dir),
    })
}

/// (VmRSS, VmHWM) in KiB.
fn memory(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn main() -> Res<()> {
    let o = parse_args();
    let key = match &o.key {
        Some(p) => certmint::key::load(&std::fs::read(p)?, None)?.0,
        None => certmint::key::RsaKey::generate(2048)?,
    };
    let target = match &o.url {
        Some(u) => Target {
            url: u.clone(),
            pid: o.pid,
            child: None,
            _dir: None,
        },
        None => start_emulator(&o, &key)?,
    };
    let hostport = target
        .url
        .strip_prefix("http://")
        .ok_or("only http:// emulators can be loaded")?
        .trim_end_matches('/')
        .to_owned();

    // Sign a pool of distinct assertions.
    let signer = certmint::jwt::Signer::new(&key, certmint::jwt::HeaderStyle::Bare)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let requests: Vec<Vec<u8>> = (0..o.assertions)
        .map(|i| {
            let user = match &o.username {
                Some(u) => u.clone(),
                None => format!("load{}@example.com", i % USERS),
            };
            let claims = certmint::jwt::Claims {
                iss: o.client_id.clone(),
                sub: user,
                aud: "https://login.salesforce.com".into(),
                exp: now + 3600 + i as u64,
                iat: None,
            };
            let assertion = signer.sign_json(claims.to_json().as_bytes())?;
            let body = certmint::wire::oauth::TokenRequest::jwt_bearer(&assertion).to_form();
            Ok(format!(
                "POST {} HTTP/1.1\r\nHost: {hostport}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n{}",
                certmint::wire::oauth::TOKEN_PATH,
                certmint::wire::FORM_CONTENT_TYPE,
                body.len(),
                body.as_str()
            )
            .into_bytes())
        })
        .collect::<Res<_>>()?;
    let requests = Arc::new(requests);

    let base_mem = target.pid.and_then(memory);
    let done = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicBool::new(false));
    // Memory samples: (requests done, VmRSS KiB), every 100 ms.
    let sampler = {
        let (done, finished, pid) = (done.clone(), finished.clone(), target.pid);
        std::thread::spawn(move || {
            let mut samples = Vec::new();
            while !finished.load(Ordering::Relaxed) {
                if let Some((rss, _)) = pid.and_then(memory) {
                    samples.push((done.load(Ordering::Relaxed), rss));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            samples
        })
    };

    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let handles: Vec<_> = (0..o.connections)
        .map(|_| {
            let (hostport, requests, next, done) = (
                hostport.clone(),
                requests.clone(),
                next.clone(),
                done.clone(),
            );
            let total = o.requests;
            std::thread::spawn(move || connection(&hostport, &requests, &next, &done, total))
        })
        .collect();
    let mut lat: Vec<u32> = Vec::with_capacity(o.requests);
    let mut errors = 0usize;
    let mut reconnects = 0usize;
    for h in handles {
        let r = h.join().map_err(|_| "a connection thread panicked")?;
        lat.extend(r.latencies_us);
        errors += r.errors;
        reconnects += r.reconnects;
    }
    let elapsed = start.elapsed().as_secs_f64();
    finished.store(true, Ordering::Relaxed);
    let samples = sampler.join().map_err(|_| "the sampler panicked")?;
    let end_mem = target.pid.and_then(memory);
    lat.sort_unstable();
    // The latency below which `per_mille` thousandths of the requests finished.
    let pct = |per_mille: usize| -> f64 {
        if lat.is_empty() {
            return 0.0;
        }
        let i = (lat.len() * per_mille).div_ceil(1000).clamp(1, lat.len()) - 1;
        f64::from(lat[i]) / 1000.0
    };
    let ok = lat.len();
    // RSS once 10% of the requests were done, and at the end: "flat" means these match.
    let rss_at = |frac: f64| {
        samples
            .iter()
            .find(|(n, _)| *n as f64 >= frac * o.requests as f64)
            .map(|(_, r)| *r)
    };
    let rss_10 = rss_at(0.10);
    let rss_end = end_mem.map(|(r, _)| r);
    let hwm = end_mem.map(|(_, h)| h);
    let throughput = ok as f64 / elapsed;
    if o.json {
        println!(
            "{}",
            serde_json::json!({
                "connections": o.connections,
                "requests": o.requests,
                "ok": ok,
                "errors": errors,
                "reconnects": reconnects,
                "seconds": elapsed,
                "per_second": throughput,
                "p50_ms": pct(500),
                "p99_ms": pct(990),
                "max_ms": pct(1000),
                "rss_start_kib": base_mem.map(|(r, _)| r),
                "rss_10pct_kib": rss_10,
                "rss_end_kib": rss_end,
                "vm_hwm_kib": hwm,
            })
        );
    } else {
        let kib =
            |v: Option<u64>| v.map_or("?".to_owned(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
        println!(
            "{} verified exchanges in {elapsed:.2} s: {throughput:.0}/s over {} connections; \
             p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; errors {errors} (reconnects {reconnects})",
            ok,
            o.connections,
            pct(500),
            pct(990),
            pct(1000)
        );
        println!(
            "emulator memory: RSS {} at start, {} after 10% of requests, {} at the end; peak (VmHWM) {}",
            kib(base_mem.map(|(r, _)| r)),
            kib(rss_10),
            kib(rss_end),
            kib(hwm)
        );
    }
    drop(target);
    if errors > 0 {
        std::process::exit(1);
    }
    Ok(())
}

struct ConnResult {
    latencies_us: Vec<u32>,
    errors: usize,
    reconnects: usize,
}

/// One keep-alive connection: take request numbers until `total` are done.
fn connection(
    hostport: &str,
    requests: &[Vec<u8>],
    next: &AtomicUsize,
    done: &AtomicUsize,
    total: usize,
) -> ConnResult {
    let mut r = ConnResult {
        latencies_us: Vec::new(),
        errors: 0,
        reconnects: 0,
    };
    let mut conn: Option<(TcpStream, BufReader<TcpStream>)> = None;
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= total {
            return r;
        }
        let (w, reader) = match &mut conn {
            Some(c) => c,
            None => match open(hostport) {
                Ok(c) => conn.insert(c),
                Err(_) => {
                    r.errors += 1;
                    done.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
            },
        };
        let t = Instant::now();
        let outcome = w
            .write_all(&requests[i % requests.len()])
            .and_then(|_| read_response(reader));
        done.fetch_add(1, Ordering::Relaxed);
        match outcome {
            Ok((200, true)) => r
                .latencies_us
                .push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX)),
            Ok(_) => r.errors += 1,
            Err(_) => {
                r.errors += 1;
                r.reconnects += 1;
                conn = None;
            }
        }
    }
}

fn open(hostport: &str) -> std::io::Result<(TcpStream, BufReader<TcpStream>)> {
    let s = TcpStream::connect(hostport)?;
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let reader = BufReader::with_capacity(16 * 1024, s.try_clone()?);
    Ok((s, reader))
}

/// Read one response: (status, body has an access_token).
fn read_response(reader: &mut BufReader<TcpStream>) -> std::io::Result<(u16, bool)> {
    let mut line = String::new();
    let mut status = 0u16;
    let mut len = 0usize;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if status == 0 {
            status = line
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
        } else if line == "\r\n" {
            break;
        } else if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            len = value.trim().parse().unwrap_or(0);
        }
    }
    if len > 1 << 20 {
        return Err(std::io::ErrorKind::InvalidData.into());
    }
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body)?;
    let has_token = body.windows(15).any(|w| w == b"\"access_token\":");
    Ok((status, has_token))
}
