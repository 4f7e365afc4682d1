//! Delegated lists made ready as a level once per run. A provider's list (40 relays, say)
//! is the one shared answer at `MAIL-FROM.<provider>` for every customer delegating to it,
//! and each customer's walk deduplicated, sorted and checked its names again: the largest
//! part of those walks after their questions (callgrind, docs/performance.md). A level
//! delegated to that one list alone, none of whose names the walk has noted yet, is the
//! same for every walk, so it is made once and handed out.

use std::sync::{Arc, Mutex};

use super::super::fast_set::FastMap;
use crate::dns::MxTarget;
use crate::model::address::is_host_name;

/// A delegated list as the next level: what `Evaluator::note_delegated` makes of it when
/// it is the level's only list and no name of it is a relay yet.
#[derive(Debug, PartialEq, Eq)]
pub struct ReadyLevel {
    /// The host names, each once, by best preference then name: the relays to note.
    pub relays: Vec<String>,
    /// The names that are not host names, in the same order: the notes to make.
    pub invalid: Vec<String>,
}

/// The lists made ready so far, by the address of their shared answer. Each entry keeps
/// its answer, so no other list can come to hold the same address during the run.
#[derive(Default)]
pub struct Prepared {
    lists: Mutex<FastMap<usize, Entry>>,
}

/// A list, kept so its address stays its own, and the level made of it.
type Entry = (Arc<[MxTarget]>, Arc<ReadyLevel>);

impl Prepared {
    /// `list` as a level, made on its first use.
    pub fn level(&self, list: &Arc<[MxTarget]>) -> Arc<ReadyLevel> {
        let id = Arc::as_ptr(list).cast::<MxTarget>() as usize;
        // Never held across an await: only the block below uses the map.
        let mut lists = self.lists.lock().unwrap_or_else(|e| e.into_inner());
        lists
            .entry(id)
            .or_insert_with(|| (list.clone(), Arc::new(ready(list))))
            .1
            .clone()
    }
}

/// Each name once at its best preference, by preference then name (the order `MxTarget`
/// sorts in); the root dropped, names that are not host names set apart.
fn ready(list: &[MxTarget]) -> ReadyLevel {
    let mut best: FastMap<&str, u16> = FastMap::default();
    for t in list {
        let pref = best.entry(t.exchange.as_str()).or_insert(t.preference);
        *pref = (*pref).min(t.preference);
    }
    let mut level: Vec<(u16, &str)> = best.into_iter().map(|(name, pref)| (pref, name)).collect();
    level.sort_unstable();
    let (mut relays, mut invalid) = (Vec::new(), Vec::new());
    for (_, name) in level.into_iter().filter(|(_, name)| !name.is_empty()) {
        if is_host_name(name) {
            relays.push(name.to_string());
        } else {
            invalid.push(name.to_string());
        }
    }
    ReadyLevel { relays, invalid }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mx(preference: u16, exchange: &str) -> MxTarget {
        MxTarget {
            preference,
            exchange: exchange.into(),
        }
    }

    #[test]
    fn a_list_is_made_ready_once_each_name_at_its_best_preference() {
        let list: Arc<[MxTarget]> = Arc::from([
            mx(20, "b.example"),
            mx(10, "c.example"),
            mx(5, "b.example"),
            mx(10, "bad_name.example"),
            mx(0, ""),
            mx(30, "a.example"),
        ]);
        let prepared = Prepared::default();
        let level = prepared.level(&list);
        assert_eq!(level.relays, ["b.example", "c.example", "a.example"]);
        assert_eq!(level.invalid, ["bad_name.example"]);
        assert!(Arc::ptr_eq(&level, &prepared.level(&list)), "made once");
        let same_names: Arc<[MxTarget]> = Arc::from(list.to_vec());
        assert!(
            !Arc::ptr_eq(&level, &prepared.level(&same_names)),
            "by identity, not by content"
        );
    }
}
