//! `repudiate` binary: parse flags, build a validated config, run, map the outcome to the
//! exit codes of docs/design.md §6.

use std::process::ExitCode;

use clap::Parser;
use repudiate::app;
use repudiate::cli::Cli;
use repudiate::config::Config;

/// The allocator, its options set by [`repudiate::allocator`].
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// On Linux the options are set from the ELF initialisers, before the runtime's first
/// allocation (from `main` the eager-commit option came too late).
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static ALLOCATOR_OPTIONS: extern "C" fn() = repudiate::allocator::set_options;

/// Exit code of a run that could not produce its report (docs/design.md §6); a run that
/// did says its own ([`app::RunStatus::exit_code`]).
const EXIT_FATAL: u8 = 1;

fn main() -> ExitCode {
    #[cfg(not(target_os = "linux"))]
    repudiate::allocator::set_options();
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
