// Console list pages under a big site (issue 12: under 300 ms with 1,000 users, 200
// queues and 100 channels). Not a test: a measurement, run by hand and recorded in
// docs/benchmarks.md.
//
//   cd tests/e2e && SWITCHBOARD_BIN=../../target/release/switchboard node bench_console.mjs
//
// Seeds the site through the REST API, then in headless Chromium opens each list page
// from another page of the console (as a reader clicking the navigation) and times it
// from the click to the first page of rows on screen; also a full load of the page
// (from about:blank: HTML, scripts, session restore, lookups and the list).
// Prints the median and the worst of RUNS runs per page.

import { launchBrowser, startSwitchboard } from "./ui_browser.mjs";
import { login } from "./harness.mjs";

const USERS = 1000;
const QUEUES = 200;
const CHANNELS = 100;
const RUNS = Number(process.env.RUNS ?? 15);

async function post(url, token, path, body) {
  const response = await fetch(`${url}/api/v1${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

/** Runs `make(i)` for i in 0..n, `width` at a time. */
async function pool(n, width, make) {
  let next = 0;
  const out = [];
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await make(i);
      }
    }),
  );
  return out;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const server = await startSwitchboard();
try {
  const token = await login(server.url, "admin");
  const started = Date.now();
  const mrds = await (await fetch(`${server.url}/api/v1/mrds`, { headers: { authorization: `Bearer ${token}` } })).json();
  const chat = mrds.find((m) => m.name === "CHAT");
  await pool(USERS, 8, (i) => post(server.url, token, "/users", { username: `user${String(i).padStart(4, "0")}`, password: "secret-pw", role: "agent", firstName: "Bench", lastName: `User ${i}` }));
  const queues = await pool(QUEUES, 8, (i) => post(server.url, token, "/queues", { name: `Queue ${String(i).padStart(3, "0")}`, mrdId: chat.id, steps: [{ expression: "", timeoutSecs: 0 }] }));
  await pool(CHANNELS, 8, (i) =>
    post(server.url, token, "/channels", { name: `Channel ${String(i).padStart(3, "0")}`, serviceIdentifier: `bench-${i}`, channelType: "WEB", routingPolicy: { routingMode: "PUSH", routingObjectId: queues[i % QUEUES].id } }),
  );
  console.log(`seeded ${USERS} users, ${QUEUES} queues, ${CHANNELS} channels in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const browser = await launchBrowser();
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await page.goto(`${server.url}/`);
  await page.fill("#username", "admin");
  await page.fill("#password", "admin");
  await page.click("#login-form button[type=submit]");
  await page.locator("#nav a").first().waitFor();

  for (const path of ["users", "queues", "channels"]) {
    const clicks = [];
    const reloads = [];
    for (let run = 0; run < RUNS; run++) {
      await page.evaluate(() => {
        location.hash = "#/overview";
      });
      await page.getByRole("heading", { name: "Overview", level: 1 }).waitFor();
      clicks.push(
        await page.evaluate(
          (target) =>
            new Promise((resolve) => {
              const t0 = performance.now();
              document.querySelector(`#nav a[data-page="${target}"]`).click();
              const poll = () => {
                if (document.querySelector("[data-testid=list] tbody tr")) resolve(performance.now() - t0);
                else requestAnimationFrame(poll);
              };
              poll();
            }),
          path,
        ),
      );
      await page.goto("about:blank");
      const t0 = Date.now();
      await page.goto(`${server.url}/#/${path}`, { waitUntil: "commit" });
      await page.locator("[data-testid=list] tbody tr").first().waitFor();
      reloads.push(Date.now() - t0);
    }
    const rows = await page.locator("[data-testid=list] tbody tr").count();
    const total = await page.getByTestId("count").textContent();
    console.log(
      `${path.padEnd(9)} rows shown ${rows} of ${total}: from the navigation median ${median(clicks).toFixed(0)} ms (max ${Math.max(...clicks).toFixed(0)}), full page load median ${median(reloads)} ms (max ${Math.max(...reloads)})`,
    );
  }
  await browser.close();
} finally {
  await server.stop();
}
