// The console's side of namespace `/supervisor` (docs/protocol.md): the snapshot on
// every (re)connect replaces everything, each update replaces the rows it carries,
// and `ended` conversations go. Actions are acked requests; error acks reject.

import { io } from "/vendor/socket.io.esm.min.js";

const ACK_TIMEOUT_MS = 10_000;

export class LiveStream {
  /** `onChange()` after every snapshot or update; `onStatus(status, detail)`. */
  constructor(token, { onChange, onStatus }) {
    this.queues = new Map();
    this.agents = new Map();
    this.conversations = new Map();
    this.snapshot = null;
    /** Server time minus local time, from the last message. */
    this.skew = 0;
    this.onChange = onChange;
    this.socket = io("/supervisor", {
      auth: (cb) => cb({ token }),
      transports: ["websocket", "polling"],
      reconnectionDelay: 500,
      reconnectionDelayMax: 5_000,
    });
    this.socket.on("connect", () => onStatus("connected"));
    // The user's role or teams changed: the server closes the console so that it
    // connects again with what the user may see now (a new snapshot).
    let rejoin = false;
    this.socket.on("errors", (payload) => {
      if (payload?.event === "session" && payload.code === "rights_changed") rejoin = true;
    });
    this.socket.on("disconnect", (reason) => {
      onStatus("reconnecting", reason);
      if (reason === "io server disconnect" && rejoin) {
        rejoin = false;
        this.socket.connect();
      }
    });
    this.socket.on("connect_error", (err) => onStatus(this.socket.active ? "reconnecting" : "refused", err.message));
    this.socket.on("supervisor:snapshot", (s) => this.#snapshot(s));
    this.socket.on("supervisor:update", (u) => this.#update(u));
    onStatus("connecting");
  }

  /** The server's clock now. */
  now() {
    return Date.now() + this.skew;
  }

  async request(event, payload) {
    let answer;
    try {
      answer = await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload);
    } catch {
      throw new Error(`no answer to ${event} within ${ACK_TIMEOUT_MS / 1000} s`);
    }
    if (answer?.status === "error") throw new Error(answer.message ?? "refused");
    return answer;
  }

  close() {
    this.socket.off();
    this.socket.disconnect();
  }

  #snapshot(s) {
    this.skew = s.now - Date.now();
    this.snapshot = s;
    for (const [map, rows] of [
      [this.queues, s.queues],
      [this.agents, s.agents],
      [this.conversations, s.conversations],
    ]) {
      map.clear();
      for (const row of rows) map.set(row.id, row);
    }
    this.onChange();
  }

  #update(u) {
    this.skew = u.now - Date.now();
    for (const row of u.queues) this.queues.set(row.id, row);
    for (const row of u.agents) this.agents.set(row.id, row);
    for (const row of u.conversations) this.conversations.set(row.id, row);
    for (const id of u.ended) this.conversations.delete(id);
    this.onChange();
  }
}
