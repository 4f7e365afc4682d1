//! The verdict for one pair: senders and clients that cannot be checked (the null sender,
//! no sender, a malformed domain, no external hop) are decided here, in one place, with the
//! reason each report shows; the rest go to the MAIL-FROM evaluation.

use std::net::IpAddr;

use super::spf::{Identity, SpfEvaluation, check_host};
use super::{Evaluation, PolicyConfig, evaluate};
use crate::dns::Lookup;
use crate::model::{PairKey, Sender, Verdict};

/// The verdict for one pair: senders and clients that cannot be checked are decided here;
/// the rest go to the policy.
pub async fn verdict_for<L: Lookup>(dns: &L, cfg: &PolicyConfig, key: &PairKey) -> Evaluation {
    let unevaluated = |verdict, reason: &str, rule: &'static str| Evaluation {
        verdict,
        matched: None,
        relays: Vec::new(),
        reason: (!reason.is_empty()).then(|| reason.to_string()),
        rule: rule.into(),
        lookups: 0,
        steps: Vec::new(),
    };
    let domain = match &key.sender {
        Sender::Null => {
            return unevaluated(
                Verdict::NullSender,
                "",
                "the null sender (MAIL FROM:<>, a bounce) is not evaluated",
            );
        }
        Sender::Missing => {
            return unevaluated(
                Verdict::Unknown,
                "no envelope sender",
                "without a sender domain there is no policy to look up",
            );
        }
        Sender::Malformed(_) => {
            return unevaluated(
                Verdict::Unknown,
                "malformed sender domain",
                "the sender domain is not a valid domain name",
            );
        }
        Sender::Domain(d) => d,
    };
    let Some(ip): Option<IpAddr> = key.ip else {
        return unevaluated(
            Verdict::Unknown,
            "no external hop",
            "without a client address there is nothing to check",
        );
    };
    evaluate(dns, domain, ip, cfg).await
}

/// SPF for an audit's pair (docs/design.md §2b): `check_host(S, D, postmaster@D)` with the HELO
/// unknown. `None` where the pair has no verdict of its own to set it beside (the null
/// sender, no or a malformed sender, no client address) and with `--no-spf`.
pub async fn spf_for<L: Lookup>(
    dns: &L,
    cfg: &PolicyConfig,
    key: &PairKey,
) -> Option<SpfEvaluation> {
    let (Sender::Domain(domain), Some(ip)) = (&key.sender, key.ip) else {
        return None;
    };
    if !cfg.spf {
        return None;
    }
    let identity = Identity::pair(domain);
    Some(check_host(dns, ip, &identity, None, cfg.eval_timeout, cfg.trace).await)
}
