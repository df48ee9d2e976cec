// The customer side of the chat protocol on namespace `/customer`: identity
// (serviceIdentifier + a random channelCustomerIdentifier kept in localStorage, and the
// sessionSecret the server gives the tab that starts a chat, needed to resume it),
// CHAT_REQUESTED (or MESSAGE_LEFT outside business hours), messages acknowledged after the server stored them (retried with the
// same id on an ack timeout, so a retry is never stored twice), CHAT_ENDED, and a
// resume after a reconnect (from the last seq seen) or a reload (the whole transcript).

import { io } from "/vendor/socket.io.esm.min.js";
import { uuid } from "/shared/dom.js";
import { typingBody } from "/shared/typing.js";
import { UploadError, uploadAttachment } from "/shared/attachments.js";

const ACK_TIMEOUT_MS = 5_000;
const CONNECT_TIMEOUT_MS = 10_000;
const MAX_ATTEMPTS = 5;

export class ChatRequestError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** localStorage with a per-service prefix; quiet when storage is unavailable. */
class Memory {
  constructor(serviceIdentifier) {
    this.prefix = `switchboard.widget.${serviceIdentifier}.`;
  }

  get(key) {
    try {
      return JSON.parse(localStorage.getItem(this.prefix + key) ?? "null");
    } catch {
      return null;
    }
  }

  set(key, value) {
    try {
      if (value === null || value === undefined) localStorage.removeItem(this.prefix + key);
      else localStorage.setItem(this.prefix + key, JSON.stringify(value));
    } catch {
      // Private mode or full storage: the chat still works, it just cannot resume.
    }
  }
}

export class ChatClient {
  /**
   * `on`: {status(status, detail), started(payload), event(cimEvent), queuePosition(payload),
   * ended(kind, payload), error(payload)}.
   */
  constructor(serviceIdentifier, on) {
    this.serviceIdentifier = serviceIdentifier;
    this.on = on;
    this.memory = new Memory(serviceIdentifier);
    this.customerId = this.memory.get("customer") ?? uuid();
    this.memory.set("customer", this.customerId);
    this.chat = this.memory.get("chat");
    // In memory only: a reload starts from 0 so the page gets the whole transcript back.
    this.lastSeq = 0;
    this.socket = null;
  }

  get name() {
    return this.memory.get("name") ?? "";
  }

  /** True when a chat was running when the page was last open. */
  get chatRunning() {
    return Boolean(this.chat);
  }

  connect() {
    if (this.socket) {
      // A refused socket stays down until asked again (say, after a new "Start chat").
      if (!this.socket.active) this.socket.connect();
      return;
    }
    this.socket = io("/customer", {
      auth: (cb) =>
        cb({
          serviceIdentifier: this.serviceIdentifier,
          channelCustomerIdentifier: this.customerId,
          ...(this.secret ? { sessionSecret: this.secret } : {}),
          ...(this.chat ? { lastSeq: this.lastSeq } : {}),
        }),
      transports: ["websocket", "polling"],
      reconnectionDelay: 500,
      reconnectionDelayMax: 5_000,
    });
    this.socket.on("connect", () => this.on.status("connected"));
    this.socket.on("disconnect", (reason) =>
      this.on.status(reason === "io client disconnect" ? "closed" : "reconnecting", reason),
    );
    this.socket.on("connect_error", (err) => {
      if (/sessionSecret/.test(err.message)) {
        // A chat of this identity runs but this page has not got its secret (storage
        // cleared, or another browser): start over as a new customer.
        this.#forgetIdentity();
        this.socket.connect();
        return;
      }
      this.on.status(this.socket.active ? "reconnecting" : "refused", err.message);
    });
    this.socket.on("CHANNEL_SESSION_STARTED", (payload) => {
      this.#remember({ conversationId: payload?.conversationId, channelSessionId: payload?.channelSession?.id });
      this.on.started(payload);
    });
    this.socket.on("MESSAGE_RECEIVED", (event) => {
      if (typeof event?.seq === "number") this.lastSeq = Math.max(this.lastSeq, event.seq);
      this.on.event(event);
    });
    this.socket.on("QUEUE_POSITION", (payload) => this.on.queuePosition(payload));
    this.socket.on("CHANNEL_SESSION_ENDED", (payload) => this.#ended("ended", payload));
    this.socket.on("CHANNEL_SESSION_EXPIRED", (payload) => this.#ended("expired", payload));
    this.socket.on("ERRORS", (payload) => this.on.error(payload));
    this.on.status("connecting");
  }

  /**
   * Starts a chat as `name`; `attributes`: the pre-chat form's answers
   * ([{key, value, type}], see prechat.js), the name among them when the form asks it.
   */
  async requestChat(name, attributes = null) {
    this.memory.set("name", name);
    this.connect();
    await this.#whenConnected();
    const answer = await this.#request("CHAT_REQUESTED", { additionalAttributes: this.#webChannelData(name, attributes) });
    this.#keepSecret(answer);
    this.#remember({ conversationId: answer?.conversationId, channelSessionId: answer?.channelSession?.id });
    return answer;
  }

  /** Tells the agents the customer started or stopped typing; never retried nor stored. */
  async typing(name) {
    if (!this.socket?.connected || !this.chat) return;
    await this.#request("MESSAGE_RECEIVED", { id: uuid(), body: typingBody(name) });
  }

  /**
   * Uploads a file into the running chat, authenticated by the chat's session secret;
   * resolves with `{url, body, ...}` (the body to send), rejects with an UploadError.
   */
  async upload(file) {
    const { conversationId, channelSessionId } = this.chat ?? {};
    if (!conversationId || !channelSessionId || !this.secret) {
      throw new UploadError("wrong_state", "start the chat before sending a file");
    }
    return uploadAttachment(conversationId, file, {
      "X-Channel-Session": channelSessionId,
      "X-Session-Secret": this.secret,
    });
  }

  /**
   * Outside business hours: leaves `text` with the form's answers (`MESSAGE_LEFT`). The
   * chat is kept like a running one, so coming back to this page shows the reply.
   */
  async leaveMessage(name, attributes, text) {
    this.memory.set("name", name);
    this.connect();
    await this.#whenConnected();
    const answer = await this.#request("MESSAGE_LEFT", {
      additionalAttributes: this.#webChannelData(name, attributes),
      message: { id: uuid(), body: { type: "PLAIN", markdownText: text } },
    });
    this.#keepSecret(answer);
    this.#remember({ conversationId: answer?.conversationId, channelSessionId: answer?.channelSessionId, left: true });
    return answer;
  }

  /** The WebChannelData of a chat request: the form's answers, locale and device. */
  #webChannelData(name, attributes) {
    return {
      formData: { attributes: attributes ?? [{ key: "firstName", value: name, type: "string" }] },
      locale: {
        language: navigator.language,
        timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      },
      browserDeviceInfo: {
        browserName: navigator.userAgentData?.brands?.[0]?.brand ?? "browser",
        deviceType: matchMedia("(pointer: coarse)").matches ? "mobile" : "desktop",
      },
    };
  }

  /** A new outgoing message: `{id, body}` to pass to `send`. */
  newMessage(text) {
    return { id: uuid(), body: { type: "PLAIN", markdownText: text } };
  }

  /**
   * Sends `message` until the server acknowledges it, retrying with the same id on
   * timeouts; `onAttempt(n)` reports retries. Resolves with the ack, rejects with a
   * ChatRequestError when the server refuses or every attempt timed out.
   */
  async send(message, onAttempt = () => {}) {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      onAttempt(attempt);
      try {
        const answer = await this.#request("MESSAGE_RECEIVED", message);
        this.#keepSecret(answer);
        return answer;
      } catch (err) {
        if (err.code !== "timeout" || attempt === MAX_ATTEMPTS) throw err;
        await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** (attempt - 1)));
      }
    }
    throw new ChatRequestError("timeout", "not acknowledged");
  }

  async endChat() {
    return this.#request("CHAT_ENDED", {});
  }

  /** Rates an ended chat 1-5 with an optional comment (`CSAT_SUBMITTED`). */
  async rate(conversationId, rating, comment) {
    return this.#request("CSAT_SUBMITTED", { conversationId, rating, comment });
  }

  /** Resolves once connected; rejects when the server refuses us or cannot be reached. */
  #whenConnected() {
    if (this.socket.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (error) => {
        clearTimeout(timer);
        this.socket.off("connect", onConnect);
        this.socket.off("connect_error", onError);
        if (error) reject(error);
        else resolve();
      };
      const onConnect = () => done();
      const onError = (err) => {
        if (!this.socket.active) done(new ChatRequestError("refused", err.message));
      };
      const timer = setTimeout(
        () => done(new ChatRequestError("unreachable", "cannot reach the chat service")),
        CONNECT_TIMEOUT_MS,
      );
      this.socket.on("connect", onConnect);
      this.socket.on("connect_error", onError);
    });
  }

  async #request(event, payload) {
    let answer;
    try {
      answer = await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload);
    } catch {
      throw new ChatRequestError("timeout", "the server did not answer in time");
    }
    if (answer?.status === "error") {
      throw new ChatRequestError(answer.code ?? "error", answer.message ?? "refused");
    }
    return answer;
  }

  get secret() {
    return this.memory.get("secret");
  }

  /** Keeps the chat's sessionSecret when an answer carries one (the chat's first). */
  #keepSecret(answer) {
    if (typeof answer?.sessionSecret === "string") this.memory.set("secret", answer.sessionSecret);
  }

  #forgetIdentity() {
    this.customerId = uuid();
    this.memory.set("customer", this.customerId);
    this.memory.set("secret", null);
    this.#remember(null);
    this.lastSeq = 0;
  }

  #remember(chat) {
    this.chat = chat;
    this.memory.set("chat", chat);
  }

  #ended(kind, payload) {
    // The chat that ended, so the customer can still rate it.
    this.lastChatId = this.chat?.conversationId ?? null;
    this.#remember(null);
    this.memory.set("secret", null);
    this.lastSeq = 0;
    this.on.ended(kind, payload);
  }
}
