//! docs/design.md §6 through the built binary: hostile files that must neither crash nor stall a run.
//! A 20 MB header line (in a message and in an mbox, with the child's peak memory measured),
//! 20,000 Received headers, NUL bytes, cut compressed files, an empty file, files that cannot
//! be read even by root, an unrecognised file, and `--strict`. Each failing input is named on
//! standard error with the reason, the other inputs are still read, and the exit code says so.

use crate::support::bin::{bin, stderr, stdout};

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::compress;
use compress::compress;
use repudiate::inputs::decompress::Compression;

/// A good input beside every bad one: two messages from `good.example` via 192.0.2.10.
const GOOD_MBOX: &str = "From a@good.example Tue Jun  4 10:00:00 2024\nReturn-Path: <a@good.example>\nReceived: from m.good.example (m.good.example [192.0.2.10]) by mx.example.net with ESMTP id 1; Tue, 4 Jun 2024 10:00:00 +0000\n\nbody\n\nFrom b@good.example Tue Jun  4 10:00:01 2024\nReturn-Path: <b@good.example>\nReceived: from m.good.example (m.good.example [192.0.2.10]) by mx.example.net with ESMTP id 2; Tue, 4 Jun 2024 10:00:01 +0000\n\nbody\n";
const GOOD_ROW: &str = "good.example,192.0.2.10,2";

/// A postfix log of `n` messages from `log.example` via 198.51.100.7 (queue ids 10000+i).
fn postfix_log(n: usize) -> String {
    (0..n)
        .map(|i| {
            let qid = format!("{:X}", 0x10000 + i);
            format!(
                "Jun  4 10:00:00 mx postfix/smtpd[1]: {qid}: client=m.log.example[198.51.100.7]\n\
                 Jun  4 10:00:01 mx postfix/qmgr[2]: {qid}: from=<u@log.example>, size=1, nrcpt=1 (queue active)\n\
                 Jun  4 10:00:02 mx postfix/qmgr[2]: {qid}: removed\n"
            )
        })
        .collect()
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap();
    path
}

/// Runs `scan -q` on the paths with standard input from `stdin` (or nothing).
fn scan(args: &[&str], paths: &[&Path], stdin: Option<Stdio>) -> Output {
    bin()
        .arg("scan")
        .arg("-q")
        .args(args)
        .args(paths)
        .stdin(stdin.unwrap_or_else(Stdio::null))
        .output()
        .unwrap()
}

/// The `messages` column of the row for `domain,ip`, if the report has one.
fn messages(out: &Output, domain_ip: &str) -> Option<u64> {
    stdout(out).lines().find_map(|l| {
        l.strip_prefix(domain_ip)
            .and_then(|rest| rest.strip_prefix(','))
            .map(|n| n.parse().unwrap())
    })
}

/// Asserts the docs/design.md §6 outcome for a bad input beside a good one: exit 2, the bad file named
/// with `reason` on standard error, the good file's pairs in the report.
fn assert_named_failure(out: &Output, name: &str, reason: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("repudiate: ") && l.contains(name) && l.contains(reason)),
        "{name} with {reason:?} missing from: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(stdout(out).contains(GOOD_ROW), "{}", stdout(out));
}

/// Spawns the command and samples the child's peak resident set (`VmHWM` in
/// `/proc/PID/status`, a high-water mark) every millisecond until it exits. Not `wait4`'s
/// `ru_maxrss`: the child is spawned sharing this test process's memory until its `exec`, and
/// Linux then records this process's own high-water mark (every test of the crate's) as the
/// child's. A peak in the child's last millisecond could be missed; the peaks measured here
/// are reached while the input is read. Returns the exit code, the peak RSS in bytes, and the
/// wall time.
fn run_measured(cmd: &mut Command) -> (Option<i32>, u64, Duration) {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let (mut peak, mut samples) = (0u64, 0u32);
    let status = loop {
        // Until its `exec` the child is a copy of this process (`Name:` is the test
        // binary's) and its high-water mark is this process's: only the program's counts.
        if let Some(kb) = fs::read_to_string(&status_file).ok().and_then(|s| {
            let exec_done = s
                .lines()
                .find_map(|l| l.strip_prefix("Name:"))
                .is_some_and(|n| n.trim() == "repudiate");
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .filter(|_| exec_done)
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        }) {
            peak = peak.max(kb * 1024);
            samples += 1;
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    assert!(samples > 0, "the child's memory was never sampled");
    (status.code(), peak, start.elapsed())
}

const MB: usize = 1 << 20;
/// Generous: the splitter keeps one line and one header block (at most 4 MiB), never the
/// file; reading a 20 MB line whole costs a few times 20 MB at most.
const RSS_LIMIT: u64 = 200 * MB as u64;

fn huge_header_message() -> Vec<u8> {
    let mut m = b"Return-Path: <big@huge.example>\nX-Huge: ".to_vec();
    m.extend(std::iter::repeat_n(b'a', 20 * MB));
    m.extend_from_slice(b"\nReceived: from m (m [192.0.2.99]) by mx with ESMTP id 9; Tue, 4 Jun 2024 10:00:00 +0000\n\nbody\n");
    m
}

/// The limit the tests below set: the 20 MB items are over it, everything else far under.
const LIMIT: &str = "4194304";

#[test]
fn a_20_mb_header_line_is_oversized_and_memory_stays_bounded() {
    let tmp = tempfile::tempdir().unwrap();
    let good = write(tmp.path(), "good.mbox", GOOD_MBOX);
    let eml = write(tmp.path(), "huge.eml", huge_header_message());
    let mut mbox = GOOD_MBOX
        .replace("good.example", "before.example")
        .into_bytes();
    let huge_at = mbox.len() + 1;
    mbox.extend_from_slice(b"\nFrom big@huge.example Tue Jun  4 10:00:00 2024\n");
    mbox.extend(huge_header_message());
    mbox.push(b'\n');
    mbox.extend_from_slice(
        GOOD_MBOX
            .replace("good.example", "after.example")
            .as_bytes(),
    );
    let mbox = write(tmp.path(), "huge.mbox", mbox);

    for (path, kept, at) in [(&eml, 0, 0), (&mbox, 2, huge_at)] {
        // Lenient: the oversized message is skipped and named with its offset; the rest is
        // read.
        let out = bin()
            .args(["scan", "--max-line-bytes", LIMIT])
            .arg(path)
            .arg(&good)
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert!(stdout(&out).contains(GOOD_ROW));
        assert_eq!(
            messages(&out, "after.example,192.0.2.10"),
            Some(kept).filter(|&k| k > 0)
        );
        assert_eq!(
            messages(&out, "huge.example,192.0.2.99"),
            None,
            "oversized is no pair"
        );
        assert!(
            err.lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["oversized", "1"]),
            "{err}"
        );
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(
            err.lines().any(|l| l.starts_with("repudiate: ")
                && l.contains(name)
                && l.contains(&format!(
                    "longer than {LIMIT} bytes skipped as oversized, the first at byte {at}"
                ))),
            "{err}"
        );

        // Strict: the same message is an error naming the file and the offset.
        let out = scan(
            &["--strict", "--max-line-bytes", LIMIT],
            &[path, &good],
            None,
        );
        assert_named_failure(
            &out,
            name,
            &format!("byte {at}: line or header block longer"),
        );

        // The default limit is higher: the same block is read, and the pair counted.
        let out = scan(&[], &[path], None);
        assert_eq!(
            messages(&out, "huge.example,192.0.2.99"),
            Some(1),
            "{}",
            stderr(&out)
        );

        let (code, rss, took) = run_measured(
            bin()
                .args(["scan", "-q", "--max-line-bytes", LIMIT])
                .arg(path),
        );
        eprintln!(
            "{}: peak RSS {} KiB in {took:?}",
            path.display(),
            rss / 1024
        );
        assert_eq!(code, Some(0));
        assert!(
            rss < RSS_LIMIT,
            "{}: peak RSS {} MB",
            path.display(),
            rss / MB as u64
        );
        // The measurement is real: the child did read the file.
        assert!(rss > MB as u64, "{rss}");
        assert!(took < Duration::from_secs(60), "{took:?}");
    }
}

#[test]
fn long_log_and_pairs_lines_are_skipped_with_their_offsets() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = postfix_log(3);
    let at = log.len();
    log.push_str("Jun  1 19:00:55 mx postfix/smtpd[1]: ");
    log.push_str(&"x".repeat(5 * MB));
    log.push('\n');
    log.push_str(&postfix_log(5)[at..]);
    let log = write(tmp.path(), "mail.log", &log);
    let pairs_text = format!(
        "domain,ip,messages\nshort.example,192.0.2.1,4\n{}\nafter.example,192.0.2.2,6\n",
        "y".repeat(5 * MB)
    );
    let pairs = write(tmp.path(), "pairs.csv", &pairs_text);
    let pairs_at = "domain,ip,messages\nshort.example,192.0.2.1,4\n".len();

    for (path, at) in [(&log, at), (&pairs, pairs_at)] {
        let name = path.file_name().unwrap().to_str().unwrap();
        let out = scan(&["--max-line-bytes", LIMIT], &[path], None);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert!(
            err.contains(&format!("{name}: 1 line or header block longer than {LIMIT} bytes skipped as oversized, the first at byte {at}")),
            "{err}"
        );
        let good = write(tmp.path(), "good.mbox", GOOD_MBOX);
        let out = scan(
            &["--strict", "--max-line-bytes", LIMIT],
            &[path, &good],
            None,
        );
        assert_named_failure(
            &out,
            name,
            &format!("byte {at}: line or header block longer"),
        );
    }
    let out = scan(&["--max-line-bytes", LIMIT], &[&log], None);
    assert_eq!(
        messages(&out, "log.example,198.51.100.7"),
        Some(5),
        "the records around it"
    );
    let out = scan(&["--max-line-bytes", LIMIT], &[&pairs], None);
    assert_eq!(messages(&out, "short.example,192.0.2.1"), Some(4));
    assert_eq!(messages(&out, "after.example,192.0.2.2"), Some(6));
}

#[test]
fn limits_of_zero_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let good = write(tmp.path(), "good.mbox", GOOD_MBOX);
    for (flag, value) in [
        ("--max-line-bytes", "0"),
        ("--queue-window", "0"),
        ("--queue-window", "nan"),
    ] {
        let out = scan(&[flag, value], &[&good], None);
        assert_eq!(out.status.code(), Some(1), "{flag} {value}");
        assert!(stderr(&out).contains(flag), "{}", stderr(&out));
    }
}

#[test]
fn twenty_thousand_received_headers_are_walked_in_linear_time() {
    let tmp = tempfile::tempdir().unwrap();
    let mut m = String::from("Return-Path: <deep@deep.example>\n");
    for i in 0..20_000 {
        m.push_str(&format!(
            "Received: from h{i} (h{i} [10.{}.{}.1]) by r{i} with ESMTP id {i}; Tue, 4 Jun 2024 10:00:00 +0000\n",
            i / 250,
            i % 250
        ));
    }
    m.push_str("Received: from edge.deep.example (edge.deep.example [203.0.113.77]) by r with ESMTP id x; Tue, 4 Jun 2024 10:00:00 +0000\n\nbody\n");
    assert!(m.len() > 1_500_000 && m.len() < 4 * MB, "{}", m.len());
    let eml = write(tmp.path(), "deep.eml", &m);
    let start = Instant::now();
    let out = scan(&[], &[&eml], None);
    let took = start.elapsed();
    eprintln!("20,000 Received headers: {took:?}");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        messages(&out, "deep.example,203.0.113.77"),
        Some(1),
        "the one external hop below 20,000 private ones is the client"
    );
    // A debug build walks this in well under a second; quadratic work would take minutes.
    assert!(took < Duration::from_secs(15), "{took:?}");
}

#[test]
fn nul_bytes_in_logs_and_mboxes_are_read_around() {
    let tmp = tempfile::tempdir().unwrap();
    // A log whose writer left a hole of NULs (copytruncate) between records, and NULs inside
    // a line that is not a record.
    let mut log = postfix_log(2).into_bytes();
    log.extend(std::iter::repeat_n(0u8, 3000));
    log.extend_from_slice(
        b"\nJun  4 10:00:00 mx postfix/cleanup[3]: 10009: message-id=<\0\0\0@x>\n",
    );
    log.extend(postfix_log(5).into_bytes());
    let log = write(tmp.path(), "nul.log", log);
    let out = scan(&[], &[&log], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // postfix_log(5) reuses the first two queue ids after their `removed`: 2 + 5 messages.
    assert_eq!(messages(&out, "log.example,198.51.100.7"), Some(7));

    let mut mbox = GOOD_MBOX.as_bytes().to_vec();
    mbox.extend_from_slice(b"\nFrom c@good.example Tue Jun  4 10:00:02 2024\nReturn-Path: <c@good.example>\nX-Nul: a\0b\nReceived: from m.good.example (m.good.example [192.0.2.10]) by mx.example.net with ESMTP id 3; Tue, 4 Jun 2024 10:00:01 +0000\n\n\0\0\0body\0\n");
    let mbox = write(tmp.path(), "nul.mbox", mbox);
    let out = scan(&[], &[&mbox], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(messages(&out, "good.example,192.0.2.10"), Some(3));
}

#[test]
fn a_log_that_starts_with_a_long_run_of_nul_bytes_is_still_a_log() {
    // logrotate's copytruncate: the daemon keeps writing at its old offset, so the new file
    // starts with a hole of NULs as long as the old file, far longer than detection looks.
    let tmp = tempfile::tempdir().unwrap();
    let mut log = vec![0u8; 64 * 1024];
    log.extend(postfix_log(3).into_bytes());
    let log = write(tmp.path(), "holey.log", log);
    let out = scan(&[], &[&log], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Every record is read, the one right after the hole included.
    assert_eq!(messages(&out, "log.example,198.51.100.7"), Some(3));
}

#[test]
fn truncated_compressed_files_are_named_and_keep_what_was_read() {
    let tmp = tempfile::tempdir().unwrap();
    let good = write(tmp.path(), "good.mbox", GOOD_MBOX);
    let log = postfix_log(3000);
    for (kind, c) in [
        ("gz", Compression::Gzip),
        ("zst", Compression::Zstd),
        ("bz2", Compression::Bzip2),
        ("xz", Compression::Xz),
    ] {
        let packed = compress(c, log.as_bytes());
        // Whole, the file reads cleanly...
        let whole = write(tmp.path(), &format!("whole.log.{kind}"), &packed);
        let out = scan(&[], &[&whole], None);
        assert_eq!(out.status.code(), Some(0), "{kind}: {}", stderr(&out));
        assert_eq!(messages(&out, "log.example,198.51.100.7"), Some(3000));
        // ...cut, it is an error naming it, and the good input is still read.
        let name = format!("cut.log.{kind}");
        let cut = write(tmp.path(), &name, &packed[..packed.len() * 2 / 3]);
        let out = scan(&[], &[&cut, &good], None);
        assert_named_failure(&out, &name, "read error");
        let kept = messages(&out, "log.example,198.51.100.7").unwrap_or(0);
        assert!(
            kept < 3000,
            "{kind}: a cut file cannot hold every message: {kept}"
        );
    }
}

#[test]
fn an_empty_file_is_read_as_nothing() {
    // An empty file holds no records: it is read (a freshly rotated log is empty), not an
    // error, so a nightly run over /var/log/mail.log* does not fail on it.
    let tmp = tempfile::tempdir().unwrap();
    let good = write(tmp.path(), "good.mbox", GOOD_MBOX);
    let empty = write(tmp.path(), "empty.log", b"");
    let empty_gz = write(
        tmp.path(),
        "empty.log.1.gz",
        compress(Compression::Gzip, b""),
    );
    let out = scan(&[], &[&empty, &empty_gz, &good], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    assert_eq!(messages(&out, "good.example,192.0.2.10"), Some(2));
    // Alone, it gives an empty report, not a failure.
    let out = scan(&[], &[&empty], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "domain,ip,messages\n");
}

#[cfg(unix)]
#[test]
fn inputs_that_fail_even_for_root_are_named() {
    // CI runs as root, where `chmod 000` stops nothing. These fail for every user: a
    // symlink loop (ELOOP) named directly and met inside a walked folder, and standard input
    // that is a directory (EISDIR on read).
    let tmp = tempfile::tempdir().unwrap();
    let good = write(tmp.path(), "good.mbox", GOOD_MBOX);
    let looped = tmp.path().join("loop.log");
    std::os::unix::fs::symlink(&looped, &looped).unwrap();
    assert!(
        fs::File::open(&looped).is_err(),
        "the loop must fail to open"
    );
    let out = scan(&[], &[&looped, &good], None);
    assert_named_failure(&out, "loop.log", "symbolic links");

    let folder = tmp.path().join("folder");
    fs::create_dir(&folder).unwrap();
    std::os::unix::fs::symlink(folder.join("inner-loop"), folder.join("inner-loop")).unwrap();
    write(
        &folder,
        "fine.mbox",
        GOOD_MBOX.replace("good.example", "folder.example"),
    );
    let out = scan(&[], &[&folder, &good], None);
    assert_named_failure(&out, "inner-loop", "symbolic links");
    assert_eq!(messages(&out, "folder.example,192.0.2.10"), Some(2));

    let dir_as_stdin = fs::File::open(tmp.path()).unwrap();
    let out = scan(
        &[],
        &[Path::new("-"), &good],
        Some(Stdio::from(dir_as_stdin)),
    );
    assert_named_failure(&out, "<stdin>", "Is a directory");
}

#[test]
fn an_unrecognised_file_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let good = write(tmp.path(), "good.mbox", GOOD_MBOX);
    let mut junk = b"%PDF-1.7\n".to_vec();
    junk.extend((0..4000u32).map(|i| (i * 7919 % 251) as u8));
    let junk = write(tmp.path(), "report.pdf", junk);
    let out = scan(&[], &[&junk, &good], None);
    assert_named_failure(&out, "report.pdf", "unrecognised format");
    // Compressed junk is unrecognised after decompression, and said so the same way.
    let packed = write(
        tmp.path(),
        "junk.gz",
        compress(Compression::Gzip, b"\x00\x01binary\x02"),
    );
    let out = scan(&[], &[&packed, &good], None);
    assert_named_failure(&out, "junk.gz", "unrecognised format");
}

#[test]
fn strict_names_the_first_malformed_record_of_each_format() {
    let tmp = tempfile::tempdir().unwrap();
    let good = write(tmp.path(), "good.mbox", GOOD_MBOX);
    let mut log = postfix_log(2);
    log.push_str("Jun  4 10:00:03 mx postfix/smtpd[1]: ABCDE1: client=bad[999.1.2.3]\n");
    log.push_str("Jun  4 10:00:04 mx postfix/smtpd[1]: ABCDE2: client=bad[also.bad]\n");
    let log = write(tmp.path(), "bad.log", log);
    let pairs = write(
        tmp.path(),
        "bad.csv",
        "domain,ip,messages\nok.example,192.0.2.1,1\nok.example,192.0.2.1,many\n",
    );
    let mbox = write(
        tmp.path(),
        "bad.mbox",
        format!(
            "{}\nFrom c@d.example Tue Jun  4 10:00:00 2024\n\nheaderless\n",
            GOOD_MBOX.replace("good.example", "kept.example")
        ),
    );
    // Each error says why the line is malformed, not only where.
    for (path, name, what) in [
        (
            &log,
            "bad.log",
            "line 7: malformed log line (--strict): the client address \"999.1.2.3\" after \
             client= is not an IP address",
        ),
        (
            &pairs,
            "bad.csv",
            "line 3: malformed pairs row (--strict): a row needs a domain, an IP address (or \
             nothing) and a whole number of messages",
        ),
        (
            &mbox,
            "bad.mbox",
            "line 13: malformed message (--strict): its header block holds no header field",
        ),
    ] {
        // Lenient: counted as skipped, exit 0.
        let out = scan(&[], &[path, &good], None);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        let out = scan(&["--strict"], &[path, &good], None);
        assert_named_failure(&out, name, what);
    }
}

#[test]
fn pair_counts_that_would_overflow_saturate() {
    // A pairs file may claim any count; two rows of u64::MAX for one pair once panicked
    // with "attempt to add with overflow" (and would wrap silently in a release build).
    let tmp = tempfile::tempdir().unwrap();
    let max = u64::MAX;
    let a = write(
        tmp.path(),
        "a.csv",
        format!("domain,ip,messages\nbig.example,192.0.2.1,{max}\nbig.example,192.0.2.1,1\n"),
    );
    let b = write(
        tmp.path(),
        "b.csv",
        format!("domain,ip,messages\nbig.example,192.0.2.1,{max}\nother.example,192.0.2.2,{max}\n"),
    );
    let out = bin().arg("scan").arg(&a).arg(&b).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(messages(&out, "big.example,192.0.2.1"), Some(max));
    assert_eq!(messages(&out, "other.example,192.0.2.2"), Some(max));
    assert!(
        stderr(&out).contains(&format!("{max} messages")),
        "{}",
        stderr(&out)
    );
    // Offline, every pair is tempfail: exit 4 (--max-tempfail), its message naming the
    // saturated count; the report and the table are still written.
    let out = bin()
        .args(["audit", "--offline"])
        .arg(&a)
        .arg(&b)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("(offline {max})")),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains(&format!("{max} messages")),
        "{}",
        stderr(&out)
    );
}

/// Found by the `zone_file` fuzz target (fixtures/fuzz/zone_file): a name whose tenth byte
/// falls inside a character — here from SPF's `%{l}` of a non-ASCII local part — made the
/// zone overlay slice text mid-character, and `check` panicked (exit 101).
#[test]
fn a_non_ascii_name_asked_of_a_zone_file_is_answered() {
    let tmp = tempfile::tempdir().unwrap();
    let zone = write(
        tmp.path(),
        "z.zone",
        "$ORIGIN example.\n$TTL 300\n@ SOA ns. host. 1 2 3 4 60\nx TXT \"v=spf1 exists:%{l}.x.example -all\"\n",
    );
    let out = bin()
        .args([
            "check",
            "aaaaaaaaaü@x.example",
            "192.0.2.1",
            "--offline",
            "--zone",
        ])
        .arg(&zone)
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(text.contains("spf:     temperror"), "{text}");
    assert!(text.contains("aaaaaaaaaü.x.example A: offline"), "{text}");
}
