// Conversation search (web/admin/reports) on a history larger than the search's count
// cap, in headless Chromium against the real binary: `switchboard-load history` writes
// 1,450 generated chats (their words drawn from a small list, so a common one is said
// in more than 1,000 of them); an admin searches that word, reads "1,000+" (the server
// stopped counting), pages to older conversations and opens a transcript whose
// messages hold the word. Screenshots go to $UI_SCREENSHOTS (default: the temp directory).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { cargoBinary, startServer } from "./harness.mjs";
import { launchBrowser, skipReason, watch } from "./ui_browser.mjs";
import { signIn } from "./ui_console.mjs";

const skip = skipReason();
const T = { timeout: 20_000 };
const shots = process.env.UI_SCREENSHOTS ?? os.tmpdir();
const WORD = "refund";

describe("a search matching more than the count cap", { skip: skip ?? false }, () => {
  let dataDir;
  let server;
  let browser;

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-ui-cap-"));
    const load = cargoBinary("SWITCHBOARD_LOAD_BIN", "switchboard-load");
    const out = execFileSync(load, ["history", "--data-dir", dataDir, "--conversations", "1450", "--days", "1", "--agents", "9"], {
      encoding: "utf8",
    });
    assert.match(out, /wrote 1450 conversations/);
    server = await startServer(cargoBinary("SWITCHBOARD_BIN", "switchboard"), ["serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0"], {
      SWITCHBOARD_BIN: undefined,
      SWITCHBOARD_LOAD_BIN: undefined,
      SWITCHBOARD_LOG__LEVEL: "warn",
    });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test("shows 1,000+, pages to older chats and opens a transcript", { timeout: 120_000 }, async (t) => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    t.after(() => context.close());
    const page = await context.newPage();
    const problems = watch(page, "console");
    await page.goto(`${server.url}/`);
    await signIn(page, "admin");
    await page.goto(`${server.url}/#/conversations`);
    await page.getByRole("heading", { name: "Conversation search", level: 1 }).waitFor(T);

    // The generated chats are of the last days: widen the window, then the word.
    const from = new Date(Date.now() - 4 * 86_400_000).toISOString().slice(0, 10);
    await page.getByLabel("From", { exact: true }).fill(from);
    await page.getByLabel("To", { exact: true }).fill(new Date(Date.now() + 86_400_000).toISOString().slice(0, 10));
    await page.getByLabel("Words said").fill(WORD);
    const count = page.getByTestId("count");
    await count.filter({ hasText: /^1,000\+$/ }).waitFor(T).catch(async (e) => {
      await page.screenshot({ path: path.join(shots, "search-cap-0-failed.png"), fullPage: true });
      throw new Error(`count shows ${await count.textContent()}: ${e.message}`);
    });
    const results = page.getByTestId("search-table");
    assert.equal(await results.locator("tbody tr").count(), 50);
    const pager = page.getByText(/^1–50 of 1,000\+$/);
    await pager.waitFor(T);
    await page.screenshot({ path: path.join(shots, "search-cap-1-first-page.png"), fullPage: true });

    // Older: the next 50, none of the first page's rows again.
    const ids = async () =>
      results.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.querySelector('td[data-column="id"]')?.dataset.value ?? r.textContent));
    const first = await ids();
    await page.getByRole("button", { name: "Older" }).click();
    // (The server counts to the page's offset + 1,000 at most.)
    await page.getByText(/^51–100 of 1,0\d\d\+?$/).waitFor(T);
    const second = await ids();
    assert.equal(second.length, 50);
    assert.deepEqual(
      second.filter((id) => first.includes(id)),
      [],
      "the second page shows other conversations",
    );
    assert.equal(await page.getByRole("button", { name: "Newer" }).isDisabled(), false);

    // A conversation of that page: its transcript says the word.
    await results.getByTestId("open-transcript").first().click();
    const dialog = page.getByTestId("transcript-dialog");
    await dialog.locator(".msg").first().waitFor(T);
    const said = (await dialog.locator(".msg").allTextContents()).join(" ").toLowerCase();
    assert.ok(said.includes(WORD), said.slice(0, 300));
    // Agents are named as the table names them, not by the username the events carry.
    const who = await dialog.locator(".msg:not(.mine) .who").allTextContents();
    assert.ok(who.some((w) => /^Agent\d+ History$/.test(w)), who.join(", "));
    assert.ok(!who.some((w) => w.startsWith("hist-agent-")), who.join(", "));
    const notes = (await dialog.locator(".sys").allTextContents()).join(" | ");
    assert.match(notes, /Agent\d+ History joined/);
    assert.doesNotMatch(notes, /hist-agent-/);
    await page.screenshot({ path: path.join(shots, "search-cap-2-transcript.png") });
    await dialog.getByTestId("transcript-close").click();
    await dialog.waitFor({ state: "detached", ...T });

    assert.deepEqual(problems.flat(), []);
  });
});
