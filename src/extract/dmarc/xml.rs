//! Report XML to rows. Two passes: quick-xml's event reader proves the document well formed
//! and says where it is not (line and column; never repaired by guessing), then serde reads
//! the few fields the pairs need. Both schemas are read by the same structs: RFC 9990 only
//! adds fields (`np`, `testing`, `discovery_method`) and a namespace, and drops `pct`, none
//! of which a pair needs.

use quick_xml::Reader;
use quick_xml::events::Event;
use serde::Deserialize;

use super::{DmarcError, Report, ReportPair, ReportRow};
use crate::model::address::{normalize_address, normalize_domain};
use crate::model::{Sender, SkipReason, UtcTime, When};
use crate::net::parse_ip;

#[derive(Deserialize, Default)]
#[serde(default)]
struct Feedback {
    report_metadata: Option<ReportMetadata>,
    policy_published: Option<PolicyPublished>,
    record: Vec<XmlRecord>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ReportMetadata {
    date_range: Option<DateRange>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DateRange {
    begin: Option<String>,
    end: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PolicyPublished {
    domain: Option<String>,
    adkim: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct XmlRecord {
    row: Option<Row>,
    identifiers: Option<Identifiers>,
    auth_results: Option<AuthResults>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Row {
    source_ip: Option<String>,
    count: Option<String>,
    policy_evaluated: Option<PolicyEvaluated>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PolicyEvaluated {
    dkim: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Identifiers {
    envelope_from: Option<String>,
    header_from: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AuthResults {
    dkim: Vec<AuthResult>,
    spf: Vec<AuthResult>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AuthResult {
    domain: Option<String>,
    result: Option<String>,
}

/// True when the text starts (after a BOM, blanks, the XML declaration and comments) with a
/// `<feedback>` root, with or without a namespace prefix.
pub(super) fn is_feedback_xml(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let mut reader = Reader::from_reader(head);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => {
                return e.local_name().as_ref() == "feedback";
            }
            Ok(Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_)) => {}
            Ok(Event::Text(t)) if t.trim().is_empty() => {}
            _ => return false,
        }
    }
}

/// Parses one report document.
pub fn parse_report(bytes: &[u8]) -> Result<Report, DmarcError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = line_column(bytes, e.valid_up_to());
        DmarcError(format!(
            "line {line}, column {column}: malformed XML: invalid UTF-8"
        ))
    })?;
    check_well_formed(text)?;
    let feedback: Feedback = quick_xml::de::from_str(text)
        .map_err(|e| DmarcError(format!("not a DMARC aggregate report: {e}")))?;
    let strict_dkim = feedback
        .policy_published
        .as_ref()
        .and_then(|p| value(&p.adkim))
        .is_some_and(|a| a.eq_ignore_ascii_case("s"));
    let range = feedback
        .report_metadata
        .as_ref()
        .and_then(|m| m.date_range.as_ref());
    let (begin, end) = match range.map(|r| (value(&r.begin), value(&r.end))) {
        None | Some((None, _)) => (When::Absent, None),
        Some((Some(begin), end)) => match epoch_seconds(begin) {
            Some(b) => (When::At(b), end.and_then(epoch_seconds).filter(|e| *e >= b)),
            None => (When::Unparseable, None),
        },
    };
    Ok(Report {
        begin,
        end,
        policy_domain: feedback
            .policy_published
            .as_ref()
            .and_then(|p| value(&p.domain))
            .map(str::to_owned),
        rows: feedback
            .record
            .iter()
            .map(|r| row(r, strict_dkim))
            .collect(),
    })
}

/// A `date_range` bound: seconds since the epoch (RFC 7489 appendix C).
fn epoch_seconds(text: &str) -> Option<UtcTime> {
    text.trim().parse::<i64>().ok().map(UtcTime)
}

/// Reads every event once: unbalanced or misnamed tags, bad entities, a missing root or
/// text after it are errors naming the line and column where the reader stopped.
fn check_well_formed(text: &str) -> Result<(), DmarcError> {
    let mut reader = Reader::from_str(text);
    let mut open: Vec<String> = Vec::new();
    let mut roots = 0usize;
    let at = |pos: u64, what: String| {
        let (line, column) = line_column(text.as_bytes(), pos as usize);
        DmarcError(format!(
            "line {line}, column {column}: malformed XML: {what}"
        ))
    };
    loop {
        let before = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| at(reader.error_position(), e.to_string()))?;
        match event {
            Event::Start(e) => {
                if open.is_empty() {
                    roots += 1;
                    check_root(roots, e.local_name().as_ref()).map_err(|w| at(before, w))?;
                }
                open.push(e.name().as_ref().to_owned());
            }
            Event::Empty(e) if open.is_empty() => {
                roots += 1;
                check_root(roots, e.local_name().as_ref()).map_err(|w| at(before, w))?;
            }
            Event::End(_) => {
                open.pop();
            }
            Event::Text(t) if open.is_empty() && !t.trim().is_empty() => {
                return Err(at(before, "text outside the root element".into()));
            }
            Event::GeneralRef(r) => {
                let known = matches!(r.as_ref(), "amp" | "lt" | "gt" | "quot" | "apos");
                let char_ok = r.is_char_ref() && matches!(r.resolve_char_ref(), Ok(Some(_)));
                if !known && !char_ok {
                    let name = r.as_ref().to_owned();
                    return Err(at(before, format!("unknown entity &{name};")));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(name) = open.last() {
        return Err(at(
            text.len() as u64,
            format!("the file ends inside <{name}>"),
        ));
    }
    if roots == 0 {
        return Err(at(0, "no root element".into()));
    }
    Ok(())
}

fn check_root(roots: usize, local: &str) -> Result<(), String> {
    if roots > 1 {
        return Err("a second root element".into());
    }
    if local != "feedback" {
        return Err(format!(
            "root element <{}> is not <feedback> (not a DMARC aggregate report)",
            local
        ));
    }
    Ok(())
}

/// 1-based line and column (in bytes) of a byte offset.
fn line_column(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = 1 + memchr::memchr_iter(b'\n', before).count();
    let column = 1 + before.len()
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
    (line, column)
}

/// A trimmed value; only-whitespace counts as absent.
fn value(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The rules of docs/design.md §3 for one record.
fn row(record: &XmlRecord, strict_dkim: bool) -> ReportRow {
    let malformed = ReportRow::Skipped(SkipReason::Malformed);
    let Some(row) = &record.row else {
        return malformed;
    };
    let Some(ip) = value(&row.source_ip).and_then(parse_ip) else {
        return malformed;
    };
    let Some(messages) = value(&row.count).and_then(|c| c.parse::<u64>().ok()) else {
        return malformed;
    };
    let header_from = record
        .identifiers
        .as_ref()
        .and_then(|i| value(&i.header_from));
    let authenticated = if dkim_aligned_pass(record, header_from, strict_dkim) {
        messages
    } else {
        0
    };
    ReportRow::Pair(ReportPair {
        sender: sender(record, header_from),
        ip,
        messages,
        authenticated,
    })
}

/// `envelope_from` when present and non-empty, else the domain of the last SPF result
/// (whatever its scope), else `header_from` — the rule parsedmarc uses.
fn sender(record: &XmlRecord, header_from: Option<&str>) -> Sender {
    let envelope = record
        .identifiers
        .as_ref()
        .and_then(|i| value(&i.envelope_from));
    let last_spf = record
        .auth_results
        .as_ref()
        .and_then(|a| a.spf.last())
        .and_then(|s| value(&s.domain));
    match envelope.or(last_spf).or(header_from) {
        Some(d) if d.contains('@') => normalize_address(d),
        Some(d) => normalize_domain(d),
        None => Sender::Missing,
    }
}

/// DKIM passed aligned with the header-from domain: the receiver's own DMARC evaluation
/// (`policy_evaluated/dkim` = pass) says so, or a DKIM result passed for a domain aligned
/// with `header_from` (strict: equal; relaxed: equal or one a subdomain of the other, which
/// is what organisational-domain alignment gives without a public suffix list, minus
/// sibling subdomains, so it never over-counts).
fn dkim_aligned_pass(record: &XmlRecord, header_from: Option<&str>, strict: bool) -> bool {
    let passed = |r: Option<&str>| r.is_some_and(|r| r.eq_ignore_ascii_case("pass"));
    let evaluated = record
        .row
        .as_ref()
        .and_then(|r| r.policy_evaluated.as_ref())
        .and_then(|p| value(&p.dkim));
    if passed(evaluated) {
        return true;
    }
    let (Some(header_from), Some(auth)) = (header_from, &record.auth_results) else {
        return false;
    };
    let header_from = header_from.trim_end_matches('.').to_ascii_lowercase();
    auth.dkim.iter().any(|d| {
        passed(value(&d.result))
            && value(&d.domain).is_some_and(|d| {
                aligned(
                    &d.trim_end_matches('.').to_ascii_lowercase(),
                    &header_from,
                    strict,
                )
            })
    })
}

fn aligned(dkim: &str, header_from: &str, strict: bool) -> bool {
    // The shorter name must have two labels at least: `com` aligns with nothing.
    let under =
        |a: &str, b: &str| b.contains('.') && a.strip_suffix(b).is_some_and(|p| p.ends_with('.'));
    dkim == header_from || (!strict && (under(dkim, header_from) || under(header_from, dkim)))
}

#[cfg(test)]
mod tests;
