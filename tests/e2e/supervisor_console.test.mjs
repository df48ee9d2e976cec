// The supervisor console's stream on namespace `/supervisor` against the real
// `switchboard serve`: the snapshot, pushed updates as a chat waits and is
// answered, the scope of a supervisor of another team and of an admin, the
// actions (set NOT_READY, force logout, flush) with their refusals, and today's
// figures rebuilt equal after a restart.

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  Recorder,
  accept,
  acceptedChat,
  adminCall,
  agentMessage,
  connect,
  connected,
  freshSwitchboard,
  login,
  openDesk,
  openWidget,
  readyDesk,
  request,
  startChat,
  startServer,
  switchboardBin,
} from "./harness.mjs";

/** A console on `/supervisor` that keeps the rows as the protocol says. */
async function openConsole(url, token) {
  const socket = connect(`${url}/supervisor`, { auth: { token } });
  const events = new Recorder(socket);
  const state = { queues: new Map(), agents: new Map(), conversations: new Map(), updates: 0 };
  const apply = (rows, map) => rows.forEach((r) => map.set(r.id, r));
  socket.on("supervisor:snapshot", (s) => {
    state.queues.clear();
    state.agents.clear();
    state.conversations.clear();
    apply(s.queues, state.queues);
    apply(s.agents, state.agents);
    apply(s.conversations, state.conversations);
    state.snapshot = s;
  });
  socket.on("supervisor:update", (u) => {
    state.updates += 1;
    apply(u.queues, state.queues);
    apply(u.agents, state.agents);
    apply(u.conversations, state.conversations);
    u.ended.forEach((id) => state.conversations.delete(id));
  });
  await connected(socket);
  await events.next("supervisor:snapshot");
  /** Resolves once `check(state)` holds after some snapshot or update. */
  const until = (check, what, ms = 5_000) =>
    new Promise((resolve, reject) => {
      if (check(state)) return resolve(state);
      const timer = setTimeout(() => {
        socket.off("supervisor:update", poll);
        const queues = JSON.stringify([...state.queues.values()].map((q) => [q.name, q.waiting, q.today]));
        reject(new Error(`${what}: not within ${ms} ms; queues ${queues}`));
      }, ms);
      function poll() {
        if (!check(state)) return;
        clearTimeout(timer);
        socket.off("supervisor:update", poll);
        resolve(state);
      }
      socket.on("supervisor:update", poll);
    });
  const queue = (name) => [...state.queues.values()].find((q) => q.name === name);
  return { socket, events, state, until, queue };
}

test("a chat waits, is answered and shows on the console of the team's supervisor only", async (t) => {
  const sb = await freshSwitchboard(t);
  const supervisor = await openConsole(sb.url, await login(sb.url, "supervisor"));
  sb.track(supervisor.socket);
  const snapshot = supervisor.state.snapshot;
  assert.equal(snapshot.timeZone, "UTC");
  assert.equal(snapshot.shortAbandonSecs, 5);
  const queue = supervisor.queue("Default");
  assert.ok(queue, "the demo queue is listed");
  assert.equal(queue.waiting, 0);
  assert.equal(queue.today.offered, 0);
  assert.equal(queue.serviceLevelThresholdSecs, 30);

  // A supervisor of no team, and an admin.
  const created = await adminCall(sb.url, "POST", "/users", {
    username: "sup2", password: "sup2-password", role: "supervisor",
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const other = await openConsole(sb.url, await login(sb.url, "sup2", "sup2-password"));
  sb.track(other.socket);
  const admin = await openConsole(sb.url, await login(sb.url, "admin"));
  sb.track(admin.socket);

  // No agent is ready: the chat waits.
  const desk = await sb.desk("agent1");
  const chat = await startChat(sb);
  await supervisor.until((s) => supervisor.queue("Default").waiting === 1, "waiting 1");
  const waitingRow = supervisor.state.conversations.get(chat.conversationId);
  assert.equal(waitingRow.state, "WAITING");
  assert.equal(waitingRow.queue.name, "Default");
  assert.equal(supervisor.queue("Default").today.offered, 1);

  // The agent goes READY and accepts.
  await request(desk.socket, "changeAgentState", { agentId: desk.agentId, action: "agentState", state: { name: "READY" } });
  await accept(desk, chat.conversationId);
  await supervisor.until(
    (s) => supervisor.queue("Default").waiting === 0 && supervisor.queue("Default").today.answered === 1,
    "answered 1",
  );
  await supervisor.until((s) => s.agents.get(desk.agentId)?.mrds.some((m) => m.name === "CHAT" && m.active === 1), "agent ACTIVE 1/5");
  const agentRow = supervisor.state.agents.get(desk.agentId);
  const chatMrd = agentRow.mrds.find((m) => m.name === "CHAT");
  assert.equal(chatMrd.state, "ACTIVE");
  assert.equal(chatMrd.max, 5);
  assert.deepEqual(agentRow.conversations, [chat.conversationId]);
  const row = supervisor.state.conversations.get(chat.conversationId);
  assert.equal(row.state, "ACTIVE");
  assert.deepEqual(row.agents.map((a) => a.username), ["agent1"]);
  assert.equal(supervisor.queue("Default").today.reservations, 1);
  assert.ok(supervisor.queue("Default").today.asaMs >= 0);

  // The admin sees the agent and the chat too; the other supervisor neither.
  await admin.until((s) => s.conversations.get(chat.conversationId)?.state === "ACTIVE", "admin sees the chat");
  assert.ok(admin.state.agents.has(desk.agentId));
  await other.until((s) => other.queue("Default").today.answered === 1, "queues are site-wide");
  assert.equal(other.state.agents.has(desk.agentId), false, "no agent of another team");
  assert.equal(other.state.conversations.has(chat.conversationId), false, "no chat of another team");
  assert.equal(other.state.snapshot.agents.length, 0);

  // The other supervisor may not act on agent1; bad payloads change nothing.
  const refused = await request(other.socket, "forceLogout", { agentId: desk.agentId });
  assert.equal(refused.status, "error");
  assert.equal(refused.code, "forbidden");
  const bad = await request(supervisor.socket, "setAgentState", { agentId: desk.agentId, reasonCode: "Break", extra: 1 });
  assert.equal(bad.code, "invalid_payload");
  const unknownReason = await request(supervisor.socket, "setAgentState", { agentId: desk.agentId, reasonCode: "Nap" });
  assert.equal(unknownReason.code, "invalid_payload");
  const unknownAgent = await request(supervisor.socket, "forceLogout", { agentId: "nobody" });
  assert.equal(unknownAgent.code, "not_found");
  assert.equal(supervisor.state.agents.get(desk.agentId).state, "READY");

  // Set NOT_READY with a reason.
  const notReady = await request(supervisor.socket, "setAgentState", { agentId: desk.agentId, reasonCode: "Break" });
  assert.equal(notReady.status, "ok", JSON.stringify(notReady));
  await supervisor.until((s) => s.agents.get(desk.agentId).state === "NOT_READY", "NOT_READY");
  assert.equal(supervisor.state.agents.get(desk.agentId).reasonCode, "Break");
  await desk.events.next("agentPresence", (p) => p.state.name === "NOT_READY" && p.state.reasonCode === "Break");

  // Force logout: the desk hears who did it, the chat goes back to the queue.
  const out = await request(supervisor.socket, "forceLogout", { agentId: desk.agentId });
  assert.equal(out.status, "ok", JSON.stringify(out));
  const told = await desk.events.next("forcedLogout");
  assert.equal(told.by.username, "supervisor");
  assert.match(told.message, /supervisor/);
  await supervisor.until((s) => s.conversations.get(chat.conversationId)?.state === "WAITING", "requeued");
  assert.equal(supervisor.queue("Default").waiting, 1);
  assert.equal(supervisor.state.agents.get(desk.agentId).state, "LOGOUT");

  // Flush: the waiting chat closes FORCE_CLOSED and leaves the console.
  const flushed = await request(supervisor.socket, "flushQueue", { queueId: supervisor.queue("Default").id });
  assert.equal(flushed.status, "ok", JSON.stringify(flushed));
  assert.equal(flushed.closedTasks, 1);
  await supervisor.until((s) => !s.conversations.has(chat.conversationId), "flushed chat ended");
  // It had been answered once: neither flushed nor abandoned (docs/metrics.md).
  assert.equal(supervisor.queue("Default").today.flushed, 0);
  assert.equal(supervisor.queue("Default").today.abandoned, 0);
  assert.equal(supervisor.queue("Default").waiting, 0);
  // A chat that never had an agent is counted flushed.
  await startChat(sb);
  await supervisor.until((s) => supervisor.queue("Default").waiting === 1, "a new chat waits");
  const again = await request(supervisor.socket, "flushQueue", { queueId: supervisor.queue("Default").id });
  assert.equal(again.closedTasks, 1);
  await supervisor.until((s) => supervisor.queue("Default").today.flushed === 1, "flushed 1");
  assert.equal(supervisor.queue("Default").today.offered, 2);
});

test("agents and customers cannot open the console", async (t) => {
  const sb = await freshSwitchboard(t);
  const socket = sb.track(connect(`${sb.url}/supervisor`, { auth: { token: await login(sb.url, "agent1") } }));
  await assert.rejects(connected(socket), /forbidden/);
  const anonymous = sb.track(connect(`${sb.url}/supervisor`, { auth: {} }));
  await assert.rejects(connected(anonymous), /unauthorized/);
});

test("per-queue thresholds: admins set them, bad limits are refused, consoles get them", async (t) => {
  const sb = await freshSwitchboard(t);
  const console_ = await openConsole(sb.url, await login(sb.url, "supervisor"));
  sb.track(console_.socket);
  const id = console_.queue("Default").id;
  const bad = await adminCall(sb.url, "PUT", `/queues/${id}/thresholds`, {
    longestWaitAmberSecs: 120, longestWaitRedSecs: 60,
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.code, "invalid_field");
  const unknown = await adminCall(sb.url, "PUT", "/queues/nope/thresholds", {});
  assert.equal(unknown.status, 404);
  const set = await adminCall(sb.url, "PUT", `/queues/${id}/thresholds`, {
    longestWaitAmberSecs: 0, longestWaitRedSecs: 600, serviceLevelAmberPct: 80, serviceLevelRedPct: 50,
  });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  // A waiting chat is at once past the 0 s amber limit.
  await startChat(sb);
  await console_.until(
    (s) => console_.queue("Default").thresholds.longestWaitAmberSecs === 0 && console_.queue("Default").status === "amber",
    "amber",
    12_000,
  );
});

test("today's figures are rebuilt equal after a restart", async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-e2e-"));
  t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const start = () =>
    startServer(switchboardBin(), ["serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir], {
      SWITCHBOARD_BIN: undefined,
      SWITCHBOARD_LOG__LEVEL: "warn",
    });
  let server = await start();
  const sockets = [];
  const sb = {
    url: server.url,
    track: (s) => (sockets.push(s), s),
    desk: async (u) => {
      const d = await openDesk(server.url, u);
      sockets.push(d.socket);
      return d;
    },
    widget: async (id, o) => {
      const w = await openWidget(server.url, id, o);
      sockets.push(w.socket);
      return w;
    },
  };
  // One answered chat still running, one abandoned.
  const { desk, chat } = await acceptedChat(sb, "agent1");
  const left = await startChat(sb);
  await request(desk.socket, "changeAgentState", { agentId: desk.agentId, action: "agentState", state: { name: "NOT_READY" } });
  await request(left.socket, "CHAT_ENDED", {});
  const before = await openConsole(server.url, await login(server.url, "supervisor"));
  sockets.push(before.socket);
  await before.until((s) => before.queue("Default").today.offered >= 2 && before.queue("Default").waiting === 0, "figures settle");
  const figures = (c) => {
    const q = c.queue("Default");
    return { today: q.today, rolling: q.rolling, waiting: q.waiting, conversations: [...c.state.conversations.keys()].sort() };
  };
  const expected = figures(before);
  assert.deepEqual(expected.conversations, [chat.conversationId]);
  assert.equal(expected.today.answered, 1);
  assert.equal(expected.today.abandoned, 1, "the customer who left before an agent took the chat");
  for (const s of sockets) s.disconnect();
  assert.equal(await server.stop(), 0);

  server = await start();
  t.after(() => server.stop());
  const after = await openConsole(server.url, await login(server.url, "supervisor"));
  t.after(() => after.socket.disconnect());
  assert.deepEqual(figures(after), expected);
});

/** Queue "Special" takes only vip agents; nobody is vip, so its chats wait. */
async function specialQueue(sb, supervisor) {
  const mrds = await adminCall(sb.url, "GET", "/mrds");
  const chatMrd = mrds.body.find((m) => m.name === "CHAT");
  const attr = await adminCall(sb.url, "POST", "/routing-attributes", { name: "vip", type: "BOOLEAN" });
  assert.equal(attr.status, 201, JSON.stringify(attr.body));
  const special = await adminCall(sb.url, "POST", "/queues", {
    name: "Special", mrdId: chatMrd.id, steps: [{ expression: "vip", timeoutSecs: 600 }],
  });
  assert.equal(special.status, 201, JSON.stringify(special.body));
  await supervisor.until(() => supervisor.queue("Special"), "the new queue is listed", 12_000);
  return special;
}

test("queue actions act on the customer's chat, never on a transfer request waiting beside it", async (t) => {
  const sb = await freshSwitchboard(t);
  const supervisor = await openConsole(sb.url, await login(sb.url, "supervisor"));
  sb.track(supervisor.socket);
  await specialQueue(sb, supervisor);
  // agent1 serves the chat and asks for a transfer through Special, where it waits.
  const { desk, chat, topic } = await acceptedChat(sb, "agent1");
  const conversation = topic.topicData.conversation;
  const placed = await request(desk.socket, "directTransferRequest", {
    channelSession: { ...conversation.channelSession, topicId: chat.conversationId },
    agentParticipant: conversation.participants.find((p) => p.type === "AGENT" && p.participant?.id === desk.agentId),
    mode: "queue",
    queueName: "Special",
  });
  assert.equal(placed.status, "placed", JSON.stringify(placed));
  await supervisor.until(() => supervisor.queue("Special").waiting === 1, "the request waits in Special");

  // The chat itself waits nowhere: nothing to move or offer.
  const move = await request(supervisor.socket, "moveToQueue", {
    conversationId: chat.conversationId, queueId: supervisor.queue("Default").id,
  });
  assert.equal(move.code, "not_found", JSON.stringify(move));
  const offer = await request(supervisor.socket, "offerToAgent", { conversationId: chat.conversationId, agentId: desk.agentId });
  assert.equal(offer.code, "not_found", JSON.stringify(offer));
  assert.equal(supervisor.queue("Special").waiting, 1);
});

test("queue actions: a waiting chat moved to another queue, then offered to a named agent; admins join it", async (t) => {
  const sb = await freshSwitchboard(t);
  const supervisor = await openConsole(sb.url, await login(sb.url, "supervisor"));
  sb.track(supervisor.socket);
  const special = await specialQueue(sb, supervisor);

  // agent1 signed in but NOT_READY: the chat waits in Default.
  const desk = await sb.desk("agent1");
  const chat = await startChat(sb);
  await supervisor.until(() => supervisor.queue("Default").waiting === 1, "waiting in Default");

  // Refusals change nothing.
  const bad = await request(supervisor.socket, "moveToQueue", { conversationId: chat.conversationId });
  assert.equal(bad.code, "invalid_payload");
  const unknownChat = await request(supervisor.socket, "moveToQueue", { conversationId: "nope", queueId: special.body.id });
  assert.equal(unknownChat.code, "not_found");
  const unknownQueue = await request(supervisor.socket, "moveToQueue", { conversationId: chat.conversationId, queueId: "nope" });
  assert.equal(unknownQueue.code, "unknown_queue");
  const sameQueue = await request(supervisor.socket, "moveToQueue", {
    conversationId: chat.conversationId, queueId: supervisor.queue("Default").id,
  });
  assert.equal(sameQueue.code, "same_queue");

  // Moved: out of Default, waiting in Special, counted as a transfer.
  const moved = await request(supervisor.socket, "moveToQueue", { conversationId: chat.conversationId, queueId: special.body.id });
  assert.equal(moved.status, "ok", JSON.stringify(moved));
  await supervisor.until(
    (s) => supervisor.queue("Special").waiting === 1 && s.conversations.get(chat.conversationId)?.queue.name === "Special",
    "waiting in Special",
  );
  assert.equal(supervisor.queue("Default").waiting, 0);
  assert.equal(supervisor.queue("Default").today.transfersOut, 1);
  assert.equal(supervisor.queue("Special").today.transfersIn, 1);

  // Offer to agent1: refused while it is NOT_READY, and to a supervisor of another team.
  const notReady = await request(supervisor.socket, "offerToAgent", { conversationId: chat.conversationId, agentId: desk.agentId });
  assert.equal(notReady.code, "agent_unavailable", JSON.stringify(notReady));
  const created = await adminCall(sb.url, "POST", "/users", { username: "sup2", password: "sup2-password", role: "supervisor" });
  assert.equal(created.status, 201);
  const other = await openConsole(sb.url, await login(sb.url, "sup2", "sup2-password"));
  sb.track(other.socket);
  const foreign = await request(other.socket, "offerToAgent", { conversationId: chat.conversationId, agentId: desk.agentId });
  assert.equal(foreign.code, "forbidden");

  // READY, but not vip: the chat still waits until the supervisor offers it.
  await request(desk.socket, "changeAgentState", { agentId: desk.agentId, action: "agentState", state: { name: "READY" } });
  await supervisor.until((s) => s.agents.get(desk.agentId)?.state === "READY", "agent1 READY");
  assert.equal(supervisor.queue("Special").waiting, 1);
  const offered = await request(supervisor.socket, "offerToAgent", { conversationId: chat.conversationId, agentId: desk.agentId });
  assert.equal(offered.status, "ok", JSON.stringify(offered));
  await accept(desk, chat.conversationId);
  await supervisor.until((s) => s.conversations.get(chat.conversationId)?.state === "ACTIVE", "answered by agent1");
  assert.equal(supervisor.queue("Special").today.answered, 1);

  // An admin joins from a monitoring desk (admins are never routed): silently, then leaves.
  const adminToken = await login(sb.url, "admin");
  const adminDesk = sb.track(connect(sb.url, { auth: { token: adminToken } }));
  const adminEvents = new Recorder(adminDesk);
  await connected(adminDesk);
  await adminEvents.next("onChannelTypes");
  const joined = await request(adminDesk, "JoinAsSilentMonitor", { conversationId: chat.conversationId });
  assert.equal(joined.conversationId, chat.conversationId, JSON.stringify(joined));
  await request(desk.socket, "publishCimEvent", agentMessage(chat.conversationId, desk.agentId, "Hello from agent1"));
  await adminEvents.next("onCimEvent", (e) => e.conversationId === chat.conversationId && e.data?.body?.markdownText === "Hello from agent1");
  const left = await request(adminDesk, "topicUnsubscription", { conversationId: chat.conversationId, reason: "SUPERVISOR_LEFT" });
  assert.notEqual(left.status, "error", JSON.stringify(left));
  // The admin's desk never entered routing.
  const agents = await adminCall(sb.url, "GET", "/agents");
  assert.equal(agents.body.some((a) => a.username === "admin"), false);
});
