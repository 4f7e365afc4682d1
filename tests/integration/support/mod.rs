//! Support shared by the integration tests: running the binary, the in-process DNS server
//! and the test compressor, compiled once for the whole test crate.

// What the compressor (shared with the library's unit tests) takes from its includer.
use repudiate::inputs::decompress::Compression;

pub mod bin;
pub mod compress;
pub mod dns_server;
pub mod spf_suite;
