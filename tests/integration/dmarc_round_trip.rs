//! DMARC reports through the built binary (issue 12). The domain owner's loop: generate an
//! owner's aggregate reports (every packing: XML, gzip, zip, a message carrying two),
//! `propose` the MAIL-FROM set from them, then `audit` the same reports with the proposal as
//! `--zone`. Every authenticated flow must come out nonrepudiated and every forged one
//! repudiated, offline (synthesized names) and against a DNS server on 127.0.0.1
//! (forward-confirmed reverse names). And bad reports: named, the rest still read.

use crate::support::bin::{bin, run_ok};

use crate::support::dns_server;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use dns_server::{Faults, TestDns};

const OWNER: &str = "owner.example";
/// Relays that send the owner's mail: DKIM-aligned, plus some forwarded copies that fail.
const LEGIT: [&str; 8] = [
    "192.0.2.1",
    "192.0.2.2",
    "192.0.2.3",
    "192.0.2.4",
    "192.0.2.5",
    "192.0.2.6",
    "2001:db8::a1",
    "2001:db8::a2",
];
const FORGERS: usize = 12;
const RECEIVERS: usize = 5;

fn forger(j: usize) -> String {
    format!("203.0.113.{}", j + 1)
}

fn record(ip: &str, count: usize, dkim: &str, envelope_from: Option<&str>) -> String {
    let envelope = envelope_from
        .map(|d| format!("<envelope_from>{d}</envelope_from>"))
        .unwrap_or_default();
    format!(
        "<record><row><source_ip>{ip}</source_ip><count>{count}</count>\
         <policy_evaluated><disposition>none</disposition><dkim>{dkim}</dkim><spf>fail</spf>\
         </policy_evaluated></row><identifiers>{envelope}<header_from>{OWNER}</header_from>\
         </identifiers><auth_results><dkim><domain>{OWNER}</domain><result>{dkim}</result>\
         </dkim><spf><domain>{OWNER}</domain><result>fail</result></spf></auth_results></record>"
    )
}

/// Receiver `r`'s report about the owner's domain.
fn report(r: usize) -> String {
    let mut records = String::new();
    for (i, ip) in LEGIT.iter().enumerate() {
        records += &record(ip, 10 * (i + 1) + r, "pass", Some(OWNER));
        if i % 2 == 0 {
            // A forwarded copy whose signature broke: same relay, not authenticated.
            records += &record(ip, 2, "fail", Some(OWNER));
        }
    }
    for j in 0..FORGERS {
        let envelope = (j % 2 == 0).then_some(OWNER);
        records += &record(&forger(j), j + 1 + r, "fail", envelope);
    }
    // Mail an ESP sends for the owner under its own envelope domain: not the owner's flow.
    records += &record("198.51.100.7", 30, "pass", Some("bounce.esp.example"));
    format!(
        "<?xml version=\"1.0\"?>\n<feedback><report_metadata><org_name>receiver{r}.example\
         </org_name><report_id>rt-{r}</report_id></report_metadata><policy_published>\
         <domain>{OWNER}</domain><p>none</p></policy_published>{records}</feedback>\n"
    )
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zipped(name: &str, data: &[u8]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut w = zip::ZipWriter::new(&mut out);
    w.start_file(name, zip::write::SimpleFileOptions::default())
        .unwrap();
    w.write_all(data).unwrap();
    w.finish().unwrap();
    out.into_inner()
}

fn base64(data: &[u8]) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
        if out.len() % 77 == 76 {
            out.push('\n');
        }
    }
    out
}

/// The owner's reports in every packing, in a fresh folder.
fn write_reports(dir: &Path) -> PathBuf {
    let reports = dir.join("reports");
    fs::create_dir(&reports).unwrap();
    fs::write(reports.join("r0.xml"), report(0)).unwrap();
    fs::write(reports.join("r1.xml.gz"), gz(report(1).as_bytes())).unwrap();
    fs::write(
        reports.join("r2.zip"),
        zipped("r2.xml", report(2).as_bytes()),
    )
    .unwrap();
    let message = format!(
        "Return-Path: <rua@receiver3.example>\nFrom: rua@receiver3.example\n\
         Subject: Report Domain: {OWNER} Submitter: receiver3.example Report-ID: rt-3\n\
         MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\n\
         Content-Type: text/plain\n\nTwo reports.\n--b\nContent-Type: application/zip\n\
         Content-Transfer-Encoding: base64\n\n{}\n--b\nContent-Type: application/gzip\n\
         Content-Transfer-Encoding: base64\n\n{}\n--b--\n",
        base64(&zipped("r3.xml", report(3).as_bytes())),
        base64(&gz(report(4).as_bytes()))
    );
    fs::write(reports.join("r3-r4.eml"), message).unwrap();
    reports
}

/// The owner's rows of an audit CSV: (ip, verdict, authenticated, messages).
fn owner_rows(csv: &str) -> Vec<(String, String, u64, u64)> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (d, ip, m, v, a) = (
        col("domain"),
        col("ip"),
        col("messages"),
        col("verdict"),
        col("authenticated"),
    );
    lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[d] == OWNER)
        .map(|f| {
            (
                f[ip].to_string(),
                f[v].to_string(),
                f[a].parse().unwrap(),
                f[m].parse().unwrap(),
            )
        })
        .collect()
}

/// Every legitimate relay nonrepudiated with its authenticated messages, every forger
/// repudiated with none.
fn assert_loop_closes(csv: &str) {
    let rows = owner_rows(csv);
    assert_eq!(rows.len(), LEGIT.len() + FORGERS, "{csv}");
    // Every receiver's report was read, the two in the message too: 192.0.2.1 sent
    // 10 + r authenticated messages and 2 forwarded ones to each receiver r.
    let authenticated: usize = (0..RECEIVERS).map(|r| 10 + r).sum();
    let first = rows.iter().find(|r| r.0 == "192.0.2.1").unwrap();
    assert_eq!(
        (first.2, first.3),
        (authenticated as u64, (authenticated + 2 * RECEIVERS) as u64)
    );
    for (ip, verdict, authenticated, messages) in &rows {
        if LEGIT.contains(&ip.as_str()) {
            assert_eq!(verdict, "nonrepudiated", "legitimate relay {ip}:\n{csv}");
            assert!(*authenticated > 0 && authenticated <= messages, "{ip}");
        } else {
            assert!(ip.starts_with("203.0.113."), "{ip}");
            assert_eq!(verdict, "repudiated", "forger {ip}:\n{csv}");
            assert_eq!(*authenticated, 0, "{ip}");
        }
    }
}

#[test]
fn offline_propose_then_audit_closes_the_loop() {
    let tmp = tempfile::tempdir().unwrap();
    let reports = write_reports(tmp.path());
    let zone = tmp.path().join("proposal.zone");
    let (reports, zone) = (reports.to_str().unwrap(), zone.to_str().unwrap());
    let proposed = run_ok(&[
        "propose",
        reports,
        "--domain",
        OWNER,
        "--offline",
        "-o",
        zone,
    ]);
    let text = fs::read_to_string(zone).unwrap();
    for ip in LEGIT {
        assert!(
            text.contains(&format!(" {ip}\n")),
            "{ip} has no address record:\n{text}"
        );
    }
    assert!(
        !text.contains("IN A 203.0.113."),
        "a forger is in the proposal:\n{text}"
    );
    let stderr = String::from_utf8_lossy(&proposed.stderr);
    assert!(
        stderr.contains("authenticated") && stderr.contains("(100.0 %)"),
        "{stderr}"
    );
    let audit = run_ok(&["audit", reports, "--zone", zone, "--offline", "-q"]);
    assert_loop_closes(&String::from_utf8(audit.stdout).unwrap());
}

const EXAMPLE_ZONE: &str = "$TTL 300\n@ SOA ns.example. host.example. 1 3600 600 86400 60\n\
@ NS ns.example.\nns A 127.0.0.1\n\
mail1.owner A 192.0.2.1\n\
mail2.owner A 192.0.2.99\n\
owner TXT \"v=spf1 a:out.owner.example ip4:192.0.2.200 include:_spf.esp.example -all\"\n\
out.owner A 192.0.2.30\n";

const REVERSE_ZONE: &str = "$TTL 300\n@ SOA ns.example. host.example. 1 3600 600 86400 60\n\
@ NS ns.example.\n\
1 PTR mail1.owner.example.\n\
2 PTR mail2.owner.example.\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn propose_names_relays_by_forward_confirmed_reverse_dns() {
    let dns = TestDns::start(
        &[
            ("example.", EXAMPLE_ZONE),
            ("2.0.192.in-addr.arpa.", REVERSE_ZONE),
        ],
        Faults::default(),
    )
    .await;
    let ns = dns.addr.to_string();
    let tmp = tempfile::tempdir().unwrap();
    let reports = write_reports(tmp.path());
    let zone = tmp.path().join("proposal.zone");
    let (text, csv) = tokio::task::spawn_blocking(move || {
        let (reports, zone) = (reports.to_str().unwrap(), zone.to_str().unwrap());
        let dns = ["--nameserver", &ns, "--timeout", "1", "--attempts", "1"];
        let mut args = vec![
            "propose",
            reports,
            "--domain",
            OWNER,
            "--from-spf",
            "-o",
            zone,
        ];
        args.extend(dns);
        run_ok(&args);
        let mut args = vec!["audit", reports, "--zone", zone, "-q"];
        args.extend(dns);
        let audit = run_ok(&args);
        (
            fs::read_to_string(zone).unwrap(),
            String::from_utf8(audit.stdout).unwrap(),
        )
    })
    .await
    .unwrap();
    // 192.0.2.1's PTR name resolves back to it; 192.0.2.2's does not (a PTR anyone can set).
    assert!(
        text.contains("MAIL-FROM.owner.example. IN MX 10 mail1.owner.example.\n"),
        "{text}"
    );
    assert!(!text.contains("mail2.owner.example"), "{text}");
    assert!(
        text.contains("relay-192-0-2-2.mail-from.owner.example. IN A 192.0.2.2\n"),
        "{text}"
    );
    assert!(!text.contains("relay-192-0-2-1."), "{text}");
    // --from-spf: the hosts and single addresses SPF authorises, and what it cannot carry.
    assert!(
        text.contains("; authorised by SPF: a:out.owner.example\nMAIL-FROM.owner.example. IN MX 10 out.owner.example.\n"),
        "{text}"
    );
    assert!(
        text.contains("relay-192-0-2-200.mail-from.owner.example. IN A 192.0.2.200\n"),
        "{text}"
    );
    assert!(
        text.contains("left out: include:_spf.esp.example\n"),
        "{text}"
    );
    assert_loop_closes(&csv);
}

/// Bad report input through the binary: `--strict` names the report and record, a zip bomb
/// and malformed XML name the file and where, and the other inputs are still read (exit 2).
#[test]
fn bad_reports_are_named_and_the_rest_is_read() {
    let dmarc = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/dmarc");
    let arg = |name: &str| dmarc.join(name).to_str().unwrap().to_string();
    let out = bin()
        .args(["scan", "--strict", "-q"])
        .args([
            arg("rules-rfc7489.xml.gz"),
            arg("bomb.zip"),
            arg("malformed.xml"),
        ])
        .args([arg("two-reports.eml")])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("rules-rfc7489.xml.gz: report 1, record 9: malformed record (--strict)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("bomb.zip: zip entry bomb.xml decompresses to more than 64 MiB"),
        "{stderr}"
    );
    assert!(
        stderr.contains("malformed.xml: line 10, column 5: malformed XML"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("owner.example,198.51.100.66,6\n"),
        "the message's reports are still read:\n{stdout}"
    );
}

/// `propose -o` replaces only a fragment it wrote itself (docs/design.md §6).
#[test]
fn propose_replaces_only_its_own_fragment() {
    let tmp = tempfile::tempdir().unwrap();
    let reports = write_reports(tmp.path());
    let zone = tmp.path().join("proposal.zone");
    let pairs = tmp.path().join("pairs.csv");
    fs::write(&pairs, "domain,ip,messages\nowner.example,192.0.2.1,1\n").unwrap();
    let propose = |out: &Path| {
        bin()
            .args(["propose", "--domain", OWNER, "--offline", "-q", "-o"])
            .arg(out)
            .arg(&reports)
            .output()
            .unwrap()
    };
    assert!(propose(&zone).status.success());
    let again = propose(&zone);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let refused = propose(&pairs);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("refusing to replace it"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(
        fs::read_to_string(&pairs)
            .unwrap()
            .starts_with("domain,ip,messages\n")
    );
}

/// One proposal for two domains: each section sets its own `$ORIGIN`, so an offline audit
/// with the file judges the second domain's forged flows `repudiated`, as the first's, not
/// `tempfail` (its synthesized relays' own `MAIL-FROM` names are the file's to answer).
#[test]
fn a_proposal_for_two_domains_serves_both_offline() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/dmarc");
    let first = fixtures.join("rules-rfc7489.xml");
    let second = dir.path().join("second.xml");
    let text = std::fs::read_to_string(&first).unwrap();
    std::fs::write(&second, text.replace("owner.example", "second.example")).unwrap();
    let zone = dir.path().join("p.zone");
    let (first, second) = (first.to_str().unwrap(), second.to_str().unwrap());
    let proposed = run_ok(&[
        "propose",
        first,
        second,
        "--domain",
        "owner.example",
        "--domain",
        "second.example",
        "--offline",
        "-q",
        "-o",
        zone.to_str().unwrap(),
    ]);
    assert_eq!(
        proposed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&proposed.stderr)
    );
    let audited = run_ok(&[
        "audit",
        first,
        second,
        "--zone",
        zone.to_str().unwrap(),
        "--offline",
        "-q",
        "--max-tempfail",
        "100",
    ]);
    let csv = String::from_utf8(audited.stdout).unwrap();
    let verdicts = |domain: &str| -> Vec<String> {
        let mut v: Vec<String> = csv
            .lines()
            .filter(|l| l.starts_with(&format!("{domain},")))
            .map(|l| l.split(',').nth(3).unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    for domain in ["owner.example", "second.example"] {
        let v = verdicts(domain);
        assert!(v.contains(&"repudiated".to_string()), "{domain}: {csv}");
        assert!(v.contains(&"nonrepudiated".to_string()), "{domain}: {csv}");
        assert!(!v.contains(&"tempfail".to_string()), "{domain}: {csv}");
    }
}
