//! `SmallMap`: the map a connection keeps its namespaces and leaving sockets in.

/// A map for the few entries of one connection (usually one namespace): a vector, because
/// the smallest hash table already holds four entries and every idle connection pays for it.
pub(crate) struct SmallMap<V> {
    entries: Vec<(String, V)>,
}

impl<V> Default for SmallMap<V> {
    fn default() -> Self {
        SmallMap {
            entries: Vec::new(),
        }
    }
}

impl<V> SmallMap<V> {
    pub(crate) fn position(&self, key: &str) -> Option<usize> {
        self.entries.iter().position(|(k, _)| k == key)
    }

    pub(crate) fn get(&self, key: &str) -> Option<&V> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    pub(crate) fn insert(&mut self, key: String, value: V) {
        match self.position(&key) {
            Some(i) => self.entries[i].1 = value,
            None => {
                self.entries.reserve_exact(1);
                self.entries.push((key, value));
            }
        }
    }

    pub(crate) fn remove(&mut self, key: &str) -> Option<V> {
        let i = self.position(key)?;
        let (_, value) = self.entries.swap_remove(i);
        if self.entries.is_empty() {
            self.entries = Vec::new();
        }
        Some(value)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }

    pub(crate) fn drain(&mut self) -> std::vec::IntoIter<(String, V)> {
        std::mem::take(&mut self.entries).into_iter()
    }
}
