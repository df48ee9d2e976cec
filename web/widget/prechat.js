// The channel's pre-chat form in the widget: the fields an admin set (name and email,
// each required, optional or hidden, and custom text or select fields), rendered into
// a form, and the customer's answers as `formData.attributes` ([{key, value, type}]).
// The server checks the answers again and names a refused field; `showFieldError`
// puts its message under that field.

import { h, replace } from "/shared/dom.js";

/** The form a channel without one of its own has (the server's default). */
export const DEFAULT_FORM = { name: "optional", email: "hidden", fields: [] };

let counter = 0;

function labelled(key, label, control, required, id = null) {
  counter += 1;
  control.id = id ?? `pc-${key}-${counter}`;
  return h(
    "div",
    { class: "pc-field", dataset: { key } },
    h("label", { for: control.id }, label, required ? null : h("span", { class: "muted small", text: " (optional)" })),
    control,
  );
}

/**
 * Renders `form`'s fields into `container` (replacing what was there), filled with
 * `saved` ({key: value}) where known; `nameId` is the name input's id. Returns
 * {answers(), name(), values()}.
 */
export function renderPrechat(container, form = DEFAULT_FORM, saved = {}, { nameId = null } = {}) {
  const controls = [];
  const nodes = [];
  if (form.name !== "hidden") {
    const input = h("input", { name: "firstName", autocomplete: "name", maxlength: 256, required: form.name === "required", value: saved.firstName ?? "" });
    controls.push({ key: "firstName", input, type: "string" });
    nodes.push(labelled("firstName", "Your name", input, form.name === "required", nameId));
  }
  if (form.email !== "hidden") {
    const input = h("input", { name: "email", type: "email", autocomplete: "email", maxlength: 256, required: form.email === "required", value: saved.email ?? "" });
    controls.push({ key: "email", input, type: "email" });
    nodes.push(labelled("email", "Email", input, form.email === "required"));
  }
  for (const field of form.fields ?? []) {
    let input;
    if (field.type === "select") {
      input = h(
        "select",
        { name: field.key, required: field.required },
        h("option", { value: "", text: field.required ? "Choose…" : "—" }),
        field.options.map((o) => h("option", { value: o, text: o })),
      );
      input.value = saved[field.key] ?? "";
    } else {
      input = h("input", { name: field.key, maxlength: 256, required: field.required, value: saved[field.key] ?? "" });
    }
    controls.push({ key: field.key, input, type: field.type === "select" ? "select" : "string" });
    nodes.push(labelled(field.key, field.label, input, field.required));
  }
  replace(container, nodes);
  return {
    /** formData.attributes: every answered field (empty ones left out). */
    answers() {
      return controls
        .map(({ key, input, type }) => ({ key, value: input.value.trim(), type }))
        .filter((a) => a.value !== "");
    },
    /** The name given, "" when none. */
    name() {
      return controls.find((c) => c.key === "firstName")?.input.value.trim() ?? "";
    },
    /** {key: value} of the answers, to fill the form again next time. */
    values() {
      return Object.fromEntries(controls.map(({ key, input }) => [key, input.value.trim()]));
    },
  };
}

/** Clears field errors shown in `form`. */
export function clearFieldErrors(form) {
  for (const node of form.querySelectorAll(".pc-error")) node.remove();
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
}

/**
 * Shows a refusal under the field it names ("formData.email: …" in the message, or
 * `field`); answers false when it names no field of `form`.
 */
export function showFieldError(form, message) {
  const match = /formData\.([A-Za-z0-9_]+)/.exec(message ?? "");
  const wrapper = match ? form.querySelector(`.pc-field[data-key="${match[1]}"]`) : null;
  if (!wrapper) return false;
  const input = wrapper.querySelector("input, select");
  const text = message.replace(/^.*?formData\.[A-Za-z0-9_]+:\s*/, "");
  const note = h("p", { class: "pc-error notice bad small", role: "alert", text: text.charAt(0).toUpperCase() + text.slice(1) + "." });
  wrapper.append(note);
  input?.setAttribute("aria-invalid", "true");
  input?.focus();
  return true;
}
