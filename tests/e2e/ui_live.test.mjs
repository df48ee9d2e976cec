// The supervisor console's Live page (web/admin/live) in headless Chromium against the
// real binary, with an agent desk and a customer widget in other browser contexts: a
// chat arrives and is answered, the supervisor monitors, whispers and barges in, a
// supervisor of no team sees neither the agent nor the chat, and a force logout
// reaches the desk with the supervisor's name while the chat goes back to its queue.
// Screenshots go to $UI_SCREENSHOTS (default: the temp directory).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import os from "node:os";
import path from "node:path";
import { adminOk, login, openDesk } from "./harness.mjs";
import { launchBrowser, skipReason, startSwitchboard, watch } from "./ui_browser.mjs";
import { signIn } from "./ui_console.mjs";

const skip = skipReason();
const T = { timeout: 15_000 };
const shots = process.env.UI_SCREENSHOTS ?? os.tmpdir();

describe("supervisor console, live", { skip: skip ?? false }, () => {
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

  test("a chat on the wallboard, monitor, whisper, barge-in, scope and force logout", { timeout: 120_000 }, async (t) => {
    const contexts = await Promise.all([
      browser.newContext({ viewport: { width: 1500, height: 1000 } }),
      browser.newContext({ viewport: { width: 1100, height: 720 } }),
      browser.newContext({ viewport: { width: 420, height: 720 } }),
      browser.newContext({ viewport: { width: 1300, height: 800 } }),
    ]);
    t.after(() => Promise.all(contexts.map((c) => c.close())));
    const [sup, desk, widget, other] = await Promise.all(contexts.map((c) => c.newPage()));
    const problems = [watch(sup, "console"), watch(desk, "desk"), watch(widget, "widget"), watch(other, "other console")];

    // The supervisor signs in on the console and lands on Live.
    await sup.goto(`${server.url}/`);
    await signIn(sup, "supervisor");
    await sup.getByRole("heading", { name: "Live", level: 1 }).waitFor(T);
    await sup.getByTestId("live-status").filter({ hasText: "live" }).waitFor(T);
    const queueRow = sup.locator("tr[data-queue=Default]");
    await queueRow.getByTestId("queue-waiting").filter({ hasText: /^0$/ }).waitFor(T);

    // The agent signs in on the desk and goes READY.
    await desk.goto(`${server.url}/desk/`);
    await desk.fill("#username", "agent1");
    await desk.fill("#password", "agent1");
    await desk.click("#login-form button[type=submit]");
    await desk.getByTestId("agent-state").filter({ hasText: "NOT READY" }).waitFor(T);
    await desk.click("#ready");
    await desk.getByTestId("agent-state").filter({ hasText: /^READY$/ }).waitFor(T);
    const agentRow = sup.locator("tr[data-agent=agent1]");
    await agentRow.getByTestId("agent-state").filter({ hasText: /^READY$/ }).waitFor(T);

    // A chat arrives: waiting 1.
    await widget.goto(`${server.url}/widget/`);
    await widget.fill("#name", "Jane Doe");
    await widget.click("#start-form button[type=submit]");
    await queueRow.getByTestId("queue-waiting").filter({ hasText: /^1$/ }).waitFor(T);
    await sup.screenshot({ path: path.join(shots, "live-1-waiting.png"), fullPage: true });
    await widget.fill("#text", "Hello, my order is late.");
    await widget.press("#text", "Enter");
    await widget.locator(".msg.mine[data-state=delivered]").waitFor(T);

    // The agent accepts: waiting 0, answered 1, the agent ACTIVE 1/5.
    const offer = desk.getByTestId("offer");
    await offer.waitFor(T);
    await offer.locator("button.accept").click();
    await desk.locator("#chat .msg", { hasText: "Hello, my order is late." }).waitFor(T);
    await queueRow.getByTestId("queue-waiting").filter({ hasText: /^0$/ }).waitFor(T);
    await queueRow.getByTestId("queue-answered").filter({ hasText: /^1$/ }).waitFor(T);
    await agentRow.getByTestId("agent-mrds").filter({ hasText: "CHAT ACTIVE 1/5" }).waitFor(T);
    const conversationRow = sup.getByTestId("conversation-row").filter({ hasText: "Jane Doe" });
    await conversationRow.getByTestId("conversation-state").filter({ hasText: "ACTIVE" }).waitFor(T);
    assert.match(await conversationRow.textContent(), /agent1/);
    await sup.screenshot({ path: path.join(shots, "live-2-answered.png"), fullPage: true });

    // A supervisor of no team sees the queue but neither the agent nor the chat.
    const created = await fetch(`${server.url}/api/v1/users`, {
      method: "POST",
      headers: { authorization: `Bearer ${await login(server.url, "admin")}`, "content-type": "application/json" },
      body: JSON.stringify({ username: "sup2", password: "sup2-password", role: "supervisor" }),
    });
    assert.equal(created.status, 201);
    await other.goto(`${server.url}/`);
    await signIn(other, "sup2", "sup2-password");
    await other.getByRole("heading", { name: "Live", level: 1 }).waitFor(T);
    await other.locator("tr[data-queue=Default]").getByTestId("queue-answered").filter({ hasText: /^1$/ }).waitFor(T);
    assert.equal(await other.locator("tr[data-agent=agent1]").count(), 0, "no agent of another team");
    assert.equal(await other.getByTestId("conversation-row").count(), 0, "no chat of another team");
    await other.getByText("No ongoing conversations.").waitFor(T);
    await other.screenshot({ path: path.join(shots, "live-3-other-team.png"), fullPage: true });

    // Silent monitor: the transcript, no composer.
    const monitor = sup.getByTestId("monitor");
    await conversationRow.getByTestId("join-silent").click();
    await monitor.getByTestId("monitor-mode").filter({ hasText: "silent" }).waitFor(T);
    await monitor.getByTestId("transcript").locator(".msg", { hasText: "Hello, my order is late." }).waitFor(T);
    assert.equal(await monitor.getByTestId("monitor-input").count(), 0, "a silent monitor cannot write");
    // The transcript is live.
    await widget.fill("#text", "It was due Monday.");
    await widget.press("#text", "Enter");
    await monitor.getByTestId("transcript").locator(".msg", { hasText: "It was due Monday." }).waitFor(T);

    // Whisper: the agent's desk shows it, the customer's widget does not.
    await monitor.getByTestId("switch-whisper").click();
    await monitor.getByTestId("monitor-mode").filter({ hasText: "whisper" }).waitFor(T);
    await monitor.getByTestId("monitor-input").fill("Offer a 10% voucher.");
    await monitor.getByTestId("monitor-input").press("Enter");
    await desk.locator("#chat .msg.whisper", { hasText: "Offer a 10% voucher." }).waitFor(T);
    await monitor.getByTestId("transcript").locator(".msg", { hasText: "Offer a 10% voucher." }).waitFor(T);
    await sup.screenshot({ path: path.join(shots, "live-4-whisper.png"), fullPage: true });
    await desk.screenshot({ path: path.join(shots, "live-5-desk-whisper.png") });

    // Barge-in: the customer sees the supervisor.
    await monitor.getByTestId("switch-barge").click();
    await monitor.getByTestId("monitor-mode").filter({ hasText: "barge-in" }).waitFor(T);
    await monitor.getByTestId("monitor-input").fill("Hello Jane, I am the team's supervisor.");
    await monitor.getByTestId("monitor-input").press("Enter");
    await widget.locator(".msg:not(.mine)", { hasText: "I am the team's supervisor." }).waitFor(T);
    await widget.screenshot({ path: path.join(shots, "live-6-widget-barge.png") });
    assert.doesNotMatch(await widget.getByTestId("messages").textContent(), /voucher/, "the whisper never reached the customer");

    // Leave.
    await monitor.getByTestId("monitor-leave").click();
    await monitor.waitFor({ state: "hidden", ...T });

    // Force logout, confirmed: the desk names the supervisor, the chat is requeued.
    await agentRow.getByTestId("agent-logout").click();
    await sup.getByTestId("dialog-confirm").click();
    await desk.locator("#banner", { hasText: "supervisor (supervisor) logged you out." }).waitFor(T);
    await conversationRow.getByTestId("conversation-state").filter({ hasText: "WAITING" }).waitFor(T);
    await queueRow.getByTestId("queue-waiting").filter({ hasText: /^1$/ }).waitFor(T);
    // Logged out: the row says LOGOUT, or (once its desk is closed too, and it holds no
    // task) the agent is off the floor and leaves the list; both may come in one update.
    await sup.waitForFunction(() => {
      const row = document.querySelector("tr[data-agent=agent1]");
      return !row || /LOGOUT/.test(row.querySelector("[data-testid=agent-state]")?.textContent ?? "");
    }, null, T);
    assert.doesNotMatch(await desk.locator("body").textContent(), /given to another agent/);
    await desk.screenshot({ path: path.join(shots, "live-7-desk-forced-out.png") });
    await sup.screenshot({ path: path.join(shots, "live-8-requeued.png"), fullPage: true });

    assert.deepEqual(problems.flat(), []);
  });

  test("a supervisor given a team: its open console reconnects and shows the team's agents", { timeout: 60_000 }, async (t) => {
    const api = (method, route, body) => adminOk(server.url, method, route, body);
    await api("POST", "/users", { username: "sup3", password: "sup3-password", role: "supervisor" });
    const desk = await openDesk(server.url, "agent2");
    t.after(() => desk.socket.close());
    const page = await browser.newPage({ viewport: { width: 1300, height: 800 } });
    t.after(() => page.close());
    const problems = watch(page, "console");
    await page.goto(`${server.url}/`);
    await signIn(page, "sup3", "sup3-password");
    await page.getByTestId("live-status").filter({ hasText: "live" }).waitFor(T);
    assert.equal(await page.locator("tr[data-agent=agent2]").count(), 0, "not its team yet");

    // The admin makes sup3 a supervisor of agent2's team: the console, allowed what
    // sup3 could see when it connected, is closed and connects again by itself.
    const { items } = await api("GET", "/users?q=agent2");
    const teamId = items.find((u) => u.username === "agent2").teamId;
    const team = await api("GET", `/teams/${teamId}`);
    const supervisors = team.supervisors.map((u) => u.id);
    const sup3 = (await api("GET", "/users?q=sup3")).items.find((u) => u.username === "sup3").id;
    await api("PUT", `/teams/${teamId}/supervisors`, { userIds: [...supervisors, sup3] });
    await page.locator("tr[data-agent=agent2]").waitFor(T);
    await page.getByTestId("live-status").filter({ hasText: "live" }).waitFor(T);
    await page.screenshot({ path: path.join(shots, "live-9-team-given.png"), fullPage: true });
    assert.deepEqual(problems, []);
  });

  test("a supervisor signing in on the desk is taken to the console", async (t) => {
    const page = await browser.newPage();
    t.after(() => page.close());
    await page.goto(`${server.url}/desk/`);
    await page.fill("#username", "supervisor");
    await page.fill("#password", "supervisor");
    await page.click("#login-form button[type=submit]");
    await page.getByRole("heading", { name: "Live", level: 1 }).waitFor(T);
    assert.match(page.url(), /\/#\/live$/);
  });
});
