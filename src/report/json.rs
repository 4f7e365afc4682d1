//! `--json FILE`: the run's [`Snapshot`] as one JSON object, for scripts and dashboards that
//! read JSON rather than CSV. The fields are the snapshot's, documented in
//! docs/summary.schema.json (a JSON Schema); a test checks the binary's output against it,
//! field by field. Pretty-printed, so the first line names the format and a file of ours
//! is recognised before it is replaced.

use std::io::{self, Write};

use super::snapshot::{FORMAT, Snapshot};
use crate::fileio::guard::Kind;

/// What `--json` writes, so an existing file of another kind is never replaced.
pub const KIND: Kind = Kind {
    what: "a repudiate JSON summary (beginning `{\"format\": \"repudiate-summary\"`)",
    is_ours: is_summary_json,
    regular_only: false,
};

fn is_summary_json(prefix: &[u8]) -> bool {
    prefix.starts_with(format!("{{\n  \"format\": \"{FORMAT}\",").as_bytes())
}

/// Writes `s` as pretty JSON with a final newline.
pub fn write_json(out: &mut dyn Write, s: &Snapshot) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, s)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::snapshot::tests::{facts, totals};

    #[test]
    fn the_json_begins_with_its_format_and_holds_the_snapshot() {
        let mut out = Vec::new();
        write_json(&mut out, &Snapshot::audit(&totals(), facts(), true)).unwrap();
        assert!(is_summary_json(&out), "{}", String::from_utf8_lossy(&out));
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["verdicts"]["repudiated"]["messages"], 5);
        assert_eq!(v["spf"]["repudiated"]["fail"], 5);
        assert_eq!(v["skipped"]["internal"], 4);
        assert_eq!(v["run_at"], "2026-11-28T02:15:07Z");

        let mut scan = Vec::new();
        write_json(&mut scan, &Snapshot::scan(&totals(), facts(), 42, 7)).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&scan).unwrap();
        assert!(v["verdicts"].is_null() && v["dns"].is_null(), "{v}");
        assert_eq!(v["command"], "scan");
    }

    #[test]
    fn only_our_own_files_are_replaced() {
        assert!(!is_summary_json(b"{\"format\": \"something-else\"}"));
        assert!(!is_summary_json(b"[1, 2]"));
    }
}
