// The customer widget namespace `/customer` with the stock socket.io-client: queue
// position while waiting, refused requests (ERRORS), and the customer ending the
// chat as the agent desk sees it.

import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import {
  acceptedChat,
  customerMessage,
  freshSwitchboard,
  readyDesk,
  request,
  sleep,
  startChat,
} from "./harness.mjs";

test("a waiting customer hears its QUEUE_POSITION, and the chat starts once an agent is ready", async (t) => {
  const sb = await freshSwitchboard(t);
  const chat = await startChat(sb);
  const position = await chat.events.next("QUEUE_POSITION");
  assert.equal(position.conversationId, chat.conversationId);
  assert.equal(position.position, 1);
  // Messages before any agent are stored and acknowledged.
  const early = await request(chat.socket, "MESSAGE_RECEIVED", customerMessage("early", "anyone?"));
  assert.equal(early.status, "ok");

  const desk = await readyDesk(sb, "agent1");
  const offer = await desk.events.next("taskRequest");
  assert.equal(offer.conversationId, chat.conversationId);
  const topic = await request(desk.socket, "topicSubscription", { conversationId: chat.conversationId });
  const message = topic.topicData.events.find((e) => e.data?.id === "early");
  assert.equal(message.seq, early.seq, "the early message is in the history under its seq");
});

test("refused widget requests answer with an error ack and ERRORS {code, message, event}", async (t) => {
  const sb = await freshSwitchboard(t);
  const chat = await startChat(sb);
  const cases = [
    ["MESSAGE_RECEIVED", { id: "no-body" }, "missing_field"],
    ["MESSAGE_RECEIVED", "just a string", "invalid_payload"],
    ["NO_SUCH_EVENT", {}, "unknown_event"],
  ];
  for (const [event, payload, code] of cases) {
    const ack = await request(chat.socket, event, payload);
    assert.equal(ack.status, "error", `${event}: ${JSON.stringify(ack)}`);
    assert.equal(ack.code, code);
    assert.equal(ack.event, event);
    const err = await chat.events.next("ERRORS", (e) => e.event === event && e.code === code);
    assert.equal(err.message, ack.message);
  }
  assert.equal(chat.socket.connected, true, "refusals keep the connection");
});

test("the customer ends the chat: CHANNEL_SESSION_ENDED, and the agent goes to wrap-up", async (t) => {
  const sb = await freshSwitchboard(t);
  const { desk, chat } = await acceptedChat(sb, "agent1");
  const ended = await request(chat.socket, "CHAT_ENDED", {});
  assert.equal(ended.status, "ok", JSON.stringify(ended));
  const sessionEnded = await chat.events.next("CHANNEL_SESSION_ENDED");
  assert.equal(sessionEnded.channelSessionId, ended.channelSessionId);
  assert.equal(sessionEnded.reason, "CUSTOMER");

  const seen = await desk.events.next("onCimEvent", (e) => e.name === "CHANNEL_SESSION_ENDED");
  assert.equal(seen.conversationId, chat.conversationId);
  const wrapup = await desk.events.next("wrapupTimerStarted");
  assert.equal(wrapup.conversationId, chat.conversationId);

  // A second CHAT_ENDED has no chat to end.
  const again = await request(chat.socket, "CHAT_ENDED", {});
  assert.equal(again.status, "error");
  assert.equal(again.code, "wrong_state");

  // The agent closes its wrap-up; the conversation is then closed for it.
  const closed = await request(desk.socket, "closeWrapup", {
    cimEvent: {
      id: randomUUID(),
      name: "AGENT_MESSAGE",
      type: "MESSAGE",
      timestamp: Date.now(),
      data: {
        id: randomUUID(),
        header: { timestamp: Date.now(), sender: { id: desk.agentId, type: "AGENT" } },
        body: { type: "WRAPUP", markdownText: " ", wrapups: [{ categoryName: "Sales", value: "Quote sent" }], note: "" },
      },
    },
    agentId: desk.agentId,
    conversationId: chat.conversationId,
  });
  assert.equal(closed.status, "ok", JSON.stringify(closed));
  const topicClosed = await desk.events.next("topicClosed");
  assert.equal(topicClosed.conversationId, chat.conversationId);
  await sleep(100);
  const after = await request(chat.socket, "MESSAGE_RECEIVED", customerMessage("new", "one more thing"));
  assert.notEqual(after.conversationId, chat.conversationId, "writing again starts a new conversation");
});

test("a message id is one customer's: another customer reusing it is refused and learns nothing", async (t) => {
  const sb = await freshSwitchboard(t);
  const alice = await startChat(sb);
  const bob = await startChat(sb);
  const fromAlice = await request(alice.socket, "MESSAGE_RECEIVED", customerMessage("1", "alice here"));
  assert.equal(fromAlice.conversationId, alice.conversationId);
  const fromBob = await request(bob.socket, "MESSAGE_RECEIVED", customerMessage("1", "bob here"));
  assert.equal(fromBob.status, "error", JSON.stringify(fromBob));
  assert.equal(fromBob.code, "id_in_use");
  assert.equal(fromBob.conversationId, undefined);
  assert.equal(fromBob.seq, undefined);
  // With an id of its own, bob's message is stored in bob's conversation.
  const again = await request(bob.socket, "MESSAGE_RECEIVED", customerMessage("bob-1", "bob here"));
  assert.equal(again.duplicate, false);
  assert.equal(again.conversationId, bob.conversationId);
});
