//! `GET /api/v1/reports/...`: interval reports of queues, channels, teams and agents
//! (supervisors: every queue and channel, their teams and those teams' agents;
//! admins: all) from the kept aggregates (`crate::reports`), as JSON or as CSV with
//! the same columns (`Accept: text/csv` or `?format=csv`).

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::clock::now_ms;
use crate::http::auth::AuthUser;
use crate::http::error::responses::{BadRequest, Forbidden, NotFound, Unauthenticated};
use crate::http::error::ApiError;
use crate::http::extract::in_range;
use crate::http::extract::{QueryOf, Supervisor};
use crate::http::AppState;
use crate::reports::period::{Interval, Period, PeriodError};
use crate::reports::read::{self, Kind, Scope};
use crate::reports::search::{self, Filter, Outcome};
use crate::reports::table::{self, Table};
use crate::reports::timeline;
use crate::reports::TallySettings;
use crate::store::users::Role;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(agent_timeline)
        .service(conversation_search)
        .service(interval_report);
}

/// JSON or CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Json,
    Csv,
}

/// Which table a CSV export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    /// One row per interval and entity.
    Rows,
    /// One row per entity over the whole period.
    Totals,
    /// The wrap-up codes given, per entity.
    Wrapups,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// First day, `YYYY-MM-DD` in the site's time zone (`site.time_zone`). Default: today.
    from: Option<String>,
    /// Last day, inclusive (default: `from`).
    to: Option<String>,
    /// `15m`, `hour` (default), `day` or `week` (from Monday). At most 31 days by
    /// 15 minutes, 92 by hour, 400 by day or week.
    #[param(inline)]
    interval: Option<Interval>,
    /// Only this queue, channel, team or agent.
    id: Option<String>,
    /// `json` (default) or `csv`; `Accept: text/csv` asks for CSV too.
    #[param(inline)]
    format: Option<Format>,
    /// The table a CSV holds: `rows` (default), `totals` or `wrapups`.
    #[param(inline)]
    part: Option<Part>,
}

/// An interval report.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportBody {
    /// queues, channels, teams or agents.
    kind: String,
    from: String,
    to: String,
    interval: Interval,
    time_zone: String,
    /// The columns of `rows` and `totals`, in order (the CSV header). Durations are
    /// seconds (`...Secs`), rates percent (`...Pct`, null when nothing to divide by).
    /// Agent reports add loggedInSecs, readySecs, notReadySecs, occupiedSecs,
    /// occupancyPct and one `notReadySecs:<reason>` column per reason.
    columns: Vec<String>,
    /// One object per interval and entity with figures, in time order; keys are
    /// `columns`: intervalStart and intervalEnd (local time with offset), id, name,
    /// offered (teams and agents: offers to the agents), answered, abandoned,
    /// shortAbandons, serviceLevelPct, asaSecs, ahtSecs, maxWaitSecs,
    /// avgFirstResponseSecs, transfersIn, transfersOut, ronas, rejects (offers the agent
    /// declined), handled (chats handled), csatAvg (mean customer rating 1-5, null
    /// without one) and csatCount (ratings given in the interval).
    #[schema(value_type = Vec<Object>)]
    rows: Vec<Value>,
    /// One object per entity in scope over the whole period, same columns.
    #[schema(value_type = Vec<Object>)]
    totals: Vec<Value>,
    /// Wrap-up codes given (counted when the task closes): id, name, code, count.
    #[schema(value_type = Vec<Object>)]
    wrapups: Vec<Value>,
}

impl From<PeriodError> for ApiError {
    fn from(e: PeriodError) -> ApiError {
        ApiError::invalid(e.field(), e.to_string())
    }
}

/// The caller's scope.
pub(crate) fn scope_of(auth: &AuthUser) -> Scope {
    Scope {
        admin: auth.user.role == Role::Admin,
        teams: auth
            .user
            .supervised_teams
            .iter()
            .map(|t| t.team_id.clone())
            .collect(),
    }
}

/// Whether the caller asked for CSV.
pub(crate) fn wants_csv(req: &HttpRequest, format: Option<Format>) -> bool {
    match format {
        Some(f) => f == Format::Csv,
        None => req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/csv")),
    }
}

/// A table as a CSV download named `name`.
pub(crate) fn csv_response(table: &Table, name: &str) -> Result<HttpResponse, ApiError> {
    let text = table
        .csv()
        .map_err(|e| ApiError::Internal(format!("csv: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.csv\""),
        ))
        .body(text))
}

/// The period a report query asks for (default: today, by hour).
pub(crate) fn period_of(
    state: &AppState,
    from: Option<&str>,
    to: Option<&str>,
    interval: Option<Interval>,
) -> Result<Period, ApiError> {
    let zone = state.config.site.zone().unwrap_or(jiff::tz::TimeZone::UTC);
    let interval = interval.unwrap_or(Interval::Hour);
    match from {
        Some(from) => Ok(Period::parse(from, to, interval, zone)?),
        None if to.is_some() => Err(ApiError::invalid("from", "`from` is needed with `to`")),
        None => {
            let today = Period::today(now_ms(), zone);
            let date = today.from.to_string();
            Ok(Period::parse(&date, None, interval, today.zone)?)
        }
    }
}

/// An interval report of queues, channels, teams or agents.
#[utoipa::path(
    tag = "reports",
    params(
        ("kind" = inline(crate::reports::read::Kind), Path, description = "queues, channels, teams or agents"),
        ReportQuery
    ),
    responses(
        (status = 200, description = "The report (JSON), or the table `part` names as CSV (RFC 4180, UTF-8, header row)",
            content((ReportBody = "application/json"), (String = "text/csv"))),
        BadRequest, Unauthenticated, Forbidden, NotFound
    ),
    security(("bearer" = []))
)]
#[get("/reports/{kind}")]
async fn interval_report(
    req: HttpRequest,
    state: web::Data<AppState>,
    Supervisor(auth): Supervisor,
    kind: web::Path<String>,
    QueryOf(q): QueryOf<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let kind_name = kind.into_inner();
    let kind = Kind::parse(&kind_name).ok_or_else(|| {
        ApiError::NotFound(format!(
            "report `{kind_name}` (queues, channels, teams or agents)"
        ))
    })?;
    let period = period_of(&state, q.from.as_deref(), q.to.as_deref(), q.interval)?;
    let scope = scope_of(&auth);
    let only = q.id.clone();
    let read_period = period.clone();
    let report = state
        .store
        .read(move |c| read::report(c, kind, &read_period, &scope, only.as_deref(), now_ms()))
        .await?;
    let rows = table::lines(&report, &report.lines, &period);
    let totals = table::lines(&report, &report.totals, &period);
    let wrapups = table::wrapups(&report.wrapups);
    if wants_csv(&req, q.format) {
        let (part, name) = match q.part.unwrap_or(Part::Rows) {
            Part::Rows => (&rows, "rows"),
            Part::Totals => (&totals, "totals"),
            Part::Wrapups => (&wrapups, "wrapups"),
        };
        return csv_response(
            part,
            &format!("{kind_name}-{}-{}-{name}", period.from, period.to),
        );
    }
    Ok(HttpResponse::Ok().json(ReportBody {
        kind: kind_name,
        from: period.from.to_string(),
        to: period.to.to_string(),
        interval: period.interval,
        time_zone: period.zone.iana_name().unwrap_or("UTC").to_string(),
        columns: rows.columns.clone(),
        rows: rows.json_rows(),
        totals: totals.json_rows(),
        wrapups: wrapups.json_rows(),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct TimelineQuery {
    /// The day, `YYYY-MM-DD` in the site's time zone. Default: today.
    date: Option<String>,
    /// `json` (default) or `csv`; `Accept: text/csv` asks for CSV too.
    #[param(inline)]
    format: Option<Format>,
}

/// An agent's day.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimelineBody {
    agent_id: String,
    date: String,
    time_zone: String,
    /// start, end, track, state, reasonCode, durationSecs, open.
    columns: Vec<String>,
    /// Oldest first: `track` `agent` (the global state with its reason) or `occupied`
    /// (at least one chat); `start`/`end` local time with offset, clipped to the day;
    /// `open`: still going on (ends now).
    #[schema(value_type = Vec<Object>)]
    spans: Vec<Value>,
}

/// An agent's day of states (supervisors: agents of their teams).
#[utoipa::path(
    tag = "reports",
    params(("id" = String, Path, description = "the agent's user id"), TimelineQuery),
    responses(
        (status = 200, description = "The spans (JSON), or the same columns as CSV",
            content((TimelineBody = "application/json"), (String = "text/csv"))),
        BadRequest, Unauthenticated, Forbidden, NotFound
    ),
    security(("bearer" = []))
)]
#[get("/reports/agents/{id}/timeline")]
async fn agent_timeline(
    req: HttpRequest,
    state: web::Data<AppState>,
    Supervisor(auth): Supervisor,
    id: web::Path<String>,
    QueryOf(q): QueryOf<TimelineQuery>,
) -> Result<HttpResponse, ApiError> {
    let agent_id = id.into_inner();
    let day =
        period_of(&state, q.date.as_deref(), None, Some(Interval::Day)).map_err(|e| match e {
            ApiError::Invalid { message, .. } => ApiError::invalid("date", message),
            other => other,
        })?;
    let scope = scope_of(&auth);
    let user = agent_id.clone();
    let read_day = day.clone();
    let spans = state
        .store
        .read(move |c| {
            let team: Option<Option<String>> = c
                .prepare_cached("SELECT team_id FROM users WHERE id = ?1")?
                .query_row([&user], |r| r.get(0))
                .map(Some)
                .or_else(|e| match e {
                    rusqlite::Error::QueryReturnedNoRows => Ok(None),
                    e => Err(e),
                })?;
            let Some(team) = team else {
                return Ok(None);
            };
            let seen = scope.admin || team.is_some_and(|t| scope.teams.contains(&t));
            if !seen {
                return Ok(Some(Err(())));
            }
            Ok(Some(Ok(timeline::spans(c, &user, &read_day, now_ms())?)))
        })
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("agent {agent_id}")))?
        .map_err(|_| ApiError::Forbidden("this agent is not in a team you supervise".into()))?;
    let table = timeline::table(&spans, &day);
    if wants_csv(&req, q.format) {
        return csv_response(&table, &format!("timeline-{agent_id}-{}", day.from));
    }
    Ok(HttpResponse::Ok().json(TimelineBody {
        agent_id,
        date: day.from.to_string(),
        time_zone: day.zone.iana_name().unwrap_or("UTC").to_string(),
        columns: table.columns.clone(),
        spans: table.json_rows(),
    }))
}

/// The longest window `since`..`until` may span.
const MAX_WINDOW_MS: i64 = 400 * 86_400_000;

/// `since`/`until` as epoch ms, both or neither, in order, at most 400 days apart.
fn window(since: Option<&str>, until: Option<&str>) -> Result<Option<(i64, i64)>, ApiError> {
    let instant = |field: &str, text: &str| {
        text.parse::<jiff::Timestamp>()
            .map(|t| t.as_millisecond())
            .map_err(|_| {
                ApiError::invalid(
                    field,
                    format!("`{field}` is not a time with an offset (2026-03-02T10:00:00+01:00)"),
                )
            })
    };
    match (since, until) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(ApiError::invalid("until", "`until` is needed with `since`")),
        (None, Some(_)) => Err(ApiError::invalid("since", "`since` is needed with `until`")),
        (Some(since), Some(until)) => {
            let (start, end) = (instant("since", since)?, instant("until", until)?);
            if end <= start {
                return Err(ApiError::invalid("until", "`until` must be after `since`"));
            }
            if end - start > MAX_WINDOW_MS {
                return Err(ApiError::invalid("until", "the window is at most 400 days"));
            }
            Ok(Some((start, end)))
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// First day the conversation started, `YYYY-MM-DD` (site time zone). Default: today.
    from: Option<String>,
    /// Last day, inclusive (default: `from`); at most 400 days.
    to: Option<String>,
    /// Instead of `from`/`to`: the window's start, an RFC 3339 time with offset (a
    /// report row's `intervalStart`); `until` is needed with it.
    since: Option<String>,
    /// The window's end (excluded), e.g. a report row's `intervalEnd`.
    until: Option<String>,
    /// Drill-down from a report figure: `offered`, `answered`, `abandoned`,
    /// `shortAbandoned` or `handled`. The window then bounds when a task had that
    /// outcome (not when the conversation started), and queue, agent and team are
    /// that task's.
    #[param(inline)]
    outcome: Option<Outcome>,
    /// Queue id.
    queue: Option<String>,
    /// Channel id.
    channel: Option<String>,
    /// Agent (user) id: conversations with a task of this agent.
    agent: Option<String>,
    /// Team id: conversations with a task of an agent of this team.
    team: Option<String>,
    /// Conversation state (ACTIVE, CLOSED, ...).
    state: Option<String>,
    /// Customer: each word starts a word of the customer's first or last name, email
    /// or an identifier (case and accents ignored), or the exact identifier. At most
    /// 200 characters; blank means any.
    customer: Option<String>,
    /// Wrap-up code (`category: value` or the value).
    wrapup: Option<String>,
    /// Words in a message (full text, every word must appear; what is typed is taken
    /// as words, never as FTS5 operators). At most 200 characters; blank means any.
    q: Option<String>,
    /// 1-500, default 50.
    limit: Option<i64>,
    /// Default 0.
    offset: Option<i64>,
    /// `json` (default) or `csv`; `Accept: text/csv` asks for CSV too.
    #[param(inline)]
    format: Option<Format>,
}

/// Conversations found.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchBody {
    /// id, started, ended, state, customer, queue, channel, agents, wrapups, note,
    /// waitSecs, handleSecs.
    columns: Vec<String>,
    /// Newest first; keys are `columns` (times local with offset).
    #[schema(value_type = Vec<Object>)]
    items: Vec<Value>,
    /// How many conversations match. With `q` (message text) the count stops at
    /// `offset` + 1,000: then `more` is true and more than `total` match.
    total: i64,
    /// True when `total` is a lower bound (the UI shows "1,000+").
    more: bool,
    limit: i64,
    offset: i64,
}

/// The most characters a typed search field (`customer`, `q`) takes.
const TYPED_MAX: usize = 200;

/// A typed search field: blank is no filter; longer than [`TYPED_MAX`] is refused.
fn typed(field: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(value) = value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    if value.chars().count() > TYPED_MAX {
        return Err(ApiError::invalid(
            field,
            format!("query parameter `{field}` must be at most {TYPED_MAX} characters"),
        ));
    }
    Ok(Some(value))
}

/// Conversation search (supervisors: conversations an agent of their teams took part in).
#[utoipa::path(
    tag = "reports",
    params(SearchQuery),
    responses(
        (status = 200, description = "One row per conversation (JSON), or the page as CSV with the same columns",
            content((SearchBody = "application/json"), (String = "text/csv"))),
        BadRequest, Unauthenticated, Forbidden
    ),
    security(("bearer" = []))
)]
#[get("/reports/conversations")]
async fn conversation_search(
    req: HttpRequest,
    state: web::Data<AppState>,
    Supervisor(auth): Supervisor,
    QueryOf(q): QueryOf<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    in_range("limit", q.limit, 1, 500)?;
    in_range("offset", q.offset, 0, i64::MAX)?;
    let period = period_of(
        &state,
        q.from.as_deref(),
        q.to.as_deref(),
        Some(Interval::Day),
    )?;
    let (start, end) = match window(q.since.as_deref(), q.until.as_deref())? {
        Some(window) => window,
        None => (period.start, period.end),
    };
    let filter = Filter {
        start,
        end,
        outcome: q.outcome,
        short_abandon_ms: TallySettings::from_config(&state.config).short_abandon_ms,
        queue: q.queue,
        channel: q.channel,
        agent: q.agent,
        team: q.team,
        state: q.state,
        customer: typed("customer", q.customer)?,
        wrapup: q.wrapup,
        text: typed("q", q.q)?,
        limit: q.limit.unwrap_or(50),
        offset: q.offset.unwrap_or(0),
    };
    let scope = scope_of(&auth);
    let (limit, offset) = (filter.limit, filter.offset);
    let limits = state.config.search;
    let found = state
        .store
        .read(move |c| search::search_with(c, &filter, &scope, &limits))
        .await?;
    let table = search::table(&found.rows, |at| period.local_text(at));
    if wants_csv(&req, q.format) {
        return csv_response(
            &table,
            &format!("conversations-{}-{}", period.from, period.to),
        );
    }
    Ok(HttpResponse::Ok().json(SearchBody {
        columns: table.columns.clone(),
        items: table.json_rows(),
        total: found.total,
        more: found.more,
        limit,
        offset,
    }))
}
