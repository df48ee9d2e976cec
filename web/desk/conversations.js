// The desk's conversations as data, no DOM: each one's CIM conversation, its events
// in seq order (deduplicated, so a replay after a reconnect is harmless), the last seq
// seen (sent back with topicSubscription after a reconnect), the agent's phase in it,
// and the agent's own messages still waiting for the server.

import { participantOf } from "/shared/transcript.js";

/** active: chatting; wrapup: wrap-up form due; left: agent left; closed: topic closed. */
export const PHASES = ["active", "wrapup", "left", "closed"];

export class Conversation {
  constructor(id) {
    this.id = id;
    this.conversation = null;
    this.events = [];
    this.seqs = new Set();
    this.lastSeq = 0;
    this.phase = "active";
    this.wrapupDeadline = null;
    this.pending = new Map();
    this.unread = 0;
    this.lastActivity = Date.now();
    this.note = null;
    this.submittingWrapup = false;
  }

  /** Adds an event; false when it is already known. */
  addEvent(event) {
    const seq = typeof event.seq === "number" ? event.seq : null;
    if (seq !== null ? this.seqs.has(seq) : this.events.some((e) => e.id === event.id)) {
      return false;
    }
    if (seq !== null) {
      this.seqs.add(seq);
      this.lastSeq = Math.max(this.lastSeq, seq);
    }
    const at = this.events.findIndex((e) => typeof e.seq === "number" && seq !== null && e.seq > seq);
    if (at === -1) this.events.push(event);
    else this.events.splice(at, 0, event);
    this.pending.delete(event.id);
    this.lastActivity = Date.now();
    return true;
  }

  /** The customer's name: the widget's form first name, else the CIM customer's. */
  customerName() {
    const session = this.conversation?.channelSession;
    const attributes = session?.channelData?.additionalAttributes ?? [];
    for (const attribute of Array.isArray(attributes) ? attributes : []) {
      const fields = attribute?.value?.formData?.attributes ?? [];
      const first = fields.find((f) => f?.key === "firstName" && f.value);
      if (first) return String(first.value);
    }
    return this.conversation?.customer?.firstName ?? "Customer";
  }

  /** Whether the customer is still in the chat (no CHANNEL_SESSION_ENDED/EXPIRED since it started). */
  customerPresent() {
    for (let i = this.events.length - 1; i >= 0; i -= 1) {
      const name = this.events[i]?.name;
      if (name === "CHANNEL_SESSION_ENDED" || name === "CHANNEL_SESSION_EXPIRED") return false;
      if (name === "CHANNEL_SESSION_STARTED") return true;
    }
    return this.conversation?.state !== "CLOSED";
  }

  channelName() {
    const session = this.conversation?.channelSession;
    return session?.channel?.channelType?.name ?? session?.channel?.name ?? "";
  }

  /** The latest message text, for the conversation list. */
  preview() {
    for (let i = this.events.length - 1; i >= 0; i -= 1) {
      const text = this.events[i]?.data?.body?.markdownText;
      if (this.events[i].type === "MESSAGE" && text) return text;
    }
    return "";
  }
}

/** The agent's phase from the conversation's participants. */
export function phaseOf(conversation, agentId) {
  if (!conversation) return "active";
  if (conversation.state === "CLOSED") return "closed";
  const mine = (conversation.participants ?? []).filter(
    (p) => p?.participant?.id === agentId && p.isActive !== false,
  );
  if (!mine.length) return "left";
  return mine.some((p) => p.role === "WRAP_UP") ? "wrapup" : "active";
}

export class ConversationStore {
  constructor(agentId) {
    this.agentId = agentId;
    this.items = new Map();
  }

  get(id) {
    return this.items.get(id) ?? null;
  }

  /** Open conversations first, then by latest activity. */
  list() {
    const rank = { active: 0, wrapup: 1, left: 2, closed: 3 };
    return [...this.items.values()].sort(
      (a, b) => rank[a.phase] - rank[b.phase] || b.lastActivity - a.lastActivity,
    );
  }

  /** `onTopicData {conversationId, topicData: {conversation, events}, lastSeq}`. */
  applyTopic(payload) {
    const id = payload?.conversationId;
    if (!id) return null;
    const item = this.items.get(id) ?? new Conversation(id);
    this.items.set(id, item);
    if (payload.topicData?.conversation) item.conversation = payload.topicData.conversation;
    for (const event of payload.topicData?.events ?? []) item.addEvent(event);
    if (typeof payload.lastSeq === "number") item.lastSeq = Math.max(item.lastSeq, payload.lastSeq);
    const phase = phaseOf(item.conversation, this.agentId);
    if (!(item.phase === "closed" && phase !== "closed")) item.phase = phase;
    return item;
  }

  /** `onCimEvent`: the event with its `seq`. Null when not new or not ours. */
  applyEvent(event) {
    const item = this.items.get(event?.conversationId);
    if (!item || !item.addEvent(event)) return null;
    const who = participantOf(event);
    if (who?.id === this.agentId) {
      if (event.name === "PARTICIPANT_ROLE_CHANGED") {
        item.phase = who.role === "WRAP_UP" ? "wrapup" : "active";
      } else if (event.name === "AGENT_UNSUBSCRIBED" && item.phase === "active") {
        item.phase = "left";
      }
    }
    return item;
  }

  /** `wrapupTimerStarted {duration (s), conversationId}`. */
  startWrapup(payload, now = Date.now()) {
    const item = this.items.get(payload?.conversationId);
    if (!item) return null;
    item.phase = "wrapup";
    const seconds = Number(payload.duration);
    item.wrapupDeadline = Number.isFinite(seconds) && seconds > 0 ? now + seconds * 1000 : null;
    return item;
  }

  /** `topicClosed {conversationId}`. */
  close(conversationId, note) {
    const item = this.items.get(conversationId);
    if (!item) return null;
    if (item.phase === "wrapup" && !item.submittingWrapup) item.note = "The wrap-up time ran out.";
    else if (note) item.note = note;
    item.phase = "closed";
    item.pending.clear();
    return item;
  }

  remove(conversationId) {
    this.items.delete(conversationId);
  }
}
