// Pull lists: chats agents pick themselves instead of being offered them.

import { emptyToNull, optionsOf, specForm } from "../kit/fields.js";
import { fetchAll, resourcePage } from "../kit/resource.js";

export default resourcePage({
  path: "pull-lists",
  title: "Pull lists",
  noun: "pull list",
  apiPath: "/pull-lists",
  intro: "Lists of waiting chats that agents pick from themselves (channels in pull mode route here).",
  empty: "Add a pull list, then set a channel's routing to Pull and pick it.",
  lookups: async (ctx) => ({ queues: await fetchAll(ctx, "/queues") }),
  columns: [
    { heading: "Name", value: (p) => p.name },
    { heading: "Queue", value: (p, { queues }) => (p.queueId ? queues.find((q) => q.id === p.queueId)?.name ?? p.queueId : "–") },
  ],
  form: (ctx, row, { queues }) =>
    specForm(
      [
        { name: "name", label: "Name", required: true },
        { name: "queueId", label: "Queue (optional)", type: "select", options: optionsOf(queues, { none: "No queue" }), put: emptyToNull, help: "The queue whose figures the list's chats count in." },
      ],
      row,
    ),
});
