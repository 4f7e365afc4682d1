//! journald exports through the built binary (issue 13.2): `journalctl -o json` lines (with
//! a MESSAGE as an array of bytes, as journalctl writes fields holding control characters),
//! the `short-full`, `short-unix` and `with-unit` text forms, all giving the plain log's
//! pairs; `-o cat` refused with a usable `-o` named. Real journal files made by
//! systemd-journal-remote are checked by `scripts/journald-check.sh` in CI.

use crate::support::bin::bin;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

fn scan(path: &Path) -> Output {
    bin().arg("scan").arg(path).output().unwrap()
}

/// The demo log in traditional syslog form (`Jun  4 10:01:00 host ...`), the form the journal
/// exports below are built from. The demo itself is stamped in RFC 3339, so that its dates do
/// not depend on the checkout's file time.
fn demo_log() -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/maillog");
    let iso = fs::read_to_string(p).unwrap();
    iso.lines()
        .map(|line| {
            let (stamp, rest) = line.split_once(' ').unwrap();
            assert!(
                stamp.starts_with("2024-06-"),
                "the demo stays in June 2024: {line}"
            );
            let day: u32 = stamp[8..10].parse().unwrap();
            format!("Jun {day:>2} {} {rest}\n", &stamp[11..19])
        })
        .collect()
}

/// (unix seconds, host, ident, pid, message) of each demo line (June 2024, UTC).
fn parts(line: &str) -> (u64, &str, &str, &str, &str) {
    let (stamp, rest) = line.split_at(15);
    let day: u64 = stamp[4..6].trim().parse().unwrap();
    let clock: Vec<u64> = stamp[7..].split(':').map(|x| x.parse().unwrap()).collect();
    let secs = 1_717_200_000 + (day - 1) * 86_400 + clock[0] * 3600 + clock[1] * 60 + clock[2];
    let rest = rest.trim_start();
    let (host, rest) = rest.split_once(' ').unwrap();
    let (tag, message) = rest.split_once(": ").unwrap();
    let (ident, pid) = tag.trim_end_matches(']').split_once('[').unwrap();
    (secs, host, ident, pid, message)
}

fn date_of(secs: u64) -> String {
    // 1_717_200_000 is 2024-06-01T00:00:00Z, a Saturday; the demo stays in June.
    let day = (secs - 1_717_200_000) / 86_400;
    let weekday = ["Sat", "Sun", "Mon", "Tue", "Wed", "Thu", "Fri"][(day % 7) as usize];
    let s = secs % 86_400;
    format!(
        "{weekday} 2024-06-{:02} {:02}:{:02}:{:02}",
        day + 1,
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

#[test]
fn every_journal_form_gives_the_plain_logs_pairs() {
    let plain = demo_log();
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, text: String| {
        let p = tmp.path().join(name);
        fs::write(&p, text).unwrap();
        p
    };
    // The plain log's stamps have no year: it takes the year of the file's time (the rule of
    // docs/inputs.md), which the journal forms' 2024 dates must then agree with.
    let plain_log = write("plain.log", plain.clone());
    let summer_2024 = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_719_792_000);
    fs::File::options()
        .write(true)
        .open(&plain_log)
        .unwrap()
        .set_modified(summer_2024)
        .unwrap();
    let want = scan(&plain_log);
    assert!(want.status.success());
    let want_csv = String::from_utf8_lossy(&want.stdout).into_owned();
    assert!(want_csv.lines().count() > 2, "{want_csv}");
    let mut forms: Vec<(&str, String)> = vec![
        ("json", String::new()),
        ("short-full", String::new()),
        ("short-unix", String::new()),
        ("with-unit", String::new()),
    ];
    for (i, line) in plain.lines().enumerate() {
        let (secs, host, ident, pid, message) = parts(line);
        let micros = secs * 1_000_000 + i as u64;
        let msg_json = if i == 2 {
            let bytes: Vec<String> = message
                .bytes()
                .chain([7u8])
                .map(|b| b.to_string())
                .collect();
            format!("[{}]", bytes.join(","))
        } else {
            format!("\"{}\"", message.replace('\\', "\\\\").replace('"', "\\\""))
        };
        forms[0].1 += &format!(
            "{{\"__CURSOR\":\"s=1;i={i}\",\"__REALTIME_TIMESTAMP\":\"{micros}\",\"_HOSTNAME\":\"{host}\",\"SYSLOG_IDENTIFIER\":\"{ident}\",\"_PID\":\"{pid}\",\"MESSAGE\":{msg_json}}}\n"
        );
        forms[1].1 += &format!("{} UTC {host} {ident}[{pid}]: {message}\n", date_of(secs));
        forms[2].1 += &format!("{secs}.{:06} {host} {ident}[{pid}]: {message}\n", i);
        let unit = if ident.starts_with("postfix") {
            "postfix@-.service"
        } else {
            ident
        };
        forms[3].1 += &format!("{} UTC {host} {unit}[{pid}]: {message}\n", date_of(secs));
    }
    for (form, text) in forms {
        let out = scan(&write(form, text));
        assert!(
            out.status.success(),
            "{form}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), want_csv, "{form}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr).replace(form, "plain.log"),
            String::from_utf8_lossy(&want.stderr),
            "{form}: the same skipped counts"
        );
    }
}

#[test]
fn cat_output_is_refused_naming_a_usable_form() {
    let cat: String = demo_log()
        .lines()
        .map(|l| format!("{}\n", parts(l).4))
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("cat.txt");
    fs::write(&p, cat).unwrap();
    let out = scan(&p);
    assert_eq!(out.status.code(), Some(1), "the only input failed");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("-o cat") && err.contains("-o short-iso"),
        "{err}"
    );
}
