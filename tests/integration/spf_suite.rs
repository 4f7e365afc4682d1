//! The RFC 7208 test suite through the built binary over real sockets: each scenario's DNS
//! data served by the in-process server on 127.0.0.1 (a `TIMEOUT` entry becomes a server
//! that never answers that question), each test run as `repudiate check SENDER IP --helo H
//! --format csv`, and the `spf` column required to be one of the results the suite lists.
//!
//! Why, beside the unit test through a fake lookup: this one goes through hickory-resolver,
//! the run cache and the real TXT/PTR wire formats (long records split into strings, escapes,
//! bytes that are not ASCII), where a fake cannot be wrong the way a resolver can.

use crate::support::bin::bin;

use crate::support::{dns_server, spf_suite as suite};

use std::fmt::Write as _;

use dns_server::{Fault, Faults, TestDns};
use hickory_proto::rr::rdata::{A, MX, TXT};
use hickory_proto::rr::{Name, RData, Record};
use suite::{Rec, Scenario};

/// Record types SPF asks for; a `TIMEOUT` makes each that no record precedes time out.
const TYPES: [&str; 5] = ["TXT", "A", "AAAA", "MX", "PTR"];

fn rec_type(r: &Rec) -> &'static str {
    match r {
        Rec::Timeout => "TIMEOUT",
        Rec::A(_) => "A",
        Rec::Aaaa(_) => "AAAA",
        Rec::Txt(_) => "TXT",
        Rec::Mx(..) => "MX",
        Rec::Ptr(_) => "PTR",
        Rec::Cname(_) => "CNAME",
    }
}

/// Whether hickory's master-file parser takes `name` (it refuses `:` and `/`, which DNS
/// carries and the suite uses): such names are served as records built here instead.
fn writable(name: &str) -> bool {
    name.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// A name in master-file syntax: absolute.
fn master_name(name: &str) -> String {
    if name.is_empty() {
        return ".".into();
    }
    format!("{name}.")
}

fn wire_name(name: &str) -> Name {
    Name::from_labels(name.split('.').filter(|l| !l.is_empty()).map(str::as_bytes)).unwrap()
}

/// TXT data: character-strings of at most 255 bytes, quoted; `"` and `\` escaped, every other
/// character (control characters and non-ASCII too) written as it is, which hickory's lexer
/// keeps inside quotes.
fn master_txt(text: &str) -> String {
    if text.is_empty() {
        return "\"\"".into();
    }
    let mut out = Vec::new();
    let mut piece = String::from("\"");
    let mut bytes = 0;
    for c in text.chars() {
        if bytes + c.len_utf8() > 255 {
            piece.push('"');
            out.push(std::mem::replace(&mut piece, String::from("\"")));
            bytes = 0;
        }
        if c == '"' || c == '\\' {
            piece.push('\\');
        }
        piece.push(c);
        bytes += c.len_utf8();
    }
    piece.push('"');
    out.push(piece);
    out.join(" ")
}

/// The scenario as one root zone, the records it cannot hold, and the timeouts as faults.
fn served(scenario: &Scenario) -> (String, Vec<Record>, Faults) {
    let mut zone =
        String::from("$TTL 300\n. SOA ns.invalid. hostmaster.invalid. 1 3600 600 86400 300\n");
    let mut extra = Vec::new();
    let mut faults = Faults::default();
    for (name, records) in &scenario.zone {
        let cut = records.iter().position(|r| *r == Rec::Timeout);
        let before = &records[..cut.unwrap_or(records.len())];
        if cut.is_some() {
            for t in TYPES {
                if !before.iter().any(|r| rec_type(r) == t) {
                    faults = faults.with(name, Some(t), Fault::Blackhole);
                }
            }
        }
        for rec in before {
            let target = match rec {
                Rec::Mx(_, n) | Rec::Ptr(n) | Rec::Cname(n) => n.as_str(),
                _ => "",
            };
            if !writable(name) || !writable(target) {
                let rdata = match rec {
                    Rec::Mx(p, x) => RData::MX(MX::new(*p, wire_name(x))),
                    Rec::A(a) => RData::A(A(a.parse().unwrap())),
                    Rec::Txt(t) => RData::TXT(TXT::new(vec![t.clone()])),
                    other => panic!("{name}: cannot serve {other:?}"),
                };
                extra.push(Record::from_rdata(wire_name(name), 300, rdata));
                continue;
            }
            let data = match rec {
                Rec::Timeout => unreachable!(),
                Rec::A(a) | Rec::Aaaa(a) => a.clone(),
                Rec::Txt(t) => master_txt(t),
                Rec::Mx(p, x) => format!("{p} {}", master_name(x)),
                Rec::Ptr(n) | Rec::Cname(n) => master_name(n),
            };
            writeln!(zone, "{} {} {data}", master_name(name), rec_type(rec)).unwrap();
        }
    }
    (zone, extra, faults)
}

fn check(srv: &TestDns, sender: &str, ip: &str, helo: &str) -> Result<String, String> {
    let sender = if sender.is_empty() { "<>" } else { sender };
    let out = bin()
        .args(["check", sender, ip, "--helo", helo, "--format", "csv"])
        .args(["--nameserver", &srv.addr.to_string()])
        .args(["--timeout", "0.3", "--attempts", "1"])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "exit {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let header = reader.headers().map_err(|e| e.to_string())?.clone();
    let column = header
        .iter()
        .position(|h| h == "spf")
        .ok_or("no spf column")?;
    let rows: Vec<csv::StringRecord> = reader
        .records()
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let first = rows.first().ok_or("no rows")?[column].to_string();
    if rows.iter().any(|r| r[column] != first) {
        return Err("the spf column differs between rows".into());
    }
    Ok(first)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc7208_suite_through_the_binary_over_sockets() {
    let mut failures = Vec::new();
    let mut run = 0;
    for scenario in suite::load() {
        let (zone, extra, faults) = served(&scenario);
        let srv = TestDns::start_with_records(&[(".", &zone)], extra, faults).await;
        for case in scenario.cases.clone() {
            let srv_ref = &srv;
            // The binary blocks; the server needs this runtime's workers to answer it.
            let got = tokio::task::block_in_place(|| {
                check(srv_ref, &case.mailfrom, &case.host, &case.helo)
            });
            run += 1;
            match got {
                Ok(spf) if case.results.contains(&spf) => {}
                other => failures.push(format!(
                    "{} ({}): got {other:?}, want {:?}",
                    case.name, scenario.description, case.results
                )),
            }
        }
        srv.stop().await;
    }
    assert!(run >= 200, "only {run} tests in the suite");
    assert!(
        failures.is_empty(),
        "{} of {run} suite tests failed over sockets:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
