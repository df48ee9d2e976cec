// The customer widget (web/widget) in headless Chromium against the real binary: the
// queue position while no agent is ready, a message written while offline retried
// with the same id until acknowledged, and the transcript back after a reload.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, skipReason, startSwitchboard, watch } from "./ui_browser.mjs";

const skip = skipReason();
const T = { timeout: 10_000 };

describe("customer widget", { skip: skip ?? false }, () => {
  let server;
  let browser;

  before(async () => {
    server = await startSwitchboard();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("waits in the queue, retries a message sent offline, and resumes after a reload", { timeout: 60_000 }, async (t) => {
    const context = await browser.newContext();
    t.after(() => context.close());
    const widget = await context.newPage();
    const problems = watch(widget, "widget");
    const sent = [];
    widget.on("websocket", (ws) =>
      ws.on("framesent", ({ payload }) => {
        const match = String(payload).match(/"MESSAGE_RECEIVED",\{"id":"([^"]+)"/);
        if (match) sent.push(match[1]);
      }),
    );

    // Nobody is ready: the customer is told its place in the queue.
    await widget.goto(`${server.url}/widget/`);
    await widget.fill("#name", "Quinn");
    await widget.click("#start-form button[type=submit]");
    await widget.getByTestId("queue").filter({ hasText: /You are number 1 in the queue/ }).waitFor(T);

    // Offline: the message waits, its ack times out, and it is retried.
    await context.setOffline(true);
    await widget.evaluate(() => window.switchboardWidget.client.socket.io.engine.close());
    await widget.fill("#text", "Written offline");
    await widget.press("#text", "Enter");
    const mine = widget.locator(".msg.mine", { hasText: "Written offline" });
    await mine.locator(".meta", { hasText: "retrying" }).waitFor({ timeout: 20_000 });
    await context.setOffline(false);
    await mine.and(widget.locator("[data-state=delivered]")).waitFor({ timeout: 20_000 });
    const id = await mine.getAttribute("data-message-id");
    assert.ok(sent.length >= 1, "the message went out once the widget was back online");
    assert.ok(sent.every((s) => s === id), `every attempt carries the same id ${id}: ${JSON.stringify(sent)}`);

    // A reload resumes the running chat with its transcript, each message once.
    await widget.reload();
    await widget.locator(".sys", { hasText: "Welcome back, Quinn." }).waitFor(T);
    await widget.locator(".msg.mine", { hasText: "Written offline" }).waitFor(T);
    assert.equal(await widget.locator(".msg.mine", { hasText: "Written offline" }).count(), 1);
    assert.equal(await widget.locator("#composer").isVisible(), true);

    // Going offline makes Chromium report failed WebSocket attempts; nothing else may fail.
    const unexpected = problems.filter((p) => !p.includes("ERR_INTERNET_DISCONNECTED"));
    assert.deepEqual(unexpected, []);
  });

  test("an unknown service identifier is refused with a clear message", async (t) => {
    const context = await browser.newContext();
    t.after(() => context.close());
    const widget = await context.newPage();
    await widget.goto(`${server.url}/widget/?sid=9999`);
    await widget.fill("#name", "Nobody");
    await widget.click("#start-form button[type=submit]");
    await widget.locator("#start-error", { hasText: /unknown serviceIdentifier "9999"/ }).waitFor(T);
    assert.equal(await widget.getByTestId("status").textContent(), "Chat unavailable");
    assert.equal(await widget.locator("#chat").isVisible(), false);
  });
});
