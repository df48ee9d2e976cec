// The "Transfer or conference" dialog of the chat header: whom (a queue, or a named
// agent picked from a list that shows each one's state), how (direct or consult) and a
// note for the other agent. It sends the seed's desk event (directTransferRequest,
// consultTransferRequest, directConferenceRequest, consultConferenceRequest) and
// stays open with the server's refusal when there is one.

import { apiGet } from "/shared/api.js";
import { openModal } from "/shared/dialog.js";
import { h } from "/shared/dom.js";

/** The desk event for each choice, and what it does in plain words. */
const REQUESTS = {
  "transfer:direct": ["directTransferRequest", "The chat moves to them when they accept; you leave it."],
  "transfer:consult": ["consultTransferRequest", "They join first so you can brief them; then you leave."],
  "conference:direct": ["directConferenceRequest", "They join the chat with the customer, beside you."],
  "conference:consult": ["consultConferenceRequest", "They join to advise you; you stay in charge."],
};

const STATE_WORDS = {
  READY: "ready",
  NOT_READY: "not ready",
  LOGIN: "signed in",
  LOGOUT: "signed out",
  UNKNOWN: "reconnecting",
};

/** "ready · 1/5 chats" for an agent of the colleague list. */
export function colleagueLabel(colleague) {
  const state = STATE_WORDS[colleague.state] ?? String(colleague.state ?? "").toLowerCase();
  const busy = (colleague.mrds ?? [])
    .filter((m) => m.maxAgentTasks > 0)
    .map((m) => `${m.mrdName} ${m.load}/${m.maxAgentTasks}`)
    .join(", ");
  return [colleague.username, state, busy].filter(Boolean).join(" · ");
}

function radio(name, value, label, checked) {
  return h(
    "label",
    { class: "check" },
    h("input", { type: "radio", name, value, checked }),
    ` ${label}`,
  );
}

/**
 * Opens the dialog for `item` (a desk Conversation). `send(event, payload)` emits the
 * desk event and resolves with its answer; resolves the dialog's promise with
 * `{kind, target}` once the server placed the request, or null when cancelled.
 */
export function openAssistDialog({ item, user, token, send }) {
  const agentSelect = h("select", { name: "agent", "aria-label": "Agent", "data-testid": "assist-agent" });
  const queueSelect = h("select", { name: "queue", "aria-label": "Queue", "data-testid": "assist-queue" });
  const note = h("textarea", { rows: 2, name: "note", placeholder: "A note for the other agent (optional)", "aria-label": "Note" });
  const explain = h("p", { class: "muted small", "data-testid": "assist-explain" });
  const error = h("p", { class: "notice bad small", role: "alert", hidden: true, "data-testid": "assist-error" });
  const submit = h("button", { class: "primary", type: "submit", text: "Send request" });
  const cancel = h("button", { type: "button", text: "Cancel" });
  const form = h(
    "form",
    { class: "stack assist" },
    h("h2", { text: `Transfer or conference · ${item.customerName()}` }),
    h(
      "fieldset",
      { class: "row" },
      h("legend", { text: "What" }),
      radio("kind", "transfer", "Transfer", true),
      radio("kind", "conference", "Conference", false),
    ),
    h(
      "fieldset",
      { class: "row" },
      h("legend", { text: "How" }),
      radio("how", "direct", "Direct", true),
      radio("how", "consult", "Consult", false),
    ),
    explain,
    h(
      "fieldset",
      { class: "stack" },
      h("legend", { text: "To" }),
      h("label", { class: "check" }, h("input", { type: "radio", name: "to", value: "agent", checked: true }), " An agent ", agentSelect),
      h("label", { class: "check" }, h("input", { type: "radio", name: "to", value: "queue" }), " A queue ", queueSelect),
    ),
    note,
    error,
    h("div", { class: "row form-actions" }, submit, cancel),
  );
  const { close, closed } = openModal({ class: "card assist-dialog", "data-testid": "assist-dialog" }, form);
  let placed = null;

  const choice = (name) => form.querySelector(`input[name=${name}]:checked`)?.value;
  const refresh = () => {
    explain.textContent = REQUESTS[`${choice("kind")}:${choice("how")}`][1];
    const toAgent = choice("to") === "agent";
    agentSelect.disabled = !toAgent;
    queueSelect.disabled = toAgent;
  };
  form.addEventListener("change", refresh);
  refresh();

  cancel.addEventListener("click", close);

  Promise.all([apiGet("/colleagues", token), apiGet("/queues?limit=200", token)])
    .then(([colleagues, queues]) => {
      const others = colleagues.filter((c) => c.id !== user.id);
      agentSelect.replaceChildren(
        ...others.map((c) =>
          h("option", { value: c.id, text: colleagueLabel(c), disabled: c.state === "LOGOUT" || !c.connected }),
        ),
      );
      const firstAvailable = others.find((c) => c.state !== "LOGOUT" && c.connected);
      if (firstAvailable) agentSelect.value = firstAvailable.id;
      queueSelect.replaceChildren(...(queues.items ?? []).map((q) => h("option", { value: q.name, text: q.name })));
    })
    .catch((err) => {
      error.textContent = `Cannot load agents and queues: ${err.message}`;
      error.hidden = false;
    });

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const [event] = REQUESTS[`${choice("kind")}:${choice("how")}`];
    const toAgent = choice("to") === "agent";
    if (toAgent ? !agentSelect.value : !queueSelect.value) {
      error.textContent = toAgent ? "Pick an agent." : "Pick a queue.";
      error.hidden = false;
      return;
    }
    const conversation = item.conversation ?? {};
    const agentParticipant = (conversation.participants ?? []).find(
      (p) => p?.type === "AGENT" && p.participant?.id === user.id && p.isActive !== false,
    );
    const payload = {
      channelSession: { ...(conversation.channelSession ?? {}), topicId: item.id, conversationId: item.id },
      agentParticipant: agentParticipant ?? null,
      mode: toAgent ? "agent" : "queue",
      queueName: toAgent ? "" : queueSelect.value,
      requestedAgentId: toAgent ? agentSelect.value : "",
      offerToAgent: true,
      note: note.value.trim(),
    };
    submit.disabled = true;
    error.hidden = true;
    try {
      await send(event, payload);
      const target = toAgent ? agentSelect.selectedOptions[0]?.text.split(" · ")[0] : `queue ${queueSelect.value}`;
      placed = { kind: choice("kind"), target };
      close();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
      submit.disabled = false;
    }
  });

  return closed.then(() => placed);
}
