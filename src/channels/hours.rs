//! Business hours of a channel: a weekly schedule (per weekday, open intervals as
//! local `HH:MM`), holidays (local dates, closed all day) and the time zone they are
//! read in (the channel's `timeZone`, else `site.time_zone`).
//!
//! `BusinessHours` is the stored and API shape; `check` turns it into a `Schedule`
//! (or names the first bad field), which answers `is_open(t)` and `next_open(t)` for
//! any instant: pure functions of their arguments, so the hours are tested on a
//! simulated clock and the "hours open" wake-up is a plain deadline.
//!
//! Rules: an interval `open`-`close` is open from `open` (inclusive) to `close`
//! (exclusive); `close` `24:00` or `00:00` means midnight at the end of the day; a
//! `close` before `open` runs overnight into the next day. An interval belongs to the
//! day it opens on. A holiday is closed for its whole local date: its own intervals
//! never open, and an overnight interval of the day before stops at its midnight.
//! Local times are wall-clock times, so an interval opens at its local time on both
//! sides of a DST change; a time the change skips opens at the first instant after it.

use crate::clock::Millis;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// At most this many intervals per weekday.
pub const MAX_INTERVALS_PER_DAY: usize = 6;
/// At most this many holidays.
pub const MAX_HOLIDAYS: usize = 400;
/// How far ahead `next_open` looks (a long run of holidays is bounded by `MAX_HOLIDAYS`).
const LOOKAHEAD_DAYS: i64 = MAX_HOLIDAYS as i64 + 8;

/// One open interval: local `HH:MM` times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = OpenInterval)]
pub struct Interval {
    /// `HH:MM`, 00:00-23:59.
    pub open: String,
    /// `HH:MM`; `24:00` (or `00:00`) is the end of the day; before `open` runs overnight.
    pub close: String,
}

/// The open intervals of each weekday (a day left out is closed).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Weekly {
    pub monday: Vec<Interval>,
    pub tuesday: Vec<Interval>,
    pub wednesday: Vec<Interval>,
    pub thursday: Vec<Interval>,
    pub friday: Vec<Interval>,
    pub saturday: Vec<Interval>,
    pub sunday: Vec<Interval>,
}

impl Weekly {
    /// (name, intervals) Monday first.
    fn days(&self) -> [(&'static str, &[Interval]); 7] {
        [
            ("monday", self.monday.as_slice()),
            ("tuesday", self.tuesday.as_slice()),
            ("wednesday", self.wednesday.as_slice()),
            ("thursday", self.thursday.as_slice()),
            ("friday", self.friday.as_slice()),
            ("saturday", self.saturday.as_slice()),
            ("sunday", self.sunday.as_slice()),
        ]
    }
}

/// A closed date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    /// `YYYY-MM-DD`, a local date.
    pub date: String,
    /// Up to 100 characters ("Christmas Day").
    #[serde(default)]
    pub label: Option<String>,
}

/// A channel's business hours as stored and as the API reads and writes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BusinessHours {
    /// false: the channel is always open (the schedule is kept, not applied).
    pub enabled: bool,
    /// An IANA time zone (`Europe/Berlin`); null: the site's `site.time_zone`.
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub weekly: Weekly,
    #[serde(default)]
    pub holidays: Vec<Holiday>,
}

impl Default for BusinessHours {
    /// No hours set: always open.
    fn default() -> Self {
        BusinessHours {
            enabled: false,
            time_zone: None,
            weekly: Weekly::default(),
            holidays: Vec::new(),
        }
    }
}

/// A refused schedule: the field path (`weekly.monday[0].close`) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct HoursError {
    pub field: String,
    pub message: String,
}

impl HoursError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        HoursError {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        "invalid_field"
    }
}

/// An interval in seconds of the local day: `close` is after `open`, up to 48 h for an
/// overnight interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    open: i32,
    close: i32,
}

/// Checked business hours, ready to answer questions about instants.
#[derive(Debug, Clone)]
pub struct Schedule {
    enabled: bool,
    zone: TimeZone,
    /// Monday first, each sorted by `open`.
    days: [Vec<Span>; 7],
    holidays: BTreeSet<Date>,
}

/// Minutes of the day of `HH:MM`; `24:00` is allowed only when `end`.
fn minutes(field: &str, text: &str, end: bool) -> Result<i32, HoursError> {
    let bad = || HoursError::new(field, format!("{text:?} is not a time HH:MM"));
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: i32 = h.parse().map_err(|_| bad())?;
    let m: i32 = m.parse().map_err(|_| bad())?;
    if h == 24 && m == 0 && end {
        return Ok(24 * 60);
    }
    if !(0..24).contains(&h) || !(0..60).contains(&m) {
        return Err(HoursError::new(
            field,
            format!(
                "{text:?} is not a time of day (00:00-23:59{})",
                if end { " or 24:00" } else { "" }
            ),
        ));
    }
    Ok(h * 60 + m)
}

fn weekday_index(day: Weekday) -> usize {
    day.to_monday_zero_offset() as usize
}

impl BusinessHours {
    /// Checks every field; `site_zone` is used when `timeZone` is null.
    pub fn check(&self, site_zone: &TimeZone) -> Result<Schedule, HoursError> {
        let zone = match &self.time_zone {
            None => site_zone.clone(),
            Some(name) => TimeZone::get(name).map_err(|_| {
                HoursError::new(
                    "timeZone",
                    format!("{name:?} is not a known IANA time zone"),
                )
            })?,
        };
        let mut days: [Vec<Span>; 7] = Default::default();
        for (i, (name, intervals)) in self.weekly.days().into_iter().enumerate() {
            if intervals.len() > MAX_INTERVALS_PER_DAY {
                return Err(HoursError::new(
                    format!("weekly.{name}"),
                    format!("at most {MAX_INTERVALS_PER_DAY} intervals a day"),
                ));
            }
            for (j, interval) in intervals.iter().enumerate() {
                let at = format!("weekly.{name}[{j}]");
                let open = minutes(&format!("{at}.open"), &interval.open, false)?;
                let mut close = minutes(&format!("{at}.close"), &interval.close, true)?;
                if close == 0 {
                    close = 24 * 60;
                }
                if close == open {
                    return Err(HoursError::new(
                        format!("{at}.close"),
                        "close must differ from open",
                    ));
                }
                if close < open {
                    close += 24 * 60; // overnight
                }
                days[i].push(Span {
                    open: open * 60,
                    close: close * 60,
                });
            }
            days[i].sort_by_key(|s| s.open);
            for (j, pair) in days[i].windows(2).enumerate() {
                if pair[1].open < pair[0].close {
                    return Err(HoursError::new(
                        format!("weekly.{name}"),
                        format!("intervals {} and {} overlap", j + 1, j + 2),
                    ));
                }
            }
        }
        if self.holidays.len() > MAX_HOLIDAYS {
            return Err(HoursError::new(
                "holidays",
                format!("at most {MAX_HOLIDAYS} holidays"),
            ));
        }
        let mut holidays = BTreeSet::new();
        for (i, holiday) in self.holidays.iter().enumerate() {
            let date: Date = holiday.date.parse().map_err(|_| {
                HoursError::new(
                    format!("holidays[{i}].date"),
                    format!("{:?} is not a date YYYY-MM-DD", holiday.date),
                )
            })?;
            if !holidays.insert(date) {
                return Err(HoursError::new(
                    format!("holidays[{i}].date"),
                    format!("{date} is listed twice"),
                ));
            }
            if holiday
                .label
                .as_deref()
                .is_some_and(|l| l.chars().count() > 100)
            {
                return Err(HoursError::new(
                    format!("holidays[{i}].label"),
                    "label must be at most 100 characters",
                ));
            }
        }
        Ok(Schedule {
            enabled: self.enabled,
            zone,
            days,
            holidays,
        })
    }
}

impl Schedule {
    /// Always open.
    pub fn always_open() -> Schedule {
        Schedule {
            enabled: false,
            zone: TimeZone::UTC,
            days: Default::default(),
            holidays: BTreeSet::new(),
        }
    }

    pub fn zone_name(&self) -> Option<&str> {
        self.zone.iana_name()
    }

    /// Whether the channel is open at `now`.
    pub fn is_open(&self, now: Millis) -> bool {
        if !self.enabled {
            return true;
        }
        let Ok(ts) = Timestamp::from_millisecond(now) else {
            return false;
        };
        let local = ts.to_zoned(self.zone.clone());
        let date = local.date();
        if self.holidays.contains(&date) {
            return false;
        }
        let second = i32::from(local.hour()) * 3600
            + i32::from(local.minute()) * 60
            + i32::from(local.second());
        let today = &self.days[weekday_index(date.weekday())];
        if today.iter().any(|s| s.open <= second && second < s.close) {
            return true;
        }
        // The overnight tail of yesterday's intervals (unless yesterday was a holiday).
        let Ok(yesterday) = date.yesterday() else {
            return false;
        };
        !self.holidays.contains(&yesterday)
            && self.days[weekday_index(yesterday.weekday())]
                .iter()
                .any(|s| second + 86_400 < s.close)
    }

    /// The first instant at or after `now` when the channel is open: `now` itself when
    /// it is open, `None` when it never opens (no intervals).
    pub fn next_open(&self, now: Millis) -> Option<Millis> {
        if self.is_open(now) {
            return Some(now);
        }
        let ts = Timestamp::from_millisecond(now).ok()?;
        let today = ts.to_zoned(self.zone.clone()).date();
        let mut date = today;
        for _ in 0..LOOKAHEAD_DAYS {
            if !self.holidays.contains(&date) {
                for span in &self.days[weekday_index(date.weekday())] {
                    let Some(at) = self.local_instant(date, span.open) else {
                        continue;
                    };
                    if at > now && self.is_open(at) {
                        return Some(at);
                    }
                }
            }
            date = date.tomorrow().ok()?;
        }
        None
    }

    /// The instant of `second` of the local `date` (a time a DST change skips is read
    /// at the first instant after the gap).
    fn local_instant(&self, date: Date, second: i32) -> Option<Millis> {
        let h = i8::try_from(second / 3600).ok()?;
        let m = i8::try_from(second % 3600 / 60).ok()?;
        let local = date.at(h, m, 0, 0);
        let zoned = local.to_zoned(self.zone.clone()).ok()?;
        if zoned.datetime() == local {
            return Some(zoned.timestamp().as_millisecond());
        }
        // `local` is in a gap (clocks jumped over it): it opens when the gap ends.
        let gap_end = self.zone.preceding(zoned.timestamp()).next()?;
        Some(gap_end.timestamp().as_millisecond())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iv(open: &str, close: &str) -> Interval {
        Interval {
            open: open.into(),
            close: close.into(),
        }
    }

    fn at(zone: &str, local: &str) -> Millis {
        let dt: jiff::civil::DateTime = local.parse().unwrap();
        dt.to_zoned(TimeZone::get(zone).unwrap())
            .unwrap()
            .timestamp()
            .as_millisecond()
    }

    fn weekdays_9_to_17() -> BusinessHours {
        let day = vec![iv("09:00", "17:00")];
        BusinessHours {
            enabled: true,
            time_zone: Some("Europe/Berlin".into()),
            weekly: Weekly {
                monday: day.clone(),
                tuesday: day.clone(),
                wednesday: day.clone(),
                thursday: day.clone(),
                friday: day,
                ..Weekly::default()
            },
            holidays: vec![],
        }
    }

    #[test]
    fn weekday_hours_open_and_close_in_the_zone() {
        let s = weekdays_9_to_17().check(&TimeZone::UTC).unwrap();
        // 2026-12-04 is a Friday.
        assert!(!s.is_open(at("Europe/Berlin", "2026-12-04T08:59:59")));
        assert!(s.is_open(at("Europe/Berlin", "2026-12-04T09:00")));
        assert!(s.is_open(at("Europe/Berlin", "2026-12-04T16:59:59")));
        assert!(!s.is_open(at("Europe/Berlin", "2026-12-04T17:00")));
        // Friday evening: back Monday 09:00 Berlin time.
        assert_eq!(
            s.next_open(at("Europe/Berlin", "2026-12-04T18:00")),
            Some(at("Europe/Berlin", "2026-12-07T09:00"))
        );
        let now = at("Europe/Berlin", "2026-12-04T10:00");
        assert_eq!(s.next_open(now), Some(now));
    }

    #[test]
    fn disabled_hours_are_always_open() {
        let mut hours = weekdays_9_to_17();
        hours.enabled = false;
        let s = hours.check(&TimeZone::UTC).unwrap();
        assert!(s.is_open(at("Europe/Berlin", "2026-12-05T03:00")));
        assert!(Schedule::always_open().is_open(0));
    }

    #[test]
    fn a_holiday_is_closed_all_day_and_skipped_by_next_open() {
        let mut hours = weekdays_9_to_17();
        hours.holidays = vec![Holiday {
            date: "2026-12-25".into(),
            label: Some("Christmas Day".into()),
        }];
        let s = hours.check(&TimeZone::UTC).unwrap();
        // Thursday 24th evening: Friday 25th is a holiday, so Monday 28th.
        assert!(!s.is_open(at("Europe/Berlin", "2026-12-25T10:00")));
        assert_eq!(
            s.next_open(at("Europe/Berlin", "2026-12-24T17:30")),
            Some(at("Europe/Berlin", "2026-12-28T09:00"))
        );
    }

    #[test]
    fn an_overnight_interval_runs_past_midnight_but_not_into_a_holiday() {
        let hours = BusinessHours {
            enabled: true,
            time_zone: Some("UTC".into()),
            weekly: Weekly {
                friday: vec![iv("22:00", "02:00")],
                ..Weekly::default()
            },
            holidays: vec![Holiday {
                date: "2026-12-12".into(),
                label: None,
            }],
        };
        let s = hours.check(&TimeZone::UTC).unwrap();
        assert!(s.is_open(at("UTC", "2026-12-04T23:30")));
        assert!(s.is_open(at("UTC", "2026-12-05T01:59")));
        assert!(!s.is_open(at("UTC", "2026-12-05T02:00")));
        assert!(!s.is_open(at("UTC", "2026-12-04T21:59")));
        // Saturday 12th is a holiday: Friday 11th's interval stops at midnight.
        assert!(s.is_open(at("UTC", "2026-12-11T23:59")));
        assert!(!s.is_open(at("UTC", "2026-12-12T00:30")));
        assert_eq!(
            s.next_open(at("UTC", "2026-12-12T00:30")),
            Some(at("UTC", "2026-12-18T22:00"))
        );
    }

    #[test]
    fn dst_changes_keep_local_opening_times() {
        let day = vec![iv("02:30", "05:00")];
        let hours = BusinessHours {
            enabled: true,
            time_zone: Some("Europe/Berlin".into()),
            weekly: Weekly {
                sunday: day,
                monday: vec![iv("09:00", "17:00")],
                ..Weekly::default()
            },
            holidays: vec![],
        };
        let s = hours.check(&TimeZone::UTC).unwrap();
        // 2026-03-29: clocks go from 02:00 to 03:00 in Berlin; 02:30 does not exist,
        // so the interval opens when the gap ends, at 03:00 local (01:00 UTC).
        let opens = s.next_open(at("UTC", "2026-03-29T00:00")).unwrap();
        assert_eq!(opens, at("UTC", "2026-03-29T01:00"));
        assert!(s.is_open(opens));
        assert!(!s.is_open(at("UTC", "2026-03-29T00:59")));
        // Monday after the change: 09:00 local is 07:00 UTC (summer time).
        assert_eq!(
            s.next_open(at("UTC", "2026-03-29T05:00")),
            Some(at("UTC", "2026-03-30T07:00"))
        );
        // 2026-10-25: 02:00-03:00 happens twice; 02:30 opens at its first occurrence.
        assert_eq!(
            s.next_open(at("UTC", "2026-10-24T23:00")),
            Some(at("UTC", "2026-10-25T00:30"))
        );
        // Monday after: 09:00 local is 08:00 UTC again (winter time).
        assert_eq!(
            s.next_open(at("UTC", "2026-10-25T05:00")),
            Some(at("UTC", "2026-10-26T08:00"))
        );
    }

    #[test]
    fn the_site_zone_applies_when_none_is_given() {
        let mut hours = weekdays_9_to_17();
        hours.time_zone = None;
        let s = hours.check(&TimeZone::get("Asia/Tokyo").unwrap()).unwrap();
        assert!(s.is_open(at("Asia/Tokyo", "2026-12-04T09:30")));
        assert!(!s.is_open(at("Europe/Berlin", "2026-12-04T09:30")));
        assert_eq!(s.zone_name(), Some("Asia/Tokyo"));
    }

    #[test]
    fn no_intervals_never_open() {
        let hours = BusinessHours {
            enabled: true,
            ..BusinessHours::default()
        };
        let s = hours.check(&TimeZone::UTC).unwrap();
        assert!(!s.is_open(0));
        assert_eq!(s.next_open(0), None);
    }

    #[test]
    fn bad_schedules_name_their_field() {
        let site = TimeZone::UTC;
        let refuse = |hours: BusinessHours| hours.check(&site).unwrap_err();
        let mut h = weekdays_9_to_17();
        h.time_zone = Some("Mars/Olympus".into());
        assert_eq!(refuse(h).field, "timeZone");
        let mut h = weekdays_9_to_17();
        h.weekly.monday = vec![iv("9:00", "17:00")];
        assert_eq!(refuse(h).field, "weekly.monday[0].open");
        let mut h = weekdays_9_to_17();
        h.weekly.tuesday = vec![iv("09:00", "25:00")];
        assert_eq!(refuse(h).field, "weekly.tuesday[0].close");
        let mut h = weekdays_9_to_17();
        h.weekly.tuesday = vec![iv("24:00", "10:00")];
        assert_eq!(refuse(h).field, "weekly.tuesday[0].open");
        let mut h = weekdays_9_to_17();
        h.weekly.friday = vec![iv("10:00", "10:00")];
        assert_eq!(refuse(h).field, "weekly.friday[0].close");
        let mut h = weekdays_9_to_17();
        h.weekly.friday = vec![iv("09:00", "12:00"), iv("11:00", "13:00")];
        let e = refuse(h);
        assert_eq!(e.field, "weekly.friday");
        assert!(e.message.contains("overlap"), "{e}");
        let mut h = weekdays_9_to_17();
        h.weekly.sunday = vec![iv("00:00", "01:00"); MAX_INTERVALS_PER_DAY + 1];
        assert_eq!(refuse(h).field, "weekly.sunday");
        let mut h = weekdays_9_to_17();
        h.holidays = vec![Holiday {
            date: "2026-02-30".into(),
            label: None,
        }];
        assert_eq!(refuse(h).field, "holidays[0].date");
        let mut h = weekdays_9_to_17();
        let christmas = Holiday {
            date: "2026-12-25".into(),
            label: None,
        };
        h.holidays = vec![christmas.clone(), christmas];
        assert_eq!(refuse(h).field, "holidays[1].date");
        // Good edges: 24:00 and a whole day.
        let mut h = weekdays_9_to_17();
        h.weekly.saturday = vec![iv("00:00", "24:00")];
        h.weekly.sunday = vec![iv("00:00", "00:00")];
        let s = h.check(&site).unwrap();
        assert!(s.is_open(at("Europe/Berlin", "2026-12-05T23:59:59")));
        assert!(s.is_open(at("Europe/Berlin", "2026-12-06T00:00")));
    }
}
