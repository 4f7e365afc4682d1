//! The history CSV of docs/design.md §5 (`--history`): one row per run, so a nightly cron job builds a
//! time series of the repudiated share. The header is written when the file is new or empty.
//!
//! Appending safely: the row is not appended in place. Under the run's output lock
//! (`report::lock`), the old file is read, checked to be a history file (its first line is
//! the header), and written with the new row to a temporary file that is renamed over it —
//! so a killed run leaves either the old history or the new one, never half a row, and two
//! runs cannot lose each other's rows. A history grows by one short line a night, so
//! rewriting it costs nothing worth measuring.

use std::io;
use std::path::Path;
use std::time::SystemTime;

use crate::model::{SpfResult, UtcTime, Verdict};

use super::domains::pct_column;
use super::summary::Totals;
use crate::fileio::guard::Kind;
use crate::fileio::output::{is_renamed_into_place, write_output};
use crate::pairs_file::csv_writer;

/// What `--history` writes, so an existing file of another kind is never extended or
/// replaced (`append` checks the whole header line again under the lock).
pub const KIND: Kind = Kind {
    what: "a repudiate history (first line `run_at,inputs,messages,...`)",
    is_ours: is_history,
    regular_only: false,
};

fn is_history(prefix: &[u8]) -> bool {
    // The first columns: later versions may add columns at the end.
    prefix.starts_with(format!("{},", HEADER[..3].join(",")).as_bytes())
}

pub const HEADER: [&str; 22] = SpfResult::columns_into(
    Verdict::columns_into(
        [
            "run_at",
            "inputs",
            "messages",
            // The verdicts' column names ([`Verdict::column`]), in their order.
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "skipped",
            "repudiated_pct",
            // The SPF results' column names ([`SpfResult::column`]), in their order.
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "period_first",
            "period_last",
            "undated",
        ],
        3,
    ),
    12,
);

/// The columns before the period ones were added (issue 15).
const COLUMNS_BEFORE_PERIOD: usize = 19;

/// The header before the SPF columns were added: such a history is carried on, its old
/// rows given empty SPF cells.
const HEADER_BEFORE_SPF: &str = "run_at,inputs,messages,nonrepudiated,repudiated,no_policy,\
tempfail,permerror,null_sender,unknown,skipped,repudiated_pct";

/// This run's row: `run_at` is when the run started, `inputs` the files read or failed.
pub fn row(run_at: &str, t: &Totals) -> Vec<String> {
    let mut r = vec![
        run_at.to_string(),
        t.inputs().to_string(),
        t.total_messages().to_string(),
    ];
    r.extend(Verdict::ALL.iter().map(|v| t.of(*v).to_string()));
    r.push(t.total_skipped().to_string());
    r.push(pct_column(t.of(Verdict::Repudiated), t.total_messages()));
    r.extend(SpfResult::ALL.iter().map(|s| t.of_spf(*s).to_string()));
    let time = |t: Option<UtcTime>| t.map(UtcTime::rfc3339).unwrap_or_default();
    r.push(time(t.period.first));
    r.push(time(t.period.last));
    r.push(t.period.undated().to_string());
    r
}

/// Appends `row` to the history at `path` (see the module comment for how).
pub fn append(path: &Path, row: &[String]) -> io::Result<()> {
    let old = if is_renamed_into_place(path) {
        read_existing(path)?
    } else {
        Vec::new()
    };
    let header_line = format!("{}\n", HEADER.join(","));
    let old = widen_older(old);
    if !old.is_empty() && !old.starts_with(header_line.as_bytes()) {
        return Err(io::Error::other(format!(
            "{} is not a repudiate history file (its first line is not `{}`); not appending",
            path.display(),
            HEADER.join(",")
        )));
    }
    write_output(Some(path), |out| {
        out.write_all(&old)?;
        if !old.is_empty() && !old.ends_with(b"\n") {
            out.write_all(b"\n")?;
        }
        let mut w = csv_writer(out);
        if old.is_empty() {
            w.write_record(HEADER)?;
        }
        w.write_record(row)?;
        w.flush()
    })
}

/// A history written before the SPF or the period columns: the new header, and each old row
/// given as many empty cells as there are new columns (plain CSV: the history's cells hold
/// no newlines).
fn widen_older(old: Vec<u8>) -> Vec<u8> {
    let before_period = HEADER[..COLUMNS_BEFORE_PERIOD].join(",");
    let older = [
        (HEADER_BEFORE_SPF.to_string(), HEADER.len() - 12),
        (before_period, HEADER.len() - COLUMNS_BEFORE_PERIOD),
    ];
    let Some((rest, added)) = older.iter().find_map(|(header, added)| {
        old.strip_prefix(format!("{header}\n").as_bytes())
            .map(|rest| (rest, *added))
    }) else {
        return old;
    };
    let padding = ",".repeat(added);
    let mut out = format!("{}\n", HEADER.join(",")).into_bytes();
    for line in rest.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        out.extend_from_slice(line);
        out.extend_from_slice(padding.as_bytes());
        out.push(b'\n');
    }
    out
}

fn read_existing(path: &Path) -> io::Result<Vec<u8>> {
    match std::fs::read(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        read => read,
    }
}

/// `2026-11-28T02:15:00Z`: RFC 3339 in UTC to the second, which sorts as text and which
/// spreadsheets read as a date.
pub fn rfc3339_utc(t: SystemTime) -> String {
    UtcTime::of(t).rfc3339()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339_utc(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        // 2000-02-29 (leap day of a century leap year) and 2026-11-28 02:15:07
        let at = |s: u64| rfc3339_utc(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_795_832_107), "2026-11-28T02:15:07Z");
        assert_eq!(at(4_107_542_399), "2100-02-28T23:59:59Z");
    }

    #[test]
    fn header_once_then_rows() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("history.csv");
        let mut t = Totals::default();
        t.messages[Verdict::Repudiated.index()] = 1;
        t.messages[Verdict::NoPolicy.index()] = 3;
        t.inputs_ok = 2;
        append(&path, &row("2026-01-01T00:00:00Z", &t)).unwrap();
        t.messages[Verdict::Repudiated.index()] = 3;
        t.skipped[0] = 5;
        t.spf[Verdict::NoPolicy.index()][SpfResult::Fail.index()] = 2;
        t.spf[Verdict::Repudiated.index()][SpfResult::Fail.index()] = 1;
        t.spf[Verdict::Repudiated.index()][SpfResult::Pass.index()] = 2;
        t.period.cover(
            UtcTime::from_civil(2025, 12, 31, 36_000),
            UtcTime::from_civil(2026, 1, 1, 32_400),
        );
        t.period.absent = 1;
        append(&path, &row("2026-01-02T00:00:00Z", &t)).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "run_at,inputs,messages,nonrepudiated,repudiated,no_policy,tempfail,permerror,null_sender,unknown,skipped,repudiated_pct,\
             spf_pass,spf_fail,spf_softfail,spf_neutral,spf_none,spf_temperror,spf_permerror,\
             period_first,period_last,undated\n\
             2026-01-01T00:00:00Z,2,4,0,1,3,0,0,0,0,0,25.00,0,0,0,0,0,0,0,,,0\n\
             2026-01-02T00:00:00Z,2,6,0,3,3,0,0,0,0,5,50.00,2,3,0,0,0,0,0,\
             2025-12-31T10:00:00Z,2026-01-01T09:00:00Z,1\n"
        );
    }

    #[test]
    fn a_history_from_before_spf_is_carried_on() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("history.csv");
        std::fs::write(
            &path,
            format!("{HEADER_BEFORE_SPF}\n2026-01-01T00:00:00Z,1,4,0,1,3,0,0,0,0,0,25.00\n"),
        )
        .unwrap();
        append(&path, &row("2026-01-02T00:00:00Z", &Totals::default())).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], HEADER.join(","));
        assert_eq!(
            lines[1],
            "2026-01-01T00:00:00Z,1,4,0,1,3,0,0,0,0,0,25.00,,,,,,,,,,"
        );
        assert_eq!(lines[2].split(',').count(), HEADER.len());
        assert_eq!(lines.len(), 3);
    }

    #[test]
    fn a_history_from_before_the_period_is_carried_on() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("history.csv");
        let old_header = HEADER[..COLUMNS_BEFORE_PERIOD].join(",");
        let old_row = "2026-01-01T00:00:00Z,1,4,0,1,3,0,0,0,0,0,25.00,0,1,0,0,3,0,0";
        std::fs::write(&path, format!("{old_header}\n{old_row}\n")).unwrap();
        append(&path, &row("2026-01-02T00:00:00Z", &Totals::default())).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], HEADER.join(","));
        assert_eq!(lines[1], format!("{old_row},,,"));
        assert_eq!(lines[2].split(',').count(), HEADER.len());
    }

    #[test]
    fn an_empty_file_gets_the_header_and_a_foreign_file_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let empty = d.path().join("empty.csv");
        std::fs::write(&empty, "").unwrap();
        append(&empty, &row("x", &Totals::default())).unwrap();
        assert!(
            std::fs::read_to_string(&empty)
                .unwrap()
                .starts_with("run_at,")
        );

        let pairs = d.path().join("pairs.csv");
        std::fs::write(&pairs, "domain,ip,messages\na.example,192.0.2.1,1\n").unwrap();
        let err = append(&pairs, &row("x", &Totals::default())).unwrap_err();
        assert!(
            err.to_string().contains("not a repudiate history file"),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(&pairs).unwrap(),
            "domain,ip,messages\na.example,192.0.2.1,1\n",
            "left alone"
        );
    }
}
