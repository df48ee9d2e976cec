// The desk's Socket.IO connection to namespace `/`: token auth, requests with acks
// (an error ack becomes a rejected DeskRequestError), and the reconnect rule — after
// any reconnect, every known conversation is resubscribed from its last seen seq.

import { io } from "/vendor/socket.io.esm.min.js";

const ACK_TIMEOUT_MS = 10_000;

export class DeskRequestError extends Error {
  constructor(code, message, event) {
    super(message);
    this.code = code;
    this.event = event;
  }
}

export class DeskConnection {
  /**
   * `handlers`: event name -> function(payload); plus `onStatus(status, detail)` where
   * status is connecting | connected | reconnecting | refused | removed | closed, and
   * `lastSeqs()` -> [[conversationId, lastSeq]] for resubscribing.
   */
  constructor(token, { handlers, onStatus, lastSeqs, onResubscribeFailed }) {
    this.token = token;
    this.onStatus = onStatus;
    this.lastSeqs = lastSeqs;
    this.onResubscribeFailed = onResubscribeFailed;
    this.connectedOnce = false;
    this.removed = false;
    this.rejoin = false;
    this.socket = io("/", {
      auth: (cb) => cb({ token: this.token }),
      transports: ["websocket", "polling"],
      reconnectionDelay: 500,
      reconnectionDelayMax: 5_000,
    });
    for (const [event, handler] of Object.entries(handlers)) this.socket.on(event, handler);
    this.socket.on("connect", () => this.#connected());
    this.socket.on("disconnect", (reason) => this.#disconnected(reason));
    this.socket.on("connect_error", (err) => this.#refused(err));
    this.socket.on("socketSessionRemoved", () => {
      this.removed = true;
      this.onStatus("removed");
    });
    // The user's role or teams changed: the server closes the socket so that it
    // connects again and is checked against what the user may do now.
    this.socket.on("errors", (payload) => {
      if (payload?.event === "session" && payload.code === "rights_changed") this.rejoin = true;
    });
    onStatus("connecting");
  }

  get connected() {
    return this.socket.connected;
  }

  /** Emits `event` and resolves with its ack; error acks and timeouts reject. */
  async request(event, payload) {
    let answer;
    try {
      answer = await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload);
    } catch {
      throw new DeskRequestError("timeout", `no answer to ${event} within ${ACK_TIMEOUT_MS / 1000} s`, event);
    }
    if (answer && answer.status === "error") {
      throw new DeskRequestError(answer.code ?? "error", answer.message ?? "request refused", event);
    }
    return answer;
  }

  /** Connects again after a takeover by another tab (this tab takes over back). */
  reconnect() {
    this.removed = false;
    this.onStatus("connecting");
    this.socket.connect();
  }

  close() {
    this.socket.off();
    this.socket.disconnect();
  }

  #connected() {
    const again = this.connectedOnce;
    this.connectedOnce = true;
    this.onStatus("connected");
    if (again) this.#resubscribe();
  }

  async #resubscribe() {
    for (const [conversationId, lastSeq] of this.lastSeqs()) {
      try {
        await this.request("topicSubscription", { conversationId, lastSeq });
      } catch (err) {
        this.onResubscribeFailed(conversationId, err);
      }
    }
  }

  #disconnected(reason) {
    if (this.removed) return;
    if (reason === "io server disconnect" && this.rejoin) {
      this.rejoin = false;
      this.onStatus("reconnecting", reason);
      this.socket.connect();
      return;
    }
    // The server dropping us on purpose (a takeover, a logout) is final; anything
    // else is a network hiccup the client retries by itself.
    if (reason === "io server disconnect" || reason === "io client disconnect") {
      this.onStatus("closed", reason);
    } else {
      this.onStatus("reconnecting", reason);
    }
  }

  #refused(err) {
    // A refusal by the server (bad token, admin account) is not retried by the client.
    if (!this.socket.active) this.onStatus("refused", err.message);
    else this.onStatus("reconnecting", err.message);
  }
}
