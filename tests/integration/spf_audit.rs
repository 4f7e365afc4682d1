//! SPF in `audit`, end to end through the built binary with a what-if zone, offline: the
//! `spf` column beside each verdict, the reason a pair gives when its result rests on the
//! stand-in sender, `--no-spf`, and the cross-table on standard error.

use crate::support::bin::bin;

const ZONE: &str = "$ORIGIN example.
$TTL 300
@            SOA  ns.example. hostmaster.example. 1 7200 3600 1209600 300
; per-user SPF: only the local part postmaster is listed
lp           TXT  \"v=spf1 exists:%{l}.users.lp.example -all\"
postmaster.users.lp A 127.0.0.2
; plain SPF, and a MAIL-FROM policy beside it that lists another relay
plain        TXT  \"v=spf1 ip4:192.0.2.0/24 -all\"
MAIL-FROM.plain MX 0 relay.plain
relay.plain  A    198.51.100.1
";

fn audit(extra: &[&str]) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let zone = dir.path().join("what-if.zone");
    std::fs::write(&zone, ZONE).unwrap();
    let pairs = dir.path().join("pairs.csv");
    std::fs::write(
        &pairs,
        "domain,ip,messages\nlp.example,192.0.2.1,2\nplain.example,192.0.2.7,3\n<>,192.0.2.9,1\n",
    )
    .unwrap();
    let out = bin()
        .arg("audit")
        .arg(&pairs)
        .arg("--zone")
        .arg(&zone)
        .arg("--offline")
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn the_spf_column_the_stand_in_reason_and_the_cross_table() {
    let (csv, stderr) = audit(&[]);
    assert_eq!(
        csv,
        "domain,ip,messages,verdict,matched,relays,reason,authenticated,spf\n\
         plain.example,192.0.2.7,3,repudiated,,relay.plain.example,,,pass\n\
         lp.example,192.0.2.1,2,no-policy,,,spf: macro needs the sender,,pass\n\
         <>,192.0.2.9,1,null-sender,,,,,\n"
    );
    let table = &stderr[stderr
        .find("MAIL-FROM verdict x SPF result")
        .expect(&stderr)..];
    let line = |first: &str| {
        table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(first))
            .unwrap_or_else(|| panic!("no {first} row: {stderr}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(line("repudiated"), "repudiated 3 0 0 0 0 0 0");
    assert_eq!(line("no-policy"), "no-policy 2 0 0 0 0 0 0");
    assert_eq!(line("all"), "all 5 0 0 0 0 0 0");
}

#[test]
fn no_spf_leaves_the_column_empty_and_asks_nothing_for_it() {
    let (csv, stderr) = audit(&["--no-spf"]);
    assert!(
        csv.lines().skip(1).all(|l| l.ends_with(",,")),
        "every spf cell empty: {csv}"
    );
    assert!(!csv.contains("macro needs the sender"), "{csv}");
    assert!(!stderr.contains("SPF result"), "{stderr}");
    // Only the MAIL-FROM questions reached the zone files: lp's policy, plain's, its relay's
    // address and its relay's own MAIL-FROM name (delegation).
    let zone_row = stderr
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .find(|l| l.starts_with("answered by zone files"));
    assert_eq!(
        zone_row.as_deref(),
        Some("answered by zone files 4"),
        "{stderr}"
    );
}
