// The packaged nginx example (packaging/nginx/switchboard.conf) in front of the real
// binary: nginx runs in the foreground from a temporary directory with the example's
// ports, upstream and certificate paths rewritten, and the stock socket.io-client chats
// through it over wss. Clients connect from different loopback addresses (127.0.0.2,
// 127.0.0.3), which nginx forwards in X-Forwarded-For: with `http.trusted_proxies`
// naming nginx, the chat-request limit and the request log go by those addresses;
// without it, every client is nginx's own address.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { randomUUID } from "node:crypto";
import {
  accept,
  connect,
  connected,
  customerMessage,
  loginTls,
  makeCertificate,
  openDesk,
  Recorder,
  request,
  startServer,
  switchboardBin,
} from "./harness.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const example = path.resolve(here, "../../packaging/nginx/switchboard.conf");

function findNginx() {
  for (const candidate of ["/usr/sbin/nginx", "/usr/bin/nginx"]) {
    if (fs.existsSync(candidate)) return candidate;
  }
  const which = spawnSync("sh", ["-c", "command -v nginx"], { encoding: "utf8" });
  return which.status === 0 ? which.stdout.trim() : null;
}

const nginx = findNginx();
if (!nginx) {
  console.error(
    "\n*** nginx is not installed: SKIPPING tests/e2e/nginx.test.mjs " +
      "(apt-get install nginx; .ci/run installs it) ***\n",
  );
}

/** A free TCP port on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Replaces `from` (which must occur exactly once) with `to`. */
function replaceOnce(text, from, to) {
  const parts = text.split(from);
  assert.equal(parts.length, 2, `the nginx example has exactly one \`${from}\``);
  return parts.join(to);
}

/** Resolves once `port` accepts connections (nginx has started). */
async function listening(port, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => (socket.destroy(), resolve(true)));
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port} after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Switchboard on plain HTTP (demo site, chat requests limited to one per address, loopback
 * included, access log on) behind nginx running the packaged example.
 */
async function behindNginx(t, trustedProxies) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-nginx-"));
  const config = path.join(dir, "switchboard.toml");
  fs.writeFileSync(config, [
    "demo = true",
    "[log]",
    'format = "json"',
    'level = "warn,switchboard::access=debug"',
    "[http]",
    `trusted_proxies = ${JSON.stringify(trustedProxies)}`,
    "[channels]",
    "chat_requests_per_minute = 1",
    "chat_request_burst = 1",
    "limit_loopback = true",
    "",
  ].join("\n"));
  const server = await startServer(
    switchboardBin(),
    ["serve", "--listen", "127.0.0.1:0", "--config", config, "--data-dir", path.join(dir, "data")],
    { SWITCHBOARD_BIN: undefined },
  );
  const upstream = new URL(server.url).host;

  const { cert, key, ca } = makeCertificate(dir);
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  let site = fs.readFileSync(example, "utf8");
  site = replaceOnce(site, "listen 80;", `listen 127.0.0.1:${httpPort};`);
  site = replaceOnce(site, "listen 443 ssl;", `listen 127.0.0.1:${httpsPort} ssl;`);
  site = replaceOnce(site, "server 127.0.0.1:8080;", `server ${upstream};`);
  site = replaceOnce(site, "/etc/ssl/certs/switchboard.pem", cert);
  site = replaceOnce(site, "/etc/ssl/private/switchboard.key", key);
  fs.writeFileSync(path.join(dir, "switchboard-site.conf"), site);
  const temp = (name) => path.join(dir, name);
  fs.writeFileSync(temp("nginx.conf"), `
daemon off;
master_process off;
pid ${temp("nginx.pid")};
error_log ${temp("error.log")} warn;
events { worker_connections 256; }
http {
    access_log ${temp("access.log")};
    client_body_temp_path ${temp("client_body")};
    proxy_temp_path ${temp("proxy")};
    fastcgi_temp_path ${temp("fastcgi")};
    uwsgi_temp_path ${temp("uwsgi")};
    scgi_temp_path ${temp("scgi")};
    include ${temp("switchboard-site.conf")};
}
`);
  const proxy = spawn(nginx, ["-e", temp("error.log"), "-p", dir, "-c", temp("nginx.conf")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let nginxErr = "";
  proxy.stderr.on("data", (chunk) => (nginxErr += chunk));
  const sockets = [];
  t.after(async () => {
    for (const socket of sockets) socket.disconnect();
    if (proxy.exitCode === null) {
      const exited = new Promise((resolve) => proxy.once("exit", resolve));
      proxy.kill("SIGQUIT");
      await exited;
    }
    assert.equal(await server.stop(), 0, "switchboard exits cleanly on SIGTERM");
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await listening(httpsPort).catch((err) => {
    throw new Error(`${err.message}\n${nginxErr}\n${fs.readFileSync(temp("error.log"), "utf8")}`);
  });
  const url = `https://127.0.0.1:${httpsPort}`;
  return {
    url,
    httpPort,
    server,
    /** A customer widget connecting over wss from `from` (a loopback address). */
    widget: async (from) => {
      const socket = connect(`${url}/customer`, {
        ca,
        localAddress: from,
        transports: ["websocket"],
        auth: { serviceIdentifier: "1122", channelCustomerIdentifier: `c-${randomUUID()}` },
      });
      sockets.push(socket);
      const events = new Recorder(socket);
      await connected(socket);
      return { socket, events };
    },
    desk: async (username) => {
      const token = await loginTls(url, username, ca);
      const desk = await openDesk(url, username, { token, socket: { ca, transports: ["websocket"] } });
      sockets.push(desk.socket);
      return desk;
    },
    login: (username, from) => loginTls(url, username, ca, from),
  };
}

const chatRequest = { additionalAttributes: { locale: { language: "en" } } };

/** The client addresses of the server's access-log lines for `path` (JSON log format). */
function loggedClients(server, urlPath) {
  return server
    .stderr()
    .split("\n")
    .filter((line) => line.includes('"switchboard::access"'))
    .map((line) => JSON.parse(line))
    .filter((entry) => entry.span?.["http.target"] === urlPath)
    .map((entry) => entry.span["http.client_ip"]);
}

test("through the nginx example the stock client chats over wss, and a trusted proxy's X-Forwarded-For names the client", { skip: !nginx }, async (t) => {
  const sb = await behindNginx(t, ["127.0.0.1"]);

  // Plain HTTP on the proxy redirects to HTTPS.
  const redirect = await new Promise((resolve, reject) => {
    http.get({ host: "127.0.0.1", port: sb.httpPort, path: "/desk/" }, resolve).on("error", reject);
  });
  assert.equal(redirect.statusCode, 308);
  assert.match(redirect.headers.location, /^https:\/\/127\.0\.0\.1\/desk\/$/);
  redirect.resume();

  const desk = await sb.desk("agent1");
  const ready = await request(desk.socket, "changeAgentState", {
    agentId: desk.agentId, action: "agentState", state: { name: "READY" },
  });
  assert.equal(ready.state.name, "READY");

  // A chat through the proxy, acknowledged both ways.
  const first = await sb.widget("127.0.0.2");
  const started = await request(first.socket, "CHAT_REQUESTED", chatRequest);
  assert.equal(typeof started.conversationId, "string", JSON.stringify(started));
  await accept(desk, started.conversationId);
  const ack = await request(first.socket, "MESSAGE_RECEIVED", customerMessage("via-nginx", "hello through nginx"));
  assert.equal(ack.status, "ok", JSON.stringify(ack));
  const seen = await desk.events.next("onCimEvent", (e) => e.name === "CUSTOMER_MESSAGE");
  assert.equal(seen.data.body.markdownText, "hello through nginx");

  // One chat request per address: 127.0.0.2 has used its own, 127.0.0.3 has not.
  const again = await sb.widget("127.0.0.2");
  const refused = await request(again.socket, "CHAT_REQUESTED", chatRequest);
  assert.equal(refused.code, "rate_limited", JSON.stringify(refused));
  const other = await sb.widget("127.0.0.3");
  const allowed = await request(other.socket, "CHAT_REQUESTED", chatRequest);
  assert.equal(typeof allowed.conversationId, "string", JSON.stringify(allowed));

  // The request log names the forwarded client.
  await sb.login("agent2", "127.0.0.2");
  assert.deepEqual(loggedClients(sb.server, "/api/v1/auth/login").slice(-1), ["127.0.0.2"]);
});

test("behind an nginx that is not trusted, X-Forwarded-For is ignored: every client is nginx", { skip: !nginx }, async (t) => {
  const sb = await behindNginx(t, []);
  const first = await sb.widget("127.0.0.2");
  const started = await request(first.socket, "CHAT_REQUESTED", chatRequest);
  assert.equal(typeof started.conversationId, "string", JSON.stringify(started));
  // Another address, but the same proxy: the one request nginx's address had is used.
  const other = await sb.widget("127.0.0.3");
  const refused = await request(other.socket, "CHAT_REQUESTED", chatRequest);
  assert.equal(refused.code, "rate_limited", JSON.stringify(refused));

  await sb.login("agent2", "127.0.0.2");
  assert.deepEqual(loggedClients(sb.server, "/api/v1/auth/login").slice(-1), ["127.0.0.1"]);
});
