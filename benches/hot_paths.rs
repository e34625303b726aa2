//! Criterion benchmarks of certmint's hot paths (see docs/performance.md for figures).
//!
//! ```text
//! cargo bench --bench hot_paths                 # everything (keygen takes a few minutes)
//! cargo bench --bench hot_paths -- rs256        # one group: keygen, rs256, keyfile,
//!                                               # pkcs12, jks, assertion, emulator
//! ```
//!
//! Key generation is heavy-tailed (the time to find a prime is roughly geometric), so its
//! groups take few samples over a long window; compare means over several runs.
#![allow(
    clippy::unwrap_used,
    reason = "a benchmark whose setup fails stops with the error, like a test"
)]

use std::hint::black_box;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use certmint::Password;
use certmint::emulator::{Config, Endpoint, ServerOptions, start, validate};
use certmint::jwt::{Claims, HeaderStyle, Signer, Verifier};
use certmint::key::{KeyEncryption, RsaKey};
use certmint::pkcs12::Profile;
use certmint::token_endpoint::{Client, ClientOptions, Exchange, LoginUrl};
use certmint::wire::oauth::TokenRequest;
use criterion::{BatchSize, Criterion, SamplingMode, criterion_group, criterion_main};

fn fixture(path: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

/// The committed 2048-bit base key and its certificate.
fn base() -> &'static (RsaKey, Vec<u8>) {
    static B: OnceLock<(RsaKey, Vec<u8>)> = OnceLock::new();
    B.get_or_init(|| {
        let (key, _) = certmint::key::load(&fixture("keys/base.pkcs8.pem"), None).unwrap();
        let cert = certmint::x509::parse(&fixture("certs/base.crt"))
            .unwrap()
            .der;
        (key, cert)
    })
}

fn password() -> Password {
    Password::new("fixture-pass".to_owned())
}

fn keygen(c: &mut Criterion) {
    let mut g = c.benchmark_group("keygen");
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500));
    for bits in [2048usize, 3072, 4096] {
        g.measurement_time(Duration::from_secs(match bits {
            2048 => 5,
            3072 => 15,
            _ => 30,
        }));
        g.bench_function(format!("certmint_parallel/{bits}"), |b| {
            b.iter(|| RsaKey::generate(black_box(bits)).unwrap())
        });
        g.bench_function(format!("rsa_crate_one_thread/{bits}"), |b| {
            b.iter(|| RsaKey::generate_with_rng(&mut getrandom::SysRng, black_box(bits)).unwrap())
        });
    }
    g.finish();
}

fn rs256(c: &mut Criterion) {
    use rsa::signature::{Signer as _, Verifier as _};
    let (key, _) = base();
    let msg = b"eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJLRVkiLCJzdWIiOiJhbGljZUBleGFtcGxlLmNvbSIsImF1ZCI6Imh0dHBzOi8vbG9naW4uc2FsZXNmb3JjZS5jb20iLCJleHAiOjE3MDAwMDAxODB9";
    let mut g = c.benchmark_group("rs256");
    let ring_key = key.ring_key_pair().unwrap();
    let rng = ring::rand::SystemRandom::new();
    g.bench_function("sign/ring", |b| {
        let mut sig = vec![0u8; ring_key.public().modulus_len()];
        b.iter(|| {
            ring_key
                .sign(
                    &ring::signature::RSA_PKCS1_SHA256,
                    &rng,
                    black_box(msg),
                    &mut sig,
                )
                .unwrap()
        })
    });
    let rsa_sk = rsa::pkcs1v15::SigningKey::<rsa::sha2::Sha256>::new(key.rsa().clone());
    g.bench_function("sign/rsa_crate", |b| b.iter(|| rsa_sk.sign(black_box(msg))));
    let mut sig = vec![0u8; ring_key.public().modulus_len()];
    ring_key
        .sign(&ring::signature::RSA_PKCS1_SHA256, &rng, msg, &mut sig)
        .unwrap();
    let verifier = Verifier::from_spki(&key.public_key_der()).unwrap();
    g.bench_function("verify/ring", |b| {
        b.iter(|| verifier.verify(black_box(msg), &sig).unwrap())
    });
    let rsa_vk = rsa::pkcs1v15::VerifyingKey::<rsa::sha2::Sha256>::new(key.rsa().to_public_key());
    let rsa_sig = rsa::pkcs1v15::Signature::try_from(sig.as_slice()).unwrap();
    g.bench_function("verify/rsa_crate", |b| {
        b.iter(|| rsa_vk.verify(black_box(msg), &rsa_sig).unwrap())
    });
    g.finish();
}

fn keyfile(c: &mut Criterion) {
    let (key, _) = base();
    let pw = password();
    let mut g = c.benchmark_group("keyfile");
    g.sample_size(10);
    g.bench_function("write/pbkdf2_600k_certmint_default", |b| {
        b.iter(|| {
            key.to_encrypted_pkcs8_der(&pw, KeyEncryption::pbkdf2_default())
                .unwrap()
        })
    });
    g.bench_function("write/scrypt_2^14_8_1", |b| {
        b.iter(|| {
            key.to_encrypted_pkcs8_der(&pw, KeyEncryption::scrypt_default())
                .unwrap()
        })
    });
    // certmint refuses to write fewer than 600,000 iterations; this is OpenSSL's setting
    // (genrsa -aes256 / -des3: PBKDF2-HMAC-SHA256, 2048 iterations), for comparison.
    g.bench_function("write/pbkdf2_2048_openssl_setting", |b| {
        use pkcs8::der::Decode;
        let info = pkcs8::PrivateKeyInfoRef::from_der(key.pkcs8_der().expose()).unwrap();
        b.iter(|| {
            let params = pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(
                2048, &[7u8; 16], [9u8; 16],
            )
            .unwrap();
            info.encrypt_with_params(params, pw.as_bytes()).unwrap()
        })
    });
    let ours = key
        .to_encrypted_pkcs8_der(&pw, KeyEncryption::pbkdf2_default())
        .unwrap();
    g.bench_function("read/pbkdf2_600k_certmint_default", |b| {
        b.iter(|| certmint::key::load(black_box(&ours), Some(&pw)).unwrap())
    });
    let scrypt = fixture("keys/enc-scrypt.pem");
    g.bench_function("read/scrypt_openssl_file", |b| {
        b.iter(|| certmint::key::load(black_box(&scrypt), Some(&pw)).unwrap())
    });
    let openssl = fixture("keys/enc-aes256.pem");
    g.bench_function("read/pbkdf2_2048_openssl_file", |b| {
        b.iter(|| certmint::key::load(black_box(&openssl), Some(&pw)).unwrap())
    });
    let plain = fixture("keys/base.pkcs8.pem");
    g.bench_function("read/unencrypted_pkcs8", |b| {
        b.iter(|| certmint::key::load(black_box(&plain), None).unwrap())
    });
    g.finish();
}

fn pkcs12(c: &mut Criterion) {
    let (key, cert) = base();
    let pw = password();
    let chain = vec![cert.clone()];
    let mut g = c.benchmark_group("pkcs12");
    g.sample_size(10);
    for profile in Profile::ALL {
        g.bench_function(format!("write/{}", profile.name()), |b| {
            b.iter(|| certmint::pkcs12::write(key, &chain, "server", &pw, profile).unwrap())
        });
        let file = certmint::pkcs12::write(key, &chain, "server", &pw, profile).unwrap();
        g.bench_function(format!("read/{}", profile.name()), |b| {
            b.iter(|| certmint::pkcs12::read(black_box(&file), &pw).unwrap())
        });
    }
    // OpenSSL 3's `pkcs12 -export` setting (2,048 iterations everywhere), for comparison
    // with certmint's 100,000: the KDF is nearly all of the cost.
    let openssl_like = certmint::pkcs12::WriteOptions {
        profile: Profile::Modern,
        iterations: 2048,
        mac_iterations: 2048,
    };
    g.bench_function("write/modern_2048_openssl_setting", |b| {
        b.iter(|| {
            certmint::pkcs12::write_with_rng(
                key,
                &chain,
                "server",
                &pw,
                &openssl_like,
                &mut getrandom::SysRng,
            )
            .unwrap()
        })
    });
    g.finish();
}

fn jks(c: &mut Criterion) {
    let (key, cert) = base();
    let pw = password();
    let chain = vec![cert.clone()];
    let der = key.pkcs8_der().expose().to_vec();
    let mut g = c.benchmark_group("jks");
    g.bench_function("write", |b| {
        b.iter(|| {
            certmint::jks::write_private_key("server", &der, &chain, 1_700_000_000_000, &pw)
                .unwrap()
        })
    });
    let file =
        certmint::jks::write_private_key("server", &der, &chain, 1_700_000_000_000, &pw).unwrap();
    g.bench_function("read_and_recover_key", |b| {
        b.iter(|| {
            let ks = certmint::jks::parse(black_box(&file), Some(&pw)).unwrap();
            ks.private_key(None).unwrap().recover(&pw).unwrap()
        })
    });
    g.finish();
}

fn assertion(c: &mut Criterion) {
    let (key, _) = base();
    let mut g = c.benchmark_group("assertion");
    g.bench_function("signer_new", |b| {
        b.iter(|| Signer::new(black_box(key), HeaderStyle::Bare).unwrap())
    });
    let signer = Signer::new(key, HeaderStyle::Bare).unwrap();
    let claims = Claims::new(
        "3MVG9-consumer-key",
        "alice@example.com",
        "https://login.salesforce.com",
        1_700_000_000,
        180,
    )
    .unwrap();
    g.bench_function("sign", |b| {
        b.iter(|| signer.sign(black_box(&claims)).unwrap())
    });
    g.finish();
}

fn emulator(c: &mut Criterion) {
    let (key, cert) = base();
    let users = vec!["alice@example.com".to_owned()];
    let config = Config::simple(cert, "KEY", &users).unwrap();
    let signer = Signer::new(key, HeaderStyle::Bare).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = Claims::new(
        "KEY",
        "alice@example.com",
        "https://login.salesforce.com",
        now,
        180,
    )
    .unwrap();
    let assertion = signer.sign(&claims).unwrap();
    let mut g = c.benchmark_group("emulator");
    g.bench_function("validate_in_process", |b| {
        let req = TokenRequest::jwt_bearer(&assertion);
        b.iter(|| {
            validate(
                &config,
                Endpoint::Org,
                black_box(&req),
                "http://127.0.0.1:7357",
                i64::try_from(now).unwrap(),
            )
            .unwrap()
        })
    });
    let running = start(config.clone(), ServerOptions::default()).unwrap();
    let login = LoginUrl::parse(running.base_url()).unwrap();
    let client = Client::new(ClientOptions::default()).unwrap();
    g.bench_function("token_round_trip_loopback_keepalive", |b| {
        b.iter(
            || match client.exchange(&login, black_box(&assertion)).unwrap() {
                Exchange::Granted(g) => g,
                Exchange::Refused(e) => panic!("refused: {e:?}"),
            },
        )
    });
    g.bench_function("sign_and_round_trip", |b| {
        b.iter_batched(
            || claims.clone(),
            |claims| {
                let a = signer.sign(&claims).unwrap();
                client.exchange(&login, &a).unwrap()
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
    running.shutdown();
}

criterion_group!(
    benches, keygen, rs256, keyfile, pkcs12, jks, assertion, emulator
);
criterion_main!(benches);
