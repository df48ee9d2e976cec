// A modal confirmation (native <dialog>: focus stays inside, Escape cancels) that runs
// the action itself, so a refusal (a 409 naming what blocks a delete) is shown in the
// dialog that asked, not lost behind it.

import { h } from "/shared/dom.js";

/**
 * Asks `question`; on confirm awaits `run()`. `blockerLink(blocker)` gives the page of
 * a thing a 409 names as in the way (or null), so the reader can go and change it.
 * `body`: controls shown under the question (a choice `run` reads). Resolves true when `run` succeeded,
 * false when cancelled or refused (the refusal stays on screen until closed).
 */
export function confirmAction({ title, question, body = null, confirmLabel = "Delete", danger = true, run, blockerLink = () => null }) {
  return new Promise((resolve) => {
    const error = h("p", { class: "notice bad", role: "alert", hidden: true, "data-testid": "dialog-error" });
    const confirm = h("button", {
      type: "button",
      class: danger ? "danger solid" : "primary",
      text: confirmLabel,
      "data-testid": "dialog-confirm",
    });
    const cancel = h("button", { type: "button", text: "Cancel", "data-testid": "dialog-cancel" });
    const heading = h("h2", { id: `dialog-title-${Date.now()}`, text: title });
    const dialog = h(
      "dialog",
      { class: "card confirm", "aria-labelledby": heading.id, "data-testid": "dialog" },
      heading,
      h("p", { text: question }),
      body,
      error,
      h("div", { class: "row form-actions" }, confirm, cancel),
    );
    let done = false;
    const finish = (result) => {
      if (done) return;
      done = true;
      dialog.close();
      dialog.remove();
      resolve(result);
    };
    cancel.addEventListener("click", () => finish(false));
    dialog.addEventListener("close", () => finish(false));
    confirm.addEventListener("click", async () => {
      confirm.disabled = true;
      error.hidden = true;
      try {
        await run();
        finish(true);
      } catch (err) {
        const blockers = (err?.blockers ?? []).map((b) => {
          const href = blockerLink(b);
          const text = `${b.type} ${b.name ?? b.id}`;
          return h("li", {}, href ? h("a", { href, text }) : text);
        });
        error.replaceChildren(refusal(err), blockers.length ? h("ul", { class: "blockers" }, blockers) : "");
        error.hidden = false;
        confirm.hidden = true;
        cancel.textContent = "Close";
        cancel.focus();
      }
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/**
 * Shows a modal <dialog> (`props`, `children`) at once. `close()` closes it (Escape
 * does too); `closed` resolves when it is gone, removed from the page.
 */
export function openModal(props, ...children) {
  const dialog = h("dialog", props, ...children);
  const closed = new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve();
    });
  });
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, close: () => dialog.close(), closed };
}

/** How a refused action reads: the server's own reason first. */
function refusal(err) {
  if (err?.status === 409) return `Not deleted: ${err.message}`;
  return err?.message ?? String(err);
}
