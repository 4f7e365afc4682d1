//! The merge's shared table against the plainest reference (issue 16 item 3): rows of
//! several pairs files, each pair spelt many ways (as hand edits and other tools write
//! them), read through `read_pairs` into one [`PairStore`], give exactly the pairs, counts
//! and bad rows that a `HashMap<PairKey, u64>` of every row's `Row::key()` gives, in the
//! report order.

use std::collections::HashMap;

use super::*;
use crate::model::PairKey;

const DOMAINS: &[&str] = &[
    "a.example",
    "A.Example",
    "a.example.",
    "'a.example",
    "\"a.EXAMPLE\"",
    "b.example",
    "B.EXAMPLE.",
    "<>",
    "'<>",
    "",
    "not a domain",
    "Not A Domain",
    "'=x",
    "a-rather-long-domain-name-beyond-the-inline-width.example",
    "A-Rather-Long-Domain-Name-Beyond-The-Inline-Width.Example",
];

const IPS: &[&str] = &[
    "192.0.2.1",
    "::ffff:192.0.2.1",
    "IPv6:::ffff:192.0.2.1",
    "\"192.0.2.1\"",
    "10.0.0.9",
    "2001:db8::1",
    "2001:DB8:0:0:0:0:0:1",
    "IPv6:2001:db8::1",
    "fe80::1%eth0",
    "",
    "192.0.2.300",
    "x",
];

const COUNTS: &[&str] = &["1", "7", "0", "18446744073709551615", " 3 ", "-1", ""];

/// The reference: every row's key through `Row::key`, counts saturating, bad rows counted.
fn reference(files: &[String]) -> (HashMap<PairKey, u64>, u64) {
    let (mut pairs, mut bad) = (HashMap::new(), 0);
    for text in files {
        pairs_file::read::<_, io::Error>(text.as_bytes(), 1 << 20, &mut |item| {
            match item {
                pairs_file::Item::Row { row: Some(r), .. } => match r.key() {
                    Some(key) => {
                        let n: &mut u64 = pairs.entry(key).or_default();
                        *n = n.saturating_add(r.messages);
                    }
                    None => bad += 1,
                },
                pairs_file::Item::Row { row: None, .. } => bad += 1,
                pairs_file::Item::Oversized { .. } => panic!("no line is that long"),
            }
            Ok(())
        })
        .unwrap();
    }
    (pairs, bad)
}

/// The files through `read_pairs` into one store, as a merge reads them.
fn merged(files: &[String]) -> (Vec<(PairKey, u64)>, u64) {
    let store = PairStore::new(spelling());
    let mut tally = Tally::default();
    let mut limit = LineLimit::new(1 << 20);
    let mut batch = Batch::default();
    for text in files {
        let mut sink = Sink {
            tally: &mut tally,
            strict: false,
            limit: &mut limit,
        };
        read_pairs(text.as_bytes(), &mut sink, &store, &mut batch).unwrap();
    }
    (store.into_sorted().keyed(), tally.skipped_total())
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

    #[test]
    fn the_store_merges_every_spelling_as_the_reference_does(
        files in proptest::collection::vec(
            proptest::collection::vec(
                (0..DOMAINS.len(), 0..IPS.len(), 0..COUNTS.len()),
                0..200,
            ),
            1..5,
        ),
    ) {
        let texts: Vec<String> = files
            .iter()
            .map(|rows| {
                let mut text = String::from("domain,ip,messages\n");
                for &(d, i, c) in rows {
                    text.push_str(&format!("{},{},{}\n", DOMAINS[d], IPS[i], COUNTS[c]));
                }
                text
            })
            .collect();
        let (want, want_bad) = reference(&texts);
        let mut want: Vec<(PairKey, u64)> = want.into_iter().collect();
        want.sort_by(|a, b| pairs_file::cmp_pairs((&a.0, a.1), (&b.0, b.1)));
        let (got, got_bad) = merged(&texts);
        proptest::prop_assert_eq!(got, want);
        proptest::prop_assert_eq!(got_bad, want_bad);
    }
}
