// Conversation search: filters (days, customer, agent, queue, channel, state, wrap-up
// code, words said), one row per conversation with the API's columns, the page as
// CSV, and a row's transcript drawn as the desk draws it. A report figure's
// drill-down arrives here with its window and outcome (shown as a removable filter).

import { withQuery } from "/shared/api.js";
import { openModal } from "/shared/dialog.js";
import { h, replace } from "/shared/dom.js";
import { field } from "/shared/form.js";
import { bubble, describe } from "/shared/transcript.js";
import { countText, newerOlder, pageHead, reloadOnInput } from "../kit/resource.js";
import { formatCell, localStamp } from "./format.js";
import { csvButton, dataTable } from "./table.js";

const PAGE_SIZE = 50;
const STATES = ["ACTIVE", "ON_HOLD", "CUSTOMER_LEFT", "WRAP_UP", "INACTIVE", "CLOSED"];
/** The filters a drill-down brings (not editable here, removable as one). */
const DRILL_KEYS = ["since", "until", "outcome", "team"];
const OUTCOME_TEXT = { offered: "Offered", answered: "Answered", abandoned: "Abandoned", shortAbandoned: "Short abandons", handled: "Handled" };

/** The entities of a report kind the caller may see, as select options. */
async function options(ctx, kind) {
  try {
    const report = await ctx.api.get(`/reports/${kind}?interval=day`);
    return report.totals.map((t) => [t.id, t.name]);
  } catch {
    return [];
  }
}

function openTranscript(ctx, row, names) {
  const body = h("div", { class: "messages transcript", "data-testid": "transcript" }, h("p", { class: "muted", text: "Loading…" }));
  const closeButton = h("button", { type: "button", text: "Close", "data-testid": "transcript-close" });
  const facts = [
    ["Queue", row.queue],
    ["Channel", row.channel],
    ["Agents", row.agents],
    ["Wrap-up", [row.wrapups, row.note].filter(Boolean).join(" — ")],
    ["Wait", formatCell("waitSecs", row.waitSecs)],
    ["Handle time", formatCell("handleSecs", row.handleSecs)],
    ["CSAT", formatCell("csat", row.csat)],
  ].filter(([, v]) => v && v !== "–");
  const { close } = openModal(
    { class: "card transcript-dialog report-transcript", "data-testid": "transcript-dialog", "aria-label": `Transcript with ${row.customer || "the customer"}` },
    h("div", { class: "row" }, h("h2", { text: `${row.customer || "Customer"} · ${localStamp(row.started)}` }), h("span", { class: "spacer" }), closeButton),
    h("dl", { class: "facts compact" }, facts.flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })])),
    body,
  );
  closeButton.addEventListener("click", close);
  ctx.api
    .get(`/conversations/${encodeURIComponent(row.id)}/events`)
    .then((transcript) => {
      const context = { agentId: null, customerName: row.customer || "Customer", names };
      const nodes = transcript.events.map((e) => describe(e, context)).filter(Boolean).map((shown) => bubble(shown));
      replace(body, nodes.length ? nodes : h("p", { class: "muted", text: "Nothing was said." }));
    })
    .catch((err) => replace(body, h("p", { class: "notice bad", text: `Cannot load the transcript: ${err.message}` })));
}

export default {
  path: "conversations",
  title: "Conversation search",
  roles: ["admin", "supervisor"],
  mount(view, ctx) {
    const given = new URLSearchParams(ctx.params[0] ?? "");
    const drill = Object.fromEntries(DRILL_KEYS.filter((k) => given.get(k)).map((k) => [k, given.get(k)]));
    const about = given.get("about");
    const state = { offset: 0 };
    // Events carry an agent's username; the transcript names agents as the table does.
    const agentNames = new Map();
    const from = field({ name: "from", label: "From", type: "date", value: given.get("from") ?? "" });
    const to = field({ name: "to", label: "To", type: "date", value: given.get("to") ?? "" });
    const customer = field({ name: "customer", label: "Customer (name or identifier)", type: "search", value: given.get("customer") ?? "" });
    const agent = field({ name: "agent", label: "Agent", type: "select", options: [["", "Any"]] });
    const queue = field({ name: "queue", label: "Queue", type: "select", options: [["", "Any"]] });
    const channel = field({ name: "channel", label: "Channel", type: "select", options: [["", "Any"]] });
    const status = field({ name: "state", label: "State", type: "select", options: [["", "Any"], ...STATES.map((s) => [s, s.replaceAll("_", " ").toLowerCase()])], value: given.get("state") ?? "" });
    const wrapup = field({ name: "wrapup", label: "Wrap-up code", type: "search", value: given.get("wrapup") ?? "" });
    const text = field({ name: "q", label: "Words said", type: "search", value: given.get("q") ?? "" });
    const filters = h("form", { class: "search-filters", role: "search", novalidate: true, "data-testid": "search-filters" }, from, to, customer, agent, queue, channel, status, wrapup, text);
    const chip = h("div", { class: "row drill-chip-row" });
    const count = h("span", { class: "badge", "data-testid": "count" });
    const exportSlot = h("span");
    const body = h("div", { "data-testid": "results" }, h("p", { class: "muted", text: "Loading…" }));
    const pager = h("div", { class: "row pager" });
    replace(
      view,
      pageHead("Conversation search", count, exportSlot, h("a", { class: "button", href: "#/reports", text: "Reports" })),
      h("p", { class: "muted intro", text: "One row per conversation, newest first. Open a customer's name to read the transcript." }),
      filters,
      chip,
      body,
      pager,
    );

    const drawChip = () => {
      // A drill-down's window stands for the days.
      from.control.disabled = to.control.disabled = Boolean(drill.since);
      if (!drill.since && !drill.outcome && !drill.team) {
        replace(chip);
        return;
      }
      const window = drill.since ? `${localStamp(drill.since)}–${localStamp(drill.until, { timeOnly: drill.since?.slice(0, 10) === drill.until?.slice(0, 10) })}` : "";
      const label = [OUTCOME_TEXT[drill.outcome] ?? null, about, window].filter(Boolean).join(" · ");
      replace(
        chip,
        h(
          "span",
          { class: "drill-chip", "data-testid": "drill-filter" },
          h("span", { class: "muted small", text: "From a report: " }),
          h("strong", { text: label }),
          h("button", {
            type: "button",
            class: "link",
            "aria-label": "Remove the report filter",
            text: "✕",
            onClick: () => {
              for (const k of DRILL_KEYS) delete drill[k];
              drawChip();
              state.offset = 0;
              load();
            },
          }),
        ),
      );
    };
    drawChip();

    const query = (extra = {}) => ({
      ...drill,
      from: drill.since ? undefined : from.control.value,
      to: drill.since ? undefined : to.control.value || undefined,
      customer: customer.control.value.trim(),
      agent: agent.control.value,
      queue: queue.control.value,
      channel: channel.control.value,
      state: status.control.value,
      wrapup: wrapup.control.value.trim(),
      q: text.control.value.trim(),
      limit: PAGE_SIZE,
      offset: state.offset || undefined,
      ...extra,
    });

    let latest = 0;
    async function load() {
      const mine = ++latest;
      try {
        const page = await ctx.api.get(withQuery("/reports/conversations", query()));
        if (mine !== latest) return;
        count.textContent = countText(page.total, page.more);
        replace(exportSlot, csvButton(ctx, withQuery("/reports/conversations", query({ format: "csv" })), { label: "Download CSV", testId: "csv-search" }));
        if (!page.items.length) {
          replace(body, h("div", { class: "card empty", "data-testid": "empty" }, h("p", { text: "No conversation matches these filters." }), h("p", { class: "muted", text: "Widen the days or remove a filter." })));
          replace(pager);
          return;
        }
        const cell = (key, row) => {
          if (key !== "customer") return null;
          return h("button", { type: "button", class: "link", "data-testid": "open-transcript", text: row.customer || "(no name)", onClick: () => openTranscript(ctx, row, agentNames) });
        };
        replace(body, h("div", { class: "card table-wrap" }, dataTable({ columns: page.columns, rows: page.items, cell, testId: "search-table", caption: "Conversations" })));
        replace(pager, newerOlder(state, page.items.length, page.total, PAGE_SIZE, load, page.more));
      } catch (err) {
        if (mine !== latest) return;
        replace(body, h("p", { class: "notice bad", role: "alert", "data-testid": "search-error", text: `Cannot search: ${err.message}` }));
      }
    }

    const stop = reloadOnInput(filters, state, load, 200);
    // The pick lists first, so a drill-down's queue, channel or agent is selected.
    Promise.all([options(ctx, "agents"), options(ctx, "queues"), options(ctx, "channels")]).then(([agents, queues, channels]) => {
      for (const [id, name] of agents) agentNames.set(id, name);
      for (const [control, list, key] of [[agent.control, agents, "agent"], [queue.control, queues, "queue"], [channel.control, channels, "channel"]]) {
        control.append(...list.map(([value, label]) => h("option", { value, text: label })));
        control.value = given.get(key) ?? "";
      }
      load();
    });
    return () => {
      latest += 1;
      stop();
    };
  },
};
