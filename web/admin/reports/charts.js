// Hand-made SVG charts for the reports: volume per interval (offered, answered,
// abandoned as grouped bars), service level per interval (a line over 0-100 %), and
// the agents' day (one strip per agent coloured by state, reasons in the tooltips).
// Every mark has a <title>, so hovering tells the figure.

import { h } from "/shared/dom.js";
import { localParts } from "./format.js";

const NS = "http://www.w3.org/2000/svg";

/** An SVG element; children may be nodes or text. */
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const W = 560;
const H = 210;
const PAD = { left: 40, right: 10, top: 12, bottom: 30 };

/** A "nice" axis top at or above `max` and its whole-number tick step (counts). */
function niceScale(max) {
  if (max <= 0) return { top: 4, step: 1 };
  const rough = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const found = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? 10 * magnitude;
  const step = Math.max(1, found);
  return { top: Math.max(step, Math.ceil(max / step) * step), step };
}

/** Which bucket labels to print so they do not overlap (every n-th). */
function labelEvery(count) {
  return Math.max(1, Math.ceil(count / 12));
}

function frame(title, yTicks, yLabel) {
  const plotH = H - PAD.top - PAD.bottom;
  const grid = yTicks.map(({ value, at }) =>
    svg(
      "g",
      {},
      svg("line", { x1: PAD.left, x2: W - PAD.right, y1: PAD.top + plotH * (1 - at), y2: PAD.top + plotH * (1 - at), class: "grid" }),
      svg("text", { x: PAD.left - 6, y: PAD.top + plotH * (1 - at) + 4, "text-anchor": "end", class: "tick" }, yLabel(value)),
    ),
  );
  return svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title, class: "chart" }, svg("title", {}, title), grid);
}

function xLabels(buckets, slot) {
  const every = labelEvery(buckets.length);
  return buckets.map((b, i) =>
    i % every === 0
      ? svg("text", { x: PAD.left + slot * (i + 0.5), y: H - PAD.bottom + 16, "text-anchor": "middle", class: "tick" }, b.label)
      : null,
  );
}

const SERIES = [
  ["offered", "Offered"],
  ["answered", "Answered"],
  ["abandoned", "Abandoned"],
];

/**
 * Grouped bars per bucket. `buckets`: [{label, title, offered, answered, abandoned}].
 * `onPick(bucket, key)` runs when a bar is clicked (drill-down), if given.
 */
export function volumeChart(buckets, { onPick } = {}) {
  const max = Math.max(0, ...buckets.flatMap((b) => SERIES.map(([k]) => b[k] ?? 0)));
  const { top, step } = niceScale(max);
  const ticks = [];
  for (let v = 0; v <= top; v += step) ticks.push({ value: v, at: v / top });
  const chart = frame("Volume per interval: offered, answered and abandoned", ticks, (v) => String(v));
  const plotH = H - PAD.top - PAD.bottom;
  const slot = (W - PAD.left - PAD.right) / Math.max(1, buckets.length);
  const barW = Math.max(1, Math.min(12, (slot * 0.8) / SERIES.length));
  buckets.forEach((b, i) => {
    SERIES.forEach(([key, name], s) => {
      const value = b[key] ?? 0;
      if (!value) return;
      const height = (plotH * value) / top;
      const x = PAD.left + slot * (i + 0.5) - (barW * SERIES.length) / 2 + s * barW;
      const bar = svg(
        "rect",
        { x, y: PAD.top + plotH - height, width: Math.max(1, barW - 1), height, class: `bar ${key}${onPick ? " pickable" : ""}`, "data-series": key, "data-bucket": b.label },
        svg("title", {}, `${b.title}: ${value} ${name.toLowerCase()}`),
      );
      if (onPick) bar.addEventListener("click", () => onPick(b, key));
      chart.append(bar);
    });
  });
  chart.append(...xLabels(buckets, slot).filter(Boolean));
  return h("figure", { class: "chart-box", "data-testid": "volume-chart" }, h("figcaption", {}, h("strong", { text: "Volume" }), legend(SERIES)), chart);
}

/** Service level per bucket (`serviceLevelPct`, null where nothing was answered or abandoned). */
export function serviceLevelChart(buckets) {
  const ticks = [0, 25, 50, 75, 100].map((v) => ({ value: v, at: v / 100 }));
  const chart = frame("Service level per interval", ticks, (v) => `${v}%`);
  const plotH = H - PAD.top - PAD.bottom;
  const slot = (W - PAD.left - PAD.right) / Math.max(1, buckets.length);
  const points = buckets
    .map((b, i) => ({ b, x: PAD.left + slot * (i + 0.5), value: b.serviceLevelPct }))
    .filter((p) => p.value !== null && p.value !== undefined);
  // A line through consecutive defined points; a gap where an interval had nothing.
  let path = "";
  points.forEach((p, i) => {
    const y = PAD.top + plotH * (1 - p.value / 100);
    const joined = i > 0 && buckets.indexOf(points[i - 1].b) === buckets.indexOf(p.b) - 1;
    path += `${joined ? "L" : "M"}${p.x.toFixed(1)},${y.toFixed(1)} `;
  });
  if (path) chart.append(svg("path", { d: path.trim(), class: "sl-line" }));
  for (const p of points) {
    chart.append(
      svg("circle", { cx: p.x, cy: PAD.top + plotH * (1 - p.value / 100), r: 3.5, class: "sl-point" }, svg("title", {}, `${p.b.title}: ${p.value.toFixed(1)} % within the service level`)),
    );
  }
  if (!points.length) {
    chart.append(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "empty-note" }, "No chat answered or abandoned in this period"));
  }
  chart.append(...xLabels(buckets, slot).filter(Boolean));
  return h("figure", { class: "chart-box", "data-testid": "sl-chart" }, h("figcaption", {}, h("strong", { text: "Service level" }), h("span", { class: "muted small", text: "answered within the queue's target" })), chart);
}

function legend(series) {
  return h(
    "span",
    { class: "legend" },
    series.map(([key, name]) => h("span", { class: "legend-item" }, h("span", { class: `swatch ${key}` }), name)),
  );
}

const STATE_CLASS = { READY: "ready", NOT_READY: "not-ready", LOGOUT: "logout", OCCUPIED: "occupied" };
const STATE_NAME = { READY: "Ready", NOT_READY: "Not ready", LOGOUT: "Logged out", OCCUPIED: "With a chat" };

/** Minutes since the day's start of a site-local time on `date` (clipped to the day). */
function minuteOf(text, date) {
  const p = localParts(text);
  if (!p) return 0;
  if (p.date < date) return 0;
  if (p.date > date) return 24 * 60;
  return p.hour * 60 + p.minute + (Number(String(text).slice(17, 19)) || 0) / 60;
}

/**
 * The part of the day worth drawing: from a little before the first span that is not
 * a logout to a little after the last, in whole ticks (at least an hour), and a tick
 * step that gives at most about ten grid lines.
 */
function dayWindow(agents, date) {
  let first = 24 * 60;
  let last = 0;
  for (const span of agents.flatMap((a) => a.spans)) {
    if (span.state === "LOGOUT" && span.track !== "occupied") continue;
    first = Math.min(first, minuteOf(span.start, date));
    last = Math.max(last, minuteOf(span.end, date));
  }
  if (last <= first) return { from: 0, to: 24 * 60, tick: 180 };
  const tick = [15, 30, 60, 120, 180].find((t) => (last - first + 30) / t <= 10) ?? 180;
  const from = Math.max(0, Math.floor((first - 10) / tick) * tick);
  const to = Math.min(24 * 60, Math.max(from + 60, Math.ceil((last + 10) / tick) * tick));
  return { from, to, tick };
}

/**
 * The agents' day: `agents` [{id, name, spans}] with the timeline's spans (track
 * `agent` with state and reasonCode, track `occupied`), on `date` (YYYY-MM-DD).
 */
export function agentDay(agents, date) {
  const rowH = 26;
  const left = 150;
  const width = 1000;
  const plot = width - left - 16;
  const height = 24 + agents.length * rowH;
  const { from, to, tick } = dayWindow(agents, date);
  const x = (minute) => left + (plot * (Math.min(to, Math.max(from, minute)) - from)) / (to - from);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `Agents by state on ${date}`, class: "chart gantt" }, svg("title", {}, `Agents by state on ${date}`));
  for (let minute = from; minute <= to; minute += tick) {
    const label = `${String(Math.floor(minute / 60)).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}`;
    chart.append(
      svg("line", { x1: x(minute), x2: x(minute), y1: 16, y2: height, class: "grid" }),
      svg("text", { x: x(minute), y: 11, "text-anchor": "middle", class: "tick" }, label),
    );
  }
  agents.forEach((agent, i) => {
    const y = 20 + i * rowH;
    const row = svg("g", { "data-agent": agent.name, class: "gantt-row" }, svg("text", { x: left - 8, y: y + 14, "text-anchor": "end", class: "agent-name" }, agent.name));
    for (const span of agent.spans) {
      const from = minuteOf(span.start, date);
      // The times are whole seconds; the duration keeps a span under a second visible.
      const to = Math.max(minuteOf(span.end, date), Math.min(24 * 60, from + (Number(span.durationSecs) || 0) / 60));
      if (to <= from) continue;
      const occupied = span.track === "occupied";
      const state = occupied ? "OCCUPIED" : span.state;
      if (state === "LOGOUT") continue;
      const reason = span.reasonCode ? ` (${span.reasonCode})` : "";
      const tip = `${agent.name}: ${STATE_NAME[state] ?? state}${reason}, ${String(span.start).slice(11, 16)}–${span.open ? "now" : String(span.end).slice(11, 16)}`;
      row.append(
        svg(
          "rect",
          {
            x: x(from),
            y: occupied ? y + 15 : y + 2,
            width: Math.max(1.5, x(to) - x(from)),
            height: occupied ? 5 : 12,
            rx: 2,
            class: `span ${STATE_CLASS[state] ?? "other"}`,
            "data-state": state,
            "data-reason": span.reasonCode || null,
          },
          svg("title", {}, tip),
        ),
      );
    }
    chart.append(row);
  });
  return h(
    "figure",
    { class: "chart-box", "data-testid": "agent-day" },
    h(
      "figcaption",
      {},
      h("strong", { text: "Agents by state" }),
      h(
        "span",
        { class: "legend" },
        ["READY", "NOT_READY", "OCCUPIED"].map((s) => h("span", { class: "legend-item" }, h("span", { class: `swatch ${STATE_CLASS[s]}` }), STATE_NAME[s])),
        h("span", { class: "muted small", text: "hover a bar for its times and reason" }),
      ),
    ),
    chart,
  );
}
