//! The comparison of the two runs: one row per queue and run (and one for all
//! queues), printed as a table and written as CSV.

use std::io::Write;

use super::source::Workload;
use super::tally::{Figures, QueueFigures};

/// One queue (or all queues) in one run.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub queue_id: String,
    pub queue: String,
    /// `recorded` or `changed`.
    pub run: &'static str,
    pub figures: QueueFigures,
    /// Occupancy of the agents of the queue's MRD (all MRDs for the total).
    pub occupancy_pct: Option<f64>,
}

/// Both runs, queue by queue.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    pub rows: Vec<Row>,
    pub recorded: Figures,
    pub changed: Figures,
}

/// The id and name of the row that adds up every queue.
pub const ALL: &str = "*";

impl Comparison {
    pub fn new(work: &Workload, recorded: Figures, changed: Figures) -> Self {
        let mut rows = Vec::new();
        for q in &work.queues {
            for (run, figures) in [("recorded", &recorded), ("changed", &changed)] {
                rows.push(Row {
                    queue_id: q.id.clone(),
                    queue: q.name.clone(),
                    run,
                    figures: figures.queues.get(&q.id).cloned().unwrap_or_default(),
                    occupancy_pct: figures.occupancy_pct(&q.mrd_id),
                });
            }
        }
        for (run, figures) in [("recorded", &recorded), ("changed", &changed)] {
            rows.push(Row {
                queue_id: ALL.to_string(),
                queue: "All queues".to_string(),
                run,
                figures: total(figures),
                occupancy_pct: figures.occupancy_all_pct(),
            });
        }
        Comparison {
            rows,
            recorded,
            changed,
        }
    }

    /// The row of `queue_id` (or [`ALL`]) in `run`.
    pub fn row(&self, queue_id: &str, run: &str) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.queue_id == queue_id && r.run == run)
    }
}

fn total(figures: &Figures) -> QueueFigures {
    let mut t = QueueFigures::default();
    for q in figures.queues.values() {
        t.offered += q.offered;
        t.answered += q.answered;
        t.answered_within += q.answered_within;
        t.answered_after_wait += q.answered_after_wait;
        t.abandoned += q.abandoned;
        t.short_abandons += q.short_abandons;
        t.wait_sum_ms += q.wait_sum_ms;
        t.unfinished += q.unfinished;
    }
    t
}

fn cell(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{v:.1}"))
}

/// The comparison as a table, two lines per queue (recorded, then changed).
pub fn write_table(out: &mut impl Write, c: &Comparison) -> std::io::Result<()> {
    let width = c
        .rows
        .iter()
        .map(|r| r.queue.chars().count())
        .max()
        .unwrap_or(5)
        .clamp(5, 40);
    writeln!(
        out,
        "{:<width$}  {:<8} {:>8} {:>8} {:>9} {:>6} {:>7} {:>7} {:>6} {:>10}",
        "queue",
        "run",
        "offered",
        "answered",
        "abandoned",
        "SL %",
        "ASA s",
        "aband %",
        "occ %",
        "unfinished"
    )?;
    let mut last = "";
    for r in &c.rows {
        let name: String = if r.queue_id == last {
            String::new()
        } else {
            r.queue.chars().take(width).collect()
        };
        last = &r.queue_id;
        let f = &r.figures;
        writeln!(
            out,
            "{:<width$}  {:<8} {:>8} {:>8} {:>9} {:>6} {:>7} {:>7} {:>6} {:>10}",
            name,
            r.run,
            f.offered,
            f.answered,
            f.abandoned,
            cell(f.service_level_pct()),
            cell(f.asa_secs()),
            cell(f.abandon_pct()),
            cell(r.occupancy_pct),
            f.unfinished,
        )?;
    }
    Ok(())
}

/// The comparison as CSV: one record per queue and run.
pub fn write_csv(out: impl Write, c: &Comparison) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "queue_id",
        "queue",
        "run",
        "offered",
        "answered",
        "abandoned",
        "service_level_pct",
        "asa_secs",
        "abandon_pct",
        "occupancy_pct",
        "unfinished",
    ])?;
    let num = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v:.2}"));
    for r in &c.rows {
        let f = &r.figures;
        w.write_record([
            r.queue_id.clone(),
            r.queue.clone(),
            r.run.to_string(),
            f.offered.to_string(),
            f.answered.to_string(),
            f.abandoned.to_string(),
            num(f.service_level_pct()),
            num(f.asa_secs()),
            num(f.abandon_pct()),
            num(r.occupancy_pct),
            f.unfinished.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}
