//! Extraction: turns one stored message or one log record into a [`Record`]: either an
//! observation (envelope sender, connecting IP) or a reason the message is not a candidate
//! for the check. Every input format ends here, so every format obeys the same rules.

pub mod address;
pub mod exim;
pub mod logs;
pub mod message;
pub mod pairs_file;
pub mod postfix;
pub mod received;
pub mod sendmail;
pub mod syslog;

use std::net::IpAddr;

use crate::net::{IpNet, internal_kind};

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

/// One message seen arriving from outside.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    pub sender: Sender,
    /// The connecting client; `None` when no external hop was found.
    pub ip: Option<IpAddr>,
}

/// What one message (or one log record) amounts to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    Observed(Observation),
    Skipped(SkipReason),
}

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
}

impl SkipReason {
    pub const ALL: [SkipReason; 6] = [
        SkipReason::Local,
        SkipReason::Authenticated,
        SkipReason::Internal,
        SkipReason::Rejected,
        SkipReason::Incomplete,
        SkipReason::Malformed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Local => "local",
            SkipReason::Authenticated => "authenticated",
            SkipReason::Internal => "internal",
            SkipReason::Rejected => "rejected",
            SkipReason::Incomplete => "incomplete",
            SkipReason::Malformed => "malformed",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// `--null-sender`: what to do with `MAIL FROM:<>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum NullSenderMode {
    /// Report as `null-sender`, not evaluated (the draft's "handle somehow").
    #[default]
    Skip,
    /// Use the client's HELO/EHLO name as the domain, as SPF does.
    Helo,
}

/// The settings every extractor needs. `Default` is the tool's default (private clients are
/// internal), so tests and callers start from what a user gets.
#[derive(Clone, Debug)]
pub struct ExtractOptions {
    /// The site's own relays and networks (SPEC: perimeter networks).
    pub perimeter: Vec<IpNet>,
    /// Treat private/CGNAT/link-local/ULA clients as internal (default true).
    pub skip_private: bool,
    /// Count `NOQUEUE: reject` attempts as pairs.
    pub include_rejected: bool,
    pub null_sender: NullSenderMode,
}

impl Default for ExtractOptions {
    fn default() -> Self {
        ExtractOptions {
            perimeter: Vec::new(),
            skip_private: true,
            include_rejected: false,
            null_sender: NullSenderMode::Skip,
        }
    }
}

impl ExtractOptions {
    /// True when a client address is a hop inside the site rather than a foreign relay.
    pub fn is_internal(&self, ip: IpAddr) -> bool {
        match internal_kind(ip) {
            Some(crate::net::InternalKind::Loopback) => true,
            Some(crate::net::InternalKind::Private) if self.skip_private => true,
            _ => self.perimeter.iter().any(|n| n.contains(ip)),
        }
    }

    /// Builds the observation for a sender/client pair, applying `--null-sender helo`.
    pub fn observe(&self, sender: Sender, ip: Option<IpAddr>, helo: Option<&str>) -> Record {
        let sender = match (sender, self.null_sender, helo) {
            (Sender::Null, NullSenderMode::Helo, Some(h)) => match address::normalize_domain(h) {
                Sender::Domain(d) => Sender::Domain(d),
                _ => Sender::Null,
            },
            (s, _, _) => s,
        };
        Record::Observed(Observation { sender, ip })
    }
}
