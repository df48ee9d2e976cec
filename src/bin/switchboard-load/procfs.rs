//! Process memory from /proc/<pid>/status (Linux).

use anyhow::{anyhow, Context};
use serde::Serialize;

/// Resident and peak resident memory of a process, in KiB.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Memory {
    pub rss_kib: u64,
    pub peak_rss_kib: u64,
}

impl Memory {
    pub fn mib(kib: u64) -> f64 {
        kib as f64 / 1024.0
    }
}

/// Reads `VmRSS` and `VmHWM` of `pid` (`None` reads this process).
pub fn memory(pid: Option<u32>) -> anyhow::Result<Memory> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/status"),
        None => "/proc/self/status".to_owned(),
    };
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    parse_status(&status).ok_or_else(|| anyhow!("{path} has no VmRSS/VmHWM"))
}

fn parse_status(status: &str) -> Option<Memory> {
    let field = |name: &str| -> Option<u64> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))?
            .trim()
            .strip_suffix("kB")?
            .trim()
            .parse()
            .ok()
    };
    Some(Memory {
        rss_kib: field("VmRSS:")?,
        peak_rss_kib: field("VmHWM:")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_fields_are_read_in_kib() {
        let status = "Name:\tswitchboard\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\nThreads:\t4\n";
        assert_eq!(
            parse_status(status),
            Some(Memory {
                rss_kib: 10240,
                peak_rss_kib: 20480
            })
        );
        assert_eq!(parse_status("Name: x\n"), None);
    }

    #[test]
    fn this_process_can_be_measured() {
        assert!(memory(None).unwrap().rss_kib > 0);
    }
}
