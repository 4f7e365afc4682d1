//! Support shared by the integration tests: the in-process DNS server and the test
//! compressor, compiled once for the whole test crate.

pub mod compress;
pub mod dns_server;
pub mod spf_suite;
