//! The mbox splitter: whatever the bytes, it never panics, and what it yields does not
//! depend on its window size (the first byte picks a tiny window, so every refill path and
//! every `Content-Length` replay is reached with small inputs).
#![no_main]

use libfuzzer_sys::fuzz_target;
use repudiate::inputs::mbox::{MboxItem, MboxReader};

/// What a splitter yields, in a comparable form.
fn split(data: &[u8], window: Option<usize>) -> Vec<(String, Vec<u8>, bool, u64)> {
    let mut mbox = match window {
        Some(bytes) => MboxReader::with_buffer(data, bytes),
        None => MboxReader::new(data),
    };
    let mut items = Vec::new();
    while let Some(item) = mbox.next_item().expect("reading a slice never fails") {
        items.push(match item {
            MboxItem::Preamble { line } => (String::from("<preamble>"), Vec::new(), false, line),
            MboxItem::Message(m) => (m.envelope, m.header, m.oversized, m.line),
        });
    }
    items
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let window = 8 + usize::from(first % 64);
    assert_eq!(
        split(rest, None),
        split(rest, Some(window)),
        "window {window}"
    );
});
