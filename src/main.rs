//! The `certmint` binary: a thin adapter over the library (arguments, prompts, printing,
//! exit codes). See `certmint --help`.

#![forbid(unsafe_code)]

mod cli;

fn main() -> std::process::ExitCode {
    harden();
    cli::main()
}

/// Before anything is read: no core dump (`RLIMIT_CORE` 0, soft and hard, so a child
/// cannot raise it either) and, on Linux, not dumpable (`PR_SET_DUMPABLE` 0: no core
/// even where a core-dump handler ignores the limit, and no `ptrace` attach or
/// `/proc/PID/mem` read by other processes of the same user). A crash or a kill while
/// `mint` waits on the network then leaves no file holding the key or the password.
/// Best effort: a failure is ignored (the limits are defences in depth).
fn harden() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{DumpableBehavior, Resource, Rlimit};
        let none = Rlimit {
            current: Some(0),
            maximum: Some(0),
        };
        let _ = rustix::process::setrlimit(Resource::Core, none);
        let _ = rustix::process::set_dumpable_behavior(DumpableBehavior::NotDumpable);
    }
}
