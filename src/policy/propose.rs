//! `propose`: the `MAIL-FROM.<domain>` MX set that would make a domain's legitimate observed
//! mail nonrepudiated (issue 12). A relay is legitimate when it sent authenticated mail
//! (DKIM-aligned in DMARC reports) or at least `--min-messages` messages. Each is named by
//! the name its MTA's log recorded for it when that name's addresses hold it (postfix and
//! sendmail log a name only after confirming it: it is the name the administrator knows),
//! else by forward-confirmed reverse DNS (its PTR names, kept only when the name's
//! addresses hold the relay again, so a forger's PTR cannot pick the name); a relay
//! without either gets a
//! synthesized name inside `MAIL-FROM.<domain>` with its own address record. Pure logic
//! over [`Lookup`]: a fake answers in tests.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::dns::{Data, Lookup, Outcome, QType};

mod spf;
pub use spf::{SpfTargets, spf_targets};

/// What was observed for one relay of the domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    pub ip: IpAddr,
    pub messages: u64,
    /// Messages known to be authenticated; `None` when no input could tell.
    pub authenticated: Option<u64>,
    /// The name a log recorded for the relay, if one did.
    pub logged_name: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct ProposeOptions {
    /// Relays with at least this many messages are legitimate even without authenticated
    /// mail; `None`: only authenticated mail counts.
    pub min_messages: Option<u64>,
    /// Ask PTR and address records (false with `--offline`: every name is synthesized).
    pub reverse_dns: bool,
    /// `--from-spf`: add the relays the domain's SPF record authorises.
    pub from_spf: bool,
}

/// How a proposed target was named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Naming {
    /// The name the relay's log recorded, whose addresses hold the relay.
    Logged,
    /// The relay's PTR name, whose addresses hold the relay.
    Confirmed,
    /// A name made up inside `MAIL-FROM.<domain>`; the fragment carries its address.
    Synthesized(IpAddr),
    /// A host the domain's SPF record names (`a`, `mx`).
    Spf,
}

/// One MX target of the proposal and the flows it covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Lowercase, without the trailing dot.
    pub name: String,
    pub naming: Naming,
    /// The legitimate relays this target was chosen for, by IP.
    pub flows: Vec<Flow>,
    /// The SPF mechanisms that name it (`--from-spf`).
    pub spf: Vec<String>,
}

/// The proposal for one domain, with what it covers of the observed mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    pub domain: String,
    pub targets: Vec<Target>,
    /// Flows not made nonrepudiated by the set (the forged or too rare), most messages
    /// first.
    pub left_out: Vec<Flow>,
    pub coverage: Coverage,
    /// `--from-spf`: SPF terms with no MAIL-FROM equivalent, and why the record could not
    /// be read at all.
    pub spf_left_out: Vec<String>,
    pub spf_problem: Option<String>,
}

/// Observed and authenticated messages of the domain, and how many of each the set covers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    pub messages: u64,
    pub covered: u64,
    pub authenticated: u64,
    pub authenticated_covered: u64,
}

impl Coverage {
    fn add(&mut self, flow: &Flow, covered: bool) {
        let auth = flow.authenticated.unwrap_or(0);
        self.messages = self.messages.saturating_add(flow.messages);
        self.authenticated = self.authenticated.saturating_add(auth);
        if covered {
            self.covered = self.covered.saturating_add(flow.messages);
            self.authenticated_covered = self.authenticated_covered.saturating_add(auth);
        }
    }
}

/// True when the flow is mail the owner sends: authenticated, or frequent enough.
pub fn is_legitimate(flow: &Flow, opts: &ProposeOptions) -> bool {
    flow.authenticated.is_some_and(|a| a > 0)
        || opts.min_messages.is_some_and(|m| flow.messages >= m)
}

/// Proposes the MX set for `domain` (lowercase ASCII) from its flows.
pub async fn propose<L: Lookup>(
    dns: &L,
    domain: &str,
    flows: &[Flow],
    opts: &ProposeOptions,
) -> Proposal {
    let mut by_name: BTreeMap<String, Target> = BTreeMap::new();
    // Every address of every confirmed name: a name may cover relays beyond the one it was
    // chosen for, and coverage says so.
    let mut permitted: BTreeSet<IpAddr> = BTreeSet::new();
    for flow in flows.iter().filter(|f| is_legitimate(f, opts)) {
        let mut confirmed = match &flow.logged_name {
            Some(name) => logged_name(dns, name, flow.ip).await,
            None => None,
        };
        if confirmed.is_none() && opts.reverse_dns {
            confirmed = confirmed_name(dns, flow.ip).await;
        }
        let (name, naming) = match confirmed {
            Some((name, addrs, naming)) => {
                permitted.extend(addrs);
                (name, naming)
            }
            None => (
                synthesized_name(domain, flow.ip),
                Naming::Synthesized(flow.ip),
            ),
        };
        permitted.insert(flow.ip);
        by_name
            .entry(name.clone())
            .or_insert_with(|| Target {
                name,
                naming,
                flows: Vec::new(),
                spf: Vec::new(),
            })
            .flows
            .push(flow.clone());
    }
    let spf = if opts.from_spf {
        spf_targets(dns, domain).await
    } else {
        SpfTargets::default()
    };
    let mut spf_left_out = spf.left_out;
    for (host, term) in spf.hosts {
        let addrs = addresses(dns, &host).await;
        if addrs.is_empty() {
            spf_left_out.push(format!("{term} ({host} has no addresses)"));
            continue;
        }
        permitted.extend(addrs);
        add_spf_term(&mut by_name, host, Naming::Spf, term);
    }
    for (ip, term) in spf.addresses {
        permitted.insert(ip);
        add_spf_term(
            &mut by_name,
            synthesized_name(domain, ip),
            Naming::Synthesized(ip),
            term,
        );
    }
    let mut coverage = Coverage::default();
    let mut left_out = Vec::new();
    for flow in flows {
        let covered = permitted.contains(&flow.ip);
        coverage.add(flow, covered);
        if !covered {
            left_out.push(flow.clone());
        }
    }
    left_out.sort_by(|a, b| {
        b.messages
            .cmp(&a.messages)
            .then_with(|| crate::net::cmp_ip(&a.ip, &b.ip))
    });
    Proposal {
        domain: domain.to_string(),
        targets: by_name.into_values().collect(),
        left_out,
        coverage,
        spf_left_out,
        spf_problem: spf.problem,
    }
}

fn add_spf_term(
    by_name: &mut BTreeMap<String, Target>,
    name: String,
    naming: Naming,
    term: String,
) {
    let target = by_name.entry(name.clone()).or_insert_with(|| Target {
        name,
        naming,
        flows: Vec::new(),
        spf: Vec::new(),
    });
    if !target.spf.contains(&term) {
        target.spf.push(term);
    }
}

/// Every A and AAAA address of `name`; failures give none.
async fn addresses<L: Lookup>(dns: &L, name: &str) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for qtype in [QType::A, QType::Aaaa] {
        if let Outcome::Found(Data::Addrs(addrs)) = dns.lookup(name, qtype).await.outcome {
            out.extend(addrs.into_iter().map(crate::net::canonical));
        }
    }
    out
}

/// The first PTR name of `ip` (in name order) whose addresses of `ip`'s family hold `ip`,
/// with those addresses. Failures and missing records simply give no name.
async fn confirmed_name<L: Lookup>(dns: &L, ip: IpAddr) -> Option<(String, Vec<IpAddr>, Naming)> {
    let Outcome::Found(Data::Ptr(mut names)) =
        dns.lookup(&reverse_name(ip), QType::Ptr).await.outcome
    else {
        return None;
    };
    names.sort();
    names.dedup();
    for name in names {
        if !crate::model::address::is_host_name(&name) {
            continue;
        }
        if let Some(addrs) = holding(dns, &name, ip).await {
            return Some((name, addrs, Naming::Confirmed));
        }
    }
    None
}

/// The name a log recorded for `ip`, with its addresses, if they hold `ip` today (the
/// MTA confirmed it when it logged it; DNS may have changed since).
async fn logged_name<L: Lookup>(
    dns: &L,
    name: &str,
    ip: IpAddr,
) -> Option<(String, Vec<IpAddr>, Naming)> {
    let addrs = holding(dns, name, ip).await?;
    Some((name.to_string(), addrs, Naming::Logged))
}

/// The addresses of `name` in `ip`'s family, when they hold `ip`.
async fn holding<L: Lookup>(dns: &L, name: &str, ip: IpAddr) -> Option<Vec<IpAddr>> {
    let Outcome::Found(Data::Addrs(addrs)) = dns.lookup(name, QType::for_ip(ip)).await.outcome
    else {
        return None;
    };
    let addrs: Vec<IpAddr> = addrs.into_iter().map(crate::net::canonical).collect();
    addrs.contains(&ip).then_some(addrs)
}

/// `relay-192-0-2-10.mail-from.<domain>`; IPv6 as its 32 hex digits, so no label starts,
/// ends or breaks with a hyphen run.
pub fn synthesized_name(domain: &str, ip: IpAddr) -> String {
    let label = match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("relay-{}-{}-{}-{}", o[0], o[1], o[2], o[3])
        }
        IpAddr::V6(v6) => {
            let hex: String = v6.octets().iter().map(|b| format!("{b:02x}")).collect();
            format!("relay-{hex}")
        }
    };
    format!("{label}.mail-from.{domain}")
}

/// The `in-addr.arpa` or `ip6.arpa` name PTR records of `ip` live at.
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let mut labels: Vec<String> = Vec::with_capacity(34);
            for b in v6.octets().iter().rev() {
                labels.push(format!("{:x}", b & 0xf));
                labels.push(format!("{:x}", b >> 4));
            }
            labels.push("ip6.arpa".into());
            labels.join(".")
        }
    }
}

#[cfg(test)]
mod tests;
