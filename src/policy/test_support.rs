//! What the policy tests share (no sockets): fake lookups answering from a table or from zone
//! text and keeping the questions they were asked, a blocking runner for the synchronous
//! property tests, and the byte reader their generated worlds are drawn from.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::dns::zones::{ZoneAnswer, Zones};
use crate::dns::{Answer, Lookup, Outcome, QType, Source};
use crate::policy::spf::SpfEvaluation;

/// Answers from a table (anything else is NXDOMAIN).
#[derive(Default)]
pub(crate) struct Table {
    pub(crate) answers: HashMap<(String, QType), Outcome>,
}

impl Lookup for Table {
    async fn lookup(&self, name: &str, qtype: QType) -> Answer {
        let outcome = self
            .answers
            .get(&(name.to_string(), qtype))
            .cloned()
            .unwrap_or(Outcome::NxDomain);
        Answer {
            outcome,
            ttl: 60,
            source: Source::Dns,
        }
    }
}

/// Answers from zone text, the way `--zone` does (CNAMEs to one list share it; a name the
/// zones do not hold is NXDOMAIN), and keeps every question in order.
pub(crate) struct Zoned {
    zones: Zones,
    pub(crate) questions: Mutex<Vec<(String, QType)>>,
}

impl Zoned {
    pub(crate) fn new(zone: &str) -> Zoned {
        let mut zones = Zones::default();
        zones.add_text(zone, None).unwrap();
        Zoned {
            zones,
            questions: Mutex::new(Vec::new()),
        }
    }

    /// Questions asked so far, repeats included.
    pub(crate) fn asked(&self) -> usize {
        self.questions.lock().unwrap().len()
    }

    /// Keeps the question, for fakes that answer some names themselves.
    pub(crate) fn note(&self, name: &str, qtype: QType) {
        self.questions
            .lock()
            .unwrap()
            .push((name.to_string(), qtype));
    }

    /// The zones' answer, without keeping the question.
    pub(crate) fn answer(&self, name: &str, qtype: QType) -> Answer {
        match self.zones.answer(name, qtype) {
            ZoneAnswer::Answer(a) => a,
            ZoneAnswer::FallThrough(_) => Answer {
                outcome: Outcome::NxDomain,
                ttl: 0,
                source: Source::Zone,
            },
        }
    }
}

impl Lookup for Zoned {
    async fn lookup(&self, name: &str, qtype: QType) -> Answer {
        self.note(name, qtype);
        self.answer(name, qtype)
    }
}

/// Runs `f` to its end on a runtime of its own (timers on, for the deadline).
pub(crate) fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(f)
}

/// Reads a generated world from bytes (zeros once they run out).
pub(crate) struct Bytes<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Bytes<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Bytes<'a> {
        Bytes { data, at: 0 }
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        let b = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        usize::from(b) % n
    }

    pub(crate) fn pick<'s>(&mut self, from: &[&'s str]) -> &'s str {
        from[self.below(from.len())]
    }
}

/// Zone text of `n` relays at `s.test`, each delegating (through a CNAME) to the one list of
/// all `n` at `MAIL-FROM.big.s.test`; relay `ri` has the address `10.0.(i/256).(i%256)`.
pub(crate) fn shared_delegation(n: usize) -> String {
    let mut z = String::from("$ORIGIN s.test.\n$TTL 300\n@ IN SOA ns h 1 2 3 4 5\n");
    for i in 0..n {
        z.push_str(&format!(
            "MAIL-FROM.big IN MX {} r{i}.s.test.\nr{i} IN A 10.0.{}.{}\n\
             MAIL-FROM.r{i} IN CNAME MAIL-FROM.big.s.test.\n",
            i % 7,
            i / 256,
            i % 256
        ));
    }
    z
}

/// Everything an SPF evaluation says but its trace: what the per-domain evaluation must
/// agree with `check_host()` on.
pub(crate) fn said(e: &SpfEvaluation) -> impl PartialEq + std::fmt::Debug + use<> {
    (
        e.result,
        e.decided_by.clone(),
        e.error.clone(),
        e.needs_sender,
        e.terms,
        e.voids,
    )
}
