//! MTA log lines (postfix, sendmail, exim; syslog and exim mainlog prefixes) through the
//! bulk reader — windows, chunks classified on several threads, events applied in order,
//! lines over the limit dropped as `oversized` — and one line at a time through the
//! extractor: the same pairs (counts and days) and skipped counts, and never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use repudiate::aggregate::Tally;
use repudiate::extract::ExtractOptions;
use repudiate::extract::logs::LogExtractor;
use repudiate::inputs::log_reader::read_log;
use repudiate::inputs::oversize::LineLimit;
use repudiate::model::{Record, SkipReason};

fuzz_target!(|data: &[u8]| {
    let [flags, limit, data @ ..] = data else {
        return;
    };
    let opts = ExtractOptions {
        include_rejected: flags & 1 == 1,
        // Windows of an hour to a day, so eviction happens inside small inputs.
        queue_window_secs: 3600 * (1 + u32::from(flags >> 3)),
        ..ExtractOptions::default()
    };
    // Half the inputs get a limit small enough to be reached.
    let max = if flags & 2 == 0 {
        usize::MAX >> 1
    } else {
        1 + usize::from(*limit)
    };
    let mut one_by_one = Tally::default();
    let mut log = LogExtractor::new(opts.clone());
    let mut lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    if data.ends_with(b"\n") {
        lines.pop();
    }
    for line in lines {
        if line.len() > max {
            one_by_one.add(Record::Skipped(SkipReason::Oversized));
            continue;
        }
        let text = String::from_utf8_lossy(line);
        log.feed_dated(text.trim_end_matches('\r'), &mut |r, when| {
            one_by_one.add_at(r, when)
        });
    }
    let anchor = log.anchor();
    log.finish(&mut |r| one_by_one.add(r));

    let mut bulk = Tally::default();
    let mut log = LogExtractor::new(opts);
    log.set_anchor(anchor);
    let mut seen = LineLimit::new(max);
    read_log(data, &mut log, &mut bulk, false, &mut seen).expect("reading a slice never fails");
    log.finish(&mut |r| bulk.add(r));
    // Counts and days (each pair's days are sorted, so equal pairs are equal maps).
    assert_eq!(bulk.pairs, one_by_one.pairs);
    assert_eq!(bulk.skipped, one_by_one.skipped);
    assert_eq!(
        seen.oversized.count,
        bulk.skipped[SkipReason::Oversized.index()]
    );
});
