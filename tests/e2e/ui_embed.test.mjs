// The one-tag embed (`/widget/embed.js`) on a page of another origin, in headless
// Chromium: the floating button opens the widget in a frame, the customer starts a
// chat there and a desk (stock socket.io-client) is offered it.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { openDesk, request } from "./harness.mjs";
import { launchBrowser, skipReason, startSwitchboard, watch } from "./ui_browser.mjs";

const skip = skipReason();
const T = { timeout: 10_000 };

let server;
let browser;
let site;

before(async () => {
  if (skip) return;
  server = await startSwitchboard();
  browser = await launchBrowser();
  // A customer's own web site, on another port (another origin) of this host.
  site = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end(`<!doctype html><html><head><title>Shop</title></head><body>
      <h1>Acme shop</h1><p>Our products.</p>
      <script src="${server.url}/widget/embed.js" data-service-identifier="1122" data-label="Talk to us" async></script>
      </body></html>`);
  });
  await new Promise((resolve) => site.listen(0, "127.0.0.1", resolve));
});

after(async () => {
  await browser?.close();
  await server?.stop();
  site?.close();
});

test("one script tag puts the chat on another site's page", { skip: skip ?? false }, async (t) => {
  const desk = await openDesk(server.url, "agent1");
  t.after(() => desk.socket.disconnect());
  await request(desk.socket, "changeAgentState", { action: "agentState", state: { name: "READY" } });

  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  t.after(() => context.close());
  const page = await context.newPage();
  const problems = watch(page, "shop");
  await page.goto(`http://127.0.0.1:${site.address().port}/`);
  const button = page.locator("[data-switchboard] >> .sb-button");
  await button.filter({ hasText: "Talk to us" }).waitFor(T);
  assert.equal(await page.locator("[data-switchboard] >> .sb-frame").isVisible(), false, "closed until clicked");

  await button.click();
  const frame = page.frameLocator("[data-switchboard] >> .sb-frame");
  await frame.locator("#name").fill("Ivy");
  await frame.locator("#start-form button[type=submit]").click();
  const offer = await desk.events.next("taskRequest", () => true, 10_000);
  assert.ok(offer.conversationId);
  await page.screenshot({ path: "/tmp/ui_embed.png" });
  assert.equal(await button.textContent(), "Close chat");
  await button.click();
  assert.equal(await page.locator("[data-switchboard] >> .sb-frame").isVisible(), false);
  assert.deepEqual(problems, []);
});
