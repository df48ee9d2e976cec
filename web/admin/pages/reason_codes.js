// Reason codes: why an agent is not ready or logs out (the desk offers them).

import { h } from "/shared/dom.js";
import { specForm } from "../kit/fields.js";
import { resourcePage } from "../kit/resource.js";

export default resourcePage({
  path: "reason-codes",
  title: "Reason codes",
  noun: "reason code",
  apiPath: "/reason-codes",
  intro: "Why an agent is not ready or logs out. Connected desks get changes at once; a deleted code stays readable in history.",
  empty: "Add NOT_READY reasons such as Break or Training; agents pick them on the desk.",
  searchText: (r) => `${r.name} ${r.type} ${r.description ?? ""}`,
  columns: [
    { heading: "Name", value: (r) => r.name },
    { heading: "Type", value: (r) => h("span", { class: "badge info", text: r.type === "LOGOUT" ? "log out" : "not ready" }) },
    { heading: "Description", value: (r) => r.description || "–" },
  ],
  form: (ctx, row) =>
    specForm(
      [
        { name: "name", label: "Name", required: true },
        { name: "type", label: "Type", type: "select", options: [["NOT_READY", "Not ready"], ["LOGOUT", "Log out"]], value: "NOT_READY" },
        { name: "description", label: "Description" },
      ],
      row,
    ),
});
