// Typing indicators and attachments with the stock socket.io-client and fetch: typing
// is delivered live both ways without a seq and is in no history (onTopicData, the
// events API); an uploaded image goes out as an IMAGE body whose signed URL the
// customer can fetch without a token.

import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { acceptedChat, agentMessage, request } from "./harness.mjs";
import { freshSwitchboard } from "./harness.mjs";

/** A 1×1 PNG. */
const PNG = Buffer.from(
  "89504e470d0a1a0a0000000d4948445200000001000000010806000000" +
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000101ff89993d1d0000000049454e44ae426082",
  "hex",
);

function typing(name) {
  return { id: randomUUID(), body: { type: "NOTIFICATION", notificationType: name } };
}

test("typing goes both ways live, without seq, and is never stored", async (t) => {
  const sb = await freshSwitchboard(t);
  const { desk, chat } = await acceptedChat(sb, "agent1");
  const conversationId = chat.conversationId;

  const fromWidget = await request(chat.socket, "MESSAGE_RECEIVED", typing("TYPING_STARTED"));
  assert.equal(fromWidget.status, "ok", JSON.stringify(fromWidget));
  assert.equal(fromWidget.seq, undefined, "no seq: not stored");
  const atDesk = await desk.events.next("onCimEvent", (e) => e.name === "TYPING_STARTED");
  assert.equal(atDesk.seq, undefined);
  assert.equal(atDesk.eventEmitter.type, "CUSTOMER");

  const event = agentMessage(conversationId, desk.agentId, "");
  event.cimEvent.name = "TYPING_STARTED";
  event.cimEvent.type = "NOTIFICATION";
  event.cimEvent.data.body = { type: "NOTIFICATION", notificationType: "TYPING_STARTED" };
  const fromDesk = await request(desk.socket, "publishCimEvent", event);
  assert.equal(fromDesk.status, "ok", JSON.stringify(fromDesk));
  assert.equal(fromDesk.seq, undefined);
  const atWidget = await chat.events.next("MESSAGE_RECEIVED", (e) => e.name === "TYPING_STARTED");
  assert.equal(atWidget.seq, undefined);
  assert.equal(atWidget.eventEmitter.senderName, "agent1");

  // A real message after it is numbered right after the last stored event.
  const said = await request(desk.socket, "publishCimEvent", agentMessage(conversationId, desk.agentId, "hi"));
  const topic = await request(desk.socket, "topicSubscription", { conversationId, lastSeq: 0 });
  const names = topic.topicData.events.map((e) => e.name);
  assert.ok(!names.some((n) => n.startsWith("TYPING")), names.join(","));
  assert.equal(topic.lastSeq, said.seq);
  const seqs = topic.topicData.events.map((e) => e.seq);
  assert.deepEqual(seqs, seqs.map((_, i) => i + 1), "seqs without gaps");
});

test("an uploaded image is sent as an IMAGE body the customer fetches by its signed URL", async (t) => {
  const sb = await freshSwitchboard(t);
  const { desk, chat } = await acceptedChat(sb, "agent1");
  const form = new FormData();
  form.append("file", new Blob([PNG], { type: "image/png" }), "dot.png");
  const response = await fetch(`${sb.url}/api/v1/conversations/${chat.conversationId}/attachments`, {
    method: "POST",
    headers: { Authorization: `Bearer ${desk.token}` },
    body: form,
  });
  assert.equal(response.status, 201);
  const uploaded = await response.json();
  const event = agentMessage(chat.conversationId, desk.agentId, "");
  event.cimEvent.data.body = uploaded.body;
  const ack = await request(desk.socket, "publishCimEvent", event);
  assert.equal(ack.status, "ok", JSON.stringify(ack));
  const got = await chat.events.next("MESSAGE_RECEIVED", (e) => e.name === "AGENT_MESSAGE");
  assert.equal(got.data.body.type, "IMAGE");
  const url = got.data.body.attachment.mediaUrl;
  const image = await fetch(`${sb.url}${url}`);
  assert.equal(image.status, 200);
  assert.equal(image.headers.get("content-type"), "image/png");
  assert.deepEqual(Buffer.from(await image.arrayBuffer()), PNG);

  // The widget uploads with its session secret; a forbidden type is refused.
  const secretHeaders = {
    "X-Channel-Session": chat.started.channelSession.id,
    "X-Session-Secret": chat.started.sessionSecret,
  };
  const bad = new FormData();
  bad.append("file", new Blob([Buffer.from("4d5a90000300000004000000ffff0000", "hex")]), "setup.exe");
  const refused = await fetch(`${sb.url}/api/v1/conversations/${chat.conversationId}/attachments`, {
    method: "POST",
    headers: secretHeaders,
    body: bad,
  });
  assert.equal(refused.status, 415);
  assert.equal((await refused.json()).code, "forbidden_type");
});
