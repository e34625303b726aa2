//! How much key derivation certmint spends on parameters read from a file.
//!
//! An encrypted key or a PKCS#12 file names its own key-derivation cost (PBKDF2 or
//! PKCS#12 KDF iterations, scrypt's N, r and p), and certmint must run that derivation
//! before it can even tell a wrong password: a hostile 2 KB file could otherwise cost a
//! gibibyte of memory and seconds of CPU per attempt. Every cost is checked against
//! [`Limits`] *before* anything is derived:
//!
//! - each PBKDF2 or PKCS#12 KDF runs at most [`Limits::max_iterations`] (default
//!   1,000,000: certmint writes 600,000 for keys and 100,000 for PKCS#12, Java 10,000,
//!   OpenSSL 2,048);
//! - each scrypt derivation uses at most [`Limits::max_scrypt_memory`] (`128 * r * N`
//!   bytes; default 64 MiB: OpenSSL's own limit is 32 MiB, and it writes N=2^14, r=8,
//!   16 MiB);
//! - a PKCS#12 file, and with [`Limits::command_budget`] a whole command across all its
//!   files (the `certmint` binary turns it on), spends at most [`Limits::budget`] work
//!   units in all (see [`work`]).
//!
//! The limits are process-wide ([`set_limits`]); the binary raises them only when asked
//! (`--max-kdf-iterations`, `--max-scrypt-memory`). Fuzz builds (`cfg(fuzzing)`) lower
//! the defaults so slow inputs do not stall the fuzzer.

use std::fmt;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::Input;
use crate::{Error, Result};

/// Default [`Limits::max_iterations`].
pub const DEFAULT_MAX_ITERATIONS: u32 = if cfg!(fuzzing) { 10_000 } else { 1_000_000 };
/// Default [`Limits::max_scrypt_memory`]: 64 MiB.
pub const DEFAULT_MAX_SCRYPT_MEMORY: u64 = if cfg!(fuzzing) { 16 << 20 } else { 64 << 20 };
/// [`Limits::budget`] is this many times [`Limits::max_iterations`] (16,000,000 work units
/// by default). It must hold what certmint itself writes and reads back: a `legacy`
/// PKCS#12 file at the highest iteration count certmint writes (1,000,000) with a
/// non-ASCII password costs up to 15,000,000 (five derivations, three password forms).
pub const BUDGET_FACTOR: u64 = 16;

/// What key derivation from file parameters may cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most iterations of one PBKDF2 or PKCS#12 KDF derivation.
    pub max_iterations: u32,
    /// Most memory of one scrypt derivation, in bytes (`128 * r * N`).
    pub max_scrypt_memory: u64,
    /// Most work units ([`work`]) one PKCS#12 file, or one command, may spend.
    pub budget: u64,
    /// Charge every derivation to one budget for the whole process (one command), so that
    /// many files within their own limits cannot add up.
    pub command_budget: bool,
}

impl Limits {
    /// The defaults (see the module documentation); no command-wide budget.
    pub const DEFAULT: Limits = Limits::with(DEFAULT_MAX_ITERATIONS, DEFAULT_MAX_SCRYPT_MEMORY);

    /// `max_iterations` and `max_scrypt_memory`, with the budget they imply
    /// ([`BUDGET_FACTOR`] times `max_iterations`) and no command-wide budget.
    pub const fn with(max_iterations: u32, max_scrypt_memory: u64) -> Self {
        Limits {
            max_iterations,
            max_scrypt_memory,
            budget: BUDGET_FACTOR * max_iterations as u64,
            command_budget: false,
        }
    }

    /// Refuse an iteration count above [`Limits::max_iterations`] (and 0, which is
    /// corrupt). `what` names the part of the file.
    pub fn check_iterations(&self, what: Input, iterations: u64) -> Result<u32> {
        if iterations == 0 {
            return Err(Error::corrupt(what, "an iteration count of 0"));
        }
        match u32::try_from(iterations) {
            Ok(n) if n <= self.max_iterations => Ok(n),
            _ => Err(Error::KdfLimit(Excess {
                what,
                kind: LimitKind::Iterations,
                needed: iterations,
                allowed: u64::from(self.max_iterations),
                detail: format!("{iterations} iterations"),
            })),
        }
    }

    /// Refuse scrypt parameters that are malformed (N not a power of two above 1, r or p
    /// zero, r*p above 64, N above 2^20) or whose memory exceeds
    /// [`Limits::max_scrypt_memory`], before anything is derived.
    pub fn check_scrypt(&self, what: Input, n: u64, r: u64, p: u64) -> Result<()> {
        let detail = format!("scrypt N={n} r={r} p={p}");
        // N, r and p are each bounded first, so the products below cannot overflow.
        let sane = n > 1
            && n.is_power_of_two()
            && n.trailing_zeros() <= MAX_SCRYPT_LOG_N
            && r != 0
            && p != 0
            && r * p <= 64;
        if !sane {
            return Err(Error::unsupported(
                what,
                format!(
                    "{detail} (certmint reads N a power of two up to 2^{MAX_SCRYPT_LOG_N} and r*p <= 64)"
                ),
            ));
        }
        let memory = 128 * r * n;
        if memory > self.max_scrypt_memory {
            return Err(Error::KdfLimit(Excess {
                what,
                kind: LimitKind::ScryptMemory,
                needed: memory,
                allowed: self.max_scrypt_memory,
                detail,
            }));
        }
        Ok(())
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// Highest scrypt log2(N) ever read, whatever the memory limit (2^20 with r=8 is 1 GiB).
pub const MAX_SCRYPT_LOG_N: u32 = 20;

static LIMITS: RwLock<Limits> = RwLock::new(Limits::DEFAULT);
/// Work units spent so far by this process (with [`Limits::command_budget`]).
static SPENT: AtomicU64 = AtomicU64::new(0);

/// The limits in force.
pub fn limits() -> Limits {
    *LIMITS.read().unwrap_or_else(|e| e.into_inner())
}

/// Set the limits for the rest of the process, and start the command budget afresh.
pub fn set_limits(limits: Limits) {
    *LIMITS.write().unwrap_or_else(|e| e.into_inner()) = limits;
    SPENT.store(0, Ordering::SeqCst);
}

/// Work units of a derivation: one per iteration of PBKDF2 or the PKCS#12 KDF (measured on
/// the development machine: 0.18 µs per PBKDF2-HMAC-SHA256 iteration, 0.7 µs per
/// SHA-1 and 1.3 µs per SHA-256 PKCS#12 KDF iteration; `docs/security.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Work {
    /// PBKDF2 with this many iterations: one unit each.
    Pbkdf2(u64),
    /// The PKCS#12 KDF with this many iterations: one unit each.
    Pkcs12Kdf(u64),
    /// scrypt with N, r and p: `2 * r * N * p` units (N=2^14, r=8, p=1, 16 MiB, took
    /// 43 ms, as long as about 240,000 PBKDF2 iterations).
    Scrypt {
        /// N.
        n: u64,
        /// r.
        r: u64,
        /// p.
        p: u64,
    },
}

/// The work units of `w` (saturating).
pub fn work(w: Work) -> u64 {
    match w {
        Work::Pbkdf2(i) | Work::Pkcs12Kdf(i) => i,
        Work::Scrypt { n, r, p } => 2u64.saturating_mul(r).saturating_mul(n).saturating_mul(p),
    }
}

/// Charge `units` to the command budget (when [`Limits::command_budget`] is on); refuse
/// when it would run out, spending nothing.
pub(crate) fn charge(units: u64) -> Result<()> {
    let l = limits();
    if !l.command_budget {
        return Ok(());
    }
    let mut spent = SPENT.load(Ordering::SeqCst);
    loop {
        let total = spent.saturating_add(units);
        if total > l.budget {
            return Err(Error::KdfLimit(Excess {
                what: Input::KeyDerivation,
                kind: LimitKind::CommandBudget,
                needed: total,
                allowed: l.budget,
                detail: format!("{total} work units"),
            }));
        }
        match SPENT.compare_exchange(spent, total, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => return Ok(()),
            Err(now) => spent = now,
        }
    }
}

/// Refuse `units` that would not fit in what is left of the command budget, without
/// spending them.
pub(crate) fn check_plan(units: u64) -> Result<()> {
    let l = limits();
    let spent = SPENT.load(Ordering::SeqCst);
    if l.command_budget && spent.saturating_add(units) > l.budget {
        return Err(Error::KdfLimit(Excess {
            what: Input::KeyDerivation,
            kind: LimitKind::CommandBudget,
            needed: spent.saturating_add(units),
            allowed: l.budget,
            detail: format!("{} work units", spent.saturating_add(units)),
        }));
    }
    Ok(())
}

/// Which limit a file went over (see [`Error::KdfLimit`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LimitKind {
    /// [`Limits::max_iterations`] for one derivation.
    Iterations,
    /// [`Limits::max_scrypt_memory`] for one derivation.
    ScryptMemory,
    /// [`Limits::budget`] for one PKCS#12 file.
    FileBudget,
    /// [`Limits::budget`] for the whole command.
    CommandBudget,
}

/// A key derivation over certmint's limits: what, which limit, what it needs and what is
/// allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Excess {
    /// The part of the file whose derivation is refused (or the whole command's).
    pub what: Input,
    /// Which limit.
    pub kind: LimitKind,
    /// What the file asks for: iterations, bytes of scrypt memory, or work units.
    pub needed: u64,
    /// The limit, in the same unit.
    pub allowed: u64,
    /// The parameters, e.g. `scrypt N=1048576 r=8 p=2`.
    pub detail: String,
}

impl fmt::Display for Excess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mib = |b: u64| b >> 20;
        match self.kind {
            LimitKind::Iterations => write!(
                f,
                "the {} asks for {}, more than certmint's limit of {} per derivation",
                self.what, self.detail, self.allowed
            ),
            LimitKind::ScryptMemory => write!(
                f,
                "the {} asks for {}, which needs {} MiB of memory, more than certmint's limit of {} MiB",
                self.what,
                self.detail,
                mib(self.needed),
                mib(self.allowed)
            ),
            LimitKind::FileBudget => write!(
                f,
                "the key derivations of the {} add up to {} work units, more than certmint's limit of {} per file",
                self.what, self.needed, self.allowed
            ),
            LimitKind::CommandBudget => write!(
                f,
                "the key derivations of this command add up to {} work units, more than certmint's limit of {}",
                self.needed, self.allowed
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iterations_are_capped_with_what_and_how_much() {
        let l = Limits::DEFAULT;
        assert_eq!(l.check_iterations(Input::Mac, 2048).unwrap(), 2048);
        assert_eq!(
            l.check_iterations(Input::Mac, u64::from(DEFAULT_MAX_ITERATIONS))
                .unwrap(),
            DEFAULT_MAX_ITERATIONS
        );
        let err = l.check_iterations(Input::Mac, 10_000_000).unwrap_err();
        match &err {
            Error::KdfLimit(e) => {
                assert_eq!(e.kind, LimitKind::Iterations);
                assert_eq!(e.needed, 10_000_000);
            }
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("10000000 iterations"), "{err}");
        assert!(err.to_string().contains("limit of 1000000"), "{err}");
        assert!(matches!(
            l.check_iterations(Input::Mac, 0),
            Err(Error::Corrupt { .. })
        ));
        assert!(matches!(
            l.check_iterations(Input::Mac, u64::MAX),
            Err(Error::KdfLimit(_))
        ));
        let raised = Limits::with(10_000_000, DEFAULT_MAX_SCRYPT_MEMORY);
        assert!(raised.check_iterations(Input::Mac, 10_000_000).is_ok());
        assert_eq!(raised.budget, 160_000_000);
    }

    #[test]
    fn scrypt_memory_is_capped_and_malformed_parameters_refused() {
        let l = Limits::DEFAULT;
        // OpenSSL's default, and up to 64 MiB.
        l.check_scrypt(Input::KeyEncryption, 1 << 14, 8, 1).unwrap();
        l.check_scrypt(Input::KeyEncryption, 1 << 16, 8, 1).unwrap();
        let err = l
            .check_scrypt(Input::KeyEncryption, 1 << 20, 8, 2)
            .unwrap_err();
        assert!(
            matches!(&err, Error::KdfLimit(e) if e.kind == LimitKind::ScryptMemory && e.needed == 1 << 30),
            "{err:?}"
        );
        assert!(err.to_string().contains("1024 MiB"), "{err}");
        assert!(err.to_string().contains("limit of 64 MiB"), "{err}");
        for (n, r, p) in [
            (0, 8, 1),
            (1, 8, 1),
            (3, 8, 1),
            (1 << 21, 1, 1),
            (1 << 10, 0, 1),
            (1 << 10, 8, 9),
        ] {
            assert!(
                matches!(
                    l.check_scrypt(Input::KeyEncryption, n, r, p),
                    Err(Error::Unsupported { .. })
                ),
                "{n} {r} {p}"
            );
        }
        let raised = Limits::with(DEFAULT_MAX_ITERATIONS, 1 << 30);
        raised
            .check_scrypt(Input::KeyEncryption, 1 << 20, 8, 2)
            .unwrap();
    }

    #[test]
    fn work_units() {
        assert_eq!(work(Work::Pbkdf2(600_000)), 600_000);
        assert_eq!(work(Work::Pkcs12Kdf(100_000)), 100_000);
        assert_eq!(
            work(Work::Scrypt {
                n: 1 << 14,
                r: 8,
                p: 1
            }),
            262_144
        );
        assert_eq!(
            work(Work::Scrypt {
                n: u64::MAX,
                r: 8,
                p: 1
            }),
            u64::MAX
        );
    }
}
