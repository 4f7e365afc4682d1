//! One evaluated pair as the audit reports it: the pair, its messages and what the checks
//! said of it.

use std::sync::Arc;

use super::{DayList, PairKey, SpfResult, Verdict};

/// One evaluated pair as the report writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairRow {
    pub key: PairKey,
    pub messages: u64,
    pub verdict: Verdict,
    pub matched: Option<String>,
    /// Sorted. Shared: the rows of one domain decided at the same point of its policy hold
    /// one list (an audit's rows held ten relay names each, most of its memory).
    pub relays: Arc<[String]>,
    pub reason: Option<String>,
    /// Messages known to be authenticated (DKIM-aligned in DMARC reports); `None` when the
    /// input cannot tell.
    pub authenticated: Option<u64>,
    /// SPF's result for the pair (docs/design.md §2b); `None` for null-sender and unknown rows, and
    /// with `--no-spf`.
    pub spf: Option<SpfResult>,
    /// Its dated messages by day (`--by-day`, the domain summary's period).
    pub days: DayList,
}
