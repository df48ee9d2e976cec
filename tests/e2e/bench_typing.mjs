// Typing flood (issue 17: a client sending 1,000 typing events a second does not hurt
// the others). Not a test: a measurement, run by hand and recorded in
// docs/benchmarks.md.
//
//   cd tests/e2e && SWITCHBOARD_BIN=$PWD/../../target/debug/switchboard node bench_typing.mjs
//
// Two accepted chats (agent1 and agent2). The customer of chat B sends MESSAGES
// messages one after another; each is timed from the emit to its onCimEvent at
// agent2's desk. Once quietly, once while the customer of chat A floods
// TYPING_STARTED at about 1,000 a second (unacknowledged emits, as a misbehaving
// client would). Prints the median and p99 of both and how many typing events the
// flooder sent and agent1's desk received.

import { randomUUID } from "node:crypto";
import { accept, freshSwitchboard, readyDesk, request, startChat } from "./harness.mjs";

const MESSAGES = Number(process.env.MESSAGES ?? 300);
const FLOOD_PER_MS = Number(process.env.FLOOD_PER_MS ?? 2);

const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))];

/** Round trips (ms) of `n` messages from `chat` to `desk`. */
async function roundTrips(chat, desk, n, tag) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const id = `${tag}-${i}-${randomUUID()}`;
    const seen = desk.events.next("onCimEvent", (e) => e.data?.id === id, 10_000);
    const start = performance.now();
    chat.socket.emit("MESSAGE_RECEIVED", { id, body: { type: "PLAIN", markdownText: `m ${i}` } });
    await seen;
    times.push(performance.now() - start);
    desk.events.clear();
  }
  return times;
}

const cleanups = [];
const t = { after: (f) => cleanups.push(f) };
try {
  const sb = await freshSwitchboard(t);
  const deskA = await readyDesk(sb, "agent1");
  const chatA = await startChat(sb);
  await accept(deskA, chatA.conversationId);
  await request(deskA.socket, "changeAgentState", { agentId: deskA.agentId, action: "agentState", state: { name: "NOT_READY" } });
  const deskB = await readyDesk(sb, "agent2");
  const chatB = await startChat(sb);
  await accept(deskB, chatB.conversationId);

  await roundTrips(chatB, deskB, 30, "warm");
  const quiet = await roundTrips(chatB, deskB, MESSAGES, "quiet");

  let sent = 0;
  let received = 0;
  deskA.socket.on("onCimEvent", (e) => {
    if (e.name === "TYPING_STARTED") received++;
  });
  const flood = setInterval(() => {
    for (let i = 0; i < FLOOD_PER_MS; i++) {
      chatA.socket.emit("MESSAGE_RECEIVED", { id: randomUUID(), body: { type: "NOTIFICATION", notificationType: "TYPING_STARTED" } });
      sent++;
    }
  }, 1);
  const floodStart = performance.now();
  const flooded = await roundTrips(chatB, deskB, MESSAGES, "flood");
  clearInterval(flood);
  const seconds = (performance.now() - floodStart) / 1000;
  const ms = (x) => `${x.toFixed(1)} ms`;
  console.log(`quiet:   median ${ms(quantile(quiet, 0.5))}, p99 ${ms(quantile(quiet, 0.99))} (${MESSAGES} messages)`);
  console.log(`flooded: median ${ms(quantile(flooded, 0.5))}, p99 ${ms(quantile(flooded, 0.99))} (${MESSAGES} messages)`);
  console.log(`flooder sent ${sent} TYPING_STARTED in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)}/s); agent1's desk received ${received}`);
} finally {
  for (const f of cleanups.reverse()) await f();
}
