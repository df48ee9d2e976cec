// The audit log: every configuration change, newest first, with who, when, what, and
// the entity before and after. Filters by entity type, action and text; pages of 50.

import { withQuery } from "/shared/api.js";
import { h, replace } from "/shared/dom.js";
import { field } from "/shared/form.js";
import { asPage, newerOlder, pageHead, reloadOnInput } from "../kit/resource.js";

const PAGE_SIZE = 50;
/** Entity types of docs/api.md and how they read. */
const TYPES = {
  user: "user",
  team: "team",
  mrd: "MRD",
  routingAttribute: "routing attribute",
  queue: "queue",
  channel: "channel",
  pullList: "pull list",
  reasonCode: "reason code",
  wrapupCode: "wrap-up code",
  cannedResponse: "canned response",
  capacities: "capacities",
  attributes: "agent attributes",
};
const ACTIONS = ["create", "update", "delete", "disable", "enable", "password_reset", "password_change"];
const ACTION_BADGE = { create: "ok", delete: "bad", disable: "bad", enable: "ok" };

function when(ms) {
  return new Date(ms).toLocaleString([], { dateStyle: "medium", timeStyle: "medium" });
}

/** The fields that differ between `before` and `after`, as "field: old → new" lines. */
function changes(before, after) {
  if (!before || !after) return null;
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const lines = keys
    .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
    .map((k) => `${k}: ${JSON.stringify(before[k]) ?? "–"} → ${JSON.stringify(after[k]) ?? "–"}`);
  return lines.length ? lines : null;
}

function entry(e) {
  const diff = changes(e.before, e.after);
  return h(
    "tr",
    {},
    h("td", { class: "nowrap", text: when(e.at) }),
    h("td", { text: e.actorUsername ?? e.actorId ?? "–" }),
    h("td", {}, h("span", { class: `badge ${ACTION_BADGE[e.action] ?? "info"}`, text: e.action.replace("_", " ") })),
    h("td", {}, h("span", { class: "muted small", text: `${TYPES[e.entityType] ?? e.entityType} ` }), e.entityName ?? e.entityId ?? ""),
    h(
      "td",
      {},
      diff ? h("ul", { class: "diff mono" }, diff.slice(0, 4).map((line) => h("li", { text: line }))) : null,
      h(
        "details",
        {},
        h("summary", { text: "Before and after" }),
        h(
          "div",
          { class: "json-pair" },
          h("div", {}, h("h4", { text: "Before" }), h("pre", { class: "mono", text: e.before ? JSON.stringify(e.before, null, 2) : "–" })),
          h("div", {}, h("h4", { text: "After" }), h("pre", { class: "mono", text: e.after ? JSON.stringify(e.after, null, 2) : "–" })),
        ),
      ),
    ),
  );
}

export default {
  path: "audit",
  title: "Audit log",
  roles: ["admin"],
  mount(view, ctx) {
    const state = { offset: 0 };
    const type = field({ name: "entityType", label: "Entity", type: "select", options: [["", "Any"], ...Object.entries(TYPES)] });
    const action = field({ name: "action", label: "Action", type: "select", options: [["", "Any"], ...ACTIONS.map((a) => [a, a.replace("_", " ")])] });
    const q = field({ name: "q", label: "Search (entity name or who)", type: "search" });
    const count = h("span", { class: "badge", "data-testid": "count" });
    const body = h("div", { "data-testid": "list" }, h("p", { class: "muted", text: "Loading…" }));
    const pager = h("div", { class: "row pager" });
    const filters = h("form", { class: "filters", role: "search", novalidate: true }, type, action, q);
    replace(
      view,
      pageHead("Audit log", count),
      h("p", { class: "muted intro", text: "Every configuration change: who made it, when, and the entity before and after. Newest first." }),
      filters,
      body,
      pager,
    );

    let latest = 0;
    async function load() {
      const mine = ++latest;
      try {
        const page = asPage(
          await ctx.api.get(
            withQuery("/audit", {
              entityType: type.control.value,
              action: action.control.value,
              q: q.control.value.trim(),
              limit: PAGE_SIZE,
              offset: state.offset || undefined,
            }),
          ),
        );
        if (mine !== latest) return; // a newer filter's answer is on its way
        count.textContent = String(page.total);
        if (!page.items.length) {
          replace(body, h("div", { class: "card empty", "data-testid": "empty" }, h("p", { text: type.control.value || action.control.value || q.control.value.trim() ? "No recorded changes match these filters." : "No changes recorded yet." }), h("p", { class: "muted", text: "Changes appear here as soon as an admin saves anything in this console or through the API." })));
          replace(pager);
          return;
        }
        replace(
          body,
          h(
            "div",
            { class: "card table-wrap" },
            h(
              "table",
              { class: "audit" },
              h("thead", {}, h("tr", {}, ["When", "Who", "Action", "Entity", "Change"].map((t) => h("th", { scope: "col", text: t })))),
              h("tbody", {}, page.items.map(entry)),
            ),
          ),
        );
        replace(pager, newerOlder(state, page.items.length, page.total, PAGE_SIZE, load));
      } catch (err) {
        if (mine !== latest) return;
        replace(body, h("p", { class: "notice bad", role: "alert", text: `Cannot load the audit log: ${err.message}` }));
      }
    }

    const stop = reloadOnInput(filters, state, load);
    load();
    return stop;
  },
};
