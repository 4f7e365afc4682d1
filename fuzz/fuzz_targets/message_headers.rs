//! A stored message's header block through the extractor (Return-Path, the Received walk,
//! mail-parser underneath), with and without an mbox envelope line and under both
//! `--null-sender` modes and `--no-skip-private`: never a panic, and the same record twice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use repudiate::extract::{ExtractOptions, NullSenderMode, message};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    // An envelope line may come first, up to the first NUL.
    let (envelope, header) = match rest.iter().position(|&b| b == 0) {
        Some(nul) if flags & 1 == 1 => (
            Some(String::from_utf8_lossy(&rest[..nul])),
            &rest[nul + 1..],
        ),
        _ => (None, rest),
    };
    let opts = ExtractOptions {
        skip_private: flags & 2 == 0,
        null_sender: if flags & 4 == 0 {
            NullSenderMode::Report
        } else {
            NullSenderMode::Helo
        },
        ..ExtractOptions::default()
    };
    let once = message::extract(header, envelope.as_deref(), &opts);
    let again = message::extract(header, envelope.as_deref(), &opts);
    assert_eq!(once, again);
});
