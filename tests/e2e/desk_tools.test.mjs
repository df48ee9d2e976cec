// The desk events Switchboard adds beside the seeds (docs/protocol.md, "rejectTask,
// endChat"), the transfer offer's metadata and the colleagues list, driven by stock
// socket.io-client desks and widgets against the real `switchboard serve`.

import { test } from "node:test";
import assert from "node:assert/strict";
import { acceptedChat, freshSwitchboard, login, readyDesk, request, startChat } from "./harness.mjs";

test("rejectTask routes the offer on at once and never back; bad payloads change nothing", async (t) => {
  const sb = await freshSwitchboard(t);
  const agent3 = await readyDesk(sb, "agent3");
  const chat = await startChat(sb);
  const offer = await agent3.events.next("taskRequest", (o) => o.conversationId === chat.conversationId);

  for (const [payload, code] of [
    [{}, "invalid_payload"],
    [{ taskId: 7 }, "invalid_payload"],
    [{ taskId: null }, "invalid_payload"],
    [{ taskId: "x".repeat(300) }, "invalid_payload"],
    [{ taskId: "no-such-task" }, "unknown_task"],
  ]) {
    const refused = await request(agent3.socket, "rejectTask", payload);
    assert.equal(refused.status, "error", JSON.stringify(payload));
    assert.equal(refused.code, code, JSON.stringify(refused));
  }
  // Another agent cannot reject an offer that is not its own.
  const agent2 = await readyDesk(sb, "agent2");
  const foreign = await request(agent2.socket, "rejectTask", { taskId: offer.taskId });
  assert.equal(foreign.code, "not_reserved_to_agent", JSON.stringify(foreign));

  const rejected = await request(agent3.socket, "rejectTask", { taskId: offer.taskId });
  assert.deepEqual(rejected, { taskId: offer.taskId, status: "rejected" });
  // agent2 was READY all along: it gets the task now, long before the accept timeout.
  const next = await agent2.events.next("taskRequest", (o) => o.conversationId === chat.conversationId, 3_000);
  assert.equal(next.taskId, offer.taskId);
  assert.equal(
    agent3.events.all("taskRequest").filter((o) => o.conversationId === chat.conversationId).length,
    1,
    "not offered back to the agent that rejected it",
  );
  const again = await request(agent3.socket, "rejectTask", { taskId: offer.taskId });
  assert.equal(again.code, "not_reserved_to_agent", "an offer can be rejected once");
});

test("endChat ends the chat for the customer with reason AGENT; others cannot", async (t) => {
  const sb = await freshSwitchboard(t);
  const { desk, chat } = await acceptedChat(sb, "agent1");
  const other = await readyDesk(sb, "agent2");

  const outsider = await request(other.socket, "endChat", { conversationId: chat.conversationId });
  assert.equal(outsider.code, "forbidden", JSON.stringify(outsider));
  for (const payload of [{}, { conversationId: 12 }, { conversationId: "" }]) {
    const refused = await request(desk.socket, "endChat", payload);
    assert.equal(refused.code, "invalid_payload", JSON.stringify(payload));
  }

  const ended = await request(desk.socket, "endChat", { conversationId: chat.conversationId });
  assert.deepEqual(ended, { conversationId: chat.conversationId, status: "ended" });
  const told = await chat.events.next("CHANNEL_SESSION_ENDED");
  assert.equal(told.reason, "AGENT");
  const wrapup = await desk.events.next("wrapupTimerStarted", (w) => w.conversationId === chat.conversationId);
  assert.ok(wrapup);
  const twice = await request(desk.socket, "endChat", { conversationId: chat.conversationId });
  assert.equal(twice.status, "error", "a chat ends once");
});

test("a transfer's offer names who asked and carries the note; agents read their colleagues", async (t) => {
  const sb = await freshSwitchboard(t);
  const { desk: agent1, chat, topic } = await acceptedChat(sb, "agent1");
  const agent2 = await readyDesk(sb, "agent2");

  const token = await login(sb.url, "agent1");
  const response = await fetch(`${sb.url}/api/v1/colleagues`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200);
  const colleagues = await response.json();
  const two = colleagues.find((c) => c.username === "agent2");
  assert.equal(two.state, "READY");
  assert.equal(two.connected, true);
  assert.ok(two.mrds.some((m) => m.mrdName === "CHAT" && m.state === "READY"), JSON.stringify(two));
  assert.equal((await fetch(`${sb.url}/api/v1/colleagues`)).status, 401);

  const conversation = topic.topicData.conversation;
  await request(agent1.socket, "directTransferRequest", {
    channelSession: { ...conversation.channelSession, topicId: chat.conversationId },
    agentParticipant: conversation.participants.find((p) => p.participant?.id === agent1.agentId),
    mode: "agent",
    queueName: "",
    requestedAgentId: two.id,
    offerToAgent: true,
    note: "VIP customer",
  });
  const offer = await agent2.events.next("taskRequest", (o) => o.conversationId === chat.conversationId);
  const metadata = offer.task.activeMedia[0].type.metadata;
  assert.equal(metadata.requestType, "DIRECT_TRANSFER");
  assert.equal(metadata.requestedByName, "agent1");
  assert.equal(metadata.note, "VIP customer");

  await request(agent2.socket, "topicSubscription", { conversationId: chat.conversationId });
  const assigned = await agent1.events.next("agentAssignedForAssistance");
  assert.equal(assigned.agentName, "agent2");
});

test("customer history: only who may see the conversation, only that customer's chats", async (t) => {
  const sb = await freshSwitchboard(t);
  const first = await acceptedChat(sb, "agent1");
  // agent1 takes no more chats: the second customer's goes to agent2.
  await request(first.desk.socket, "changeAgentState", { action: "agentState", state: { name: "NOT_READY" } });
  const { chat: other } = await acceptedChat(sb, "agent2");

  const get = async (user, path) => {
    const headers = user ? { authorization: `Bearer ${await login(sb.url, user)}` } : {};
    return fetch(`${sb.url}/api/v1${path}`, { headers });
  };
  const mine = await get("agent1", `/conversations/${first.chat.conversationId}/customer-history`);
  assert.equal(mine.status, 200);
  assert.deepEqual(await mine.json(), [], "a first conversation has no history");
  // Another agent's conversation is not there at all; nor is another customer's chat.
  assert.equal((await get("agent2", `/conversations/${first.chat.conversationId}/customer-history`)).status, 404);
  assert.equal(
    (await get("agent1", `/conversations/${first.chat.conversationId}/customer-history/${other.conversationId}/events`)).status,
    404,
  );
  assert.equal((await get(null, `/conversations/${first.chat.conversationId}/customer-history`)).status, 401);
  assert.equal((await get("agent1", `/conversations/${first.chat.conversationId}/customer-history?limit=0`)).status, 400);
  assert.equal((await get("agent1", `/conversations/${first.chat.conversationId}/customer-history?limit=x&y=1`)).status, 400);
});
