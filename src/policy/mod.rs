//! The MAIL-FROM check of docs/design.md §2 as pure logic over [`Lookup`]: MX at `MAIL-FROM.D`, the
//! client's address family at each target, delegation through `MAIL-FROM.T` (the critique's
//! recursion) breadth-first by preference then name, with a visited set, a depth limit and a
//! per-evaluation lookup budget. Each distinct (name, type) counts once against the budget
//! whether the cache or the network answers it, so a verdict never depends on cache state.

mod batch;
mod domain;
mod fast_set;
mod pair;
pub(crate) mod propose;
pub(crate) mod relays;
mod rule;
pub mod spf;
#[cfg(test)]
mod test_support;

use std::collections::HashSet;
use std::net::IpAddr;
use std::time::Duration;

use crate::dns::{Answer, Data, Failure, Lookup, MxTarget, Outcome, QType, Source};
use crate::model::Verdict;
use crate::model::address::is_host_name;
use crate::net::IpNet;
pub use batch::evaluate_all;
use fast_set::{FastMap, FastSet};
pub use pair::{spf_for, verdict_for};
pub use rule::{Limit, Rule};

/// A configured relay that is always permitted (`--perimeter`, `--forwarder`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trusted {
    /// What `matched` says: `perimeter:192.0.2.0/24`.
    pub label: String,
    pub net: IpNet,
}

#[derive(Clone, Debug)]
pub struct PolicyConfig {
    pub trusted: Vec<Trusted>,
    /// Delegation levels followed; 0 is the draft's one-level check.
    pub max_depth: u32,
    /// Distinct DNS questions one evaluation may ask.
    pub max_lookups: u32,
    pub eval_timeout: Duration,
    /// Keep every step for `check`; audits leave it off.
    pub trace: bool,
    /// Evaluate SPF beside the MAIL-FROM check (docs/design.md §2b); `--no-spf` turns it off.
    pub spf: bool,
}

/// docs/design.md §2.5's limits when none are given; `config::defaults` offers them to the flags.
pub const DEFAULT_MAX_DEPTH: u32 = 10;
pub const DEFAULT_MAX_LOOKUPS: u32 = 100;
pub const DEFAULT_EVAL_TIMEOUT: Duration = Duration::from_secs(20);

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            trusted: Vec::new(),
            max_depth: DEFAULT_MAX_DEPTH,
            max_lookups: DEFAULT_MAX_LOOKUPS,
            eval_timeout: DEFAULT_EVAL_TIMEOUT,
            trace: false,
            spf: true,
        }
    }
}

/// One question asked during an evaluation (kept when tracing).
#[derive(Clone, Debug)]
pub struct Step {
    /// Delegation level: 0 for `MAIL-FROM.D` and its targets.
    pub depth: u32,
    pub name: String,
    pub qtype: QType,
    pub answer: Answer,
    /// This question's number against `--max-lookups`.
    pub count: u32,
}

#[derive(Clone, Debug)]
pub struct Evaluation {
    pub verdict: Verdict,
    pub matched: Option<String>,
    /// Relay names discovered, sorted.
    pub relays: Vec<String>,
    pub reason: Option<String>,
    /// The rule that decided (for `check`).
    pub rule: Rule,
    pub lookups: u32,
    pub steps: Vec<Step>,
}

/// Evaluates one (domain, client) pair. `domain` is a normalised sender domain.
pub async fn evaluate<L: Lookup>(
    lookup: &L,
    domain: &str,
    ip: IpAddr,
    cfg: &PolicyConfig,
) -> Evaluation {
    let ip = crate::net::canonical(ip);
    let mut evaluator = Evaluator::new(lookup, cfg);
    // The timeout ends an evaluation waiting on the network; one whose answers are all
    // ready (zone files, the cache) never waits, so `ask` checks the deadline as well.
    match tokio::time::timeout(cfg.eval_timeout, evaluator.run(domain, ip)).await {
        Ok(evaluation) => evaluation,
        // The evaluator is ours again once the timed-out future is dropped: what it asked
        // so far, and the question it was waiting for, stay visible to `check`.
        Err(_) => evaluator.deadline_passed(),
    }
}

/// Why a question was not asked.
enum Stop {
    /// The lookup budget ran out.
    OverBudget,
    /// `--eval-timeout` passed.
    Deadline,
}

struct Evaluator<'a, L> {
    lookup: &'a L,
    cfg: &'a PolicyConfig,
    deadline: tokio::time::Instant,
    /// Every question asked, checked in debug builds only: the walks never ask one twice
    /// (see [`Evaluator::ask`]), and keeping this set cost a hash and a copy of the name per
    /// question, a tenth of an audit's instructions (callgrind, docs/performance.md).
    #[cfg(debug_assertions)]
    asked: FastSet<(String, QType)>,
    count: u32,
    failures: Vec<String>,
    ignored: Vec<String>,
    /// The notes in `ignored`, so a policy listing thousands of bad names is not quadratic.
    noted: HashSet<String>,
    relays: FastSet<String>,
    steps: Vec<Step>,
    /// The question being waited for, as a step without its answer yet.
    waiting: Option<Step>,
}

impl<'a, L: Lookup> Evaluator<'a, L> {
    fn new(lookup: &'a L, cfg: &'a PolicyConfig) -> Self {
        Evaluator {
            lookup,
            cfg,
            deadline: tokio::time::Instant::now() + cfg.eval_timeout,
            #[cfg(debug_assertions)]
            asked: FastSet::default(),
            count: 0,
            failures: Vec::new(),
            ignored: Vec::new(),
            noted: HashSet::new(),
            relays: FastSet::default(),
            steps: Vec::new(),
            waiting: None,
        }
    }

    /// Asks one question, counted against `--max-lookups`. Every question of a walk is
    /// distinct by construction, so each counts once without a set of those asked: a relay
    /// is noted once (`fresh_targets` skips names in `relays`), so its address is asked
    /// once and `MAIL-FROM.<relay>` once, and the sender domain's own `MAIL-FROM` name is
    /// never asked again (the walks skip expanding the domain). Debug builds check it.
    async fn ask(&mut self, name: &str, qtype: QType, depth: u32) -> Result<Answer, Stop> {
        if tokio::time::Instant::now() >= self.deadline {
            return Err(Stop::Deadline);
        }
        #[cfg(debug_assertions)]
        assert!(
            self.asked.insert((name.to_string(), qtype)),
            "{name} {} asked twice in one walk",
            qtype.as_str()
        );
        if self.count >= self.cfg.max_lookups {
            return Err(Stop::OverBudget);
        }
        self.count += 1;
        if self.cfg.trace {
            self.waiting = Some(Step {
                depth,
                name: name.to_string(),
                qtype,
                answer: Answer::failed(Failure::Timeout, Source::Dns),
                count: self.count,
            });
        }
        let answer = self.lookup.lookup(name, qtype).await;
        self.waiting = None;
        if let Outcome::Failed(f) = &answer.outcome {
            self.failures
                .push(format!("{name} {}: {f}", qtype.as_str()));
        }
        if self.cfg.trace {
            self.steps.push(Step {
                depth,
                name: name.to_string(),
                qtype,
                answer: answer.clone(),
                count: self.count,
            });
        }
        Ok(answer)
    }

    /// The evaluation as it stood when `--eval-timeout` passed: `tempfail`, with the question
    /// still unanswered traced as a timeout.
    fn deadline_passed(&mut self) -> Evaluation {
        if let Some(step) = self.waiting.take() {
            self.steps.push(step);
        }
        self.failures.insert(
            0,
            format!("evaluation deadline of {:?} passed", self.cfg.eval_timeout),
        );
        self.finish(Verdict::Tempfail, None, Rule::DeadlinePassed)
    }

    async fn run(&mut self, domain: &str, ip: IpAddr) -> Evaluation {
        let policy_name = format!("mail-from.{domain}");
        let answer = match self.ask(&policy_name, QType::Mx, 0).await {
            Ok(answer) => answer,
            Err(Stop::Deadline) => return self.deadline_passed(),
            Err(Stop::OverBudget) => {
                return self.finish(Verdict::Permerror, None, Rule::NoQuestionAllowed);
            }
        };
        let targets = match answer.outcome {
            Outcome::Found(Data::Mx(t)) => t,
            Outcome::Found(_) | Outcome::NxDomain | Outcome::NoData => {
                return self.finish(Verdict::NoPolicy, None, "MAIL-FROM.D has no MX records");
            }
            Outcome::Failed(_) => {
                return self.finish(Verdict::Tempfail, None, "the MAIL-FROM.D lookup failed");
            }
        };
        if let Some(t) = self.cfg.trusted.iter().find(|t| t.net.contains(ip)) {
            let label = t.label.clone();
            self.note_targets(&targets);
            return self.finish(
                Verdict::Nonrepudiated,
                Some(label),
                "the client is a configured perimeter relay or forwarder",
            );
        }
        if targets.len() == 1 && targets[0].exchange.is_empty() {
            return self.finish(
                Verdict::Repudiated,
                None,
                "null MX: the domain says it sends no mail",
            );
        }
        let mut expanded: FastSet<String> = FastSet::default();
        expanded.insert(domain.to_string());
        let mut level = self.note_targets(&targets);
        let family = QType::for_ip(ip);
        let mut depth = 0;
        let mut over: Option<String> = None;
        'levels: while !level.is_empty() {
            for target in &level {
                match self.ask(target, family, depth).await {
                    Err(Stop::Deadline) => return self.deadline_passed(),
                    Err(Stop::OverBudget) => {
                        over = Some(format!("more than {} DNS lookups", self.cfg.max_lookups));
                        break 'levels;
                    }
                    Ok(Answer {
                        outcome: Outcome::Found(Data::Addrs(addrs)),
                        ..
                    }) if addrs.contains(&ip) => {
                        let name = target.clone();
                        return self.finish(
                            Verdict::Nonrepudiated,
                            Some(name),
                            "the client is an address of a permitted relay",
                        );
                    }
                    Ok(_) => {}
                }
            }
            if self.cfg.max_depth == 0 {
                break; // the draft's one-level check: no delegation at all
            }
            // Each name once, at its best preference: answers that repeat the same long list
            // (many relays delegating to one provider) must not pile up into a list of
            // relays × targets entries to sort.
            let mut delegated: FastMap<String, u16> = FastMap::default();
            for target in &level {
                if !expanded.insert(target.clone()) {
                    continue;
                }
                match self
                    .ask(&format!("mail-from.{target}"), QType::Mx, depth + 1)
                    .await
                {
                    Err(Stop::Deadline) => return self.deadline_passed(),
                    Err(Stop::OverBudget) => {
                        over = Some(format!("more than {} DNS lookups", self.cfg.max_lookups));
                        break 'levels;
                    }
                    Ok(Answer {
                        outcome: Outcome::Found(Data::Mx(targets)),
                        ..
                    }) => {
                        for t in targets.iter() {
                            if self.relays.contains(&t.exchange) {
                                continue;
                            }
                            let best = delegated.entry(t.exchange.clone()).or_insert(t.preference);
                            *best = (*best).min(t.preference);
                        }
                    }
                    Ok(_) => {}
                }
            }
            match self.delegated_level(delegated, depth) {
                Ok(next) => level = self.note_delegated(next),
                Err(why) => {
                    over = Some(why);
                    break;
                }
            }
            depth += 1;
        }
        self.conclude(over)
    }

    /// The next level's targets from the names delegated at `depth` (each at its best
    /// preference), or why the walk must stop: more delegation than `--max-depth` allows.
    /// At the limit the MAIL-FROM questions are still asked, so a policy is called too deep
    /// only when it really delegates further, not merely because it is long; there the
    /// next level is empty and the walk ends. Shared by the per-pair and per-domain walks.
    fn delegated_level(
        &mut self,
        delegated: FastMap<String, u16>,
        depth: u32,
    ) -> Result<Vec<MxTarget>, String> {
        let delegated: Vec<MxTarget> = delegated
            .into_iter()
            .map(|(exchange, preference)| MxTarget {
                preference,
                exchange,
            })
            .collect();
        if depth < self.cfg.max_depth {
            return Ok(delegated);
        }
        if self.fresh_targets(&delegated).is_empty() {
            return Ok(Vec::new());
        }
        Err(format!(
            "delegation deeper than --max-depth {}",
            self.cfg.max_depth
        ))
    }

    /// The verdict of a walk that matched nothing: `permerror` over a limit, else `tempfail`
    /// if a question on the way failed, else `repudiated`.
    fn conclude(&mut self, over: Option<String>) -> Evaluation {
        match over {
            Some(why) => {
                self.ignored.insert(0, why);
                self.finish(
                    Verdict::Permerror,
                    None,
                    "a lookup limit was reached before a match",
                )
            }
            None if !self.failures.is_empty() => self.finish(
                Verdict::Tempfail,
                None,
                "no match, and a lookup on the way failed",
            ),
            None => self.finish(
                Verdict::Repudiated,
                None,
                "no permitted relay has the client's address",
            ),
        }
    }

    /// Records new targets as relays and returns them in exploration order.
    fn note_targets(&mut self, targets: &[MxTarget]) -> Vec<String> {
        let fresh = self.fresh_targets(targets);
        self.relays.extend(fresh.iter().cloned());
        fresh
    }

    /// The valid targets not seen before, in exploration order (preference, then name). The
    /// root and names that are not host names are ignored, and said in `reason`.
    fn fresh_targets(&mut self, targets: &[MxTarget]) -> Vec<String> {
        // Each name once, at its best preference (the first met in exploration order):
        // sorted by name, the repeats are neighbours; no set is built for a handful of names.
        let mut sorted: Vec<&MxTarget> = targets.iter().collect();
        sorted.sort_unstable_by(|a, b| {
            (a.exchange.as_str(), a.preference).cmp(&(b.exchange.as_str(), b.preference))
        });
        sorted.dedup_by(|later, first| later.exchange == first.exchange);
        sorted.sort_unstable();
        let mut out: Vec<String> = Vec::with_capacity(sorted.len());
        for t in sorted {
            if t.exchange.is_empty() {
                continue; // a null MX among other targets contributes nothing
            }
            if self.relays.contains(&t.exchange) {
                continue; // checked when it was noted
            }
            if !is_host_name(&t.exchange) {
                self.note_invalid(&t.exchange);
                continue;
            }
            out.push(t.exchange.clone());
        }
        out
    }

    /// Notes a delegated level (from [`Evaluator::delegated_level`]: each name once, none
    /// noted before) as [`Evaluator::note_targets`] would, moving the names instead of
    /// copying them and without its dedup: a provider's list is met again by every customer
    /// delegating to it.
    fn note_delegated(&mut self, mut targets: Vec<MxTarget>) -> Vec<String> {
        debug_assert!(targets.iter().all(|t| !self.relays.contains(&t.exchange)));
        targets.sort_unstable();
        debug_assert!(targets.windows(2).all(|w| w[0].exchange != w[1].exchange));
        let mut out = Vec::with_capacity(targets.len());
        for t in targets {
            if t.exchange.is_empty() {
                continue;
            }
            if !is_host_name(&t.exchange) {
                self.note_invalid(&t.exchange);
                continue;
            }
            out.push(t.exchange);
        }
        self.relays.extend(out.iter().cloned());
        out
    }

    /// Notes a delegated level made ready before (`domain::Prepared`), as
    /// [`Evaluator::note_delegated`] notes the same names.
    fn note_ready(&mut self, level: &domain::ReadyLevel) -> Vec<String> {
        for name in &level.invalid {
            self.note_invalid(name);
        }
        self.relays.extend(level.relays.iter().cloned());
        level.relays.clone()
    }

    /// Says in `reason`, once, that a target is not a host name.
    fn note_invalid(&mut self, name: &str) {
        let note = format!("ignored invalid relay name {name:?}");
        if self.noted.insert(note.clone()) {
            self.ignored.push(note);
        }
    }

    fn finish(
        &mut self,
        verdict: Verdict,
        matched: Option<String>,
        rule: impl Into<Rule>,
    ) -> Evaluation {
        let mut reasons = Vec::new();
        if matches!(verdict, Verdict::Tempfail) {
            reasons.append(&mut self.failures);
        }
        reasons.append(&mut self.ignored);
        let mut relays: Vec<String> = self.relays.drain().collect();
        relays.sort_unstable(); // a set's names: no equal ones to keep in order
        Evaluation {
            verdict,
            matched,
            relays,
            reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
            rule: rule.into(),
            lookups: self.count,
            steps: std::mem::take(&mut self.steps),
        }
    }
}

#[cfg(test)]
mod tests;
