// A labelled, filterable list of checkboxes for picking several rows (team members,
// supervised teams). Keyboard: Tab into the filter, then through the boxes; Space ticks.

import { fieldId } from "/shared/form.js";
import { h } from "/shared/dom.js";

/**
 * `name`: the body field errors name (data-field); `rows`: [{id, label, hint?}];
 * `chosen`: ids ticked at first. Returns the wrapper; `wrapper.selected()` gives the ids.
 */
export function picker({ name, legend, rows, chosen = [], help, empty = "None to pick from." }) {
  const ticked = new Set(chosen);
  const filterId = fieldId(`${name}-filter`);
  const filter = h("input", { type: "search", id: filterId, placeholder: "Filter", autocomplete: "off" });
  const items = rows.map((row) => {
    const box = h("input", { type: "checkbox", value: row.id, checked: ticked.has(row.id) });
    const item = h("li", { dataset: { text: `${row.label} ${row.hint ?? ""}`.toLowerCase() } }, h("label", { class: "inline" }, box, ` ${row.label}`, row.hint ? h("span", { class: "muted small", text: ` ${row.hint}` }) : null));
    item.box = box;
    return item;
  });
  filter.addEventListener("input", () => {
    const needle = filter.value.trim().toLowerCase();
    for (const item of items) item.hidden = Boolean(needle) && !item.dataset.text.includes(needle);
  });
  const wrapper = h(
    "fieldset",
    { class: "field picker", dataset: { field: name } },
    h("legend", { text: legend }),
    help ? h("p", { class: "help", text: help }) : null,
    rows.length > 8 ? [h("label", { class: "visually-hidden", for: filterId, text: `Filter ${legend.toLowerCase()}` }), filter] : null,
    rows.length ? h("ul", { class: "picks" }, items) : h("p", { class: "muted small", text: empty }),
  );
  wrapper.control = rows.length > 8 ? filter : items[0]?.box;
  wrapper.selected = () => items.filter((i) => i.box.checked).map((i) => i.box.value);
  return wrapper;
}
