//! Extraction: turns one stored message or one log record into a [`Record`]: either an
//! observation (envelope sender, connecting IP) or a reason the message is not a candidate
//! for the check. Every input format ends here, so every format obeys the same rules.

pub mod dated;
pub mod dmarc;
pub mod exim;
pub mod log_time;
pub mod logs;
pub(crate) mod malformed;
pub mod message;
pub mod once;
pub mod postfix;
pub mod received;
pub mod sendmail;
pub mod syslog;

use std::net::IpAddr;

use crate::model::address::normalize_domain;
use crate::model::{PairKey, Record, Sender};
use crate::net::{IpNet, internal_kind};

/// `--null-sender`: what to do with `MAIL FROM:<>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum NullSenderMode {
    /// Report as `null-sender`, not evaluated (the draft's "handle somehow").
    #[default]
    Report,
    /// Use the client's HELO/EHLO name as the domain, as SPF does.
    Helo,
}

/// The settings every extractor needs. `Default` is the tool's default (private clients are
/// internal), so tests and callers start from what a user gets.
#[derive(Clone, Debug)]
pub struct ExtractOptions {
    /// The site's own relays and networks (docs/design.md §3: perimeter networks).
    pub perimeter: Vec<IpNet>,
    /// Treat private/CGNAT/link-local/ULA clients as internal (default true).
    pub skip_private: bool,
    /// Count `NOQUEUE: reject` attempts as pairs.
    pub include_rejected: bool,
    pub null_sender: NullSenderMode,
    /// `--queue-window`: seconds of log time after which a postfix queue id that saw no
    /// line is evicted (counted `incomplete` when it owed a record).
    pub queue_window_secs: u32,
    /// Emit `Record::ClientName` for clients a log names (`propose` only: names cost an
    /// allocation per message that audits do not need).
    pub client_names: bool,
}

/// The default `--queue-window`, in seconds: three days of log time. A queue id's lines
/// come seconds apart, and a deferred message's qmgr line repeats at every retry (at most
/// `maximal_backoff_time`, 4000 s by default, apart), which keeps it open.
pub const DEFAULT_QUEUE_WINDOW_SECS: u32 = 3 * 86_400;

impl Default for ExtractOptions {
    fn default() -> Self {
        ExtractOptions {
            perimeter: Vec::new(),
            skip_private: true,
            include_rejected: false,
            null_sender: NullSenderMode::Report,
            queue_window_secs: DEFAULT_QUEUE_WINDOW_SECS,
            client_names: false,
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

    /// The name a log recorded for an external client, when names are asked for and it is
    /// one: `unknown` (postfix's word for a name that did not confirm) and other non-host
    /// names give none.
    pub fn client_name(&self, name: &str, ip: IpAddr) -> Option<Record> {
        if !self.client_names || self.is_internal(ip) {
            return None;
        }
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        (name != "unknown" && crate::model::address::is_host_name(&name)).then(|| {
            Record::ClientName {
                ip,
                name: name.into(),
            }
        })
    }

    /// Builds the observation for a sender/client pair, applying `--null-sender helo`.
    pub fn observe(&self, sender: Sender, ip: Option<IpAddr>, helo: Option<&str>) -> Record {
        let sender = match (sender, self.null_sender, helo) {
            (Sender::Null, NullSenderMode::Helo, Some(h)) => match normalize_domain(h) {
                Sender::Domain(d) => Sender::Domain(d),
                _ => Sender::Null,
            },
            (s, _, _) => s,
        };
        Record::Observed(PairKey { sender, ip })
    }
}
