//! Why a message or log record is not a pair, and the spelling of each reason in reports.

/// Why a record is not a (sender, client) pair. The CSV/summary spelling lives in
/// [`SkipReason::as_str`] and nowhere else.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// Submitted on this host (postfix pickup, sendmail MSP, exim `P=local`).
    Local,
    /// An authenticated submission (SASL, `with ESMTPSA`, ...): a user of the site.
    Authenticated,
    /// The client is loopback, private or in the perimeter: a hop inside the site.
    Internal,
    /// The MTA already refused it (`NOQUEUE: reject`, counted only with `--include-rejected`).
    Rejected,
    /// A log record whose other half never appeared (e.g. `client=` without `from=`).
    Incomplete,
    /// Bytes that should have been a message or a record and were not.
    Malformed,
    /// A line or header block longer than `--max-line-bytes`: skipped without being held,
    /// so one hostile or broken input cannot take the memory of the run.
    Oversized,
}

impl SkipReason {
    pub const ALL: [SkipReason; 7] = [
        SkipReason::Local,
        SkipReason::Authenticated,
        SkipReason::Internal,
        SkipReason::Rejected,
        SkipReason::Incomplete,
        SkipReason::Malformed,
        SkipReason::Oversized,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Local => "local",
            SkipReason::Authenticated => "authenticated",
            SkipReason::Internal => "internal",
            SkipReason::Rejected => "rejected",
            SkipReason::Incomplete => "incomplete",
            SkipReason::Malformed => "malformed",
            SkipReason::Oversized => "oversized",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}
