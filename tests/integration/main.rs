//! The integration tests, built as one test crate so the shared support (the in-process
//! DNS server, the compressor) is compiled once. Each module tests the built binary or the
//! library's public API from outside.

mod support;

mod check_cache;
mod cli;
mod dmarc_round_trip;
mod dns_faults;
mod dns_health;
mod dns_server_smoke;
mod dns_verdicts;
mod generate;
mod journald;
mod layers;
mod limits;
mod merge;
mod monitoring;
mod output_safety;
mod properties;
mod propose_logs;
mod readme;
mod reports;
mod robustness;
mod settings_file;
mod spf_audit;
mod spf_suite;
mod stdout_dash;
mod walks;
