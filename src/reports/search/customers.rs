//! A customer filter as a set held in memory, for a search that checks conversations
//! batch by batch (common message text read newest match first): the customers one
//! of whose rows in the customer index (`customer_words`, V23) matches what was
//! typed, and those whose identifier is exactly that. Gathered once per search (a
//! fifth of a year's customers in ~60 ms: the index rows in rowid order), a checked
//! conversation's customer is then a hash lookup, instead of the customers gathered
//! and deduplicated in SQL for every batch checked (~0.2 s each).
//!
//! It keeps what the SQL condition of `search::conditions` keeps.

use rusqlite::Connection;
use rustc_hash::FxHashSet;

use super::prefix_terms;
use crate::store::StoreResult;

/// The customers that a customer filter passes.
#[derive(Debug, Default)]
pub struct Customers {
    /// Tens of thousands for a broad prefix, each looked up for every conversation
    /// checked: a fast hash, as customer ids are the server's own UUIDs, which no
    /// client chooses.
    ids: FxHashSet<String>,
}

impl Customers {
    /// The customers `who` (as typed in the search's customer filter) passes.
    pub fn of(c: &Connection, who: &str) -> StoreResult<Self> {
        // `""` matches nothing (an empty phrase), as in the SQL condition.
        let words = prefix_terms(who).unwrap_or_else(|| "\"\"".into());
        let mut ids = c
            .prepare_cached(
                "SELECT t.customer_id FROM customer_words w JOIN customer_terms t ON t.id = w.rowid
                 WHERE customer_words MATCH ?1",
            )?
            .query_map([words], |r| r.get(0))?
            .collect::<Result<FxHashSet<String>, _>>()?;
        let mut exact =
            c.prepare_cached("SELECT customer_id FROM customer_identifiers WHERE identifier = ?1")?;
        for id in exact.query_map([who], |r| r.get(0))? {
            ids.insert(id?);
        }
        Ok(Customers { ids })
    }

    /// How many customers it passes.
    pub fn count(&self) -> usize {
        self.ids.len()
    }

    /// Whether it passes the customer `id`.
    pub fn has(&self, id: &str) -> bool {
        self.ids.contains(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// It passes the customers the SQL condition passes: a prefix of a word of the
    /// name or an identifier, or the exact identifier.
    #[test]
    fn it_passes_the_customers_typed() {
        let c = crate::store::test_connection();
        for (id, name, identifier) in [
            ("c1", "Ann Lee", "ann-1"),
            ("c2", "Annie", "x-2"),
            ("c3", "Bob", "ann"),
        ] {
            c.execute(
                "INSERT INTO customers (id, first_name, created_at) VALUES (?1, ?2, 0)",
                [id, name],
            )
            .unwrap();
            c.execute(
                "INSERT INTO customer_identifiers (channel_type, identifier, customer_id)
                 VALUES ('WEB', ?1, ?2)",
                [identifier, id],
            )
            .unwrap();
        }
        let passed = |who: &str| -> Vec<&str> {
            let customers = Customers::of(&c, who).unwrap();
            ["c1", "c2", "c3", "c4"]
                .into_iter()
                .filter(|id| customers.has(id))
                .collect()
        };
        assert_eq!(passed("an"), ["c1", "c2", "c3"]);
        assert_eq!(passed("annie"), ["c2"]);
        assert_eq!(passed("lee ann"), ["c1"]);
        assert_eq!(passed("bo"), ["c3"]);
        assert!(passed("nobody").is_empty() && passed(" ").is_empty());
        assert_eq!(Customers::of(&c, "ann").unwrap().count(), 3);
    }
}
