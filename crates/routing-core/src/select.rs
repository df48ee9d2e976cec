//! Agent selection policies: given the eligible agents of an MRD in
//! longest-available order, pick the one a task goes to.
//!
//! Pools come first: an agent matching an earlier queue step (a lower pool) always
//! wins over one that only matches a later step, because step n searches the pools
//! of steps 1..n in order. Within a pool the policy decides; remaining ties go to
//! the agent available longest (the iteration order).

use super::model::SelectionPolicy;

/// One eligible agent as seen by a selection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Candidate<A> {
    pub agent: A,
    /// Index of the first queue step the agent matches.
    pub pool: u32,
    /// Reserved plus active tasks on the MRD.
    pub load: u32,
    /// Proficiency sum for the matched step (MOST_SKILLED).
    pub skill: u16,
}

/// Picks the agent for `policy` from candidates given in longest-available order.
pub(crate) fn choose<A: Copy>(
    policy: SelectionPolicy,
    candidates: impl Iterator<Item = Candidate<A>>,
) -> Option<A> {
    // Smaller rank wins; candidates with an equal rank keep iteration order.
    let rank = |c: &Candidate<A>| -> (u32, u32, u16) {
        match policy {
            SelectionPolicy::LongestAvailable => (c.pool, 0, 0),
            SelectionPolicy::LeastActiveTasks => (c.pool, c.load, 0),
            SelectionPolicy::MostSkilled => (c.pool, 0, u16::MAX - c.skill),
        }
    };
    let unbeatable = |r: (u32, u32, u16)| -> bool {
        match policy {
            SelectionPolicy::LongestAvailable => r.0 == 0,
            SelectionPolicy::LeastActiveTasks => r.0 == 0 && r.1 == 0,
            SelectionPolicy::MostSkilled => false,
        }
    };
    let mut best: Option<((u32, u32, u16), A)> = None;
    for candidate in candidates {
        let r = rank(&candidate);
        if best.as_ref().is_none_or(|(b, _)| r < *b) {
            best = Some((r, candidate.agent));
            if unbeatable(r) {
                break;
            }
        }
    }
    best.map(|(_, agent)| agent)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(agent: u32, pool: u32, load: u32, skill: u16) -> Candidate<u32> {
        Candidate {
            agent,
            pool,
            load,
            skill,
        }
    }

    #[test]
    fn longest_available_takes_the_first_of_the_lowest_pool() {
        let list = [c(1, 1, 0, 0), c(2, 0, 3, 0), c(3, 0, 0, 0)];
        assert_eq!(
            choose(SelectionPolicy::LongestAvailable, list.into_iter()),
            Some(2)
        );
        let later_pool_only = [c(1, 2, 0, 0), c(2, 1, 0, 0)];
        assert_eq!(
            choose(
                SelectionPolicy::LongestAvailable,
                later_pool_only.into_iter()
            ),
            Some(2)
        );
    }

    #[test]
    fn least_active_tasks_prefers_lower_load_then_longest_available() {
        let list = [c(1, 0, 2, 0), c(2, 0, 1, 0), c(3, 0, 1, 0), c(4, 1, 0, 0)];
        assert_eq!(
            choose(SelectionPolicy::LeastActiveTasks, list.into_iter()),
            Some(2)
        );
    }

    #[test]
    fn most_skilled_prefers_higher_skill_then_longest_available() {
        let list = [c(1, 0, 0, 5), c(2, 0, 0, 9), c(3, 0, 0, 9), c(4, 1, 0, 10)];
        assert_eq!(
            choose(SelectionPolicy::MostSkilled, list.into_iter()),
            Some(2)
        );
    }

    #[test]
    fn no_candidate_no_agent() {
        assert_eq!(
            choose::<u32>(SelectionPolicy::MostSkilled, std::iter::empty()),
            None
        );
    }
}
