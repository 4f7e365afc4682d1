//! `repudiate` binary: parse flags, build a validated config, run, map the outcome to the
//! exit codes of docs/design.md §6.

use std::process::ExitCode;

use clap::Parser;
use repudiate::app::{self, RunStatus};
use repudiate::cli::Cli;
use repudiate::config::Config;

/// Exit codes (docs/design.md §6).
const EXIT_FATAL: u8 = 1;
const EXIT_INPUTS_FAILED: u8 = 2;
const EXIT_SHARE_EXCEEDED: u8 = 3;
const EXIT_TEMPFAIL_EXCEEDED: u8 = 4;

fn main() -> ExitCode {
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
        Ok(RunStatus::Clean) => ExitCode::SUCCESS,
        Ok(RunStatus::InputsFailed) => ExitCode::from(EXIT_INPUTS_FAILED),
        Ok(RunStatus::ShareExceeded) => ExitCode::from(EXIT_SHARE_EXCEEDED),
        Ok(RunStatus::TempfailExceeded) => ExitCode::from(EXIT_TEMPFAIL_EXCEEDED),
        Err(app::Fatal(msg)) => {
            app::say(&msg);
            ExitCode::from(EXIT_FATAL)
        }
    }
}
