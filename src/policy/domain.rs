//! One evaluation per domain (docs/design.md §2, §7): the MAIL-FROM walk of one sender domain
//! and address family, done once for every client of that domain an audit holds, instead of
//! once per pair. The walk's questions depend on the client only through its family (A or
//! AAAA) and through where it stops (the first relay holding the client's address), so one
//! walk that records, for each client, the relay that first holds it and how far the walk
//! had got (relays noted, notes made, questions counted) answers each of them exactly as the
//! per-pair walk ([`super::evaluate`], the reference, which `check` still uses) would: limits,
//! failures on the way, the deadline and the exploration order included. The walk stops once
//! every client it was asked about is decided, so it asks no question the per-pair walks
//! would not have asked. A delegated list met again (the same shared answer, by identity) is
//! not merged twice, so relays that all delegate to one list cost linear work.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use super::fast_set::{FastMap, FastSet};
use super::{Evaluation, Evaluator, PolicyConfig, Rule, Stop};
use crate::dns::{Answer, Data, Lookup, MxTarget, Outcome, QType};
use crate::model::Verdict;
pub use prepared::Prepared;
pub(super) use prepared::ReadyLevel;

/// One client's result: what [`Evaluation`] says, with the relay list shared by every client
/// decided at the same point of the walk (a domain's rows hold one list, not one each).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decided {
    pub verdict: Verdict,
    pub matched: Option<String>,
    pub relays: Arc<[String]>,
    pub reason: Option<String>,
    pub rule: Rule,
    pub lookups: u32,
}

impl Decided {
    /// The per-pair walk's answer, with its relay list made shareable.
    pub(super) fn of(e: Evaluation) -> Decided {
        Decided {
            verdict: e.verdict,
            matched: e.matched,
            relays: e.relays.into(),
            reason: e.reason,
            rule: e.rule,
            lookups: e.lookups,
        }
    }
}

/// The clients' sets hash with foldhash, seeded per process as the run's cache is: every
/// address of every relay answer is looked up here, and SipHash was a few percent of an
/// audit's instructions; the addresses come from logs, so the hash stays keyed.
type ClientHash = foldhash::fast::RandomState;

/// Where a client's address was first found.
#[derive(Clone, Copy, Debug)]
struct Found {
    /// Index of the relay in [`DomainPolicy::order`].
    relay: usize,
    /// The level whose address questions found it.
    level: usize,
    /// Questions counted when it was found.
    lookups: u32,
}

/// What the walk came to, read per client by [`DomainPolicy::answer`].
#[derive(Debug, Default)]
pub struct DomainPolicy {
    /// The answer for every client: the walk ended before the policy's targets were known
    /// (no policy, the policy lookup failed, no question allowed, the deadline).
    all: Option<Decided>,
    /// Questions counted once the policy was known (what a perimeter relay is told).
    policy_lookups: u32,
    /// The policy is a null MX: every client not trusted is repudiated.
    null_mx: bool,
    /// Relays in the order they were noted (level by level, each in exploration order).
    order: Vec<String>,
    /// For each level: relays noted and notes made by the time its addresses were asked.
    levels: Vec<(usize, usize)>,
    /// Notes (ignored names) in the order they were made.
    notes: Vec<String>,
    /// Each level's relays, sorted, made at the first client that needs them.
    sorted: Vec<OnceLock<Arc<[String]>>>,
    found: HashMap<IpAddr, Found, ClientHash>,
    /// Clients asked about that no relay matched: they get `end`.
    pending: HashSet<IpAddr, ClientHash>,
    /// The answer for the clients no relay matched; `None` when the walk stopped early
    /// because every client was decided.
    end: Option<Decided>,
    /// Delegated targets looked at while merging lists: linear in the answers' sizes.
    examined: u64,
}

/// Walks `domain`'s policy once for the clients `wanted` of one address family (`family`:
/// A or AAAA), stopping as soon as each is decided.
/// `prepared` holds the delegated lists made ready by earlier walks of the run.
pub async fn expand<L: Lookup>(
    lookup: &L,
    domain: &str,
    family: QType,
    wanted: &[IpAddr],
    cfg: &PolicyConfig,
    prepared: &Prepared,
) -> DomainPolicy {
    let mut evaluator = Evaluator::new(lookup, cfg);
    let mut walk = Walk {
        policy: DomainPolicy::default(),
        merged: FastSet::default(),
        kept: Vec::new(),
    };
    // Kept in the walk, not in its future: a client still pending when the deadline passes
    // gets the deadline's answer.
    walk.policy.pending = wanted.iter().map(|ip| crate::net::canonical(*ip)).collect();
    let run = walk.run(&mut evaluator, domain, family, prepared);
    if tokio::time::timeout(cfg.eval_timeout, run).await.is_err() {
        let passed = Decided::of(evaluator.deadline_passed());
        walk.stopped(passed);
    }
    walk.policy
}

impl DomainPolicy {
    /// The result for `ip` (one of the clients the walk was asked about), as the per-pair
    /// walk gives it; `None` for a client it was not asked about.
    pub fn answer(&self, ip: IpAddr, cfg: &PolicyConfig) -> Option<Decided> {
        let ip = crate::net::canonical(ip);
        if let Some(all) = &self.all {
            return Some(all.clone());
        }
        if let Some(t) = cfg.trusted.iter().find(|t| t.net.contains(ip)) {
            return Some(Decided {
                verdict: Verdict::Nonrepudiated,
                matched: Some(t.label.clone()),
                relays: self.relays_at(0),
                reason: self.reason_at(0),
                rule: "the client is a configured perimeter relay or forwarder".into(),
                lookups: self.policy_lookups,
            });
        }
        if self.null_mx {
            return Some(Decided {
                verdict: Verdict::Repudiated,
                matched: None,
                relays: Arc::from([]),
                reason: None,
                rule: "null MX: the domain says it sends no mail".into(),
                lookups: self.policy_lookups,
            });
        }
        if let Some(f) = self.found.get(&ip) {
            return Some(Decided {
                verdict: Verdict::Nonrepudiated,
                matched: Some(self.order[f.relay].clone()),
                relays: self.relays_at(f.level),
                reason: self.reason_at(f.level),
                rule: "the client is an address of a permitted relay".into(),
                lookups: f.lookups,
            });
        }
        if self.pending.contains(&ip) {
            return self.end.clone();
        }
        None
    }

    /// Delegated targets examined while merging (the work issue 14's shared lists bound).
    #[cfg(test)]
    pub fn examined(&self) -> u64 {
        self.examined
    }

    fn relays_at(&self, level: usize) -> Arc<[String]> {
        let Some((count, _)) = self.levels.get(level) else {
            return Arc::from([]);
        };
        self.sorted[level]
            .get_or_init(|| {
                let mut v = self.order[..*count].to_vec();
                v.sort_unstable(); // each relay is noted once: no equal names
                v.into()
            })
            .clone()
    }

    fn reason_at(&self, level: usize) -> Option<String> {
        let notes = self.levels.get(level).map_or(0, |(_, n)| *n);
        (notes > 0).then(|| self.notes[..notes].join("; "))
    }
}

struct Walk {
    policy: DomainPolicy,
    /// Delegated lists merged already, by address; `kept` holds them so no address is reused.
    merged: FastSet<usize>,
    kept: Vec<Arc<[MxTarget]>>,
}

impl Walk {
    /// The walk ended at `end` (a limit, the deadline, or its natural end): every client
    /// still undecided gets it, and so does every client when the policy was not known yet.
    fn stopped(&mut self, end: Decided) {
        if self.policy.levels.is_empty() && !self.policy.null_mx {
            self.policy.all = Some(end);
        } else {
            self.policy.end = Some(end);
        }
    }

    /// Notes a level of relays and what is known while its addresses are asked; the level
    /// is the end of [`DomainPolicy::order`] from the index returned.
    fn note_level<L: Lookup>(&mut self, ev: &mut Evaluator<'_, L>, targets: Level<'_>) -> usize {
        let level = match targets {
            Level::Policy(targets) => ev.note_targets(targets),
            Level::Delegated(targets) => ev.note_delegated(targets),
            Level::Ready(level) => ev.note_ready(level),
        };
        let p = &mut self.policy;
        let first = p.order.len();
        p.order.extend(level);
        p.notes.extend(ev.ignored[p.notes.len()..].iter().cloned());
        p.levels.push((p.order.len(), ev.ignored.len()));
        p.sorted.push(OnceLock::new());
        first
    }

    async fn run<L: Lookup>(
        &mut self,
        ev: &mut Evaluator<'_, L>,
        domain: &str,
        family: QType,
        prepared: &Prepared,
    ) {
        // The MAIL-FROM names asked, built in one buffer.
        let mut name = String::with_capacity(64);
        policy_name(&mut name, domain);
        let answer = match ev.ask(&name, QType::Mx, 0).await {
            Ok(answer) => answer,
            Err(Stop::Deadline) => return self.stopped(Decided::of(ev.deadline_passed())),
            Err(Stop::OverBudget) => {
                let e = ev.finish(Verdict::Permerror, None, Rule::NoQuestionAllowed);
                return self.stopped(Decided::of(e));
            }
        };
        let targets = match answer.outcome {
            Outcome::Found(Data::Mx(t)) => t,
            Outcome::Found(_) | Outcome::NxDomain | Outcome::NoData => {
                let e = ev.finish(Verdict::NoPolicy, None, "MAIL-FROM.D has no MX records");
                return self.stopped(Decided::of(e));
            }
            Outcome::Failed(_) => {
                let e = ev.finish(Verdict::Tempfail, None, "the MAIL-FROM.D lookup failed");
                return self.stopped(Decided::of(e));
            }
        };
        self.policy.policy_lookups = ev.count;
        let trusted = &ev.cfg.trusted;
        self.policy
            .pending
            .retain(|ip| !trusted.iter().any(|t| t.net.contains(*ip)));
        if targets.len() == 1 && targets[0].exchange.is_empty() {
            self.policy.null_mx = true;
            return;
        }
        // Level 0 is noted before the walk, as for a perimeter relay in the per-pair walk.
        let mut first = self.note_level(ev, Level::Policy(&targets));
        if self.policy.pending.is_empty() {
            return;
        }
        let mut depth = 0;
        let mut over: Option<String> = None;
        'levels: while first < self.policy.order.len() {
            let level_index = self.policy.levels.len() - 1;
            let end = self.policy.order.len();
            for relay in first..end {
                let answer = ev.ask(&self.policy.order[relay], family, depth).await;
                match answer {
                    Err(Stop::Deadline) => return self.stopped(Decided::of(ev.deadline_passed())),
                    Err(Stop::OverBudget) => {
                        over = Some(format!("more than {} DNS lookups", ev.cfg.max_lookups));
                        break 'levels;
                    }
                    Ok(Answer {
                        outcome: Outcome::Found(Data::Addrs(addrs)),
                        ..
                    }) => {
                        for ip in addrs {
                            if self.policy.pending.remove(&ip) {
                                let found = Found {
                                    relay,
                                    level: level_index,
                                    lookups: ev.count,
                                };
                                self.policy.found.insert(ip, found);
                            }
                        }
                        if self.policy.pending.is_empty() {
                            return; // every client is decided: nothing more to ask
                        }
                    }
                    Ok(_) => {}
                }
            }
            if ev.cfg.max_depth == 0 {
                break; // the draft's one-level check: no delegation at all
            }
            self.start_delegations(ev, domain, first..end, &mut name);
            let mut lists: Vec<Arc<[MxTarget]>> = Vec::new();
            for relay in first..end {
                // Every relay is noted once, so in one level only: the names expanded
                // before are the earlier levels' and the domain's own, asked already.
                if self.policy.order[relay] == domain {
                    continue;
                }
                policy_name(&mut name, &self.policy.order[relay]);
                let answer = ev.ask(&name, QType::Mx, depth + 1).await;
                match answer {
                    Err(Stop::Deadline) => return self.stopped(Decided::of(ev.deadline_passed())),
                    Err(Stop::OverBudget) => {
                        over = Some(format!("more than {} DNS lookups", ev.cfg.max_lookups));
                        break 'levels;
                    }
                    Ok(Answer {
                        outcome: Outcome::Found(Data::Mx(targets)),
                        ..
                    }) => self.collect(targets, &mut lists),
                    Ok(_) => {}
                }
            }
            match self.delegate(ev, lists, depth, prepared) {
                Ok(next) => first = next,
                Err(why) => {
                    over = Some(why);
                    break;
                }
            }
            depth += 1;
        }
        let end = Decided::of(ev.conclude(over));
        self.stopped(end);
    }

    /// Starts at once the delegation questions (`MAIL-FROM.<relay>` MX) that the loop after
    /// it asks one at a time, so the loop finds their answers in the run's cache: a level of
    /// 40 relays costs one round trip instead of 40. That loop stops only at the question
    /// budget or the deadline, and each of its questions is new to the walk (so counts
    /// one), so exactly its questions up to the budget are started, and nothing it would not
    /// ask; it still counts and judges each one, in order. Started, not awaited
    /// ([`Lookup::start`]): nothing is held here while they run, and a question the run has
    /// asked before costs one look at the cache.
    fn start_delegations<L: Lookup>(
        &self,
        ev: &Evaluator<'_, L>,
        domain: &str,
        relays: std::ops::Range<usize>,
        name: &mut String,
    ) {
        let left = ev.cfg.max_lookups.saturating_sub(ev.count) as usize;
        let relays = self.policy.order[relays].iter();
        for relay in relays.filter(|relay| *relay != domain).take(left) {
            policy_name(name, relay);
            ev.lookup.start(name, QType::Mx);
        }
    }

    /// Keeps a delegation's list for the next level. A list merged before (the same shared
    /// answer) adds nothing new: in this level its names are in already, and from an
    /// earlier level they were noted as relays (or, not being host names, noted as
    /// ignored), so it is skipped.
    fn collect(&mut self, targets: Arc<[MxTarget]>, lists: &mut Vec<Arc<[MxTarget]>>) {
        let id = Arc::as_ptr(&targets).cast::<MxTarget>() as usize;
        if self.merged.insert(id) {
            self.kept.push(targets.clone());
            lists.push(targets);
        }
    }

    /// Notes the next level from the lists delegated to at `depth` (see
    /// [`Evaluator::delegated_level`] for the depth limit) and returns where it starts. A
    /// level of one list none of whose names is a relay yet is the list made ready once per
    /// run ([`Prepared`]); any other merges its lists here.
    fn delegate<L: Lookup>(
        &mut self,
        ev: &mut Evaluator<'_, L>,
        lists: Vec<Arc<[MxTarget]>>,
        depth: u32,
        prepared: &Prepared,
    ) -> Result<usize, String> {
        if let [only] = lists.as_slice()
            && depth < ev.cfg.max_depth
            && !only.iter().any(|t| ev.relays.contains(&t.exchange))
        {
            self.policy.examined += only.len() as u64;
            let level = prepared.level(only);
            return Ok(self.note_level(ev, Level::Ready(&level)));
        }
        let mut delegated: FastMap<String, u16> = FastMap::default();
        for list in &lists {
            self.merge(ev, list, &mut delegated);
        }
        let next = ev.delegated_level(delegated, depth)?;
        Ok(self.note_level(ev, Level::Delegated(next)))
    }

    /// Adds a delegation's targets to the next level, each name at its best preference;
    /// relays already noted are not.
    fn merge<L: Lookup>(
        &mut self,
        ev: &Evaluator<'_, L>,
        targets: &[MxTarget],
        delegated: &mut FastMap<String, u16>,
    ) {
        delegated.reserve(targets.len());
        for t in targets.iter() {
            self.policy.examined += 1;
            if ev.relays.contains(&t.exchange) {
                continue;
            }
            match delegated.get_mut(&t.exchange) {
                Some(best) => *best = (*best).min(t.preference),
                None => {
                    delegated.insert(t.exchange.clone(), t.preference);
                }
            }
        }
    }
}

/// A level's targets as the walk meets them: the policy's own answer, or the names its
/// relays delegated to (each once, at its best preference, none noted before).
enum Level<'a> {
    Policy(&'a [MxTarget]),
    Delegated(Vec<MxTarget>),
    /// A delegated list made ready before ([`Prepared`]).
    Ready(&'a ReadyLevel),
}

/// `MAIL-FROM.<target>` (lowercase, as the names are), into `buf`.
fn policy_name(buf: &mut String, target: &str) {
    buf.clear();
    buf.push_str("mail-from.");
    buf.push_str(target);
}

mod prepared;
#[cfg(test)]
mod tests;
