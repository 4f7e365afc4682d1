//! SPF macro-strings (RFC 7208 §7): parsed once with the record, so a bad macro is a syntax
//! error of the whole record, and expanded during evaluation against the identity, the
//! client address and the current domain. The expansion reports which letters it used, so
//! a pair evaluated without a real sender or HELO can say its result rests on a stand-in.

use std::net::IpAddr;

/// One piece of a macro-string.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Macro {
        /// Lowercase letter.
        letter: char,
        /// Written in upper case: URL-escape the expansion (§7.3).
        escape: bool,
        /// Keep this many right-hand parts (`None`: all).
        keep: Option<usize>,
        reverse: bool,
        /// Characters splitting the value into parts; `.` when none is written.
        delimiters: String,
    },
}

/// A parsed macro-string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MacroString {
    pieces: Vec<Piece>,
}

/// What macros expand to during one evaluation.
pub struct MacroContext<'a> {
    /// `%{l}`.
    pub local: &'a str,
    /// `%{o}`.
    pub sender_domain: &'a str,
    /// `%{d}`: the domain whose record is being evaluated.
    pub domain: &'a str,
    pub ip: IpAddr,
    /// `%{h}`.
    pub helo: &'a str,
}

/// Which stand-in values an expansion used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Used {
    /// `%{l}` or `%{s}`.
    pub local: bool,
    /// `%{h}`.
    pub helo: bool,
    /// `%{p}`: needs the validated reverse name, which costs lookups.
    pub ptr: bool,
}

const DELIMITERS: &str = ".-+,/_=";

impl MacroString {
    /// Parses `text`; `exp_text` allows the letters `c`, `r`, `t` (explanations only, and
    /// explanations are never fetched: the parameter keeps the grammar in one place).
    pub fn parse(text: &str, exp_text: bool) -> Result<MacroString, String> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                if !(c.is_ascii_graphic()) {
                    return Err(format!("character {c:?} is not allowed"));
                }
                literal.push(c);
                continue;
            }
            match chars.next() {
                Some('%') => literal.push('%'),
                Some('_') => literal.push(' '),
                Some('-') => literal.push_str("%20"),
                Some('{') => {
                    let mut body = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => body.push(c),
                            None => return Err("unterminated macro".into()),
                        }
                    }
                    if !literal.is_empty() {
                        pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                    }
                    pieces.push(macro_piece(&body, exp_text)?);
                }
                _ => return Err("a % not followed by {, %, _ or -".into()),
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal));
        }
        Ok(MacroString { pieces })
    }

    pub fn ends_in_macro(&self) -> bool {
        matches!(self.pieces.last(), Some(Piece::Macro { .. }))
    }

    /// Whether the expansion depends on the client address: `%{i}`, `%{p}` or `%{v}`
    /// (§7.3; `%{c}` and `%{r}` parse only in explanations, never expanded).
    pub fn uses_ip(&self) -> bool {
        self.pieces.iter().any(|p| {
            matches!(
                p,
                Piece::Macro {
                    letter: 'i' | 'p' | 'v',
                    ..
                }
            )
        })
    }

    /// Whether expanding needs `%{p}`.
    pub fn needs_ptr(&self) -> bool {
        self.pieces
            .iter()
            .any(|p| matches!(p, Piece::Macro { letter: 'p', .. }))
    }

    /// Expands as a domain name (§7.3, §4.8): `ptr_name` is `%{p}`'s value when
    /// [`Self::needs_ptr`]; a final dot is dropped and names longer than 253 characters
    /// lose labels on the left until they fit.
    pub fn expand_domain(
        &self,
        cx: &MacroContext<'_>,
        ptr_name: Option<&str>,
        used: &mut Used,
    ) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Macro {
                    letter,
                    escape,
                    keep,
                    reverse,
                    delimiters,
                } => {
                    let value = value(*letter, cx, ptr_name, used);
                    let value = transform(&value, *keep, *reverse, delimiters);
                    if *escape {
                        url_escape(&value, &mut out);
                    } else {
                        out.push_str(&value);
                    }
                }
            }
        }
        if out.ends_with('.') {
            out.pop();
        }
        while out.len() > 253 {
            match out.find('.') {
                Some(at) => out.drain(..=at),
                None => break,
            };
        }
        out
    }
}

fn macro_piece(body: &str, exp_text: bool) -> Result<Piece, String> {
    let mut chars = body.chars();
    let Some(first) = chars.next() else {
        return Err("empty macro %{}".into());
    };
    let letter = first.to_ascii_lowercase();
    let allowed = "slodiphv".contains(letter) || (exp_text && "crt".contains(letter));
    if !first.is_ascii_alphabetic() || !allowed {
        return Err(format!("macro letter {first:?} is not allowed here"));
    }
    let rest = chars.as_str();
    let digits_end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let keep = match &rest[..digits_end] {
        "" => None,
        digits => match digits.parse::<usize>() {
            Ok(0) => return Err("a macro keeps 0 parts".into()),
            Ok(n) => Some(n),
            // More digits than any name has parts: all of them.
            Err(_) => Some(usize::MAX),
        },
    };
    let mut rest = &rest[digits_end..];
    let reverse = match rest.strip_prefix(['r', 'R']) {
        Some(after) => {
            rest = after;
            true
        }
        None => false,
    };
    if let Some(bad) = rest.chars().find(|c| !DELIMITERS.contains(*c)) {
        return Err(format!("{bad:?} is not a macro delimiter"));
    }
    Ok(Piece::Macro {
        letter,
        escape: first.is_ascii_uppercase(),
        keep,
        reverse,
        delimiters: if rest.is_empty() {
            ".".into()
        } else {
            rest.into()
        },
    })
}

fn value(letter: char, cx: &MacroContext<'_>, ptr_name: Option<&str>, used: &mut Used) -> String {
    match letter {
        's' => {
            used.local = true;
            format!("{}@{}", cx.local, cx.sender_domain)
        }
        'l' => {
            used.local = true;
            cx.local.to_string()
        }
        'o' => cx.sender_domain.to_string(),
        'd' => cx.domain.to_string(),
        'i' => dotted(cx.ip),
        'p' => {
            used.ptr = true;
            ptr_name.unwrap_or("unknown").to_string()
        }
        'v' => if cx.ip.is_ipv4() { "in-addr" } else { "ip6" }.to_string(),
        'h' => {
            used.helo = true;
            cx.helo.to_string()
        }
        // `c`, `r`, `t` parse only in explanations, which are never expanded.
        _ => String::new(),
    }
}

/// `%{i}`: dotted quad, or 32 dot-separated nibbles for IPv6 (§7.3).
pub fn dotted(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let hex: String = v6.octets().iter().map(|b| format!("{b:02x}")).collect();
            let nibbles: Vec<String> = hex.chars().map(String::from).collect();
            nibbles.join(".")
        }
    }
}

/// Splits on any delimiter, optionally reverses, keeps the right-hand parts, joins with `.`.
fn transform(value: &str, keep: Option<usize>, reverse: bool, delimiters: &str) -> String {
    if keep.is_none() && !reverse && delimiters == "." {
        return value.to_string();
    }
    let mut parts: Vec<&str> = value.split(|c| delimiters.contains(c)).collect();
    if reverse {
        parts.reverse();
    }
    if let Some(n) = keep
        && n < parts.len()
    {
        parts.drain(..parts.len() - n);
    }
    parts.join(".")
}

/// RFC 3986 escaping of everything but the unreserved characters.
fn url_escape(value: &str, out: &mut String) {
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(spec: &str) -> (String, Used) {
        let cx = MacroContext {
            local: "strong-bad",
            sender_domain: "email.example.com",
            domain: "email.example.com",
            ip: "192.0.2.3".parse().unwrap(),
            helo: "mx.example.org",
        };
        let mut used = Used::default();
        let out = MacroString::parse(spec, false).unwrap().expand_domain(
            &cx,
            Some("mx.example.org"),
            &mut used,
        );
        (out, used)
    }

    /// The examples of RFC 7208 §7.4.
    #[test]
    fn rfc_examples() {
        for (spec, want) in [
            ("%{s}", "strong-bad@email.example.com"),
            ("%{o}", "email.example.com"),
            ("%{d4}", "email.example.com"),
            ("%{d2}", "example.com"),
            ("%{d1}", "com"),
            ("%{dr}", "com.example.email"),
            ("%{d2r}", "example.email"),
            ("%{l}", "strong-bad"),
            ("%{l-}", "strong.bad"),
            ("%{lr}", "strong-bad"),
            ("%{lr-}", "bad.strong"),
            ("%{l1r-}", "strong"),
            (
                "%{ir}.%{v}._spf.%{d2}",
                "3.2.0.192.in-addr._spf.example.com",
            ),
            ("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"),
            (
                "%{p2}.trusted-domains.example.net.",
                "example.org.trusted-domains.example.net",
            ),
            ("%{S}", "strong-bad%40email.example.com"),
            ("a%%b%_c%-d", "a%b c%20d"),
        ] {
            assert_eq!(expand(spec).0, want, "{spec}");
        }
        assert!(expand("%{l}").1.local);
        assert!(expand("%{h}").1.helo);
        assert_eq!(expand("%{d}").1, Used::default());
    }

    #[test]
    fn ipv6_is_nibbles() {
        assert_eq!(
            dotted("2001:db8::cb01".parse().unwrap()),
            "2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.c.b.0.1"
        );
    }

    #[test]
    fn syntax_errors() {
        for bad in ["%{x}", "%{c}", "%{d0}", "%{d2*}", "%", "%a", "%{d", "a\tb"] {
            assert!(MacroString::parse(bad, false).is_err(), "{bad}");
        }
        assert!(MacroString::parse("%{c}", true).is_ok());
    }

    #[test]
    fn long_names_lose_labels_on_the_left() {
        let long = format!("{}.{}.example.com", "a".repeat(63), "b".repeat(200));
        let (out, _) = expand(&long);
        assert_eq!(out, format!("{}.example.com", "b".repeat(200)));
    }
}
