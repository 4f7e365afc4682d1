//! A quick hasher for the small sets one evaluation keeps (questions asked, relays seen,
//! targets expanded). The standard SipHash was a quarter of an audit's instructions once
//! every answer came from the cache. These sets live for one evaluation and hold at most
//! what its answers listed, so a key-independent hash is enough: colliding names from a
//! hostile server cost no more than the linear scan they replaced. The run-wide cache keeps
//! the standard, randomly keyed hasher.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashSet` with [`WordHasher`].
pub type FastSet<T> = HashSet<T, BuildHasherDefault<WordHasher>>;

/// A `HashMap` with [`WordHasher`].
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<WordHasher>>;

/// Multiply-rotate hashing a word at a time (the scheme of rustc's FxHasher).
#[derive(Default, Clone, Copy)]
pub struct WordHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl WordHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    /// The multiply leaves its best bits high; the table indexes with the low ones.
    fn finish(&self) -> u64 {
        self.hash.rotate_left(26)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    fn hash(s: &str) -> u64 {
        BuildHasherDefault::<WordHasher>::default().hash_one(s)
    }

    #[test]
    fn names_differing_anywhere_hash_apart() {
        let names = [
            "mx1.bigmail.example",
            "mx2.bigmail.example",
            "mx1.bigmail.exampl",
            "mx1.bigmail.example.",
            "mail-from.mx1.bigmail.example",
            "",
            "a",
            "b",
        ];
        let mut hashes: Vec<u64> = names.iter().map(|n| hash(n)).collect();
        hashes.sort();
        hashes.dedup();
        assert_eq!(hashes.len(), names.len());
        // and the low bits (the table's index) differ too for a run of similar names
        let low: FastSet<u64> = (0..64)
            .map(|i| hash(&format!("mail-yb1-f{i}.bigmail.example")) & 0xff)
            .collect();
        assert!(low.len() > 32, "{} distinct low bytes of 64", low.len());
    }

    #[test]
    fn a_set_finds_what_it_holds() {
        let mut set: FastSet<(String, u8)> = FastSet::default();
        for i in 0..1000 {
            assert!(set.insert((format!("host{i}.example"), (i % 3) as u8)));
        }
        assert!(set.contains(&("host999.example".to_string(), 0)));
        assert!(!set.contains(&("host999.example".to_string(), 1)));
        assert_eq!(set.len(), 1000);
    }
}
