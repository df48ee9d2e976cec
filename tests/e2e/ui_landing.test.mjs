// The landing page (web/admin) in headless Chromium against the real binary: live
// health from /readyz, the links to the desk and the widget, and the directory tables
// an admin sees after signing in.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, skipReason, startSwitchboard, watch } from "./ui_browser.mjs";

const skip = skipReason();

describe("landing page", { skip: skip ?? false }, () => {
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

  test("shows the version, the uptime and every component running", async (t) => {
    const page = await browser.newPage();
    t.after(() => page.close());
    const problems = watch(page, "landing");
    const ready = await (await fetch(`${server.url}/readyz`)).json();

    const response = await page.goto(`${server.url}/`);
    assert.equal(response.status(), 200);
    assert.match(response.headers()["content-type"], /^text\/html/);
    await page.getByTestId("version").filter({ hasText: ready.version }).waitFor();
    await page.getByTestId("overall").filter({ hasText: "ready" }).waitFor();

    const components = await page.locator("[data-testid=components] li").evaluateAll((items) =>
      items.map((li) => [li.dataset.component, li.querySelector(".badge").textContent]),
    );
    assert.deepEqual(
      Object.fromEntries(components),
      ready.components,
      "one row per component of /readyz, each with its state",
    );
    assert.ok(components.length >= 3, `components: ${JSON.stringify(components)}`);
    assert.ok(components.every(([, state]) => state === "running"), JSON.stringify(components));
    assert.match(await page.locator("#uptime").textContent(), /^\d+[smhd]/);

    assert.ok(await page.locator('a[href="/desk/"]').count());
    assert.ok(await page.locator('a[href="/widget/"]').count());
    assert.match(await page.locator("body").textContent(), /full admin UI .*comes later/);
    assert.deepEqual(problems, []);
  });

  test("an admin signs in and sees users, queues, MRDs and channels", async (t) => {
    const page = await browser.newPage();
    t.after(() => page.close());
    const problems = watch(page, "landing");
    await page.goto(`${server.url}/`);
    await page.fill("#username", "admin");
    await page.fill("#password", "admin");
    await page.click("#login-form button[type=submit]");

    await page.locator("#directory").waitFor();
    const text = async (id) => page.getByTestId(id).locator("table").textContent();
    assert.match(await text("users"), /agent1.*agent2.*agent3/s);
    assert.match(await text("users"), /supervisor/);
    assert.match(await text("queues"), /Default.*CHAT/s, "a queue names its MRD");
    assert.match(await text("mrds"), /CHAT/);
    assert.match(await text("channels"), /1122/);
    assert.equal(await page.locator("#role").textContent(), "admin");

    // Signing out hides the directory and revokes the token.
    await page.click("#logout");
    await page.locator("#login-form").waitFor();
    assert.equal(await page.locator("#directory").isVisible(), false);
    assert.deepEqual(problems, []);
  });

  test("a wrong password is refused and an agent is sent to the desk", async (t) => {
    const page = await browser.newPage();
    t.after(() => page.close());
    await page.goto(`${server.url}/`);
    await page.fill("#username", "admin");
    await page.fill("#password", "wrong");
    await page.click("#login-form button[type=submit]");
    await page.locator("#login-error").filter({ hasText: "Wrong username or password" }).waitFor();

    await page.fill("#username", "agent1");
    await page.fill("#password", "agent1");
    await page.click("#login-form button[type=submit]");
    await page.locator("#not-allowed").waitFor();
    assert.equal(await page.locator("#directory").isVisible(), false);
  });
});
