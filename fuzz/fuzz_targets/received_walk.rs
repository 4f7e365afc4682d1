//! One Received field value through the hop parser: never a panic; an IP it finds is
//! canonical (IPv4-mapped forms are plain IPv4), since pairs are keyed by it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use repudiate::extract::received;
use repudiate::net::canonical;

fuzz_target!(|data: &[u8]| {
    let value = String::from_utf8_lossy(data);
    let hop = received::parse(&value);
    if let Some(ip) = hop.ip {
        assert_eq!(canonical(ip), ip, "{value:?}");
    }
});
