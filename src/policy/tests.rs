//! Policy tests without sockets: a fake [`Lookup`] answers from zone text, with failures
//! and delays injected per name, and counts the questions it is asked.

use std::collections::HashMap;

use super::*;
use crate::dns::{Failure, Source};
use crate::policy::test_support::{Zoned, shared_delegation};

/// The zones' answers, with failures, delays and raw MX lists injected per name.
struct Fake {
    zoned: Zoned,
    fail: HashMap<String, Failure>,
    slow: HashMap<String, Duration>,
    /// MX answers the zone parser would refuse to load (e.g. non-host-name targets).
    raw_mx: HashMap<String, Vec<MxTarget>>,
}

impl Fake {
    fn new(zone: &str) -> Fake {
        Fake {
            zoned: Zoned::new(zone),
            fail: HashMap::new(),
            slow: HashMap::new(),
            raw_mx: HashMap::new(),
        }
    }
    fn failing(mut self, name: &str, f: Failure) -> Fake {
        self.fail.insert(name.into(), f);
        self
    }
    fn asked(&self) -> usize {
        self.zoned.asked()
    }
}

impl Lookup for Fake {
    async fn lookup(&self, name: &str, qtype: QType) -> Answer {
        self.zoned.note(name, qtype);
        if let Some(d) = self.slow.get(name) {
            tokio::time::sleep(*d).await;
        }
        if let Some(f) = self.fail.get(name) {
            return Answer::failed(f.clone(), Source::Dns);
        }
        if let (Some(mx), QType::Mx) = (self.raw_mx.get(name), qtype) {
            return Answer {
                outcome: Outcome::Found(Data::Mx(mx.clone().into())),
                ttl: 1,
                source: Source::Dns,
            };
        }
        self.zoned.answer(name, qtype)
    }
}

const WORLD: &str = r#"$ORIGIN example.
$TTL 300
MAIL-FROM.direct     MX 10 out.direct
out.direct           A 192.0.2.10
                     AAAA 2001:db8::10
MAIL-FROM.customer   MX 0 provider
MAIL-FROM.provider   MX 10 relay1.provider
                     MX 20 relay2.provider
relay1.provider      A 192.0.2.21
relay2.provider      A 192.0.2.22
MAIL-FROM.a          MX 0 b
MAIL-FROM.b          MX 0 a
a                    A 192.0.2.31
b                    A 192.0.2.32
MAIL-FROM.c1         MX 0 c2
MAIL-FROM.c2         MX 0 c3
MAIL-FROM.c3         MX 0 c4
c4                   A 192.0.2.44
MAIL-FROM.nomail     MX 0 .
MAIL-FROM.twofail    MX 0 down
                     MX 5 out.direct
MAIL-FROM.cname      MX 0 alias
alias                CNAME out.direct
"#;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

async fn eval(fake: &Fake, d: &str, s: &str, cfg: &PolicyConfig) -> Evaluation {
    evaluate(fake, d, ip(s), cfg).await
}

#[tokio::test]
async fn direct_match_and_miss() {
    let f = Fake::new(WORLD);
    let cfg = PolicyConfig::default();
    let e = eval(&f, "direct.example", "192.0.2.10", &cfg).await;
    assert_eq!(e.verdict, Verdict::Nonrepudiated);
    assert_eq!(e.matched.as_deref(), Some("out.direct.example"));
    assert_eq!(e.relays, ["out.direct.example"]);
    let e = eval(&f, "direct.example", "::ffff:192.0.2.10", &cfg).await;
    assert_eq!(
        e.verdict,
        Verdict::Nonrepudiated,
        "v4-mapped counts as IPv4"
    );
    let e = eval(&f, "direct.example", "2001:db8::10", &cfg).await;
    assert_eq!(e.verdict, Verdict::Nonrepudiated);
    let e = eval(&f, "direct.example", "198.51.100.1", &cfg).await;
    assert_eq!(e.verdict, Verdict::Repudiated);
    assert_eq!(e.matched, None);
}

#[tokio::test]
async fn only_the_clients_family_is_asked() {
    let f = Fake::new(WORLD);
    eval(
        &f,
        "direct.example",
        "198.51.100.1",
        &PolicyConfig::default(),
    )
    .await;
    let asked = f.zoned.questions.lock().unwrap().clone();
    assert!(asked.iter().all(|(_, t)| *t != QType::Aaaa), "{asked:?}");
}

#[tokio::test]
async fn no_policy_and_tempfail_on_the_policy_lookup() {
    let f = Fake::new(WORLD).failing("mail-from.broken.example", Failure::ServFail);
    let cfg = PolicyConfig::default();
    assert_eq!(
        eval(&f, "absent.example", "192.0.2.1", &cfg).await.verdict,
        Verdict::NoPolicy
    );
    let e = eval(&f, "broken.example", "192.0.2.1", &cfg).await;
    assert_eq!(e.verdict, Verdict::Tempfail);
    assert!(e.reason.unwrap().contains("SERVFAIL"));
}

#[tokio::test]
async fn delegation_to_a_provider() {
    let f = Fake::new(WORLD);
    let e = eval(
        &f,
        "customer.example",
        "192.0.2.22",
        &PolicyConfig::default(),
    )
    .await;
    assert_eq!(e.verdict, Verdict::Nonrepudiated);
    assert_eq!(e.matched.as_deref(), Some("relay2.provider.example"));
    let strict = PolicyConfig {
        max_depth: 0,
        ..Default::default()
    };
    let e = eval(&f, "customer.example", "192.0.2.22", &strict).await;
    assert_eq!(
        e.verdict,
        Verdict::Repudiated,
        "depth 0 is the draft's one-level check"
    );
    assert_eq!(e.lookups, 2);
}

#[tokio::test]
async fn loops_end_quietly() {
    let f = Fake::new(WORLD);
    let e = eval(&f, "a.example", "198.51.100.1", &PolicyConfig::default()).await;
    assert_eq!(e.verdict, Verdict::Repudiated);
    assert_eq!(e.relays, ["a.example", "b.example"]);
    let e = eval(&f, "a.example", "192.0.2.31", &PolicyConfig::default()).await;
    assert_eq!(e.verdict, Verdict::Nonrepudiated);
}

#[tokio::test]
async fn depth_limit_gives_permerror_without_a_match() {
    let f = Fake::new(WORLD);
    let deep = PolicyConfig::default();
    assert_eq!(
        eval(&f, "c1.example", "192.0.2.44", &deep).await.verdict,
        Verdict::Nonrepudiated
    );
    let shallow = PolicyConfig {
        max_depth: 1,
        ..Default::default()
    };
    let e = eval(&f, "c1.example", "192.0.2.44", &shallow).await;
    assert_eq!(e.verdict, Verdict::Permerror);
    assert!(e.reason.unwrap().contains("--max-depth 1"));
    // exactly deep enough: a foreign client is repudiated, not a limit error
    let exact = PolicyConfig {
        max_depth: 2,
        ..Default::default()
    };
    let ok = eval(&f, "c1.example", "192.0.2.44", &exact).await;
    assert_eq!(ok.verdict, Verdict::Nonrepudiated);
    let e = eval(&f, "c1.example", "198.51.100.1", &exact).await;
    assert_eq!(e.verdict, Verdict::Repudiated, "{e:?}");
    assert_eq!(e.relays, ["c2.example", "c3.example", "c4.example"]);
}

#[tokio::test]
async fn lookup_limit_counts_each_question_once() {
    let f = Fake::new(WORLD);
    // customer: MX(customer) A(provider) MX(provider) A(relay1) A(relay2) = 5 questions
    let five = PolicyConfig {
        max_lookups: 5,
        ..Default::default()
    };
    assert_eq!(
        eval(&f, "customer.example", "192.0.2.22", &five)
            .await
            .verdict,
        Verdict::Nonrepudiated
    );
    let four = PolicyConfig {
        max_lookups: 4,
        ..Default::default()
    };
    let e = eval(&f, "customer.example", "192.0.2.22", &four).await;
    assert_eq!(e.verdict, Verdict::Permerror);
    assert_eq!(e.lookups, 4);
    assert!(e.reason.unwrap().contains("more than 4 DNS lookups"));
}

#[tokio::test]
async fn null_mx_repudiates_everything_but_the_perimeter() {
    let f = Fake::new(WORLD);
    let e = eval(&f, "nomail.example", "192.0.2.1", &PolicyConfig::default()).await;
    assert_eq!(e.verdict, Verdict::Repudiated);
    let cfg = PolicyConfig {
        trusted: vec![Trusted {
            label: "perimeter:192.0.2.0/24".into(),
            net: "192.0.2.0/24".parse().unwrap(),
        }],
        ..Default::default()
    };
    let e = eval(&f, "nomail.example", "192.0.2.1", &cfg).await;
    assert_eq!(e.verdict, Verdict::Nonrepudiated);
    assert_eq!(e.matched.as_deref(), Some("perimeter:192.0.2.0/24"));
    // the perimeter never creates a policy
    assert_eq!(
        eval(&f, "absent.example", "192.0.2.1", &cfg).await.verdict,
        Verdict::NoPolicy
    );
}

#[tokio::test]
async fn invalid_target_is_ignored_and_said() {
    let mut f = Fake::new(WORLD);
    f.raw_mx.insert(
        "mail-from.bad.example".into(),
        vec![
            MxTarget {
                preference: 0,
                exchange: "bad_name.example".into(),
            },
            MxTarget {
                preference: 5,
                exchange: "out.direct.example".into(),
            },
        ],
    );
    let e = eval(&f, "bad.example", "198.51.100.1", &PolicyConfig::default()).await;
    assert_eq!(e.verdict, Verdict::Repudiated);
    assert!(e.reason.unwrap().contains("bad_name.example"));
    let e = eval(&f, "bad.example", "192.0.2.10", &PolicyConfig::default()).await;
    assert_eq!(e.verdict, Verdict::Nonrepudiated);
}

#[tokio::test]
async fn failed_relay_lookup_with_and_without_a_match_elsewhere() {
    let f = Fake::new(WORLD).failing("down.example", Failure::Timeout);
    let cfg = PolicyConfig::default();
    let e = eval(&f, "twofail.example", "192.0.2.10", &cfg).await;
    assert_eq!(
        e.verdict,
        Verdict::Nonrepudiated,
        "a match elsewhere wins over a failure"
    );
    let e = eval(&f, "twofail.example", "198.51.100.1", &cfg).await;
    assert_eq!(e.verdict, Verdict::Tempfail);
    assert!(e.reason.unwrap().contains("down.example A: timeout"));
}

#[tokio::test]
async fn cname_targets_are_followed() {
    let f = Fake::new(WORLD);
    let e = eval(&f, "cname.example", "192.0.2.10", &PolicyConfig::default()).await;
    assert_eq!(e.verdict, Verdict::Nonrepudiated);
    assert_eq!(e.matched.as_deref(), Some("alias.example"));
}

#[tokio::test]
async fn deadline_gives_tempfail() {
    let mut f = Fake::new(WORLD);
    f.slow
        .insert("provider.example".into(), Duration::from_secs(5));
    let cfg = PolicyConfig {
        eval_timeout: Duration::from_millis(50),
        ..Default::default()
    };
    let e = eval(&f, "customer.example", "192.0.2.22", &cfg).await;
    assert_eq!(e.verdict, Verdict::Tempfail);
    assert!(e.reason.unwrap().contains("deadline"));

    // Traced, the questions asked before the deadline and the one it cut off stay visible.
    let cfg = PolicyConfig { trace: true, ..cfg };
    let e = eval(&f, "customer.example", "192.0.2.22", &cfg).await;
    assert_eq!(e.verdict, Verdict::Tempfail);
    let last = e.steps.last().expect("steps kept");
    assert_eq!(
        (last.name.as_str(), last.qtype),
        ("provider.example", QType::A)
    );
    assert_eq!(last.answer.outcome, Outcome::Failed(Failure::Timeout));
    assert_eq!(last.count, e.lookups);
    assert!(e.steps.len() >= 2, "{:?}", e.steps);
    assert_eq!(e.steps[0].name, "mail-from.customer.example");
}

#[tokio::test]
async fn exploration_order_is_preference_then_name_and_trace_counts() {
    let f = Fake::new(WORLD);
    let cfg = PolicyConfig {
        trace: true,
        ..Default::default()
    };
    let e = eval(&f, "customer.example", "198.51.100.1", &cfg).await;
    let order: Vec<String> = e
        .steps
        .iter()
        .map(|s| format!("{} {}", s.name, s.qtype.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            "mail-from.customer.example MX",
            "provider.example A",
            "mail-from.provider.example MX",
            "relay1.provider.example A",
            "relay2.provider.example A",
            "mail-from.relay1.provider.example MX",
            "mail-from.relay2.provider.example MX",
        ]
    );
    assert_eq!(e.steps.last().unwrap().count, 7);
    assert_eq!(f.asked(), 7);
}

#[tokio::test]
async fn the_deadline_holds_when_every_answer_is_ready() {
    // Zone-file and cached answers never make the evaluation wait, so a timer alone never
    // fires: the deadline is checked before each question too.
    let f = Fake::new(WORLD);
    let cfg = PolicyConfig {
        eval_timeout: Duration::ZERO,
        ..Default::default()
    };
    let e = eval(&f, "customer.example", "192.0.2.22", &cfg).await;
    assert_eq!(e.verdict, Verdict::Tempfail, "{e:?}");
    assert_eq!(
        e.reason.as_deref(),
        Some("evaluation deadline of 0ns passed")
    );
    assert_eq!(f.asked(), 0);
}

#[tokio::test]
async fn relays_delegating_to_one_list_are_merged_not_piled_up() {
    // 600 answers of 600 targets each: merged name by name as they come, never a list of
    // 360,000 entries sorted at the end (which took minutes at 8,000 relays).
    let n = 600;
    let f = Fake::new(&shared_delegation(n));
    let cfg = PolicyConfig {
        max_lookups: 10_000,
        ..Default::default()
    };
    let e = eval(&f, "big.s.test", "192.0.2.1", &cfg).await;
    assert_eq!(e.verdict, Verdict::Repudiated, "{:?}", e.reason);
    assert_eq!(e.relays.len(), n);
    // The policy, every relay's address, every relay's delegation: each once.
    assert_eq!(e.lookups as usize, 1 + 2 * n);
    let e = eval(&f, "big.s.test", "10.0.2.87", &cfg).await;
    assert_eq!(
        (e.verdict, e.matched.as_deref()),
        (Verdict::Nonrepudiated, Some("r599.s.test"))
    );
}
