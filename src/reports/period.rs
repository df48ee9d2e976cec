//! A report's period and its intervals in the site's time zone: the dates asked for
//! become epoch-ms bounds (local midnights), and each kept 15-minute interval is
//! placed in the report interval (15 min, hour, day, week from Monday) that holds
//! it, in local time (so a DST day has 23 or 25 hourly rows).

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, Unit, Zoned, ZonedRound};
use serde::{Deserialize, Serialize};

use crate::clock::Millis;

/// How a report groups its figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = ReportInterval)]
pub enum Interval {
    #[serde(rename = "15m")]
    Quarter,
    #[serde(rename = "hour")]
    Hour,
    #[serde(rename = "day")]
    Day,
    #[serde(rename = "week")]
    Week,
}

impl Interval {
    /// The longest period, in days, a report with this interval may cover.
    pub fn max_days(self) -> i64 {
        match self {
            Interval::Quarter => 31,
            Interval::Hour => 92,
            Interval::Day | Interval::Week => 400,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Interval::Quarter => "15m",
            Interval::Hour => "hour",
            Interval::Day => "day",
            Interval::Week => "week",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("`{field}` must be a date as YYYY-MM-DD")]
    BadDate { field: &'static str },
    #[error("`from` must not be after `to`")]
    Reversed,
    #[error("a report by {interval} covers at most {max} days")]
    TooLong { interval: &'static str, max: i64 },
}

impl PeriodError {
    pub fn code(&self) -> &'static str {
        match self {
            PeriodError::BadDate { .. } => "bad_date",
            PeriodError::Reversed => "reversed_period",
            PeriodError::TooLong { .. } => "period_too_long",
        }
    }

    /// The query parameter at fault.
    pub fn field(&self) -> &'static str {
        match self {
            PeriodError::BadDate { field } => field,
            PeriodError::Reversed => "from",
            PeriodError::TooLong { .. } => "to",
        }
    }
}

/// A period of whole local days, `[start, end)` in epoch ms.
#[derive(Debug, Clone, PartialEq)]
pub struct Period {
    pub zone: TimeZone,
    pub from: Date,
    pub to: Date,
    pub start: Millis,
    pub end: Millis,
    pub interval: Interval,
}

fn midnight(date: Date, zone: &TimeZone) -> Millis {
    date.to_zoned(zone.clone())
        .and_then(|z| z.start_of_day())
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(0)
}

impl Period {
    /// The days `from` to `to` (inclusive, `YYYY-MM-DD`) in `zone`.
    pub fn parse(
        from: &str,
        to: Option<&str>,
        interval: Interval,
        zone: TimeZone,
    ) -> Result<Period, PeriodError> {
        let from: Date = from
            .parse()
            .map_err(|_| PeriodError::BadDate { field: "from" })?;
        let to: Date = match to {
            Some(to) => to
                .parse()
                .map_err(|_| PeriodError::BadDate { field: "to" })?,
            None => from,
        };
        if from > to {
            return Err(PeriodError::Reversed);
        }
        let days = (to - from).get_days() as i64 + 1;
        if days > interval.max_days() {
            return Err(PeriodError::TooLong {
                interval: interval.name(),
                max: interval.max_days(),
            });
        }
        let next = to
            .checked_add(1.day())
            .map_err(|_| PeriodError::BadDate { field: "to" })?;
        Ok(Period {
            start: midnight(from, &zone),
            end: midnight(next, &zone),
            zone,
            from,
            to,
            interval,
        })
    }

    /// The local day holding `now`.
    pub fn today(now: Millis, zone: TimeZone) -> Period {
        let date = Timestamp::from_millisecond(now)
            .map(|t| t.to_zoned(zone.clone()).date())
            .unwrap_or_default();
        let next = date.checked_add(1.day()).unwrap_or(date);
        Period {
            start: midnight(date, &zone),
            end: midnight(next, &zone),
            zone,
            from: date,
            to: date,
            interval: Interval::Day,
        }
    }

    fn zoned(&self, at: Millis) -> Option<Zoned> {
        Some(
            Timestamp::from_millisecond(at)
                .ok()?
                .to_zoned(self.zone.clone()),
        )
    }

    /// The start of the report interval holding `at`.
    pub fn interval_start(&self, at: Millis) -> Millis {
        let Some(z) = self.zoned(at) else {
            return at;
        };
        let start = match self.interval {
            Interval::Quarter => return super::tally::interval_of(at),
            Interval::Hour => z.round(
                ZonedRound::new()
                    .smallest(Unit::Hour)
                    .mode(jiff::RoundMode::Trunc),
            ),
            Interval::Day => z.start_of_day(),
            Interval::Week => {
                let back = i64::from(z.weekday().to_monday_zero_offset());
                z.date()
                    .checked_sub(back.days())
                    .and_then(|d| d.to_zoned(self.zone.clone()))
                    .and_then(|d| d.start_of_day())
            }
        };
        start.map(|s| s.timestamp().as_millisecond()).unwrap_or(at)
    }

    /// The end of the report interval starting at `start` (the period's end at most).
    /// A row clamped to the period's start (a week report from a Tuesday) ends where
    /// its whole interval does, so rows never overlap.
    pub fn interval_end(&self, start: Millis) -> Millis {
        let start = self.interval_start(start);
        let Some(z) = self.zoned(start) else {
            return start;
        };
        let next = match self.interval {
            Interval::Quarter => return (start + super::tally::INTERVAL_MS).min(self.end),
            Interval::Hour => z.checked_add(1.hour()),
            Interval::Day => z.checked_add(1.day()),
            Interval::Week => z.checked_add(1.week()),
        };
        next.map(|n| n.timestamp().as_millisecond().min(self.end))
            .unwrap_or(self.end)
    }

    /// `at` as local RFC 3339 text with its offset.
    pub fn local_text(&self, at: Millis) -> String {
        self.zoned(at)
            .map(|z| z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin() -> TimeZone {
        TimeZone::get("Europe/Berlin").expect("zone")
    }

    #[test]
    fn a_dst_day_has_23_hours_and_days_start_at_local_midnight() {
        let p = Period::parse("2026-03-29", None, Interval::Hour, berlin()).unwrap();
        assert_eq!(p.end - p.start, 23 * 3_600_000);
        let mut hours = 0;
        let mut at = p.start;
        while at < p.end {
            assert_eq!(p.interval_start(at), at);
            at = p.interval_end(at);
            hours += 1;
        }
        assert_eq!(hours, 23);
        assert_eq!(p.local_text(p.start), "2026-03-29T00:00:00+01:00");
    }

    #[test]
    fn weeks_start_on_monday_and_bad_periods_are_refused() {
        let p = Period::parse("2026-12-01", Some("2026-12-20"), Interval::Week, berlin()).unwrap();
        // 2026-12-05 is a Saturday; its week began Monday 2026-11-30.
        let sat = Period::parse("2026-12-05", None, Interval::Day, berlin()).unwrap();
        assert_eq!(
            p.local_text(p.interval_start(sat.start + 5_000)),
            "2026-11-30T00:00:00+01:00"
        );
        // The report from Tuesday 12-01: its first row ends Monday 12-07, where the
        // second begins; no day is in two rows.
        assert_eq!(
            p.local_text(p.interval_end(p.start)),
            "2026-12-07T00:00:00+01:00"
        );
        assert_eq!(
            Period::parse("2026-12-05", Some("2026-12-01"), Interval::Day, berlin()),
            Err(PeriodError::Reversed)
        );
        assert_eq!(
            Period::parse("5.12.2026", None, Interval::Day, berlin())
                .unwrap_err()
                .field(),
            "from"
        );
        assert!(matches!(
            Period::parse(
                "2026-01-01",
                Some("2026-12-31"),
                Interval::Quarter,
                berlin()
            ),
            Err(PeriodError::TooLong { .. })
        ));
    }
}
