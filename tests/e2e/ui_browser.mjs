// Shared by the UI tests (ui_*.test.mjs): start a real Switchboard on a fresh data
// directory, launch Debian's headless Chromium through playwright-core, and watch pages
// for script errors.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { cargoBinary, startServer } from "./harness.mjs";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Why the UI tests cannot run here, or null. Only a developer machine without Chromium
 * skips; in CI (which installs it) a missing browser fails the launch loudly instead.
 */
export function skipReason() {
  if (fs.existsSync(CHROMIUM) || process.env.CI) return null;
  return `${CHROMIUM} not found: install Debian's chromium (apt-get install chromium) to run the UI tests`;
}

/** Headless Chromium with the flags this machine's closed network needs. */
export function launchBrowser() {
  // playwright gives every launch a new, empty profile directory of its own.
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** `switchboard serve` on 127.0.0.1:0 with a new data directory (the demo site). */
export async function startSwitchboard() {
  const bin = cargoBinary("SWITCHBOARD_BIN", "switchboard");
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-ui-"));
  // SWITCHBOARD_* variables are configuration to the server: do not hand it ours.
  const server = await startServer(
    bin,
    ["serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0"],
    { SWITCHBOARD_BIN: undefined },
  );
  return {
    url: server.url,
    async stop() {
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Collects uncaught exceptions and console errors of `page` under `name`. */
export function watch(page, name) {
  const problems = [];
  page.on("pageerror", (err) => problems.push(`${name}: uncaught ${err.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`${name}: console error ${message.text()}`);
  });
  return problems;
}

/** Signs `username` in on the agent desk at `url` and makes it READY; returns the
 * desk's state badge. */
export async function readyDeskPage(page, url, username) {
  const T = { timeout: 15_000 };
  await page.goto(`${url}/desk/`);
  await page.fill("#username", username);
  await page.fill("#password", username);
  await page.click("#login-form button[type=submit]");
  const state = page.getByTestId("agent-state");
  await state.filter({ hasText: "NOT READY" }).waitFor(T);
  await page.click("#ready");
  await state.filter({ hasText: /^READY$/ }).waitFor(T);
  return state;
}
