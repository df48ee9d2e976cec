// The pre-chat form and business hours from a stock socket.io-client widget
// (docs/protocol.md, "Pre-chat form and business hours", MESSAGE_LEFT): the public
// channel info, answers checked against the form, a chat refused with `closed`
// outside hours, and a left message routed to a READY desk when the admin opens the
// hours; the customer reconnects with the chat's secret and reads the reply.

import { test } from "node:test";
import assert from "node:assert/strict";
import { agentMessage, freshSwitchboard, login, readyDesk, request, sleep } from "./harness.mjs";

async function api(url, token, method, path, body) {
  const response = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}

const answers = (pairs) => ({
  additionalAttributes: { formData: { attributes: Object.entries(pairs).map(([key, value]) => ({ key, value, type: "string" })) } },
});

test("a form-checked message left outside hours reaches the desk when they open", async (t) => {
  const sb = await freshSwitchboard(t);
  const admin = await login(sb.url, "admin", "admin");
  const channel = (await api(sb.url, admin, "GET", "/channels?q=1122")).body.items[0];
  const form = { name: "required", email: "optional", fields: [{ label: "Order", key: "order", type: "text", required: true, options: [] }] };
  assert.equal((await api(sb.url, admin, "PUT", `/channels/${channel.id}/prechat-form`, form)).status, 200);
  const closed = { enabled: true, timeZone: "UTC", weekly: {}, holidays: [] };
  assert.equal((await api(sb.url, admin, "PUT", `/channels/${channel.id}/business-hours`, closed)).status, 200);

  // The public info the widget reads first.
  const info = await (await fetch(`${sb.url}/api/v1/widget/channels/1122`)).json();
  assert.equal(info.open, false);
  assert.equal(info.nextOpen, null, "never opens with no intervals");
  assert.deepEqual(info.prechatForm, form);

  const desk = await readyDesk(sb, "agent1");
  const widget = await sb.widget("left-e2e");
  const refused = await request(widget.socket, "CHAT_REQUESTED", answers({ firstName: "Kay", order: "17" }));
  assert.equal(refused.code, "closed", JSON.stringify(refused));
  const missing = await request(widget.socket, "MESSAGE_LEFT", {
    ...answers({ firstName: "Kay" }),
    message: { id: "left-1", body: { type: "PLAIN", markdownText: "Where is order 17?" } },
  });
  assert.equal(missing.code, "missing_field", JSON.stringify(missing));
  assert.match(missing.message, /formData\.order/);

  const left = await request(widget.socket, "MESSAGE_LEFT", {
    ...answers({ firstName: "Kay", email: "kay@example.org", order: "17" }),
    message: { id: "left-1", body: { type: "PLAIN", markdownText: "Where is order 17?" } },
  });
  assert.equal(left.status, "ok", JSON.stringify(left));
  assert.equal(left.open, false);
  assert.equal(typeof left.sessionSecret, "string");
  await sleep(500);
  assert.equal(desk.events.all("taskRequest").length, 0, "not offered while closed");
  widget.socket.disconnect();

  // The admin turns the hours off: the desk is offered the chat at once.
  const open = { enabled: false, timeZone: null, weekly: {}, holidays: [] };
  assert.equal((await api(sb.url, admin, "PUT", `/channels/${channel.id}/business-hours`, open)).status, 200);
  const offer = await desk.events.next("taskRequest", (o) => o.conversationId === left.conversationId);
  assert.ok(offer);
  const topic = await request(desk.socket, "topicSubscription", {
    conversationId: left.conversationId,
    topicParticipant: { type: "AGENT", role: "PRIMARY", participant: desk.presence.agent },
  });
  const texts = topic.topicData.events.filter((e) => e.name === "CUSTOMER_MESSAGE").map((e) => e.data.body.markdownText);
  assert.deepEqual(texts, ["Where is order 17?"]);
  await request(desk.socket, "publishCimEvent", agentMessage(left.conversationId, desk.agentId, "It left the warehouse today"));

  // The customer comes back with the chat's secret and reads the reply.
  const back = await sb.widget("left-e2e", { auth: { sessionSecret: left.sessionSecret, lastSeq: 0 } });
  const reply = await back.events.next("MESSAGE_RECEIVED", (e) => e.name === "AGENT_MESSAGE");
  assert.equal(reply.data.body.markdownText, "It left the warehouse today");
});
