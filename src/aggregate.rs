//! Aggregation: dedupes observations into (sender, client) pairs with message counts and
//! counts everything skipped by reason. Each parser thread fills its own [`Tally`]; tallies
//! merge at the end, so memory follows the number of distinct pairs, not the input size.
//! Counts saturate: a pairs file may claim any count, and hostile input must not overflow.
//! Pairs files, many small ones at a time, merge through one shared [`store::PairStore`].

pub mod store;

use crate::model::{PairKey, Record, SkipReason};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

#[derive(Clone, Debug, Default)]
pub struct Tally {
    pub pairs: HashMap<PairKey, u64>,
    pub skipped: [u64; SkipReason::ALL.len()],
    /// Messages of a pair known to be authenticated, for the pairs whose input could tell
    /// (DMARC reports); a pair absent here has no such evidence. Kept beside `pairs` so the
    /// hot map of the other inputs stays as small and fast as it was.
    pub authenticated: HashMap<PairKey, u64>,
    /// The name logs recorded for each client, where one did (`Record::ClientName`); the
    /// smallest name when logs disagree, so the result does not depend on reading order.
    pub client_names: BTreeMap<IpAddr, Box<str>>,
}

impl Tally {
    pub fn add(&mut self, record: Record) {
        match record {
            Record::Observed(o) => self.add_pair(
                PairKey {
                    sender: o.sender,
                    ip: o.ip,
                },
                1,
            ),
            Record::Skipped(reason) => {
                let n = &mut self.skipped[reason.index()];
                *n = n.saturating_add(1);
            }
            Record::ClientName { ip, name } => self.add_client_name(ip, name),
        }
    }

    fn add_client_name(&mut self, ip: IpAddr, name: Box<str>) {
        match self.client_names.get_mut(&ip) {
            Some(known) if *known <= name => {}
            Some(known) => *known = name,
            None => {
                self.client_names.insert(ip, name);
            }
        }
    }

    pub fn add_pair(&mut self, key: PairKey, messages: u64) {
        let n = self.pairs.entry(key).or_insert(0);
        *n = n.saturating_add(messages);
    }

    /// A pair from an input that knows how many of its messages were authenticated.
    pub fn add_evidenced_pair(&mut self, key: PairKey, messages: u64, authenticated: u64) {
        let n = self.authenticated.entry(key.clone()).or_insert(0);
        *n = n.saturating_add(authenticated);
        self.add_pair(key, messages);
    }

    /// The evidence for one pair; `None` when no input could tell.
    pub fn authenticated_of(&self, key: &PairKey) -> Option<u64> {
        self.authenticated.get(key).copied()
    }

    pub fn merge(&mut self, other: Tally) {
        for (ip, name) in other.client_names {
            self.add_client_name(ip, name);
        }
        for (k, n) in other.authenticated {
            let mine = self.authenticated.entry(k).or_insert(0);
            *mine = mine.saturating_add(n);
        }
        if self.pairs.len() < other.pairs.len() {
            let mine = std::mem::replace(&mut self.pairs, other.pairs);
            for (k, n) in mine {
                self.add_pair(k, n);
            }
        } else {
            for (k, n) in other.pairs {
                self.add_pair(k, n);
            }
        }
        for (a, b) in self.skipped.iter_mut().zip(other.skipped) {
            *a = a.saturating_add(b);
        }
    }

    pub fn messages(&self) -> u64 {
        saturating_sum(self.pairs.values().copied())
    }

    pub fn skipped_total(&self) -> u64 {
        saturating_sum(self.skipped.iter().copied())
    }
}

/// A sum that stops at `u64::MAX` instead of overflowing.
pub fn saturating_sum(values: impl IntoIterator<Item = u64>) -> u64 {
    values.into_iter().fold(0, u64::saturating_add)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Sender;

    fn obs(d: &str, ip: &str) -> Record {
        Record::Observed(PairKey {
            sender: Sender::Domain(d.into()),
            ip: ip.parse().ok(),
        })
    }

    #[test]
    fn dedupes_and_merges() {
        let mut a = Tally::default();
        a.add(obs("example.org", "192.0.2.1"));
        a.add(obs("example.org", "192.0.2.1"));
        a.add(Record::Skipped(SkipReason::Local));
        let mut b = Tally::default();
        b.add(obs("example.org", "192.0.2.1"));
        b.add(obs("example.net", "192.0.2.1"));
        b.add(Record::Skipped(SkipReason::Local));
        a.merge(b);
        assert_eq!(a.pairs.len(), 2);
        assert_eq!(a.messages(), 4);
        assert_eq!(a.skipped[SkipReason::Local.index()], 2);
        let key = PairKey {
            sender: Sender::Domain("example.org".into()),
            ip: "192.0.2.1".parse().ok(),
        };
        assert_eq!(a.pairs[&key], 3);
    }

    #[test]
    fn authenticated_counts_merge_beside_the_pairs() {
        let key = |d: &str| PairKey {
            sender: Sender::Domain(d.into()),
            ip: "192.0.2.1".parse().ok(),
        };
        let mut a = Tally::default();
        a.add_evidenced_pair(key("owner.example"), 10, 4);
        a.add(obs("owner.example", "192.0.2.1"));
        let mut b = Tally::default();
        b.add_evidenced_pair(key("owner.example"), 5, 5);
        b.add_evidenced_pair(key("other.example"), 3, 0);
        a.merge(b);
        assert_eq!(a.pairs[&key("owner.example")], 16);
        assert_eq!(a.authenticated_of(&key("owner.example")), Some(9));
        assert_eq!(a.authenticated_of(&key("other.example")), Some(0));
        assert_eq!(a.authenticated_of(&key("third.example")), None);
    }

    #[test]
    fn counts_saturate_instead_of_overflowing() {
        let key = PairKey {
            sender: Sender::Null,
            ip: None,
        };
        let mut a = Tally::default();
        a.add_pair(key.clone(), u64::MAX);
        a.add_pair(key.clone(), 1);
        a.add_pair(
            PairKey {
                sender: Sender::Missing,
                ip: None,
            },
            5,
        );
        let mut b = Tally::default();
        b.add_pair(key.clone(), u64::MAX);
        b.skipped = [u64::MAX; SkipReason::ALL.len()];
        a.skipped[0] = 1;
        a.merge(b);
        assert_eq!(a.pairs[&key], u64::MAX);
        assert_eq!(a.messages(), u64::MAX);
        assert_eq!(a.skipped[0], u64::MAX);
        assert_eq!(a.skipped_total(), u64::MAX);
    }
}
