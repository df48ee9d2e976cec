// Queues: MRD, priority, timeouts, the routing steps, and the limits that turn the
// queue amber or red in the Live view (PUT /queues/{id}/thresholds after the queue).

import { h } from "/shared/dom.js";
import { emptyToNull, optionsOf, specForm, under } from "../kit/fields.js";
import { resourcePage } from "../kit/resource.js";
import { stepEditor } from "./queue_steps.js";

const seconds = (value) => (typeof value === "number" ? `${value} s` : "–");
const enc = encodeURIComponent;

const THRESHOLDS = [
  { name: "longestWaitAmberSecs", label: "Amber: longest wait (s)", unit: "s", max: 86400, what: "amber when a chat has waited this long" },
  { name: "longestWaitRedSecs", label: "Red: longest wait (s)", unit: "s", max: 86400, what: "red when a chat has waited this long" },
  { name: "serviceLevelAmberPct", label: "Amber: service level below (%)", unit: "%", max: 100, what: "amber when today's service level is below this" },
  { name: "serviceLevelRedPct", label: "Red: service level below (%)", unit: "%", max: 100, what: "red when today's service level is below this" },
];

/** What a threshold does now, as the Live view applies it. */
function effective(t, value) {
  return typeof value === "number" ? `Now: ${t.what} (${value} ${t.unit}).` : "Now: not set, so never.";
}

function thresholdSection(row) {
  const current = row?.thresholds ?? {};
  const form = specForm(
    THRESHOLDS.map((t) => ({
      name: `thresholds.${t.name}`,
      label: t.label,
      type: "number",
      min: 0,
      max: t.max,
      put: emptyToNull,
      get: () => current[t.name],
      help: `${effective(t, current[t.name])} Empty: never.`,
    })),
    row,
  );
  const node = h(
    "fieldset",
    { class: "plain section", "data-testid": "thresholds" },
    h("legend", { text: "Live view thresholds" }),
    h("p", { class: "help", text: "The queue's row in the Live view turns amber or red when its longest wait or today's service level crosses these." }),
    h("div", { class: "field-grid" }, form.nodes),
  );
  return { node, collect: () => form.collect().thresholds ?? {} };
}

function stepsSummary(q) {
  if (!q.steps?.length) return "every agent";
  return q.steps.map((s) => s.expression.trim() || "any").join(" → ");
}

export default resourcePage({
  path: "queues",
  title: "Queues",
  noun: "queue",
  apiPath: "/queues",
  serverSearch: true,
  intro: "Where chats wait for an agent. Steps decide which agents may take them, widening as time passes.",
  empty: "Add a queue with a step such as billing >= 5, then route a channel to it.",
  lookups: async (ctx) => ({ mrds: await ctx.api.get("/mrds") }),
  fetchOne: async (ctx, id) => {
    const [queue, thresholds] = await Promise.all([ctx.api.get(`/queues/${enc(id)}`), ctx.api.get(`/queues/${enc(id)}/thresholds`)]);
    return { ...queue, thresholds };
  },
  columns: [
    { heading: "Name", value: (q) => q.name },
    { heading: "MRD", value: (q, { mrds }) => mrds.find((m) => m.id === q.mrdId)?.name ?? q.mrdId },
    { heading: "Priority", value: (q) => q.priority },
    { heading: "Steps", value: (q) => h("span", { class: "mono", text: stepsSummary(q) }) },
    { heading: "Accept timeout", value: (q) => `${seconds(q.effectiveAcceptTimeoutSecs)}${q.acceptTimeoutSecs === null ? " (default)" : ""}` },
    { heading: "Service level", value: (q) => seconds(q.serviceLevelSecs) },
  ],
  form(ctx, row, { mrds }) {
    const main = specForm(
      [
        { name: "name", label: "Name", required: true },
        { name: "mrdId", label: "MRD", type: "select", options: optionsOf(mrds), value: mrds.find((m) => m.name === "CHAT")?.id ?? mrds[0]?.id, help: mrds.length ? null : "Add an MRD first." },
        { name: "priority", label: "Priority", type: "number", min: 1, max: 10, value: 1, help: "1-10; higher is offered first." },
        {
          name: "acceptTimeoutSecs",
          label: "Accept timeout (s)",
          type: "number",
          min: 1,
          put: emptyToNull,
          help: row
            ? `How long an offer waits for Accept. Empty: the site default (now ${row.effectiveAcceptTimeoutSecs} s).`
            : "How long an offer waits for Accept. Empty: the site default.",
        },
        { name: "agentSlaSecs", label: "Agent SLA (s)", type: "number", min: 0, value: 60, help: "Time an agent has to answer a customer." },
        { name: "serviceLevelSecs", label: "Service level (s)", type: "number", min: 0, value: 30, help: "Chats answered within this count as in service level." },
      ],
      row,
    );
    const steps = stepEditor(ctx, row?.steps ?? [], { readOnly: !ctx.canEdit });
    const limits = thresholdSection(row);
    return {
      nodes: [h("div", { class: "field-grid" }, main.nodes), steps, limits.node],
      collect: () => ({ ...main.collect(), steps: steps.steps() }),
      after: (saved) => under("thresholds", () => ctx.api.send("PUT", `/queues/${enc(saved.id)}/thresholds`, limits.collect())),
    };
  },
});
