// HTTPS and WSS with the stock socket.io-client: `switchboard serve` with `[http.tls]` and a
// certificate made for this test (openssl), a desk over wss only and a widget that starts on
// HTTPS long-polling and upgrades to wss, a chat with acks both ways.

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  accept,
  agentMessage,
  connect,
  connected,
  customerMessage,
  loginTls as login,
  makeCertificate,
  once,
  openDesk,
  openWidget,
  readyDesk,
  request,
  startChat,
  startServer,
  switchboardBin,
} from "./harness.mjs";

/** A fresh HTTPS switchboard (demo site on); the shape of harness.freshSwitchboard. */
async function httpsSwitchboard(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-tls-"));
  const { cert, key, ca } = makeCertificate(dir);
  const config = path.join(dir, "switchboard.toml");
  fs.writeFileSync(config, `demo = true\n[http.tls]\ncert = ${JSON.stringify(cert)}\nkey = ${JSON.stringify(key)}\n`);
  const server = await startServer(
    switchboardBin(),
    ["serve", "--listen", "127.0.0.1:0", "--config", config, "--data-dir", path.join(dir, "data")],
    { SWITCHBOARD_BIN: undefined, SWITCHBOARD_LOG__LEVEL: "warn" },
  );
  const sockets = [];
  t.after(async () => {
    for (const socket of sockets) socket.disconnect();
    assert.equal(await server.stop(), 0, "switchboard exits cleanly on SIGTERM");
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    url: server.url,
    ca,
    track: (socket) => (sockets.push(socket), socket),
    desk: async (username, opts = {}) => {
      const token = await login(server.url, username, ca);
      const desk = await openDesk(server.url, username, { token, socket: { ca, ...opts.socket } });
      sockets.push(desk.socket);
      return desk;
    },
    widget: async (customerId, opts = {}) => {
      const widget = await openWidget(server.url, customerId, { ...opts, socket: { ca, ...opts.socket } });
      sockets.push(widget.socket);
      return widget;
    },
  };
}

test("the stock socket.io-client chats over wss and https with acks both ways", async (t) => {
  const sb = await httpsSwitchboard(t);
  assert.match(sb.url, /^https:\/\/127\.0\.0\.1:\d+$/);

  const desk = await readyDesk(sb, "agent1", { socket: { transports: ["websocket"] } });
  assert.equal(desk.socket.io.engine.transport.name, "websocket", "the desk is on wss");

  // The widget starts on HTTPS long-polling and upgrades to wss.
  const chat = await startChat(sb);
  const engine = chat.socket.io.engine;
  if (engine.transport.name !== "websocket") await once(engine, "upgrade");
  assert.equal(engine.transport.name, "websocket", "the widget upgraded to wss");

  await accept(desk, chat.conversationId);
  const ack = await request(chat.socket, "MESSAGE_RECEIVED", customerMessage("tls-1", "Is this encrypted?"));
  assert.equal(ack.status, "ok", JSON.stringify(ack));
  const seen = await desk.events.next("onCimEvent", (e) => e.name === "CUSTOMER_MESSAGE");
  assert.equal(seen.seq, ack.seq);
  assert.equal(seen.data.body.markdownText, "Is this encrypted?");

  const reply = agentMessage(chat.conversationId, desk.agentId, "It is");
  const published = await request(desk.socket, "publishCimEvent", reply);
  assert.equal(published.status, "ok", JSON.stringify(published));
  const received = await chat.events.next("MESSAGE_RECEIVED", (m) => m.name === "AGENT_MESSAGE");
  assert.equal(received.seq, published.seq);
  assert.equal(received.data.body.markdownText, "It is");
});

test("a client that does not trust the certificate is refused", async (t) => {
  const sb = await httpsSwitchboard(t);
  const socket = sb.track(connect(`${sb.url}/customer`, { transports: ["websocket"] }));
  const err = await connected(socket).then(() => null, (e) => e);
  assert.ok(err, "the connection was refused");
  // engine.io-client reports "websocket error"; the cause is the TLS verification.
  assert.match(String(err.description?.message ?? err.description), /self.signed|certificate/i);
});
