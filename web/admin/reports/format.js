// How report and search figures read: a label per API column, durations as m:ss
// (h:mm:ss from an hour), rates as percentages, and the site-local times the API
// gives ("2026-12-05T10:00:00+01:00") shown as they are, never moved into the
// browser's zone. No DOM here.

const LABELS = {
  intervalStart: "From",
  intervalEnd: "To",
  id: "ID",
  name: "Name",
  offered: "Offered",
  answered: "Answered",
  abandoned: "Abandoned",
  shortAbandons: "Short abandons",
  serviceLevelPct: "Service level",
  asaSecs: "ASA",
  ahtSecs: "AHT",
  maxWaitSecs: "Max wait",
  avgFirstResponseSecs: "Avg first response",
  transfersIn: "Transfers in",
  transfersOut: "Transfers out",
  ronas: "RONAs",
  rejects: "Rejects",
  handled: "Handled",
  csatAvg: "CSAT",
  csatCount: "Ratings",
  loggedInSecs: "Logged in",
  readySecs: "Ready",
  notReadySecs: "Not ready",
  occupiedSecs: "Occupied",
  occupancyPct: "Occupancy",
  code: "Wrap-up code",
  count: "Count",
  started: "Started",
  ended: "Ended",
  state: "State",
  customer: "Customer",
  queue: "Queue",
  channel: "Channel",
  agents: "Agents",
  wrapups: "Wrap-up codes",
  note: "Note",
  waitSecs: "Wait",
  handleSecs: "Handle time",
  csat: "CSAT",
};

/** What a column means, for the header's tooltip. */
const HINTS = {
  offered: "Chats that entered the queue (teams and agents: offers to the agents)",
  shortAbandons: "Abandoned before the short-abandon threshold",
  serviceLevelPct: "Answered within the queue's service-level time, of those answered or abandoned (docs/metrics.md)",
  asaSecs: "Average speed of answer",
  ahtSecs: "Average handle time",
  ronas: "Offers not answered in time (redirect on no answer)",
  rejects: "Offers the agent declined",
  csatAvg: "Average customer rating (1-5)",
  occupancyPct: "Time with at least one chat ÷ time logged in",
};

/** The header of an API column ("notReadySecs:Lunch" → "Not ready: Lunch"). */
export function columnLabel(key) {
  if (key.startsWith("notReadySecs:")) return `Not ready: ${key.slice("notReadySecs:".length)}`;
  return LABELS[key] ?? key;
}

export function columnHint(key) {
  return HINTS[key] ?? null;
}

/** Seconds as "m:ss", or "h:mm:ss" from an hour. */
export function clock(seconds) {
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** The parts of a site-local time "2026-12-05T10:00:00+01:00" as written. */
export function localParts(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(String(text ?? ""));
  if (!m) return null;
  return { year: +m[1], month: +m[2], day: +m[3], hour: +m[4], minute: +m[5], date: `${m[1]}-${m[2]}-${m[3]}`, time: `${m[4]}:${m[5]}` };
}

/** "5 Dec 10:00" (or "10:00" when `timeOnly`). */
export function localStamp(text, { timeOnly = false } = {}) {
  const p = localParts(text);
  if (!p) return String(text ?? "");
  return timeOnly ? p.time : `${p.day} ${MONTHS[p.month - 1]} ${p.time}`;
}

/** "5 Dec 2026". */
export function localDate(text) {
  const p = localParts(text);
  return p ? `${p.day} ${MONTHS[p.month - 1]} ${p.year}` : String(text ?? "");
}

const isDuration = (key) => key.endsWith("Secs") || key.startsWith("notReadySecs:");
const isPercent = (key) => key.endsWith("Pct");
const isTime = (key) => ["intervalStart", "intervalEnd", "started", "ended"].includes(key);

/** Whether a column is a number read right-aligned. */
export function isNumeric(key) {
  return isDuration(key) || isPercent(key) || ["offered", "answered", "abandoned", "shortAbandons", "transfersIn", "transfersOut", "ronas", "rejects", "handled", "csatAvg", "csatCount", "count", "csat"].includes(key);
}

/** A cell as people read it; null (nothing to divide by, not given) as "–". */
export function formatCell(key, value) {
  if (value === null || value === undefined || value === "") return "–";
  if (isDuration(key)) return clock(Number(value));
  if (isPercent(key)) return `${Number(value).toFixed(1)} %`;
  if (isTime(key)) return localStamp(value);
  if (key === "csatAvg") return `${Number(value).toFixed(1)} / 5`;
  if (key === "csat") return `${value} / 5`;
  if (key === "state") return String(value).replaceAll("_", " ").toLowerCase();
  return String(value);
}

/** A cell exactly as the CSV writes it (the API's own value). */
export function csvText(value) {
  if (value === null || value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}
