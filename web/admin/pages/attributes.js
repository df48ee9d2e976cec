// Routing attributes: the skills queue step expressions test (billing >= 5, vip).

import { specForm } from "../kit/fields.js";
import { resourcePage } from "../kit/resource.js";

export default resourcePage({
  path: "attributes",
  title: "Routing attributes",
  noun: "routing attribute",
  apiPath: "/routing-attributes",
  intro: "Skills agents hold and queue steps ask for: a proficiency (1-10) or yes/no.",
  empty: "Add an attribute such as billing (proficiency), then set agents' values on their user page and use it in a queue step.",
  searchText: (a) => `${a.name} ${a.description ?? ""}`,
  columns: [
    { heading: "Name", value: (a) => a.name },
    { heading: "Type", value: (a) => (a.type === "BOOLEAN" ? "yes/no" : "proficiency 1-10") },
    { heading: "Description", value: (a) => a.description || "–" },
  ],
  form: (ctx, row) =>
    specForm(
      [
        { name: "name", label: "Name", required: true, help: "Letters, digits and _; step expressions use it (billing >= 5)." },
        { name: "type", label: "Type", type: "select", options: [["PROFICIENCY", "Proficiency (1-10)"], ["BOOLEAN", "Yes/no"]], value: "PROFICIENCY" },
        { name: "description", label: "Description" },
      ],
      row,
    ),
});
