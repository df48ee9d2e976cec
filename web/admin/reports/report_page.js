// The Reports page: an interval report of queues, channels, teams or agents
// (supervisors: their teams' agents; admins: all) for a date range in the site's
// time zone, drawn as charts (volume and service level per interval, and for one
// day of agents their states) and tables with every figure the API returns, each
// table with its CSV export (the server's CSV of the same columns). A count links to
// the conversations behind it (the search page with that figure's filter).

import { withQuery } from "/shared/api.js";
import { h, replace } from "/shared/dom.js";
import { field } from "/shared/form.js";
import { pageHead } from "../kit/resource.js";
import { agentDay, serviceLevelChart, volumeChart } from "./charts.js";
import { localDate, localStamp } from "./format.js";
import { csvButton, dataTable } from "./table.js";

const KINDS = [
  ["queues", "Queues"],
  ["channels", "Channels"],
  ["teams", "Teams"],
  ["agents", "Agents"],
];
const INTERVALS = [
  ["15m", "15 minutes"],
  ["hour", "Hour"],
  ["day", "Day"],
  ["week", "Week"],
];
/** The search filter naming a report's entity. */
const ENTITY_PARAM = { queues: "queue", channels: "channel", teams: "team", agents: "agent" };
const ENTITY_NAME = { queues: "queue", channels: "channel", teams: "team", agents: "agent" };
/** Count columns that open the conversations behind them, and the outcome they ask for. */
const DRILLS = { offered: "offered", answered: "answered", abandoned: "abandoned", shortAbandons: "shortAbandoned", handled: "handled" };
const MAX_TIMELINES = 40;

/**
 * The search page's hash for a figure's conversations: `row` gives the window and,
 * when it has an `id`, the entity (without one: every entity of the report).
 */
export function drillHash(kind, row, column) {
  const query = new URLSearchParams({ since: row.intervalStart, until: row.intervalEnd, outcome: DRILLS[column] });
  if (row.id) {
    query.set(ENTITY_PARAM[kind], row.id);
    query.set("about", `${ENTITY_NAME[kind]} ${row.name}`);
  } else {
    query.set("about", `all ${kind}`);
  }
  return `#/conversations/${encodeURIComponent(query.toString())}`;
}

/** Whether a figure links to its conversations (team and agent "offered" counts offers, not tasks). */
function drillable(kind, column, value) {
  if (!DRILLS[column] || !(Number(value) > 0)) return false;
  return !(column === "offered" && (kind === "teams" || kind === "agents"));
}

/** Answered within the service level, recovered from a row's rate (for sums over rows). */
function within(row) {
  const denominator = (row.answered ?? 0) + (row.abandoned ?? 0) - (row.shortAbandons ?? 0);
  return row.serviceLevelPct === null || row.serviceLevelPct === undefined ? 0 : Math.round((row.serviceLevelPct * denominator) / 100);
}

const STEP_MS = { "15m": 900_000, hour: 3_600_000, day: 86_400_000 };
/** More intervals than this are drawn only where they have rows. */
const MAX_BUCKETS = 400;

/** The site-local text of `ms`, written with the offset of `like` ("…+01:00"). */
function localLike(ms, like) {
  const m = /([+-])(\d{2}):(\d{2})$/.exec(like) ?? (/Z$/.test(like) ? ["", "+", "00", "00"] : null);
  if (!m) return like;
  const offset = (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
  return `${new Date(ms + offset * 60_000).toISOString().slice(0, 19)}${m[1]}${m[2]}:${m[3]}`;
}

/**
 * Chart buckets summed over `rows` (one entity or all): every interval of the period
 * (15 minutes, hours, days; weeks and very long periods: those with rows).
 */
function buckets(report, rows) {
  const period = report.totals[0];
  const step = STEP_MS[report.interval];
  const list = [];
  if (period && step) {
    const start = Date.parse(period.intervalStart);
    const end = Date.parse(period.intervalEnd);
    if ((end - start) / step <= MAX_BUCKETS) {
      for (let ms = start; ms < end; ms += step) list.push(bucket(localLike(ms, period.intervalStart), localLike(Math.min(ms + step, end), period.intervalStart)));
    }
  }
  const at = (text) => Date.parse(text);
  const generated = list.length > 0;
  for (const row of rows) {
    let b = null;
    if (generated) {
      // The interval holding the row (after a daylight-saving change, days shift by an hour).
      for (const candidate of list) if (at(candidate.start) <= at(row.intervalStart)) b = candidate;
    } else {
      b = list.find((x) => at(x.start) === at(row.intervalStart)) ?? null;
    }
    if (!b) {
      b = bucket(row.intervalStart, row.intervalEnd);
      list.push(b);
    }
    b.offered += row.offered ?? 0;
    b.answered += row.answered ?? 0;
    b.abandoned += row.abandoned ?? 0;
    b.short += row.shortAbandons ?? 0;
    b.within += within(row);
  }
  const oneDay = report.from === report.to;
  const daily = report.interval === "day" || report.interval === "week";
  return list
    .sort((a, b) => at(a.start) - at(b.start))
    .map((b) => {
      const denominator = b.answered + b.abandoned - b.short;
      return {
        ...b,
        label: daily ? localDate(b.start).replace(/ \d{4}$/, "") : localStamp(b.start, { timeOnly: oneDay }),
        title: `${localStamp(b.start)}–${localStamp(b.end, { timeOnly: true })}`,
        serviceLevelPct: denominator > 0 ? (100 * b.within) / denominator : null,
      };
    });
}

function bucket(start, end) {
  return { start, end, offered: 0, answered: 0, abandoned: 0, short: 0, within: 0 };
}

export default {
  path: "reports",
  title: "Reports",
  roles: ["admin", "supervisor"],
  mount(view, ctx) {
    const saved = new URLSearchParams(ctx.params[0] ?? "");
    const kind = field({ name: "kind", label: "Report", type: "select", options: KINDS, value: saved.get("kind") ?? "queues" });
    const interval = field({ name: "interval", label: "Interval", type: "select", options: INTERVALS, value: saved.get("interval") ?? "hour" });
    const from = field({ name: "from", label: "From", type: "date", value: saved.get("from") ?? "" });
    const to = field({ name: "to", label: "To", type: "date", value: saved.get("to") ?? "" });
    const filters = h("form", { class: "report-filters", "data-testid": "report-filters", novalidate: true }, kind, interval, from, to);
    const summary = h("p", { class: "muted small", "data-testid": "report-summary" });
    const body = h("div", { class: "report-body" }, h("p", { class: "muted", text: "Loading…" }));
    replace(
      view,
      pageHead("Reports", null, h("a", { class: "button", href: "#/conversations", text: "Search conversations" })),
      h("p", { class: "muted intro", text: "What happened, per interval, in the site's time zone. Click a count to see the conversations behind it; every table downloads as CSV with the same columns." }),
      filters,
      summary,
      body,
    );

    let latest = 0;
    let chartOf = "";
    async function load() {
      const mine = ++latest;
      const query = { kind: kind.control.value, interval: interval.control.value, from: from.control.value, to: to.control.value || from.control.value };
      if (!query.from) delete query.to;
      history.replaceState(null, "", `#/reports/${encodeURIComponent(new URLSearchParams(Object.entries(query).filter(([, v]) => v)).toString())}`);
      const path = withQuery(`/reports/${query.kind}`, { interval: query.interval, from: query.from, to: query.to });
      try {
        const report = await ctx.api.get(path);
        if (mine !== latest) return;
        from.control.value = report.from;
        to.control.value = report.to;
        const range = report.from === report.to ? localDate(`${report.from}T00:00`) : `${localDate(`${report.from}T00:00`)} – ${localDate(`${report.to}T00:00`)}`;
        summary.textContent = `${KINDS.find(([k]) => k === report.kind)?.[1]} by ${INTERVALS.find(([i]) => i === report.interval)?.[1].toLowerCase()}, ${range} (${report.timeZone})`;
        await render(report, query, mine);
      } catch (err) {
        if (mine !== latest) return;
        replace(body, h("p", { class: "notice bad", role: "alert", "data-testid": "report-error", text: `Cannot load the report: ${err.message}` }));
      }
    }

    async function render(report, query, mine) {
      const csvPath = (part) => withQuery(`/reports/${report.kind}`, { interval: report.interval, from: report.from, to: report.to, format: "csv", part });
      const figure = (key, row) => {
        if (key === "name") return h("strong", { text: row.name });
        if (!drillable(report.kind, key, row[key])) return null;
        return h("a", { href: drillHash(report.kind, row, key), class: "drill", title: `The conversations behind this figure`, "data-testid": `drill-${key}`, text: String(row[key]) });
      };
      const active = report.totals.filter((t) => t.offered || t.answered || t.abandoned || t.handled || t.loggedInSecs);
      const chartSelect = field({
        name: "chartOf",
        label: "Charts of",
        type: "select",
        options: [["", `All ${report.kind}`], ...report.totals.map((t) => [t.id, t.name])],
        value: chartOf,
      });
      const charts = h("div", { class: "chart-grid" });
      const drawCharts = () => {
        chartOf = chartSelect.control.value;
        const rows = chartOf ? report.rows.filter((r) => r.id === chartOf) : report.rows;
        const list = buckets(report, rows);
        if (!rows.length) {
          replace(charts, h("p", { class: "muted empty-chart", "data-testid": "no-chart", text: "Nothing happened in this period yet: the charts fill in as chats come in." }));
          return;
        }
        // A bar opens its conversations, as the count in the table does.
        const entity = report.totals.find((t) => t.id === chartOf);
        const onPick = (b, key) => {
          if (!drillable(report.kind, key, b[key])) return;
          ctx.navigate(drillHash(report.kind, { intervalStart: b.start, intervalEnd: b.end, id: entity?.id, name: entity?.name }, key));
        };
        replace(charts, volumeChart(list, { onPick }), serviceLevelChart(list));
      };
      chartSelect.control.addEventListener("change", drawCharts);
      drawCharts();

      const totals = h(
        "section",
        { class: "card report-card", "aria-labelledby": "totals-title" },
        h("div", { class: "card-head" }, h("h2", { id: "totals-title", text: "Totals for the period" }), h("span", { class: "spacer" }), csvButton(ctx, csvPath("totals"), { testId: "csv-totals" })),
        report.totals.length
          ? h("div", { class: "table-wrap" }, dataTable({ columns: report.columns, rows: report.totals, cell: figure, testId: "totals-table", caption: "Totals", rowProps: (r) => ({ dataset: { id: r.id } }) }))
          : h("p", { class: "muted", text: `No ${report.kind} you may see.` }),
      );
      const intervals = h(
        "section",
        { class: "card report-card", "aria-labelledby": "rows-title" },
        h("div", { class: "card-head" }, h("h2", { id: "rows-title", text: "By interval" }), h("span", { class: "muted small", text: "intervals with something to count" }), h("span", { class: "spacer" }), csvButton(ctx, csvPath("rows"), { testId: "csv-rows" })),
        report.rows.length
          ? h("div", { class: "table-wrap" }, dataTable({ columns: report.columns, rows: report.rows, cell: figure, testId: "rows-table", caption: "By interval" }))
          : h("p", { class: "muted", text: "Nothing in this period yet." }),
      );
      const wrapupColumns = ["id", "name", "code", "count"];
      const wrapups = h(
        "section",
        { class: "card report-card", "aria-labelledby": "wrapups-title" },
        h("div", { class: "card-head" }, h("h2", { id: "wrapups-title", text: "Wrap-up codes" }), h("span", { class: "spacer" }), csvButton(ctx, csvPath("wrapups"), { testId: "csv-wrapups" })),
        report.wrapups.length
          ? h("div", { class: "table-wrap" }, dataTable({ columns: wrapupColumns, rows: report.wrapups, testId: "wrapups-table", caption: "Wrap-up codes", cell: (key, row) => (key === "name" ? h("strong", { text: row.name }) : null) }))
          : h("p", { class: "muted", text: "No wrap-up code given in this period." }),
      );
      const day = report.kind === "agents" && report.from === report.to ? h("section", { class: "card report-card", "data-testid": "agent-day-card" }, h("p", { class: "muted", text: "Loading the agents' day…" })) : null;
      replace(
        body,
        h("section", { class: "card report-card" }, h("div", { class: "card-head" }, h("h2", { text: "Charts" }), h("span", { class: "spacer" }), chartSelect), charts),
        day,
        totals,
        intervals,
        wrapups,
      );
      if (day) await drawDay(day, report, active, mine);
    }

    async function drawDay(node, report, active, mine) {
      const agents = active.filter((a) => a.loggedInSecs > 0).slice(0, MAX_TIMELINES);
      if (!agents.length) {
        replace(node, h("p", { class: "muted", text: "No agent was logged in on this day." }));
        return;
      }
      try {
        const days = await Promise.all(
          agents.map(async (a) => ({ id: a.id, name: a.name, spans: (await ctx.api.get(withQuery(`/reports/agents/${encodeURIComponent(a.id)}/timeline`, { date: report.from }))).spans })),
        );
        if (mine !== latest) return;
        replace(node, agentDay(days, report.from));
      } catch (err) {
        replace(node, h("p", { class: "notice bad", text: `Cannot load the agents' day: ${err.message}` }));
      }
    }

    filters.addEventListener("change", (event) => {
      if (event.target === from.control && to.control.value && to.control.value < from.control.value) to.control.value = from.control.value;
      load();
    });
    filters.addEventListener("submit", (event) => event.preventDefault());
    load();
    return () => {
      latest += 1;
    };
  },
};
