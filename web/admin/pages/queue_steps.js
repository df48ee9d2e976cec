// The queue step editor: up to 10 steps, each an expression over routing attributes
// and a timeout; add, remove, move up and down. Each expression is checked by the
// server as it is typed (POST /queues/check-expression) and the verdict shown at it.

import { h, replace } from "/shared/dom.js";
import { fieldId } from "/shared/form.js";

export const MAX_STEPS = 10;
const CHECK_DELAY_MS = 300;

/**
 * `steps`: [{expression, timeoutSecs}]. Returns the fieldset; `.steps()` gives the
 * edited steps in order.
 */
export function stepEditor(ctx, steps, { readOnly = false } = {}) {
  let model = steps.map((s) => ({ expression: s.expression ?? "", timeoutSecs: s.timeoutSecs ?? 0, key: Math.random() }));
  const list = h("ol", { class: "steps", "data-testid": "steps" });
  const add = h("button", { type: "button", text: "Add step", "data-testid": "add-step" });
  const count = h("span", { class: "muted small", "aria-live": "polite" });
  const wrapper = h(
    "fieldset",
    { class: "field section", dataset: { field: "steps" } },
    h("legend", { text: "Steps" }),
    h("p", {
      class: "help",
      text: "A waiting chat is offered to agents matching step 1; when its timeout passes, step 2 widens the search, and so on. An empty expression matches every agent. The last step waits until an agent takes the chat.",
    }),
    list,
    readOnly ? null : h("div", { class: "row" }, add, count),
  );
  wrapper.steps = () => model.map(({ expression, timeoutSecs }) => ({ expression, timeoutSecs }));

  add.addEventListener("click", () => {
    if (model.length >= MAX_STEPS) return;
    model.push({ expression: "", timeoutSecs: 30, key: Math.random() });
    render(model.length - 1, "expression");
  });

  function move(from, to, focus) {
    const [step] = model.splice(from, 1);
    model.splice(to, 0, step);
    render(to, focus);
  }

  /** Re-draws every step (their field names carry their index); focuses `focusIndex`. */
  function render(focusIndex = null, focusWhat = null) {
    replace(list, model.map((step, i) => stepRow(step, i)));
    add.disabled = model.length >= MAX_STEPS;
    count.textContent = model.length >= MAX_STEPS ? `${MAX_STEPS} steps: the most a queue has.` : `${model.length} of ${MAX_STEPS} steps.`;
    if (!model.length) list.append(h("li", { class: "muted small no-steps", text: "No steps: every agent with capacity may take the chat. Add a step to ask for a skill." }));
    if (focusIndex !== null) {
      const row = list.children[focusIndex];
      row?.querySelector(focusWhat === "expression" ? "input" : `[data-action=${focusWhat}]`)?.focus();
    }
  }

  function stepRow(step, i) {
    const last = i === model.length - 1;
    const exprId = fieldId(`step-${i}-expression`);
    const timeoutId = fieldId(`step-${i}-timeout`);
    const verdict = h("p", { class: "help verdict", id: `${exprId}-verdict`, "aria-live": "polite" });
    const expression = h("input", {
      id: exprId,
      class: "mono",
      value: step.expression,
      placeholder: "every agent",
      autocomplete: "off",
      spellcheck: "false",
      disabled: readOnly,
      "aria-describedby": verdict.id,
    });
    const timeout = h("input", {
      id: timeoutId,
      type: "number",
      min: 0,
      value: step.timeoutSecs,
      disabled: readOnly,
      "aria-describedby": last ? `${timeoutId}-help` : undefined,
    });
    const exprField = h("div", { class: "field grow", dataset: { field: `steps[${i}].expression` } }, h("label", { for: exprId, text: `Step ${i + 1} expression` }), expression, verdict);
    exprField.control = expression;
    const timeoutField = h(
      "div",
      { class: "field timeout", dataset: { field: `steps[${i}].timeoutSecs` } },
      h("label", { for: timeoutId, text: "Timeout (s)" }),
      timeout,
      last ? h("p", { class: "help", id: `${timeoutId}-help`, text: "Last step: waits." }) : null,
    );
    timeoutField.control = timeout;
    let timer = null;
    expression.addEventListener("input", () => {
      step.expression = expression.value;
      clearTimeout(timer);
      timer = setTimeout(() => check(ctx, expression, verdict), CHECK_DELAY_MS);
    });
    timeout.addEventListener("input", () => {
      step.timeoutSecs = timeout.value === "" ? null : Number(timeout.value);
    });
    const tools = readOnly
      ? null
      : h(
          "div",
          { class: "row step-tools" },
          h("button", { type: "button", class: "small-button", text: "↑", dataset: { action: "up" }, "aria-label": `Move step ${i + 1} up`, title: "Move up", disabled: i === 0, onClick: () => move(i, i - 1, i - 1 === 0 ? "down" : "up") }),
          h("button", { type: "button", class: "small-button", text: "↓", dataset: { action: "down" }, "aria-label": `Move step ${i + 1} down`, title: "Move down", disabled: last, onClick: () => move(i, i + 1, i + 1 === model.length - 1 ? "up" : "down") }),
          h("button", {
            type: "button",
            class: "small-button danger",
            text: "Remove",
            dataset: { action: "remove" },
            "aria-label": `Remove step ${i + 1}`,
            onClick: () => {
              model.splice(i, 1);
              render(model.length ? Math.min(i, model.length - 1) : null, "expression");
              if (!model.length) add.focus();
            },
          }),
        );
    const row = h("li", { class: "step", dataset: { step: String(i + 1) } }, h("span", { class: "step-no", "aria-hidden": "true", text: String(i + 1) }), exprField, timeoutField, tools);
    if (step.expression.trim()) check(ctx, expression, verdict);
    return row;
  }

  render();
  return wrapper;
}

/** Asks the server whether `input`'s expression is valid; shows the answer at it. */
async function check(ctx, input, verdict) {
  const expression = input.value;
  if (!expression.trim()) {
    verdict.textContent = "Matches every agent.";
    verdict.className = "help verdict";
    input.removeAttribute("aria-invalid");
    return;
  }
  if (!ctx.canEdit) return;
  try {
    const answer = await ctx.api.send("POST", "/queues/check-expression", { expression });
    if (input.value !== expression) return; // typed on meanwhile
    if (answer.valid) {
      const uses = answer.attributes?.length ? ` Uses ${answer.attributes.join(", ")}.` : "";
      verdict.textContent = `Valid.${uses}`;
      verdict.className = "help verdict ok";
      input.removeAttribute("aria-invalid");
    } else {
      verdict.textContent = answer.message;
      verdict.className = "help verdict bad";
      input.setAttribute("aria-invalid", "true");
    }
  } catch (err) {
    if (input.value !== expression) return;
    verdict.textContent = `Not checked: ${err.message}`;
    verdict.className = "help verdict";
  }
}
