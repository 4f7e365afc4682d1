//! `--zone` master files through hickory's parser into the what-if overlay: never a panic,
//! and every owner name it holds can be asked for every type.
#![no_main]

use libfuzzer_sys::fuzz_target;
use repudiate::dns::QType;
use repudiate::dns::zones::Zones;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut zones = Zones::default();
    if zones.add_text(&text, None).is_err() {
        return;
    }
    // Names a zone text is likely to hold: each whitespace-separated token, dot-trimmed.
    for token in text.split_whitespace().take(64) {
        let name = token.trim_end_matches('.').to_ascii_lowercase();
        for qtype in [QType::Mx, QType::A, QType::Aaaa] {
            let _ = zones.answer(&name, qtype);
            let _ = zones.answer(&format!("mail-from.{name}"), qtype);
        }
    }
});
