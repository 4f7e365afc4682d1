//! Pairs files (`scan`/`audit` CSV taken back as input): any bytes are read without a panic,
//! and the valid rows survive a write and a second read unchanged, so merging pair files
//! again and again never drifts.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use repudiate::model::{PairKey, Sender};
use repudiate::pairs_file;

/// Longer lines are passed over as oversized, as the binary's default limit does.
const MAX_LINE: usize = 32 << 20;

fn read(bytes: &[u8]) -> Vec<(PairKey, u64)> {
    let mut rows = Vec::new();
    pairs_file::read::<_, std::io::Error>(bytes, MAX_LINE, &mut |item| {
        // A row whose client is no address is malformed (`Row::key` says so).
        if let pairs_file::Item::Row { row: Some(row), .. } = item
            && let Some(key) = row.key()
        {
            rows.push((key, row.messages));
        }
        Ok(())
    })
    .expect("reading a slice never fails");
    rows
}

/// Message counts per pair (saturating, as the tally adds them), keyed comparably.
fn totals(rows: &[(PairKey, u64)]) -> BTreeMap<(Sender, Option<std::net::IpAddr>), u64> {
    let mut map = BTreeMap::new();
    for (key, n) in rows {
        let total: &mut u64 = map.entry((key.sender.clone(), key.ip)).or_default();
        *total = total.saturating_add(*n);
    }
    map
}

fuzz_target!(|data: &[u8]| {
    let mut text = pairs_file::HEADER_PREFIX.as_bytes().to_vec();
    text.push(b'\n');
    text.extend_from_slice(data);
    // Malformed senders keep their raw text, which is not meant to be stable.
    let rows: Vec<(PairKey, u64)> = read(&text)
        .into_iter()
        .filter(|(k, _)| !matches!(k.sender, Sender::Malformed(_)))
        .collect();
    let mut borrowed: Vec<(&PairKey, u64)> = rows.iter().map(|(k, n)| (k, *n)).collect();
    let mut written = Vec::new();
    pairs_file::write_scan(&mut written, &mut borrowed).expect("writing to a Vec never fails");
    assert_eq!(totals(&read(&written)), totals(&rows));
});
