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

const REQUEST_WORDS = {
  DIRECT_TRANSFER: "Transfer",
  CONSULT_TRANSFER: "Consult transfer",
  DIRECT_CONFERENCE: "Conference",
  CONSULT_CONFERENCE: "Consult",
};

/** What the offer is: a new chat, or a transfer / conference from another agent, and its note. */
export function offerKind(offer) {
  const metadata = offer.task?.activeMedia?.[0]?.type?.metadata ?? {};
  const words = REQUEST_WORDS[metadata.requestType];
  if (!words) return { title: "New chat", note: null };
  const from = metadata.requestedByName ? ` from ${metadata.requestedByName}` : "";
  return { title: `${words}${from}`, note: metadata.note || null };
}

export class OffersView {
  constructor(container, { onAccept, onReject }) {
    this.container = container;
    this.onAccept = onAccept;
    this.onReject = onReject;
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

  async #reject(offer) {
    offer.busy = true;
    offer.error = null;
    this.render();
    try {
      await this.onReject(offer);
      this.offers.delete(offer.taskId);
    } catch (err) {
      offer.busy = false;
      offer.error = err.message;
    }
    this.render();
  }

  /** Accepts the oldest offer (the keyboard shortcut); false when there is none. */
  acceptFirst() {
    const first = [...this.offers.values()].find((o) => !o.busy);
    if (!first) return false;
    this.#accept(first);
    return true;
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
          h("div", { class: "muted small", "data-testid": "offer-kind", text: [offerKind(offer).title, queueOf(offer) && `queue ${queueOf(offer)}`].filter(Boolean).join(" · ") }),
          offerKind(offer).note ? h("div", { class: "offer-note small", "data-testid": "offer-note", text: `“${offerKind(offer).note}”` }) : null,
          offer.error ? h("div", { class: "notice bad small", text: offer.error }) : null,
          h(
            "div",
            { class: "row" },
            h("button", {
              class: "ok accept",
              type: "button",
              text: offer.busy ? "Working…" : "Accept",
              title: "Accept (Alt+A)",
              disabled: offer.busy,
              onClick: () => this.#accept(offer),
            }),
            h("button", {
              class: "reject",
              type: "button",
              text: "Reject",
              title: "Turn this chat down: it goes to another agent at once",
              disabled: offer.busy,
              onClick: () => this.#reject(offer),
            }),
          ),
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
