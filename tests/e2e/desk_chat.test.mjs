// One chat between a stock socket.io-client widget (`/customer`) and a stock
// socket.io-client agent desk (`/`) on the real `switchboard serve`: the offer,
// accepting it, messages both ways, a refused foreign publish, a dropped desk that
// resubscribes with `lastSeq`, and leaving with wrap-up.

import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import {
  acceptedChat,
  agentMessage,
  assertTopicFirst,
  connect,
  connected,
  customerMessage,
  freshSwitchboard,
  once,
  readyDesk,
  request,
  sleep,
  startChat,
} from "./harness.mjs";

function seqsOf(events) {
  return events.map((e) => e.seq);
}

function assertContiguous(seqs, from) {
  seqs.forEach((seq, i) => assert.equal(seq, from + i, `seqs ${seqs} are contiguous from ${from}`));
}

test("a widget's CHAT_REQUESTED -> taskRequest -> topicSubscription -> onTopicData", async (t) => {
  const sb = await freshSwitchboard(t);
  const desk = await readyDesk(sb, "agent1");
  const chat = await startChat(sb);
  assert.equal(chat.started.channelSession.channel.serviceIdentifier, "1122");
  assert.equal(typeof chat.started.lastSeq, "number");
  const startedEvent = await chat.events.next("CHANNEL_SESSION_STARTED");
  assert.equal(startedEvent.conversationId, chat.conversationId);

  const offer = await desk.events.next("taskRequest");
  assert.equal(offer.conversationId, chat.conversationId);
  assert.equal(offer.task.activeMedia[0].state, "RESERVED");
  assert.equal(offer.task.activeMedia[0].queue.name, "Default");
  assert.equal(offer.channelSession.channel.serviceIdentifier, "1122");
  assert.ok(offer.acceptDeadline > Date.now() - 60_000);

  const topic = await request(desk.socket, "topicSubscription", {
    conversationId: chat.conversationId,
    topicParticipant: { type: "AGENT", role: "PRIMARY", participant: desk.presence.agent },
  });
  const pushed = await desk.events.next("onTopicData");
  assert.deepEqual(pushed, topic, "the ack and the onTopicData event carry the same topic");
  assert.equal(topic.conversationId, chat.conversationId);
  const conversation = topic.topicData.conversation;
  assert.equal(conversation.id, chat.conversationId);
  assert.equal(conversation.state, "ACTIVE");
  const me = conversation.participants.find(
    (p) => p.type === "AGENT" && p.participant?.id === desk.agentId,
  );
  assert.ok(me, "the agent is a participant");
  assert.equal(me.role, "PRIMARY");
  const history = topic.topicData.events;
  assert.ok(history.length > 0);
  assertContiguous(seqsOf(history), 1);
  assert.equal(topic.lastSeq, history.at(-1).seq);
  assert.ok(history.some((e) => e.name === "AGENT_SUBSCRIBED"), "accepting published AGENT_SUBSCRIBED");
  assert.ok(history.every((e) => e.conversationId === chat.conversationId));

  // Accepting publishes AGENT_SUBSCRIBED: the desk gets it once, inside onTopicData,
  // and no event of the conversation before it.
  const subscribed = history.find((e) => e.name === "AGENT_SUBSCRIBED");
  await sleep(300);
  const arrival = desk.events.events.map((e) => e.event);
  const early = arrival.slice(0, arrival.indexOf("onTopicData")).filter((e) => e === "onCimEvent");
  assert.deepEqual(early, [], `no onCimEvent before onTopicData (got ${arrival})`);
  const live = seqsOf(desk.events.all("onCimEvent"));
  assert.ok(!live.includes(subscribed.seq), `seq ${subscribed.seq} came twice (onTopicData and onCimEvent ${live})`);

  const presence = await desk.events.next("agentPresence", (p) => p.taskIds.length === 1);
  assert.equal(presence.agentMrdStates.find((m) => m.mrd.name === "CHAT").activeTasks, 1);
});

test("messages both ways: widget MESSAGE_RECEIVED -> onCimEvent, publishCimEvent -> widget MESSAGE_RECEIVED", async (t) => {
  const sb = await freshSwitchboard(t);
  const { desk, chat, topic } = await acceptedChat(sb);

  const ack = await request(chat.socket, "MESSAGE_RECEIVED", customerMessage("m-1", "Where is my order?"));
  assert.equal(ack.status, "ok", JSON.stringify(ack));
  assert.equal(ack.messageId, "m-1");
  assert.equal(ack.conversationId, chat.conversationId);
  assert.equal(ack.duplicate, false);
  assert.equal(ack.seq, topic.lastSeq + 1);
  const seen = await desk.events.next("onCimEvent", (e) => e.name === "CUSTOMER_MESSAGE");
  assert.equal(seen.seq, ack.seq);
  assert.equal(seen.type, "MESSAGE");
  assert.equal(seen.conversationId, chat.conversationId);
  assert.equal(seen.data.id, "m-1");
  assert.equal(seen.data.header.sender.type, "CUSTOMER");
  assert.deepEqual(seen.data.body, { type: "PLAIN", markdownText: "Where is my order?" });

  // A retried message id is stored once and acknowledged again.
  const again = await request(chat.socket, "MESSAGE_RECEIVED", customerMessage("m-1", "Where is my order?"));
  assert.equal(again.duplicate, true);
  assert.equal(again.seq, ack.seq);

  const reply = agentMessage(chat.conversationId, desk.agentId, "It ships today");
  const published = await request(desk.socket, "publishCimEvent", reply);
  assert.equal(published.status, "ok", JSON.stringify(published));
  assert.equal(published.seq, ack.seq + 1);
  const received = await chat.events.next("MESSAGE_RECEIVED", (m) => m.name === "AGENT_MESSAGE");
  assert.equal(received.id, reply.cimEvent.id);
  assert.equal(received.seq, published.seq);
  assert.equal(received.data.body.markdownText, "It ships today");
  assert.equal(received.data.header.sender.type, "AGENT");
  // The agent's own message reaches its desk in order as well.
  const echoed = await desk.events.next("onCimEvent", (e) => e.name === "AGENT_MESSAGE");
  assert.equal(echoed.seq, published.seq);

  // Every onCimEvent so far came in order, once each.
  const seqs = seqsOf(desk.events.all("onCimEvent"));
  assert.deepEqual(seqs, [...new Set(seqs)].sort((a, b) => a - b));
  assert.equal(chat.events.all("MESSAGE_RECEIVED").filter((m) => m.name === "CUSTOMER_MESSAGE").length, 0,
    "the customer does not get its own messages back");
});

test("publishCimEvent on another agent's conversation gets errors and delivers nothing", async (t) => {
  const sb = await freshSwitchboard(t);
  const { desk, chat } = await acceptedChat(sb, "agent1");
  const intruder = await readyDesk(sb, "agent2");

  const refused = await request(
    intruder.socket,
    "publishCimEvent",
    agentMessage(chat.conversationId, intruder.agentId, "sneaky"),
  );
  assert.equal(refused.status, "error", JSON.stringify(refused));
  assert.equal(refused.event, "publishCimEvent");
  assert.match(refused.message, /not a participant/);
  assert.equal(refused.code, "not_a_participant", JSON.stringify(refused));
  const err = await intruder.events.next("errors");
  assert.deepEqual(
    { code: err.code, event: err.event },
    { code: refused.code, event: "publishCimEvent" },
  );
  assert.equal(typeof err.message, "string");

  // Nor may it subscribe to (and so read) that conversation.
  const peek = await request(intruder.socket, "topicSubscription", { conversationId: chat.conversationId });
  assert.equal(peek.status, "error");
  assert.equal(peek.code, "no_task");

  // A message after the refusal is the next in sequence: the refusal stored nothing.
  const ack = await request(chat.socket, "MESSAGE_RECEIVED", customerMessage("after", "hello?"));
  const next = await desk.events.next("onCimEvent", (e) => e.data?.id === "after");
  assert.equal(next.seq, ack.seq);
  await sleep(200);
  const everything = [
    ...desk.events.all("onCimEvent"),
    ...chat.events.all("MESSAGE_RECEIVED"),
    ...intruder.events.all("onCimEvent"),
  ];
  assert.ok(!JSON.stringify(everything).includes("sneaky"), "the refused message reached nobody");
  assert.equal(intruder.events.all("onCimEvent").length, 0);
  const seqs = seqsOf(desk.events.all("onCimEvent"));
  assertContiguous(seqs, seqs[0]);
});

test("a dropped desk reconnects and resubscribes with lastSeq: exactly the missed events, then live ones once", async (t) => {
  const sb = await freshSwitchboard(t);
  const { desk, chat, topic } = await acceptedChat(sb);
  const first = await request(chat.socket, "MESSAGE_RECEIVED", customerMessage("before", "one"));
  await desk.events.next("onCimEvent", (e) => e.seq === first.seq);
  const lastSeen = Math.max(topic.lastSeq, ...seqsOf(desk.events.all("onCimEvent")));
  assert.equal(lastSeen, first.seq);

  desk.socket.disconnect();
  const missed = [];
  for (const n of [1, 2, 3]) {
    const ack = await request(chat.socket, "MESSAGE_RECEIVED", customerMessage(`missed-${n}`, `while away ${n}`));
    assert.equal(ack.status, "ok");
    missed.push(ack.seq);
  }
  assertContiguous(missed, lastSeen + 1);

  desk.events.clear();
  desk.socket.connect();
  await connected(desk.socket);
  const greeting = await desk.events.next("agentPresence");
  assert.equal(greeting.agent.id, desk.agentId);
  assert.ok(greeting.taskIds.length >= 1, "the task survived the drop");

  const resubscribed = await request(desk.socket, "topicSubscription", {
    conversationId: chat.conversationId,
    lastSeq: lastSeen,
  });
  assert.equal(resubscribed.status, undefined, JSON.stringify(resubscribed));
  const replay = resubscribed.topicData.events;
  assert.deepEqual(seqsOf(replay), missed, "exactly the missed events, in order, once each");
  assert.deepEqual(
    replay.map((e) => e.data.body.markdownText),
    ["while away 1", "while away 2", "while away 3"],
  );
  assert.equal(resubscribed.lastSeq, missed.at(-1));
  const pushed = await desk.events.next("onTopicData", (d) => d.topicData.events[0]?.seq === missed[0]);
  assert.deepEqual(seqsOf(pushed.topicData.events), missed);
  assert.equal(desk.events.all("onCimEvent").length, 0, "nothing missed arrives twice as onCimEvent");

  const live = await request(chat.socket, "MESSAGE_RECEIVED", customerMessage("live", "back again"));
  assert.equal(live.seq, missed.at(-1) + 1);
  const seen = await desk.events.next("onCimEvent", (e) => e.seq === live.seq);
  assert.equal(seen.data.body.markdownText, "back again");
  await sleep(300);
  assert.deepEqual(seqsOf(desk.events.all("onCimEvent")), [live.seq], "the live message arrives once");
});

test("reconnecting while the customer keeps writing: replay and live events join without gap or repeat", async (t) => {
  const sb = await freshSwitchboard(t);
  const { desk, chat } = await acceptedChat(sb);
  const first = await request(chat.socket, "MESSAGE_RECEIVED", customerMessage("w-0", "start"));
  await desk.events.next("onCimEvent", (e) => e.seq === first.seq);

  // The customer writes every few milliseconds throughout.
  let writing = true;
  let last = first.seq;
  const writer = (async () => {
    for (let n = 1; writing; n++) {
      const ack = await request(chat.socket, "MESSAGE_RECEIVED", customerMessage(`w-${n}`, `message ${n}`));
      last = ack.seq;
      await sleep(5);
    }
  })();

  await sleep(50);
  desk.socket.disconnect();
  const lastSeen = Math.max(...seqsOf(desk.events.all("onCimEvent")));
  await sleep(100);
  desk.events.clear();
  desk.socket.connect();
  await connected(desk.socket);
  const reply = await request(desk.socket, "topicSubscription", {
    conversationId: chat.conversationId,
    lastSeq: lastSeen,
  });
  await sleep(100);
  writing = false;
  await writer;
  await desk.events.next("onCimEvent", (e) => e.seq === last);
  await sleep(200);

  // The greeting's onTopicData came before any live event of the conversation.
  assertTopicFirst(desk, chat.conversationId);
  const replayed = seqsOf(reply.topicData.events);
  assertContiguous(replayed, lastSeen + 1);
  assert.ok(replayed.length > 0);
  assert.equal(reply.lastSeq, replayed.at(-1));
  // Live events after the reply continue exactly where it ended.
  const arrivals = desk.events.events;
  const replyAt = arrivals.findIndex(
    (e) => e.event === "onTopicData" && e.args[0].topicData.events[0]?.seq === lastSeen + 1,
  );
  assert.ok(replyAt > 0, "the resubscription's onTopicData was pushed too");
  const after = arrivals
    .slice(replyAt + 1)
    .filter((e) => e.event === "onCimEvent")
    .map((e) => e.args[0].seq);
  assertContiguous(after, reply.lastSeq + 1);
  assert.equal([...replayed, ...after].at(-1), last, "up to the customer's last message");
});

test("topicUnsubscription -> success and wrapupTimerStarted; closeWrapup (seed 004 shape) ok", async (t) => {
  const sb = await freshSwitchboard(t);
  const { desk, chat, offer } = await acceptedChat(sb);
  await request(chat.socket, "MESSAGE_RECEIVED", customerMessage("m", "thanks, bye"));

  const left = await request(desk.socket, "topicUnsubscription", {
    conversationId: chat.conversationId,
    agentId: desk.agentId,
    reason: "AGENT_LEFT",
  });
  assert.equal(left.status, "success", JSON.stringify(left));
  const event = await desk.events.next("topicUnsubscription");
  assert.deepEqual(event, left);
  const wrapup = await desk.events.next("wrapupTimerStarted");
  assert.equal(wrapup.conversationId, chat.conversationId);
  assert.equal(wrapup.task.id, offer.task.id);
  assert.equal(typeof wrapup.duration, "number");
  assert.ok("roomInfo" in wrapup);

  // Seed 004: the WrapUp is sent as a cimEvent with the agent's header.
  const now = Date.now();
  const closed = await request(desk.socket, "closeWrapup", {
    cimEvent: {
      id: randomUUID(),
      name: "AGENT_MESSAGE",
      type: "MESSAGE",
      timestamp: now,
      data: {
        id: randomUUID(),
        header: {
          timestamp: now,
          sender: {
            id: randomUUID(),
            type: "AGENT",
            participant: desk.presence.agent,
            role: "PRIMARY",
            state: "SUBSCRIBED",
            topicId: chat.conversationId,
          },
          channelSession: chat.started.channelSession,
        },
        body: {
          type: "WRAPUP",
          markdownText: " ",
          wrapups: [{ categoryName: "Support", value: "Issue resolved" }],
          note: "customer happy",
        },
      },
    },
    agentId: desk.agentId,
    conversationId: chat.conversationId,
    roomInfo: { id: chat.conversationId, mode: "CONTACT_CENTER" },
  });
  assert.equal(closed.status, "ok", JSON.stringify(closed));
  assert.equal(closed.conversationId, chat.conversationId);
  await desk.events.next(
    "agentPresence",
    (p) => p.taskIds.length === 0 && p.agentMrdStates.every((m) => m.activeTasks === 0),
  );

  // Someone else's wrap-up is refused.
  const foreign = await request(desk.socket, "closeWrapup", {
    cimEvent: { id: randomUUID(), name: "AGENT_MESSAGE", type: "MESSAGE", timestamp: now, data: {} },
    agentId: "someone-else",
    conversationId: chat.conversationId,
  });
  assert.equal(foreign.status, "error");
});

test("widget reconnecting with lastSeq gets what it missed", async (t) => {
  const sb = await freshSwitchboard(t);
  const { desk, chat } = await acceptedChat(sb);
  const first = await request(desk.socket, "publishCimEvent", agentMessage(chat.conversationId, desk.agentId, "hi"));
  await chat.events.next("MESSAGE_RECEIVED", (m) => m.seq === first.seq);
  const customerId = chat.socket.auth.channelCustomerIdentifier;
  chat.socket.disconnect();
  const second = await request(desk.socket, "publishCimEvent", agentMessage(chat.conversationId, desk.agentId, "still there?"));
  // Resuming a running chat takes the secret its CHAT_REQUESTED answered.
  const back = await sb.widget(customerId, { auth: { lastSeq: first.seq, sessionSecret: chat.started.sessionSecret } });
  const missed = await back.events.next("MESSAGE_RECEIVED", (m) => m.seq === second.seq);
  assert.equal(missed.data.body.markdownText, "still there?");
  const ack = await request(back.socket, "MESSAGE_RECEIVED", customerMessage("back", "yes"));
  assert.equal(ack.conversationId, chat.conversationId, "the reconnected widget rejoins its chat");
  await desk.events.next("onCimEvent", (e) => e.seq === ack.seq);
  await sleep(200);
  assert.ok(
    back.events.all("MESSAGE_RECEIVED").every((m) => m.seq > first.seq),
    "nothing before lastSeq is replayed",
  );
});

test("a widget that is not of a known channel gets connect_error", async (t) => {
  const sb = await freshSwitchboard(t);
  const widget = sb.track(
    connect(`${sb.url}/customer`, {
      auth: { serviceIdentifier: "no-such-channel", channelCustomerIdentifier: "c-1" },
    }),
  );
  const [err] = await once(widget, "connect_error");
  assert.match(err.message, /serviceIdentifier/);
});
