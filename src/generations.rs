//! A map bounded by two generations, the share memo's eviction policy
//! (`store::share_memo`): entries go into the young generation; when it is full it
//! becomes the old one and the old one is dropped; an entry found in the old one
//! moves back to the young. What was used within the last
//! generation or two stays, and at most twice the limit is held.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::Hash;

pub struct Generations<K, V> {
    limit: usize,
    young: HashMap<K, V>,
    old: HashMap<K, V>,
}

impl<K: Hash + Eq + Copy, V> Generations<K, V> {
    /// At most `limit` entries per generation.
    pub fn new(limit: usize) -> Self {
        Generations {
            limit,
            young: HashMap::new(),
            old: HashMap::new(),
        }
    }

    /// The entry at `key` if `accept` takes it, moved into the young generation. An
    /// old entry `accept` refuses is dropped.
    pub fn get(&mut self, key: K, accept: impl Fn(&V) -> bool) -> Option<&mut V> {
        if self.young.get(&key).is_some_and(&accept) {
            return self.young.get_mut(&key);
        }
        let entry = self.old.remove(&key).filter(|v| accept(v))?;
        Some(self.insert(key, entry))
    }

    /// Puts `value` at `key` in the young generation (replacing what was there),
    /// turning generations first if it is full.
    pub fn insert(&mut self, key: K, value: V) -> &mut V {
        if self.young.len() >= self.limit && !self.young.contains_key(&key) {
            self.old = std::mem::take(&mut self.young);
        }
        match self.young.entry(key) {
            Entry::Occupied(mut held) => {
                held.insert(value);
                held.into_mut()
            }
            Entry::Vacant(free) => free.insert(value),
        }
    }

    /// Entries held in (young, old).
    pub fn lens(&self) -> (usize, usize) {
        (self.young.len(), self.old.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_survives_one_generation_unused_and_comes_back_when_used() {
        let mut g = Generations::new(2);
        g.insert(1, "a");
        g.insert(2, "b");
        g.insert(3, "c"); // young was full: {1, 2} became old
        assert_eq!(g.lens(), (1, 2));
        assert_eq!(g.get(1, |_| true).copied(), Some("a")); // back to young
        assert_eq!(g.lens(), (2, 1));
        g.insert(4, "d"); // {3, 1} old, 2 dropped
        assert_eq!(g.get(2, |_| true), None);
        assert_eq!(g.get(3, |v| *v == "x"), None, "refused");
        assert_eq!(g.get(3, |_| true), None, "a refused old entry is dropped");
        assert!(g.lens().0 <= 2 && g.lens().1 <= 2);
    }
}
