//! RSA key generation with the prime search spread over the machine's cores.
//!
//! Finding a 1024- to 2048-bit prime is a random walk: pick a random odd start with the top
//! two bits set, sieve out small factors, and run Baillie-PSW (`crypto_primes::is_prime`)
//! on what is left. The time to the first prime is roughly geometric, so two workers
//! searching at once find the two primes of a key in about half the time of one, and the
//! long tail shrinks too. Each worker draws its own starts from the OS RNG; the first two
//! acceptable primes make the key.
//!
//! The primes meet the usual constraints (FIPS 186-5 A.1.3, as OpenSSL applies them):
//! exactly `bits / 2` bits with the top two set (so `n` has exactly `bits` bits),
//! `gcd(e, p - 1) = 1` for e = 65537, and `|p - q| > 2^(bits/2 - 100)`. The key is built
//! with `rsa::PrivateKey::from_p_q`, which computes `d` modulo lcm(p-1, q-1) and validates
//! the result.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crypto_primes::hazmat::SmallFactorsSieve;
use crypto_primes::{Flavor, is_prime};
use rsa::BoxedUint;

use crate::{Error, Result};

/// The public exponent.
const E: u32 = 65_537;

/// Workers to use: one per core, at most 4 (beyond that the gain is small and a CLI
/// should not take over a big machine).
pub(super) fn workers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4)
}

/// Generate a two-prime RSA key of `bits` (even, at least 1024) with e = 65537, using
/// `workers` threads (1 runs on the calling thread).
pub(super) fn generate(bits: usize, workers: usize) -> Result<rsa::PrivateKey> {
    let half = u32::try_from(bits / 2)
        .ok()
        .filter(|h| bits.is_multiple_of(16) && *h >= 512)
        .ok_or(Error::KeySize { bits })?;
    let (p, q) = find_two_primes(half, workers.max(1))?;
    let (p, q) = if p > q { (p, q) } else { (q, p) };
    let key = rsa::PrivateKey::from_p_q(p, q, BoxedUint::from(u64::from(E)))
        .map_err(|e| Error::internal(format!("building the RSA key failed: {e}")))?;
    if rsa::traits::PublicKeyParts::n(&key).bit_width() as usize != bits {
        return Err(Error::internal("the generated modulus has the wrong size"));
    }
    Ok(key)
}

/// What the workers share: the primes found so far and the signal to stop.
struct Found {
    primes: Mutex<Vec<BoxedUint>>,
    done: AtomicBool,
}

fn find_two_primes(half: u32, workers: usize) -> Result<(BoxedUint, BoxedUint)> {
    let found = Found {
        primes: Mutex::new(Vec::with_capacity(2)),
        done: AtomicBool::new(false),
    };
    if workers == 1 {
        search(half, &found)?;
    } else {
        let results: Vec<Result<()>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..workers)
                .map(|_| s.spawn(|| search(half, &found)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(Error::internal("a key generation thread failed")))
                })
                .collect()
        });
        // An RNG failure in one worker matters only if no key came out of the others.
        if !found.done.load(Ordering::Acquire) {
            for r in results {
                r?;
            }
        }
    }
    let mut primes = found
        .primes
        .into_inner()
        .map_err(|_| Error::internal("a key generation thread failed"))?;
    match (primes.pop(), primes.pop()) {
        (Some(q), Some(p)) => Ok((p, q)),
        _ => Err(Error::internal("key generation stopped without two primes")),
    }
}

/// One worker: find primes until two acceptable ones are in `found`.
fn search(half: u32, found: &Found) -> Result<()> {
    let Some(bit_length) = NonZeroU32::new(half) else {
        return Err(Error::internal("prime size is zero"));
    };
    let len = (half / 8) as usize;
    // The random starts are secret (a prime is found a short walk from one): wiped on drop.
    let mut start = zeroize::Zeroizing::new(vec![0u8; len]);
    while !found.done.load(Ordering::Relaxed) {
        getrandom::fill(&mut start).map_err(Error::internal)?;
        // Top two bits set (so p*q has exactly 2*half bits), odd.
        start[0] |= 0xC0;
        start[len - 1] |= 1;
        let candidate = BoxedUint::from_be_slice(&start, half).map_err(Error::internal)?;
        let sieve =
            SmallFactorsSieve::new(candidate, bit_length, false).map_err(Error::internal)?;
        for c in sieve {
            if found.done.load(Ordering::Relaxed) {
                return Ok(());
            }
            if !is_prime(Flavor::Any, &c) {
                continue;
            }
            if mod_small(&c, E) == 1 {
                // gcd(e, p-1) = e: no inverse exists. Start again elsewhere.
                break;
            }
            offer(found, c, half);
            break;
        }
    }
    Ok(())
}

/// Add a prime to the pair unless it is too close to the one already there.
fn offer(found: &Found, prime: BoxedUint, half: u32) {
    let Ok(mut primes) = found.primes.lock() else {
        return;
    };
    if primes.len() >= 2 {
        return;
    }
    if let Some(p) = primes.first()
        && !far_apart(p, &prime, half)
    {
        return;
    }
    primes.push(prime);
    if primes.len() == 2 {
        found.done.store(true, Ordering::Release);
    }
}

/// `|p - q| > 2^(half - 100)`.
fn far_apart(p: &BoxedUint, q: &BoxedUint, half: u32) -> bool {
    let diff = if p > q {
        p.wrapping_sub(q)
    } else {
        q.wrapping_sub(p)
    };
    diff.bit_width_vartime() > half.saturating_sub(100)
}

/// `x mod m` for a small `m` (public use only: p mod 65537 leaks nothing useful, and the
/// candidate is discarded or kept as a whole).
fn mod_small(x: &BoxedUint, m: u32) -> u32 {
    let m = u64::from(m);
    let r = x
        .to_be_bytes()
        .iter()
        .fold(0u64, |acc, &b| ((acc << 8) | u64::from(b)) % m);
    // r < m <= u32::MAX
    u32::try_from(r).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::traits::{PrivateKeyParts, PublicKeyParts};

    #[test]
    fn keys_have_the_size_exponent_and_prime_constraints() {
        for workers in [1, 2, 3] {
            let key = generate(2048, workers).unwrap();
            assert_eq!(key.n().bit_width(), 2048);
            assert_eq!(key.e(), &BoxedUint::from(65_537u64));
            let primes = key.primes();
            assert_eq!(primes.len(), 2);
            for p in primes {
                assert_eq!(p.bit_width(), 1024);
                assert_ne!(mod_small(p, E), 1);
            }
            assert!(far_apart(&primes[0], &primes[1], 1024));
        }
    }

    #[test]
    fn small_modulus_arithmetic() {
        let x = BoxedUint::from(65_538u64 * 3 + 1);
        assert_eq!(
            u64::from(mod_small(&x, 65_537)),
            (65_538u64 * 3 + 1) % 65_537
        );
        let a = BoxedUint::from(1u64 << 40);
        let b = BoxedUint::from((1u64 << 40) + 5);
        assert!(!far_apart(&a, &b, 140));
        assert!(far_apart(&a, &BoxedUint::from(1u64), 100));
    }

    #[test]
    fn odd_sizes_are_refused() {
        assert!(generate(1000, 2).is_err());
        assert!(generate(512, 2).is_err());
    }
}
