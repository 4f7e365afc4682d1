//! The pair (envelope-sender domain, connecting IP) and what one message or log record
//! amounts to: every stage from extraction to the reports speaks of these.

use std::net::IpAddr;

use super::SkipReason;

/// The envelope sender as the report keys it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sender {
    /// A valid domain, lowercased, IDN converted to its A-label form, no trailing dot.
    Domain(String),
    /// `MAIL FROM:<>`, `Return-Path: <>`, `MAILER-DAEMON`.
    Null,
    /// No envelope sender was recorded at all.
    Missing,
    /// Something was recorded but it is no usable domain; the text is kept for the report.
    Malformed(String),
}

/// The pair every stage speaks of: one message seen arriving from outside is observed as
/// one, and the tally dedupes them with message counts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PairKey {
    pub sender: Sender,
    /// The connecting client; `None` when no external hop was found.
    pub ip: Option<IpAddr>,
}

/// What one message (or one log record) amounts to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    Observed(PairKey),
    Skipped(SkipReason),
    /// Not a message: the host name an MTA logged for a client it had confirmed (postfix
    /// names a client only when its reverse and forward DNS agree, else `unknown`; sendmail
    /// marks the others `may be forged`). `propose` names relays by it; only extracted when
    /// asked for (`ExtractOptions::client_names`).
    ClientName {
        ip: IpAddr,
        name: Box<str>,
    },
}
