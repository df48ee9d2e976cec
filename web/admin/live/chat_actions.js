// A waiting chat's actions in the Live view: move it to another queue, or offer it to
// a named agent. Each asks in a dialog with a labelled choice (the table itself is
// redrawn on every update, so a choice made in it would not survive); the server
// checks (agents of the supervisor's own teams only, admins all) and a refusal stays
// in the dialog that asked.

import { confirmAction } from "/shared/dialog.js";
import { field } from "/shared/form.js";
import { h } from "/shared/dom.js";

/** The dialog's labelled select, or a line saying there is nothing to choose. */
function choice(label, name, options, empty) {
  if (!options.length) return { node: h("p", { class: "muted", text: empty }), value: () => null };
  const wrapper = field({ name, label, type: "select", options });
  return { node: wrapper, value: () => wrapper.control.value };
}

function customer(c) {
  return c.customerName ?? "the customer";
}

/** Move `c` (waiting) to a queue the console knows, other than its own. */
export function moveChat(c, stream, say) {
  const queues = [...stream.queues.values()]
    .filter((q) => q.id !== c.queue?.id)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((q) => [q.id, `${q.name} (${q.waiting} waiting)`]);
  const pick = choice("Move to queue", "queueId", queues, "There is no other queue.");
  return confirmAction({
    title: `Move ${customer(c)}'s chat`,
    question: `The chat leaves “${c.queue?.name ?? "its queue"}” and waits in the queue you choose, from its first step.`,
    body: pick.node,
    confirmLabel: "Move chat",
    danger: false,
    run: async () => {
      const queueId = pick.value();
      if (!queueId) throw new Error("Choose a queue.");
      await stream.request("moveToQueue", { conversationId: c.id, queueId });
      say(`${customer(c)}'s chat moved to “${stream.queues.get(queueId)?.name ?? queueId}”.`);
    },
  });
}

/** Offer `c` (waiting) to one of the agents this console sees. */
export function offerChat(c, stream, say) {
  const agents = [...stream.agents.values()]
    .filter((a) => a.listed && a.state !== "LOGOUT")
    .sort((a, b) => a.username.localeCompare(b.username))
    .map((a) => [a.id, `${a.username} (${a.state.replaceAll("_", " ").toLowerCase()})`]);
  const pick = choice("Offer to agent", "agentId", agents, "No agent of your teams is signed in.");
  return confirmAction({
    title: `Offer ${customer(c)}'s chat`,
    question: "The agent gets the offer now, whatever the queue's steps say; if it declines or does not answer, the chat waits in its queue again.",
    body: pick.node,
    confirmLabel: "Offer chat",
    danger: false,
    run: async () => {
      const agentId = pick.value();
      if (!agentId) throw new Error("Choose an agent.");
      await stream.request("offerToAgent", { conversationId: c.id, agentId });
      say(`${customer(c)}'s chat offered to ${stream.agents.get(agentId)?.username ?? agentId}.`);
    },
  });
}
