//! A whole input file through the inputs stage: compression sniffed and streamed, leading
//! NULs dropped, the format detected, then the mbox, message, log or pairs reader, with a
//! line limit small enough to be reached in half the runs. Never a panic; an unreadable
//! input is an error that names the file, never a crash or a hang.
#![no_main]

use indicatif::ProgressBar;
use libfuzzer_sys::fuzz_target;
use repudiate::inputs::{ReadOptions, read_all};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("input");
    std::fs::write(&path, rest).expect("writing the input");
    let opts = ReadOptions {
        strict: flags & 1 == 1,
        // Half the inputs get a limit small enough to be reached by every reader.
        max_line_bytes: if flags & 2 == 0 {
            ReadOptions::default().max_line_bytes
        } else {
            1 + usize::from(flags >> 2) * 16
        },
        ..ReadOptions::default()
    };
    let report = read_all(std::slice::from_ref(&path), &opts, &ProgressBar::hidden());
    assert_eq!(report.inputs_total, 1);
    for e in &report.errors {
        assert!(e.input.ends_with("input"), "{e:?}");
    }
});
