// The landing page: live health from /readyz, sign-in, and read-only directory
// tables (users, queues, MRDs, channels) for admins and supervisors.

import { ApiError, apiGet, login, logout } from "/shared/api.js";
import { byId, formatDuration, formatTime, h, replace } from "/shared/dom.js";

const REFRESH_MS = 5_000;
const TOKEN_KEY = "switchboard.admin.session";
const STATE_BADGE = { running: "ok", starting: "warn", stopped: "bad", failed: "bad" };

// ---- health -------------------------------------------------------------------

async function refreshStatus() {
  let body = null;
  let problem = null;
  try {
    const response = await fetch("/readyz", { headers: { Accept: "application/json" } });
    body = await response.json();
  } catch (err) {
    problem = err.message;
  }
  showStatus(body, problem);
}

function showStatus(body, problem) {
  const overall = byId("overall");
  if (!body) {
    overall.textContent = "unreachable";
    overall.className = "badge bad";
    byId("checked").textContent = `Cannot reach the server (${problem}); retrying.`;
    return;
  }
  const ready = body.status === "ready";
  overall.textContent = ready ? "ready" : body.status ?? "unknown";
  overall.className = `badge ${ready ? "ok" : "bad"}`;
  byId("version").textContent = body.version ?? "–";
  byId("uptime").textContent =
    typeof body.uptimeSeconds === "number" ? formatDuration(body.uptimeSeconds) : "–";
  const store = byId("store");
  replace(store, h("span", { class: `badge ${body.store === "writable" ? "ok" : "bad"}`, text: body.store ?? "?" }));
  const entries = Object.entries(body.components ?? {}).sort(([a], [b]) => a.localeCompare(b));
  replace(
    byId("components"),
    entries.map(([name, state]) =>
      h(
        "li",
        { dataset: { component: name } },
        h("span", { text: name }),
        h("span", { class: `badge ${STATE_BADGE[state] ?? ""}`, text: state }),
      ),
    ),
  );
  byId("checked").textContent = `Checked at ${formatTime(Date.now())}; refreshes every 5 seconds.`;
}

// ---- session ------------------------------------------------------------------

function savedSession() {
  try {
    return JSON.parse(sessionStorage.getItem(TOKEN_KEY) ?? "null");
  } catch {
    return null;
  }
}

function showSignedIn(session) {
  byId("login-form").hidden = Boolean(session);
  byId("signed-in").hidden = !session;
  byId("directory").hidden = true;
  if (!session) return;
  byId("who").textContent = session.user.username;
  byId("role").textContent = session.user.role;
  const allowed = ["admin", "supervisor"].includes(session.user.role);
  byId("not-allowed").hidden = allowed;
  if (allowed) loadDirectory(session);
}

async function onLogin(event) {
  event.preventDefault();
  const error = byId("login-error");
  error.hidden = true;
  const form = event.currentTarget;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const { token, user } = await login(byId("username").value.trim(), byId("password").value);
    const session = { token, user };
    sessionStorage.setItem(TOKEN_KEY, JSON.stringify(session));
    byId("password").value = "";
    showSignedIn(session);
  } catch (err) {
    error.textContent = err.status === 401 ? "Wrong username or password." : err.message;
    error.hidden = false;
  } finally {
    button.disabled = false;
  }
}

async function onLogout() {
  const session = savedSession();
  sessionStorage.removeItem(TOKEN_KEY);
  showSignedIn(null);
  if (session) await logout(session.token).catch(() => {});
}

// ---- directory ----------------------------------------------------------------

/** Columns of each table: [heading, value of a row]. */
const COLUMNS = {
  users: [
    ["Username", (u) => u.username],
    ["Name", (u) => [u.firstName, u.lastName].filter(Boolean).join(" ")],
    ["Role", (u) => badge(u.role, "info")],
    ["Team", (u) => u.teamName ?? "–"],
    ["Supervises", (u) => (u.supervisedTeams ?? []).map((t) => t.teamName).join(", ") || "–"],
    ["Status", (u) => (u.disabled ? badge("disabled", "bad") : badge("active", "ok"))],
  ],
  queues: [
    ["Name", (q) => q.name],
    ["MRD", (q, ctx) => ctx.mrdName(q.mrdId)],
    ["Priority", (q) => q.priority],
    ["Accept timeout", (q) => seconds(q.acceptTimeoutSecs)],
    ["Agent SLA", (q) => seconds(q.agentSlaSecs)],
    ["Service level", (q) => seconds(q.serviceLevelSecs)],
  ],
  mrds: [
    ["Name", (m) => m.name],
    ["Description", (m) => m.description ?? ""],
    ["Max tasks", (m) => m.maxTasks],
    ["Interruptible", (m) => (m.interruptible ? "yes" : "no")],
  ],
  channels: [
    ["Name", (c) => c.name],
    ["Service id", (c) => h("span", { class: "mono", text: c.serviceIdentifier })],
    ["Type", (c) => c.channelType?.name ?? "–"],
    ["Mode", (c) => c.channelConfig?.routingPolicy?.routingMode ?? "–"],
    ["Queue", (c, ctx) => ctx.queueName(c.channelConfig?.routingPolicy?.routingObjectId)],
    ["Webhook", (c) => c.channelConnector?.channelProviderInterface?.providerWebhook || "widget"],
  ],
};

function badge(text, kind) {
  return h("span", { class: `badge ${kind}`, text });
}

function seconds(value) {
  return typeof value === "number" ? `${value} s` : "–";
}

function table(rows, columns, ctx) {
  if (!rows.length) return h("p", { class: "muted", text: "None yet." });
  return h(
    "table",
    {},
    h("thead", {}, h("tr", {}, columns.map(([heading]) => h("th", { text: heading })))),
    h(
      "tbody",
      {},
      rows.map((row) => h("tr", {}, columns.map(([, value]) => h("td", {}, value(row, ctx) ?? "")))),
    ),
  );
}

async function loadDirectory(session) {
  const error = byId("directory-error");
  error.hidden = true;
  try {
    const [users, queues, mrds, channels] = await Promise.all(
      ["/users", "/queues", "/mrds", "/channels"].map((path) => apiGet(path, session.token)),
    );
    const ctx = {
      mrdName: (id) => mrds.find((m) => m.id === id)?.name ?? id ?? "–",
      queueName: (id) => queues.find((q) => q.id === id)?.name ?? id ?? "–",
    };
    for (const [id, rows] of Object.entries({ users, queues, mrds, channels })) {
      replace(byId(id), table(rows, COLUMNS[id], ctx));
    }
    byId("directory").hidden = false;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      showSignedIn(null);
      const loginError = byId("login-error");
      loginError.textContent = "Your session ended; please sign in again.";
      loginError.hidden = false;
      return;
    }
    byId("directory").hidden = false;
    error.textContent = `Cannot load the directory: ${err.message}`;
    error.hidden = false;
  }
}

// ---- start --------------------------------------------------------------------

byId("login-form").addEventListener("submit", onLogin);
byId("logout").addEventListener("click", onLogout);
byId("reload").addEventListener("click", () => {
  const session = savedSession();
  if (session) loadDirectory(session);
});
showSignedIn(savedSession());
refreshStatus();
setInterval(refreshStatus, REFRESH_MS);
