// The agent desk (web/desk) in headless Chromium against the real binary: state
// changes with a reason and logout, an offer withdrawn before it is accepted, a role
// change that makes the desk connect again, and a second tab taking the session over
// (and back).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { adminOk } from "./harness.mjs";
import { launchBrowser, skipReason, startSwitchboard, watch } from "./ui_browser.mjs";

const skip = skipReason();
const T = { timeout: 10_000 };

describe("agent desk", { skip: skip ?? false }, () => {
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

  /** A new browser context (its own storage, like another browser) signed in as `user`. */
  async function signedIn(t, user) {
    const context = await browser.newContext();
    t.after(() => context.close());
    const page = await context.newPage();
    const problems = watch(page, user);
    await page.goto(`${server.url}/desk/`);
    await page.fill("#username", user);
    await page.fill("#password", user);
    await page.click("#login-form button[type=submit]");
    await page.getByTestId("agent-state").waitFor(T);
    await page.locator("#connection.connected").waitFor(T);
    return { page, problems };
  }

  test("NOT_READY with a reason, READY, then LOGOUT back to the sign-in form", async (t) => {
    const { page, problems } = await signedIn(t, "agent2");
    const state = page.locator("#agent-state");
    await page.locator("#reason option", { hasText: "Lunch" }).waitFor({ state: "attached", ...T });
    await page.selectOption("#reason", { label: "Lunch" });
    await page.click("#not-ready");
    await state.filter({ hasText: /NOT READY\s*Lunch/ }).waitFor(T);
    assert.match(await page.locator("#mrds").textContent(), /CHAT not ready/);

    await page.click("#ready");
    await state.filter({ hasText: /^READY$/ }).waitFor(T);
    assert.match(await page.locator("#mrds").textContent(), /CHAT ready 0\/5/);

    await page.click("#logout");
    await page.locator("#login-error", { hasText: "You are logged out." }).waitFor(T);
    assert.equal(await page.locator("#desk-view").isVisible(), false);
    assert.equal(await page.evaluate(() => sessionStorage.getItem("switchboard.desk.session")), null);
    assert.deepEqual(problems, []);
  });

  test("an offer the customer withdraws leaves the desk", async (t) => {
    const { page: desk, problems } = await signedIn(t, "agent3");
    await desk.click("#ready");
    await desk.getByTestId("agent-state").filter({ hasText: /^READY$/ }).waitFor(T);

    const widgetContext = await browser.newContext();
    t.after(() => widgetContext.close());
    const widget = await widgetContext.newPage();
    await widget.goto(`${server.url}/widget/`);
    await widget.fill("#name", "Sam");
    await widget.click("#start-form button[type=submit]");
    const offer = desk.getByTestId("offer");
    await offer.filter({ hasText: "Sam" }).waitFor(T);
    assert.match(await desk.title(), /^\(1\) New chat/, "the tab title shows the offer");

    await widget.locator("#end").click();
    await offer.waitFor({ state: "detached", ...T });
    await desk.getByTestId("notices").filter({ hasText: "offer was withdrawn" }).waitFor(T);
    assert.doesNotMatch(await desk.title(), /New chat/);
    assert.equal(await desk.getByTestId("conversation").count(), 0);
    assert.deepEqual(problems, []);
  });

  test("an admin changing the agent's role: the desk connects again by itself and goes on", { timeout: 30_000 }, async (t) => {
    const { page, problems } = await signedIn(t, "agent3");
    await page.click("#ready");
    await page.getByTestId("agent-state").filter({ hasText: /^READY$/ }).waitFor(T);
    const api = (method, route, body) => adminOk(server.url, method, route, body);
    const user = (await api("GET", "/users?q=agent3")).items.find((u) => u.username === "agent3");
    const reconnected = page.evaluate(
      () =>
        new Promise((resolve) => {
          const dot = document.getElementById("connection");
          let left = false;
          new MutationObserver(() => {
            if (!dot.classList.contains("connected")) left = true;
            else if (left) resolve(true);
          }).observe(dot, { attributes: true, attributeFilter: ["class"] });
        }),
    );
    await api("PUT", `/users/${user.id}`, {
      firstName: user.firstName, lastName: user.lastName, role: "supervisor", teamId: user.teamId,
    });
    assert.equal(await reconnected, true, "the desk left and came back");
    // It goes on as before: its requests are answered.
    await page.click("#not-ready");
    await page.getByTestId("agent-state").filter({ hasText: "NOT READY" }).waitFor(T);
    assert.deepEqual(problems, []);
  });

  test("a second tab takes the session over, and the first can take it back", async (t) => {
    const first = await signedIn(t, "agent1");
    const second = await signedIn(t, "agent1");
    const banner = first.page.locator("#banner", { hasText: "opened in another tab" });
    await banner.waitFor(T);
    assert.equal(await first.page.locator("#ready").isDisabled(), true, "the replaced tab cannot act");

    await second.page.click("#ready");
    await second.page.getByTestId("agent-state").filter({ hasText: /^READY$/ }).waitFor(T);

    await banner.getByRole("button", { name: "Use this tab" }).click();
    await first.page.locator("#connection.connected").waitFor(T);
    await second.page.locator("#banner", { hasText: "opened in another tab" }).waitFor(T);
    await first.page.click("#not-ready");
    await first.page.getByTestId("agent-state").filter({ hasText: "NOT READY" }).waitFor(T);
    assert.deepEqual([...first.problems, ...second.problems], []);
  });
});
