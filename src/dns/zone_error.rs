//! Where a `--zone` file is wrong. hickory's master-file parser says what it disliked but
//! not on which line, and a what-if file is edited by hand, so the line is found here: the
//! shortest leading part of the file that fails with the same error ends on the line at
//! fault (found by bisection; a leading part cut inside a multi-line record fails with a
//! different error, or none, so it never matches).

use std::path::Path;

use hickory_proto::serialize::txt::Parser;

/// `error` (the parser's message for all of `text`) with the line at fault and what it
/// reads, when the line can be found.
pub fn locate(text: &str, path: Option<&Path>, error: &str) -> String {
    let why = plain(error);
    let ends: Vec<usize> = text
        .match_indices('\n')
        .map(|(i, _)| i + 1)
        .chain((!text.ends_with('\n') && !text.is_empty()).then_some(text.len()))
        .collect();
    let fails_alike = |lines: usize| {
        Parser::new(&text[..ends[lines - 1]], path.map(Path::to_path_buf), None)
            .parse()
            .is_err_and(|e| e.to_string() == error)
    };
    if ends.is_empty() || !fails_alike(ends.len()) {
        return why;
    }
    // The smallest line count that fails alike: every longer part fails alike too, since
    // the parser stops at the first error.
    let (mut low, mut high) = (1, ends.len());
    while low < high {
        let mid = low + (high - low) / 2;
        if fails_alike(mid) {
            high = mid;
        } else {
            low = mid + 1;
        }
    }
    let start = if low == 1 { 0 } else { ends[low - 2] };
    let line = text[start..ends[low - 1]].trim_end();
    format!("line {low}: {why} (the line reads {line:?})")
}

/// The parser's message without the layers of error type it passed through.
fn plain(error: &str) -> String {
    let mut text = error;
    for layer in ["proto error: ", "decoding error: ", "parse error: "] {
        text = text.strip_prefix(layer).unwrap_or(text);
    }
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(text: &str) -> String {
        let e = Parser::new(text, None, None).parse().unwrap_err();
        locate(text, None, &e.to_string())
    }

    #[test]
    fn the_line_at_fault_is_named_and_quoted() {
        let text = "$ORIGIN example.\n$TTL 300\n@ SOA ns. host. ( 1 2\n 3 4 60 )\n\
                    MAIL-FROM.a MX 10 relay.a\nbad line here ???\nrelay.a A 192.0.2.1\n";
        let e = error_of(text);
        assert!(e.starts_with("line 6: "), "{e}");
        assert!(e.ends_with("(the line reads \"bad line here ???\")"), "{e}");
        assert!(!e.contains("proto error"), "{e}");
    }

    #[test]
    fn a_bad_address_on_the_last_line_without_a_line_end() {
        let e = error_of("$ORIGIN example.\nrelay 300 A 192.0.2.300");
        assert!(e.starts_with("line 2: "), "{e}");
    }

    #[test]
    fn an_error_only_the_whole_file_has_keeps_its_message() {
        // No $ORIGIN: the parser complains at the end, about no line in particular.
        let text = "$TTL 1\nfoo A 192.0.2.1\n";
        let e = error_of(text);
        assert!(!e.is_empty());
    }
}
