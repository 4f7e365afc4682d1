//! `propose` from MTA logs (issue 12, item 4): a relay is named by the name its log
//! recorded when that name's addresses hold it, else synthesized; the proposal then makes
//! the owner's own mail nonrepudiated in an audit of the same log, and not the forger's.

use crate::support::bin::run_ok;

use std::fs;

const OWNER: &str = "owner.example";

/// One postfix message: `client=HOST[IP]`, the sender, and its removal.
fn message(n: usize, host: &str, ip: &str, sender: &str) -> String {
    let qid = format!("{:011X}", 0x3F2A81C0A50 + n);
    format!(
        "Jun  1 19:{m:02}:55 mx postfix/smtpd[10]: {qid}: client={host}[{ip}]\n\
         Jun  1 19:{m:02}:56 mx postfix/qmgr[12]: {qid}: from=<{sender}>, size=1234, nrcpt=1 (queue active)\n\
         Jun  1 19:{m:02}:57 mx postfix/qmgr[12]: {qid}: removed\n",
        m = n % 60
    )
}

#[test]
fn propose_names_relays_by_the_name_their_log_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = String::new();
    let mut n = 0;
    let mut add = |host: &str, ip: &str, sender: &str, count: usize| {
        for _ in 0..count {
            log += &message(n, host, ip, sender);
            n += 1;
        }
    };
    // Named and confirmed by the names zone; named but the name does not hold the relay
    // (DNS changed since); not named at all (postfix's `unknown`); a forger, once.
    add("mail1.relays.example", "192.0.2.1", "a@owner.example", 3);
    add("old.relays.example", "192.0.2.2", "b@owner.example", 2);
    add("unknown", "192.0.2.7", "c@owner.example", 2);
    add("bulk.forger.example", "203.0.113.5", "d@owner.example", 1);
    let log_path = tmp.path().join("mail.log");
    fs::write(&log_path, log).unwrap();
    let names = tmp.path().join("names.zone");
    fs::write(
        &names,
        "$ORIGIN relays.example.\n$TTL 300\nmail1 A 192.0.2.1\nold A 192.0.2.99\n",
    )
    .unwrap();
    let proposal = tmp.path().join("proposal.zone");
    let (log_path, names, proposal) = (
        log_path.to_str().unwrap(),
        names.to_str().unwrap(),
        proposal.to_str().unwrap(),
    );
    run_ok(&[
        "propose",
        log_path,
        "--domain",
        OWNER,
        "--min-messages",
        "2",
        "--offline",
        "--zone",
        names,
        "-o",
        proposal,
    ]);
    let text = fs::read_to_string(proposal).unwrap();
    let targets: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(" MX "))
        .filter_map(|l| l.split_whitespace().last())
        .collect();
    assert_eq!(
        targets,
        vec![
            "mail1.relays.example.",
            "relay-192-0-2-2.mail-from.owner.example.",
            "relay-192-0-2-7.mail-from.owner.example.",
        ],
        "{text}"
    );
    assert!(text.contains("the name its log recorded"), "{text}");
    assert!(!text.contains("203.0.113.5\n"), "{text}");

    let audit = run_ok(&[
        "audit",
        log_path,
        "--zone",
        proposal,
        "--zone",
        names,
        "--offline",
        "-q",
    ]);
    let csv = String::from_utf8(audit.stdout).unwrap();
    let verdict_of = |ip: &str| {
        csv.lines()
            .find(|l| l.starts_with(&format!("{OWNER},{ip},")))
            .and_then(|l| l.split(',').nth(3))
            .unwrap_or_else(|| panic!("no row for {ip}:\n{csv}"))
            .to_string()
    };
    for ip in ["192.0.2.1", "192.0.2.2", "192.0.2.7"] {
        assert_eq!(verdict_of(ip), "nonrepudiated", "{ip}\n{csv}");
    }
    assert_eq!(verdict_of("203.0.113.5"), "repudiated", "{csv}");
}
