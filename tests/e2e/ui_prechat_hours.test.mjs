// Issue 17 in headless Chromium: an admin sets the web channel's pre-chat form and
// business hours on the channel's page (a weekly editor, a holiday today so the
// channel is closed now); the widget says it is closed and takes a message with the
// form's fields; no agent is offered it while closed. The admin turns the hours off:
// the READY desk is offered the chat at once and reads the message; its reply reaches
// the customer, who comes back to the page. With the hours off the widget shows the
// pre-chat form's fields and starts a chat with the answers.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, readyDeskPage, skipReason, startSwitchboard, watch } from "./ui_browser.mjs";
import { openPage, signIn } from "./ui_console.mjs";

const skip = skipReason();
const T = { timeout: 10_000 };
const SHOTS = process.env.UI_SCREENSHOTS; // a directory: save screenshots there

async function shot(page, name) {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

/** Today's date in UTC (the demo site's time zone), YYYY-MM-DD. */
const today = () => new Date().toISOString().slice(0, 10);

describe("pre-chat form and business hours", { skip: skip ?? false }, () => {
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

  test("closed: a message is left, routed to the desk when the hours open, and answered", { timeout: 120_000 }, async (t) => {
    const adminContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const deskContext = await browser.newContext({ viewport: { width: 1100, height: 720 } });
    const widgetContext = await browser.newContext({ viewport: { width: 420, height: 760 } });
    t.after(async () => {
      await adminContext.close();
      await deskContext.close();
      await widgetContext.close();
    });
    const admin = await adminContext.newPage();
    const desk = await deskContext.newPage();
    const widget = await widgetContext.newPage();
    const problems = [watch(admin, "console"), watch(desk, "desk"), watch(widget, "widget")];

    // The admin opens the web channel's page.
    await admin.goto(`${server.url}/`);
    await signIn(admin, "admin");
    await openPage(admin, "Channels");
    await admin.getByRole("link", { name: "web", exact: true }).click();
    await admin.getByRole("heading", { name: "Channel “web”" }).waitFor(T);
    const prechat = admin.getByTestId("prechat-editor");
    const hours = admin.getByTestId("hours-editor");

    // Pre-chat form: name required, email optional, a required Topic choice.
    await prechat.getByLabel("Name", { exact: true }).selectOption("required");
    await prechat.getByLabel("Email", { exact: true }).selectOption("optional");
    await admin.getByTestId("add-prechat-field").click();
    await prechat.getByLabel("Field 1 label").fill("Topic");
    assert.equal(await prechat.getByLabel("Key").inputValue(), "topic", "the key follows the label");
    await prechat.getByLabel("Kind").selectOption("select");
    await prechat.getByLabel("Choices (one a line)").fill("Billing\nDelivery");
    await prechat.getByLabel("Required").check();

    // Business hours: Monday 09:00-17:00 copied to the weekdays, and a holiday today.
    await hours.getByLabel("Use business hours").check();
    await hours.getByRole("button", { name: "Add open hours on Monday" }).click();
    await hours.getByLabel("Monday interval 1 opens").fill("09:00");
    await hours.getByLabel("Monday interval 1 closes").fill("17:00");
    await admin.getByTestId("copy-monday").click();
    assert.equal(await hours.getByLabel("Friday interval 1 closes").inputValue(), "17:00");
    // A second Monday interval overlapping the first is refused at its field.
    await hours.getByRole("button", { name: "Add open hours on Monday" }).click();
    await hours.getByLabel("Monday interval 2 opens").fill("12:00");
    await hours.getByLabel("Monday interval 2 closes").fill("18:00");
    await admin.getByTestId("entity-form").locator("button[type=submit]").click();
    const overlap = admin.locator("[data-field='businessHours.weekly.monday'] .field-error");
    await overlap.waitFor(T);
    assert.match(await overlap.textContent(), /overlap/);
    await shot(admin, "hours-error");
    await hours.getByRole("button", { name: "Remove Monday interval 2" }).click();
    await admin.getByTestId("add-holiday").click();
    await hours.getByLabel("Holiday 1 date").fill(today());
    await hours.getByLabel("Holiday 1 name").fill("Test day");
    await shot(admin, "channel-widget-settings");
    await admin.getByTestId("entity-form").locator("button[type=submit]").click();
    await admin.getByTestId("flash").filter({ hasText: "Saved channel “web”" }).waitFor(T);

    // Read back: the page shows what was saved.
    await admin.getByRole("link", { name: "web", exact: true }).click();
    await admin.getByRole("heading", { name: "Channel “web”" }).waitFor(T);
    assert.equal(await prechat.getByLabel("Field 1 label").inputValue(), "Topic");
    assert.equal(await hours.getByLabel("Thursday interval 1 opens").inputValue(), "09:00");
    assert.equal(await hours.getByLabel("Holiday 1 date").inputValue(), today());

    // The agent is ready.
    await readyDeskPage(desk, server.url, "agent1");

    // The widget is closed and offers to leave a message with the form's fields.
    await widget.goto(`${server.url}/widget/`);
    const closed = widget.getByTestId("closed");
    await closed.filter({ hasText: /We're closed — back / }).waitFor(T);
    const leave = widget.getByTestId("leave-form");
    await leave.getByLabel("Your name").fill("Grace Hopper");
    await leave.getByLabel("Email").fill("grace@example.org");
    await leave.getByLabel("Topic").selectOption("Delivery");
    await leave.getByLabel("Your message").fill("My parcel has not arrived. Please get back to me.");
    await shot(widget, "widget-closed");
    await leave.getByRole("button", { name: "Leave a message" }).click();
    await widget.locator(".sys", { hasText: "we have your message" }).waitFor(T);
    await widget.locator(".msg.mine", { hasText: "My parcel has not arrived" }).waitFor(T);
    assert.match(await widget.getByTestId("status").textContent(), /Closed — back /);
    await shot(widget, "widget-left");

    // Closed: the ready agent is offered nothing.
    await desk.waitForTimeout(1_000);
    assert.equal(await desk.getByTestId("offer").count(), 0, "not routed while closed");

    // The admin turns the hours off: the chat is offered at once.
    await hours.getByLabel("Use business hours").uncheck();
    await admin.getByTestId("entity-form").locator("button[type=submit]").click();
    await admin.getByTestId("flash").filter({ hasText: "Saved channel “web”" }).waitFor(T);
    const offer = desk.getByTestId("offer");
    await offer.waitFor(T);
    assert.match(await offer.textContent(), /Grace Hopper/, "the offer names the customer from the form");
    await offer.locator("button.accept").click();
    const chat = desk.locator("#chat");
    await chat.locator(".msg", { hasText: "My parcel has not arrived" }).waitFor(T);
    await shot(desk, "desk-left-message");
    await chat.locator(".composer textarea").fill("Hi Grace, it ships today.");
    await chat.locator(".composer button[type=submit]").click();

    // The customer comes back to the page and reads the reply.
    await widget.reload();
    await widget.locator(".sys", { hasText: "Welcome back, Grace Hopper." }).waitFor(T);
    await widget.locator(".msg:not(.mine)", { hasText: "Hi Grace, it ships today." }).waitFor(T);
    await widget.locator(".msg.mine", { hasText: "My parcel has not arrived" }).waitFor(T);
    await shot(widget, "widget-reply");

    // Open now: a new customer gets the pre-chat form with its fields.
    const other = await browser.newContext({ viewport: { width: 420, height: 760 } });
    t.after(() => other.close());
    const second = await other.newPage();
    problems.push(watch(second, "second widget"));
    await second.goto(`${server.url}/widget/`);
    const start = second.getByTestId("start-form");
    await start.getByLabel("Topic").waitFor(T);
    assert.equal(await start.getByLabel("Your name").getAttribute("required"), "", "the name is required");
    assert.equal(await start.getByLabel("Email (optional)").isVisible(), true);
    assert.equal(await second.getByTestId("leave-form").isVisible(), false);
    await shot(second, "widget-prechat");
    await start.getByLabel("Your name").fill("Alan");
    await start.getByLabel("Topic").selectOption("Billing");
    await start.getByRole("button", { name: "Start chat" }).click();
    await second.locator("#composer").waitFor(T);

    // Chromium logs the one refused request the test provoked (the overlapping hours).
    const expected = /^console: console error Failed to load resource: the server responded with a status of 400/;
    assert.deepEqual(problems.flat().filter((p) => !expected.test(p)), []);
  });
});
