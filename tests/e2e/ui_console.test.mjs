// The console's frame (web/admin) in headless Chromium against the real binary: the
// health card before and after sign-in, who may enter, the navigation, and one
// entity's create → edit round trip through its list and form.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, skipReason, startSwitchboard, watch } from "./ui_browser.mjs";
import { signIn } from "./ui_console.mjs";

const skip = skipReason();
const T = { timeout: 10_000 };

describe("console frame", { skip: skip ?? false }, () => {
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

  test("the health card shows the version, the uptime and every component", async (t) => {
    const page = await browser.newPage();
    t.after(() => page.close());
    const problems = watch(page, "console");
    const ready = await (await fetch(`${server.url}/readyz`)).json();

    const response = await page.goto(`${server.url}/`);
    assert.equal(response.status(), 200);
    assert.match(response.headers()["content-type"], /^text\/html/);
    await page.getByTestId("version").filter({ hasText: ready.version }).waitFor(T);
    await page.getByTestId("overall").filter({ hasText: "ready" }).waitFor(T);
    const components = await page.locator("[data-testid=components] li").evaluateAll((items) =>
      items.map((li) => [li.dataset.component, li.querySelector(".badge").textContent]),
    );
    assert.deepEqual(Object.fromEntries(components), ready.components, "one row per component of /readyz");
    assert.ok(components.length >= 3, JSON.stringify(components));
    assert.match(await page.locator("#uptime").textContent(), /^\d+[smhd]/);
    assert.ok(await page.locator('a[href="/desk/"]').count());
    assert.ok(await page.locator('a[href="/widget/"]').count());
    assert.doesNotMatch(await page.locator("body").textContent(), /comes later/);

    // Signed in, the overview keeps the card.
    await signIn(page, "admin");
    await page.getByTestId("overall").filter({ hasText: "ready" }).waitFor(T);
    assert.deepEqual(problems, []);
  });

  test("an admin finds every configuration page in the navigation", async (t) => {
    const page = await browser.newPage();
    t.after(() => page.close());
    const problems = watch(page, "console");
    await page.goto(`${server.url}/`);
    await signIn(page, "admin");
    const nav = page.getByRole("navigation", { name: "Console sections" });
    const links = await nav.getByRole("link").allTextContents();
    for (const wanted of ["Users", "Teams", "MRDs", "Routing attributes", "Queues", "Channels", "Reason codes", "Wrap-up codes", "Pull lists", "Canned responses", "Audit log"]) {
      assert.ok(links.includes(wanted), `${wanted} in ${JSON.stringify(links)}`);
    }
    // The keyboard reaches the navigation, and a link opens its page.
    await nav.getByRole("link", { name: "MRDs" }).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "MRDs", level: 1 }).waitFor(T);
    assert.equal(await nav.getByRole("link", { name: "MRDs" }).getAttribute("aria-current"), "page");
    // The page draws its heading before its list arrives ("Loading…" until then).
    await page.getByTestId("list").filter({ hasText: "CHAT" }).waitFor(T);

    await page.click("#logout");
    await page.locator("#login-form").waitFor(T);
    assert.equal(await page.locator("#app-view").isVisible(), false);
    assert.deepEqual(problems, []);
  });

  test("an admin creates an MRD in the form and finds it in the list", async (t) => {
    const page = await browser.newPage();
    t.after(() => page.close());
    const problems = watch(page, "console");
    await page.goto(`${server.url}/#/mrds`);
    await signIn(page, "admin");
    await page.getByRole("heading", { name: "MRDs", level: 1 }).waitFor(T);

    // "n" opens the form from the list (a keyboard shortcut), Enter submits it.
    await page.getByTestId("list").locator("table").waitFor(T);
    await page.keyboard.press("n");
    await page.getByRole("heading", { name: "New MRD" }).waitFor(T);
    await page.getByLabel("Name", { exact: true }).fill("EMAIL");
    await page.getByLabel("Description").fill("Email threads");
    await page.getByLabel("Max tasks per agent").fill("3");
    await page.getByLabel("Max tasks per agent").press("Enter");
    await page.getByTestId("flash").filter({ hasText: "Saved MRD “EMAIL”" }).waitFor(T);
    const row = page.getByRole("row", { name: /EMAIL/ });
    assert.match(await row.textContent(), /Email threads.*3/);

    // Search narrows the list.
    await page.getByLabel("Search MRDs").fill("emai");
    await page.getByRole("row", { name: /CHAT/ }).waitFor({ state: "detached", ...T });
    assert.equal(await page.getByTestId("count").textContent(), "1");
    assert.deepEqual(problems, []);
  });

  test("a wrong password is refused and an agent is sent to the desk", async (t) => {
    const page = await browser.newPage();
    t.after(() => page.close());
    await page.goto(`${server.url}/`);
    await page.fill("#username", "admin");
    await page.fill("#password", "wrong");
    await page.click("#login-form button[type=submit]");
    await page.locator("#login-error").filter({ hasText: "Wrong username or password" }).waitFor(T);

    await page.fill("#username", "agent1");
    await page.fill("#password", "agent1");
    await page.click("#login-form button[type=submit]");
    await page.locator("#not-allowed").waitFor(T);
    assert.equal(await page.locator("#app-view").isVisible(), false);
  });
});
