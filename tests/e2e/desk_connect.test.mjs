// Agent desks on the real `switchboard serve` with the stock npm socket.io-client:
// both transports, token authentication, agentPresence on state changes (to the
// agent and to its supervisor), one session per agent, and bad frames that close
// only their own connection.
//
// Run: cargo build && cd tests/e2e && npm ci && node --test --test-concurrency=1
// (SWITCHBOARD_BIN overrides the binary; CARGO_TARGET_DIR is honoured.)

import { test } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import {
  Recorder,
  connect,
  connected,
  freshSwitchboard,
  login,
  once,
  request,
  sleep,
} from "./harness.mjs";

const MiB = 1024 * 1024;

test("desk connects with default options: polling, then upgrade to WebSocket", async (t) => {
  const sb = await freshSwitchboard(t);
  const token = await login(sb.url, "agent1");
  const socket = sb.track(connect(sb.url, { auth: { token } }));
  const events = new Recorder(socket);
  const engine = socket.io.engine;
  assert.equal(engine.transport.name, "polling", "stock defaults start with long-polling");
  const upgraded = once(engine, "upgrade");
  await connected(socket);

  const presence = await events.next("agentPresence");
  assert.equal(presence.agent.keycloakUser.username, "agent1");
  assert.deepEqual(presence.agent.keycloakUser.roles, ["agent"]);
  assert.equal(presence.state.name, "NOT_READY");
  assert.ok(presence.agentLoginTime > 0);
  const chat = presence.agentMrdStates.find((m) => m.mrd.name === "CHAT");
  assert.ok(chat, "the CHAT MRD is among the agent's MRD states");
  assert.equal(chat.maxAgentTasks, 5);
  const channelTypes = await events.next("onChannelTypes");
  assert.ok(channelTypes.some((c) => c.name === "WEB"));

  const [transport] = await upgraded;
  assert.equal(transport.name, "websocket");
  const ack = await request(socket, "changeAgentState", {
    agentId: presence.agent.id,
    action: "agentState",
    state: { name: "READY", reasonCode: null },
  });
  assert.equal(ack.state.name, "READY");
  assert.equal(socket.io.engine.transport.name, "websocket");
});

test("desk connects with transports: ['websocket']", async (t) => {
  const sb = await freshSwitchboard(t);
  const desk = await sb.desk("agent2", { socket: { transports: ["websocket"] } });
  assert.equal(desk.socket.io.engine.transport.name, "websocket");
  assert.equal(desk.presence.agent.keycloakUser.username, "agent2");
  await desk.events.next("onChannelTypes");
  const ack = await request(desk.socket, "changeAgentState", {
    agentId: desk.agentId,
    action: "agentState",
    state: { name: "READY" },
  });
  assert.equal(ack.state.name, "READY");
});

test("a bad or missing token gets connect_error; an admin's desk monitors and takes no chats", async (t) => {
  const sb = await freshSwitchboard(t);
  for (const transports of [["polling", "websocket"], ["websocket"]]) {
    const bad = sb.track(connect(sb.url, { auth: { token: "not-a-token" }, transports }));
    const [err] = await once(bad, "connect_error");
    assert.match(err.message, /unauthorized/);
    assert.equal(bad.connected, false);
  }
  const missing = sb.track(connect(sb.url, { transports: ["websocket"] }));
  const [missingErr] = await once(missing, "connect_error");
  assert.match(missingErr.message, /token/);

  // An admin's desk is the console's monitoring desk (to join conversations): it
  // connects, but is no agent and never goes READY.
  const adminToken = await login(sb.url, "admin");
  const admin = sb.track(connect(sb.url, { auth: { token: adminToken }, transports: ["websocket"] }));
  await connected(admin);
  const ready = await request(admin, "changeAgentState", { action: "agentState", state: { name: "READY" } });
  assert.equal(ready.status, "error", JSON.stringify(ready));

  // The query-string form of the token is accepted too.
  const token = await login(sb.url, "agent3");
  const viaQuery = sb.track(connect(sb.url, { query: { token }, transports: ["websocket"] }));
  await connected(viaQuery);
});

test("changeAgentState READY, NOT_READY with a reason and agentMRDState -> agentPresence, also to the supervisor", async (t) => {
  const sb = await freshSwitchboard(t);
  const supervisor = await sb.desk("supervisor");
  const agent = await sb.desk("agent1");
  assert.deepEqual(supervisor.presence.agent.keycloakUser.roles, ["agent", "supervisor"]);
  const isAgent1 = (p) => p.agent.id === agent.agentId;

  const ready = await request(agent.socket, "changeAgentState", {
    agentId: agent.agentId,
    action: "agentState",
    state: { name: "READY", reasonCode: null },
  });
  assert.equal(ready.state.name, "READY", "the ack carries the new presence");
  const pushed = await agent.events.next("agentPresence", (p) => p.state.name === "READY");
  assert.equal(pushed.agent.id, agent.agentId);
  assert.ok(pushed.agentMrdStates.every((m) => m.state === "READY"), "MRD states follow the global state");
  const seenBySupervisor = await supervisor.events.next(
    "agentPresence",
    (p) => isAgent1(p) && p.state.name === "READY",
  );
  assert.equal(seenBySupervisor.agent.keycloakUser.username, "agent1");

  const notReady = await request(agent.socket, "changeAgentState", {
    agentId: agent.agentId,
    action: "agentState",
    state: { name: "NOT_READY", reasonCode: "Break" },
  });
  assert.deepEqual(notReady.state, { name: "NOT_READY", reasonCode: "Break" });
  await agent.events.next("agentPresence", (p) => p.state.reasonCode === "Break");
  await supervisor.events.next(
    "agentPresence",
    (p) => isAgent1(p) && p.state.name === "NOT_READY" && p.state.reasonCode === "Break",
  );

  // Back to READY, then one MRD alone goes NOT_READY.
  await request(agent.socket, "changeAgentState", {
    agentId: agent.agentId,
    action: "agentState",
    state: { name: "READY" },
  });
  const chat = agent.presence.agentMrdStates.find((m) => m.mrd.name === "CHAT");
  const mrd = await request(agent.socket, "changeAgentState", {
    agentId: agent.agentId,
    action: "agentMRDState",
    state: "NOT_READY",
    mrdId: chat.mrd.id,
  });
  assert.equal(mrd.agentMrdStates.find((m) => m.mrd.id === chat.mrd.id).state, "NOT_READY");
  const chatNotReady = (p) =>
    p.state.name === "READY" &&
    p.agentMrdStates.some((m) => m.mrd.id === chat.mrd.id && m.state === "NOT_READY");
  const mrdPresence = await agent.events.next("agentPresence", chatNotReady);
  assert.equal(
    mrdPresence.agentMrdStates.find((m) => m.mrd.name === "VOICE").state,
    "READY",
    "the other MRD keeps its state",
  );
  await supervisor.events.next("agentPresence", (p) => isAgent1(p) && chatNotReady(p));

  // Refused changes answer with an error and change nothing.
  const unknownReason = await request(agent.socket, "changeAgentState", {
    agentId: agent.agentId,
    action: "agentState",
    state: { name: "NOT_READY", reasonCode: "Nap" },
  });
  assert.equal(unknownReason.status, "error");
  assert.equal(unknownReason.code, "invalid_payload");
  const err = await agent.events.next("errors");
  assert.equal(err.event, "changeAgentState");
  assert.equal(err.code, "invalid_payload");
  const otherAgent = await request(agent.socket, "changeAgentState", {
    agentId: supervisor.agentId,
    action: "agentState",
    state: { name: "READY" },
  });
  assert.equal(otherAgent.code, "forbidden", "an agent changes only its own state");

  // The supervisor of the agent's team may change it.
  const bySupervisor = await request(supervisor.socket, "changeAgentState", {
    agentId: agent.agentId,
    action: "agentState",
    state: { name: "NOT_READY", reasonCode: "Meeting" },
  });
  assert.equal(bySupervisor.agent.id, agent.agentId, JSON.stringify(bySupervisor).slice(0, 300));
  assert.deepEqual(bySupervisor.state, { name: "NOT_READY", reasonCode: "Meeting" });
  await agent.events.next("agentPresence", (p) => p.state.reasonCode === "Meeting");
});

test("a second tab of the same agent takes over: the first gets socketSessionRemoved and is disconnected", async (t) => {
  const sb = await freshSwitchboard(t);
  const first = await sb.desk("agent1");
  const firstGone = once(first.socket, "disconnect");
  const second = await sb.desk("agent1", { token: first.token });
  const removed = await first.events.next("socketSessionRemoved");
  assert.equal(removed.agentId, first.agentId);
  const [reason] = await firstGone;
  assert.equal(reason, "io server disconnect");
  assert.equal(second.socket.connected, true);
  const ack = await request(second.socket, "changeAgentState", {
    agentId: second.agentId,
    action: "agentState",
    state: { name: "READY" },
  });
  assert.equal(ack.state.name, "READY");
  assert.equal(ack.connected, true, "the agent stays connected through the takeover");
});

test("a malformed packet, an oversized frame and a garbage frame close only their own connection", async (t) => {
  const sb = await freshSwitchboard(t);
  const bystander = await sb.desk("agent1", { socket: { transports: ["websocket"] } });
  const gone = [];

  // `42["x"` on the wire: an EVENT whose JSON never ends.
  const malformed = await sb.desk("agent2", { socket: { transports: ["websocket"] } });
  gone.push(once(malformed.socket, "disconnect"));
  malformed.socket.io.engine.write('2["x"');

  // One WebSocket frame above the 1 MiB payload limit.
  const oversized = await sb.desk("agent3", { socket: { transports: ["websocket"] } });
  gone.push(once(oversized.socket, "disconnect"));
  oversized.socket.io.engine.write(`2["changeAgentState",{"pad":"${"a".repeat(MiB + 16)}"}]`);

  // A raw WebSocket that speaks no Engine.IO at all after the open packet.
  const raw = new WebSocket(`${sb.url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
  const rawClosed = new Promise((resolve) => raw.once("close", (code) => resolve(code)));
  await new Promise((resolve, reject) => {
    raw.once("message", resolve);
    raw.once("error", reject);
  });
  raw.send(Buffer.from([0xff, 0x00, 0x13, 0x37]));
  raw.send("\u0000garbage");

  for (const [reason] of await Promise.all(gone)) {
    assert.match(reason, /transport (close|error)/);
  }
  await rawClosed;

  // The other desk and the process are unaffected.
  const ack = await request(bystander.socket, "changeAgentState", {
    agentId: bystander.agentId,
    action: "agentState",
    state: { name: "READY" },
  });
  assert.equal(ack.state.name, "READY");
  await bystander.events.next("agentPresence", (p) => p.state.name === "READY");
  assert.equal(bystander.socket.connected, true);
  await sleep(100);
  assert.equal(bystander.events.all("socketSessionRemoved").length, 0);

  // And a closed desk may simply come back.
  const again = await sb.desk("agent2");
  assert.equal(again.presence.agent.keycloakUser.username, "agent2");
});
