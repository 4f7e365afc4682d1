//! The per-domain walk against the per-pair walk (the reference) on generated worlds, and
//! the shared-list case of issue 14 counted in questions and merge steps, not timed.

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::dns::Failure;
use crate::policy::test_support::{Bytes, Table, Zoned, block_on, shared_delegation};
use crate::policy::{Trusted, evaluate};

/// Relay names: valid hosts, one that is not a host name, and the root (a null MX).
const TARGETS: [&str; 8] = [
    "h0.t",
    "h1.t",
    "h2.t",
    "h3.t",
    "h4.t",
    "h5.t",
    "bad_name.t",
    "",
];
/// Sender domains: two of their own and every valid relay (so policies can loop).
const DOMAINS: [&str; 8] = [
    "d0.t", "d1.t", "h0.t", "h1.t", "h2.t", "h3.t", "h4.t", "h5.t",
];
const V4: [&str; 4] = ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"];
const V6: [&str; 3] = ["2001:db8::1", "2001:db8::2", "::ffff:192.0.2.3"];
/// Every client asked about: each relay address, addresses no relay has, a mapped IPv4.
const CLIENTS: [&str; 9] = [
    "192.0.2.1",
    "192.0.2.2",
    "192.0.2.3",
    "192.0.2.4",
    "198.51.100.9",
    "::ffff:192.0.2.2",
    "2001:db8::1",
    "2001:db8::2",
    "2001:db8::99",
];

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A world: MX at every `mail-from.` name (lists sometimes shared with an earlier name, by
/// identity), addresses at every relay, with NXDOMAIN, NODATA and failures mixed in; and
/// limits, a perimeter and the clients each domain's walk is asked about.
fn world(bytes: &[u8]) -> (Table, PolicyConfig, Vec<bool>) {
    let mut b = Bytes::new(bytes);
    let mut table = Table::default();
    let mut lists: Vec<Arc<[MxTarget]>> = Vec::new();
    let mut names: Vec<&str> = DOMAINS.to_vec();
    names.extend(&TARGETS[..7]);
    for name in names {
        let outcome = match b.below(10) {
            0 => Outcome::NxDomain,
            1 => Outcome::NoData,
            2 => Outcome::Failed(Failure::ServFail),
            3 if !lists.is_empty() => {
                let shared = lists[b.below(lists.len())].clone();
                Outcome::Found(Data::Mx(shared))
            }
            _ => {
                let n = 1 + b.below(4);
                let list: Arc<[MxTarget]> = (0..n)
                    .map(|_| MxTarget {
                        preference: b.below(3) as u16,
                        exchange: TARGETS[b.below(TARGETS.len())].to_string(),
                    })
                    .collect();
                lists.push(list.clone());
                Outcome::Found(Data::Mx(list))
            }
        };
        table
            .answers
            .insert((format!("mail-from.{name}"), QType::Mx), outcome);
    }
    for host in &TARGETS[..7] {
        for (qtype, pool) in [(QType::A, &V4[..]), (QType::Aaaa, &V6[..])] {
            let outcome = match b.below(8) {
                0 => Outcome::NxDomain,
                1 => Outcome::NoData,
                2 => Outcome::Failed(Failure::Timeout),
                _ => {
                    let addrs: Vec<IpAddr> = pool
                        .iter()
                        .filter(|_| b.below(3) == 0)
                        .map(|a| ip(a))
                        .collect();
                    if addrs.is_empty() {
                        Outcome::NoData
                    } else {
                        Outcome::Found(Data::Addrs(addrs))
                    }
                }
            };
            table.answers.insert((host.to_string(), qtype), outcome);
        }
    }
    let mut trusted = Vec::new();
    if b.below(3) == 0 {
        trusted.push(Trusted {
            label: "perimeter:192.0.2.4/32".into(),
            net: "192.0.2.4/32".parse().unwrap(),
        });
        trusted.push(Trusted {
            label: "forwarder:2001:db8::2/128".into(),
            net: "2001:db8::2/128".parse().unwrap(),
        });
    }
    let cfg = PolicyConfig {
        trusted,
        max_depth: b.below(4) as u32,
        max_lookups: b.below(16) as u32,
        ..PolicyConfig::default()
    };
    let asked_about = (0..CLIENTS.len()).map(|_| b.below(3) != 0).collect();
    (table, cfg, asked_about)
}

/// Every domain, both families: the per-domain walk asked about `clients` answers each of
/// them exactly as the per-pair walk does.
fn compare(table: &Table, cfg: &PolicyConfig, clients: &[IpAddr]) -> Result<(), TestCaseError> {
    block_on(async {
        // One for every walk of the world, as an audit shares one: lists made ready by an
        // earlier domain's walk are handed to the later ones.
        let prepared = Prepared::default();
        for domain in DOMAINS {
            for family in [QType::A, QType::Aaaa] {
                let wanted: Vec<IpAddr> = clients
                    .iter()
                    .copied()
                    .filter(|c| QType::for_ip(crate::net::canonical(*c)) == family)
                    .collect();
                let walked = expand(table, domain, family, &wanted, cfg, &prepared).await;
                for client in &wanted {
                    let reference = evaluate(table, domain, *client, cfg).await;
                    let got = walked.answer(*client, cfg);
                    prop_assert_eq!(
                        got,
                        Some(Decided::of(reference)),
                        "domain {} client {} (asked about {:?})",
                        domain,
                        client,
                        wanted
                    );
                }
            }
        }
        Ok(())
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Asked about every client (the relays' own addresses and others), then about a
    /// subset only (the walk may stop earlier): the same rows as the per-pair walk.
    #[test]
    fn one_walk_per_domain_answers_as_the_per_pair_walk(
        bytes in prop::collection::vec(any::<u8>(), 48..200)
    ) {
        let (table, cfg, asked_about) = world(&bytes);
        let all: Vec<IpAddr> = CLIENTS.iter().map(|c| ip(c)).collect();
        compare(&table, &cfg, &all)?;
        let some: Vec<IpAddr> = all
            .iter()
            .zip(&asked_about)
            .filter_map(|(c, asked)| asked.then_some(*c))
            .collect();
        compare(&table, &cfg, &some)?;
    }
}

/// The generator reaches every kind of verdict, so the property is not checked on worlds
/// where everything is, say, `no-policy`.
#[test]
fn generated_worlds_reach_every_verdict() {
    let mut seen = std::collections::HashSet::new();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..300 {
        let bytes: Vec<u8> = (0..160)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        let (table, cfg, _) = world(&bytes);
        block_on(async {
            for domain in DOMAINS {
                for client in CLIENTS {
                    seen.insert(evaluate(&table, domain, ip(client), &cfg).await.verdict);
                }
            }
        });
    }
    for v in [
        Verdict::Nonrepudiated,
        Verdict::Repudiated,
        Verdict::NoPolicy,
        Verdict::Tempfail,
        Verdict::Permerror,
    ] {
        assert!(seen.contains(&v), "{v:?} never reached: {seen:?}");
    }
}

#[test]
fn clients_not_asked_about_get_no_answer() {
    let (table, cfg, _) = world(&[9; 120]);
    let walked = block_on(expand(
        &table,
        "d0.t",
        QType::A,
        &[ip("192.0.2.1")],
        &cfg,
        &Prepared::default(),
    ));
    assert!(walked.answer(ip("192.0.2.1"), &cfg).is_some());
    assert!(walked.answer(ip("198.51.100.9"), &cfg).is_none());
}

#[test]
fn a_passed_deadline_is_every_clients_tempfail() {
    let (table, _, _) = world(&[5; 120]);
    let cfg = PolicyConfig {
        eval_timeout: Duration::ZERO,
        ..PolicyConfig::default()
    };
    let client = ip("192.0.2.1");
    let walked = block_on(expand(
        &table,
        "d0.t",
        QType::A,
        &[client],
        &cfg,
        &Prepared::default(),
    ));
    let reference = block_on(evaluate(&table, "d0.t", client, &cfg));
    assert_eq!(reference.verdict, Verdict::Tempfail);
    assert_eq!(walked.answer(client, &cfg), Some(Decided::of(reference)));
}

/// Issue 14: 8,000 relays delegating to one shared list, with --max-lookups raised. The work
/// is counted, not timed: each question asked once, and the shared list merged once (its
/// 8,000 names looked at once, not 8,000 times each).
#[test]
fn relays_delegating_to_one_shared_list_cost_linear_work() {
    let n = 8000;
    let world = Zoned::new(&shared_delegation(n));
    let cfg = PolicyConfig {
        max_lookups: 20_000,
        ..PolicyConfig::default()
    };
    let outsider = ip("192.0.2.1");
    let walked = block_on(expand(
        &world,
        "big.s.test",
        QType::A,
        &[outsider],
        &cfg,
        &Prepared::default(),
    ));
    let d = walked.answer(outsider, &cfg).unwrap();
    assert_eq!(d.verdict, Verdict::Repudiated, "{:?}", d.reason);
    assert_eq!(d.relays.len(), n);
    // The policy, every relay's address, every relay's delegation: each once.
    assert_eq!(d.lookups as usize, 1 + 2 * n);
    assert_eq!(world.asked(), 1 + 2 * n);
    assert_eq!(walked.examined(), n as u64);
    // The last relay's own address matches, found in the first level.
    let last = ip("10.0.31.63");
    let walked = block_on(expand(
        &world,
        "big.s.test",
        QType::A,
        &[last, outsider],
        &cfg,
        &Prepared::default(),
    ));
    let d = walked.answer(last, &cfg).unwrap();
    assert_eq!(
        (d.verdict, d.matched.as_deref()),
        (Verdict::Nonrepudiated, Some("r7999.s.test"))
    );
}

/// Keeps when each question was started or looked up and when its answer came, each
/// answered after a short sleep.
struct Slow {
    zoned: Zoned,
    events: std::sync::Mutex<Vec<(bool, String)>>,
}

impl Lookup for Slow {
    fn start(&self, name: &str, _: QType) {
        self.events.lock().unwrap().push((true, name.to_string()));
    }

    async fn lookup(&self, name: &str, qtype: QType) -> Answer {
        self.events.lock().unwrap().push((true, name.to_string()));
        tokio::time::sleep(Duration::from_millis(2)).await;
        self.events.lock().unwrap().push((false, name.to_string()));
        self.zoned.lookup(name, qtype).await
    }
}

/// A level's delegations are started together, before the first of them is read (its
/// addresses still one at a time, as the walk stops at the first match), up to the question
/// budget, and the walk still answers as the per-pair walk does.
#[test]
fn a_levels_delegations_start_together_within_the_budget() {
    let n = 20;
    for max_lookups in [100, 30] {
        let slow = Slow {
            zoned: Zoned::new(&shared_delegation(n)),
            events: Default::default(),
        };
        let cfg = PolicyConfig {
            max_lookups,
            ..PolicyConfig::default()
        };
        let outsider = ip("192.0.2.1");
        let walked = block_on(expand(
            &slow,
            "big.s.test",
            QType::A,
            &[outsider],
            &cfg,
            &Prepared::default(),
        ));
        let reference = block_on(evaluate(&slow.zoned, "big.s.test", outsider, &cfg));
        assert_eq!(walked.answer(outsider, &cfg), Some(Decided::of(reference)));
        // The policy and 20 addresses leave 79 questions, or 9: that many delegations, all
        // started before the first delegation's answer came back.
        let events = slow.events.lock().unwrap();
        let delegation = |name: &String| name.starts_with("mail-from.r");
        let first_end = events
            .iter()
            .position(|(start, name)| !start && delegation(name))
            .unwrap();
        let started: std::collections::HashSet<&String> = events[..first_end]
            .iter()
            .filter(|(start, name)| *start && delegation(name))
            .map(|(_, name)| name)
            .collect();
        let together = (max_lookups as usize - 1 - n).min(n);
        assert_eq!(started.len(), together, "budget {max_lookups}");
    }
}
