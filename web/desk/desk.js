// The agent desk: sign-in, then one Socket.IO connection whose events feed the
// presence bar, the offers, the conversations and the notices; the agent's actions
// go back as desk events (changeAgentState, topicSubscription, publishCimEvent,
// topicUnsubscription, closeWrapup).

import { ApiError, apiGet, login, logout } from "/shared/api.js";
import { confirmAction } from "/shared/dialog.js";
import { byId, formatTime, h, uuid } from "/shared/dom.js";
import { Alerts, errorText, revokeText } from "./alerts.js";
import { openAssistDialog } from "./assist_dialog.js";
import { CannedResponses } from "./canned.js";
import { CustomerPanel } from "./customer_panel.js";
import { ChatView } from "./chat_view.js";
import { DeskConnection } from "./connection.js";
import { ConversationStore } from "./conversations.js";
import { OffersView, offerKind, tickCountdowns } from "./offers.js";
import { PresenceView } from "./presence.js";
import { installShortcuts } from "./shortcuts.js";
import { uploadAttachment } from "/shared/attachments.js";
import { TypingSender, TypingWatch, isTyping, typingBody } from "/shared/typing.js";

const SESSION_KEY = "switchboard.desk.session";
const FLASH_KEY = "switchboard.desk.flash";
const MAX_NOTICES = 8;
const TITLE = document.title;

// ---- sign-in ------------------------------------------------------------------

function savedSession() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? "null");
  } catch {
    return null;
  }
}

function showLogin(message, kind = "bad") {
  byId("desk-view").hidden = true;
  byId("agent-bar").hidden = true;
  byId("login-view").hidden = false;
  const box = byId("login-error");
  box.hidden = !message;
  box.className = `notice ${kind}`;
  box.textContent = message ?? "";
}

async function onLogin(event) {
  event.preventDefault();
  const button = event.currentTarget.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const { token, user } = await login(byId("username").value.trim(), byId("password").value);
    if (user.role === "admin") {
      await logout(token).catch(() => {});
      showLogin("Admin accounts cannot take chats; sign in as an agent or a supervisor.");
      return;
    }
    if (user.role === "supervisor") {
      // Supervisors land on the console's live wallboard, signed in there.
      sessionStorage.setItem("switchboard.admin.session", JSON.stringify({ token, user }));
      location.assign("/#/live");
      return;
    }
    const session = { token, user };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    byId("password").value = "";
    startDesk(session);
  } catch (err) {
    showLogin(err.status === 401 ? "Wrong username or password." : err.message);
  } finally {
    button.disabled = false;
  }
}

/** Ends the desk session: revokes the token and starts the page afresh. */
async function signOut(session, message, kind = "ok") {
  sessionStorage.removeItem(SESSION_KEY);
  if (message) sessionStorage.setItem(FLASH_KEY, JSON.stringify({ message, kind }));
  await logout(session.token).catch(() => {});
  location.reload();
}

// ---- the desk -----------------------------------------------------------------

function notice(text, kind = "") {
  const list = byId("notices");
  list.prepend(h("li", { class: kind }, h("span", { class: "muted small", text: formatTime(Date.now()) }), " ", text));
  while (list.children.length > MAX_NOTICES) list.lastElementChild.remove();
}

function banner(message, kind = "warn", action = null) {
  const node = byId("banner");
  if (!message) {
    node.hidden = true;
    return;
  }
  node.className = `banner notice ${kind}`;
  node.replaceChildren(h("span", { text: message }), action);
  node.hidden = false;
}

function agentMessage(conversationId, user, text) {
  const now = Date.now();
  return {
    id: uuid(),
    name: "AGENT_MESSAGE",
    type: "MESSAGE",
    timestamp: now,
    conversationId,
    data: {
      id: uuid(),
      header: { sender: { id: user.id, type: "AGENT", senderName: user.username }, timestamp: now },
      body: { type: "PLAIN", markdownText: text },
    },
  };
}

/** TYPING_STARTED / TYPING_STOPPED from this agent (delivered live, never stored). */
function typingEvent(conversationId, user, name) {
  const now = Date.now();
  return {
    id: uuid(),
    name,
    type: "NOTIFICATION",
    timestamp: now,
    conversationId,
    data: {
      id: uuid(),
      header: { sender: { id: user.id, type: "AGENT", senderName: user.username }, timestamp: now },
      body: typingBody(name),
    },
  };
}

function wrapupEvent(conversationId, user, codes, note) {
  const now = Date.now();
  return {
    id: uuid(),
    name: "AGENT_MESSAGE",
    type: "MESSAGE",
    timestamp: now,
    conversationId,
    data: {
      id: uuid(),
      header: { sender: { id: user.id, type: "AGENT", senderName: user.username }, timestamp: now },
      body: {
        type: "WRAPUP",
        wrapups: codes.map((c) => ({ categoryName: c.categoryName, value: c.value })),
        note: note || null,
      },
    },
  };
}

function startDesk(session) {
  const { user, token } = session;
  byId("login-view").hidden = true;
  byId("desk-view").hidden = false;
  byId("agent-bar").hidden = false;
  byId("agent-name").textContent = user.username;

  const store = new ConversationStore(user.id);
  const alerts = new Alerts(byId("mute"));
  const canned = new CannedResponses(token);
  canned.refresh(true);
  let connection = null;
  /** Set when a supervisor logged this desk out: what the desk then says. */
  let forcedOut = null;

  /** topicUnsubscription: the agent leaves; a customer still there is requeued. */
  async function leave(item) {
    await connection.request("topicUnsubscription", { conversationId: item.id, reason: "AGENT_LEFT" });
    if (item.phase === "active") item.phase = "left";
    chat.update(item.id);
  }

  /** Who is typing in each conversation (the customer, or a conferenced agent). */
  const typing = new TypingWatch((id) => chat.update(id));
  /** This agent's typing, per conversation. */
  const typingSenders = new Map();
  function typingSender(id) {
    if (!typingSenders.has(id)) {
      typingSenders.set(
        id,
        new TypingSender((name) =>
          connection.request("publishCimEvent", { conversationId: id, cimEvent: typingEvent(id, user, name) }),
        ),
      );
    }
    return typingSenders.get(id);
  }

  /** Publishes `event` as a pending bubble ("sending…", then "sent" or "not sent: why"). */
  async function publishPending(item, event, prepare = null) {
    const pending = { event, status: "sending", error: null };
    item.pending.set(event.id, pending);
    chat.update(item.id);
    try {
      if (prepare) await prepare();
      await connection.request("publishCimEvent", { conversationId: item.id, cimEvent: event });
      pending.status = "sent";
    } catch (err) {
      pending.error = err.message;
    }
    chat.update(item.id);
  }

  const chat = new ChatView(byId("conversations"), byId("chat"), {
    store,
    agentId: user.id,
    typingText: (id) => {
      const who = typing.who(id);
      return who ? `${who} is typing…` : null;
    },
    onSend: async (item, text) => {
      typingSender(item.id).stop();
      await publishPending(item, agentMessage(item.id, user, text));
    },
    // A file: uploaded first (shown as "uploading…"), then sent as its IMAGE/FILE body.
    onAttach: async (item, file) => {
      const event = agentMessage(item.id, user, file.name);
      await publishPending(item, event, async () => {
        const uploaded = await uploadAttachment(item.id, file, { Authorization: `Bearer ${token}` });
        event.data.body = uploaded.body;
      });
    },
    onLeave: async (item) => {
      if (item.customerPresent()) {
        // Leaving is not ending: say what happens to the customer before doing it.
        await confirmAction({
          title: "Leave this chat?",
          question: `${item.customerName()} is still in the chat. If you leave, the chat goes back to the queue for another agent. To finish it instead, use End chat.`,
          confirmLabel: "Leave, requeue the chat",
          danger: false,
          run: () => leave(item),
        });
        return;
      }
      await leave(item).catch((err) => notice(`Cannot leave: ${errorText(err)}`, "bad"));
    },
    onEnd: async (item) => {
      await confirmAction({
        title: "End this chat?",
        question: `The chat with ${item.customerName()} ends for the customer, and you go to wrap-up.`,
        confirmLabel: "End chat",
        run: () => connection.request("endChat", { conversationId: item.id }),
      });
    },
    onAssist: async (item) => {
      const placed = await openAssistDialog({
        item,
        user,
        token,
        send: (event, payload) => connection.request(event, payload),
      });
      if (placed) {
        const what = placed.kind === "transfer" ? "Transfer" : "Conference";
        notice(`${what} requested: waiting for ${placed.target} to accept.`, "ok");
      }
    },
    composerExtras: (input, item) => {
      canned.attach(input);
      input.addEventListener("input", () => {
        if (input.value.trim()) typingSender(item.id).input();
        else typingSender(item.id).stop();
      });
    },
    customerPanel: new CustomerPanel(token),
    onWrapup: async (item, codes, note) => {
      item.submittingWrapup = true;
      try {
        await connection.request("closeWrapup", {
          conversationId: item.id,
          agentId: user.id,
          cimEvent: wrapupEvent(item.id, user, codes, note),
        });
      } catch (err) {
        item.submittingWrapup = false;
        throw err;
      }
      notice(`Wrap-up saved for ${item.customerName()}.`, "ok");
      store.remove(item.id);
      chat.update(item.id);
    },
    onDismiss: (item) => {
      store.remove(item.id);
      chat.update(item.id);
    },
  });

  const offers = new OffersView(byId("offers"), {
    onAccept: async (offer) => {
      const topic = await connection.request("topicSubscription", {
        conversationId: offer.conversationId,
        topicParticipant: { type: "AGENT", role: "PRIMARY" },
      });
      store.applyTopic(topic);
      chat.select(offer.conversationId);
      updateTitle();
    },
    onReject: async (offer) => {
      await connection.request("rejectTask", { taskId: offer.taskId });
      notice("You turned the chat down; it goes to another agent.", "warn");
      updateTitle();
    },
  });

  const presence = new PresenceView({
    stateEl: byId("agent-state"),
    mrdsEl: byId("mrds"),
    readyBtn: byId("ready"),
    notReadyBtn: byId("not-ready"),
    reasonSelect: byId("reason"),
    logoutBtn: byId("logout"),
    onChange: async (state) => {
      try {
        const answer = await connection.request("changeAgentState", { action: "agentState", state });
        presence.show(answer);
        if (state.name === "LOGOUT") await signOut(session, "You are logged out.");
      } catch (err) {
        notice(`State not changed: ${errorText(err)}`, "bad");
      }
    },
  });

  function updateTitle() {
    const count = offers.offers.size;
    document.title = count ? `(${count}) New chat · ${TITLE}` : TITLE;
  }

  const handlers = {
    agentPresence: (payload) => {
      if (payload?.agent?.id !== user.id) return;
      presence.show(payload);
    },
    taskRequest: (offer) => {
      offers.add(offer);
      updateTitle();
      alerts.offer(`${offerKind(offer).title} · Switchboard`, "A chat is waiting for you to accept it.");
    },
    revokeTask: (payload) => {
      if (!offers.offers.has(payload?.taskId)) return;
      offers.remove(payload.taskId);
      updateTitle();
      notice(revokeText(payload.reason), "warn");
    },
    onTopicData: (payload) => {
      const item = store.applyTopic(payload);
      if (!item) return;
      offers.removeConversation(item.id);
      updateTitle();
      chat.update(item.id);
    },
    onCimEvent: (event) => {
      if (isTyping(event) && typeof event.seq !== "number") {
        // Ephemeral: shown under the transcript, never stored in the conversation.
        const item = store.get(event.conversationId);
        if (!item || event.eventEmitter?.id === user.id) return;
        const customer = event.eventEmitter?.type === "CUSTOMER";
        const who = customer ? item.customerName() : (event.eventEmitter?.senderName || "Another agent");
        typing.apply(item.id, event, who);
        return;
      }
      if (event?.name === "CUSTOMER_MESSAGE" || event?.name === "AGENT_MESSAGE") typing.clear(event.conversationId);
      const item = store.applyEvent(event);
      if (!item) return;
      chat.update(item.id, { newMessages: event.type === "MESSAGE" ? 1 : 0 });
      if (event.name === "CUSTOMER_MESSAGE") {
        alerts.message(`${item.customerName()} · Switchboard`, item.preview());
      }
    },
    forcedLogout: (payload) => {
      forcedOut = payload?.message ?? "A supervisor logged you out.";
      presence.setEnabled(false);
      for (const item of store.list()) {
        if (store.close(item.id, forcedOut)) chat.update(item.id);
      }
      notice(forcedOut, "bad");
      banner(forcedOut, "bad", h("button", { type: "button", text: "Sign in again", onClick: () => signOut(session, forcedOut, "warn") }));
    },
    // The other agent accepted a transfer or conference this agent asked for.
    agentAssignedForAssistance: (payload) => {
      const item = store.get(payload?.conversationId);
      const who = payload?.agentName ?? "The other agent";
      if (payload?.type === "DIRECT_TRANSFER") {
        if (item && store.close(item.id, `Transferred to ${who}.`)) chat.update(item.id);
        notice(`${who} took over the chat${item ? ` with ${item.customerName()}` : ""}.`, "ok");
      } else if (payload?.type === "CONSULT_TRANSFER") {
        notice(`${who} joined; leave the chat when you have briefed them.`, "ok");
      } else {
        notice(`${who} joined the chat${item ? ` with ${item.customerName()}` : ""}.`, "ok");
      }
    },
    topicClosed: (payload) => {
      const rerouted = payload?.reason === "REROUTED" ? "The conversation was given to another agent." : null;
      if (store.close(payload?.conversationId, rerouted)) chat.update(payload.conversationId);
    },
    topicUnsubscription: (payload) => {
      const item = store.get(payload?.conversationId);
      if (item && item.phase === "active") {
        item.phase = "left";
        chat.update(item.id);
      }
    },
    wrapupTimerStarted: (payload) => {
      if (store.startWrapup(payload)) chat.update(payload.conversationId);
    },
    // An admin changed the codes: the choices follow at once (docs/protocol.md).
    onReasonCodes: (codes) => {
      if (Array.isArray(codes)) presence.setReasons(codes);
    },
    onWrapupCodes: (codes) => {
      if (Array.isArray(codes)) chat.setWrapupCodes(codes);
    },
    errors: (payload) => {
      notice(errorText(payload), "bad");
    },
  };

  connection = new DeskConnection(token, {
    handlers,
    lastSeqs: () =>
      store
        .list()
        .filter((c) => c.phase === "active" || c.phase === "wrapup")
        .map((c) => [c.id, c.lastSeq]),
    onResubscribeFailed: (conversationId, err) => {
      if (store.close(conversationId, `Lost while disconnected: ${err.message}`)) chat.update(conversationId);
    },
    onStatus: (status, detail) => {
      const dot = byId("connection");
      dot.className = `conn ${status}`;
      dot.title = status;
      switch (status) {
        case "connecting":
          banner(null);
          break;
        case "connected":
          banner(null);
          presence.setEnabled(true);
          break;
        case "reconnecting":
          presence.setEnabled(false);
          banner("Connection lost — reconnecting…");
          break;
        case "removed":
          presence.setEnabled(false);
          banner(
            "This desk was opened in another tab or window, which now has your session.",
            "warn",
            h("button", { type: "button", text: "Use this tab", onClick: () => connection.reconnect() }),
          );
          break;
        case "closed":
          presence.setEnabled(false);
          if (forcedOut) break;
          banner(
            "Disconnected by the server.",
            "bad",
            h("button", { type: "button", text: "Reconnect", onClick: () => connection.reconnect() }),
          );
          break;
        case "refused":
          presence.setEnabled(false);
          if (/unauthori[sz]ed|expired/i.test(detail ?? "")) {
            signOut(session, "Your session has ended; please sign in again.", "warn");
          } else {
            banner(`The server refused the desk: ${detail}`, "bad",
              h("button", { type: "button", text: "Sign out", onClick: () => signOut(session) }));
          }
          break;
        default:
          break;
      }
    },
  });

  Promise.all([apiGet("/reason-codes", token), apiGet("/wrapup-codes", token), apiGet("/queues?limit=200", token)])
    .then(([reasons, wrapups, queues]) => {
      presence.setReasons(reasons);
      chat.setWrapupCodes(wrapups);
      presence.setServedMrds((queues?.items ?? []).map((q) => q.mrdId));
    })
    .catch((err) => {
      if (err instanceof ApiError && err.status === 401) {
        signOut(session, "Your session has ended; please sign in again.", "warn");
      } else {
        notice(`Cannot load reason and wrap-up codes: ${err.message}`, "bad");
      }
    });

  setInterval(() => tickCountdowns(document.body), 1000);
  installShortcuts({ offers, chat });
  // A handle for looking at the desk from the browser console (the UI tests use it to
  // drop the connection and watch the desk recover).
  window.switchboardDesk = { store, connection };
}

// ---- start --------------------------------------------------------------------

byId("login-form").addEventListener("submit", onLogin);
const flash = sessionStorage.getItem(FLASH_KEY);
sessionStorage.removeItem(FLASH_KEY);
const session = savedSession();
if (session) {
  startDesk(session);
} else {
  let message = null;
  try {
    message = flash ? JSON.parse(flash) : null;
  } catch {
    message = null;
  }
  showLogin(message?.message, message?.kind);
}
