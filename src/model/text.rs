//! Text from the outside world (file names, sender domains) made safe to print as part of
//! one line on standard error: a newline in a file name must not start a line of its own
//! that reads like `repudiate: ...` (a forged message for whoever or whatever reads the
//! cron mail), and a terminal escape must not reach the terminal. Control characters are
//! written as Rust escapes (`\n`, `\r`, `\u{1b}`), so the name stays recognisable.

use std::borrow::Cow;

/// `text` with every control character (and the Unicode line and paragraph separators)
/// escaped; unchanged, and not copied, when it has none.
pub fn one_line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(
            one_line("a\nrepudiate: forged\r\u{1b}[31m\t"),
            "a\\nrepudiate: forged\\r\\u{1b}[31m\\t"
        );
        assert_eq!(one_line("x\u{2028}y"), "x\\u{2028}y");
        assert!(matches!(one_line("mail.mbox é ✓"), Cow::Borrowed(_)));
    }
}
