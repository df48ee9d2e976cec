// An admin sets up a new line of business in the console (web/admin) in headless
// Chromium, without curl, and it works at once: team Billing, agent bella in it with
// CHAT capacity 2 and attribute billing = 7, queue Billing (step 1 `billing >= 5` for
// 10 s, step 2 anyone), a web channel routed to it. bella signs in on the desk and goes
// ready; the channel's widget (opened from the channel's row) writes and bella is
// offered the chat. A wrap-up code edited meanwhile is what bella picks at wrap-up, and
// deleting the queue is refused with the server's 409 naming the channel. Also: a
// user disabled and given a new password, a code deleted, and a supervisor's
// read-only view.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, skipReason, startSwitchboard, watch } from "./ui_browser.mjs";
import { openPage, signIn } from "./ui_console.mjs";

const skip = skipReason();
const T = { timeout: 10_000 };
const SHOTS = process.env.UI_SCREENSHOTS; // a directory: save screenshots there

async function shot(page, name) {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

/** Clicks the form's submit button and waits for the list's "Saved …" line. */
async function save(page, what) {
  await page.getByTestId("entity-form").locator("button[type=submit]").click();
  await page.getByTestId("flash").filter({ hasText: `Saved ${what}` }).waitFor(T);
}

describe("an admin sets up a site in the console", { skip: skip ?? false }, () => {
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

  test("team, agent, queue with steps, channel → the agent is offered the widget's chat", { timeout: 120_000 }, async (t) => {
    const adminContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const deskContext = await browser.newContext({ viewport: { width: 1100, height: 720 } });
    t.after(async () => {
      await adminContext.close();
      await deskContext.close();
    });
    const admin = await adminContext.newPage();
    const problems = [watch(admin, "console")];
    await admin.goto(`${server.url}/`);
    await signIn(admin, "admin");
    const form = admin.locator("#view");

    // Team Billing.
    await openPage(admin, "Teams");
    await admin.getByRole("link", { name: "New team" }).click();
    await form.getByLabel("Name", { exact: true }).fill("Billing");
    await save(admin, "team “Billing”");

    // The attribute the queue's first step asks for.
    await openPage(admin, "Routing attributes");
    await admin.getByTestId("empty").waitFor(T);
    assert.match(await admin.getByTestId("empty").textContent(), /queue step/, "the empty state says what to do next");
    await admin.getByTestId("empty").getByRole("link", { name: "New routing attribute" }).click();
    await form.getByLabel("Name", { exact: true }).fill("billing");
    await form.getByLabel("Type").selectOption("PROFICIENCY");
    await save(admin, "routing attribute “billing”");

    // Agent bella: a bad username is refused at its field, then created with her team,
    // capacity and attribute, which read back on her page.
    await openPage(admin, "Users");
    await admin.getByRole("link", { name: "New user" }).click();
    const username = form.getByLabel("Username");
    await username.fill("bella smith");
    await form.getByLabel("Password").fill("bella-pw");
    await form.getByLabel("Role").selectOption("agent");
    await form.getByLabel("Team").selectOption({ label: "Billing" });
    await form.getByLabel("CHAT capacity").fill("2");
    await form.getByLabel("billing", { exact: true }).fill("7");
    await admin.getByTestId("entity-form").locator("button[type=submit]").click();
    const usernameError = admin.locator("[data-field=username] .field-error");
    await usernameError.waitFor(T);
    assert.match(await usernameError.textContent(), /username/i);
    assert.equal(await username.getAttribute("aria-invalid"), "true");
    await shot(admin, "user-field-error");
    await username.fill("bella");
    await form.getByLabel("First name").fill("Bella");
    await save(admin, "user “bella”");
    await admin.getByRole("row", { name: /bella/ }).getByText("Billing").waitFor(T);
    await admin.getByRole("link", { name: "bella", exact: true }).click();
    await admin.getByRole("heading", { name: "User “bella”" }).waitFor(T);
    assert.equal(await form.getByLabel("CHAT capacity").inputValue(), "2");
    assert.equal(await form.getByLabel("billing", { exact: true }).inputValue(), "7");
    assert.equal(await form.getByLabel("Team").locator("option:checked").textContent(), "Billing");

    // Queue Billing: two steps, checked by the server as they are typed.
    await openPage(admin, "Queues");
    await admin.getByRole("link", { name: "New queue" }).click();
    await form.getByLabel("Name", { exact: true }).fill("Billing");
    await form.getByLabel("MRD").selectOption({ label: "CHAT" });
    await admin.getByRole("button", { name: "Add step" }).click();
    const step1 = form.getByLabel("Step 1 expression");
    await step1.fill("biling >= 5");
    const verdict1 = admin.locator("[data-field='steps[0].expression'] .verdict");
    await verdict1.filter({ hasText: /biling/ }).waitFor(T);
    assert.equal(await step1.getAttribute("aria-invalid"), "true", "an unknown attribute is flagged as typed");
    await step1.fill("billing >= 5");
    await verdict1.filter({ hasText: "Valid. Uses billing." }).waitFor(T);
    await admin.locator("[data-field='steps[0].timeoutSecs'] input").fill("10");
    await admin.getByRole("button", { name: "Add step" }).click();
    await form.getByLabel("Step 2 expression").waitFor(T);
    // A third step, moved up and removed again: the editor keeps the order.
    await admin.getByRole("button", { name: "Add step" }).click();
    await form.getByLabel("Step 3 expression").fill("billing >= 9");
    await admin.getByRole("button", { name: "Move step 3 up" }).click();
    assert.equal(await form.getByLabel("Step 2 expression").inputValue(), "billing >= 9");
    assert.equal(await form.getByLabel("Step 3 expression").inputValue(), "");
    await admin.getByRole("button", { name: "Remove step 2" }).click();
    assert.equal(await admin.locator("[data-testid=steps] li.step").count(), 2);
    assert.equal(await form.getByLabel("Step 1 expression").inputValue(), "billing >= 5");
    assert.equal(await form.getByLabel("Step 2 expression").inputValue(), "");
    await shot(admin, "queue-steps");
    await save(admin, "queue “Billing”");
    const queueRow = admin.getByRole("row", { name: /Billing/ });
    assert.match(await queueRow.textContent(), /billing >= 5 → any/);

    // A web channel routed to the queue.
    await openPage(admin, "Channels");
    await admin.getByRole("link", { name: "New channel" }).click();
    await form.getByLabel("Name", { exact: true }).fill("Web billing");
    await form.getByLabel("Service identifier").fill("web-billing");
    await form.getByLabel("Type").selectOption("WEB");
    await form.getByLabel("Mode").selectOption("PUSH");
    await form.getByLabel("Queue", { exact: true }).selectOption({ label: "Billing" });
    await save(admin, "channel “Web billing”");
    const channelRow = admin.getByRole("row", { name: /Web billing/ });
    assert.match(await channelRow.textContent(), /queue Billing/);
    await shot(admin, "channels");

    // bella signs in on the desk and goes ready.
    const desk = await deskContext.newPage();
    problems.push(watch(desk, "desk"));
    await desk.goto(`${server.url}/desk/`);
    await desk.fill("#username", "bella");
    await desk.fill("#password", "bella-pw");
    await desk.click("#login-form button[type=submit]");
    const state = desk.getByTestId("agent-state");
    await state.filter({ hasText: "NOT READY" }).waitFor(T);
    await desk.click("#ready");
    await state.filter({ hasText: /^READY$/ }).waitFor(T);

    // The channel's widget, opened from its row, starts a chat: bella is offered it.
    const [widget] = await Promise.all([
      adminContext.waitForEvent("page"),
      channelRow.getByRole("link", { name: /Open the chat widget of channel Web billing/ }).click(),
    ]);
    problems.push(watch(widget, "widget"));
    await widget.waitForLoadState();
    assert.match(widget.url(), /\/widget\/\?sid=web-billing$/);
    await widget.fill("#name", "Carl Customer");
    await widget.click("#start-form button[type=submit]");
    await widget.fill("#text", "My invoice is wrong.");
    await widget.press("#text", "Enter");
    const offer = desk.getByTestId("offer");
    await offer.waitFor(T);
    assert.match(await offer.textContent(), /Carl Customer/);
    await offer.locator("button.accept").click();
    await desk.locator("#chat .msg", { hasText: "My invoice is wrong." }).waitFor(T);

    // A wrap-up code edited now is what bella picks at this chat's wrap-up.
    await openPage(admin, "Wrap-up codes");
    await admin.getByRole("link", { name: "Order placed", exact: true }).click();
    await form.getByLabel("Code", { exact: true }).fill("Refund issued");
    await save(admin, "wrap-up code “Refund issued”");
    await widget.click("#end");
    const wrapup = desk.getByTestId("wrapup-form");
    await wrapup.waitFor(T);
    await wrapup.locator("label", { hasText: "Refund issued" }).waitFor(T);
    assert.equal(await wrapup.locator("label", { hasText: "Order placed" }).count(), 0);
    await wrapup.locator("label", { hasText: "Refund issued" }).locator("input").check();
    await wrapup.locator("button[type=submit]").click();
    await desk.getByTestId("conversation").waitFor({ state: "detached", ...T });

    // Deleting the queue is refused while the channel routes to it: the dialog says why.
    await openPage(admin, "Queues");
    await admin.getByRole("button", { name: "Delete queue Billing" }).click();
    const dialog = admin.getByTestId("dialog");
    await dialog.getByTestId("dialog-confirm").click();
    const refusal = dialog.getByTestId("dialog-error");
    await refusal.waitFor(T);
    assert.match(await refusal.textContent(), /Web billing/, "the 409 names the channel");
    await shot(admin, "queue-delete-refused");
    await admin.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached", ...T });
    await admin.getByRole("row", { name: /Billing/ }).waitFor(T);

    // The audit log shows who changed what, filtered by entity.
    await openPage(admin, "Audit log");
    await form.getByLabel("Entity", { exact: true }).selectOption("queue");
    await admin.getByRole("row", { name: /wrap-up code/ }).first().waitFor({ state: "detached", ...T });
    const created = admin.getByRole("row", { name: /create.*queue Billing/ });
    await created.waitFor(T);
    assert.match(await created.textContent(), /admin/);
    await form.getByLabel("Entity", { exact: true }).selectOption("wrapupCode");
    await admin.getByRole("row", { name: /queue Billing/ }).waitFor({ state: "detached", ...T });
    const edited = admin.getByRole("row", { name: /update.*wrap-up code.*Refund issued/ });
    await edited.waitFor(T);
    assert.match(await edited.textContent(), /Order placed.*→.*Refund issued/s, "the change, before → after");
    await shot(admin, "audit");
    // Chromium logs the refused requests the test provoked (the bad username, the delete).
    const expected = /Failed to load resource: the server responded with a status of (400|409)/;
    assert.deepEqual(problems.flat().filter((p) => !expected.test(p)), []);
  });

  test("an admin disables a user, sets a password and deletes a code", { timeout: 60_000 }, async (t) => {
    const context = await browser.newContext({ viewport: { width: 768, height: 1000 } });
    t.after(() => context.close());
    const page = await context.newPage();
    const problems = watch(page, "console");
    await page.goto(`${server.url}/`);
    await signIn(page, "admin");
    const view = page.locator("#view");

    // agent3: a new password, then disabled (asked first); the list says so.
    await openPage(page, "Users");
    await page.getByLabel("Search users").fill("agent3");
    await page.getByRole("row", { name: /agent1/ }).waitFor({ state: "detached", ...T });
    await page.getByRole("link", { name: "agent3", exact: true }).click();
    await page.getByRole("heading", { name: "User “agent3”" }).waitFor(T);
    await view.getByLabel("New password").fill("fresh-pw-3");
    await page.getByRole("button", { name: "Set password" }).click();
    await view.getByText("Password set.").waitFor(T);
    await page.getByRole("button", { name: "Disable user" }).click();
    await page.getByTestId("dialog-confirm").click();
    await page.getByTestId("flash").filter({ hasText: "agent3 disabled" }).waitFor(T);
    await page.getByRole("row", { name: /agent3/ }).getByText("disabled").waitFor(T);
    await shot(page, "users-768");

    // A reason code deleted from its form leaves the list.
    await openPage(page, "Reason codes");
    await page.getByRole("link", { name: "Meeting", exact: true }).click();
    await page.getByRole("button", { name: "Delete reason code", exact: true }).click();
    await page.getByTestId("dialog-confirm").click();
    await page.getByTestId("flash").filter({ hasText: "Deleted reason code “Meeting”" }).waitFor(T);
    assert.equal(await page.getByRole("link", { name: "Meeting", exact: true }).count(), 0);
    assert.deepEqual(problems, []);
  });

  test("a supervisor reads the pages without edit controls", { timeout: 60_000 }, async (t) => {
    const context = await browser.newContext({ viewport: { width: 768, height: 1000 } });
    t.after(() => context.close());
    const page = await context.newPage();
    const problems = watch(page, "console");
    await page.goto(`${server.url}/`);
    await signIn(page, "supervisor");
    const nav = page.getByRole("navigation", { name: "Console sections" });
    const links = await nav.getByRole("link").allTextContents();
    for (const wanted of ["Users", "Teams", "Queues", "Channels", "Wrap-up codes"]) {
      assert.ok(links.includes(wanted), `${wanted} in ${JSON.stringify(links)}`);
    }
    assert.ok(!links.includes("Audit log"), "the audit log is for admins");

    for (const title of ["Users", "Queues", "Channels", "Wrap-up codes"]) {
      await openPage(page, title);
      await page.getByTestId("list").locator("table").waitFor(T);
      assert.equal(await page.getByRole("link", { name: /^New / }).count(), 0, `${title}: no New button`);
      assert.equal(await page.getByRole("button", { name: /^Delete / }).count(), 0, `${title}: no Delete buttons`);
      assert.match(await page.locator("#view").textContent(), /Read only/);
    }
    await shot(page, "supervisor-wrapup-codes-768");

    // An entity opens read-only: every control disabled, nothing to save or delete.
    await openPage(page, "Queues");
    await page.getByRole("link", { name: "Default" }).click();
    await page.getByRole("heading", { name: "Queue “Default”" }).waitFor(T);
    assert.ok(await page.locator("#view").getByLabel("Name", { exact: true }).isDisabled());
    assert.equal(await page.getByRole("button", { name: /Save|Delete|Add step/ }).count(), 0);
    await shot(page, "supervisor-queue-768");
    assert.deepEqual(problems, []);
  });
});
