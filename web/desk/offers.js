// Task offers (`taskRequest`): one card each with the customer, the channel, a
// countdown to the accept deadline and an Accept button; `revokeTask` takes it away.

import { h, replace } from "/shared/dom.js";

function customerOf(offer) {
  const session = offer.channelSession ?? offer.task?.activeMedia?.[0]?.requestSession;
  const attributes = session?.channelData?.additionalAttributes ?? [];
  for (const attribute of Array.isArray(attributes) ? attributes : []) {
    const first = (attribute?.value?.formData?.attributes ?? []).find((f) => f?.key === "firstName" && f.value);
    if (first) return String(first.value);
  }
  return session?.customer?.firstName ?? "A customer";
}

function queueOf(offer) {
  return offer.task?.activeMedia?.[0]?.queue?.name ?? "";
}

export class OffersView {
  constructor(container, { onAccept }) {
    this.container = container;
    this.onAccept = onAccept;
    this.offers = new Map();
    this.render();
  }

  add(offer) {
    const taskId = offer?.taskId ?? offer?.task?.id;
    if (!taskId || !offer.conversationId) return;
    this.offers.set(taskId, { ...offer, taskId, busy: false, error: null });
    this.render();
  }

  remove(taskId) {
    this.offers.delete(taskId);
    this.render();
  }

  removeConversation(conversationId) {
    for (const [taskId, offer] of this.offers) {
      if (offer.conversationId === conversationId) this.offers.delete(taskId);
    }
    this.render();
  }

  async #accept(offer) {
    offer.busy = true;
    offer.error = null;
    this.render();
    try {
      await this.onAccept(offer);
      this.offers.delete(offer.taskId);
    } catch (err) {
      offer.busy = false;
      offer.error = err.message;
    }
    this.render();
  }

  render() {
    if (!this.offers.size) {
      replace(this.container, h("p", { class: "muted small empty", text: "No offers right now." }));
      return;
    }
    replace(
      this.container,
      [...this.offers.values()].map((offer) =>
        h(
          "article",
          { class: "offer", dataset: { taskId: offer.taskId }, "data-testid": "offer" },
          h(
            "div",
            { class: "row" },
            h("strong", { text: customerOf(offer) }),
            h("span", { class: "spacer" }),
            typeof offer.acceptDeadline === "number"
              ? h("span", { class: "badge warn countdown", dataset: { deadline: offer.acceptDeadline } })
              : null,
          ),
          h("div", { class: "muted small", text: ["New chat", queueOf(offer) && `queue ${queueOf(offer)}`].filter(Boolean).join(" · ") }),
          offer.error ? h("div", { class: "notice bad small", text: offer.error }) : null,
          h("button", {
            class: "ok accept",
            type: "button",
            text: offer.busy ? "Accepting…" : "Accept",
            disabled: offer.busy,
            onClick: () => this.#accept(offer),
          }),
        ),
      ),
    );
    tickCountdowns(this.container);
  }
}

/** Updates every `[data-deadline]` (epoch ms) under `root` to the seconds left. */
export function tickCountdowns(root, now = Date.now()) {
  for (const node of root.querySelectorAll("[data-deadline]")) {
    const left = Math.max(0, Math.ceil((Number(node.dataset.deadline) - now) / 1000));
    node.textContent = `${left}s`;
    node.classList.toggle("bad", left <= 5);
  }
}
