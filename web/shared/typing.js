// Typing indicators, for the desk and the widget alike. The server delivers them live
// and never stores them (no seq, not replayed). TypingSender turns keystrokes into
// TYPING_STARTED (at most once per RESEND_MS while the person keeps typing) and
// TYPING_STOPPED (after IDLE_MS without a keystroke, or when the message is sent).
// TypingWatch remembers who is typing and forgets an indicator after STALE_MS without
// news, so a lost TYPING_STOPPED (a closed tab) does not leave "is typing…" forever.

export const RESEND_MS = 3_000;
export const IDLE_MS = 4_000;
export const STALE_MS = 6_000;

/** True for a typing indicator event (TYPING_STARTED / TYPING_STOPPED). */
export function isTyping(event) {
  return event?.name === "TYPING_STARTED" || event?.name === "TYPING_STOPPED";
}

/** The CIM message body of a typing indicator. */
export function typingBody(name) {
  return { type: "NOTIFICATION", notificationType: name };
}

export class TypingSender {
  /** `send(name)` publishes TYPING_STARTED or TYPING_STOPPED; its failures are ignored. */
  constructor(send) {
    this.send = send;
    this.startedAt = 0;
    this.idle = null;
  }

  /** A keystroke in the composer. */
  input() {
    const now = Date.now();
    if (now - this.startedAt >= RESEND_MS) {
      this.startedAt = now;
      this.#publish("TYPING_STARTED");
    }
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.stop(), IDLE_MS);
  }

  /** Idle, sent, or the composer emptied: says stopped once, if started was said. */
  stop() {
    clearTimeout(this.idle);
    this.idle = null;
    if (!this.startedAt) return;
    this.startedAt = 0;
    this.#publish("TYPING_STOPPED");
  }

  #publish(name) {
    Promise.resolve()
      .then(() => this.send(name))
      .catch(() => {});
  }
}

export class TypingWatch {
  /** `onChange(key)` runs when someone under `key` starts or stops typing. */
  constructor(onChange) {
    this.onChange = onChange;
    this.typing = new Map();
  }

  /** Applies a typing event for `key` (a conversation); `who` names the typist. */
  apply(key, event, who) {
    if (event.name === "TYPING_STARTED") {
      clearTimeout(this.typing.get(key)?.timer);
      const timer = setTimeout(() => this.clear(key), STALE_MS);
      this.typing.set(key, { who, timer });
      this.onChange(key);
    } else {
      this.clear(key);
    }
  }

  /** Nobody under `key` is typing (stopped, or their message arrived). */
  clear(key) {
    const known = this.typing.get(key);
    if (!known) return;
    clearTimeout(known.timer);
    this.typing.delete(key);
    this.onChange(key);
  }

  /** Who is typing under `key`, or null. */
  who(key) {
    return this.typing.get(key)?.who ?? null;
  }
}
