// Who is speaking is the server's business (issue 11): a widget cannot send as an agent
// or as another customer, a desk cannot send as another agent, customers see senders
// only as {id, type, senderName}, and every role of a conversation writes only what it
// may. Driven with the stock socket.io-client.

import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import {
  accept,
  acceptedChat,
  agentMessage,
  connect,
  customerMessage,
  freshSwitchboard,
  login,
  once,
  readyDesk,
  Recorder,
  request,
  sleep,
  startChat,
} from "./harness.mjs";

const AGENT_SECRETS = ["keycloakUser", "permittedResources", "realm", "roles"];
const CHANNEL_INTERNALS = ["routingPolicy", "channelConnector", "providerWebhook", "channelConfig"];

function assertNone(value, words, what) {
  const text = JSON.stringify(value);
  for (const word of words) assert.ok(!text.includes(word), `${what} carries ${word}: ${text}`);
}

test("a widget message naming an agent or another customer is refused; with no header it is the customer's", async (t) => {
  const sb = await freshSwitchboard(t);
  const { desk, chat } = await acceptedChat(sb, "agent1");
  const other = await startChat(sb);
  const otherId = other.socket.auth.channelCustomerIdentifier;
  const forged = [
    { sender: { id: desk.agentId, type: "AGENT" } },
    { sender: { id: other.started.channelSession.customer._id, type: "CUSTOMER" } },
    { sender: { id: otherId, type: "CUSTOMER" } },
    { channelData: { serviceIdentifier: "1122", channelCustomerIdentifier: otherId } },
  ];
  for (const header of forged) {
    const id = randomUUID();
    const ack = await request(chat.socket, "MESSAGE_RECEIVED", { id, header, body: { type: "PLAIN", markdownText: "I am someone else" } });
    assert.equal(ack.status, "error", JSON.stringify(ack));
    assert.equal(ack.code, "sender_mismatch");
    const err = await chat.events.next("ERRORS", (e) => e.code === "sender_mismatch");
    assert.equal(err.event, "MESSAGE_RECEIVED");
  }
  // Nothing of it was stored: a fresh topic read has no forged message.
  const topic = await request(desk.socket, "topicSubscription", { conversationId: chat.conversationId });
  assert.ok(!JSON.stringify(topic).includes("I am someone else"));

  // No header at all, and a header without sender.id: the session knows the customer.
  const bare = await request(chat.socket, "MESSAGE_RECEIVED", { id: randomUUID(), body: { type: "PLAIN", markdownText: "bare" } });
  assert.equal(bare.status, "ok", JSON.stringify(bare));
  const noId = await request(chat.socket, "MESSAGE_RECEIVED", {
    id: randomUUID(),
    header: { sender: { type: "CUSTOMER" } },
    body: { type: "PLAIN", markdownText: "no id" },
  });
  assert.equal(noId.status, "ok", JSON.stringify(noId));
  const seen = await desk.events.next("onCimEvent", (e) => e.seq === bare.seq);
  // Desks get the seed-004 header: the sender is the customer participant, with the session.
  const customer = topic.topicData.conversation.participants.find((p) => p.type === "CUSTOMER");
  assert.equal(seen.data.header.sender.id, customer.id);
  assert.equal(seen.data.header.sender.type, "CUSTOMER");
  assert.equal(seen.data.header.sender.participant.participantType, "ChannelSession");
  assert.equal(seen.data.header.channelSession.id, chat.started.channelSession.id);
  assert.equal(seen.data.header.channelData.channelCustomerIdentifier, chat.socket.auth.channelCustomerIdentifier);
});

test("a desk cannot speak as another agent; desks see the participant, the customer only {id, type, senderName}", async (t) => {
  const sb = await freshSwitchboard(t);
  const { desk, chat, topic } = await acceptedChat(sb, "agent1");
  const agent3 = await sb.desk("agent3");
  const forged = agentMessage(chat.conversationId, desk.agentId, "from 'agent3'");
  forged.cimEvent.data.header.sender = { id: agent3.agentId, type: "AGENT", senderName: "agent3" };
  const ack = await request(desk.socket, "publishCimEvent", forged);
  assert.equal(ack.status, "ok", JSON.stringify(ack));

  const me = topic.topicData.conversation.participants.find((p) => p.participant?.id === desk.agentId);
  const onDesk = await desk.events.next("onCimEvent", (e) => e.seq === ack.seq);
  assert.equal(onDesk.data.header.sender.id, me.id, "the conversation participant's id");
  assert.equal(onDesk.data.header.sender.type, "AGENT");
  assert.equal(onDesk.data.header.sender.role, "PRIMARY");
  assert.equal(onDesk.data.header.sender.participant.participantType, "CCUser");
  assert.equal(onDesk.data.header.sender.participant.id, desk.agentId);
  assert.equal(onDesk.data.header.sender.participant.keycloakUser.username, "agent1");
  assert.equal(onDesk.data.header.channelSession.id, chat.started.channelSession.id);

  const toCustomer = await chat.events.next("MESSAGE_RECEIVED", (m) => m.seq === ack.seq);
  assert.deepEqual(toCustomer.data.header.sender, { id: me.id, type: "AGENT", senderName: "agent1" });
  assert.equal(toCustomer.eventEmitter.id, desk.agentId);
  assert.equal(toCustomer.eventEmitter.senderName, "agent1");
  assert.ok(!JSON.stringify(toCustomer).includes(agent3.agentId));
  assertNone(toCustomer, [...AGENT_SECRETS, ...CHANNEL_INTERNALS, "channelSession"], "MESSAGE_RECEIVED");

  // A desk may leave header.sender out: the server knows who it is.
  const bare = agentMessage(chat.conversationId, desk.agentId, "no sender");
  delete bare.cimEvent.data.header.sender;
  const bareAck = await request(desk.socket, "publishCimEvent", bare);
  assert.equal(bareAck.status, "ok", JSON.stringify(bareAck));
  const bareSeen = await chat.events.next("MESSAGE_RECEIVED", (m) => m.seq === bareAck.seq);
  assert.equal(bareSeen.data.header.sender.senderName, "agent1");
});

test("what a customer receives never carries the channel's configuration", async (t) => {
  const sb = await freshSwitchboard(t);
  const chat = await startChat(sb);
  const started = await chat.events.next("CHANNEL_SESSION_STARTED");
  for (const [what, value] of [["CHAT_REQUESTED ack", chat.started], ["CHANNEL_SESSION_STARTED", started]]) {
    assertNone(value, [...CHANNEL_INTERNALS, ...AGENT_SECRETS], what);
    assert.equal(value.channelSession.channel.serviceIdentifier, "1122", what);
    assert.equal(value.channelSession.customer._id, chat.started.channelSession.customer._id, what);
  }
  await sleep(200);
  for (const m of chat.events.all("MESSAGE_RECEIVED")) assertNone(m, CHANNEL_INTERNALS, "MESSAGE_RECEIVED");
});

test("ids and names longer than 256 characters are refused and nothing is stored", async (t) => {
  const sb = await freshSwitchboard(t);
  const { desk, chat } = await acceptedChat(sb, "agent1");
  const long = "x".repeat(100_000);
  const fromWidget = await request(chat.socket, "MESSAGE_RECEIVED", customerMessage(long, "long id"));
  assert.equal(fromWidget.status, "error");
  assert.equal(fromWidget.code, "invalid_field");
  assert.match(fromWidget.message, /`id`.*256/);
  const fromDesk = agentMessage(chat.conversationId, desk.agentId, "long id");
  fromDesk.cimEvent.id = long;
  const deskAck = await request(desk.socket, "publishCimEvent", fromDesk);
  assert.equal(deskAck.status, "error");
  assert.equal(deskAck.code, "invalid_payload");
  const topic = await request(desk.socket, "topicSubscription", { conversationId: chat.conversationId });
  assert.ok(!JSON.stringify(topic).includes("long id"));
});

async function supervisorJoins(sb, chat, event) {
  const supervisor = await sb.desk("supervisor");
  const joined = await request(supervisor.socket, event, { conversationId: chat.conversationId });
  assert.equal(joined.conversationId, chat.conversationId, JSON.stringify(joined));
  const me = joined.topicData.conversation.participants.find((p) => p.participant?.id === supervisor.agentId);
  return { supervisor, me };
}

test("a silent monitor cannot write at all", async (t) => {
  const sb = await freshSwitchboard(t);
  const { desk, chat } = await acceptedChat(sb, "agent1");
  const { supervisor, me } = await supervisorJoins(sb, chat, "JoinAsSilentMonitor");
  assert.equal(me.role, "SILENT_MONITOR");
  for (const name of ["AGENT_MESSAGE", "WHISPER_MESSAGE"]) {
    const message = agentMessage(chat.conversationId, supervisor.agentId, `monitor ${name}`);
    message.cimEvent.name = name;
    const refused = await request(supervisor.socket, "publishCimEvent", message);
    assert.equal(refused.status, "error", JSON.stringify(refused));
    assert.equal(refused.code, "silent_monitor");
    const err = await supervisor.events.next("errors", (e) => e.code === "silent_monitor");
    assert.equal(err.event, "publishCimEvent");
  }
  await sleep(200);
  assert.ok(!desk.events.all("onCimEvent").some((e) => JSON.stringify(e).includes("monitor ")));
  assert.ok(!chat.events.all("MESSAGE_RECEIVED").some((e) => JSON.stringify(e).includes("monitor ")));
});

test("a whisperer's messages are WHISPER_MESSAGE to the agents only; a barge-in is seen by the customer", async (t) => {
  const sb = await freshSwitchboard(t);
  const { desk, chat } = await acceptedChat(sb, "agent1");
  const { supervisor, me } = await supervisorJoins(sb, chat, "joinAsWhisper");
  assert.equal(me.role, "WHISPER");
  // The desk composer sends AGENT_MESSAGE: it is stored and delivered as a whisper.
  const whisper = await request(
    supervisor.socket,
    "publishCimEvent",
    agentMessage(chat.conversationId, supervisor.agentId, "offer the discount"),
  );
  assert.equal(whisper.status, "ok", JSON.stringify(whisper));
  const heard = await desk.events.next("onCimEvent", (e) => e.seq === whisper.seq);
  assert.equal(heard.name, "WHISPER_MESSAGE");
  assert.equal(heard.data.header.sender.role, "WHISPER");
  const after = await request(desk.socket, "publishCimEvent", agentMessage(chat.conversationId, desk.agentId, "here you go"));
  await chat.events.next("MESSAGE_RECEIVED", (m) => m.seq === after.seq);
  assert.ok(!chat.events.all("MESSAGE_RECEIVED").some((m) => m.seq === whisper.seq), "the customer never hears a whisper");

  // Barge-in in another chat: the supervisor writes as a participant the customer sees.
  const second = await startChat(sb);
  const offer = await desk.events.next("taskRequest", (o) => o.conversationId === second.conversationId);
  await request(desk.socket, "topicSubscription", { conversationId: offer.conversationId });
  const barged = await request(supervisor.socket, "JoinAsBargin", { conversationId: second.conversationId });
  const bargeMe = barged.topicData.conversation.participants.find((p) => p.participant?.id === supervisor.agentId);
  assert.equal(bargeMe.role, "ASSISTANT");
  const said = await request(
    supervisor.socket,
    "publishCimEvent",
    agentMessage(second.conversationId, supervisor.agentId, "supervisor here"),
  );
  const seen = await second.events.next("MESSAGE_RECEIVED", (m) => m.seq === said.seq);
  assert.equal(seen.name, "AGENT_MESSAGE");
  assert.deepEqual(seen.data.header.sender, { id: bargeMe.id, type: "AGENT", senderName: "supervisor" });
});

test("the identifier is not a credential: resuming a running chat takes its session secret", async (t) => {
  const sb = await freshSwitchboard(t);
  const { desk, chat } = await acceptedChat(sb, "agent1");
  const customerId = chat.socket.auth.channelCustomerIdentifier;
  const secret = chat.started.sessionSecret;
  assert.equal(typeof secret, "string");
  const said = await request(desk.socket, "publishCimEvent", agentMessage(chat.conversationId, desk.agentId, "your code is 4711"));
  await chat.events.next("MESSAGE_RECEIVED", (m) => m.seq === said.seq);

  // Without the secret, or with a wrong one: refused at the handshake, nothing received.
  for (const auth of [{ lastSeq: 0 }, { lastSeq: 0, sessionSecret: "guess" }]) {
    const intruder = sb.track(connect(`${sb.url}/customer`, { auth: { serviceIdentifier: "1122", channelCustomerIdentifier: customerId, ...auth } }));
    const seen = new Recorder(intruder);
    const [err] = await once(intruder, "connect_error");
    assert.match(err.message, /sessionSecret/);
    assert.equal(seen.all("MESSAGE_RECEIVED").length, 0);
  }
  // With it: the history is replayed and the chat goes on.
  const back = await sb.widget(customerId, { auth: { lastSeq: 0, sessionSecret: secret } });
  const replayed = await back.events.next("MESSAGE_RECEIVED", (m) => m.seq === said.seq);
  assert.equal(replayed.data.body.markdownText, "your code is 4711");
  const ack = await request(back.socket, "MESSAGE_RECEIVED", customerMessage(randomUUID(), "thanks"));
  assert.equal(ack.conversationId, chat.conversationId);
  assert.equal(ack.sessionSecret, undefined, "the secret is issued once");
});

test("a tab that connected before the chat began gets nothing of it and cannot write into it", async (t) => {
  const sb = await freshSwitchboard(t);
  const desk = await readyDesk(sb, "agent1");
  const customerId = `c-${randomUUID()}`;
  const early = await sb.widget(customerId);
  const owner = await sb.widget(customerId);
  const started = await request(owner.socket, "CHAT_REQUESTED", {});
  assert.equal(typeof started.sessionSecret, "string", JSON.stringify(started));
  await accept(desk, started.conversationId);
  const said = await request(desk.socket, "publishCimEvent", agentMessage(started.conversationId, desk.agentId, "for the owner"));
  await owner.events.next("MESSAGE_RECEIVED", (m) => m.seq === said.seq);
  for (const [event, payload] of [
    ["MESSAGE_RECEIVED", customerMessage(randomUUID(), "let me in")],
    ["CHAT_REQUESTED", {}],
    ["CHAT_ENDED", {}],
  ]) {
    const refused = await request(early.socket, event, payload);
    assert.equal(refused.status, "error", `${event}: ${JSON.stringify(refused)}`);
    assert.equal(refused.code, "unauthorized");
  }
  await sleep(200);
  const leaked = early.events.events.filter((e) => e.event !== "ERRORS");
  assert.deepEqual(leaked.map((e) => e.event), [], "the early tab received nothing of the chat");
});

test("the conversation list names the customer from the widget form", async (t) => {
  const sb = await freshSwitchboard(t);
  const chat = await startChat(sb, {}, {
    additionalAttributes: { formData: { attributes: [{ key: "firstName", value: "Grace", type: "string" }, { key: "lastName", value: "Hopper", type: "string" }] } },
  });
  assert.equal(chat.started.channelSession.channelData.customerFirstName, "Grace");
  const token = await login(sb.url, "admin");
  const response = await fetch(`${sb.url}/api/v1/conversations`, { headers: { authorization: `Bearer ${token}` } });
  const list = await response.json();
  const items = list.items ?? list.conversations ?? list;
  const mine = items.find((c) => (c.id ?? c.conversation?.id) === chat.conversationId);
  assert.ok(mine, JSON.stringify(list).slice(0, 500));
  const customer = mine.customer ?? mine.conversation?.customer;
  assert.equal(customer.firstName, "Grace");
  assert.equal(customer.lastName, "Hopper");
});
