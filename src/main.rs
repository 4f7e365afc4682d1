//! `repudiate` binary: parse flags, build a validated config, run, map the outcome to the
//! exit codes of docs/design.md §6.

use std::process::ExitCode;

use clap::Parser;
use repudiate::app;
use repudiate::cli::Cli;
use repudiate::config::Config;

/// The allocator: glibc's returned too little of what an audit frees while it evaluates
/// (peak RSS more than twice the peak heap); mimalloc keeps RSS near the heap, the more so
/// when it returns freed pages at once rather than 10 ms later (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in the mimalloc (v3) the crate builds; its Rust bindings predate
/// the option's name.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// `mi_option_arena_eager_commit` (v3), likewise. Off, a purge decommits what it returns
/// (`MADV_DONTNEED`); on (its default where the OS overcommits), a purge only resets, and
/// Linux leaves reset pages in RSS until it is short of memory: the 1 GB log's audit
/// (scripts/bench-domeval.sh) stood some 20 MB higher, for no gain in CPU time.
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

/// Sets the allocator's options. On Linux it runs before `main` and before the runtime's
/// first allocation, from the ELF initialisers: mimalloc reserves its first arena at the
/// first allocation and reads the eager-commit option then, so from `main` it came too late.
extern "C" fn allocator_options() {
    // SAFETY: sets process-wide options; mimalloc reads them when it reserves and purges
    // memory, and setting one before or while allocating is allowed.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
        libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0);
    }
}

#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static ALLOCATOR_OPTIONS: extern "C" fn() = allocator_options;

/// Exit code of a run that could not produce its report (docs/design.md §6); a run that
/// did says its own ([`app::RunStatus::exit_code`]).
const EXIT_FATAL: u8 = 1;

fn main() -> ExitCode {
    #[cfg(not(target_os = "linux"))]
    allocator_options();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // --help and --version are not errors; a bad argument is fatal (1), not clap's 2.
            return if e.use_stderr() {
                ExitCode::from(EXIT_FATAL)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let config = match Config::from_cli(cli) {
        Ok(c) => c,
        Err(e) => {
            app::say(&e);
            return ExitCode::from(EXIT_FATAL);
        }
    };
    match app::run(&config) {
        Ok(status) => ExitCode::from(status.exit_code()),
        Err(app::Fatal(msg)) => {
            app::say(&msg);
            ExitCode::from(EXIT_FATAL)
        }
    }
}
