//! An SPF record's terms (RFC 7208 §4.6, §5, §6), parsed whole before anything is evaluated:
//! a syntax error anywhere makes the record a `permerror` (§4.6), even after a term that
//! would have matched. Domain-specs stay unexpanded here ([`MacroString`]); their macros
//! are checked now and expanded at evaluation, when the identity and the current domain
//! are known.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, OnceLock};

use dashmap::DashMap;

use super::macros::MacroString;

/// The result a matching directive gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Qualifier {
    Pass,
    Fail,
    SoftFail,
    Neutral,
}

/// A mechanism with its arguments; `None` for a domain-spec means the current domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mechanism {
    All,
    Include(MacroString),
    A {
        domain: Option<MacroString>,
        v4: u8,
        v6: u8,
    },
    Mx {
        domain: Option<MacroString>,
        v4: u8,
        v6: u8,
    },
    Ptr(Option<MacroString>),
    Ip4(Ipv4Addr, u8),
    Ip6(Ipv6Addr, u8),
    Exists(MacroString),
}

impl Mechanism {
    /// Whether evaluating it asks DNS, and so counts against the limit of 10 (§4.6.4).
    pub fn queries_dns(&self) -> bool {
        !matches!(
            self,
            Mechanism::All | Mechanism::Ip4(..) | Mechanism::Ip6(..)
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    pub qualifier: Qualifier,
    pub mechanism: Mechanism,
    /// The term as published, for `check`'s tree.
    pub text: String,
}

/// A parsed record: its directives in order and the `redirect=` target, if any. `exp=` is
/// checked for syntax and otherwise ignored (its text is never fetched); unknown modifiers
/// are checked for macro syntax and ignored (§6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub directives: Vec<Directive>,
    pub redirect: Option<MacroString>,
}

/// Why a record is a `permerror` before evaluation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError(pub String);

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a TXT record is an SPF record: `v=spf1` alone or followed by a space (§4.5).
pub fn is_spf_record(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 6 && b[..6].eq_ignore_ascii_case(b"v=spf1") && (b.len() == 6 || b[6] == b' ')
}

/// A parse, shared by every evaluation of the same record text.
pub type Parsed = Arc<Result<Record, SyntaxError>>;

/// Distinct record texts kept parsed; beyond it records are parsed per evaluation (a run
/// meets one record per domain, so only a hostile world gets there).
const MAX_SHARED_PARSES: usize = 1 << 17;

/// [`Record::parse`], memoised by text: an audit evaluates a domain's record once per client
/// of the domain, and re-parsing it was a sixth of an SPF audit's instructions (callgrind,
/// docs/performance.md). Parsing is a pure function of the text, so sharing cannot change a
/// result.
pub fn parse_shared(text: &str) -> Parsed {
    static PARSED: OnceLock<DashMap<Box<str>, Parsed, foldhash::fast::RandomState>> =
        OnceLock::new();
    let parsed = PARSED.get_or_init(DashMap::default);
    if let Some(hit) = parsed.get(text) {
        return Arc::clone(hit.value());
    }
    let fresh = Arc::new(Record::parse(text));
    if parsed.len() < MAX_SHARED_PARSES {
        parsed.insert(text.into(), Arc::clone(&fresh));
    }
    fresh
}

impl Record {
    /// Parses a selected record (one that [`is_spf_record`]).
    pub fn parse(text: &str) -> Result<Record, SyntaxError> {
        if !text.is_ascii() {
            return Err(SyntaxError("the record is not 7-bit ASCII".into()));
        }
        let mut record = Record {
            directives: Vec::new(),
            redirect: None,
        };
        let mut exp_seen = false;
        // Terms are separated by one or more spaces, and only spaces (§4.6.1): a tab or a
        // control character stays inside a term and makes it invalid.
        for term in text.split(' ').skip(1).filter(|t| !t.is_empty()) {
            match modifier(term) {
                Some((name, value)) => match name.as_str() {
                    "redirect" => {
                        if record.redirect.is_some() {
                            return Err(err("redirect= appears twice", term));
                        }
                        record.redirect = Some(domain_spec(value, term)?);
                    }
                    "exp" => {
                        if exp_seen {
                            return Err(err("exp= appears twice", term));
                        }
                        exp_seen = true;
                        domain_spec(value, term)?;
                    }
                    _ => {
                        MacroString::parse(value, false).map_err(|e| err(&e, term))?;
                    }
                },
                None => record.directives.push(directive(term)?),
            }
        }
        Ok(record)
    }
}

fn err(why: &str, term: &str) -> SyntaxError {
    SyntaxError(format!("{why}: {term:?}"))
}

/// `name=value` when the term is a modifier (§4.6.1: name = ALPHA *( ALPHA / DIGIT / "-" /
/// "_" / "." )); the name lowercased.
fn modifier(term: &str) -> Option<(String, &str)> {
    let (name, value) = term.split_once('=')?;
    let mut chars = name.chars();
    let first = chars.next()?;
    let valid = first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    valid.then(|| (name.to_ascii_lowercase(), value))
}

fn directive(term: &str) -> Result<Directive, SyntaxError> {
    let (qualifier, rest) = match term.as_bytes()[0] {
        b'+' => (Qualifier::Pass, &term[1..]),
        b'-' => (Qualifier::Fail, &term[1..]),
        b'~' => (Qualifier::SoftFail, &term[1..]),
        b'?' => (Qualifier::Neutral, &term[1..]),
        _ => (Qualifier::Pass, term),
    };
    let (rest, v6) = split_cidr(rest, "//");
    let (rest, v4) = split_cidr(rest, "/");
    let (name, arg) = match rest.split_once(':') {
        Some((name, arg)) => (name.to_ascii_lowercase(), Some(arg)),
        None => (rest.to_ascii_lowercase(), None),
    };
    let no_cidr = |m: Mechanism| match (v4, v6) {
        (None, None) => Ok(m),
        _ => Err(err("a CIDR length is not allowed here", term)),
    };
    let optional_domain = |arg: Option<&str>| arg.map(|a| domain_spec(a, term)).transpose();
    let required_domain = |arg: Option<&str>| match arg {
        Some(a) => domain_spec(a, term),
        None => Err(err("a domain is required", term)),
    };
    let mechanism = match name.as_str() {
        "all" if arg.is_none() => no_cidr(Mechanism::All)?,
        "include" => no_cidr(Mechanism::Include(required_domain(arg)?))?,
        "exists" => no_cidr(Mechanism::Exists(required_domain(arg)?))?,
        "ptr" => no_cidr(Mechanism::Ptr(optional_domain(arg)?))?,
        "a" | "mx" => {
            if arg.is_some_and(is_dotted_quad) {
                return Err(err("an address where a domain belongs (use ip4)", term));
            }
            let domain = optional_domain(arg)?;
            let v4 = cidr(v4, 32, term)?.unwrap_or(32);
            let v6 = cidr(v6, 128, term)?.unwrap_or(128);
            if name == "a" {
                Mechanism::A { domain, v4, v6 }
            } else {
                Mechanism::Mx { domain, v4, v6 }
            }
        }
        "ip4" => {
            if v6.is_some() {
                return Err(err("ip4 takes no IPv6 CIDR length", term));
            }
            let ip = arg
                .filter(|a| is_dotted_quad(a))
                .and_then(|a| a.parse().ok())
                .ok_or_else(|| err("not an IPv4 address", term))?;
            Mechanism::Ip4(ip, cidr(v4, 32, term)?.unwrap_or(32))
        }
        "ip6" => {
            if v6.is_some() {
                return Err(err("ip6 takes one CIDR length", term));
            }
            let ip = arg
                .and_then(|a| a.parse().ok())
                .ok_or_else(|| err("not an IPv6 address", term))?;
            Mechanism::Ip6(ip, cidr(v4, 128, term)?.unwrap_or(128))
        }
        _ => return Err(err("unknown mechanism", term)),
    };
    Ok(Directive {
        qualifier,
        mechanism,
        text: term.to_string(),
    })
}

/// Splits a trailing `SEP` + length (`0` or no leading zero) off `text`.
fn split_cidr<'a>(text: &'a str, sep: &str) -> (&'a str, Option<&'a str>) {
    let Some(at) = text.rfind(sep) else {
        return (text, None);
    };
    let digits = &text[at + sep.len()..];
    let is_length = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    // "//" must not be read as "/" followed by an empty length, nor "a//64" as "/" + "/64".
    if is_length && (sep == "//" || !text[..at].ends_with('/')) {
        (&text[..at], Some(digits))
    } else {
        (text, None)
    }
}

fn cidr(length: Option<&str>, max: u8, term: &str) -> Result<Option<u8>, SyntaxError> {
    match length {
        None => Ok(None),
        Some(digits) => match digits.parse::<u8>() {
            Ok(n) if n <= max => Ok(Some(n)),
            _ => Err(err("CIDR length out of range", term)),
        },
    }
}

/// Four decimal octets without leading zeros, as RFC 7208 §5.6 writes `ip4`.
fn is_dotted_quad(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 3
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
                && p.parse::<u16>().is_ok_and(|n| n <= 255)
        })
}

/// A domain-spec (§7.1): a macro-string that ends in a macro or in `.` and a top label
/// (letters and digits, not all digits, hyphens inside), with an optional final dot.
fn domain_spec(text: &str, term: &str) -> Result<MacroString, SyntaxError> {
    let spec = MacroString::parse(text, false).map_err(|e| err(&e, term))?;
    if spec.ends_in_macro() || ends_in_toplabel(text) {
        Ok(spec)
    } else {
        Err(err("the domain does not end in a valid top label", term))
    }
}

fn ends_in_toplabel(text: &str) -> bool {
    let text = text.strip_suffix('.').unwrap_or(text);
    let Some((_, top)) = text.rsplit_once('.') else {
        return false;
    };
    let b = top.as_bytes();
    let alnum = |c: &u8| c.is_ascii_alphanumeric();
    if b.is_empty() || !b.iter().all(|c| alnum(c) || *c == b'-') {
        return false;
    }
    if b.contains(&b'-') {
        alnum(&b[0]) && alnum(&b[b.len() - 1])
    } else {
        b.iter().any(u8::is_ascii_alphabetic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mech(term: &str) -> Mechanism {
        directive(term).unwrap().mechanism
    }

    #[test]
    fn selects_only_version_1_records() {
        assert!(is_spf_record("v=spf1"));
        assert!(is_spf_record("V=SPF1 -all"));
        assert!(!is_spf_record("v=spf10"));
        assert!(!is_spf_record("v=spf1-all"));
        assert!(!is_spf_record(" v=spf1"));
    }

    #[test]
    fn cidr_lengths_are_read_from_the_end() {
        assert_eq!(
            mech("a/24//64"),
            Mechanism::A {
                domain: None,
                v4: 24,
                v6: 64
            }
        );
        assert_eq!(
            mech("mx//0"),
            Mechanism::Mx {
                domain: None,
                v4: 32,
                v6: 0
            }
        );
        assert_eq!(
            mech("ip4:192.0.2.0/24"),
            Mechanism::Ip4(Ipv4Addr::new(192, 0, 2, 0), 24)
        );
        assert_eq!(mech("ip6:::/0"), Mechanism::Ip6(Ipv6Addr::UNSPECIFIED, 0));
        for bad in [
            "a/33",
            "a//129",
            "ip4:192.0.2.0/024",
            "ip4:192.0.02.1",
            "ip4:192.0.2.0//64",
            "all/8",
            "include:x.example/24",
            "a:1.2.3.4",
            "a:foo.123",
            "a:foo",
            "exists",
            "include",
            "moo",
            "all:x",
        ] {
            assert!(directive(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn modifiers_once_and_syntax_checked() {
        let r = Record::parse("v=spf1 -a redirect=%{d}.x.example foo=bar%%").unwrap();
        assert_eq!(r.directives.len(), 1);
        assert!(r.redirect.is_some());
        assert!(Record::parse("v=spf1 redirect=a.example redirect=b.example").is_err());
        assert!(Record::parse("v=spf1 exp=a.example exp=b.example").is_err());
        assert!(Record::parse("v=spf1 foo=%{x}").is_err());
        assert!(Record::parse("v=spf1 a:ctrl.example\rptr").is_err());
        assert!(Record::parse("v=spf1 a:caf\u{e9}.example").is_err());
    }

    /// Any bytes a TXT record can hold parse to a record or a syntax error, never a panic;
    /// records built from real terms and garbage mixed exercise the term parser.
    mod never_panics {
        use super::super::super::macros::MacroString;
        use super::super::Record;

        const PIECES: &[&str] = &[
            "v=spf1",
            " ",
            "  ",
            "a",
            "mx",
            "ptr",
            "all",
            "include:",
            "exists:",
            "ip4:",
            "ip6:",
            "redirect=",
            "exp=",
            "x-y=",
            "/",
            "//",
            "24",
            "0",
            "128",
            "%{",
            "}",
            "%",
            "%%",
            "%_",
            "%-",
            "d",
            "l",
            "ir",
            "h",
            "p2r",
            ".",
            "-",
            "+",
            "~",
            "?",
            ":",
            "192.0.2.1",
            "::1",
            "example.com",
            "\u{e9}",
            "\r",
            "\t",
            "=",
            "%{d0}",
        ];

        proptest::proptest! {
            #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
            #[test]
            fn parse_any_record(pieces in proptest::collection::vec(0..PIECES.len(), 0..24)) {
                let text: String = pieces.iter().map(|&i| PIECES[i]).collect();
                let _ = Record::parse(&format!("v=spf1 {text}"));
                let _ = MacroString::parse(&text, false);
            }

            #[test]
            fn parse_any_text(text in "\\PC{0,64}") {
                let _ = Record::parse(&text);
                let _ = MacroString::parse(&text, true);
            }
        }
    }

    #[test]
    fn top_labels() {
        assert!(ends_in_toplabel("mail.example.com."));
        assert!(ends_in_toplabel("x.x-1"));
        assert!(!ends_in_toplabel("x.-a"));
        assert!(!ends_in_toplabel("x.123"));
        assert!(!ends_in_toplabel("example"));
    }

    #[test]
    fn a_shared_parse_is_the_parse_and_is_shared() {
        for text in [
            "v=spf1 ip4:192.0.2.0/24 include:_spf.shared-parse.example -all",
            "v=spf1 ip4:192.0.2.300 -all",
        ] {
            let first = parse_shared(text);
            assert_eq!(*first, Record::parse(text), "{text}");
            assert!(Arc::ptr_eq(&first, &parse_shared(text)), "{text}");
        }
        assert!(parse_shared("v=spf1 ip4:192.0.2.300 -all").is_err());
    }
}
