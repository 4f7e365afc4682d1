//! The policy over DNS answers chosen by the fuzzer: a fake `Lookup` decodes each new
//! question's answer from the input (NXDOMAIN, no data, failures, MX sets with null, invalid
//! and looping targets, address sets with and without the client), answering a repeated
//! question the same way, as the run's cache does. Checked: no panic; the same verdict twice;
//! the lookup budget holds; a `repudiated` verdict never follows a failed lookup (a fault
//! must not read as forgery); `nonrepudiated` always names what matched. SPF's
//! `check_host` runs over the same fake (TXT answers drawn from SPF records that include,
//! redirect, use macros and ask `a`, `mx`, `ptr` and `exists`, or taken from the input),
//! checked for no panic and the same result twice.
#![no_main]

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use repudiate::dns::{Answer, Data, Failure, Lookup, MxTarget, Outcome, QType, Source};
use repudiate::model::Verdict;
use repudiate::policy::spf::{Identity, check_host};
use repudiate::policy::{PolicyConfig, Trusted, evaluate};

/// Relay names the answers draw from: valid ones that delegate to each other, the root, and
/// names a policy must ignore.
const NAMES: [&str; 8] = [
    "mx.a.example",
    "relay.b.example",
    "a.example",
    "",
    "mx.c.example",
    "not a host",
    "b.example",
    "-bad-.example",
];
const CLIENT_V4: &str = "192.0.2.1";
const CLIENT_V6: &str = "2001:db8::1";
const OTHERS: [&str; 4] = [
    "192.0.2.2",
    "2001:db8::2",
    "::ffff:192.0.2.1",
    "198.51.100.7",
];
/// TXT answers: SPF records that reach every kind of term, and text that is none.
const SPF: [&str; 10] = [
    "v=spf1 -all",
    "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 ~all",
    "v=spf1 include:b.example include:a.example -all",
    "v=spf1 a mx ptr exists:%{i}.%{l}.x.example redirect=b.example",
    "v=spf1 a:mx.a.example/24 mx:relay.b.example//64 ?all",
    "v=spf1 redirect=a.example",
    "v=spf1 exists:%{ir}.%{v}._spf.%{d2} exp=%{h}.e.example",
    "not spf at all",
    "v=spf1 %{p}.x.example -all",
    "v=spf1 include:%{o} +all",
];

struct Fake<'a> {
    bytes: Mutex<&'a [u8]>,
    answers: Mutex<HashMap<(String, QType), Answer>>,
    failed: AtomicBool,
}

impl Fake<'_> {
    fn byte(&self) -> u8 {
        let mut bytes = self.bytes.lock().unwrap();
        match bytes.split_first() {
            Some((&b, rest)) => {
                *bytes = rest;
                b
            }
            None => 0,
        }
    }

    fn decode(&self, qtype: QType) -> Outcome {
        let kind = self.byte();
        let n = usize::from(self.byte() % 5);
        let mx = |fake: &Self| {
            (0..n)
                .map(|_| MxTarget {
                    preference: u16::from(fake.byte() % 4),
                    exchange: NAMES[usize::from(fake.byte()) % NAMES.len()].to_string(),
                })
                .collect()
        };
        let addrs = |fake: &Self| {
            (0..n)
                .map(|_| {
                    let b = fake.byte();
                    let text = match (b % 3, qtype) {
                        (0, QType::Aaaa) => CLIENT_V6,
                        (0, _) => CLIENT_V4,
                        _ => OTHERS[usize::from(b) % OTHERS.len()],
                    };
                    text.parse::<IpAddr>().unwrap()
                })
                .collect()
        };
        if matches!(qtype, QType::Txt | QType::Ptr) && kind % 8 >= 4 {
            let texts = (0..n)
                .map(|_| match self.byte() {
                    b if b % 4 == 0 => self.text(),
                    b if qtype == QType::Ptr => NAMES[usize::from(b) % NAMES.len()].to_string(),
                    b => SPF[usize::from(b) % SPF.len()].to_string(),
                })
                .collect();
            return Outcome::Found(if qtype == QType::Txt {
                Data::Txt(texts)
            } else {
                Data::Ptr(texts)
            });
        }
        match kind % 8 {
            0 => Outcome::NxDomain,
            1 => Outcome::NoData,
            2 => Outcome::Failed(Failure::ServFail),
            3 => Outcome::Failed(Failure::Timeout),
            // The data type the question asked for...
            4..=6 if qtype == QType::Mx => Outcome::Found(Data::Mx(mx(self))),
            4..=6 => Outcome::Found(Data::Addrs(addrs(self))),
            // ... or the other one.
            _ if qtype == QType::Mx => Outcome::Found(Data::Addrs(addrs(self))),
            _ => Outcome::Found(Data::Mx(mx(self))),
        }
    }
}

impl Fake<'_> {
    /// Up to 255 bytes of the input as text.
    fn text(&self) -> String {
        let len = usize::from(self.byte());
        let mut bytes = self.bytes.lock().unwrap();
        let take = len.min(bytes.len());
        let text = String::from_utf8_lossy(&bytes[..take]).into_owned();
        *bytes = &bytes[take..];
        text
    }
}

impl Lookup for Fake<'_> {
    async fn lookup(&self, name: &str, qtype: QType) -> Answer {
        let key = (name.to_string(), qtype);
        if let Some(answer) = self.answers.lock().unwrap().get(&key) {
            return answer.clone();
        }
        let outcome = self.decode(qtype);
        if matches!(outcome, Outcome::Failed(_)) {
            self.failed.store(true, Ordering::Relaxed);
        }
        let answer = Answer {
            outcome,
            ttl: 60,
            source: Source::Dns,
        };
        self.answers.lock().unwrap().insert(key, answer.clone());
        answer
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let [flags, depth, lookups, rest @ ..] = data else {
        return;
    };
    let ip: IpAddr = if flags & 1 == 0 { CLIENT_V4 } else { CLIENT_V6 }
        .parse()
        .unwrap();
    let mut cfg = PolicyConfig {
        max_depth: u32::from(depth % 12),
        max_lookups: u32::from(lookups % 40),
        eval_timeout: Duration::from_secs(60),
        trace: flags & 2 != 0,
        ..PolicyConfig::default()
    };
    if flags & 4 != 0 {
        cfg.trusted.push(Trusted {
            label: "perimeter:198.51.100.0/24".into(),
            net: "198.51.100.0/24".parse().unwrap(),
        });
    }
    let run = || {
        let fake = Fake {
            bytes: Mutex::new(rest),
            answers: Mutex::new(HashMap::new()),
            failed: AtomicBool::new(false),
        };
        let e = runtime().block_on(evaluate(&fake, "a.example", ip, &cfg));
        (e, fake.failed.load(Ordering::Relaxed))
    };
    let (e, failed) = run();
    let (again, _) = run();
    assert_eq!(
        (e.verdict, &e.matched, &e.relays, &e.reason),
        (again.verdict, &again.matched, &again.relays, &again.reason)
    );
    assert!(e.lookups <= cfg.max_lookups);
    assert!(!(failed && e.verdict == Verdict::Repudiated), "{e:?}");
    assert_eq!(
        e.verdict == Verdict::Nonrepudiated,
        e.matched.is_some(),
        "{e:?}"
    );

    let spf = || {
        let fake = Fake {
            bytes: Mutex::new(rest),
            answers: Mutex::new(HashMap::new()),
            failed: AtomicBool::new(false),
        };
        let identity = Identity::pair("a.example");
        let helo = (flags & 8 != 0).then_some("mx.a.example");
        let deadline = Duration::from_secs(60);
        runtime().block_on(check_host(&fake, ip, &identity, helo, deadline, cfg.trace))
    };
    let (a, b) = (spf(), spf());
    assert_eq!(
        (a.result, &a.decided_by, &a.error),
        (b.result, &b.decided_by, &b.error)
    );
});
