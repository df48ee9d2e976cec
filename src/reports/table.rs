//! A report as a table: named columns and rows of cells, served as JSON (one object
//! per row, keys in column order) and as CSV (RFC 4180, UTF-8, a header row, the
//! same columns in the same order), so the export is what the screen shows.
//! Durations are seconds with one decimal, rates percentages with one decimal; an
//! undefined rate (nothing to divide by) is `null` in JSON and empty in CSV.

use serde_json::{Map, Value};

use super::period::Period;
use super::read::{Kind, Line, Report, WrapupCount};
use crate::clock::Millis;

/// Columns and rows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    /// The rows as JSON objects.
    pub fn json_rows(&self) -> Vec<Value> {
        self.rows
            .iter()
            .map(|row| {
                let map: Map<String, Value> = self
                    .columns
                    .iter()
                    .cloned()
                    .zip(row.iter().cloned())
                    .collect();
                Value::Object(map)
            })
            .collect()
    }

    /// The table as CSV text.
    pub fn csv(&self) -> Result<String, csv::Error> {
        let mut out = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        out.write_record(&self.columns)?;
        for row in &self.rows {
            out.write_record(row.iter().map(cell_text))?;
        }
        let bytes = out
            .into_inner()
            .map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// A cell as CSV text: strings as they are, numbers as JSON writes them, null empty.
pub fn cell_text(cell: &Value) -> String {
    match cell {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Seconds with one decimal.
pub fn secs(ms: Millis) -> Value {
    Value::from((ms as f64 / 100.0).round() / 10.0)
}

fn opt_secs(ms: Option<Millis>) -> Value {
    ms.map_or(Value::Null, secs)
}

/// A percentage with one decimal.
pub fn pct(value: Option<f64>) -> Value {
    value.map_or(Value::Null, |v| Value::from((v * 10.0).round() / 10.0))
}

const FIGURES: [&str; 16] = [
    "offered",
    "answered",
    "abandoned",
    "shortAbandons",
    "serviceLevelPct",
    "asaSecs",
    "ahtSecs",
    "maxWaitSecs",
    "avgFirstResponseSecs",
    "transfersIn",
    "transfersOut",
    "ronas",
    "rejects",
    "handled",
    "csatAvg",
    "csatCount",
];

const AGENT_TIME: [&str; 5] = [
    "loggedInSecs",
    "readySecs",
    "notReadySecs",
    "occupiedSecs",
    "occupancyPct",
];

/// The column of the not-ready time with `reason` ("" for none given).
pub fn reason_column(reason: &str) -> String {
    if reason.is_empty() {
        "notReadySecs:(no reason)".to_string()
    } else {
        format!("notReadySecs:{reason}")
    }
}

/// The report's lines (or totals) as a table.
pub fn lines(report: &Report, lines: &[Line], period: &Period) -> Table {
    let mut columns: Vec<String> = ["intervalStart", "intervalEnd", "id", "name"]
        .iter()
        .chain(FIGURES.iter())
        .map(|s| s.to_string())
        .collect();
    let agents = report.kind == Kind::Agents;
    let mut reasons: Vec<String> = Vec::new();
    if agents {
        columns.extend(AGENT_TIME.iter().map(|s| s.to_string()));
        let mut all: Vec<&String> = report
            .totals
            .iter()
            .chain(report.lines.iter())
            .filter_map(|l| l.time.as_ref())
            .flat_map(|t| t.not_ready_by_reason.keys())
            .collect();
        all.sort();
        all.dedup();
        reasons = all.into_iter().cloned().collect();
        columns.extend(reasons.iter().map(|r| reason_column(r)));
    }
    let rows = lines
        .iter()
        .map(|line| {
            let t = &line.tally;
            let n = &t.counts;
            let offered = if report.kind.is_agent_work() {
                n.reservations
            } else {
                n.offered
            };
            let mut row = vec![
                Value::from(period.local_text(line.start)),
                Value::from(period.local_text(line.end)),
                Value::from(line.id.clone()),
                Value::from(line.name.clone()),
                Value::from(offered),
                Value::from(n.answered),
                Value::from(n.abandoned),
                Value::from(n.short_abandons),
                pct(n.service_level_pct()),
                opt_secs(n.asa_ms()),
                opt_secs(n.aht_ms()),
                secs(t.max_wait_ms),
                opt_secs(t.first_response_ms()),
                Value::from(n.transfers_in),
                Value::from(n.transfers_out),
                Value::from(n.ronas),
                Value::from(n.rejects),
                Value::from(n.handled),
                line.csat
                    .average()
                    .map_or(Value::Null, |v| Value::from((v * 100.0).round() / 100.0)),
                Value::from(line.csat.count),
            ];
            if agents {
                let time = line.time.clone().unwrap_or_default();
                row.extend([
                    secs(time.logged_in_ms),
                    secs(time.ready_ms),
                    secs(time.not_ready_ms),
                    secs(time.occupied_ms),
                    pct(time.occupancy_pct()),
                ]);
                for reason in &reasons {
                    let ms = time.not_ready_by_reason.get(reason).copied().unwrap_or(0);
                    row.push(secs(ms));
                }
            }
            row
        })
        .collect();
    Table { columns, rows }
}

/// The wrap-up code distribution as a table.
pub fn wrapups(counts: &[WrapupCount]) -> Table {
    Table {
        columns: ["id", "name", "code", "count"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        rows: counts
            .iter()
            .map(|w| {
                vec![
                    Value::from(w.id.clone()),
                    Value::from(w.name.clone()),
                    Value::from(w.code.clone()),
                    Value::from(w.count),
                ]
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn csv_quotes_what_rfc_4180_says_and_reads_back() {
        let table = Table {
            columns: vec!["name".into(), "n".into(), "rate".into()],
            rows: vec![
                vec![json!("Ann, \"the\" first\nline"), json!(3), Value::Null],
                vec![json!("Bo"), json!(0), json!(12.5)],
            ],
        };
        let text = table.csv().unwrap();
        assert!(text.starts_with("name,n,rate\r\n\"Ann, \"\"the\"\" first\nline\",3,\r\n"));
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(header, table.columns);
        let read: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect();
        let expected: Vec<Vec<String>> = table
            .rows
            .iter()
            .map(|r| r.iter().map(cell_text).collect())
            .collect();
        assert_eq!(read, expected);
        assert_eq!(
            table.json_rows()[1],
            json!({"name": "Bo", "n": 0, "rate": 12.5})
        );
    }

    #[test]
    fn durations_are_seconds_with_one_decimal() {
        assert_eq!(secs(12_345), json!(12.3));
        assert_eq!(secs(40_000), json!(40.0));
        assert_eq!(pct(Some(200.0 / 3.0)), json!(66.7));
        assert_eq!(pct(None), Value::Null);
    }
}
