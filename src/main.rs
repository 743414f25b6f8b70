//! The `diplograph` binary: parses the command line and hands over to `cli`.

use std::process::ExitCode;

/// mimalloc: ingest and queries allocate many small strings and vectors (100k-article
/// ingest: 10.3 s with the system allocator, 8.3 s with mimalloc).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    diplograph::cli::main()
}
