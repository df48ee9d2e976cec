// The console's Reports and Conversation search (web/admin/reports) in headless
// Chromium against the real binary: a customer leaves before anyone is ready and a
// second chat is answered, replied to and wrapped up on the desk; then the supervisor
// opens today's queue report and sees those figures, downloads the CSV and finds the
// table's columns and cells in it, drills from a chart's bar, from "abandoned" and from "answered" to the
// conversations behind them, opens the transcript drawn as the desk draws it, and
// sees the agents' day. Screenshots go to $UI_SCREENSHOTS (default: the temp directory).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { launchBrowser, readyDeskPage, skipReason, startSwitchboard, watch } from "./ui_browser.mjs";
import { signIn, openPage } from "./ui_console.mjs";

const skip = skipReason();
const T = { timeout: 15_000 };
const shots = process.env.UI_SCREENSHOTS ?? os.tmpdir();

/** RFC 4180 text as rows of cells (quoted cells may hold commas, quotes and newlines). */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(cell);
      cell = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i += 1;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
    } else cell += c;
  }
  if (cell || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

/** A table's columns (`data-column` of its headers) and its cells' API values. */
async function tableData(table) {
  return table.evaluate((node) => ({
    columns: [...node.querySelectorAll("thead th")].map((th) => th.dataset.column),
    rows: [...node.querySelectorAll("tbody tr")].map((tr) => [...tr.querySelectorAll("td")].map((td) => td.dataset.value)),
  }));
}

/** A cell compared by value: "100.0" (Rust's JSON) and "100" (the page's) are one number. */
const same = (cell) => (cell !== "" && Number.isFinite(Number(cell)) ? String(Number(cell)) : cell);
const sameRows = (rows) => rows.map((row) => row.map(same));

/** The text a person reads in `column` of the row of `table` holding `name`. */
async function shown(table, name, column) {
  return (await table.locator("tr", { hasText: name }).locator(`td[data-column="${column}"]`).textContent()).trim();
}

describe("reports in the console", { skip: skip ?? false }, () => {
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

  test("today's queue report, its CSV, drill-downs and a transcript from search", { timeout: 150_000 }, async (t) => {
    const contexts = await Promise.all([
      browser.newContext({ viewport: { width: 1440, height: 1000 }, acceptDownloads: true }),
      browser.newContext({ viewport: { width: 1100, height: 720 } }),
      browser.newContext({ viewport: { width: 420, height: 720 } }),
      browser.newContext({ viewport: { width: 420, height: 720 } }),
    ]);
    t.after(() => Promise.all(contexts.map((c) => c.close())));
    const [sup, desk, leaving, widget] = await Promise.all(contexts.map((c) => c.newPage()));
    const problems = [watch(sup, "console"), watch(desk, "desk"), watch(leaving, "first widget"), watch(widget, "widget")];

    // A customer (a browser of their own) waits while nobody is ready and leaves: abandoned.
    await leaving.goto(`${server.url}/widget/`);
    await leaving.fill("#name", "Lee Leaving");
    await leaving.click("#start-form button[type=submit]");
    await leaving.getByTestId("status").filter({ hasText: /wait/i }).waitFor(T);
    await leaving.click("#end");
    await leaving.locator("#ended").waitFor({ state: "visible", ...T });

    // agent1 goes READY; Jane's chat is answered, replied to and wrapped up.
    await readyDeskPage(desk, server.url, "agent1");
    await widget.goto(`${server.url}/widget/`);
    await widget.fill("#name", "Jane Doe");
    await widget.click("#start-form button[type=submit]");
    await widget.fill("#text", "Hello, my order is late.");
    await widget.press("#text", "Enter");
    const offer = desk.getByTestId("offer");
    await offer.waitFor(T);
    await offer.locator("button.accept").click();
    const chat = desk.locator("#chat");
    await chat.locator(".msg", { hasText: "Hello, my order is late." }).waitFor(T);
    await chat.locator(".composer textarea").fill("Hi Jane, let me check.");
    await chat.locator(".composer button[type=submit]").click();
    await widget.locator(".msg:not(.mine)", { hasText: "Hi Jane, let me check." }).waitFor(T);
    await widget.click("#end");
    const wrapup = desk.getByTestId("wrapup-form");
    await wrapup.waitFor(T);
    await wrapup.locator("label", { hasText: "Issue resolved" }).locator("input").check();
    await wrapup.locator("textarea").fill("Order located");
    await wrapup.locator("button[type=submit]").click();
    await desk.getByTestId("conversation").waitFor({ state: "detached", ...T });

    // The supervisor opens Reports: today's queue report by hour.
    await sup.goto(`${server.url}/`);
    await signIn(sup, "supervisor");
    await openPage(sup, "Reports");
    const totals = sup.getByTestId("totals-table");
    await totals.waitFor(T);
    const summary = await sup.getByTestId("report-summary").textContent();
    assert.match(summary, /^Queues by hour, /, summary);
    const queueRow = totals.locator("tr", { hasText: "Default" });
    await queueRow.waitFor(T);
    assert.equal(await shown(totals, "Default", "offered"), "2");
    assert.equal(await shown(totals, "Default", "answered"), "1");
    assert.equal(await shown(totals, "Default", "abandoned"), "1");
    assert.equal(await shown(totals, "Default", "handled"), "1");
    assert.match(await shown(totals, "Default", "asaSecs"), /^\d+:\d\d$/, "ASA as m:ss");
    assert.match(await shown(totals, "Default", "serviceLevelPct"), /^\d+\.\d %$/, "SL as a percentage");
    await sup.getByTestId("volume-chart").locator("rect.bar.answered").first().waitFor(T);
    await sup.getByTestId("sl-chart").locator("circle.sl-point").first().waitFor(T);
    await sup.screenshot({ path: path.join(shots, "reports-1-queues.png"), fullPage: true });

    // The CSV of the totals: the table's columns, in order, and its cells.
    const [download] = await Promise.all([sup.waitForEvent("download", T), sup.getByTestId("csv-totals").click()]);
    assert.match(download.suggestedFilename(), /^queues-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d-totals\.csv$/);
    const csv = parseCsv(fs.readFileSync(await download.path(), "utf8"));
    const screen = await tableData(totals);
    assert.deepEqual(csv[0], screen.columns, "the CSV's header is the table's columns");
    assert.deepEqual(sameRows(csv.slice(1)), sameRows(screen.rows), "the CSV's rows are the table's");
    const answeredAt = screen.columns.indexOf("answered");
    const defaultRow = csv.slice(1).find((r) => r[screen.columns.indexOf("name")] === "Default");
    assert.equal(defaultRow[answeredAt], await shown(totals, "Default", "answered"));

    // A bar of the volume chart opens its conversations too (all queues, that hour).
    await sup.getByTestId("volume-chart").locator("rect.bar.abandoned").first().click();
    await sup.getByTestId("drill-filter").filter({ hasText: "all queues" }).waitFor(T);
    await sup.getByTestId("search-table").locator("tr", { hasText: "Lee Leaving" }).waitFor(T);
    assert.equal(await sup.getByTestId("count").textContent(), "1");
    await sup.goBack();
    await totals.locator("tr", { hasText: "Default" }).waitFor(T);

    // Drill-down: "abandoned 1" opens the search with that figure's filter.
    await queueRow.getByTestId("drill-abandoned").click();
    await sup.getByRole("heading", { name: "Conversation search", level: 1 }).waitFor(T);
    await sup.getByTestId("drill-filter").filter({ hasText: "Abandoned" }).waitFor(T);
    const results = sup.getByTestId("search-table");
    await sup.getByTestId("count").filter({ hasText: /^1$/ }).waitFor(T);
    await results.locator("tr", { hasText: "Lee Leaving" }).waitFor(T);
    await sup.screenshot({ path: path.join(shots, "reports-2-drill-abandoned.png"), fullPage: true });

    // Back to the report; "answered 1" holds Jane's chat with its wrap-up, agent and times.
    await sup.goBack();
    await totals.locator("tr", { hasText: "Default" }).getByTestId("drill-answered").click();
    await sup.getByTestId("drill-filter").filter({ hasText: "Answered" }).waitFor(T);
    const jane = results.locator("tr", { hasText: "Jane Doe" });
    await jane.waitFor(T);
    assert.equal(await sup.getByTestId("count").textContent(), "1");
    assert.match(await jane.locator('td[data-column="wrapups"]').textContent(), /Issue resolved/);
    assert.equal(await jane.locator('td[data-column="note"]').textContent(), "Order located");
    assert.match(await jane.locator('td[data-column="agents"]').textContent(), /\S/);
    assert.match(await jane.locator('td[data-column="handleSecs"]').textContent(), /^\d+:\d\d$/);

    // The search's own CSV holds the same columns and row.
    const [found] = await Promise.all([sup.waitForEvent("download", T), sup.getByTestId("csv-search").click()]);
    const searchCsv = parseCsv(fs.readFileSync(await found.path(), "utf8"));
    const searchScreen = await tableData(results);
    assert.deepEqual(searchCsv[0], searchScreen.columns);
    assert.deepEqual(sameRows(searchCsv.slice(1)), sameRows(searchScreen.rows));

    // Opening the row shows the transcript as the desk draws it.
    await jane.getByTestId("open-transcript").click();
    const dialog = sup.getByTestId("transcript-dialog");
    await dialog.locator(".msg", { hasText: "Hello, my order is late." }).waitFor(T);
    await dialog.locator(".msg", { hasText: "Hi Jane, let me check." }).locator(".who").waitFor(T);
    await dialog.locator(".sys", { hasText: "Issue resolved" }).waitFor(T);
    assert.equal(await dialog.locator(".msg", { hasText: "Hello, my order is late." }).locator(".who").textContent(), "Jane Doe");
    await sup.screenshot({ path: path.join(shots, "reports-3-transcript.png"), fullPage: true });
    await dialog.getByTestId("transcript-close").click();
    await dialog.waitFor({ state: "detached", ...T });

    // Search by words said and by customer, from the page's own filters.
    await sup.getByTestId("drill-filter").getByRole("button", { name: "Remove the report filter" }).click();
    await sup.getByTestId("count").filter({ hasText: /^2$/ }).waitFor(T);
    await sup.getByLabel("Words said").fill("order late");
    await sup.getByTestId("count").filter({ hasText: /^1$/ }).waitFor(T);
    await results.locator("tr", { hasText: "Jane Doe" }).waitFor(T);
    await sup.getByLabel("Words said").fill("refund");
    await sup.getByTestId("empty").waitFor(T);
    await sup.getByLabel("Words said").fill("");
    await sup.getByLabel("Customer (name or identifier)").fill("lee");
    await results.locator("tr", { hasText: "Lee Leaving" }).waitFor(T);
    assert.equal(await sup.getByTestId("count").textContent(), "1");

    // The agents' report of today: agent1 handled one chat; the day as a strip of states.
    await openPage(sup, "Reports");
    await sup.getByLabel("Report").selectOption("agents");
    const agentTotals = sup.getByTestId("totals-table");
    await agentTotals.locator("tr", { hasText: "agent1" }).locator('td[data-column="handled"]').filter({ hasText: /^1$/ }).waitFor(T);
    const day = sup.getByTestId("agent-day");
    await day.locator("rect[data-state=READY]").first().waitFor({ state: "attached", ...T });
    await day.locator("rect[data-state=OCCUPIED]").first().waitFor({ state: "attached", ...T });
    await sup.screenshot({ path: path.join(shots, "reports-4-agents.png"), fullPage: true });

    assert.deepEqual(problems.flat(), []);
  });
});
