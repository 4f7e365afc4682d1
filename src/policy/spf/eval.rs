//! The evaluation itself: record selection (§4.5), terms left to right (§4.6), mechanisms
//! (§5), `redirect=` (§6.1) and the processing limits (§4.6.4), counted as terms are
//! evaluated. An error ends the evaluation at once, whatever `include` depth it happens at:
//! it is carried up as [`Stop`] rather than as a result, so no level can mistake it for a
//! non-match.

use std::net::IpAddr;
use std::time::Duration;

use futures::future::BoxFuture;

use super::macros::{MacroContext, MacroString, Used};
use super::record::{Mechanism, Qualifier, is_spf_record, parse_shared};
use super::{Identity, SpfEvaluation, SpfStep, StepKind};
use crate::dns::{Answer, Data, Lookup, Outcome, QType};
use crate::model::SpfResult;
use crate::net::IpNet;

/// DNS-querying terms one evaluation may evaluate (§4.6.4).
pub(super) const MAX_TERMS: u32 = 10;
/// Lookups answering nothing one evaluation may meet (§4.6.4).
pub(super) const MAX_VOIDS: u32 = 2;
/// MX records an `mx` mechanism may have, and PTR names `ptr` and `%{p}` look at.
pub(super) const MAX_NAMES: usize = 10;

/// Why an evaluation ended early.
enum Stop {
    Temp(String),
    Perm(String),
}

type Flow<T> = Result<T, Stop>;

pub(super) async fn run<L: Lookup>(
    lookup: &L,
    ip: IpAddr,
    identity: &Identity,
    helo: Option<&str>,
    deadline: Duration,
    trace: bool,
) -> SpfEvaluation {
    let mut eval = Eval {
        lookup,
        ip,
        identity,
        helo: helo.unwrap_or("unknown"),
        helo_known: helo.is_some(),
        terms: 0,
        voids: 0,
        used: Used::default(),
        ptr_names: None,
        trace,
        steps: Vec::new(),
        depth: 0,
        decided_by: None,
    };
    let outcome = match tokio::time::timeout(deadline, eval.top()).await {
        Ok(outcome) => outcome,
        Err(_) => Err(Stop::Temp(format!(
            "evaluation deadline of {deadline:?} passed"
        ))),
    };
    eval.finish(outcome)
}

struct Eval<'a, L> {
    lookup: &'a L,
    ip: IpAddr,
    identity: &'a Identity,
    helo: &'a str,
    helo_known: bool,
    terms: u32,
    voids: u32,
    used: Used,
    /// The validated PTR names, once `ptr` or `%{p}` needed them.
    ptr_names: Option<Vec<String>>,
    trace: bool,
    steps: Vec<SpfStep>,
    depth: u32,
    decided_by: Option<String>,
}

impl<'a, L: Lookup> Eval<'a, L> {
    async fn top(&mut self) -> Flow<SpfResult> {
        let domain = self.identity.domain.to_ascii_lowercase();
        if !is_checkable_domain(&domain) {
            self.note(|| format!("{domain:?} is not a domain SPF can check"));
            return Ok(SpfResult::None);
        }
        match self.select(&domain).await? {
            None => Ok(SpfResult::None),
            Some(text) => self.evaluate(domain, text).await,
        }
    }

    fn finish(mut self, outcome: Flow<SpfResult>) -> SpfEvaluation {
        let (result, error) = match outcome {
            Ok(result) => (result, None),
            Err(Stop::Temp(why)) => (SpfResult::TempError, Some(why)),
            Err(Stop::Perm(why)) => (SpfResult::PermError, Some(why)),
        };
        if let Some(why) = &error {
            self.note(|| why.clone());
        }
        let needs_sender =
            (self.used.local && self.identity.stand_in) || (self.used.helo && !self.helo_known);
        SpfEvaluation {
            result,
            decided_by: self.decided_by,
            error,
            needs_sender,
            terms: self.terms,
            voids: self.voids,
            steps: self.steps,
        }
    }

    /// Keeps a step for `check`; built only then, so an audit pays nothing for the trace.
    fn step(&mut self, kind: impl FnOnce() -> StepKind) {
        if self.trace {
            self.steps.push(SpfStep {
                depth: self.depth,
                kind: kind(),
            });
        }
    }

    fn note(&mut self, text: impl FnOnce() -> String) {
        self.step(|| StepKind::Note(text()));
    }

    /// Asks DNS, unless `name` cannot be a DNS name: then the answer is "nothing", without
    /// a question and without counting as void (pyspf's behaviour).
    async fn ask(&mut self, name: &str, qtype: QType) -> Option<Answer> {
        if !is_dns_name(name) {
            self.note(|| format!("{name:?} is not a DNS name: not asked"));
            return None;
        }
        let answer = self.lookup.lookup(name, qtype).await;
        self.step(|| StepKind::Lookup {
            name: name.to_string(),
            qtype,
            answer: answer.clone(),
        });
        Some(answer)
    }

    /// The data of an answer; a failure stops the evaluation as `temperror`; no data
    /// counts as a void lookup, and a third one stops it as `permerror`.
    fn data(&mut self, name: &str, qtype: QType, answer: Option<Answer>) -> Flow<Option<Data>> {
        let Some(answer) = answer else {
            return Ok(None);
        };
        match answer.outcome {
            Outcome::Found(data) => Ok(Some(data)),
            Outcome::Failed(f) => Err(Stop::Temp(format!("{name} {}: {f}", qtype.as_str()))),
            Outcome::NxDomain | Outcome::NoData => {
                self.voids += 1;
                if self.voids > MAX_VOIDS {
                    return Err(Stop::Perm(format!(
                        "more than {MAX_VOIDS} void lookups ({name} {})",
                        qtype.as_str()
                    )));
                }
                Ok(None)
            }
        }
    }

    async fn lookup_data(&mut self, name: &str, qtype: QType) -> Flow<Option<Data>> {
        let answer = self.ask(name, qtype).await;
        self.data(name, qtype, answer)
    }

    /// The one SPF record at `domain` (§4.5): `None` when there is none or `domain` cannot
    /// be asked; several are a `permerror`.
    async fn select(&mut self, domain: &str) -> Flow<Option<String>> {
        let texts = match self.lookup_data(domain, QType::Txt).await? {
            Some(Data::Txt(texts)) => texts,
            _ => Vec::new(),
        };
        let mut records = texts.into_iter().filter(|t| is_spf_record(t));
        let record = records.next();
        if records.next().is_some() {
            return Err(Stop::Perm(format!("{domain} has several SPF records")));
        }
        self.step(|| StepKind::Record {
            domain: domain.to_string(),
            record: record.clone(),
        });
        Ok(record)
    }

    /// Evaluates the record `text` published at `domain`.
    fn evaluate(&mut self, domain: String, text: String) -> BoxFuture<'_, Flow<SpfResult>> {
        Box::pin(async move {
            let parsed = parse_shared(&text);
            let record = match parsed.as_ref() {
                Ok(record) => record,
                Err(e) => return Err(Stop::Perm(format!("{domain}: {e}"))),
            };
            for directive in &record.directives {
                self.step(|| StepKind::Term(directive.text.clone()));
                if directive.mechanism.queries_dns() {
                    self.count_term(&directive.text)?;
                }
                if self.matches(&directive.mechanism, &domain).await? {
                    let result = match directive.qualifier {
                        Qualifier::Pass => SpfResult::Pass,
                        Qualifier::Fail => SpfResult::Fail,
                        Qualifier::SoftFail => SpfResult::SoftFail,
                        Qualifier::Neutral => SpfResult::Neutral,
                    };
                    self.note(|| format!("{} matches: {result}", directive.text));
                    self.decided_by = Some(format!("{} at {domain}", directive.text));
                    return Ok(result);
                }
            }
            let Some(spec) = &record.redirect else {
                self.note(|| "no term matched: neutral".into());
                return Ok(SpfResult::Neutral);
            };
            self.step(|| StepKind::Term("redirect=".to_string()));
            self.count_term("redirect=")?;
            let target = self.expand(spec, &domain).await?;
            self.decided_by = Some(format!("redirect={target} at {domain}"));
            let Some(text) = self.select(&target).await? else {
                return Err(Stop::Perm(format!(
                    "redirect={target}: no SPF record there"
                )));
            };
            // The target's record replaces this one (§6.1): same depth, same counts.
            self.evaluate(target, text).await
        })
    }

    fn count_term(&mut self, term: &str) -> Flow<()> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(Stop::Perm(format!(
                "more than {MAX_TERMS} DNS-querying terms (at {term})"
            )));
        }
        Ok(())
    }

    async fn matches(&mut self, mechanism: &Mechanism, domain: &str) -> Flow<bool> {
        let family = QType::for_ip(self.ip);
        match mechanism {
            Mechanism::All => Ok(true),
            // Each matches its own family only (an IPv4-mapped client is IPv4).
            Mechanism::Ip4(net, len) => {
                Ok(self.ip.is_ipv4() && self.in_net(IpAddr::V4(*net), *len))
            }
            Mechanism::Ip6(net, len) => {
                Ok(self.ip.is_ipv6() && self.in_net(IpAddr::V6(*net), *len))
            }
            Mechanism::A {
                domain: spec,
                v4,
                v6,
            } => {
                let target = self.target(spec.as_ref(), domain).await?;
                let addrs = self.addresses(&target, family).await?;
                Ok(addrs.iter().any(|a| self.in_cidr(*a, *v4, *v6)))
            }
            Mechanism::Mx {
                domain: spec,
                v4,
                v6,
            } => {
                let target = self.target(spec.as_ref(), domain).await?;
                let mut exchanges = match self.lookup_data(&target, QType::Mx).await? {
                    Some(Data::Mx(targets)) => targets.to_vec(),
                    _ => Vec::new(),
                };
                if exchanges.len() > MAX_NAMES {
                    return Err(Stop::Perm(format!(
                        "{target} has more than {MAX_NAMES} MX records"
                    )));
                }
                exchanges.sort();
                // Every exchange is looked up before matching, as pyspf does, so the void
                // count does not depend on the order of the records.
                let mut found = false;
                for mx in exchanges.iter().filter(|m| !m.exchange.is_empty()) {
                    let addrs = self.addresses(&mx.exchange, family).await?;
                    found |= addrs.iter().any(|a| self.in_cidr(*a, *v4, *v6));
                }
                Ok(found)
            }
            Mechanism::Ptr(spec) => {
                let target = self.target(spec.as_ref(), domain).await?;
                let names = self.validated_names().await?;
                Ok(names.iter().any(|n| is_same_or_below(n, &target)))
            }
            Mechanism::Exists(spec) => {
                let target = self.target(Some(spec), domain).await?;
                Ok(matches!(
                    self.lookup_data(&target, QType::A).await?,
                    Some(Data::Addrs(a)) if !a.is_empty()
                ))
            }
            Mechanism::Include(spec) => {
                let target = self.target(Some(spec), domain).await?;
                self.depth += 1;
                let result = match self.select(&target).await {
                    Ok(Some(text)) => self.evaluate(target.clone(), text).await,
                    Ok(None) => Err(Stop::Perm(format!("include:{target}: no SPF record there"))),
                    Err(stop) => Err(stop),
                };
                self.depth -= 1;
                // temperror and permerror came back as `Stop` (§5.2's table).
                let result = result?;
                if result != SpfResult::Pass {
                    self.note(|| format!("include:{target}: {result}, not a match"));
                }
                Ok(result == SpfResult::Pass)
            }
        }
    }

    /// The domain a mechanism names: its expanded domain-spec, or the current domain.
    async fn target(&mut self, spec: Option<&MacroString>, domain: &str) -> Flow<String> {
        match spec {
            Some(spec) => self.expand(spec, domain).await,
            None => Ok(domain.to_string()),
        }
    }

    async fn expand(&mut self, spec: &MacroString, domain: &str) -> Flow<String> {
        let ptr = if spec.needs_ptr() {
            let names = self.validated_names().await?;
            Some(p_macro(&names, domain))
        } else {
            None
        };
        let cx = MacroContext {
            local: &self.identity.local,
            sender_domain: &self.identity.domain,
            domain,
            ip: self.ip,
            helo: self.helo,
        };
        let expanded = spec.expand_domain(&cx, ptr.as_deref(), &mut self.used);
        Ok(expanded.to_ascii_lowercase())
    }

    async fn addresses(&mut self, name: &str, qtype: QType) -> Flow<Vec<IpAddr>> {
        Ok(match self.lookup_data(name, qtype).await? {
            Some(Data::Addrs(addrs)) => addrs,
            _ => Vec::new(),
        })
    }

    /// The client's PTR names whose addresses include it (§5.5), at most 10 looked at; a
    /// name whose address lookup fails is skipped, and so is the whole list when the PTR
    /// lookup itself fails (the mechanism then matches nothing).
    async fn validated_names(&mut self) -> Flow<Vec<String>> {
        if let Some(names) = &self.ptr_names {
            return Ok(names.clone());
        }
        let reverse = reverse_name(self.ip);
        let answer = self.ask(&reverse, QType::Ptr).await;
        let names = match answer {
            Some(Answer {
                outcome: Outcome::Failed(_),
                ..
            }) => Vec::new(),
            other => match self.data(&reverse, QType::Ptr, other)? {
                Some(Data::Ptr(names)) => names,
                _ => Vec::new(),
            },
        };
        let family = QType::for_ip(self.ip);
        let mut validated = Vec::new();
        for name in names.into_iter().take(MAX_NAMES) {
            let answer = self.ask(&name, family).await;
            if matches!(
                answer,
                Some(Answer {
                    outcome: Outcome::Failed(_),
                    ..
                })
            ) {
                continue;
            }
            if let Some(Data::Addrs(addrs)) = self.data(&name, family, answer)?
                && addrs.contains(&self.ip)
            {
                validated.push(name);
            }
        }
        self.ptr_names = Some(validated.clone());
        Ok(validated)
    }

    fn in_net(&self, net: IpAddr, len: u8) -> bool {
        IpNet::new(net, len).is_some_and(|n| n.contains(self.ip))
    }

    fn in_cidr(&self, addr: IpAddr, v4: u8, v6: u8) -> bool {
        self.in_net(addr, if addr.is_ipv4() { v4 } else { v6 })
    }
}

/// `%{p}` (§7.3): the current domain if validated, else a validated name below it, else
/// the first validated name, else `unknown`.
fn p_macro(names: &[String], domain: &str) -> String {
    names
        .iter()
        .find(|n| *n == domain)
        .or_else(|| names.iter().find(|n| is_same_or_below(n, domain)))
        .or_else(|| names.first())
        .cloned()
        .unwrap_or_else(|| "unknown".into())
}

fn is_same_or_below(name: &str, domain: &str) -> bool {
    name == domain
        || (name.len() > domain.len()
            && name.ends_with(domain)
            && name.as_bytes()[name.len() - domain.len() - 1] == b'.')
}

/// `in-addr.arpa` or `ip6.arpa` name of `ip`.
fn reverse_name(ip: IpAddr) -> String {
    let dotted = super::macros::dotted(ip);
    let mut parts: Vec<&str> = dotted.split('.').collect();
    parts.reverse();
    let suffix = if ip.is_ipv4() { "in-addr" } else { "ip6" };
    format!("{}.{suffix}.arpa", parts.join("."))
}

/// Labels of 1 to 63 bytes, 253 bytes in all.
pub(super) fn is_dns_name(name: &str) -> bool {
    // Split as bytes: a `str` split on a `char` was a percent of an SPF audit's instructions.
    let labels_fit = || name.as_bytes().split(|&b| b == b'.');
    !name.is_empty() && name.len() <= 253 && labels_fit().all(|l| (1..=63).contains(&l.len()))
}

/// §4.3: a domain `check_host()` can start from: a DNS name of at least two labels, made of
/// visible ASCII and no domain literal.
pub(super) fn is_checkable_domain(domain: &str) -> bool {
    is_dns_name(domain)
        && domain.contains('.')
        && domain
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'[' && b != b']' && b != b'@')
}
