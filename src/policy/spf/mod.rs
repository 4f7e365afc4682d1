//! SPF (RFC 7208) beside the MAIL-FROM check (docs/design.md §2b): `check_host()` as pure logic over
//! the same [`Lookup`] as the MAIL-FROM policy, so SPF answers come through the same zone
//! files, caches, `--offline` and statistics. Everything of §4–§7 except fetching `exp=`
//! text. The limits are RFC 7208's and fixed: 10 DNS-querying terms, 2 void lookups, 10
//! names for `mx` and `ptr`; they do not share `--max-lookups`.
//!
//! Where the RFC leaves room, the choices follow pyspf, the reference implementation the
//! project is compared with: every lookup that answers nothing counts as void (also an `mx`
//! target's or a `ptr` name's addresses), more than 10 MX records is a `permerror`, and a
//! name that cannot be a DNS name (an empty or over-long label) is not asked and matches
//! nothing.

mod domain;
mod eval;
pub(crate) mod macros;
pub(crate) mod record;

use std::net::IpAddr;
use std::time::Duration;

pub use domain::{SpfDomain, expand_spf};

use crate::dns::{Answer, Lookup, QType};
use crate::model::{Sender, SpfResult};

/// The identity checked (RFC 7208 §2.3–2.4): a local part and a domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub local: String,
    pub domain: String,
    /// The local part is `postmaster` because the real one is unknown (an audit's pair),
    /// not because the sender had none.
    pub stand_in: bool,
}

impl Identity {
    /// A sender taken literally: the domain is what follows the last `@` (a trailing dot
    /// dropped), the local part what precedes it; an empty local part, or no `@`, means
    /// `postmaster` (§4.3).
    pub fn from_sender(sender: &str) -> Identity {
        let (local, domain) = match sender.rsplit_once('@') {
            Some((local, domain)) => (local, domain),
            None => ("", sender),
        };
        Identity {
            local: if local.is_empty() {
                "postmaster".into()
            } else {
                local.into()
            },
            domain: domain.strip_suffix('.').unwrap_or(domain).to_string(),
            stand_in: false,
        }
    }

    /// `postmaster@domain` for the HELO identity (§2.3), a real identity.
    pub fn helo(helo: &str) -> Identity {
        Identity::from_sender(&format!("postmaster@{helo}"))
    }

    /// What `check` evaluates (RFC 7208 §2.3–2.4): the sender as given, or for the null
    /// sender the HELO identity; `None` for `<>` without a HELO name.
    pub fn for_check(sender: &Sender, raw_sender: &str, helo: Option<&str>) -> Option<Identity> {
        match sender {
            Sender::Null => helo.map(Identity::helo),
            _ => Some(Identity::from_sender(raw_sender)),
        }
    }

    /// An audit's pair: the domain is known, the local part is not.
    pub fn pair(domain: &str) -> Identity {
        Identity {
            stand_in: true,
            ..Identity::from_sender(domain)
        }
    }
}

/// One thing `check` shows of an SPF evaluation, `depth` levels of `include`/`redirect` deep.
#[derive(Clone, Debug)]
pub struct SpfStep {
    pub depth: u32,
    pub kind: StepKind,
}

#[derive(Clone, Debug)]
pub enum StepKind {
    /// The record selected at `domain` (`None`: no SPF record).
    Record {
        domain: String,
        record: Option<String>,
    },
    /// A term about to be evaluated.
    Term(String),
    Lookup {
        name: String,
        qtype: QType,
        answer: Answer,
    },
    /// What a term, a record or the evaluation came to.
    Note(String),
}

#[derive(Clone, Debug)]
pub struct SpfEvaluation {
    pub result: SpfResult,
    /// The term that decided (`-all`, `include:x`, `redirect=x`), if one did.
    pub decided_by: Option<String>,
    /// Why a `permerror` or `temperror`.
    pub error: Option<String>,
    /// The result used `%{l}`, `%{s}` or `%{h}` of a stand-in identity or HELO.
    pub needs_sender: bool,
    /// DNS-querying terms evaluated and void lookups, against the limits of 10 and 2.
    pub terms: u32,
    pub voids: u32,
    pub steps: Vec<SpfStep>,
}

impl SpfEvaluation {
    /// No identity to check (the null sender without a HELO name): `none`.
    pub fn no_identity() -> SpfEvaluation {
        SpfEvaluation {
            result: SpfResult::None,
            decided_by: None,
            error: None,
            needs_sender: false,
            terms: 0,
            voids: 0,
            steps: Vec::new(),
        }
    }
}

/// What `reason` says of a pair whose SPF result depended on a stand-in identity.
pub const NEEDS_SENDER: &str = "spf: macro needs the sender";

/// RFC 7208 `check_host(ip, identity.domain, identity)`. `helo` feeds `%{h}` (`unknown`
/// when absent, which marks the result as resting on a stand-in). `deadline` bounds the
/// whole evaluation (a `temperror` when it passes); `trace` keeps steps for `check`.
pub async fn check_host<L: Lookup>(
    lookup: &L,
    ip: IpAddr,
    identity: &Identity,
    helo: Option<&str>,
    deadline: Duration,
    trace: bool,
) -> SpfEvaluation {
    eval::run(
        lookup,
        crate::net::canonical(ip),
        identity,
        helo,
        deadline,
        trace,
    )
    .await
}

#[cfg(test)]
mod tests;
