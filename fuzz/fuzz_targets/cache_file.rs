//! The `--cache` file: any bytes are parsed without a panic, and whatever parses is written
//! back and parsed again to the same entries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use repudiate::dns::persist;

fuzz_target!(|data: &[u8]| {
    // Half the inputs get a valid checksum line, so the fuzzer reaches the entry parser
    // instead of stopping at the checksum.
    let bytes = match data.split_first() {
        Some((&b, rest)) if b & 1 == 1 => with_checksum(rest),
        _ => data.to_vec(),
    };
    let now = 1_800_000_000;
    if let Ok(entries) = persist::parse(&bytes, now, 0) {
        let again = persist::parse(persist::render(&entries).as_bytes(), now, 0)
            .expect("a rendered cache parses");
        let key = |e: &persist::Entry| (e.name.clone(), e.qtype);
        let (mut a, mut b) = (entries, again);
        a.sort_by_key(key);
        b.sort_by_key(key);
        assert_eq!(a, b);
    }
});

/// The header, `body` and the end line a writer would put after it.
fn with_checksum(body: &[u8]) -> Vec<u8> {
    let mut text = format!("{}\n", persist::HEADER).into_bytes();
    text.extend_from_slice(body);
    if !text.ends_with(b"\n") {
        text.push(b'\n');
    }
    let lines = text.iter().filter(|&&b| b == b'\n').count() - 1;
    let sum = text.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    text.extend_from_slice(format!("end {lines} fnv1a64:{sum:016x}\n").as_bytes());
    text
}
