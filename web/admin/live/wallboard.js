// Live: the supervisor console's wallboard. Queues (waiting, longest wait, today's and
// the last 30 minutes' counts, service level, ASA, AHT, amber/red), agents (state,
// reason, time in state, per-MRD active/max, today's chats), ongoing conversations —
// pushed over `/supervisor` (web/admin/live/stream.js), scoped by the server to the
// supervisor's teams. Actions: set NOT_READY with a reason, force logout, flush a
// queue (each confirmed), join a conversation (monitor.js), move a waiting chat to
// another queue or offer it to a named agent (chat_actions.js).

import { confirmAction } from "/shared/dialog.js";
import { formatDuration, formatTime, h, replace } from "/shared/dom.js";
import { moveChat, offerChat } from "./chat_actions.js";
import { MonitorPanel } from "./monitor.js";
import { LiveStream } from "./stream.js";

const MRD_STATES = ["READY", "ACTIVE", "BUSY", "NOT_READY", "PENDING_NOT_READY", "INTERRUPTED"];
const STATE_BADGE = { READY: "ok", ACTIVE: "ok", LOGIN: "info", NOT_READY: "warn", UNKNOWN: "bad", LOGOUT: "" };

const secs = (ms) => (typeof ms === "number" ? formatDuration(ms / 1000) : "–");
const pct = (value) => (typeof value === "number" ? `${Math.round(value)} %` : "–");
const words = (text) => String(text ?? "").replaceAll("_", " ");

/** A cell whose text is the time since `since` (server ms), kept current by the ticker. */
function since(at, testid) {
  return h("span", { class: "since", dataset: { since: at ?? "" }, "data-testid": testid ?? null, text: "" });
}

/** `red`, `amber` or `ok` now, as the server computes it, with the wait grown since. */
function queueStatus(q, now) {
  const t = q.thresholds ?? {};
  const wait = q.oldestEnqueueTime ? (now - q.oldestEnqueueTime) / 1000 : null;
  const sl = q.today?.serviceLevel;
  const over = (limit) => typeof limit === "number" && wait !== null && wait >= limit;
  const under = (limit) => typeof limit === "number" && typeof sl === "number" && sl < limit;
  if (over(t.longestWaitRedSecs) || under(t.serviceLevelRedPct)) return "red";
  if (over(t.longestWaitAmberSecs) || under(t.serviceLevelAmberPct)) return "amber";
  return "ok";
}

function queueTable(stream, actions) {
  const now = stream.now();
  const rows = [...stream.queues.values()].sort((a, b) => a.name.localeCompare(b.name));
  const body = rows.map((q) => {
    const status = queueStatus(q, now);
    const t = q.today;
    const r = q.rolling;
    const agents = MRD_STATES.filter((s) => q.agents?.[s]).map((s) => `${words(s).toLowerCase()} ${q.agents[s]}`).join(", ");
    return h(
      "tr",
      { class: `queue-row status-${status}`, dataset: { queue: q.name }, "data-testid": "queue-row" },
      h(
        "th",
        { scope: "row" },
        h("span", { text: q.name }),
        status === "ok" ? null : h("span", { class: `badge ${status === "red" ? "bad" : "warn"}`, text: status }),
        h("div", {}, h("button", { type: "button", class: "danger small-btn", text: "Flush", disabled: !q.waiting, "data-testid": "queue-flush", onClick: () => actions.flush(q) })),
      ),
      h("td", { class: "num big", "data-testid": "queue-waiting", text: q.waiting }),
      h("td", { class: "num" }, q.waiting ? since(q.oldestEnqueueTime, "queue-longest") : "–"),
      h("td", { class: "small", text: agents || "none" }),
      h("td", { class: "num", "data-testid": "queue-offered", text: t.offered }),
      h("td", { class: "num", "data-testid": "queue-answered", text: t.answered }),
      h("td", { class: "num", "data-testid": "queue-abandoned", text: t.shortAbandons ? `${t.abandoned} (${t.shortAbandons} short)` : t.abandoned }),
      h("td", { class: "num", "data-testid": "queue-sl", text: pct(t.serviceLevel) }),
      h("td", { class: "num", text: secs(t.asaMs) }),
      h("td", { class: "num", text: secs(t.ahtMs) }),
      h("td", { class: "num", text: `${t.ronas} / ${t.reservations}` }),
      h("td", { class: "num", text: `${t.transfersIn} / ${t.transfersOut}` }),
      h("td", { class: "num small muted", text: `${r.offered} · ${r.answered} · ${r.abandoned} · ${pct(r.serviceLevel)}` }),
    );
  });
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "live-table", "data-testid": "queues" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["Queue", "Waiting", "Longest wait", "Agents", "Offered", "Answered", "Abandoned", "SL", "ASA", "AHT", "RONA / offers", "Transfers in / out", "Last 30 min: offered · answered · abandoned · SL"].map((t) =>
            h("th", { scope: "col", text: t }),
          ),
        ),
      ),
      h("tbody", {}, body.length ? body : h("tr", {}, h("td", { colspan: 13, class: "muted", text: "No queues yet." }))),
    ),
  );
}

function agentTable(stream, actions, reasons) {
  const rows = [...stream.agents.values()].filter((a) => a.listed).sort((a, b) => a.username.localeCompare(b.username));
  const body = rows.map((a) => {
    const reason = h(
      "select",
      { "aria-label": `Not-ready reason for ${a.username}`, "data-testid": "agent-reason" },
      reasons.map((r) => h("option", { value: r.name, text: r.name })),
    );
    const loggedOut = a.state === "LOGOUT";
    return h(
      "tr",
      { dataset: { agent: a.username }, "data-testid": "agent-row" },
      h("th", { scope: "row" }, a.username, a.connected ? null : h("span", { class: "muted small", text: " (no desk)" })),
      h(
        "td",
        {},
        h("span", { class: `badge ${STATE_BADGE[a.state] ?? ""}`, "data-testid": "agent-state", text: words(a.state) }),
        a.reasonCode ? h("span", { class: "small muted", text: ` ${a.reasonCode}` }) : null,
      ),
      h("td", { class: "num" }, since(a.stateChangeTime)),
      h(
        "td",
        { class: "small", "data-testid": "agent-mrds" },
        a.mrds.map((m) => h("div", { text: `${m.name} ${words(m.state)} ${m.active}/${m.max}` })),
      ),
      h("td", { class: "num", text: a.conversations.length }),
      h("td", { class: "num", text: a.today.handled }),
      h("td", { class: "num", text: secs(a.today.ahtMs) }),
      h(
        "td",
        {},
        h(
          "span",
          { class: "row nowrap" },
          h("button", {
            type: "button",
            class: "small-btn",
            text: "Not ready",
            disabled: loggedOut || !reasons.length,
            "data-testid": "agent-not-ready",
            onClick: () => actions.notReady(a, reason.value),
          }),
          reason,
          h("button", { type: "button", class: "danger small-btn", text: "Log out", disabled: loggedOut, "data-testid": "agent-logout", onClick: () => actions.logout(a) }),
        ),
      ),
    );
  });
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "live-table", "data-testid": "agents" },
      h("thead", {}, h("tr", {}, ["Agent", "State", "In state", "Media (active/max)", "Chats now", "Handled today", "AHT", ""].map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, body.length ? body : h("tr", {}, h("td", { colspan: 8, class: "muted", text: "No agents of your teams are signed in." }))),
    ),
  );
}

function conversationTable(stream, actions) {
  const rows = [...stream.conversations.values()].sort((a, b) => a.startedAt - b.startedAt);
  const body = rows.map((c) => {
    const waited = c.answerTime ? secs(c.answerTime - c.enqueueTime) : since(c.enqueueTime);
    const joinable = c.state === "ACTIVE";
    const waiting = c.state === "WAITING";
    return h(
      "tr",
      { dataset: { conversation: c.id }, "data-testid": "conversation-row" },
      h("th", { scope: "row", text: c.customerName ?? "Customer" }),
      h("td", { text: c.channel ?? "–" }),
      h("td", { text: c.queue?.name ?? "–" }),
      h("td", { text: c.agents.map((a) => a.username ?? a.id).join(", ") || "–" }),
      h("td", {}, h("span", { class: `badge ${c.state === "WAITING" ? "warn" : "info"}`, "data-testid": "conversation-state", text: words(c.state) })),
      h("td", { class: "num" }, waited),
      h("td", { class: "num" }, since(c.startedAt)),
      h("td", { class: "num" }, c.unansweredSince ? since(c.unansweredSince) : "–"),
      h("td", {}, h("span", { class: `badge ${c.slaStatus === "BREACHED" ? "bad" : "ok"}`, text: c.slaStatus === "BREACHED" ? "breached" : "ok" })),
      h(
        "td",
        {},
        h(
          "span",
          { class: "row nowrap" },
          // A waiting chat is moved or offered; one with an agent can be joined.
          waiting
            ? [
                h("button", { type: "button", class: "small-btn", text: "Move…", "data-testid": "chat-move", onClick: () => actions.move(c) }),
                h("button", { type: "button", class: "small-btn", text: "Offer to…", "data-testid": "chat-offer", onClick: () => actions.offer(c) }),
              ]
            : ["silent", "whisper", "barge"].map((mode) =>
                h("button", {
                  type: "button",
                  class: "small-btn",
                  disabled: !joinable,
                  text: mode === "silent" ? "Monitor" : mode === "whisper" ? "Whisper" : "Barge in",
                  "data-testid": `join-${mode}`,
                  onClick: () => actions.join(c, mode),
                }),
              ),
        ),
      ),
    );
  });
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "live-table", "data-testid": "conversations" },
      h("thead", {}, h("tr", {}, ["Customer", "Channel", "Queue", "Agents", "State", "Waited", "Duration", "Unanswered", "Agent SLA", ""].map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, body.length ? body : h("tr", {}, h("td", { colspan: 10, class: "muted", text: "No ongoing conversations." }))),
    ),
  );
}

function mount(view, ctx) {
  const status = h("span", { class: "badge", "data-testid": "live-status", text: "connecting" });
  const period = h("p", { class: "muted small" });
  const notice = h("p", { class: "notice", role: "status", hidden: true, "data-testid": "live-notice" });
  const queues = h("section", { class: "card", "aria-label": "Queues" });
  const agents = h("section", { class: "card", "aria-label": "Agents" });
  const panel = h("section", { class: "card monitor", "aria-label": "Joined conversation", "data-testid": "monitor" });
  const conversations = h("section", { class: "card", "aria-label": "Ongoing conversations" });
  replace(view, h("div", { class: "row" }, h("h1", { text: "Live" }), status), period, notice, queues, agents, panel, conversations);

  let reasons = [];
  const say = (text, kind = "ok") => {
    notice.className = `notice ${kind}`;
    notice.textContent = text;
    notice.hidden = false;
  };
  const monitor = new MonitorPanel(panel, { token: ctx.session.token, user: ctx.session.user, onNotice: say });
  const act = async (what, run) => {
    try {
      await run();
    } catch (err) {
      say(`${what}: ${err.message}`, "bad");
    }
  };
  const actions = {
    flush: (q) =>
      confirmAction({
        title: `Flush queue “${q.name}”?`,
        question: `The ${q.waiting} waiting chat(s) of this queue are closed and their customers told no agent is available.`,
        confirmLabel: "Flush queue",
        run: async () => {
          const answer = await stream.request("flushQueue", { queueId: q.id });
          say(`Flushed “${q.name}”: ${answer.closedTasks} chat(s) closed.`);
        },
      }),
    notReady: (a, reasonCode) =>
      act("Not changed", async () => {
        await stream.request("setAgentState", { agentId: a.id, reasonCode });
        say(`${a.username} is NOT READY (${reasonCode}).`);
      }),
    logout: (a) =>
      confirmAction({
        title: `Log ${a.username} out?`,
        question: `${a.username}'s chats go back to their queues and the desk is told you logged them out.`,
        confirmLabel: "Log out",
        run: async () => {
          await stream.request("forceLogout", { agentId: a.id });
          say(`${a.username} is logged out.`);
        },
      }),
    join: (c, mode) => act("Cannot join", () => monitor.join(c, mode)),
    move: (c) => moveChat(c, stream, say),
    offer: (c) => offerChat(c, stream, say),
  };

  const render = () => {
    const snap = stream.snapshot;
    if (snap) {
      const scope = snap.scope.admin ? "all teams" : "your teams";
      period.textContent = `Today since ${formatTime(stream.snapshot.dayStart)} (${snap.timeZone}) and the last 30 minutes · agents and chats of ${scope} · short abandons under ${snap.shortAbandonSecs} s`;
    }
    replace(queues, h("h2", { text: "Queues" }), queueTable(stream, actions));
    replace(agents, h("h2", { text: "Agents" }), agentTable(stream, actions, reasons));
    replace(conversations, h("h2", { text: "Ongoing conversations" }), conversationTable(stream, actions));
    tick();
  };
  const tick = () => {
    const now = stream.now();
    for (const node of view.querySelectorAll("[data-since]")) {
      const at = Number(node.dataset.since);
      node.textContent = at ? formatDuration((now - at) / 1000) : "–";
    }
    // A growing wait crosses a limit with no update from the server: redraw, so the
    // row's colour and its amber/red badge change together.
    const crossed = [...view.querySelectorAll("tr.queue-row")].some((row) => {
      const q = [...stream.queues.values()].find((x) => x.name === row.dataset.queue);
      return q && !row.classList.contains(`status-${queueStatus(q, now)}`);
    });
    if (crossed) render();
  };
  const stream = new LiveStream(ctx.session.token, {
    onChange: render,
    onStatus: (s, detail) => {
      status.textContent = s === "connected" ? "live" : s;
      status.className = `badge ${s === "connected" ? "ok" : s === "refused" ? "bad" : "warn"}`;
      if (s === "refused") say(`The server refused the live view: ${detail}`, "bad");
    },
  });
  ctx.api
    .get("/reason-codes")
    .then((all) => {
      reasons = (Array.isArray(all) ? all : all.items ?? []).filter((r) => r.type === "NOT_READY");
      render();
    })
    .catch((err) => say(`Cannot load reason codes: ${err.message}`, "bad"));
  const ticker = setInterval(tick, 1000);
  window.switchboardLive = stream;
  return () => {
    clearInterval(ticker);
    stream.close();
    monitor.stop();
    delete window.switchboardLive;
  };
}

export default { path: "live", title: "Live", roles: ["admin", "supervisor"], mount };
