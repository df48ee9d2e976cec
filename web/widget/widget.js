// The customer chat widget's screen: the name form, the transcript (agent, bot and
// own messages with their delivery state), the queue position, the composer and the
// end of the chat. The protocol lives in chat_client.js.

import { byId, formatTime, h, keepScrolledToEnd, uuid } from "/shared/dom.js";
import { ChatClient } from "./chat_client.js";
import { TypingSender, TypingWatch, isTyping } from "/shared/typing.js";
import { acceptDrops, attachButton, attachmentNode, isAttachment } from "/shared/attachments.js";
import { fetchChannel } from "./hours.js";
import { hideClosed, showClosed } from "./leave.js";
import { clearFieldErrors, renderPrechat, showFieldError } from "./prechat.js";

const serviceIdentifier = new URLSearchParams(location.search).get("sid") || "1122";

/** Own messages by id: {node, meta, message}. */
const outgoing = new Map();
const seenSeqs = new Set();
let agentJoined = false;

/** The agent's typing (one chat at a time, so one key), and the customer's own. */
const agentTyping = new TypingWatch(() => {
  const who = agentTyping.who("chat");
  byId("typing").textContent = who ? `${who} is typing…` : "";
});
const myTyping = new TypingSender((name) => client.typing(name));

const client = new ChatClient(serviceIdentifier, {
  status: onStatus,
  started: () => {
    setStatus("Waiting for an agent…");
    showChat();
  },
  event: onEvent,
  queuePosition: ({ position, estimatedWaitMs } = {}) => {
    if (agentJoined || typeof position !== "number") return;
    const wait = typeof estimatedWaitMs === "number" && estimatedWaitMs > 0
      ? ` — about ${Math.max(1, Math.round(estimatedWaitMs / 60_000))} min`
      : "";
    showQueue(`You are number ${position} in the queue${wait}.`);
  },
  ended: (kind, payload) => {
    system(
      kind === "expired"
        ? "The chat was closed after a period of inactivity."
        : payload?.reason === "AGENT"
          ? "The agent ended the chat. Thank you for contacting us!"
          : "The chat has ended. Thank you!",
    );
    setStatus(kind === "expired" ? "Chat closed" : "Chat ended");
    finish();
    offerRating(client.lastChatId);
  },
  error: (payload) => system(payload?.message ?? "Something went wrong.", true),
});

// ---- screen -------------------------------------------------------------------

function setStatus(text) {
  byId("status").textContent = text;
}

function showQueue(text) {
  const box = byId("queue");
  box.textContent = text;
  box.hidden = !text;
}

function showChat() {
  byId("start-form").hidden = true;
  byId("chat").hidden = false;
  byId("composer").hidden = false;
  byId("ended").hidden = true;
  byId("end").hidden = false;
  byId("text").focus();
}

function finish() {
  agentTyping.clear("chat");
  myTyping.stop();
  byId("composer").hidden = true;
  byId("end").hidden = true;
  byId("ended").hidden = false;
  showQueue("");
}

/** After a chat: the 1-5 rating form, once, for the chat that just ended. */
function offerRating(conversationId) {
  const form = byId("csat");
  byId("csat-thanks").hidden = true;
  form.reset();
  form.hidden = !conversationId;
  form.dataset.conversationId = conversationId ?? "";
}

function append(node) {
  const list = byId("messages");
  keepScrolledToEnd(list, () => list.append(node));
}

function system(text, bad = false) {
  append(h("div", { class: `sys${bad ? " bad" : ""}`, text }));
}

/** A chat bubble; `body` an IMAGE/FILE body to show as its attachment. */
function bubble({ who, text, at, mine = false, bot = false, body = null }) {
  const meta = h("span", { class: "meta", text: formatTime(at) });
  const content = isAttachment(body) ? attachmentNode(body) : h("span", { class: "text", text });
  const node = h(
    "div",
    { class: `msg${mine ? " mine" : ""}${bot ? " bot" : ""}` },
    mine ? null : h("span", { class: "who", text: who }),
    content,
    meta,
  );
  return { node, meta, content };
}

function onStatus(status, detail) {
  switch (status) {
    case "connecting":
      setStatus("Connecting…");
      break;
    case "connected":
      setStatus(client.chatRunning ? (agentJoined ? "You are chatting with us" : "Waiting for an agent…") : "Connected");
      break;
    case "reconnecting":
      setStatus("Connection lost — reconnecting…");
      break;
    case "refused":
      setStatus("Chat unavailable");
      if (!byId("chat").hidden) system(`The chat service refused the connection: ${detail}`, true);
      break;
    default:
      break;
  }
}

function onEvent(event) {
  if (isTyping(event)) {
    // Live only: no seq, never replayed.
    agentTyping.apply("chat", event, event.eventEmitter?.senderName || "Agent");
    return;
  }
  if (event?.name === "AGENT_MESSAGE" || event?.name === "BOT_MESSAGE") agentTyping.clear("chat");
  if (typeof event?.seq === "number") {
    if (seenSeqs.has(event.seq)) return;
    seenSeqs.add(event.seq);
  }
  const body = event?.data?.body ?? {};
  const text = body.markdownText ?? (body.type ? `[${String(body.type).toLowerCase()}]` : "");
  const at = event.timestamp ?? event.data?.header?.timestamp;
  switch (event?.name) {
    case "CUSTOMER_MESSAGE": {
      // Our own message, replayed after a reload or sent from another tab.
      const id = event.data?.id;
      const mine = outgoing.get(id);
      if (mine) {
        markDelivered(mine);
        return;
      }
      const shown = bubble({ text, at, mine: true, body });
      shown.meta.textContent = `${formatTime(at)} · delivered`;
      append(shown.node);
      return;
    }
    case "AGENT_MESSAGE":
      agentJoined = true;
      showQueue("");
      setStatus("You are chatting with us");
      append(bubble({ who: event.eventEmitter?.senderName ?? event.data?.header?.sender?.senderName ?? "Agent", text, at, body }).node);
      return;
    case "BOT_MESSAGE":
      append(bubble({ who: "Assistant", text, at, bot: true, body }).node);
      return;
    case "AGENT_SUBSCRIBED": {
      const name = event.data?.agentParticipant?.senderName ?? "An agent";
      agentJoined = true;
      showQueue("");
      setStatus(`You are chatting with ${name}`);
      system(`${name} joined the chat`);
      return;
    }
    case "AGENT_UNSUBSCRIBED":
      system(`${event.data?.agentParticipant?.senderName ?? "The agent"} left the chat`);
      return;
    default:
      // Anything else the server lets through is not shown.
      return;
  }
}

function markDelivered(entry) {
  entry.delivered = true;
  entry.node.classList.remove("failed");
  entry.meta.textContent = `${formatTime(entry.at)} · delivered ✓`;
  entry.node.dataset.state = "delivered";
}

async function sendMessage(message, entry) {
  entry.node.dataset.state = "sending";
  try {
    await client.send(message, (attempt) => {
      if (entry.delivered) return;
      entry.meta.textContent = attempt === 1 ? `${formatTime(entry.at)} · sending…` : `${formatTime(entry.at)} · retrying (${attempt})…`;
    });
    markDelivered(entry);
  } catch (err) {
    if (entry.delivered) return;
    entry.node.classList.add("failed");
    entry.node.dataset.state = "failed";
    entry.meta.replaceChildren(
      `Not sent: ${err.message} `,
      h("button", { type: "button", class: "link", text: "Retry", onClick: () => sendMessage(message, entry) }),
    );
  }
}

// ---- actions ------------------------------------------------------------------

// The channel's pre-chat form (the default one when the channel cannot be read), or the
// leave-a-message form outside business hours.
let prechat = null;

async function loadChannel() {
  const info = await fetchChannel(serviceIdentifier);
  const saved = prechat?.values() ?? { firstName: client.name };
  prechat = renderPrechat(byId("prechat-fields"), info?.prechatForm, saved, { nameId: "name" });
  if (!info || client.chatRunning || !byId("chat").hidden) return;
  if (info.open) {
    hideClosed();
    byId("start-form").hidden = false;
    return;
  }
  showClosed(info, client, {
    onLeft: (text, _answer, when) => {
      showChat();
      byId("composer").hidden = true;
      byId("end").hidden = true;
      const shown = bubble({ text, at: Date.now(), mine: true });
      markDelivered({ ...shown, at: Date.now() });
      append(shown.node);
      setStatus(when ? `Closed — back ${when}` : "Closed");
      system(
        `Thank you, we have your message. ${when ? `We open ${when}` : "We open soon"} and reply here: come back to this page to read it.`,
      );
    },
  });
}

byId("start-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = e.currentTarget;
  if (!prechat) return;
  const name = prechat.name();
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  byId("start-error").hidden = true;
  clearFieldErrors(form);
  try {
    await client.requestChat(name, prechat.answers());
    showChat();
  } catch (err) {
    if (err.code === "closed") {
      loadChannel();
    } else if (!showFieldError(form, err.message)) {
      byId("start-error").textContent = `Cannot start the chat: ${err.message}`;
      byId("start-error").hidden = false;
    }
  } finally {
    button.disabled = false;
  }
});

byId("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const input = byId("text");
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  myTyping.stop();
  const message = client.newMessage(text);
  const at = Date.now();
  const shown = bubble({ text, at, mine: true });
  const entry = { ...shown, at, delivered: false };
  entry.node.dataset.messageId = message.id;
  outgoing.set(message.id, entry);
  append(shown.node);
  sendMessage(message, entry);
});

/** Sends a file: uploads it (its bubble says so), then sends its IMAGE/FILE body. */
async function sendFile(file) {
  const at = Date.now();
  const shown = bubble({ text: file.name, at, mine: true });
  shown.meta.textContent = `${formatTime(at)} · uploading…`;
  const entry = { ...shown, at, delivered: false };
  append(shown.node);
  let uploaded;
  try {
    uploaded = await client.upload(file);
  } catch (err) {
    entry.node.classList.add("failed");
    entry.node.dataset.state = "failed";
    entry.meta.textContent = `Not sent: ${err.message}`;
    // The reason makes the bubble taller: keep it in view.
    byId("messages").scrollTop = byId("messages").scrollHeight;
    return;
  }
  const message = { id: uuid(), body: uploaded.body };
  const content = attachmentNode(uploaded.body);
  entry.content.replaceWith(content);
  entry.content = content;
  entry.node.dataset.messageId = message.id;
  outgoing.set(message.id, entry);
  sendMessage(message, entry);
}

const [attach, attachInput] = attachButton((files) => files.forEach(sendFile));
byId("composer").prepend(attach, attachInput);
acceptDrops(byId("chat"), (files) => {
  if (!byId("composer").hidden) files.forEach(sendFile);
});

byId("text").addEventListener("input", (e) => {
  if (e.target.value.trim()) myTyping.input();
  else myTyping.stop();
});

byId("text").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    byId("composer").requestSubmit();
  }
});

byId("end").addEventListener("click", async () => {
  byId("end").disabled = true;
  try {
    await client.endChat();
  } catch (err) {
    system(`Cannot end the chat: ${err.message}`, true);
  } finally {
    byId("end").disabled = false;
  }
});

byId("csat").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = e.currentTarget;
  const rating = Number(new FormData(form).get("rating"));
  const error = byId("csat-error");
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  error.hidden = true;
  try {
    await client.rate(form.dataset.conversationId, rating, byId("csat-comment").value.trim());
    form.hidden = true;
    byId("csat-thanks").hidden = false;
  } catch (err) {
    error.textContent = err.code === "already_rated" ? "You have already rated this chat." : `Cannot send the rating: ${err.message}`;
    error.hidden = false;
  } finally {
    button.disabled = false;
  }
});

byId("again").addEventListener("click", () => {
  byId("messages").replaceChildren();
  outgoing.clear();
  seenSeqs.clear();
  agentJoined = false;
  byId("chat").hidden = true;
  byId("csat").hidden = true;
  byId("csat-thanks").hidden = true;
  byId("start-form").hidden = false;
  setStatus("We usually reply in a few minutes.");
});

// A chat still running from before a reload (or a message left) picks up where it was.
if (client.chatRunning) {
  showChat();
  system(client.name ? `Welcome back, ${client.name}.` : "Welcome back.");
  client.connect();
}
loadChannel();
byId("again").addEventListener("click", () => loadChannel());

// A handle for looking at the widget from the browser console (the UI tests use it to
// drop the connection).
window.switchboardWidget = { client };
