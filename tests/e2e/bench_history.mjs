// History reads (issue 15: compact storage must not make them slower). Not a test: a
// measurement, run by hand and recorded in docs/benchmarks.md.
//
//   cd tests/e2e && SWITCHBOARD_BIN=$PWD/../../target/release/switchboard node bench_history.mjs
//
// One accepted chat (agent1) gets MESSAGES customer and MESSAGES agent messages
// (with the system events, about 200 events). Then READS times each, alternated:
// the desk's `topicSubscription` of that conversation (the agent is in it, so the
// ack is the whole `onTopicData`), and `GET /api/v1/conversations/{id}/events` (the
// admin's token, one keep-alive connection). Prints the median and p90 of both.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import {
  accept,
  agentMessage,
  customerMessage,
  freshSwitchboard,
  login,
  readyDesk,
  request,
  startChat,
} from "./harness.mjs";

const MESSAGES = Number(process.env.MESSAGES ?? 96);
const READS = Number(process.env.READS ?? 300);

const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))];
const ms = (x) => x.toFixed(2);

const cleanups = [];
const t = { after: (f) => cleanups.push(f) };
try {
  const sb = await freshSwitchboard(t);
  const desk = await readyDesk(sb, "agent1");
  const chat = await startChat(sb);
  const { conversationId } = chat;
  await accept(desk, conversationId);
  for (let i = 0; i < MESSAGES; i++) {
    await request(chat.socket, "MESSAGE_RECEIVED", customerMessage(randomUUID(), `customer message ${i}`));
    await request(desk.socket, "publishCimEvent", agentMessage(conversationId, desk.agentId, `agent answer ${i}`));
  }
  const admin = await login(sb.url, "admin");
  const topic = [];
  const api = [];
  let events = 0;
  for (let i = 0; i < READS; i++) {
    let start = performance.now();
    const data = await request(desk.socket, "topicSubscription", { conversationId });
    topic.push(performance.now() - start);
    events = data.topicData.events.length;
    start = performance.now();
    const response = await fetch(`${sb.url}/api/v1/conversations/${conversationId}/events`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    const body = await response.json();
    api.push(performance.now() - start);
    assert.equal(response.status, 200);
    assert.equal(body.events.length, events);
  }
  console.log(
    `events ${events} reads ${READS}: onTopicData median ${ms(quantile(topic, 0.5))} ms p90 ${ms(quantile(topic, 0.9))} ms; ` +
      `GET events median ${ms(quantile(api, 0.5))} ms p90 ${ms(quantile(api, 0.9))} ms`,
  );
} finally {
  for (const f of cleanups.reverse()) await f();
}
