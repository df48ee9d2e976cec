// A conversation's events drawn as the desk draws them: how one CIM event reads (a
// chat bubble with whose and what text, a one-line system note, or nothing for
// bookkeeping events) and the element for it. The desk's chat pane, its past
// transcripts, the supervisor's monitor and the reports' transcripts all use this.

import { attachmentName, attachmentNode, isAttachment } from "/shared/attachments.js";
import { formatTime, h } from "/shared/dom.js";

/** Who a participant-carrying notification is about: `{id, username, role}`. */
export function participantOf(event) {
  const p = event?.data?.conversationParticipant ?? event?.data?.agentParticipant ?? event?.data?.participant;
  const user = p?.participant;
  if (!user) return null;
  return {
    id: user.id,
    username: user.keycloakUser?.username ?? user.username ?? user.id,
    role: p.role,
  };
}

const HIDDEN = new Set([
  "TYPING_STARTED",
  "TYPING_STOPPED",
  "TASK_STATE_CHANGED",
  "CONVERSATION_DATA_CHANGED",
  "MESSAGE_DELIVERY_NOTIFICATION",
  "FIND_AGENT",
]);

/** Text of a message body of any type. */
export function bodyText(body) {
  if (!body) return "";
  switch (body.type) {
    case "PLAIN":
      return body.markdownText ?? "";
    case "WRAPUP": {
      const codes = (body.wrapups ?? []).map((w) => `${w.categoryName}: ${w.value}`).join(", ");
      return ["Wrap-up", codes, body.note].filter(Boolean).join(" — ");
    }
    default:
      if (isAttachment(body)) return body.markdownText || `${body.type === "IMAGE" ? "Image" : "File"}: ${attachmentName(body)}`;
      return body.markdownText || `[${String(body.type ?? "message").toLowerCase()}]`;
  }
}

function senderOf(event) {
  return (
    event.eventEmitter?.senderName ??
    event.data?.header?.sender?.senderName ??
    event.data?.header?.sender?.id ??
    ""
  );
}

/** An agent's display name from `names` (id → name) when the caller knows it. */
function nameOf(names, id, fallback) {
  return (id && names?.get(id)) || fallback;
}

function senderIdOf(event) {
  return event.eventEmitter?.id ?? event.data?.header?.sender?.id;
}

function notificationText(event, customerName, names) {
  const who = participantOf(event);
  const name = nameOf(names, who?.id ?? senderIdOf(event), who?.username ?? senderOf(event));
  switch (event.name) {
    case "CONVERSATION_STARTED":
      return "Conversation started";
    case "CHANNEL_SESSION_STARTED":
      return `${customerName} started the chat`;
    case "CHANNEL_SESSION_ENDED":
      return `${customerName} left the chat`;
    case "CHANNEL_SESSION_EXPIRED":
      return `${customerName}'s chat expired (inactive)`;
    case "TASK_ENQUEUED":
      return "Waiting in the queue";
    case "AGENT_RESERVED":
      return who ? `Offered to ${nameOf(names, who.id, who.username)}` : "Offered to an agent";
    case "NO_AGENT_AVAILABLE":
      return "No agent available";
    case "AGENT_SUBSCRIBED":
      return `${name} joined`;
    case "AGENT_UNSUBSCRIBED":
      return `${name} left`;
    case "PARTICIPANT_ROLE_CHANGED":
      return who?.role === "WRAP_UP" ? `${name} is wrapping up` : `${name} is now ${String(who?.role ?? "").toLowerCase()}`;
    case "AGENT_SLA_EXPIRED":
      return "Agent response time exceeded";
    case "CUSTOMER_SLA_EXPIRED":
      return "Customer waiting time exceeded";
    default:
      return String(event.name ?? "event").toLowerCase().replaceAll("_", " ");
  }
}

/**
 * `{kind, who, text, at, attachment}`: kind is customer | mine | agent | bot | whisper |
 * system, or null when the event is not shown; `attachment` is the IMAGE/FILE body.
 * `names` (optional, a Map of user id → display name) names agents by their name rather
 * than the username the events carry.
 */
export function describe(event, { agentId, customerName, names }) {
  if (!event || HIDDEN.has(event.name)) return null;
  const at = event.timestamp ?? event.data?.header?.timestamp ?? null;
  if (event.type === "MESSAGE") {
    const shown = describeMessage(event, { agentId, customerName, names }, at);
    if (isAttachment(event.data?.body)) shown.attachment = event.data.body;
    return shown;
  }
  return { kind: "system", who: "", text: notificationText(event, customerName, names), at };
}

function describeMessage(event, { agentId, customerName, names }, at) {
  const text = bodyText(event.data?.body);
  if (event.data?.body?.type === "WRAPUP") return { kind: "system", who: "", text, at };
  switch (event.name) {
    case "CUSTOMER_MESSAGE":
      return { kind: "customer", who: customerName, text, at };
    case "BOT_MESSAGE":
      return { kind: "bot", who: "Bot", text, at };
    case "WHISPER_MESSAGE":
      return { kind: "whisper", who: `${nameOf(names, senderIdOf(event), senderOf(event))} (whisper)`, text, at };
    default: {
      const senderId = senderIdOf(event);
      return senderId === agentId
        ? { kind: "mine", who: "You", text, at }
        : { kind: "agent", who: nameOf(names, senderId, senderOf(event)), text, at };
    }
  }
}

/** One shown event: a chat bubble, or a one-line system note. */
export function bubble(shown, { seq, status, failed } = {}) {
  if (shown.kind === "system") {
    return h("div", { class: "sys", dataset: seq ? { seq } : undefined, text: shown.text });
  }
  const classes = {
    mine: "msg mine",
    customer: "msg",
    agent: "msg",
    bot: "msg bot",
    whisper: "msg whisper",
  };
  return h(
    "div",
    { class: `${classes[shown.kind] ?? "msg"}${failed ? " failed" : ""}`, dataset: seq ? { seq } : undefined },
    shown.kind === "mine" ? null : h("span", { class: "who", text: shown.who }),
    shown.attachment ? attachmentNode(shown.attachment) : h("span", { class: "text", text: shown.text }),
    h("span", { class: "meta", text: [formatTime(shown.at), status].filter(Boolean).join(" · ") }),
  );
}
