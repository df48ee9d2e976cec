// A web channel's pre-chat form editor: the name and email (each required, optional or
// hidden) and up to 10 custom fields (label, key, text or a choice list, required).
// Saved with PUT /channels/{id}/prechat-form; the server's field errors come back as
// "prechatForm.fields[0].key" and show at that control.

import { h, replace } from "/shared/dom.js";
import { fieldId } from "/shared/form.js";

export const MAX_FIELDS = 10;

const MODES = [
  ["required", "Required"],
  ["optional", "Optional"],
  ["hidden", "Not asked"],
];

/** "Order number" → "orderNumber": a key the server accepts. */
export function keyOf(label) {
  const words = label.normalize("NFKD").replace(/[^A-Za-z0-9 ]+/g, " ").trim().split(/\s+/).filter(Boolean);
  const key = words.map((w, i) => (i === 0 ? w.toLowerCase() : w.charAt(0).toUpperCase() + w.slice(1).toLowerCase())).join("");
  return /^[A-Za-z]/.test(key) ? key.slice(0, 40) : `field${key}`.slice(0, 40);
}

/** A labelled control in a wrapper whose data-field is `name` (for server errors). */
function control(name, label, input, { help, check = false } = {}) {
  input.id = fieldId(name);
  const wrapper = check
    ? h("div", { class: "field check", dataset: { field: name } }, h("label", { class: "inline", for: input.id }, input, ` ${label}`))
    : h("div", { class: "field", dataset: { field: name } }, h("label", { for: input.id, text: label }), input, help ? h("p", { class: "help", text: help }) : null);
  wrapper.control = input;
  return wrapper;
}

function modeSelect(value, disabled) {
  const select = h("select", { disabled }, MODES.map(([v, text]) => h("option", { value: v, text })));
  select.value = value;
  return select;
}

/**
 * The editor for `form` ({name, email, fields}); `.value()` gives the edited form.
 */
export function prechatEditor(form, { readOnly = false } = {}) {
  const state = {
    name: form?.name ?? "optional",
    email: form?.email ?? "hidden",
    fields: (form?.fields ?? []).map((f) => ({ ...f, options: [...(f.options ?? [])], keyTouched: true })),
  };
  const name = modeSelect(state.name, readOnly);
  const email = modeSelect(state.email, readOnly);
  name.addEventListener("change", () => (state.name = name.value));
  email.addEventListener("change", () => (state.email = email.value));
  const list = h("ol", { class: "pc-fields", "data-testid": "prechat-fields" });
  const add = h("button", { type: "button", text: "Add a field", "data-testid": "add-prechat-field", disabled: readOnly });
  const count = h("span", { class: "muted small", "aria-live": "polite" });
  const wrapper = h(
    "fieldset",
    { class: "plain section", dataset: { field: "prechatForm" }, "data-testid": "prechat-editor" },
    h("legend", { text: "Pre-chat form" }),
    h("p", { class: "help", text: "What the widget asks before a chat. The name becomes the customer's name on the desk, in history and in reports; the answers go with the chat." }),
    h(
      "div",
      { class: "field-grid" },
      control("prechatForm.name", "Name", name),
      control("prechatForm.email", "Email", email),
    ),
    h("h3", { class: "small-heading", text: "More fields" }),
    list,
    readOnly ? null : h("div", { class: "row" }, add, count),
  );
  wrapper.value = () => ({
    name: state.name,
    email: state.email,
    fields: state.fields.map(({ label, key, type, required, options }) => ({
      label: label.trim(),
      key: key.trim(),
      type,
      required,
      options: type === "select" ? options.map((o) => o.trim()).filter(Boolean) : [],
    })),
  });

  add.addEventListener("click", () => {
    if (state.fields.length >= MAX_FIELDS) return;
    state.fields.push({ label: "", key: "", type: "text", required: false, options: [], keyTouched: false });
    render(state.fields.length - 1);
  });

  function render(focus = null) {
    replace(list, state.fields.map((f, i) => fieldRow(f, i)));
    if (!state.fields.length) list.append(h("li", { class: "muted small", text: "None: the widget asks only for what is set above." }));
    add.disabled = readOnly || state.fields.length >= MAX_FIELDS;
    count.textContent = `${state.fields.length} of ${MAX_FIELDS} fields.`;
    if (focus !== null) list.children[focus]?.querySelector("input")?.focus();
  }

  function fieldRow(f, i) {
    const at = `prechatForm.fields[${i}]`;
    const label = h("input", { value: f.label, maxlength: 100, disabled: readOnly, placeholder: "Order number" });
    const key = h("input", { value: f.key, maxlength: 40, class: "mono", disabled: readOnly, placeholder: "orderNumber" });
    const type = h("select", { disabled: readOnly }, h("option", { value: "text", text: "Text" }), h("option", { value: "select", text: "Choice list" }));
    type.value = f.type;
    const required = h("input", { type: "checkbox", checked: f.required, disabled: readOnly });
    const options = h("textarea", { rows: 3, disabled: readOnly, placeholder: "One choice a line" });
    options.value = f.options.join("\n");
    const optionsField = control(`${at}.options`, "Choices (one a line)", options);
    optionsField.hidden = f.type !== "select";
    label.addEventListener("input", () => {
      f.label = label.value;
      if (!f.keyTouched) {
        f.key = keyOf(label.value);
        key.value = f.key;
      }
    });
    key.addEventListener("input", () => {
      f.key = key.value;
      f.keyTouched = true;
    });
    type.addEventListener("change", () => {
      f.type = type.value;
      optionsField.hidden = f.type !== "select";
    });
    required.addEventListener("change", () => (f.required = required.checked));
    options.addEventListener("input", () => (f.options = options.value.split("\n")));
    const remove = readOnly
      ? null
      : h("button", {
          type: "button",
          class: "small-button danger",
          text: "Remove",
          "aria-label": `Remove field ${i + 1}`,
          onClick: () => {
            state.fields.splice(i, 1);
            render();
            add.focus();
          },
        });
    return h(
      "li",
      { class: "pc-field-row", dataset: { index: String(i) } },
      h(
        "div",
        { class: "field-grid" },
        control(`${at}.label`, `Field ${i + 1} label`, label),
        control(`${at}.key`, "Key", key, { help: "Its name in the chat's form data." }),
        control(`${at}.type`, "Kind", type),
      ),
      optionsField,
      h("div", { class: "row" }, control(`${at}.required`, "Required", required, { check: true }), h("span", { class: "spacer" }), remove),
    );
  }

  render();
  return wrapper;
}
