// MRDs (media routing domains): how many tasks of a kind an agent holds at once.

import { specForm } from "../kit/fields.js";
import { resourcePage } from "../kit/resource.js";

export default resourcePage({
  path: "mrds",
  title: "MRDs",
  noun: "MRD",
  apiPath: "/mrds",
  intro: "Media routing domains: a kind of work (chat, voice…) and how many tasks of it an agent holds at once.",
  empty: "Add an MRD such as CHAT, then give agents a capacity in it on their user page.",
  searchText: (m) => `${m.name} ${m.description ?? ""}`,
  columns: [
    { heading: "Name", value: (m) => m.name },
    { heading: "Description", value: (m) => m.description || "–" },
    { heading: "Max tasks", value: (m) => m.maxTasks },
    { heading: "Interruptible", value: (m) => (m.interruptible ? "yes" : "no") },
  ],
  form: (ctx, row) =>
    specForm(
      [
        { name: "name", label: "Name", required: true },
        { name: "description", label: "Description" },
        { name: "maxTasks", label: "Max tasks per agent", type: "number", min: 0, max: 100, value: 1, help: "0-100; an agent's own capacity may be lower." },
        { name: "interruptible", label: "Interruptible (tasks of other MRDs may be offered meanwhile)", type: "checkbox", value: true },
      ],
      row,
    ),
});
