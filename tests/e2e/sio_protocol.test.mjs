// The Socket.IO layer with the stock npm socket.io-client 4.x against the echo example server
// (examples/sio_echo): default options (HTTP long-polling, then upgrade to WebSocket) and
// WebSocket-only, emits and acks both ways, connect_error on bad auth, namespaces, and bad
// input closing only its own connection.
//
// Run: cargo build --example sio_echo && cd tests/e2e && npm install && node --test
// (SIO_ECHO_BIN overrides the server binary; CARGO_TARGET_DIR is honoured.)

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { cargoBinary, connect, connected, once, startServer } from "./harness.mjs";

const good = { token: "good" };
let server;

before(async () => {
  const bin = cargoBinary("SIO_ECHO_BIN", "examples/sio_echo");
  server = await startServer(bin, [], { SIO_MAX_PAYLOAD: String(64 * 1024) });
});

after(async () => {
  const code = await server?.stop();
  assert.equal(code, 0, "echo server exits cleanly on SIGTERM");
});

function openSockets() {
  const sockets = [];
  return {
    add(socket) {
      sockets.push(socket);
      return socket;
    },
    closeAll() {
      for (const socket of sockets) socket.disconnect();
    },
  };
}

describe("transports", () => {
  test("default options: long-polling first, then upgrade to WebSocket", async (t) => {
    const sockets = openSockets();
    t.after(() => sockets.closeAll());
    const socket = sockets.add(connect(server.url, { auth: good }));
    // The engine opens its first transport synchronously: stock defaults start with polling.
    const engine = socket.io.engine;
    assert.equal(engine.transport.name, "polling");
    const upgraded = once(engine, "upgrade");
    const welcome = once(socket, "welcome");
    await connected(socket);
    const [transport] = await upgraded;
    assert.equal(transport.name, "websocket");
    const [hello] = await welcome;
    assert.equal(hello.id, socket.id);
    assert.deepEqual(hello.auth, good);

    const reply = await socket.timeout(5_000).emitWithAck("echo", "after upgrade", 2);
    assert.equal(reply, "after upgrade");
    assert.equal(socket.io.engine.transport.name, "websocket");
  });

  test("polling only still works end to end", async (t) => {
    const sockets = openSockets();
    t.after(() => sockets.closeAll());
    const socket = sockets.add(connect(server.url, { auth: good, transports: ["polling"] }));
    await connected(socket);
    assert.equal(socket.io.engine.transport.name, "polling");
    const echoed = once(socket, "echo");
    socket.emit("echo", { over: "polling" });
    assert.deepEqual((await echoed)[0], { over: "polling" });
  });

  test("websocket only", async (t) => {
    const sockets = openSockets();
    t.after(() => sockets.closeAll());
    const socket = sockets.add(connect(server.url, { auth: good, transports: ["websocket"] }));
    await connected(socket);
    assert.equal(socket.io.engine.transport.name, "websocket");
    const reply = await socket.timeout(5_000).emitWithAck("echo", { n: 1 });
    assert.deepEqual(reply, { n: 1 });
  });
});

describe("events and acks", () => {
  for (const transports of [["polling", "websocket"], ["websocket"]]) {
    test(`both directions over ${transports.join("+")}`, async (t) => {
      const sockets = openSockets();
      t.after(() => sockets.closeAll());
      const socket = sockets.add(connect(server.url, { auth: good, transports }));
      await connected(socket);

      const echoed = once(socket, "echo");
      socket.emit("echo", "plain");
      assert.deepEqual(await echoed, ["plain"]);

      const acked = await new Promise((resolve) => socket.emit("echo", "a", 2, (...args) => resolve(args)));
      assert.deepEqual(acked, ["a", 2]);

      socket.once("question", (data, answer) => {
        assert.equal(data, "who are you?");
        answer("desk", 7);
      });
      const answered = once(socket, "answer");
      socket.emit("ask", "who are you?");
      assert.deepEqual((await answered)[0], ["desk", 7]);
    });
  }

  test("events of one socket are handled in order", async (t) => {
    const sockets = openSockets();
    t.after(() => sockets.closeAll());
    const socket = sockets.add(connect(server.url, { auth: good, transports: ["websocket"] }));
    await connected(socket);
    const order = [];
    const done = new Promise((resolve) => {
      socket.on("slow_done", () => order.push("slow_done"));
      socket.on("echo", () => {
        order.push("echo");
        resolve();
      });
    });
    socket.emit("slow", { ms: 150 });
    socket.emit("echo", "second");
    await done;
    assert.deepEqual(order, ["slow_done", "echo"]);
  });
});

describe("connection refusals and disconnects", () => {
  test("bad token gets connect_error with message and data", async (t) => {
    const sockets = openSockets();
    t.after(() => sockets.closeAll());
    for (const transports of [["polling", "websocket"], ["websocket"]]) {
      const socket = sockets.add(connect(server.url, { auth: { token: "bad" }, transports }));
      const [err] = await once(socket, "connect_error");
      assert.equal(err.message, "invalid token");
      assert.deepEqual(err.data, { code: "AUTH_FAILED" });
      assert.equal(socket.connected, false);
    }
  });

  test("unknown namespace gets connect_error Invalid namespace", async (t) => {
    const sockets = openSockets();
    t.after(() => sockets.closeAll());
    const socket = sockets.add(connect(`${server.url}/nope`, { auth: good }));
    const [err] = await once(socket, "connect_error");
    assert.equal(err.message, "Invalid namespace");
  });

  test("namespaces share one connection", async (t) => {
    const sockets = openSockets();
    t.after(() => sockets.closeAll());
    const main = sockets.add(connect(server.url, { auth: good, transports: ["websocket"] }));
    const admin = sockets.add(main.io.socket("/admin", { auth: good }));
    admin.connect();
    await Promise.all([connected(main), connected(admin)]);
    assert.equal(main.io, admin.io);
    const [fromAdmin, fromMain] = await Promise.all([
      admin.timeout(5_000).emitWithAck("echo", "admin"),
      main.timeout(5_000).emitWithAck("echo", "main"),
    ]);
    assert.equal(fromAdmin, "admin");
    assert.equal(fromMain, "main");
  });

  test("server-side disconnect is seen as io server disconnect", async (t) => {
    const sockets = openSockets();
    t.after(() => sockets.closeAll());
    const socket = sockets.add(connect(server.url, { auth: good }));
    await connected(socket);
    const disconnected = once(socket, "disconnect");
    socket.emit("disconnect_me");
    assert.equal((await disconnected)[0], "io server disconnect");
  });
});

describe("bad input closes only its own connection", () => {
  test("malformed packet and oversized message", async (t) => {
    const sockets = openSockets();
    t.after(() => sockets.closeAll());
    const bystander = sockets.add(connect(server.url, { auth: good, transports: ["websocket"] }));
    await connected(bystander);

    const malformed = sockets.add(connect(server.url, { auth: good, transports: ["websocket"] }));
    await connected(malformed);
    const malformedGone = once(malformed, "disconnect");
    malformed.io.engine.write("this is not a socket.io packet");
    assert.equal((await malformedGone)[0], "transport close");

    const oversized = sockets.add(connect(server.url, { auth: good, transports: ["websocket"] }));
    await connected(oversized);
    const oversizedGone = once(oversized, "disconnect");
    oversized.emit("echo", "x".repeat(100 * 1024));
    assert.match((await oversizedGone)[0], /transport (close|error)/);

    const reply = await bystander.timeout(5_000).emitWithAck("echo", "still fine");
    assert.equal(reply, "still fine");

    const fresh = sockets.add(connect(server.url, { auth: good }));
    await connected(fresh);
  });
});
