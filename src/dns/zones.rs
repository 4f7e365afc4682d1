//! `--zone FILE`: RFC 1035 master files consulted before DNS (docs/design.md §4), so a user can ask
//! "what if these domains published these records?". A name the files hold is answered
//! from them (NODATA for a type they lack); a `MAIL-FROM.<domain>` name inside a loaded
//! origin that the files do not hold is NXDOMAIN ("this domain has no policy"); any other
//! name falls through to the cache and DNS, so a what-if file need not copy relay addresses.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use hickory_proto::rr::{Name, RData};
use hickory_proto::serialize::txt::Parser;

use super::{Answer, Data, Failure, MxTarget, Outcome, QType, Source};

/// CNAME hops followed inside the zone files before giving up.
const MAX_CNAME_HOPS: usize = 8;

#[derive(Debug, Default, Clone)]
struct NameData {
    mx: Option<(Vec<MxTarget>, u32)>,
    /// `mx` sorted, made once at the first question: every answer (and every CNAME leading
    /// here) hands out the same list, so delegations that share it are not copies.
    mx_sorted: OnceLock<Arc<[MxTarget]>>,
    a: Option<(Vec<IpAddr>, u32)>,
    aaaa: Option<(Vec<IpAddr>, u32)>,
    txt: Option<(Vec<String>, u32)>,
    ptr: Option<(Vec<String>, u32)>,
    cname: Option<(String, u32)>,
}

#[derive(Debug, Default)]
pub struct Zones {
    names: HashMap<String, NameData>,
    /// Loaded origins with their negative TTL (the SOA minimum, 0 without an SOA).
    origins: Vec<(String, u32)>,
}

/// What the zone files say about a question.
#[derive(Debug, PartialEq, Eq)]
pub enum ZoneAnswer {
    Answer(Answer),
    /// Not in the files: ask the cache and DNS for this name (after any in-zone CNAMEs).
    FallThrough(String),
}

/// One TXT record as SPF reads it: its character-strings joined with nothing between them
/// (RFC 7208 §3.3), bytes that are not UTF-8 replaced (they make a `permerror` either way).
pub fn txt_text(strings: &[Box<[u8]>]) -> String {
    let joined: Vec<u8> = strings.iter().flat_map(|s| s.iter().copied()).collect();
    String::from_utf8(joined).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Lowercase ASCII without the trailing dot; the root is "". Labels are taken byte for byte
/// when they hold only visible ASCII other than `.` and `\\` (SPF names such as
/// `foo:bar/baz.example` must come back as they were asked, not escaped); otherwise
/// hickory's escaped form is used.
pub fn name_text(name: &Name) -> String {
    // One byte buffer for the whole name, lowercased at the end: it is built for every MX
    // and PTR target of every answer, and a string per label joined afterwards, then a
    // char pushed at a time, were a few percent of an audit's instructions.
    let mut text = Vec::with_capacity(name.len());
    for (i, label) in name.iter().enumerate() {
        if !label
            .iter()
            .all(|&b| b.is_ascii_graphic() && b != b'.' && b != b'\\')
        {
            let s = name.to_lowercase().to_ascii();
            return s.strip_suffix('.').unwrap_or(&s).to_string();
        }
        if i > 0 {
            text.push(b'.');
        }
        text.extend_from_slice(label);
    }
    text.make_ascii_lowercase();
    // Visible ASCII only, so always UTF-8.
    String::from_utf8(text).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

impl Zones {
    pub fn load(paths: &[impl AsRef<Path>]) -> Result<Zones, String> {
        let mut zones = Zones::default();
        for path in paths {
            let path = path.as_ref();
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            zones
                .add_text(&text, Some(path))
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(zones)
    }

    /// Adds one master file's records (it must set `$ORIGIN`).
    pub fn add_text(&mut self, text: &str, path: Option<&Path>) -> Result<(), String> {
        let parser = Parser::new(text, path.map(Path::to_path_buf), None);
        let (origin, rrsets) = parser
            .parse()
            .map_err(|e| super::zone_error::locate(text, path, &e.to_string()))?;
        let mut negative_ttl = 0;
        for (key, rrset) in &rrsets {
            let owner = name_text(&Name::from(key.name.clone()));
            for record in rrset.records_without_rrsigs() {
                let ttl = record.ttl;
                let entry = self.names.entry(owner.clone()).or_default();
                match &record.data {
                    RData::MX(mx) => {
                        entry.mx_sorted = OnceLock::new();
                        push(&mut entry.mx, ttl).push(MxTarget {
                            preference: mx.preference,
                            exchange: name_text(&mx.exchange),
                        })
                    }
                    RData::A(a) => push(&mut entry.a, ttl).push(IpAddr::V4(a.0)),
                    RData::AAAA(aaaa) => {
                        push(&mut entry.aaaa, ttl).push(crate::net::canonical(IpAddr::V6(aaaa.0)))
                    }
                    RData::TXT(txt) => push(&mut entry.txt, ttl).push(txt_text(&txt.txt_data)),
                    RData::PTR(p) => push(&mut entry.ptr, ttl).push(name_text(&p.0)),
                    RData::CNAME(c) => entry.cname = Some((name_text(&c.0), ttl)),
                    RData::SOA(soa) => negative_ttl = soa.minimum.min(ttl),
                    _ => {}
                }
            }
        }
        self.origins.push((name_text(&origin), negative_ttl));
        // A file may change `$ORIGIN` part way (a proposal for several domains does): each
        // absolute origin it names speaks for its names too.
        for later in text.lines().filter_map(later_origin) {
            if !self.origins.iter().any(|(o, _)| *o == later) {
                self.origins.push((later, negative_ttl));
            }
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty() && self.origins.is_empty()
    }

    pub fn answer(&self, name: &str, qtype: QType) -> ZoneAnswer {
        if self.is_empty() {
            return ZoneAnswer::FallThrough(name.to_string());
        }
        let mut current = name.to_string();
        for _ in 0..=MAX_CNAME_HOPS {
            let Some(data) = self.names.get(&current) else {
                return match self.origin_of(&current) {
                    Some(neg_ttl) if is_mail_from_name(&current) => {
                        answer(Outcome::NxDomain, neg_ttl)
                    }
                    _ => ZoneAnswer::FallThrough(current),
                };
            };
            let found = match qtype {
                QType::Mx => data.mx.as_ref().map(|(v, t)| {
                    let list = data.mx_sorted.get_or_init(|| sorted(v));
                    (Data::Mx(list.clone()), *t)
                }),
                QType::A => data.a.as_ref().map(|(v, t)| (Data::Addrs(v.clone()), *t)),
                QType::Aaaa => data
                    .aaaa
                    .as_ref()
                    .map(|(v, t)| (Data::Addrs(v.clone()), *t)),
                QType::Txt => data.txt.as_ref().map(|(v, t)| (Data::Txt(v.clone()), *t)),
                QType::Ptr => data.ptr.as_ref().map(|(v, t)| (Data::Ptr(v.clone()), *t)),
            };
            if let Some((d, ttl)) = found {
                return answer(Outcome::Found(d), ttl);
            }
            match &data.cname {
                Some((target, _)) => current = target.clone(),
                None => return answer(Outcome::NoData, self.origin_of(&current).unwrap_or(0)),
            }
        }
        ZoneAnswer::Answer(Answer::failed(
            Failure::BadAnswer(format!(
                "CNAME chain from {name} longer than {MAX_CNAME_HOPS}"
            )),
            Source::Zone,
        ))
    }

    /// The negative TTL of the longest loaded origin containing `name`.
    fn origin_of(&self, name: &str) -> Option<u32> {
        self.origins
            .iter()
            .filter(|(o, _)| is_within(name, o))
            .max_by_key(|(o, _)| o.len())
            .map(|(_, ttl)| *ttl)
    }
}

/// The name of an absolute `$ORIGIN` directive (`$ORIGIN MAIL-FROM.b.example.`), lowercase
/// without the trailing dot; relative ones are left to the parser's first origin.
fn later_origin(line: &str) -> Option<String> {
    let rest = line.trim_start().strip_prefix("$ORIGIN")?;
    let name = rest.split(';').next()?.trim();
    let absolute = name.strip_suffix('.')?;
    (!absolute.is_empty() && !absolute.contains(char::is_whitespace))
        .then(|| absolute.to_ascii_lowercase())
}

/// `name` equals `origin` or lies below it (label-wise: `xexample` is not below `example`).
fn is_within(name: &str, origin: &str) -> bool {
    origin.is_empty()
        || name == origin
        || (name.len() > origin.len()
            && name.ends_with(origin)
            && name.as_bytes()[name.len() - origin.len() - 1] == b'.')
}

fn push<T>(slot: &mut Option<(Vec<T>, u32)>, ttl: u32) -> &mut Vec<T> {
    let (v, t) = slot.get_or_insert_with(|| (Vec::new(), ttl));
    *t = (*t).min(ttl);
    v
}

fn sorted(v: &[MxTarget]) -> Arc<[MxTarget]> {
    let mut v = v.to_vec();
    v.sort();
    v.into()
}

fn answer(outcome: Outcome, ttl: u32) -> ZoneAnswer {
    ZoneAnswer::Answer(Answer {
        outcome,
        ttl,
        source: Source::Zone,
    })
}

/// Compared as bytes: a name asked for may hold non-ASCII characters (SPF macros expand a
/// sender's local part), and byte 10 need not be a character boundary.
fn is_mail_from_name(name: &str) -> bool {
    let name = name.as_bytes();
    name.len() > 10 && name[..10].eq_ignore_ascii_case(b"mail-from.")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZONE: &str = "$ORIGIN example.\n$TTL 300\n@ SOA ns. host. 1 2 3 4 60\nMAIL-FROM.one MX 10 relay.one\n MX 0 relay2.one\nrelay.one A 192.0.2.1\nrelay2.one A 192.0.2.2\n AAAA 2001:db8::2\nalias.one CNAME relay.one\nout CNAME relay.elsewhere.test.\nloop1 CNAME loop2\nloop2 CNAME loop1\nMAIL-FROM.nodata TXT \"x\"\nspf TXT \"v=spf1 \" \"-all\"\n TXT \"other\"\n4.2.0.192.in-addr.arpa. PTR Relay.One.example.\n";

    fn zones() -> Zones {
        let mut z = Zones::default();
        z.add_text(ZONE, None).unwrap();
        z
    }

    fn outcome(z: &Zones, name: &str, t: QType) -> Outcome {
        match z.answer(name, t) {
            ZoneAnswer::Answer(a) => a.outcome,
            other => panic!("{name}: {other:?}"),
        }
    }

    #[test]
    fn names_are_lowercase_without_the_dot_and_escaped_only_when_they_must_be() {
        let name = |labels: &[&[u8]]| Name::from_labels(labels.iter().copied()).unwrap();
        assert_eq!(
            name_text(&name(&[b"Relay", b"One", b"EXAMPLE"])),
            "relay.one.example"
        );
        assert_eq!(name_text(&Name::root()), "");
        // SPF macro output: visible ASCII other than `.` and `\\` comes back as it was.
        assert_eq!(
            name_text(&name(&[b"Foo:Bar/baz=", b"example"])),
            "foo:bar/baz=.example"
        );
        // A space or a dot inside a label: hickory's escaped form, lowercase.
        assert_eq!(name_text(&name(&[b"A B", b"example"])), "a\\040b.example");
        assert_eq!(name_text(&name(&[b"a.b", b"Example"])), "a\\.b.example");
    }

    #[test]
    fn answers_records_sorted_by_preference() {
        let z = zones();
        assert_eq!(
            outcome(&z, "mail-from.one.example", QType::Mx),
            Outcome::Found(Data::Mx(Arc::from(vec![
                MxTarget {
                    preference: 0,
                    exchange: "relay2.one.example".into()
                },
                MxTarget {
                    preference: 10,
                    exchange: "relay.one.example".into()
                },
            ])))
        );
        assert_eq!(
            outcome(&z, "relay.one.example", QType::A),
            Outcome::Found(Data::Addrs(vec!["192.0.2.1".parse().unwrap()]))
        );
        assert_eq!(
            outcome(&z, "alias.one.example", QType::A),
            Outcome::Found(Data::Addrs(vec!["192.0.2.1".parse().unwrap()]))
        );
    }

    #[test]
    fn txt_strings_are_joined_and_ptr_names_normalised() {
        let z = zones();
        assert_eq!(
            outcome(&z, "spf.example", QType::Txt),
            Outcome::Found(Data::Txt(vec!["v=spf1 -all".into(), "other".into()]))
        );
        assert_eq!(
            outcome(&z, "4.2.0.192.in-addr.arpa", QType::Ptr),
            Outcome::Found(Data::Ptr(vec!["relay.one.example".into()]))
        );
        assert_eq!(outcome(&z, "spf.example", QType::Ptr), Outcome::NoData);
    }

    #[test]
    fn nxdomain_nodata_and_fall_through() {
        let z = zones();
        assert_eq!(
            outcome(&z, "mail-from.absent.example", QType::Mx),
            Outcome::NxDomain
        );
        assert_eq!(
            outcome(&z, "mail-from.nodata.example", QType::Mx),
            Outcome::NoData
        );
        assert_eq!(
            outcome(&z, "relay.one.example", QType::Aaaa),
            Outcome::NoData
        );
        assert_eq!(
            z.answer("relay.absent.example", QType::A),
            ZoneAnswer::FallThrough("relay.absent.example".into())
        );
        assert_eq!(
            z.answer("mail-from.other.test", QType::Mx),
            ZoneAnswer::FallThrough("mail-from.other.test".into())
        );
        assert_eq!(
            z.answer("out.example", QType::A),
            ZoneAnswer::FallThrough("relay.elsewhere.test".into())
        );
        assert!(matches!(
            outcome(&z, "loop1.example", QType::A),
            Outcome::Failed(Failure::BadAnswer(_))
        ));
    }

    /// A file that changes `$ORIGIN` (a proposal for two domains) speaks for both origins:
    /// a `MAIL-FROM` name under the second that the file lacks has no policy.
    #[test]
    fn every_absolute_origin_of_a_file_is_held() {
        let text = "$TTL 60\n$ORIGIN MAIL-FROM.a.example.\n@ MX 0 r1\nr1 A 192.0.2.1\n\
                    $ORIGIN MAIL-FROM.b.example. ; the second domain\n@ MX 0 r2\nr2 A 192.0.2.2\n";
        let mut z = Zones::default();
        z.add_text(text, None).unwrap();
        assert_eq!(
            outcome(&z, "mail-from.r2.mail-from.b.example", QType::Mx),
            Outcome::NxDomain
        );
        assert_eq!(
            outcome(&z, "r2.mail-from.b.example", QType::A),
            Outcome::Found(Data::Addrs(vec!["192.0.2.2".parse().unwrap()]))
        );
        assert_eq!(
            z.answer("mail-from.c.example", QType::Mx),
            ZoneAnswer::FallThrough("mail-from.c.example".into())
        );
        assert_eq!(later_origin("$ORIGIN relative"), None);
    }

    #[test]
    fn origin_containment_is_label_wise() {
        assert!(is_within("mail-from.a.example", "example"));
        assert!(is_within("example", "example"));
        assert!(!is_within("mail-from.xexample", "example"));
        assert!(is_within("anything", ""));
    }

    #[test]
    fn missing_origin_is_an_error() {
        let mut z = Zones::default();
        assert!(z.add_text("$TTL 1\nfoo A 192.0.2.1\n", None).is_err());
    }

    #[test]
    fn names_that_are_not_ascii_are_asked_without_a_panic() {
        let z = zones();
        // Byte 10 falls inside the `ü`: slicing the text there panicked (found by fuzzing).
        for name in ["aaaaaaaaaü.one.example", "mail-fromü.one.example", "ü"] {
            for t in [QType::Mx, QType::A, QType::Txt] {
                assert!(
                    matches!(z.answer(name, t), ZoneAnswer::FallThrough(_)),
                    "{name}"
                );
            }
        }
        assert!(is_mail_from_name("MAIL-FROM.ü.example"));
        assert!(!is_mail_from_name("mail-fromü"));
    }

    /// Every input the fuzzer found a crash with (fixtures/fuzz/zone_file) is loaded and every
    /// name it mentions asked, as the `zone_file` target does.
    #[test]
    fn fuzz_regressions_replay() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/fuzz/zone_file");
        let mut replayed = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            let mut z = Zones::default();
            if z.add_text(&text, None).is_ok() {
                for token in text.split_whitespace() {
                    let name = token.trim_end_matches('.').to_ascii_lowercase();
                    for t in [QType::Mx, QType::A, QType::Aaaa, QType::Txt, QType::Ptr] {
                        let _ = z.answer(&name, t);
                        let _ = z.answer(&format!("mail-from.{name}"), t);
                    }
                }
            }
            replayed += 1;
        }
        assert!(replayed > 0, "no regression input in {dir}");
    }
}
