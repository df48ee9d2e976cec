//! What the driver last handed the store of each open conversation's runtime, so a
//! step that only appends events stores its runtime on its last event as only what
//! changed (a merge patch, see `store::merge_patch`), or nothing when nothing did.
//!
//! A whole runtime is stored instead when the driver knows no earlier one (after a
//! start or a failed write) and after every [`PATCHES_PER_BASE`] patches, so a restart
//! reads a bounded number of patches.

use crate::store::conversations::RUNTIME_PATCH;
use crate::store::merge_patch;
use serde_json::Value;
use std::collections::HashMap;

/// Patches in a row before a whole runtime is stored again.
pub const PATCHES_PER_BASE: u32 = 64;

/// The runtime a step stores on its last event.
#[derive(Debug, Clone, PartialEq)]
pub enum CarriedRuntime {
    /// Unchanged since the runtime stored before.
    Unchanged,
    /// The text to store: a whole runtime, or a tagged patch.
    Text(String),
}

#[derive(Default)]
pub struct StoredRuntimes(HashMap<String, (Value, u32)>);

impl StoredRuntimes {
    /// A step of `id` stores `runtime` whole (its conversation row or runtime row);
    /// a closed conversation is forgotten.
    pub fn stored_whole(&mut self, id: &str, runtime: Value, closed: bool) {
        if closed {
            self.0.remove(id);
        } else {
            self.0.insert(id.to_string(), (runtime, 0));
        }
    }

    /// What a step of `id` that only appends events stores as its runtime.
    pub fn carried(&mut self, id: &str, runtime: Value) -> CarriedRuntime {
        if let Some((before, patches)) = self.0.get_mut(id) {
            if *patches < PATCHES_PER_BASE {
                let Some(patch) = merge_patch::diff(before, &runtime) else {
                    return CarriedRuntime::Unchanged;
                };
                *before = runtime;
                *patches += 1;
                return CarriedRuntime::Text(format!("{RUNTIME_PATCH}{patch}"));
            }
        }
        let text = runtime.to_string();
        self.0.insert(id.to_string(), (runtime, 0));
        CarriedRuntime::Text(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_changes_are_carried_and_a_whole_runtime_comes_back_regularly() {
        let mut stored = StoredRuntimes::default();
        let r1 = json!({"awaitingAgentReply": false, "queueId": "q1"});
        let r2 = json!({"awaitingAgentReply": true, "queueId": "q1"});
        // Unknown conversation: whole.
        assert_eq!(
            stored.carried("c1", r1.clone()),
            CarriedRuntime::Text(r1.to_string())
        );
        assert_eq!(stored.carried("c1", r1.clone()), CarriedRuntime::Unchanged);
        assert_eq!(
            stored.carried("c1", r2.clone()),
            CarriedRuntime::Text("+{\"awaitingAgentReply\":true}".into())
        );
        for i in 1..PATCHES_PER_BASE {
            let r = if i % 2 == 1 { &r1 } else { &r2 };
            assert!(
                matches!(stored.carried("c1", r.clone()), CarriedRuntime::Text(t) if t.starts_with('+'))
            );
        }
        assert_eq!(
            stored.carried("c1", r2.clone()),
            CarriedRuntime::Text(r2.to_string()),
            "after {PATCHES_PER_BASE} patches a whole runtime"
        );

        // A whole runtime written by a row step is the new base.
        stored.stored_whole("c1", r1.clone(), false);
        assert_eq!(stored.carried("c1", r1.clone()), CarriedRuntime::Unchanged);
        stored.stored_whole("c1", r1.clone(), true);
        assert_eq!(
            stored.carried("c1", r1.clone()),
            CarriedRuntime::Text(r1.to_string())
        );
    }
}
