//! Erlang C: the M/M/c queue (Poisson arrivals, exponential handle times, `c`
//! agents each taking one task, FIFO, nobody abandons) in closed form, the yardstick
//! the simulation is validated against.

/// The steady-state figures of an M/M/c queue.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ErlangC {
    /// Probability that an arrival waits at all.
    pub wait_probability: f64,
    /// Mean wait of all arrivals (ASA), seconds.
    pub asa_secs: f64,
    /// Share answered within `threshold_secs`.
    pub service_level: f64,
}

/// `agents` agents, `rate_per_sec` arrivals per second, `handle_secs` mean handle time,
/// service level at `threshold_secs`. `None` when the load reaches the agents
/// (the queue grows without end).
pub fn erlang_c(
    agents: u32,
    rate_per_sec: f64,
    handle_secs: f64,
    threshold_secs: f64,
) -> Option<ErlangC> {
    let c = f64::from(agents);
    let load = rate_per_sec * handle_secs; // offered traffic A, in erlangs
    if agents == 0 || load >= c {
        return None;
    }
    // Sum of A^k / k! for k < c, and A^c / c!, built term by term.
    let mut term = 1.0;
    let mut sum = 0.0;
    for k in 0..agents {
        sum += term;
        term *= load / f64::from(k + 1);
    }
    let top = term * c / (c - load);
    let wait_probability = top / (sum + top);
    let drain = c / handle_secs - rate_per_sec; // c·mu − lambda
    Some(ErlangC {
        wait_probability,
        asa_secs: wait_probability / drain,
        service_level: 1.0 - wait_probability * (-drain * threshold_secs).exp(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_published_values() {
        // A = 2 erlangs on 3 agents: P(wait) = 4/9 (the textbook example).
        let e = erlang_c(3, 2.0 / 60.0, 60.0, 20.0).unwrap();
        assert!((e.wait_probability - 4.0 / 9.0).abs() < 1e-12, "{e:?}");
        // ASA = P(wait) / (c·mu − lambda) = (4/9) / (1/60) = 26.67 s.
        assert!((e.asa_secs - 4.0 / 9.0 * 60.0).abs() < 1e-9, "{e:?}");
        // One agent: M/M/1, P(wait) = rho.
        let m1 = erlang_c(1, 0.5, 1.0, 0.0).unwrap();
        assert!((m1.wait_probability - 0.5).abs() < 1e-12);
        assert!((m1.service_level - 0.5).abs() < 1e-12);
    }

    #[test]
    fn an_overloaded_queue_has_no_steady_state() {
        assert_eq!(erlang_c(3, 1.0, 3.0, 20.0), None);
        assert_eq!(erlang_c(0, 1.0, 1.0, 20.0), None);
    }
}
