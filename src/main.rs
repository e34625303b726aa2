//! The `certmint` binary: a thin adapter over the library (arguments, prompts, printing,
//! exit codes). See `certmint --help`.

#![forbid(unsafe_code)]

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
