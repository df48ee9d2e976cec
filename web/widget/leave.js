// Outside business hours: the "We're closed" notice and the leave-a-message form
// (the channel's pre-chat fields, with name and email always offered, and the
// message). The message is kept like a chat: this page's storage holds the chat's
// secret, so a customer who comes back here reads the agent's reply.

import { byId } from "/shared/dom.js";
import { closedText, openingText } from "./hours.js";
import { clearFieldErrors, renderPrechat, showFieldError } from "./prechat.js";

/** The form for a left message: name and email are always offered (a reply needs them). */
function leaveForm(form) {
  const offer = (mode) => (mode === "hidden" ? "optional" : mode);
  return { ...form, name: offer(form?.name ?? "optional"), email: offer(form?.email ?? "hidden") };
}

/**
 * Shows the closed notice and the leave-a-message form for the channel `info`
 * (GET /api/v1/widget/channels/{sid}). `onLeft(text, answer)` is called once the
 * server stored the message.
 */
export function showClosed(info, client, { onLeft }) {
  const form = byId("leave-form");
  byId("start-form").hidden = true;
  form.hidden = false;
  byId("closed-text").textContent = `${closedText(info)}.`;
  const fields = renderPrechat(byId("leave-fields"), leaveForm(info?.prechatForm), { firstName: client.name });
  const error = byId("leave-error");
  form.onsubmit = async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    error.hidden = true;
    const text = byId("leave-text").value.trim();
    if (!text) {
      showFieldError(form, "formData.message: write your message");
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const answer = await client.leaveMessage(fields.name(), fields.answers(), text);
      byId("leave-text").value = "";
      form.hidden = true;
      const when = openingText(answer?.nextOpen, answer?.timeZone);
      onLeft(text, answer, when);
    } catch (err) {
      if (!showFieldError(form, err.message)) {
        error.textContent = `Cannot leave the message: ${err.message}`;
        error.hidden = false;
      }
    } finally {
      button.disabled = false;
    }
  };
}

/** Hides the leave-a-message form (the channel is open). */
export function hideClosed() {
  byId("leave-form").hidden = true;
}
