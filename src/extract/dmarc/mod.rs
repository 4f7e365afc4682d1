//! DMARC aggregate (RUA) reports (docs/design.md §3, RFC 7489 and RFC 9990): each `<record>` is a
//! (sender domain, source IP) pair with a message count and the part of it known to be
//! authenticated. A domain owner's reports are the owner's own view of who sends mail in
//! their name, so they feed the same pairs, verdicts and reports as archives and logs.
//!
//! Reports arrive as plain XML, gzip, zip, or attached to the messages that delivered them;
//! [`read_reports`] takes any of these packings and returns every report inside.

mod message;
mod packing;
mod xml;

use std::fmt;
use std::net::IpAddr;

use crate::model::{Sender, SkipReason, UtcTime, When};

pub use message::{may_carry_report, reports_in_message};
pub use xml::parse_report;

/// Decompressed bytes allowed for one report (and for one message carrying reports): the
/// largest real reports are a few MB, and a zip bomb must end as an error, not as memory
/// exhaustion.
pub const MAX_REPORT_BYTES: u64 = 64 << 20;

/// One `<record>` that names a usable pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportPair {
    pub sender: Sender,
    pub ip: IpAddr,
    /// `<count>`: 64 bits, real reports exceed 2^32.
    pub messages: u64,
    /// The messages of the record known to be authenticated: all of them when DKIM passed
    /// aligned with the header-from domain, else none.
    pub authenticated: u64,
}

/// What one `<record>` amounts to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReportRow {
    Pair(ReportPair),
    /// No usable source IP or count; counted like any other skipped record.
    Skipped(SkipReason),
}

/// One aggregate report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// `<report_metadata><date_range><begin>`: every row of the report counts on the day
    /// the report period begins (docs/dmarc.md); absent or unreadable is said so.
    pub begin: When,
    /// `<date_range><end>`, which widens the period the run covers.
    pub end: Option<UtcTime>,
    /// `<policy_published><domain>`: the domain the report is about.
    pub policy_domain: Option<String>,
    pub rows: Vec<ReportRow>,
}

/// Why a report (or a packing of reports) could not be read. The message says where inside
/// the input; the caller adds the input's name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DmarcError(pub String);

impl fmt::Display for DmarcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl DmarcError {
    /// The same error seen from the packing around it (`zip entry x.xml: ...`).
    fn within(self, what: &str) -> DmarcError {
        DmarcError(format!("{what}: {}", self.0))
    }
}

/// True when the first bytes of a (decompressed) file are a report or a zip of reports.
/// Messages carrying reports are recognised as messages first, see [`may_carry_report`].
/// An XML document that mentions `<feedback` without it being the root (a report wrapped in
/// an unclosed `<xs:schema>`, as one reporter sends) is taken too, so that it fails as
/// malformed XML with a position rather than as an unknown format.
pub fn looks_like_report(head: &[u8]) -> bool {
    let trimmed = head
        .strip_prefix(b"\xef\xbb\xbf")
        .unwrap_or(head)
        .trim_ascii_start();
    packing::is_zip(head)
        || xml::is_feedback_xml(head)
        || (trimmed.starts_with(b"<?xml") && memchr::memmem::find(head, b"<feedback").is_some())
}

/// Every report in `bytes`: report XML, gzip or zip of it (detected by content).
pub fn read_reports(bytes: &[u8]) -> Result<Vec<Report>, DmarcError> {
    packing::read_packed(bytes, MAX_REPORT_BYTES, 0)
}
