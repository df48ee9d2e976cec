// The conversation list and the chat pane of the selected conversation: its history,
// the composer, Leave, the wrap-up form, and Dismiss once it is over. Drafts and the
// wrap-up form survive live updates: the footer is rebuilt only when the phase changes.

import { acceptDrops, attachButton } from "/shared/attachments.js";
import { h, keepScrolledToEnd, replace } from "/shared/dom.js";
import { bubble, describe } from "/shared/transcript.js";
import { tickCountdowns } from "./offers.js";

const PHASE_BADGE = {
  active: ["ok", "active"],
  wrapup: ["warn", "wrap-up"],
  left: ["", "left"],
  closed: ["", "closed"],
};

export class ChatView {
  constructor(listEl, paneEl, { store, agentId, onSend, onAttach, onLeave, onEnd, onAssist, onWrapup, onDismiss, composerExtras, customerPanel, typingText }) {
    Object.assign(this, { listEl, paneEl, store, agentId, onSend, onAttach, onLeave, onEnd, onAssist, onWrapup, onDismiss, composerExtras, customerPanel, typingText });
    /** Whether the customer panel is open (it stays open from chat to chat). */
    this.showCustomer = false;
    this.selected = null;
    this.drafts = new Map();
    this.wrapupCodes = [];
    this.footerKey = null;
    this.renderList();
    this.renderPane();
  }

  setWrapupCodes(codes) {
    this.wrapupCodes = codes;
    if (this.store.get(this.selected)?.phase === "wrapup") {
      this.footerKey = null;
      this.renderPane();
    }
  }

  select(id) {
    this.selected = id;
    const item = this.store.get(id);
    if (item) item.unread = 0;
    this.footerKey = null;
    this.renderList();
    this.renderPane();
  }

  /** Opens the conversation after the selected one (wrapping), for Alt+N. */
  selectNext() {
    const items = this.store.list();
    if (!items.length) return;
    const at = items.findIndex((c) => c.id === this.selected);
    this.select(items[(at + 1) % items.length].id);
    this.focusComposer();
  }

  focusComposer() {
    this.paneEl.querySelector(".composer textarea")?.focus();
  }

  /** A conversation changed; `newMessages` counts unread ones when not selected. */
  update(id, { newMessages = 0 } = {}) {
    const item = this.store.get(id);
    if (item && id !== this.selected) item.unread += newMessages;
    if (!this.selected || !this.store.get(this.selected)) {
      this.selected = this.store.list()[0]?.id ?? null;
      this.footerKey = null;
    }
    this.renderList();
    if (id === this.selected || !item) this.renderPane();
  }

  renderList() {
    const items = this.store.list();
    if (!items.length) {
      replace(this.listEl, h("p", { class: "muted small empty", text: "No conversations yet. Go ready to receive chats." }));
      return;
    }
    replace(
      this.listEl,
      items.map((item) => {
        const [kind, label] = PHASE_BADGE[item.phase];
        return h(
          "button",
          {
            type: "button",
            class: `conv${item.id === this.selected ? " selected" : ""}`,
            dataset: { conversationId: item.id },
            "data-testid": "conversation",
            onClick: () => this.select(item.id),
          },
          h(
            "span",
            { class: "row" },
            h("strong", { text: item.customerName() }),
            h("span", { class: "spacer" }),
            item.unread ? h("span", { class: "badge info", text: String(item.unread) }) : null,
            h("span", { class: `badge ${kind}`, text: label }),
          ),
          h("span", { class: "preview muted small", text: item.preview() || item.channelName() }),
        );
      }),
    );
  }

  renderPane() {
    const item = this.store.get(this.selected);
    if (!item) {
      this.footerKey = null;
      replace(
        this.paneEl,
        h("div", { class: "placeholder muted" }, h("p", { text: "Select a conversation, or accept an offer to start chatting." })),
      );
      return;
    }
    let header = this.paneEl.querySelector(".chat-header");
    let messages = this.paneEl.querySelector(".messages");
    let footer = this.paneEl.querySelector(".chat-footer");
    let typing = this.paneEl.querySelector(".typing");
    if (!header || !messages || !footer || !typing || this.paneEl.dataset.conversationId !== item.id) {
      header = h("header", { class: "chat-header" });
      messages = h("div", { class: "messages", "data-testid": "messages", role: "log", "aria-live": "polite" });
      typing = h("p", { class: "typing muted small", "data-testid": "typing", "aria-live": "polite" });
      footer = h("footer", { class: "chat-footer" });
      const customer = h("div", { class: "customer-slot" });
      replace(this.paneEl, header, customer, messages, typing, footer);
      this.paneEl.dataset.conversationId = item.id;
      // Files dropped on the transcript are sent while the chat is active.
      acceptDrops(messages, (files) => {
        const current = this.store.get(item.id);
        if (current?.phase === "active") for (const file of files) this.onAttach?.(current, file);
      });
      this.footerKey = null;
      this.#renderCustomer(item);
    }
    this.#renderHeader(header, item);
    keepScrolledToEnd(messages, () => this.#renderMessages(messages, item));
    typing.textContent = (item.phase === "active" && this.typingText?.(item.id)) || "";
    // The wrap-up deadline may arrive just after the phase changed: show its countdown.
    const key = `${item.id}:${item.phase}:${item.wrapupDeadline ?? ""}`;
    if (this.footerKey !== key) {
      this.footerKey = key;
      this.#renderFooter(footer, item);
    }
    tickCountdowns(this.paneEl);
  }

  #renderCustomer(item) {
    const slot = this.paneEl.querySelector(".customer-slot");
    if (!slot) return;
    replace(slot, this.showCustomer && this.customerPanel ? this.customerPanel.render(item) : null);
  }

  toggleCustomer(item) {
    this.showCustomer = !this.showCustomer;
    this.#renderCustomer(item);
    this.#renderHeader(this.paneEl.querySelector(".chat-header"), item);
  }

  #renderHeader(header, item) {
    const [kind, label] = PHASE_BADGE[item.phase];
    replace(
      header,
      h(
        "div",
        { class: "row" },
        h("h2", { text: item.customerName() }),
        h("span", { class: `badge ${kind}`, "data-testid": "phase", text: label }),
        h("span", { class: "spacer" }),
        h("span", { class: "muted small", text: item.channelName() }),
        h("button", {
          type: "button",
          class: this.showCustomer ? "current" : "",
          text: "Customer",
          title: "Who the customer is, and their previous conversations",
          "aria-pressed": this.showCustomer ? "true" : "false",
          "data-testid": "customer-toggle",
          onClick: () => this.toggleCustomer(item),
        }),
        item.phase === "active"
          ? [
              h("button", { type: "button", text: "Transfer…", title: "Transfer or conference", "data-testid": "assist", onClick: () => this.onAssist(item) }),
              item.customerPresent()
                ? h("button", { type: "button", class: "danger", text: "End chat", title: "End the chat for the customer", onClick: () => this.onEnd(item) })
                : null,
              h("button", {
                type: "button",
                text: "Leave",
                title: item.customerPresent()
                  ? "Leave: the customer stays and the chat goes back to the queue"
                  : "Leave the conversation",
                onClick: () => this.onLeave(item),
              }),
            ]
          : null,
      ),
      item.note ? h("p", { class: "notice warn small", text: item.note }) : null,
    );
  }

  #renderMessages(list, item) {
    const context = { agentId: this.agentId, customerName: item.customerName() };
    const nodes = [];
    for (const event of item.events) {
      const shown = describe(event, context);
      if (shown) nodes.push(bubble(shown, { seq: event.seq }));
    }
    for (const pending of item.pending.values()) {
      const shown = describe(pending.event, context);
      if (!shown) continue;
      const status = pending.error ? `not sent: ${pending.error}` : pending.status === "sent" ? "sent" : "sending…";
      nodes.push(bubble(shown, { status, failed: Boolean(pending.error) }));
    }
    replace(list, nodes);
  }

  #renderFooter(footer, item) {
    switch (item.phase) {
      case "active":
        replace(footer, this.#composer(item));
        break;
      case "wrapup":
        replace(footer, this.#wrapupForm(item));
        break;
      default:
        replace(
          footer,
          h(
            "div",
            { class: "row" },
            h("span", { class: "muted small", text: item.phase === "left" ? "You left this conversation." : "This conversation is closed." }),
            h("span", { class: "spacer" }),
            h("button", { type: "button", text: "Dismiss", onClick: () => this.onDismiss(item) }),
          ),
        );
    }
  }

  #composer(item) {
    const input = h("textarea", {
      rows: 2,
      placeholder: "Type a reply — Enter sends, Shift+Enter for a new line",
      "aria-label": "Message",
      value: this.drafts.get(item.id) ?? "",
      onInput: (e) => this.drafts.set(item.id, e.target.value),
    });
    const send = () => {
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      this.drafts.delete(item.id);
      this.onSend(item, text);
      input.focus();
    };
    this.composerExtras?.(input, item);
    input.addEventListener("keydown", (e) => {
      if (e.defaultPrevented) return;
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        send();
      }
    });
    return h(
      "form",
      {
        class: "composer",
        onSubmit: (e) => {
          e.preventDefault();
          send();
        },
      },
      this.onAttach ? attachButton((files) => files.forEach((file) => this.onAttach(item, file))) : null,
      input,
      h("button", { class: "primary", type: "submit", text: "Send" }),
    );
  }

  #wrapupForm(item) {
    const byCategory = new Map();
    for (const code of this.wrapupCodes) {
      if (!byCategory.has(code.categoryName)) byCategory.set(code.categoryName, []);
      byCategory.get(code.categoryName).push(code);
    }
    const note = h("textarea", { rows: 2, placeholder: "Note (optional)", "aria-label": "Wrap-up note" });
    const error = h("p", { class: "notice bad small", role: "alert", hidden: true });
    const submit = h("button", { class: "primary", type: "submit", text: "Close wrap-up" });
    const form = h(
      "form",
      { class: "wrapup stack", "data-testid": "wrapup-form" },
      h(
        "div",
        { class: "row" },
        h("h3", { text: "Wrap-up" }),
        h("span", { class: "spacer" }),
        item.wrapupDeadline ? h("span", { class: "badge warn", dataset: { deadline: item.wrapupDeadline } }) : null,
      ),
      h(
        "div",
        { class: "codes" },
        [...byCategory.entries()].map(([category, codes]) =>
          h(
            "fieldset",
            {},
            h("legend", { text: category }),
            codes.map((code) =>
              h("label", { class: "check" }, h("input", { type: "checkbox", value: code.id }), ` ${code.value}`),
            ),
          ),
        ),
      ),
      note,
      error,
      h("div", { class: "row" }, submit),
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const chosen = [...form.querySelectorAll("input[type=checkbox]:checked")]
        .map((box) => this.wrapupCodes.find((c) => c.id === box.value))
        .filter(Boolean);
      if (this.wrapupCodes.length && !chosen.length) {
        error.textContent = "Pick at least one wrap-up code.";
        error.hidden = false;
        return;
      }
      error.hidden = true;
      submit.disabled = true;
      try {
        await this.onWrapup(item, chosen, note.value.trim());
      } catch (err) {
        error.textContent = err.message;
        error.hidden = false;
        submit.disabled = false;
      }
    });
    return form;
  }
}
