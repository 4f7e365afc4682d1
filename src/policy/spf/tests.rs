//! SPF without sockets: the whole RFC 7208 test suite through a fake lookup that answers
//! from each scenario's data (timeouts included), and a few checks of what the suite does
//! not cover (stand-in identities, counts, the trace).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use super::*;
use crate::dns::{Data, Failure, MxTarget, Outcome, Source};
use crate::model::SpfResult;
use crate::policy::test_support::said;

#[path = "../../../tests/integration/support/spf_suite.rs"]
mod suite;
use suite::Rec;

/// A scenario's DNS data as a [`Lookup`], with the suite driver's rules (see `suite`).
struct SuiteDns {
    zone: BTreeMap<String, Vec<Rec>>,
}

/// CNAME hops followed before the chain counts as a loop.
const MAX_HOPS: usize = 8;

impl SuiteDns {
    fn answer(&self, name: &str, qtype: QType, hops: usize) -> Outcome {
        let Some(records) = self.zone.get(name) else {
            return Outcome::NxDomain;
        };
        let mut data = Vec::new();
        for rec in records {
            let found = match (rec, qtype) {
                (Rec::Timeout, _) if data.is_empty() => return Outcome::Failed(Failure::Timeout),
                (Rec::Timeout, _) => break,
                (Rec::Cname(target), _) if hops < MAX_HOPS => {
                    return self.answer(target, qtype, hops + 1);
                }
                (Rec::Cname(_), _) => {
                    return Outcome::Failed(Failure::BadAnswer("CNAME loop".into()));
                }
                (Rec::A(a), QType::A) | (Rec::Aaaa(a), QType::Aaaa) => Rec::A(
                    a.parse::<IpAddr>()
                        .map(crate::net::canonical)
                        .unwrap()
                        .to_string(),
                ),
                (Rec::Txt(_), QType::Txt)
                | (Rec::Ptr(_), QType::Ptr)
                | (Rec::Mx(..), QType::Mx) => rec.clone(),
                _ => continue,
            };
            data.push(found);
        }
        if data.is_empty() {
            return Outcome::NoData;
        }
        Outcome::Found(match qtype {
            QType::A | QType::Aaaa => Data::Addrs(
                data.iter()
                    .map(|r| match r {
                        Rec::A(a) => a.parse().unwrap(),
                        _ => unreachable!(),
                    })
                    .collect(),
            ),
            QType::Txt => Data::Txt(
                data.into_iter()
                    .map(|r| match r {
                        Rec::Txt(t) => t,
                        _ => unreachable!(),
                    })
                    .collect(),
            ),
            QType::Ptr => Data::Ptr(
                data.into_iter()
                    .map(|r| match r {
                        Rec::Ptr(p) => p,
                        _ => unreachable!(),
                    })
                    .collect(),
            ),
            QType::Mx => Data::Mx(
                data.into_iter()
                    .map(|r| match r {
                        Rec::Mx(preference, exchange) => MxTarget {
                            preference,
                            exchange,
                        },
                        _ => unreachable!(),
                    })
                    .collect(),
            ),
        })
    }
}

impl Lookup for SuiteDns {
    async fn lookup(&self, name: &str, qtype: QType) -> Answer {
        Answer {
            outcome: self.answer(name, qtype, 0),
            ttl: 300,
            source: Source::Zone,
        }
    }
}

/// What `check` evaluates for a suite test: the sender, or with `<>` the HELO identity.
pub fn identity_of(mailfrom: &str, helo: &str) -> Identity {
    if mailfrom.is_empty() {
        Identity::helo(helo)
    } else {
        Identity::from_sender(mailfrom)
    }
}

#[tokio::test]
async fn rfc7208_suite_through_a_fake_lookup() {
    let mut failures = Vec::new();
    let mut run = 0;
    for scenario in suite::load() {
        let dns = SuiteDns {
            zone: scenario.zone.clone(),
        };
        for case in &scenario.cases {
            let ip: IpAddr = case.host.parse().unwrap_or_else(|_| {
                panic!("{}: host {:?} is not an address", case.name, case.host)
            });
            let identity = identity_of(&case.mailfrom, &case.helo);
            let eval = check_host(
                &dns,
                ip,
                &identity,
                Some(&case.helo),
                Duration::from_secs(5),
                false,
            )
            .await;
            run += 1;
            if !case.results.iter().any(|r| r == eval.result.as_str()) {
                failures.push(format!(
                    "{} ({}): got {} ({:?}), want {:?}",
                    case.name, scenario.description, eval.result, eval.error, case.results
                ));
            }
        }
    }
    assert!(run >= 200, "only {run} tests in the suite");
    assert!(
        failures.is_empty(),
        "{} of {run} suite tests failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The suite's records as an audit meets them (`postmaster@D`, no HELO): for every domain a
/// case names, with all the scenario's clients at once, the per-domain evaluation says what
/// `check_host()` says per pair, wherever it answers; and it answers most of them.
#[tokio::test]
async fn per_domain_evaluation_agrees_on_the_suite_records() {
    let t = Duration::from_secs(5);
    let (mut answered, mut asked) = (0, 0);
    let mut disagreements = Vec::new();
    for scenario in suite::load() {
        let dns = SuiteDns {
            zone: scenario.zone.clone(),
        };
        let clients: Vec<IpAddr> = scenario
            .cases
            .iter()
            .filter_map(|c| c.host.parse().ok())
            .collect();
        let mut domains: Vec<String> = scenario
            .cases
            .iter()
            .map(|c| identity_of(&c.mailfrom, &c.helo).domain)
            .collect();
        domains.sort();
        domains.dedup();
        for domain in domains {
            let expanded = expand_spf(&dns, &domain, &clients, t).await;
            for &ip in &clients {
                asked += 1;
                let Some(got) = expanded.answer(ip) else {
                    continue;
                };
                answered += 1;
                let want = check_host(&dns, ip, &Identity::pair(&domain), None, t, false).await;
                if said(&got) != said(&want) {
                    disagreements.push(format!(
                        "{domain} from {ip} ({}): {:?} per domain, {:?} per pair",
                        scenario.description,
                        said(&got),
                        said(&want)
                    ));
                }
            }
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    assert!(
        answered * 10 >= asked * 7,
        "only {answered} of {asked} answered per domain"
    );
}

fn world(zone: &[(&str, Vec<Rec>)]) -> SuiteDns {
    SuiteDns {
        zone: zone
            .iter()
            .map(|(n, r)| (n.to_string(), r.clone()))
            .collect(),
    }
}

#[tokio::test]
async fn a_pair_says_when_its_result_rests_on_the_stand_in_sender() {
    let dns = world(&[
        (
            "lp.example",
            vec![Rec::Txt("v=spf1 exists:%{l}.ok.lp.example -all".into())],
        ),
        ("postmaster.ok.lp.example", vec![Rec::A("192.0.2.1".into())]),
        (
            "plain.example",
            vec![Rec::Txt("v=spf1 ip4:192.0.2.0/24 -all".into())],
        ),
        (
            "helo.example",
            vec![Rec::Txt("v=spf1 exists:%{h}.helo.example -all".into())],
        ),
    ]);
    let ip: IpAddr = "192.0.2.1".parse().unwrap();
    let t = Duration::from_secs(5);
    let pair = check_host(&dns, ip, &Identity::pair("lp.example"), None, t, false).await;
    assert_eq!((pair.result, pair.needs_sender), (SpfResult::Pass, true));
    let real = Identity::from_sender("postmaster@lp.example");
    let sender = check_host(&dns, ip, &real, None, t, false).await;
    assert_eq!(
        (sender.result, sender.needs_sender),
        (SpfResult::Pass, false)
    );
    let plain = check_host(&dns, ip, &Identity::pair("plain.example"), None, t, false).await;
    assert_eq!((plain.result, plain.needs_sender), (SpfResult::Pass, false));
    let helo = check_host(&dns, ip, &Identity::pair("helo.example"), None, t, false).await;
    assert_eq!((helo.result, helo.needs_sender), (SpfResult::Fail, true));
}

#[test]
fn senders_are_taken_literally() {
    let id = Identity::from_sender("Macro Error@a@example.com.");
    assert_eq!(
        (id.local.as_str(), id.domain.as_str()),
        ("Macro Error@a", "example.com")
    );
    let id = Identity::from_sender("@example.net");
    assert_eq!(id.local, "postmaster");
    assert!(!id.stand_in);
    assert!(Identity::pair("example.net").stand_in);
}

#[tokio::test]
async fn limits_count_terms_and_voids_and_the_trace_shows_the_deciding_term() {
    let includes: Vec<String> = (0..10).map(|i| format!("include:i{i}.example")).collect();
    let mut zone = vec![(
        "top.example".to_string(),
        vec![Rec::Txt(format!("v=spf1 {} -all", includes.join(" ")))],
    )];
    for i in 0..10 {
        zone.push((
            format!("i{i}.example"),
            vec![Rec::Txt("v=spf1 ip4:198.51.100.1 -all".into())],
        ));
    }
    zone.push((
        "void.example".into(),
        vec![Rec::Txt(
            "v=spf1 a:n1.void.example a:n2.void.example a:n3.void.example -all".into(),
        )],
    ));
    let dns = SuiteDns {
        zone: zone.into_iter().collect(),
    };
    let ip: IpAddr = "192.0.2.1".parse().unwrap();
    let t = Duration::from_secs(5);
    let at_limit = check_host(&dns, ip, &Identity::pair("top.example"), None, t, true).await;
    assert_eq!((at_limit.result, at_limit.terms), (SpfResult::Fail, 10));
    assert_eq!(at_limit.decided_by.as_deref(), Some("-all at top.example"));
    assert!(
        at_limit.steps.iter().any(
            |s| matches!(&s.kind, StepKind::Term(t) if t == "ip4:198.51.100.1") && s.depth == 1
        ),
        "{:?}",
        at_limit.steps
    );
    let voids = check_host(&dns, ip, &Identity::pair("void.example"), None, t, false).await;
    assert_eq!((voids.result, voids.voids), (SpfResult::PermError, 3));
}
