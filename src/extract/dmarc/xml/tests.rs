//! Each rule of docs/design.md §3 "DMARC aggregate reports" against the hand-written fixtures.

use super::*;
use crate::extract::dmarc::{MAX_REPORT_BYTES, read_reports, reports_in_message};

const RULES_7489: &[u8] = include_bytes!("../../../../fixtures/dmarc/rules-rfc7489.xml");
const RULES_9990: &[u8] = include_bytes!("../../../../fixtures/dmarc/rules-rfc9990.xml");

fn pair(domain: &str, ip: &str, messages: u64, authenticated: u64) -> ReportRow {
    ReportRow::Pair(ReportPair {
        sender: Sender::Domain(domain.into()),
        ip: ip.parse().unwrap(),
        messages,
        authenticated,
    })
}

#[test]
fn rfc7489_records_follow_the_domain_ip_and_authentication_rules() {
    let report = parse_report(RULES_7489).unwrap();
    assert_eq!(report.policy_domain.as_deref(), Some("owner.example"));
    let expected = vec![
        pair("bounces.owner.example", "192.0.2.10", 40, 40),
        pair("mail.owner.example", "192.0.2.11", 7, 0),
        pair("last-helo.example", "192.0.2.12", 3, 0),
        pair("owner.example", "198.51.100.20", 5, 5),
        pair("owner.example", "2001:db8::25", 2, 0),
        pair("owner.example", "203.0.113.7", 1, 1),
        pair("owner.example", "203.0.113.99", 5_000_000_000, 0),
        pair("xn--bcher-kva.example", "192.0.2.13", 4, 0),
        ReportRow::Skipped(SkipReason::Malformed),
    ];
    assert_eq!(report.rows, expected);
}

#[test]
fn rfc9990_schema_and_strict_alignment() {
    let report = parse_report(RULES_9990).unwrap();
    assert_eq!(
        report.rows,
        vec![
            pair("bounces.owner.example", "192.0.2.10", 60, 0),
            pair("owner.example", "2001:db8::25", 8, 8),
        ]
    );
}

#[test]
fn packings_give_the_same_reports_as_the_plain_xml() {
    let gz = include_bytes!("../../../../fixtures/dmarc/rules-rfc7489.xml.gz");
    let zip = include_bytes!("../../../../fixtures/dmarc/rules-rfc9990.zip");
    assert_eq!(
        read_reports(gz).unwrap(),
        vec![parse_report(RULES_7489).unwrap()]
    );
    assert_eq!(
        read_reports(zip).unwrap(),
        vec![parse_report(RULES_9990).unwrap()]
    );
}

#[test]
fn every_report_of_a_message_is_read() {
    let eml = include_bytes!("../../../../fixtures/dmarc/two-reports.eml");
    let header_end = eml.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    assert!(crate::extract::dmarc::may_carry_report(&eml[..header_end]));
    let reports = reports_in_message(eml, MAX_REPORT_BYTES).unwrap();
    let rows: Vec<_> = reports.into_iter().flat_map(|r| r.rows).collect();
    assert_eq!(
        rows,
        vec![
            pair("bounces.owner.example", "192.0.2.10", 11, 11),
            pair("owner.example", "198.51.100.66", 6, 0),
        ]
    );
}

#[test]
fn a_plain_message_carries_no_report() {
    let plain = b"From: a@b.example\r\nSubject: hello\r\nContent-Type: text/plain\r\n\r\nhi\r\n";
    assert!(!crate::extract::dmarc::may_carry_report(plain));
    assert_eq!(reports_in_message(plain, MAX_REPORT_BYTES).unwrap(), vec![]);
    let folded = b"Subject: x\r\nContent-Type:\r\n application/zip; name=r.zip\r\n";
    assert!(crate::extract::dmarc::may_carry_report(folded));
}

#[test]
fn a_zip_bomb_is_an_error_naming_the_entry() {
    let bomb = include_bytes!("../../../../fixtures/dmarc/bomb.zip");
    let err = read_reports(bomb).unwrap_err();
    assert!(err.0.contains("zip entry bomb.xml"), "{err}");
    assert!(err.0.contains("more than 64 MiB"), "{err}");
}

#[test]
fn malformed_xml_names_line_and_column() {
    let bad = include_bytes!("../../../../fixtures/dmarc/malformed.xml");
    let err = parse_report(bad).unwrap_err();
    assert!(err.0.starts_with("line 10, column "), "{err}");
    assert!(err.0.contains("malformed XML"), "{err}");
}

#[test]
fn truncated_and_foreign_documents_are_errors() {
    let cut = &RULES_7489[..RULES_7489.len() / 2];
    let err = parse_report(cut).unwrap_err();
    assert!(err.0.contains("malformed XML"), "{err}");
    let other = parse_report(b"<?xml version=\"1.0\"?>\n<rss></rss>").unwrap_err();
    assert!(other.0.contains("not <feedback>"), "{other}");
    let latin1 = parse_report(b"<feedback>\n<x>\xe9</x></feedback>").unwrap_err();
    assert_eq!(latin1.0, "line 2, column 4: malformed XML: invalid UTF-8");
    let entity = parse_report(b"<feedback>&nbsp;</feedback>").unwrap_err();
    assert!(entity.0.contains("unknown entity"), "{entity}");
}

#[test]
fn detection_sees_feedback_roots_only() {
    assert!(is_feedback_xml(
        b"\xef\xbb\xbf<?xml version=\"1.0\"?>\n<!-- c -->\n<feedback>"
    ));
    assert!(is_feedback_xml(b"<dmarc:feedback xmlns:dmarc=\"x\">"));
    assert!(!is_feedback_xml(b"<html>"));
    assert!(!is_feedback_xml(b"From: a@b.example\n"));
}

#[test]
fn line_column_counts_from_one() {
    assert_eq!(line_column(b"ab\ncd", 0), (1, 1));
    assert_eq!(line_column(b"ab\ncd", 4), (2, 2));
}
