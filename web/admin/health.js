// The health card: version, uptime, store and each component's state from /readyz,
// refreshed every 5 seconds while the card is on screen.

import { formatDuration, formatTime, h, replace } from "/shared/dom.js";

const REFRESH_MS = 5_000;
const STATE_BADGE = { running: "ok", starting: "warn", stopped: "bad", failed: "bad" };

/** Builds the card into `host` and keeps it fresh; returns a function that stops it. */
export function mountHealth(host) {
  const overall = h("span", { class: "badge", "data-testid": "overall", text: "checking…" });
  const version = h("dd", { "data-testid": "version", text: "–" });
  const uptime = h("dd", { id: "uptime", text: "–" });
  const store = h("dd", { text: "–" });
  const components = h("ul", { class: "components", "data-testid": "components" });
  const checked = h("p", { class: "muted small", text: "Refreshes every 5 seconds." });
  replace(
    host,
    h(
      "article",
      { class: "card", "aria-labelledby": "status-title" },
      h("div", { class: "row" }, h("h2", { id: "status-title", text: "Status" }), h("span", { class: "spacer" }), overall),
      h("dl", { class: "facts" }, h("dt", { text: "Version" }), version, h("dt", { text: "Uptime" }), uptime, h("dt", { text: "Store" }), store),
      h("h3", { text: "Components" }),
      components,
      checked,
    ),
  );

  async function refresh() {
    let body = null;
    let problem = null;
    try {
      const response = await fetch("/readyz", { headers: { Accept: "application/json" } });
      body = await response.json();
    } catch (err) {
      problem = err.message;
    }
    if (!body) {
      overall.textContent = "unreachable";
      overall.className = "badge bad";
      checked.textContent = `Cannot reach the server (${problem}); retrying.`;
      return;
    }
    const ready = body.status === "ready";
    overall.textContent = ready ? "ready" : body.status ?? "unknown";
    overall.className = `badge ${ready ? "ok" : "bad"}`;
    version.textContent = body.version ?? "–";
    uptime.textContent = typeof body.uptimeSeconds === "number" ? formatDuration(body.uptimeSeconds) : "–";
    replace(store, h("span", { class: `badge ${body.store === "writable" ? "ok" : "bad"}`, text: body.store ?? "?" }));
    const entries = Object.entries(body.components ?? {}).sort(([a], [b]) => a.localeCompare(b));
    replace(
      components,
      entries.map(([name, state]) =>
        h("li", { dataset: { component: name } }, h("span", { text: name }), h("span", { class: `badge ${STATE_BADGE[state] ?? ""}`, text: state })),
      ),
    );
    checked.textContent = `Checked at ${formatTime(Date.now())}; refreshes every 5 seconds.`;
  }

  refresh();
  const timer = setInterval(refresh, REFRESH_MS);
  return () => clearInterval(timer);
}
