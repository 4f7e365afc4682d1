//! One SPF evaluation per domain and address family (issue 16 item 2, docs/design.md §2b):
//! an audit's pairs of one sender domain all check `postmaster@D` with an unknown HELO, so
//! where no macro reads the client (`%{i}`, `%{p}`, `%{v}`) and no `ptr` is met, the client
//! changes nothing but which terms match. The evaluation then runs once for a group of
//! clients, and splits the group where its clients part ways: a term that matches some of
//! them decides those (with the counts, the deciding term and the macros used so far), the
//! rest go on; an `include` can send its clients back with different counts, and each part
//! goes on from its own. Every client thus meets exactly the terms, questions, limits and
//! failures its own `check_host()` ([`super::check_host`], the reference, which `check`
//! still uses) would, and the evaluation asks no question a client's own would not have.
//! A record that reads the client, or a deadline that passes, leaves the domain to
//! `check_host()` per pair ([`SpfDomain::answer`] says `None`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use futures::future::BoxFuture;

use super::eval::{MAX_NAMES, MAX_TERMS, MAX_VOIDS, is_checkable_domain, is_dns_name};
use super::macros::{MacroContext, MacroString, Used};
use super::record::{Mechanism, Qualifier, is_spf_record, parse_shared};
use super::{Identity, SpfEvaluation};
use crate::dns::{Data, Lookup, MxTarget, Outcome, QType};
use crate::model::SpfResult;
use crate::net::{IpNet, canonical};

/// The SPF results of one domain's clients, for those the shared evaluation could decide.
#[derive(Debug, Default)]
pub struct SpfDomain {
    /// Keyed foldhash, as the MAIL-FROM walk's clients (`policy::domain`): read once a pair.
    results: HashMap<IpAddr, SpfEvaluation, foldhash::fast::RandomState>,
}

impl SpfDomain {
    /// What `check_host()` says for `ip`; `None` when the domain's record reads the client,
    /// the deadline passed, or `ip` was not asked about: evaluate that pair on its own.
    pub fn answer(&self, ip: IpAddr) -> Option<SpfEvaluation> {
        self.results.get(&canonical(ip)).cloned()
    }
}

/// Evaluates SPF for the audit identity of `domain` once per address family for all `ips`.
pub async fn expand_spf<L: Lookup>(
    lookup: &L,
    domain: &str,
    ips: &[IpAddr],
    deadline: Duration,
) -> SpfDomain {
    let identity = Identity::pair(domain);
    let mut ips: Vec<IpAddr> = ips.iter().map(|ip| canonical(*ip)).collect();
    ips.sort_unstable();
    ips.dedup();
    let (v4, v6): (Vec<IpAddr>, Vec<IpAddr>) = ips.into_iter().partition(|ip| ip.is_ipv4());
    let mut results = HashMap::default();
    for clients in [v4, v6].into_iter().filter(|c| !c.is_empty()) {
        let walk = Walk {
            lookup,
            identity: &identity,
            family: QType::for_ip(clients[0]),
        };
        let Ok(Ok(ends)) = tokio::time::timeout(deadline, walk.top(clients)).await else {
            continue;
        };
        for (group, flow) in ends {
            let evaluation = finish(&identity, &group.state, flow);
            for ip in group.ips {
                results.insert(ip, evaluation.clone());
            }
        }
    }
    SpfDomain { results }
}

/// What one client's evaluation has counted and met so far.
#[derive(Clone, Debug, Default)]
struct State {
    terms: u32,
    voids: u32,
    used: Used,
    decided_by: Option<String>,
}

/// Clients whose evaluations have gone the same way so far.
struct Group {
    ips: Vec<IpAddr>,
    state: State,
}

/// Why an evaluation ended early, as in the per-pair evaluation.
enum Halt {
    Temp(String),
    Perm(String),
}

/// The record reads the client: the domain is evaluated per pair.
struct ReadsClient;

type Ends = Vec<(Group, Result<SpfResult, Halt>)>;

/// How a term went for part of a group.
enum Branch {
    Matched(Group),
    Unmatched(Group),
    Ended(Group, Halt),
}

fn finish(identity: &Identity, state: &State, flow: Result<SpfResult, Halt>) -> SpfEvaluation {
    let (result, error) = match flow {
        Ok(result) => (result, None),
        Err(Halt::Temp(why)) => (SpfResult::TempError, Some(why)),
        Err(Halt::Perm(why)) => (SpfResult::PermError, Some(why)),
    };
    SpfEvaluation {
        result,
        decided_by: state.decided_by.clone(),
        error,
        // The HELO is unknown in an audit: any `%{h}` rests on the stand-in.
        needs_sender: (state.used.local && identity.stand_in) || state.used.helo,
        terms: state.terms,
        voids: state.voids,
        steps: Vec::new(),
    }
}

struct Walk<'a, L> {
    lookup: &'a L,
    identity: &'a Identity,
    family: QType,
}

impl<L: Lookup> Walk<'_, L> {
    async fn top(&self, ips: Vec<IpAddr>) -> Result<Ends, ReadsClient> {
        let domain = self.identity.domain.to_ascii_lowercase();
        let mut group = Group {
            ips,
            state: State::default(),
        };
        if !is_checkable_domain(&domain) {
            return Ok(vec![(group, Ok(SpfResult::None))]);
        }
        match self.select(&domain, &mut group.state).await {
            Err(halt) => Ok(vec![(group, Err(halt))]),
            Ok(None) => Ok(vec![(group, Ok(SpfResult::None))]),
            Ok(Some(text)) => self.evaluate(group, domain, text).await,
        }
    }

    /// The data of `name`'s answer; as the per-pair `data`: a failure is `temperror`, no
    /// data a void lookup (the third a `permerror`), a name that cannot be asked nothing.
    async fn lookup_data(
        &self,
        name: &str,
        qtype: QType,
        state: &mut State,
    ) -> Result<Option<Data>, Halt> {
        if !is_dns_name(name) {
            return Ok(None);
        }
        match self.lookup.lookup(name, qtype).await.outcome {
            Outcome::Found(data) => Ok(Some(data)),
            Outcome::Failed(f) => Err(Halt::Temp(format!("{name} {}: {f}", qtype.as_str()))),
            Outcome::NxDomain | Outcome::NoData => {
                state.voids += 1;
                if state.voids > MAX_VOIDS {
                    return Err(Halt::Perm(format!(
                        "more than {MAX_VOIDS} void lookups ({name} {})",
                        qtype.as_str()
                    )));
                }
                Ok(None)
            }
        }
    }

    async fn select(&self, domain: &str, state: &mut State) -> Result<Option<String>, Halt> {
        let texts = match self.lookup_data(domain, QType::Txt, state).await? {
            Some(Data::Txt(texts)) => texts,
            _ => Vec::new(),
        };
        let mut records = texts.into_iter().filter(|t| is_spf_record(t));
        let record = records.next();
        if records.next().is_some() {
            return Err(Halt::Perm(format!("{domain} has several SPF records")));
        }
        Ok(record)
    }

    fn evaluate(
        &self,
        group: Group,
        domain: String,
        text: String,
    ) -> BoxFuture<'_, Result<Ends, ReadsClient>> {
        Box::pin(async move {
            let parsed = parse_shared(&text);
            let record = match parsed.as_ref() {
                Ok(record) => record,
                Err(e) => return Ok(vec![(group, Err(Halt::Perm(format!("{domain}: {e}"))))]),
            };
            let mut ends = Vec::new();
            let mut live = vec![group];
            for directive in &record.directives {
                let mut next = Vec::new();
                for mut group in live {
                    if directive.mechanism.queries_dns()
                        && let Err(halt) = count_term(&mut group.state, &directive.text)
                    {
                        ends.push((group, Err(halt)));
                        continue;
                    }
                    for branch in self.matches(&directive.mechanism, &domain, group).await? {
                        match branch {
                            Branch::Matched(mut group) => {
                                group.state.decided_by =
                                    Some(format!("{} at {domain}", directive.text));
                                ends.push((group, Ok(result_of(directive.qualifier))));
                            }
                            Branch::Unmatched(group) => next.push(group),
                            Branch::Ended(group, halt) => ends.push((group, Err(halt))),
                        }
                    }
                }
                live = next;
                if live.is_empty() {
                    return Ok(ends);
                }
            }
            for mut group in live {
                let Some(spec) = &record.redirect else {
                    ends.push((group, Ok(SpfResult::Neutral)));
                    continue;
                };
                if let Err(halt) = count_term(&mut group.state, "redirect=") {
                    ends.push((group, Err(halt)));
                    continue;
                }
                let target = self.expand(spec, &domain, &mut group)?;
                group.state.decided_by = Some(format!("redirect={target} at {domain}"));
                match self.select(&target, &mut group.state).await {
                    Err(halt) => ends.push((group, Err(halt))),
                    Ok(None) => ends.push((
                        group,
                        Err(Halt::Perm(format!(
                            "redirect={target}: no SPF record there"
                        ))),
                    )),
                    Ok(Some(text)) => ends.extend(self.evaluate(group, target, text).await?),
                }
            }
            Ok(ends)
        })
    }

    async fn matches(
        &self,
        mechanism: &Mechanism,
        domain: &str,
        mut group: Group,
    ) -> Result<Vec<Branch>, ReadsClient> {
        Ok(match mechanism {
            Mechanism::All => vec![Branch::Matched(group)],
            Mechanism::Ip4(net, len) => split(group, |ip| {
                ip.is_ipv4() && in_net(ip, IpAddr::V4(*net), *len)
            }),
            Mechanism::Ip6(net, len) => split(group, |ip| {
                ip.is_ipv6() && in_net(ip, IpAddr::V6(*net), *len)
            }),
            Mechanism::A {
                domain: spec,
                v4,
                v6,
            } => {
                let target = self.target(spec.as_ref(), domain, &mut group)?;
                match self.addresses(&target, &mut group.state).await {
                    Err(halt) => vec![Branch::Ended(group, halt)],
                    Ok(addrs) => split(group, |ip| addrs.iter().any(|a| in_cidr(ip, *a, *v4, *v6))),
                }
            }
            Mechanism::Mx {
                domain: spec,
                v4,
                v6,
            } => {
                let target = self.target(spec.as_ref(), domain, &mut group)?;
                match self.mx_addresses(&target, &mut group.state).await {
                    Err(halt) => vec![Branch::Ended(group, halt)],
                    Ok(addrs) => split(group, |ip| addrs.iter().any(|a| in_cidr(ip, *a, *v4, *v6))),
                }
            }
            Mechanism::Ptr(_) => return Err(ReadsClient),
            Mechanism::Exists(spec) => {
                let target = self.target(Some(spec), domain, &mut group)?;
                match self.lookup_data(&target, QType::A, &mut group.state).await {
                    Err(halt) => vec![Branch::Ended(group, halt)],
                    Ok(Some(Data::Addrs(a))) if !a.is_empty() => vec![Branch::Matched(group)],
                    Ok(_) => vec![Branch::Unmatched(group)],
                }
            }
            Mechanism::Include(spec) => {
                let target = self.target(Some(spec), domain, &mut group)?;
                match self.select(&target, &mut group.state).await {
                    Err(halt) => vec![Branch::Ended(group, halt)],
                    Ok(None) => vec![Branch::Ended(
                        group,
                        Halt::Perm(format!("include:{target}: no SPF record there")),
                    )],
                    // §5.2's table: only `pass` matches; errors end the evaluation.
                    Ok(Some(text)) => self
                        .evaluate(group, target, text)
                        .await?
                        .into_iter()
                        .map(|(group, flow)| match flow {
                            Ok(SpfResult::Pass) => Branch::Matched(group),
                            Ok(_) => Branch::Unmatched(group),
                            Err(halt) => Branch::Ended(group, halt),
                        })
                        .collect(),
                }
            }
        })
    }

    /// Every exchange's addresses, all looked up before matching as the per-pair `mx` does.
    async fn mx_addresses(&self, target: &str, state: &mut State) -> Result<Vec<IpAddr>, Halt> {
        let answer = match self.lookup_data(target, QType::Mx, state).await? {
            Some(Data::Mx(targets)) => targets,
            _ => return Ok(Vec::new()),
        };
        if answer.len() > MAX_NAMES {
            return Err(Halt::Perm(format!(
                "{target} has more than {MAX_NAMES} MX records"
            )));
        }
        // Sorted as references: the shared answer's names are not copied.
        let mut exchanges: Vec<&MxTarget> = answer.iter().collect();
        exchanges.sort_unstable();
        let mut all = Vec::new();
        for mx in exchanges.into_iter().filter(|m| !m.exchange.is_empty()) {
            all.extend(self.addresses(&mx.exchange, state).await?);
        }
        Ok(all)
    }

    async fn addresses(&self, name: &str, state: &mut State) -> Result<Vec<IpAddr>, Halt> {
        Ok(match self.lookup_data(name, self.family, state).await? {
            Some(Data::Addrs(addrs)) => addrs,
            _ => Vec::new(),
        })
    }

    fn target(
        &self,
        spec: Option<&MacroString>,
        domain: &str,
        group: &mut Group,
    ) -> Result<String, ReadsClient> {
        match spec {
            Some(spec) => self.expand(spec, domain, group),
            None => Ok(domain.to_string()),
        }
    }

    fn expand(
        &self,
        spec: &MacroString,
        domain: &str,
        group: &mut Group,
    ) -> Result<String, ReadsClient> {
        if spec.uses_ip() {
            return Err(ReadsClient);
        }
        let cx = MacroContext {
            local: &self.identity.local,
            sender_domain: &self.identity.domain,
            domain,
            // Read by `%{i}`, `%{p}`, `%{v}` only, refused above.
            ip: group.ips[0],
            helo: "unknown",
        };
        let expanded = spec.expand_domain(&cx, None, &mut group.state.used);
        Ok(expanded.to_ascii_lowercase())
    }
}

fn count_term(state: &mut State, term: &str) -> Result<(), Halt> {
    state.terms += 1;
    if state.terms > MAX_TERMS {
        return Err(Halt::Perm(format!(
            "more than {MAX_TERMS} DNS-querying terms (at {term})"
        )));
    }
    Ok(())
}

fn result_of(qualifier: Qualifier) -> SpfResult {
    match qualifier {
        Qualifier::Pass => SpfResult::Pass,
        Qualifier::Fail => SpfResult::Fail,
        Qualifier::SoftFail => SpfResult::SoftFail,
        Qualifier::Neutral => SpfResult::Neutral,
    }
}

/// The group's clients that `matches`, then the others, each part only if it has clients.
fn split(group: Group, matches: impl Fn(IpAddr) -> bool) -> Vec<Branch> {
    // Most terms match all of a group or none of it (one client, often): no partition then.
    let hits = group.ips.iter().filter(|ip| matches(**ip)).count();
    if group.ips.is_empty() {
        return Vec::new();
    }
    if hits == group.ips.len() {
        return vec![Branch::Matched(group)];
    }
    if hits == 0 {
        return vec![Branch::Unmatched(group)];
    }
    let (hit, miss): (Vec<IpAddr>, Vec<IpAddr>) =
        group.ips.into_iter().partition(|ip| matches(*ip));
    let mut branches = Vec::with_capacity(2);
    if !hit.is_empty() {
        branches.push(Branch::Matched(Group {
            ips: hit,
            state: group.state.clone(),
        }));
    }
    if !miss.is_empty() {
        branches.push(Branch::Unmatched(Group {
            ips: miss,
            state: group.state,
        }));
    }
    branches
}

fn in_net(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    IpNet::new(net, len).is_some_and(|n| n.contains(ip))
}

fn in_cidr(ip: IpAddr, addr: IpAddr, v4: u8, v6: u8) -> bool {
    in_net(ip, addr, if addr.is_ipv4() { v4 } else { v6 })
}

#[cfg(test)]
mod tests;
