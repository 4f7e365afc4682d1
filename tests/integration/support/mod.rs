//! Support shared by the integration tests: running the binary, the in-process DNS server
//! and the test compressor, compiled once for the whole test crate.

pub mod bin;
pub mod compress;
pub mod dns_server;
pub mod spf_suite;
