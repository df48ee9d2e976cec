// Routing and supervision seen from stock socket.io-client desks on the real
// `switchboard serve`: RONA -> revokeTask, a direct transfer to a named agent,
// silent monitoring by the team's supervisor, and the refusals around them.
//
// Pull mode is not covered end to end: the demo site has no PULL channel and no
// pull list, and no API creates them (only the refusal is checked here).

import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import {
  accept,
  acceptedChat,
  agentMessage,
  assertTopicFirst,
  customerMessage,
  freshSwitchboard,
  readyDesk,
  request,
  sleep,
  startChat,
} from "./harness.mjs";

/** A WRAPUP cimEvent as `closeWrapup` carries it. */
function wrapupEvent(agentId, conversationId) {
  const now = Date.now();
  return {
    id: randomUUID(),
    name: "AGENT_MESSAGE",
    type: "MESSAGE",
    timestamp: now,
    data: {
      id: randomUUID(),
      header: { timestamp: now, sender: { id: agentId, type: "AGENT" } },
      body: {
        type: "WRAPUP",
        markdownText: " ",
        wrapups: [{ categoryName: "General", value: "Information given" }],
        note: null,
      },
    },
  };
}

test("RONA: an offer left unanswered -> revokeTask, and the agent is NOT_READY with reason RONA", async (t) => {
  const sb = await freshSwitchboard(t, { SWITCHBOARD_ROUTING__ACCEPT_TIMEOUT_SECS: "1" });
  const desk = await readyDesk(sb, "agent1");
  const chat = await startChat(sb);
  const offer = await desk.events.next("taskRequest");
  assert.equal(offer.conversationId, chat.conversationId);
  const offeredAt = Date.now();

  // The desk ignores the offer. The demo queue stores its own 30 s accept timeout.
  const revoked = await desk.events.next("revokeTask", () => true, 40_000);
  const waited = Date.now() - offeredAt;
  assert.equal(revoked.taskId, offer.taskId);
  assert.equal(revoked.conversationId, chat.conversationId);
  assert.equal(revoked.reason, "RONA");
  const presence = await desk.events.next("agentPresence", (p) => p.state.reasonCode === "RONA");
  assert.equal(presence.state.name, "NOT_READY");
  assert.deepEqual(presence.taskIds, []);

  // The revoked offer can no longer be accepted.
  const late = await request(desk.socket, "topicSubscription", { conversationId: chat.conversationId });
  assert.equal(late.status, "error");
  assert.equal(late.code, "no_task");

  // routing.accept_timeout_secs (1 s here) applies to queues without their own timeout.
  assert.ok(waited < 5_000, `revokeTask after ${waited} ms`);
});

test("directTransferRequest to a named agent: placed, offered, accepted, assigned", async (t) => {
  const sb = await freshSwitchboard(t);
  const { desk: agent1, chat, topic } = await acceptedChat(sb, "agent1");
  const agent2 = await readyDesk(sb, "agent2");
  const conversation = topic.topicData.conversation;
  const agentParticipant = conversation.participants.find(
    (p) => p.type === "AGENT" && p.participant?.id === agent1.agentId,
  );
  assert.ok(agentParticipant);

  // Seed 000 shape: the request names the channel session and the requesting participant.
  const placed = await request(agent1.socket, "directTransferRequest", {
    channelSession: { ...conversation.channelSession, topicId: chat.conversationId },
    agentParticipant,
    mode: "agent",
    queueName: "",
    requestedAgentId: agent2.agentId,
    offerToAgent: true,
    note: "billing question",
  });
  assert.equal(placed.status, "placed", JSON.stringify(placed));
  const announced = await agent1.events.next("agentAssistanceRequestPlaced");
  assert.equal(announced.conversationId, chat.conversationId);
  assert.equal(announced.type, "DIRECT_TRANSFER");

  const offer = await agent2.events.next("taskRequest");
  assert.equal(offer.conversationId, chat.conversationId);
  assert.equal(offer.taskId, placed.taskId);
  assert.equal(agent1.events.all("taskRequest").length, 1, "the requester is not offered its own transfer");

  const joined = await request(agent2.socket, "topicSubscription", {
    conversationId: chat.conversationId,
    topicParticipant: { type: "AGENT", role: "PRIMARY", participant: agent2.presence.agent },
  });
  assert.equal(joined.topicData.conversation.id, chat.conversationId);
  const assigned = await agent1.events.next("agentAssignedForAssistance");
  assert.equal(assigned.conversationId, chat.conversationId);
  assert.equal(assigned.type, "DIRECT_TRANSFER");
  assert.equal(assigned.agentId, agent2.agentId);
  assert.equal(assigned.task.id, placed.taskId);
  assert.equal(assigned.task.assignedTo, agent2.agentId);
  assert.equal(assigned.task.activeMedia[0].state, "ACTIVE", "the task as accepted");
  await sleep(200);
  assertTopicFirst(agent2, chat.conversationId);

  // The transferring agent is left in wrap-up: it can no longer write to the customer.
  const wrapup = await agent1.events.next("wrapupTimerStarted");
  assert.equal(wrapup.conversationId, chat.conversationId);
  const stale = await request(
    agent1.socket,
    "publishCimEvent",
    agentMessage(chat.conversationId, agent1.agentId, "still here?"),
  );
  assert.equal(stale.status, "error", JSON.stringify(stale));

  // The customer talks to agent2 now.
  const ack = await request(chat.socket, "MESSAGE_RECEIVED", customerMessage("after-transfer", "hello?"));
  const seen = await agent2.events.next("onCimEvent", (e) => e.seq === ack.seq);
  assert.equal(seen.data.body.markdownText, "hello?");
  const reply = await request(
    agent2.socket,
    "publishCimEvent",
    agentMessage(chat.conversationId, agent2.agentId, "agent2 here"),
  );
  assert.equal(reply.status, "ok");
  await chat.events.next("MESSAGE_RECEIVED", (m) => m.seq === reply.seq);
  assert.ok(!JSON.stringify(chat.events.all("MESSAGE_RECEIVED")).includes("still here?"));

  // Once agent1 closes its wrap-up it hears nothing more of the conversation.
  const closed = await request(agent1.socket, "closeWrapup", {
    cimEvent: wrapupEvent(agent1.agentId, chat.conversationId),
    agentId: agent1.agentId,
    conversationId: chat.conversationId,
  });
  assert.equal(closed.status, "ok", JSON.stringify(closed));
  await sleep(200);
  agent1.events.clear();
  const later = await request(chat.socket, "MESSAGE_RECEIVED", customerMessage("later", "thanks"));
  await agent2.events.next("onCimEvent", (e) => e.seq === later.seq);
  await sleep(200);
  assert.deepEqual(agent1.events.all("onCimEvent").filter((e) => e.data?.id === "later"), []);
});

/** A seed-000 assistance request from `desk` on its accepted `topic`. */
function assistanceRequest(desk, topic, fields) {
  const conversation = topic.topicData.conversation;
  return {
    channelSession: { ...conversation.channelSession, topicId: conversation.id },
    agentParticipant: conversation.participants.find(
      (p) => p.type === "AGENT" && p.participant?.id === desk.agentId,
    ),
    note: "An optional string",
    ...fields,
  };
}

test("directConferenceRequest through a queue: the other agent joins as ASSISTANT and both hear the customer", async (t) => {
  const sb = await freshSwitchboard(t);
  const { desk: agent1, chat, topic } = await acceptedChat(sb, "agent1");
  const agent2 = await readyDesk(sb, "agent2");

  const placed = await request(
    agent1.socket,
    "directConferenceRequest",
    assistanceRequest(agent1, topic, { mode: "queue", queueName: "Default" }),
  );
  assert.equal(placed.status, "placed", JSON.stringify(placed));
  assert.equal(placed.type, "DIRECT_CONFERENCE");
  await agent1.events.next("agentAssistanceRequestPlaced");

  const offer = await agent2.events.next("taskRequest");
  assert.equal(offer.taskId, placed.taskId);
  const joined = await request(agent2.socket, "topicSubscription", { conversationId: chat.conversationId });
  const roles = Object.fromEntries(
    joined.topicData.conversation.participants
      .filter((p) => p.type === "AGENT")
      .map((p) => [p.participant.id, p.role]),
  );
  assert.deepEqual(roles, { [agent1.agentId]: "PRIMARY", [agent2.agentId]: "ASSISTANT" });
  const assigned = await agent1.events.next("agentAssignedForAssistance");
  assert.equal(assigned.type, "DIRECT_CONFERENCE");
  assert.equal(assigned.agentId, agent2.agentId);

  const ack = await request(chat.socket, "MESSAGE_RECEIVED", customerMessage("both", "hello both"));
  await agent1.events.next("onCimEvent", (e) => e.seq === ack.seq);
  await agent2.events.next("onCimEvent", (e) => e.seq === ack.seq);
  const fromAssistant = await request(
    agent2.socket,
    "publishCimEvent",
    agentMessage(chat.conversationId, agent2.agentId, "assistant speaking"),
  );
  assert.equal(fromAssistant.status, "ok", JSON.stringify(fromAssistant));
  await chat.events.next("MESSAGE_RECEIVED", (m) => m.seq === fromAssistant.seq);
  await agent1.events.next("onCimEvent", (e) => e.seq === fromAssistant.seq);
  assertTopicFirst(agent2, chat.conversationId);
});

test("a transfer request offers the conversation's own channel session, not the one the desk sent", async (t) => {
  const sb = await freshSwitchboard(t);
  const { desk: agent1, chat, topic } = await acceptedChat(sb, "agent1");
  const agent2 = await readyDesk(sb, "agent2");
  const conversation = topic.topicData.conversation;
  const real = conversation.channelSession ?? conversation.metadata.lastUsedChannelSession;
  const forged = structuredClone(real);
  forged.topicId = chat.conversationId;
  forged.customer = { ...forged.customer, firstName: "Mallory", lastName: "Forged" };
  forged.channel.channelConfig.routingPolicy = {
    ...forged.channel.channelConfig.routingPolicy,
    agentRequestTtl: 999_999,
  };
  const agentParticipant = conversation.participants.find(
    (p) => p.type === "AGENT" && p.participant?.id === agent1.agentId,
  );
  const placed = await request(agent1.socket, "directTransferRequest", {
    channelSession: forged,
    agentParticipant,
    mode: "agent",
    queueName: "",
    requestedAgentId: agent2.agentId,
    offerToAgent: true,
  });
  assert.equal(placed.status, "placed", JSON.stringify(placed));
  const offer = await agent2.events.next("taskRequest", (o) => o.taskId === placed.taskId);
  assert.equal(offer.channelSession.id, real.id);
  assert.doesNotMatch(JSON.stringify(offer), /Mallory|999999/);
  assert.deepEqual(offer.channelSession.customer, real.customer);
});

test("consultTransferRequest to a named agent -> agentAssignedForAssistance and consulTransferRequestSuccess", async (t) => {
  const sb = await freshSwitchboard(t);
  const { desk: agent1, chat, topic } = await acceptedChat(sb, "agent1");
  const agent2 = await readyDesk(sb, "agent2");
  const placed = await request(
    agent1.socket,
    "consultTransferRequest",
    assistanceRequest(agent1, topic, { mode: "agent", requestedAgentId: agent2.agentId, offerToAgent: true }),
  );
  assert.equal(placed.type, "CONSULT_TRANSFER", JSON.stringify(placed));
  await agent2.events.next("taskRequest", (o) => o.taskId === placed.taskId);
  const joined = await request(agent2.socket, "topicSubscription", { conversationId: chat.conversationId });
  const me = joined.topicData.conversation.participants.find((p) => p.participant?.id === agent2.agentId);
  assert.equal(me.role, "ASSISTANT", "a consulted agent joins as ASSISTANT");
  const assigned = await agent1.events.next("agentAssignedForAssistance");
  assert.equal(assigned.type, "CONSULT_TRANSFER");
  const success = await agent1.events.next("consulTransferRequestSuccess");
  assert.equal(success.conversationId, chat.conversationId);
  assert.equal(success.agentId, agent2.agentId);
  assert.equal(success.task.id, placed.taskId);
});

test("a transfer request on a conversation the agent is not in is refused", async (t) => {
  const sb = await freshSwitchboard(t);
  const { chat, topic } = await acceptedChat(sb, "agent1");
  const agent2 = await readyDesk(sb, "agent2");
  const conversation = topic.topicData.conversation;
  const refused = await request(agent2.socket, "directTransferRequest", {
    channelSession: { ...conversation.channelSession, topicId: chat.conversationId },
    agentParticipant: conversation.participants.find((p) => p.type === "AGENT"),
    mode: "agent",
    requestedAgentId: agent2.agentId,
    offerToAgent: true,
  });
  assert.equal(refused.status, "error");
  assert.equal(refused.code, "forbidden");
  const err = await agent2.events.next("errors");
  assert.equal(err.event, "directTransferRequest");
});

test("JoinAsSilentMonitor: the supervisor sees both sides, the customer sees nothing of it", async (t) => {
  const sb = await freshSwitchboard(t);
  const { desk: agent, chat, topic } = await acceptedChat(sb, "agent1");
  const supervisor = await sb.desk("supervisor");
  const before = await request(chat.socket, "MESSAGE_RECEIVED", customerMessage("early", "first"));
  await agent.events.next("onCimEvent", (e) => e.seq === before.seq);
  await sleep(100);
  const widgetSeen = chat.events.all("MESSAGE_RECEIVED").length;

  const monitored = await request(supervisor.socket, "JoinAsSilentMonitor", {
    conversationId: chat.conversationId,
    agentId: supervisor.agentId,
  });
  assert.equal(monitored.conversationId, chat.conversationId, JSON.stringify(monitored));
  const me = monitored.topicData.conversation.participants.find(
    (p) => p.participant?.id === supervisor.agentId,
  );
  assert.equal(me.role, "SILENT_MONITOR");
  assert.ok(monitored.topicData.events.some((e) => e.seq === before.seq), "the history so far");
  assert.ok(monitored.lastSeq >= topic.lastSeq);

  const fromCustomer = await request(chat.socket, "MESSAGE_RECEIVED", customerMessage("c", "is anyone there?"));
  const fromAgent = await request(
    agent.socket,
    "publishCimEvent",
    agentMessage(chat.conversationId, agent.agentId, "yes, I am"),
  );
  const saw1 = await supervisor.events.next("onCimEvent", (e) => e.seq === fromCustomer.seq);
  assert.equal(saw1.name, "CUSTOMER_MESSAGE");
  const saw2 = await supervisor.events.next("onCimEvent", (e) => e.seq === fromAgent.seq);
  assert.equal(saw2.name, "AGENT_MESSAGE");
  await chat.events.next("MESSAGE_RECEIVED", (m) => m.seq === fromAgent.seq);
  await sleep(300);
  assertTopicFirst(supervisor, chat.conversationId);

  // The widget got exactly the agent's reply since the monitor joined: nothing about the monitor.
  const newForWidget = chat.events.all("MESSAGE_RECEIVED").slice(widgetSeen);
  assert.deepEqual(newForWidget.map((m) => m.name), ["AGENT_MESSAGE"]);
  assert.ok(!JSON.stringify(chat.events.events).includes(supervisor.agentId));

  // One monitor per conversation.
  const again = await request(supervisor.socket, "JoinAsSilentMonitor", { conversationId: chat.conversationId });
  assert.equal(again.status, "error");
});

test("an agent may not monitor", async (t) => {
  const sb = await freshSwitchboard(t);
  const { chat } = await acceptedChat(sb, "agent1");
  const agent2 = await sb.desk("agent2");
  const refused = await request(agent2.socket, "JoinAsSilentMonitor", { conversationId: chat.conversationId });
  assert.equal(refused.status, "error");
  assert.equal(refused.code, "forbidden");
  const err = await agent2.events.next("errors");
  assert.deepEqual({ code: err.code, event: err.event }, { code: "forbidden", event: "JoinAsSilentMonitor" });
  await sleep(100);
  assert.equal(agent2.events.all("onTopicData").length, 0);
  assert.equal(agent2.events.all("onCimEvent").length, 0);
});

test("subscribePullModeList on a list that does not exist is refused", async (t) => {
  const sb = await freshSwitchboard(t);
  const desk = await sb.desk("agent1");
  const refused = await request(desk.socket, "subscribePullModeList", { listId: "no-such-list" });
  assert.equal(refused.status, "error");
  assert.equal(refused.code, "unknown_pull_list");
  const err = await desk.events.next("errors");
  assert.equal(err.event, "subscribePullModeList");
  assert.equal(desk.events.all("onPullModeSubscribedList").length, 0);
});

test("a second chat is offered while the first is active (capacity 5 on CHAT)", async (t) => {
  const sb = await freshSwitchboard(t);
  const { desk } = await acceptedChat(sb, "agent1");
  const second = await startChat(sb);
  const { topic } = await accept(desk, second.conversationId);
  assert.equal(topic.topicData.conversation.state, "ACTIVE");
  // Each conversation's messages reach the desk under their own conversationId.
  const ack = await request(second.socket, "MESSAGE_RECEIVED", customerMessage("two", "second chat"));
  const seen = await desk.events.next("onCimEvent", (e) => e.data?.id === "two");
  assert.equal(seen.conversationId, second.conversationId);
  assert.equal(seen.seq, ack.seq);
});
