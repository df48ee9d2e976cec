// Wrap-up codes: what an agent records when a chat ends (category + value).

import { specForm } from "../kit/fields.js";
import { resourcePage } from "../kit/resource.js";

export default resourcePage({
  path: "wrapup-codes",
  title: "Wrap-up codes",
  noun: "wrap-up code",
  apiPath: "/wrapup-codes",
  label: (w) => w.value,
  intro: "What agents record when a chat ends. Connected desks get changes at once; a deleted code stays readable in history.",
  empty: "Add codes such as Sales / Order placed; agents pick at least one at each wrap-up.",
  searchText: (w) => `${w.categoryName} ${w.value}`,
  columns: [
    { heading: "Code", value: (w) => w.value },
    { heading: "Category", value: (w) => w.categoryName },
  ],
  form: (ctx, row) =>
    specForm(
      [
        { name: "categoryName", label: "Category", required: true, help: "Codes are grouped by category on the desk." },
        { name: "value", label: "Code", required: true },
      ],
      row,
    ),
});
