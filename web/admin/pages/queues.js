// Queues: MRD, priority, timeouts and the routing steps.

import { h } from "/shared/dom.js";
import { emptyToNull, optionsOf, specForm } from "../kit/fields.js";
import { resourcePage } from "../kit/resource.js";
import { stepEditor } from "./queue_steps.js";

const seconds = (value) => (typeof value === "number" ? `${value} s` : "–");

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
    return {
      nodes: [h("div", { class: "field-grid" }, main.nodes), steps],
      collect: () => ({ ...main.collect(), steps: steps.steps() }),
    };
  },
});
