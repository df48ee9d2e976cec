// Shared helpers for the end-to-end tests: spawn a server binary that prints
// `listening on http(s)://ADDR`, connect stock socket.io-client sockets, await events with timeouts.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { io } from "socket.io-client";

const here = path.dirname(fileURLToPath(import.meta.url));

/** The cargo target directory: $CARGO_TARGET_DIR, else <repo>/target. */
export function targetDir() {
  return process.env.CARGO_TARGET_DIR
    ? path.resolve(process.env.CARGO_TARGET_DIR)
    : path.resolve(here, "../../target");
}

/** Path of a binary built by cargo: `envVar` overrides, else target/debug/<relative>. */
export function cargoBinary(envVar, relative) {
  const bin = process.env[envVar] ?? path.join(targetDir(), "debug", relative);
  if (!fs.existsSync(bin)) {
    throw new Error(
      `${bin} not found: build it first (cargo build --all-targets) or set ${envVar}`,
    );
  }
  return bin;
}

/**
 * Spawns `bin args` and resolves once it prints `listening on http(s)://ADDR`.
 * `env` is added to this process's environment; a key set to `undefined` is removed.
 * Returns { url, process, stop() }; stop() sends SIGTERM and waits for exit.
 */
export function startServer(bin, args = [], env = {}, readyTimeoutMs = 30_000) {
  // The test runner's own SWITCHBOARD_BIN is not a configuration key: the server
  // would refuse to start with it (unknown keys are errors).
  const childEnv = { ...process.env, ...env };
  delete childEnv.SWITCHBOARD_BIN;
  for (const [name, value] of Object.entries(childEnv)) {
    if (value === undefined) delete childEnv[name];
  }
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      env: childEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${bin} not ready in ${readyTimeoutMs} ms\n${stderr}`));
    }, readyTimeoutMs);
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
      if (process.env.E2E_SERVER_LOGS) process.stderr.write(chunk);
    });
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      const match = stdout.match(/listening on (https?:\/\/\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve({
          url: match[1],
          process: child,
          /** What the server wrote to stderr so far (its log). */
          stderr: () => stderr,
          stop: () =>
            new Promise((done) => {
              if (child.exitCode !== null) return done(child.exitCode);
              child.once("exit", (code) => done(code));
              child.kill("SIGTERM");
            }),
        });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${bin} exited with ${code} before listening\n${stderr}`));
    });
  });
}

/** A socket.io-client socket that never reconnects on its own (tests decide). */
export function connect(url, opts = {}) {
  return io(url, { reconnection: false, forceNew: true, timeout: 5_000, ...opts });
}

/** Resolves with the arguments of the next `event` on `emitter`, rejects after `ms`. */
export function once(emitter, event, ms = 5_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, handler);
      reject(new Error(`no ${event} within ${ms} ms`));
    }, ms);
    function handler(...args) {
      clearTimeout(timer);
      resolve(args);
    }
    emitter.once(event, handler);
  });
}

/** Resolves once `socket` is connected; rejects with the connect_error. */
export function connected(socket, ms = 5_000) {
  if (socket.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not connected within ${ms} ms`)), ms);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once("connect_error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

// ---------------------------------------------------------------------------
// TLS: certificates made at test time, HTTPS login.

/** A self-signed certificate for 127.0.0.1 and localhost, valid for a day. */
export function makeCertificate(dir) {
  const cert = path.join(dir, "server.crt");
  const key = path.join(dir, "server.key");
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-days", "1", "-subj", "/CN=localhost",
    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
    "-keyout", key, "-out", cert,
  ], { stdio: "ignore" });
  return { cert, key, ca: fs.readFileSync(cert) };
}

/** `POST /api/v1/auth/login` over HTTPS trusting `ca`, from `localAddress` when given. */
export function loginTls(url, username, ca, localAddress) {
  return new Promise((resolve, reject) => {
    const req = https.request(`${url}/api/v1/auth/login`, {
      method: "POST",
      ca,
      localAddress,
      headers: { "content-type": "application/json" },
    }, (res) => {
      let body = "";
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () =>
        res.statusCode === 200
          ? resolve(JSON.parse(body).token)
          : reject(new Error(`login ${res.statusCode} ${body}`)));
    });
    req.on("error", reject);
    req.end(JSON.stringify({ username, password: username }));
  });
}

// ---------------------------------------------------------------------------
// Switchboard helpers: the real `switchboard serve` on a fresh data directory,
// HTTP login, desks and widgets that record every event they receive.

/** The switchboard binary: $SWITCHBOARD_BIN, else <target>/debug/switchboard. */
export function switchboardBin() {
  return cargoBinary("SWITCHBOARD_BIN", "switchboard");
}

/**
 * Starts `switchboard serve` on 127.0.0.1:0 with a fresh temporary data directory
 * (the demo site is created in it). `env` adds SWITCHBOARD_* settings.
 * Returns { url, process, dataDir, stop() }; stop() also removes the data directory.
 */
export async function startSwitchboard(env = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-e2e-"));
  const server = await startServer(
    switchboardBin(),
    ["serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir],
    // SWITCHBOARD_BIN names the binary for the tests; the server would read it as
    // a (misspelt) setting and refuse to start.
    { SWITCHBOARD_BIN: undefined, SWITCHBOARD_LOG__LEVEL: "warn", ...env },
  );
  const stop = server.stop;
  return {
    ...server,
    dataDir,
    stop: async () => {
      const code = await stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}

/** `POST /api/v1/auth/login`; demo passwords equal the usernames. Resolves the token. */
export async function login(url, username, password = username) {
  const response = await fetch(`${url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (response.status !== 200) {
    throw new Error(`login of ${username} failed: ${response.status} ${await response.text()}`);
  }
  const body = await response.json();
  return body.token;
}

/** An admin's `/api/v1` request: `{status, body}` (body `null` when not JSON). */
export async function adminCall(url, method, route, body) {
  const token = await login(url, "admin");
  const response = await fetch(`${url}/api/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}

/** [`adminCall`] that must succeed; resolves its body. */
export async function adminOk(url, method, route, body) {
  const { status, body: answer } = await adminCall(url, method, route, body);
  if (status >= 300) throw new Error(`${method} ${route}: ${status} ${JSON.stringify(answer)}`);
  return answer;
}

/**
 * Records every event a socket receives, so a test can await one that already
 * arrived or is still to come, and can assert that nothing else came.
 */
export class Recorder {
  constructor(socket) {
    this.socket = socket;
    this.events = [];
    this.waiters = [];
    socket.onAny((event, ...args) => {
      const entry = { event, args };
      this.events.push(entry);
      this.waiters = this.waiters.filter((w) => !w.offer(entry));
    });
  }

  /** Every recorded payload (first argument) of `event` so far. */
  all(event) {
    return this.events.filter((e) => e.event === event).map((e) => e.args[0]);
  }

  /**
   * Resolves the first payload of `event` matching `match` that was not yet taken
   * by an earlier `next`; waits up to `ms` for one to arrive.
   */
  next(event, match = () => true, ms = 5_000) {
    const found = this.events.find((e) => !e.taken && e.event === event && match(e.args[0]));
    if (found) {
      found.taken = true;
      return Promise.resolve(found.args[0]);
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        offer: (entry) => {
          if (entry.taken || entry.event !== event || !match(entry.args[0])) return false;
          entry.taken = true;
          clearTimeout(timer);
          resolve(entry.args[0]);
          return true;
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const seen = this.events.map((e) => e.event).join(", ");
        reject(new Error(`no ${event} within ${ms} ms (received: ${seen || "nothing"})`));
      }, ms);
      this.waiters.push(waiter);
    });
  }

  /** Forgets everything recorded so far. */
  clear() {
    this.events = [];
  }
}

/**
 * Connects an agent desk (namespace `/`) with a token from login and waits for the
 * greeting `agentPresence`. Resolves { socket, events: Recorder, token, presence }.
 */
export async function openDesk(url, username, opts = {}) {
  const token = opts.token ?? (await login(url, username));
  const socket = connect(url, { auth: { token }, ...opts.socket });
  const events = new Recorder(socket);
  await connected(socket);
  const presence = await events.next("agentPresence");
  return { socket, events, token, presence, agentId: presence.agent.id };
}

/** Connects a customer widget (namespace `/customer`) of the demo web channel. */
export async function openWidget(url, customerId, opts = {}) {
  const socket = connect(`${url}/customer`, {
    auth: { serviceIdentifier: "1122", channelCustomerIdentifier: customerId, ...opts.auth },
    ...opts.socket,
  });
  const events = new Recorder(socket);
  await connected(socket);
  return { socket, events };
}

/** Emits with an ack and resolves the first ack argument (rejects after `ms`). */
export function request(socket, event, payload, ms = 5_000) {
  return socket.timeout(ms).emitWithAck(event, payload);
}

/** A plain-text widget message. */
export function customerMessage(id, text) {
  return { id, body: { type: "PLAIN", markdownText: text } };
}

/** A `publishCimEvent` payload carrying a plain AGENT_MESSAGE. */
export function agentMessage(conversationId, agentId, text) {
  const now = Date.now();
  return {
    conversationId,
    agentId,
    cimEvent: {
      id: randomUUID(),
      name: "AGENT_MESSAGE",
      type: "MESSAGE",
      timestamp: now,
      conversationId,
      data: {
        id: randomUUID(),
        header: { sender: { id: agentId, type: "AGENT" }, timestamp: now },
        body: { type: "PLAIN", markdownText: text },
      },
    },
  };
}

/** Sleeps `ms` milliseconds. */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A fresh switchboard for one test: `t.after` closes every socket opened through
 * it and stops the server. Resolves { url, server, desk(username, opts),
 * widget(customerId, opts), track(socket) }.
 */
export async function freshSwitchboard(t, env = {}) {
  const server = await startSwitchboard(env);
  const sockets = [];
  t.after(async () => {
    for (const socket of sockets) socket.disconnect();
    const code = await server.stop();
    assert.equal(code, 0, "switchboard exits cleanly on SIGTERM");
  });
  const track = (socket) => {
    sockets.push(socket);
    return socket;
  };
  return {
    url: server.url,
    server,
    track,
    desk: async (username, opts) => {
      const desk = await openDesk(server.url, username, opts);
      track(desk.socket);
      return desk;
    },
    widget: async (customerId, opts) => {
      const widget = await openWidget(server.url, customerId, opts);
      track(widget.socket);
      return widget;
    },
  };
}

// Chat building blocks shared by the desk tests.

/** A desk that went READY. */
export async function readyDesk(sb, username, opts) {
  const desk = await sb.desk(username, opts);
  const ack = await request(desk.socket, "changeAgentState", {
    agentId: desk.agentId,
    action: "agentState",
    state: { name: "READY" },
  });
  assert.equal(ack.state.name, "READY");
  return desk;
}

/**
 * A customer asks for a chat; resolves the widget and its CHAT_REQUESTED ack (which
 * carries the `sessionSecret` a reconnect of this customer must present).
 */
export async function startChat(sb, opts, payload = { additionalAttributes: { locale: { language: "en" } } }) {
  const widget = await sb.widget(`c-${randomUUID()}`, opts);
  const started = await request(widget.socket, "CHAT_REQUESTED", payload);
  assert.equal(typeof started.conversationId, "string", JSON.stringify(started));
  return { ...widget, conversationId: started.conversationId, started };
}

/** The desk accepts the offered task of `conversationId`; resolves the onTopicData ack. */
export async function accept(desk, conversationId) {
  const offer = await desk.events.next("taskRequest", (o) => o.conversationId === conversationId);
  const topic = await request(desk.socket, "topicSubscription", {
    conversationId,
    topicParticipant: { type: "AGENT", role: "PRIMARY", participant: desk.presence.agent },
  });
  assert.equal(topic.conversationId, conversationId, JSON.stringify(topic));
  return { offer, topic };
}

/** Desk-side and widget-side view of one accepted chat. */
export async function acceptedChat(sb, username = "agent1") {
  const desk = await readyDesk(sb, username);
  const chat = await startChat(sb);
  const { offer, topic } = await accept(desk, chat.conversationId);
  return { desk, chat, offer, topic };
}


/**
 * Asserts that a desk got no event of `conversationId` before its first onTopicData
 * for it, and no event both in that onTopicData and as an onCimEvent.
 */
export function assertTopicFirst(desk, conversationId) {
  const mine = desk.events.events.filter(
    (e) =>
      (e.event === "onTopicData" || e.event === "onCimEvent") &&
      e.args[0]?.conversationId === conversationId,
  );
  const first = mine.findIndex((e) => e.event === "onTopicData");
  assert.ok(first >= 0, "an onTopicData arrived");
  assert.deepEqual(
    mine.slice(0, first).map((e) => `${e.args[0].name}#${e.args[0].seq}`),
    [],
    "no onCimEvent before the conversation's onTopicData",
  );
  const inTopic = new Set(mine[first].args[0].topicData.events.map((e) => e.seq));
  const live = mine.filter((e) => e.event === "onCimEvent").map((e) => e.args[0].seq);
  assert.deepEqual(live.filter((seq) => inTopic.has(seq)), [], "no event both in onTopicData and onCimEvent");
}
