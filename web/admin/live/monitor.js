// Joining a conversation from its row: a desk connection on `/` (the supervisor's own),
// JoinAsSilentMonitor / joinAsWhisper / JoinAsBargin, the live transcript from
// onTopicData and onCimEvent, a composer for whisper (WHISPER_MESSAGE, agents only)
// and barge-in (AGENT_MESSAGE, the customer sees it), and Leave.

import { io } from "/vendor/socket.io.esm.min.js";
import { formatTime, h, keepScrolledToEnd, replace, uuid } from "/shared/dom.js";
import { describe } from "/shared/transcript.js";

const JOIN_EVENTS = { silent: "JoinAsSilentMonitor", whisper: "joinAsWhisper", barge: "JoinAsBargin" };
const MODE_TEXT = {
  silent: "Silent monitor — you read along; nobody sees you.",
  whisper: "Whisper — your messages reach the agents only.",
  barge: "Barged in — the customer sees your messages.",
};

export class MonitorPanel {
  constructor(panel, { token, user, onNotice }) {
    this.panel = panel;
    this.token = token;
    this.user = user;
    this.onNotice = onNotice;
    this.socket = null;
    this.current = null; // {conversationId, mode, row, seqs:Set, list}
    panel.hidden = true;
  }

  #desk() {
    if (this.socket) return this.socket;
    this.socket = io("/", {
      auth: (cb) => cb({ token: this.token }),
      transports: ["websocket", "polling"],
      reconnectionDelay: 500,
    });
    this.socket.on("onCimEvent", (event) => {
      if (event?.conversationId === this.current?.conversationId) this.#add(event);
    });
    this.socket.on("topicClosed", (payload) => {
      if (payload?.conversationId !== this.current?.conversationId) return;
      this.onNotice("The conversation you joined has ended.", "warn");
      this.#close();
    });
    this.socket.on("connect_error", (err) => this.onNotice(`Cannot join conversations: ${err.message}`, "bad"));
    return this.socket;
  }

  async #request(event, payload) {
    const answer = await this.#desk().timeout(10_000).emitWithAck(event, payload);
    if (answer?.status === "error") throw new Error(answer.message ?? "refused");
    return answer;
  }

  /** Joins `row`'s conversation in `mode` (silent, whisper, barge), leaving any other first. */
  async join(row, mode) {
    if (this.current) await this.leave({ quiet: true });
    const topic = await this.#request(JOIN_EVENTS[mode], { conversationId: row.id });
    this.current = { conversationId: row.id, mode, row, seqs: new Set() };
    this.#render();
    for (const event of topic?.topicData?.events ?? []) this.#add(event);
  }

  async leave({ quiet = false } = {}) {
    const current = this.current;
    if (!current) return;
    try {
      await this.#request("topicUnsubscription", { conversationId: current.conversationId, reason: "SUPERVISOR_LEFT" });
      if (!quiet) this.onNotice(`You left the conversation with ${current.row.customerName ?? "the customer"}.`, "ok");
    } catch (err) {
      this.onNotice(`Cannot leave: ${err.message}`, "bad");
    }
    this.#close();
  }

  stop() {
    this.socket?.off();
    this.socket?.disconnect();
    this.socket = null;
  }

  #close() {
    this.current = null;
    this.panel.hidden = true;
    replace(this.panel);
  }

  #render() {
    const { row, mode } = this.current;
    this.list = h("div", { class: "messages live-transcript", "data-testid": "transcript", role: "log" });
    const modeButtons = Object.keys(JOIN_EVENTS)
      .filter((m) => m !== mode)
      .map((m) =>
        h("button", {
          type: "button",
          text: m === "silent" ? "Switch to silent" : m === "whisper" ? "Switch to whisper" : "Barge in",
          "data-testid": `switch-${m}`,
          onClick: () => this.join(row, m).catch((err) => this.onNotice(err.message, "bad")),
        }),
      );
    let composer = null;
    if (mode !== "silent") {
      const input = h("input", {
        "aria-label": mode === "whisper" ? "Whisper to the agents" : "Message to the customer",
        placeholder: mode === "whisper" ? "Whisper to the agents…" : "Write to the customer…",
        "data-testid": "monitor-input",
      });
      composer = h(
        "form",
        {
          class: "row composer",
          onSubmit: async (event) => {
            event.preventDefault();
            const text = input.value.trim();
            if (!text) return;
            input.value = "";
            try {
              await this.#send(text);
            } catch (err) {
              this.onNotice(`Not sent: ${err.message}`, "bad");
              input.value = text;
            }
          },
        },
        input,
        h("button", { type: "submit", class: "primary", text: mode === "whisper" ? "Whisper" : "Send" }),
      );
    }
    replace(
      this.panel,
      h(
        "div",
        { class: "row" },
        h("h2", { text: `${row.customerName ?? "Customer"} · ${row.queue?.name ?? ""}` }),
        h("span", { class: `badge ${mode === "barge" ? "warn" : "info"}`, text: mode === "barge" ? "barge-in" : mode, "data-testid": "monitor-mode" }),
        h("span", { class: "spacer" }),
        ...modeButtons,
        h("button", { type: "button", class: "danger", text: "Leave", "data-testid": "monitor-leave", onClick: () => this.leave() }),
      ),
      h("p", { class: "muted small", text: MODE_TEXT[mode] }),
      this.list,
      composer,
    );
    this.panel.hidden = false;
  }

  async #send(text) {
    const { conversationId, mode } = this.current;
    const now = Date.now();
    const name = mode === "whisper" ? "WHISPER_MESSAGE" : "AGENT_MESSAGE";
    await this.#request("publishCimEvent", {
      conversationId,
      cimEvent: {
        id: uuid(),
        name,
        type: "MESSAGE",
        timestamp: now,
        conversationId,
        data: {
          id: uuid(),
          header: { sender: { id: this.user.id, type: "AGENT", senderName: this.user.username }, timestamp: now },
          body: { type: "PLAIN", markdownText: text },
        },
      },
    });
  }

  #add(event) {
    const current = this.current;
    if (!current || !this.list) return;
    if (typeof event.seq === "number") {
      if (current.seqs.has(event.seq)) return;
      current.seqs.add(event.seq);
    }
    const shown = describe(event, { agentId: this.user.id, customerName: current.row.customerName ?? "Customer" });
    if (!shown) return;
    const node =
      shown.kind === "system"
        ? h("div", { class: "sys", text: `${formatTime(shown.at)} · ${shown.text}` })
        : h(
            "div",
            { class: `msg ${shown.kind}` },
            h("span", { class: "who", text: shown.who }),
            h("span", { class: "text", text: shown.text }),
            h("span", { class: "meta", text: formatTime(shown.at) }),
          );
    keepScrolledToEnd(this.list, () => this.list.append(node));
  }
}
