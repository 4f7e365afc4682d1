//! DMARC aggregate reports as inputs: a report file (XML, gzip undone before detection,
//! zip), a message that delivers reports, and an mbox of such messages. Report rows become
//! pairs with their authenticated counts; a message that delivers reports is not itself a
//! pair. Each input is read whole, up to [`MAX_REPORT_BYTES`].

use std::io::{self, BufRead, Read};

use crate::aggregate::Tally;
use crate::extract::dmarc::{
    self, MAX_REPORT_BYTES, Report, ReportRow, may_carry_report, reports_in_message,
};
use crate::extract::{dated, message};
use crate::model::{PairKey, Record, SkipReason, When};

use super::{ReadOptions, Said, Setting, mbox};

/// Why reading reports stopped; the caller adds the input's name.
pub(super) type ReportError = Said;

/// A report file: every report in it (a zip may hold several).
pub(super) fn read_report_file(
    reader: impl Read,
    opts: &ReadOptions,
    tally: &mut Tally,
) -> Result<(), ReportError> {
    let bytes = read_capped(reader, "the report")?;
    let reports = dmarc::read_reports(&bytes).map_err(|e| e.to_string())?;
    add_reports(&reports, opts, tally, "")
}

/// The message whose header block is `header` (then the blank line `blank`, then `rest`):
/// `Ok(true)` when it delivered reports and they were added, `Ok(false)` when it carries
/// none (it is then an ordinary message).
pub(super) fn read_report_message(
    header: &[u8],
    blank: &[u8],
    rest: impl Read,
    opts: &ReadOptions,
    tally: &mut Tally,
    at: &str,
) -> Result<bool, ReportError> {
    if !may_carry_report(header) {
        return Ok(false);
    }
    let mut whole = Vec::with_capacity(header.len() + blank.len());
    whole.extend_from_slice(header);
    whole.extend_from_slice(blank);
    let limit = MAX_REPORT_BYTES.saturating_sub(whole.len() as u64);
    rest.take(limit.saturating_add(1))
        .read_to_end(&mut whole)
        .map_err(|e| format!("{at}read error: {e}"))?;
    if whole.len() as u64 > MAX_REPORT_BYTES {
        return Err(too_large(&format!("{at}the message")));
    }
    let reports = reports_in_message(&whole, MAX_REPORT_BYTES).map_err(|e| format!("{at}{e}"))?;
    if reports.is_empty() {
        return Ok(false);
    }
    add_reports(&reports, opts, tally, at)?;
    Ok(true)
}

/// An mbox whose messages deliver reports, read message by message in full: messages that
/// carry reports add their rows, the others are extracted as in any mbox.
pub(super) fn read_report_mailbox(
    mut reader: impl BufRead,
    opts: &ReadOptions,
    tally: &mut Tally,
) -> Result<(), ReportError> {
    let mut message: Vec<u8> = Vec::new();
    let mut envelope: Option<(String, u64)> = None;
    let mut line = Vec::new();
    let mut number = 0u64;
    let mut prev_blank = true;
    loop {
        line.clear();
        // No line may hold more than the message may: memory stays bounded by the cap.
        let room = MAX_REPORT_BYTES.saturating_sub(message.len() as u64);
        let n = (&mut reader)
            .take(room.saturating_add(1))
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("line {}: read error: {e}", number + 1))?;
        number += 1;
        let starts = n == 0 || (prev_blank && mbox::is_separator(&line));
        if starts {
            if let Some((sender, at)) = envelope.take() {
                mailbox_message(&message, &sender, at, opts, tally)?;
            } else if message.iter().any(|b| !b.is_ascii_whitespace()) {
                tally.add(Record::Skipped(SkipReason::Malformed));
            }
            message.clear();
            if n == 0 {
                return Ok(());
            }
            envelope = Some((mbox::envelope_sender(&line), number));
        } else {
            if message.len() + line.len() > MAX_REPORT_BYTES as usize {
                return Err(too_large(&format!("line {number}: the message")));
            }
            // mboxrd quoting is undone; base64 and XML never start a line with `>From `.
            let unquoted = match line.iter().position(|&b| b != b'>') {
                Some(k) if k > 0 && line[k..].starts_with(b"From ") => &line[1..],
                _ => &line[..],
            };
            message.extend_from_slice(unquoted);
        }
        prev_blank = matches!(&line[..], b"\n" | b"\r\n");
    }
}

/// One message of a report mailbox (its `From ` line at line `at`).
fn mailbox_message(
    message: &[u8],
    sender: &str,
    at: u64,
    opts: &ReadOptions,
    tally: &mut Tally,
) -> Result<(), ReportError> {
    let end = header_end(message);
    let (header, rest) = message.split_at(end);
    let context = format!("line {at}: ");
    if !read_report_message(header, b"", rest, opts, tally, &context)? {
        let header = &header[..header.len().min(mbox::MAX_HEADER_BYTES)];
        let record = message::extract(header, Some(sender), &opts.extract);
        let when = match record {
            Record::Observed(_) => dated::message_date(header, When::Absent),
            _ => When::Absent,
        };
        tally.add_at(record, when);
    }
    Ok(())
}

/// Where the header block ends (the blank line stays with the body).
fn header_end(message: &[u8]) -> usize {
    if message.starts_with(b"\n") || message.starts_with(b"\r\n") {
        return 0;
    }
    [&b"\n\n"[..], b"\n\r\n"]
        .iter()
        .filter_map(|sep| memchr::memmem::find(message, sep).map(|p| p + 1))
        .min()
        .unwrap_or(message.len())
}

fn add_reports(
    reports: &[Report],
    opts: &ReadOptions,
    tally: &mut Tally,
    at: &str,
) -> Result<(), ReportError> {
    for (r, report) in reports.iter().enumerate() {
        if let (When::At(begin), Some(end)) = (report.begin, report.end)
            && report
                .rows
                .iter()
                .any(|row| matches!(row, ReportRow::Pair(_)))
        {
            tally.period.cover(begin, end);
        }
        for (i, row) in report.rows.iter().enumerate() {
            match row {
                ReportRow::Pair(p) => tally.add_evidenced_pair(
                    PairKey {
                        sender: p.sender.clone(),
                        ip: Some(p.ip),
                    },
                    p.messages,
                    p.authenticated,
                    report.begin,
                ),
                ReportRow::Skipped(reason) if opts.strict => {
                    let at = format!(
                        "{at}report {}, record {}: {} record (",
                        r + 1,
                        i + 1,
                        reason.as_str()
                    );
                    return Err(Said::from(at).setting(Setting::Strict).text(")"));
                }
                ReportRow::Skipped(reason) => tally.add(Record::Skipped(*reason)),
            }
        }
    }
    Ok(())
}

fn read_capped(reader: impl Read, what: &str) -> Result<Vec<u8>, ReportError> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_REPORT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e: io::Error| format!("read error: {e}"))?;
    if bytes.len() as u64 > MAX_REPORT_BYTES {
        return Err(too_large(what));
    }
    Ok(bytes)
}

fn too_large(what: &str) -> ReportError {
    format!(
        "{what} is larger than {} MiB (decompressed); refused",
        MAX_REPORT_BYTES >> 20
    )
    .into()
}
