// The desk's chat tools in headless Chromium, with the widget in another browser
// context: a transfer with a note to a named agent, rejecting an offer, a `/` canned
// response, End chat (and what Leave explains first), and Alt+A to accept.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { login } from "./harness.mjs";
import { launchBrowser, skipReason, startSwitchboard, watch } from "./ui_browser.mjs";

const skip = skipReason();
const T = { timeout: 10_000 };

describe("desk chat tools", { skip: skip ?? false }, () => {
  let browser;

  before(async () => {
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
  });

  /** A fresh server per test: its agents' states and chats are the test's own. */
  async function freshServer(t) {
    const server = await startSwitchboard();
    t.after(() => server.stop());
    return server;
  }

  async function page(t, server, name) {
    const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    t.after(() => context.close());
    const p = await context.newPage();
    return { page: p, problems: watch(p, name) };
  }

  async function readyDesk(t, server, user) {
    const { page: desk, problems } = await page(t, server, user);
    await desk.goto(`${server.url}/desk/`);
    await desk.fill("#username", user);
    await desk.fill("#password", user);
    await desk.click("#login-form button[type=submit]");
    await desk.locator("#connection.connected").waitFor(T);
    await desk.click("#ready");
    await desk.getByTestId("agent-state").filter({ hasText: /^READY$/ }).waitFor(T);
    return { desk, problems };
  }

  async function customer(t, server, name) {
    const { page: widget, problems } = await page(t, server, `widget ${name}`);
    await widget.goto(`${server.url}/widget/`);
    await widget.fill("#name", name);
    await widget.click("#start-form button[type=submit]");
    return { widget, problems };
  }

  async function acceptOffer(desk, name) {
    const offer = desk.getByTestId("offer").filter({ hasText: name });
    await offer.waitFor(T);
    await offer.locator("button.accept").click();
    await desk.getByTestId("phase").filter({ hasText: "active" }).waitFor(T);
  }

  test("a transfer with a note to a named agent: the offer says so, and the chat moves", async (t) => {
    const server = await freshServer(t);
    const one = await readyDesk(t, server, "agent1");
    const { widget } = await customer(t, server, "Dana");
    await acceptOffer(one.desk, "Dana");
    const two = await readyDesk(t, server, "agent2");

    await one.desk.getByTestId("assist").click();
    const dialog = one.desk.getByTestId("assist-dialog");
    await dialog.waitFor(T);
    await dialog.locator("option", { hasText: /^agent2 · ready/ }).waitFor({ state: "attached", ...T });
    const agentLabel = await dialog.locator("option", { hasText: /^agent2/ }).textContent();
    await dialog.getByTestId("assist-agent").selectOption({ label: agentLabel });
    assert.match(await dialog.getByTestId("assist-explain").textContent(), /moves to them/);
    await dialog.getByLabel("Note").fill("Wants a refund for order 1182");
    await one.desk.screenshot({ path: "/tmp/ui_desk_transfer_dialog.png" });
    await dialog.getByRole("button", { name: "Send request" }).click();
    await dialog.waitFor({ state: "detached", ...T });
    await one.desk.getByTestId("notices").filter({ hasText: "Transfer requested: waiting for agent2" }).waitFor(T);

    const offer = two.desk.getByTestId("offer").filter({ hasText: "Dana" });
    await offer.waitFor(T);
    assert.equal(await offer.getByTestId("offer-kind").textContent(), "Transfer from agent1 · queue Default");
    assert.equal(await offer.getByTestId("offer-note").textContent(), "“Wants a refund for order 1182”");
    await two.desk.screenshot({ path: "/tmp/ui_desk_transfer_offer.png" });
    await offer.locator("button.accept").click();
    await two.desk.getByTestId("phase").filter({ hasText: "active" }).waitFor(T);
    // agent1 handed the chat over (and wraps up its part); agent2 talks to the customer.
    await one.desk.getByTestId("notices").filter({ hasText: "agent2 took over the chat with Dana" }).waitFor(T);
    await one.desk.getByTestId("phase").filter({ hasText: /wrap-up|left|closed/ }).waitFor(T);
    assert.equal(await one.desk.getByRole("button", { name: "Transfer…" }).count(), 0);
    await two.desk.getByLabel("Message").fill("Hi Dana, I can help with the refund.");
    await two.desk.getByLabel("Message").press("Enter");
    await widget.locator(".msg", { hasText: "I can help with the refund" }).waitFor(T);
    // The customer sees neutral lines, never who asked whom or the note.
    await widget.locator(".sys", { hasText: "agent2 joined the chat" }).waitFor(T);
    await widget.locator(".sys", { hasText: "agent1 left the chat" }).waitFor(T);
    assert.doesNotMatch(await widget.locator("#messages").textContent(), /refund for order 1182|Transfer/);
    assert.deepEqual([...one.problems, ...two.problems], []);
  });

  test("rejecting an offer sends the chat to another ready agent at once", async (t) => {
    const server = await freshServer(t);
    const three = await readyDesk(t, server, "agent3");
    await customer(t, server, "Eli");
    const offer = three.desk.getByTestId("offer").filter({ hasText: "Eli" });
    await offer.waitFor(T);
    // agent2 goes ready only now: the offer is agent3's until it says no.
    const two = await readyDesk(t, server, "agent2");
    await offer.getByRole("button", { name: "Reject" }).click();
    await offer.waitFor({ state: "detached", ...T });
    await three.desk.getByTestId("notices").filter({ hasText: "turned the chat down" }).waitFor(T);
    // Well inside the demo site's 30 s accept timeout: not a RONA.
    await two.desk.getByTestId("offer").filter({ hasText: "Eli" }).waitFor({ timeout: 5_000 });
    assert.equal(await three.desk.getByTestId("offer").count(), 0, "not offered back to who rejected it");
    await three.desk.getByTestId("agent-state").filter({ hasText: /^READY$/ }).waitFor(T);
    assert.deepEqual([...three.problems, ...two.problems], []);
  });

  test("a `/` canned response is picked from the composer and sent", async (t) => {
    const server = await freshServer(t);
    const admin = await login(server.url, "admin", "admin");
    const created = await fetch(`${server.url}/api/v1/canned-responses`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${admin}` },
      body: JSON.stringify({ shortcut: "wait", text: "Thanks for waiting, I am checking that for you." }),
    });
    assert.equal(created.status, 201, await created.text());
    const one = await readyDesk(t, server, "agent1");
    const { widget } = await customer(t, server, "Fay");
    await acceptOffer(one.desk, "Fay");

    const box = one.desk.getByLabel("Message");
    await box.pressSequentially("/wa");
    const picker = one.desk.getByTestId("canned-picker");
    await picker.filter({ hasText: "/wait" }).waitFor(T);
    await one.desk.screenshot({ path: "/tmp/ui_desk_canned.png" });
    await box.press("Enter");
    assert.equal(await box.inputValue(), "Thanks for waiting, I am checking that for you.");
    assert.equal(await picker.isVisible(), false);
    await box.press("Enter");
    await widget.locator(".msg", { hasText: "Thanks for waiting, I am checking" }).waitFor(T);
    assert.deepEqual(one.problems, []);
  });

  test("Leave explains the requeue; End chat ends it for the customer, who rates it; Alt+A accepts", async (t) => {
    const server = await freshServer(t);
    const one = await readyDesk(t, server, "agent1");
    const { widget } = await customer(t, server, "Gus");
    await one.desk.getByTestId("offer").filter({ hasText: "Gus" }).waitFor(T);
    await one.desk.keyboard.press("Alt+KeyA");
    await one.desk.getByTestId("phase").filter({ hasText: "active" }).waitFor(T);

    await one.desk.getByRole("button", { name: "Leave" }).click();
    const leave = one.desk.getByTestId("dialog");
    await leave.filter({ hasText: "goes back to the queue" }).waitFor(T);
    await leave.getByTestId("dialog-cancel").click();
    await leave.waitFor({ state: "detached", ...T });
    await one.desk.getByTestId("phase").filter({ hasText: "active" }).waitFor(T);

    await one.desk.getByRole("button", { name: "End chat" }).click();
    await one.desk.getByTestId("dialog-confirm").click();
    await widget.locator(".sys", { hasText: "The agent ended the chat" }).waitFor(T);
    await one.desk.getByTestId("phase").filter({ hasText: /wrap-up|closed/ }).waitFor(T);

    // The customer rates the chat; the rating is kept with the conversation.
    const csat = widget.getByTestId("csat");
    await csat.waitFor(T);
    await csat.locator("label", { hasText: "5" }).click();
    await widget.getByLabel("Comment").fill("Solved in two minutes");
    await widget.screenshot({ path: "/tmp/ui_widget_csat.png" });
    await csat.getByRole("button", { name: "Send rating" }).click();
    await widget.locator("#csat-thanks").waitFor(T);
    const admin = await login(server.url, "admin", "admin");
    const list = await (
      await fetch(`${server.url}/api/v1/conversations?limit=5`, { headers: { authorization: `Bearer ${admin}` } })
    ).json();
    const rated = list.find((c) => c.csat);
    assert.equal(rated?.csat.rating, 5, JSON.stringify(list.map((c) => c.csat)));
    assert.equal(rated.csat.comment, "Solved in two minutes");
    assert.deepEqual(one.problems, []);
  });

  test("the customer panel shows the form and opens a past conversation's transcript", async (t) => {
    const server = await freshServer(t);
    const one = await readyDesk(t, server, "agent1");
    const { widget } = await customer(t, server, "Jo");
    await acceptOffer(one.desk, "Jo");
    await widget.locator("#text").fill("My parcel 77 never arrived");
    await widget.locator("#text").press("Enter");
    await one.desk.locator(".msg", { hasText: "parcel 77" }).waitFor(T);
    await one.desk.getByRole("button", { name: "End chat" }).click();
    await one.desk.getByTestId("dialog-confirm").click();
    await one.desk.getByTestId("wrapup-form").locator("input[type=checkbox]").first().check();
    await one.desk.getByRole("button", { name: "Close wrap-up" }).click();
    await one.desk.getByTestId("wrapup-form").waitFor({ state: "detached", ...T });

    // The same customer (same browser) comes back.
    await widget.locator("#again").click();
    await widget.fill("#name", "Jo");
    await widget.click("#start-form button[type=submit]");
    await acceptOffer(one.desk, "Jo");
    await one.desk.getByTestId("customer-toggle").click();
    const panel = one.desk.getByTestId("customer-panel");
    await panel.waitFor(T);
    assert.match(await panel.textContent(), /First name\s*Jo/);
    const past = panel.getByTestId("past-conversation");
    await past.first().waitFor(T);
    assert.equal(await past.count(), 1);
    await one.desk.screenshot({ path: "/tmp/ui_desk_customer_panel.png" });
    await past.first().click();
    const transcript = one.desk.getByTestId("past-transcript");
    await transcript.locator(".msg", { hasText: "My parcel 77 never arrived" }).waitFor(T);
    await one.desk.screenshot({ path: "/tmp/ui_desk_past_transcript.png" });
    await one.desk.getByTestId("transcript-dialog").getByRole("button", { name: "Close" }).click();
    assert.deepEqual(one.problems, []);
  });

  test("a tablet-width desk keeps the chat beside the list; a phone puts it first", async (t) => {
    const server = await freshServer(t);
    const one = await readyDesk(t, server, "agent1");
    await customer(t, server, "Hal");
    await acceptOffer(one.desk, "Hal");
    for (const width of [1024, 800, 420]) {
      await one.desk.setViewportSize({ width, height: 760 });
      const box = await one.desk.locator("#chat .composer").boundingBox();
      assert.ok(box && box.y + box.height <= 760, `at ${width}px the composer is on screen (${JSON.stringify(box)})`);
      await one.desk.screenshot({ path: `/tmp/ui_desk_${width}.png` });
    }
    assert.deepEqual(one.problems, []);
  });
});
