// Labelled form fields and the server's validation errors shown at them.
//
// Every control is wrapped in an element carrying `data-field` with the request
// field's name as the server spells it ("name", "steps[0].expression",
// "routingPolicy.routingObjectId"). An ApiError naming a field is shown under that
// control (aria-invalid + aria-describedby, focused); one naming no known field is
// shown at the top of the form.

import { h, replace } from "/shared/dom.js";

let counter = 0;

/** A page-unique id for a control: "f-name-3". */
export function fieldId(name) {
  counter += 1;
  return `f-${String(name).replace(/[^a-zA-Z0-9_-]+/g, "-")}-${counter}`;
}

/**
 * One labelled control. `spec`: {name, label, type (text|number|password|select|
 * checkbox|textarea), value, options [[value, label]], required, help, min, max,
 * placeholder, disabled, autocomplete}. Returns the wrapper; the control is
 * `wrapper.control`.
 */
export function field(spec) {
  const id = fieldId(spec.name);
  const common = {
    id,
    name: spec.name,
    required: spec.required,
    disabled: spec.disabled,
    placeholder: spec.placeholder,
    autocomplete: spec.autocomplete ?? "off",
  };
  let control;
  switch (spec.type ?? "text") {
    case "select":
      control = h(
        "select",
        common,
        (spec.options ?? []).map(([value, label]) => h("option", { value, text: label })),
      );
      control.value = spec.value ?? "";
      break;
    case "textarea":
      control = h("textarea", { ...common, rows: spec.rows ?? 3 });
      control.value = spec.value ?? "";
      break;
    case "checkbox":
      control = h("input", { ...common, type: "checkbox", autocomplete: undefined });
      control.checked = Boolean(spec.value);
      break;
    default:
      control = h("input", {
        ...common,
        type: spec.type ?? "text",
        min: spec.min,
        max: spec.max,
        step: spec.step,
        inputmode: spec.type === "number" ? "numeric" : undefined,
      });
      control.value = spec.value ?? "";
  }
  const help = spec.help ? h("p", { class: "help", id: `${id}-help`, text: spec.help }) : null;
  if (help) control.setAttribute("aria-describedby", help.id);
  const label = h("label", { for: id, text: spec.label });
  const wrapper =
    spec.type === "checkbox"
      ? h("div", { class: "field check", dataset: { field: spec.name } }, h("label", { class: "inline", for: id }, control, ` ${spec.label}`), help)
      : h("div", { class: "field", dataset: { field: spec.name } }, label, control, help);
  wrapper.control = control;
  return wrapper;
}

/** The value of a control made by `field`: numbers as numbers (or null when empty). */
export function valueOf(control) {
  if (control.type === "checkbox") return control.checked;
  if (control.type === "number") return control.value === "" ? null : Number(control.value);
  return control.value;
}

/** Removes every error shown in `form`. */
export function clearErrors(form) {
  for (const node of form.querySelectorAll(".field-error")) node.remove();
  for (const node of form.querySelectorAll("[aria-invalid]")) {
    node.removeAttribute("aria-invalid");
    const described = (node.getAttribute("aria-describedby") ?? "")
      .split(" ")
      .filter((id) => id && !id.endsWith("-error"));
    if (described.length) node.setAttribute("aria-describedby", described.join(" "));
    else node.removeAttribute("aria-describedby");
  }
  const top = form.querySelector(".form-error");
  if (top) {
    top.hidden = true;
    top.textContent = "";
  }
}

/** The wrapper of `fieldName` in `form`, or of the closest enclosing field path. */
function wrapperFor(form, fieldName) {
  let name = fieldName;
  while (name) {
    const found = [...form.querySelectorAll("[data-field]")].find((n) => n.dataset.field === name);
    if (found) return found;
    // "routingPolicy.routingObjectId" → "routingPolicy"; "steps[2].timeoutSecs" → "steps[2]".
    const cut = Math.max(name.lastIndexOf("."), name.lastIndexOf("["));
    name = cut > 0 ? name.slice(0, cut) : "";
  }
  return null;
}

/** Shows `message` at `fieldName` (or at the top of `form`), and focuses the field. */
export function showError(form, fieldName, message) {
  const wrapper = fieldName ? wrapperFor(form, fieldName) : null;
  if (!wrapper) {
    let top = form.querySelector(".form-error");
    if (!top) {
      top = h("p", { class: "notice bad form-error", role: "alert" });
      form.prepend(top);
    }
    top.textContent = message;
    top.hidden = false;
    return;
  }
  const control = wrapper.control ?? wrapper.querySelector("input, select, textarea");
  const errorId = `${control?.id ?? fieldId(fieldName)}-error`;
  const note = h("p", { class: "field-error", id: errorId, role: "alert", text: message });
  wrapper.append(note);
  if (control) {
    control.setAttribute("aria-invalid", "true");
    const described = control.getAttribute("aria-describedby");
    control.setAttribute("aria-describedby", described ? `${described} ${errorId}` : errorId);
    control.focus();
  }
}

/** Shows an ApiError (or any error) in `form`: at its field when it names one. */
export function showApiError(form, err) {
  clearErrors(form);
  showError(form, err?.field ?? null, err?.message ?? String(err));
}

/** A row of form buttons: the primary submit and the others. */
export function actions(...buttons) {
  return h("div", { class: "row form-actions" }, buttons);
}

/** Replaces `node`'s children with a short status line ("Saved.") that screen readers hear. */
export function status(node, text, kind = "ok") {
  replace(node, text ? h("span", { class: `badge ${kind}`, role: "status", text }) : null);
}
