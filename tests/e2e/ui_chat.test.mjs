// One chat through the bundled pages in headless Chromium against the real binary:
// the agent desk (web/desk) signs in as agent1 and goes READY, the customer widget
// (web/widget) starts a chat, the desk accepts the offer, a message goes each way, the
// desk survives a dropped connection (resubscribing with its lastSeq), the customer
// ends the chat and the agent closes the wrap-up.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, skipReason, startSwitchboard, watch } from "./ui_browser.mjs";

const skip = skipReason();
const T = { timeout: 10_000 };

/** `promise`, or a rejection naming `what` after `ms`. */
function within(promise, ms, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Texts of the chat bubbles in `scope`, bot messages left out. */
function bubbles(scope) {
  return scope.locator(".msg:not(.bot) .text").allTextContents();
}

describe("desk and widget", { skip: skip ?? false }, () => {
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

  test("a chat from the widget to the desk and back, to wrap-up", { timeout: 90_000 }, async (t) => {
    const deskContext = await browser.newContext({ viewport: { width: 1100, height: 720 } });
    const widgetContext = await browser.newContext({ viewport: { width: 420, height: 720 } });
    t.after(async () => {
      await deskContext.close();
      await widgetContext.close();
    });
    const desk = await deskContext.newPage();
    const widget = await widgetContext.newPage();
    const problems = [watch(desk, "desk"), watch(widget, "widget")];

    // The desk signs in and goes READY.
    await desk.goto(`${server.url}/desk/`);
    await desk.fill("#username", "agent1");
    await desk.fill("#password", "agent1");
    await desk.click("#login-form button[type=submit]");
    const state = desk.getByTestId("agent-state");
    await state.filter({ hasText: "NOT READY" }).waitFor(T);
    await desk.click("#ready");
    await state.filter({ hasText: /^READY$/ }).waitFor(T);
    assert.match(await desk.locator("#mrds").textContent(), /CHAT ready/);

    // The customer starts a chat and writes before anyone accepted.
    await widget.goto(`${server.url}/widget/`);
    await widget.fill("#name", "Jane Doe");
    await widget.click("#start-form button[type=submit]");
    const offer = desk.getByTestId("offer");
    await offer.waitFor(T);
    assert.match(await offer.textContent(), /Jane Doe/, "the offer names the customer");
    assert.match(await offer.locator(".countdown").textContent(), /^\d+s$/, "the offer counts down");
    await widget.fill("#text", "Hello, my order is late.");
    await widget.press("#text", "Enter");
    await widget.locator(".msg.mine[data-state=delivered]").waitFor(T);

    // The desk accepts: the offer goes, the conversation opens with the history.
    await offer.locator("button.accept").click();
    await offer.waitFor({ state: "detached", ...T });
    const chat = desk.locator("#chat");
    await chat.locator(".msg", { hasText: "Hello, my order is late." }).waitFor(T);
    assert.equal(await desk.getByTestId("phase").textContent(), "active");
    assert.match(await desk.getByTestId("conversation").textContent(), /Jane Doe/);

    // The agent answers; the customer sees it.
    await chat.locator(".composer textarea").fill("Hi Jane, let me check.");
    await chat.locator(".composer button[type=submit]").click();
    await widget.locator(".msg:not(.mine)", { hasText: "Hi Jane, let me check." }).waitFor(T);
    assert.match(await widget.getByTestId("status").textContent(), /chatting/);

    // The desk's connection drops; the customer writes meanwhile; the desk reconnects,
    // resubscribes from its lastSeq and shows what it missed, once.
    const lastSeq = await desk.evaluate(() => {
      const [conversation] = window.switchboardDesk.store.list();
      return conversation.lastSeq;
    });
    assert.ok(lastSeq > 0, `lastSeq ${lastSeq}`);
    const resubscribed = new Promise((resolve) => {
      desk.on("websocket", (ws) =>
        ws.on("framesent", ({ payload }) => {
          const text = String(payload);
          if (text.includes('"topicSubscription"') && text.includes('"lastSeq"')) resolve(text);
        }),
      );
    });
    await desk.evaluate(() => window.switchboardDesk.connection.socket.io.engine.close());
    await widget.fill("#text", "Are you still there?");
    await widget.press("#text", "Enter");
    await widget.locator(".msg.mine[data-state=delivered]", { hasText: "Are you still there?" }).waitFor(T);
    const frame = await within(resubscribed, 10_000, "topicSubscription with lastSeq after the reconnect");
    const sentSeq = Number(frame.match(/"lastSeq":(\d+)/)?.[1]);
    assert.ok(sentSeq >= lastSeq, `resubscribed with lastSeq ${sentSeq}, had ${lastSeq}`);
    await chat.locator(".msg", { hasText: "Are you still there?" }).waitFor(T);
    const deskTexts = await bubbles(chat);
    assert.equal(
      deskTexts.filter((text) => text === "Are you still there?").length,
      1,
      `shown once: ${JSON.stringify(deskTexts)}`,
    );
    assert.equal(deskTexts.filter((text) => text === "Hello, my order is late.").length, 1);

    // The customer ends the chat: the widget says so, the desk is put in wrap-up.
    await widget.click("#end");
    await widget.locator("#ended").waitFor({ state: "visible", ...T });
    assert.match(await widget.getByTestId("status").textContent(), /ended/i);
    const wrapup = desk.getByTestId("wrapup-form");
    await wrapup.waitFor(T);
    assert.equal(await desk.getByTestId("phase").textContent(), "wrap-up");

    // Submitting without a code is refused in the page; with one it closes the wrap-up.
    await wrapup.locator("button[type=submit]").click();
    await wrapup.locator(".notice.bad", { hasText: "at least one" }).waitFor(T);
    await wrapup.locator("label", { hasText: "Issue resolved" }).locator("input").check();
    await wrapup.locator("textarea").fill("Order located");
    await wrapup.locator("button[type=submit]").click();
    await desk.getByTestId("conversation").waitFor({ state: "detached", ...T });
    assert.match(await desk.getByTestId("notices").textContent(), /Wrap-up saved for Jane Doe/);

    // Both sides saw the whole conversation in order.
    assert.deepEqual(
      await bubbles(widget.getByTestId("messages")),
      ["Hello, my order is late.", "Hi Jane, let me check.", "Are you still there?"],
      "the widget transcript",
    );
    assert.deepEqual(problems.flat(), []);
  });
});
