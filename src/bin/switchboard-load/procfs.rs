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

/// Kernel clock ticks per second of /proc CPU times (USER_HZ, 100 on Linux).
const TICKS_PER_SEC: f64 = 100.0;

/// CPU seconds (user + system) a process has used so far (`None` reads this process).
pub fn cpu_secs(pid: Option<u32>) -> anyhow::Result<f64> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let stat = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    parse_stat_cpu(&stat).ok_or_else(|| anyhow!("{path}: unexpected format"))
}

fn parse_stat_cpu(stat: &str) -> Option<f64> {
    // The command name may contain spaces and parentheses; fields resume after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, utime field 14 and stime field 15 of the full line.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SEC)
}

/// CPU seconds the whole machine has spent busy and idle so far (all cores).
pub fn machine_cpu() -> anyhow::Result<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/stat").context("reading /proc/stat")?;
    parse_machine(&stat).ok_or_else(|| anyhow!("/proc/stat: unexpected format"))
}

fn parse_machine(stat: &str) -> Option<(f64, f64)> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    let idle = v.get(3)? + v.get(4).copied().unwrap_or(0.0);
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let busy: f64 = v.iter().take(8).sum::<f64>() - idle;
    Some((busy / TICKS_PER_SEC, idle / TICKS_PER_SEC))
}

/// CPU use over a measured phase: the server's, the tool's, and everything else on the
/// machine (other processes competing for the same cores make a run unrepresentative).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct CpuUse {
    pub wall_secs: f64,
    pub server_secs: Option<f64>,
    pub tool_secs: f64,
    /// Busy CPU seconds of the machine not used by the server or the tool.
    pub other_secs: Option<f64>,
    pub idle_secs: f64,
}

/// A start point for [`CpuUse`].
pub struct CpuMeter {
    server_pid: Option<u32>,
    started: std::time::Instant,
    server: Option<f64>,
    tool: f64,
    machine: (f64, f64),
}

impl CpuMeter {
    pub fn start(server_pid: Option<u32>) -> anyhow::Result<CpuMeter> {
        Ok(CpuMeter {
            server_pid,
            started: std::time::Instant::now(),
            server: server_pid.map(|p| cpu_secs(Some(p))).transpose()?,
            tool: cpu_secs(None)?,
            machine: machine_cpu()?,
        })
    }

    pub fn stop(&self) -> anyhow::Result<CpuUse> {
        let server = match (self.server_pid, self.server) {
            (Some(pid), Some(before)) => Some(cpu_secs(Some(pid))? - before),
            _ => None,
        };
        let tool = cpu_secs(None)? - self.tool;
        let (busy, idle) = machine_cpu()?;
        let busy = busy - self.machine.0;
        Ok(CpuUse {
            wall_secs: self.started.elapsed().as_secs_f64(),
            server_secs: server,
            tool_secs: tool,
            other_secs: server.map(|s| (busy - s - tool).max(0.0)),
            idle_secs: idle - self.machine.1,
        })
    }
}

impl std::fmt::Display for CpuUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let opt = |v: Option<f64>| v.map_or("n/a".to_owned(), |v| format!("{v:.1}s"));
        write!(
            f,
            "over {:.1}s: server {} tool {:.1}s other processes {} idle {:.1}s (CPU seconds)",
            self.wall_secs,
            opt(self.server_secs),
            self.tool_secs,
            opt(self.other_secs),
            self.idle_secs
        )
    }
}

#[cfg(test)]
mod cpu_tests {
    use super::*;

    #[test]
    fn stat_cpu_fields_survive_odd_command_names() {
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 4 0 1 2 3";
        assert_eq!(parse_stat_cpu(stat), Some(3.0));
    }

    #[test]
    fn machine_busy_and_idle_are_split() {
        let stat = "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3\n";
        assert_eq!(parse_machine(stat), Some((1.5, 8.5)));
    }

    #[test]
    fn this_process_has_a_cpu_reading() {
        assert!(cpu_secs(None).unwrap() >= 0.0);
        assert!(machine_cpu().unwrap().0 > 0.0);
    }
}
