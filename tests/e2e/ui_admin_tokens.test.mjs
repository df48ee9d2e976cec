// Connector tokens in the console (headless Chromium): an admin creates a connector
// channel and is shown its token once; the connector posts with it; making a new token
// on the channel's page shows the new one and the old one stops working at once.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, skipReason, startSwitchboard, watch } from "./ui_browser.mjs";
import { openPage, signIn } from "./ui_console.mjs";

const skip = skipReason();
const T = { timeout: 10_000 };

let server;
let browser;

before(async () => {
  if (skip) return;
  server = await startSwitchboard();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A connector's inbound message, as a provider relays it. */
function post(token, id, text) {
  return fetch(`${server.url}/ccm/message/receive`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({
      id,
      header: {
        sender: { id: "+15550111", type: "CUSTOMER", senderName: "Pat" },
        channelData: { serviceIdentifier: "wa-shop", channelCustomerIdentifier: "+15550111", additionalAttributes: [] },
        timestamp: Date.now(),
      },
      body: { type: "PLAIN", markdownText: text },
    }),
  });
}

async function readToken(page) {
  const dialog = page.getByTestId("token-dialog");
  await dialog.waitFor(T);
  const token = await dialog.getByTestId("connector-token").inputValue();
  assert.ok(token.length >= 20, "a long random token");
  await dialog.getByRole("button", { name: "I have saved it" }).click();
  await dialog.waitFor({ state: "detached", ...T });
  return token;
}

test("a connector channel's token is shown once, works, and can be replaced", { skip: skip ?? false, timeout: 60_000 }, async (t) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  t.after(() => context.close());
  const page = await context.newPage();
  const problems = watch(page, "admin");
  await page.goto(`${server.url}/`);
  await signIn(page, "admin");

  await openPage(page, "Channels");
  await page.getByRole("link", { name: "New channel" }).click();
  const form = page.getByTestId("entity-form");
  await form.getByLabel("Name", { exact: true }).fill("Shop WhatsApp");
  await form.getByLabel("Service identifier").fill("wa-shop");
  await form.getByLabel("Type").selectOption("WHATSAPP");
  await form.getByLabel("Queue", { exact: true }).selectOption({ label: "Default" });
  await form.locator("button[type=submit]").click();
  await page.screenshot({ path: "/tmp/ui_admin_token.png" });
  const first = await readToken(page);
  await page.getByTestId("flash").filter({ hasText: "Saved channel “Shop WhatsApp”" }).waitFor(T);

  assert.equal((await post(first, "wa-1", "Hello shop")).status, 202, "accepted with the shown token");

  await page.getByRole("row", { name: /Shop WhatsApp/ }).getByRole("link").first().click();
  await page.getByTestId("new-token").click();
  await page.getByTestId("dialog-confirm").click();
  const second = await readToken(page);
  assert.notEqual(second, first);
  assert.equal((await post(first, "wa-2", "old token")).status, 401, "the old token stops at once");
  assert.equal((await post(second, "wa-3", "new token")).status, 202);
  assert.deepEqual(problems, []);
});
