// The Live view's queue actions and thresholds in headless Chromium, driven by an
// admin as a person would: amber/red limits set in the queue form turn the queue's
// row amber then red; a waiting chat is moved to another queue and then offered to
// a named agent from its row (each asked in a dialog); the admin barges in from the
// Live view and the customer sees it. Screenshots go to $UI_SCREENSHOTS (default:
// the temp directory).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import os from "node:os";
import path from "node:path";
import { login } from "./harness.mjs";
import { launchBrowser, skipReason, startSwitchboard, watch } from "./ui_browser.mjs";
import { openPage, signIn } from "./ui_console.mjs";

const skip = skipReason();
const T = { timeout: 20_000 };
const shots = process.env.UI_SCREENSHOTS ?? os.tmpdir();

async function api(url, token, method, route, body) {
  const response = await fetch(`${url}/api/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json().catch(() => null);
  assert.ok(response.ok, `${method} ${route}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

describe("live view: thresholds and queue actions", { skip: skip ?? false }, () => {
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

  test("thresholds turn a queue amber then red; a waiting chat is moved, offered to agent1, and the admin barges in", { timeout: 150_000 }, async (t) => {
    const contexts = await Promise.all([
      browser.newContext({ viewport: { width: 1500, height: 1000 } }),
      browser.newContext({ viewport: { width: 1100, height: 720 } }),
      browser.newContext({ viewport: { width: 420, height: 720 } }),
    ]);
    t.after(() => Promise.all(contexts.map((c) => c.close())));
    const [admin, desk, widget] = await Promise.all(contexts.map((c) => c.newPage()));
    const problems = [watch(admin, "console"), watch(desk, "desk"), watch(widget, "widget")];

    // A second queue, "Special", that only vip agents match (nobody is vip).
    const token = await login(server.url, "admin");
    const chatMrd = (await api(server.url, token, "GET", "/mrds")).find((m) => m.name === "CHAT");
    await api(server.url, token, "POST", "/routing-attributes", { name: "vip", type: "BOOLEAN" });
    await api(server.url, token, "POST", "/queues", { name: "Special", mrdId: chatMrd.id, steps: [{ expression: "vip", timeoutSecs: 600 }] });

    // The admin sets Default's limits in the queue form: amber after 2 s, red after 6 s.
    await admin.goto(`${server.url}/`);
    await signIn(admin, "admin");
    await openPage(admin, "Queues");
    await admin.getByRole("link", { name: "Default", exact: true }).click();
    await admin.getByRole("heading", { name: "Queue “Default”" }).waitFor(T);
    const limits = admin.getByTestId("thresholds");
    await limits.getByText("Now: not set, so never.").first().waitFor(T);
    // Amber after red is refused at its field, nothing saved.
    await limits.getByLabel("Amber: longest wait (s)").fill("9");
    await limits.getByLabel("Red: longest wait (s)").fill("6");
    await admin.getByTestId("entity-form").locator("button[type=submit]").click();
    await admin.locator("[data-field='thresholds.longestWaitAmberSecs']").getByText("must not exceed").waitFor(T);
    await limits.getByLabel("Amber: longest wait (s)").fill("2");
    await admin.getByTestId("entity-form").locator("button[type=submit]").click();
    await admin.getByTestId("flash").filter({ hasText: "Saved queue" }).waitFor(T);
    // Reopened, the form shows what applies now.
    await admin.getByRole("link", { name: "Default", exact: true }).click();
    await admin.getByRole("heading", { name: "Queue “Default”" }).waitFor(T);
    assert.equal(await limits.getByLabel("Amber: longest wait (s)").inputValue(), "2");
    await limits.getByText("Now: red when a chat has waited this long (6 s).").waitFor(T);
    await admin.screenshot({ path: path.join(shots, "live-actions-1-thresholds.png"), fullPage: true });

    // agent1 signs in but stays NOT READY; a chat arrives and waits in Default.
    await desk.goto(`${server.url}/desk/`);
    await desk.fill("#username", "agent1");
    await desk.fill("#password", "agent1");
    await desk.click("#login-form button[type=submit]");
    await desk.getByTestId("agent-state").filter({ hasText: "NOT READY" }).waitFor(T);
    await openPage(admin, "Live");
    await admin.getByTestId("live-status").filter({ hasText: "live" }).waitFor(T);
    const defaultRow = admin.locator("tr[data-queue=Default]");
    const specialRow = admin.locator("tr[data-queue=Special]");
    await widget.goto(`${server.url}/widget/`);
    await widget.fill("#name", "Jane Doe");
    await widget.click("#start-form button[type=submit]");
    await defaultRow.getByTestId("queue-waiting").filter({ hasText: /^1$/ }).waitFor(T);

    // The wait grows past the limits: amber, then red.
    await admin.locator("tr[data-queue=Default].status-amber").waitFor(T);
    await admin.screenshot({ path: path.join(shots, "live-actions-2-amber.png"), fullPage: true });
    await admin.locator("tr[data-queue=Default].status-red").waitFor(T);
    await defaultRow.getByText("red", { exact: true }).waitFor(T);
    await admin.screenshot({ path: path.join(shots, "live-actions-3-red.png"), fullPage: true });

    // Move the waiting chat to Special, from its row.
    const chatRow = admin.getByTestId("conversation-row").filter({ hasText: "Jane Doe" });
    await chatRow.getByTestId("conversation-state").filter({ hasText: "WAITING" }).waitFor(T);
    await chatRow.getByTestId("chat-move").click();
    const dialog = admin.getByTestId("dialog");
    await dialog.getByLabel("Move to queue").selectOption({ label: "Special (0 waiting)" });
    await admin.screenshot({ path: path.join(shots, "live-actions-4-move-dialog.png"), fullPage: true });
    await dialog.getByTestId("dialog-confirm").click();
    await admin.getByTestId("live-notice").filter({ hasText: "Jane Doe's chat moved to “Special”." }).waitFor(T);
    await specialRow.getByTestId("queue-waiting").filter({ hasText: /^1$/ }).waitFor(T);
    await defaultRow.getByTestId("queue-waiting").filter({ hasText: /^0$/ }).waitFor(T);
    await admin.locator("tr[data-queue=Default].status-ok").waitFor(T);
    await chatRow.locator("td", { hasText: /^Special$/ }).waitFor(T);

    // agent1 goes READY, but is no vip: the chat keeps waiting until the admin offers it.
    await desk.click("#ready");
    await desk.getByTestId("agent-state").filter({ hasText: /^READY$/ }).waitFor(T);
    await admin.locator("tr[data-agent=agent1]").getByTestId("agent-state").filter({ hasText: /^READY$/ }).waitFor(T);
    assert.equal(await desk.getByTestId("offer").count(), 0, "no offer before the admin's");
    await chatRow.getByTestId("chat-offer").click();
    await dialog.getByLabel("Offer to agent").selectOption({ label: "agent1 (ready)" });
    await dialog.getByTestId("dialog-confirm").click();
    await admin.getByTestId("live-notice").filter({ hasText: "Jane Doe's chat offered to agent1." }).waitFor(T);
    const offer = desk.getByTestId("offer");
    await offer.waitFor(T);
    await desk.screenshot({ path: path.join(shots, "live-actions-5-desk-offer.png") });
    await offer.locator("button.accept").click();
    await chatRow.getByTestId("conversation-state").filter({ hasText: "ACTIVE" }).waitFor(T);
    await specialRow.getByTestId("queue-answered").filter({ hasText: /^1$/ }).waitFor(T);

    // The admin barges in from the row: the customer sees the message.
    await chatRow.getByTestId("join-barge").click();
    const monitor = admin.getByTestId("monitor");
    await monitor.getByTestId("monitor-mode").filter({ hasText: "barge-in" }).waitFor(T);
    await monitor.getByTestId("monitor-input").fill("Hello Jane, this is the site admin.");
    await monitor.getByTestId("monitor-input").press("Enter");
    await widget.locator(".msg:not(.mine)", { hasText: "this is the site admin." }).waitFor(T);
    await admin.screenshot({ path: path.join(shots, "live-actions-6-admin-barge.png"), fullPage: true });
    await monitor.getByTestId("monitor-leave").click();
    await monitor.waitFor({ state: "hidden", ...T });

    // The threshold form's refused save shows as a 400 in the console log.
    const expected = /Failed to load resource: the server responded with a status of 400/;
    assert.deepEqual(problems.flat().filter((p) => !expected.test(p)), []);
  });
});
