// Channels: where chats come from (the web widget, connectors), and where each routes:
// a queue (PUSH) or a pull list (PULL). A web channel's page also edits the widget's
// pre-chat form (channel_prechat.js) and business hours (channel_hours.js).

import { confirmAction, openModal } from "/shared/dialog.js";
import { h, replace } from "/shared/dom.js";
import { optionsOf, specForm, under } from "../kit/fields.js";
import { fetchAll, resourcePage } from "../kit/resource.js";
import { hoursEditor } from "./channel_hours.js";
import { prechatEditor } from "./channel_prechat.js";

const enc = encodeURIComponent;

const policy = (c) => c.channelConfig?.routingPolicy ?? {};
const isWeb = (c) => c?.channelType?.name === "WEB";

/** A web channel's pre-chat form and business hours: their editors and their save. */
function widgetSettings(ctx, row) {
  if (!row || !isWeb(row)) {
    return {
      nodes: [h("p", { class: "muted small", text: "Web channels: once the channel is saved, its page also sets the widget's pre-chat form and business hours." })],
      save: async () => {},
    };
  }
  const form = prechatEditor(row.prechatForm, { readOnly: !ctx.canEdit });
  const hours = hoursEditor(row.businessHours, { readOnly: !ctx.canEdit });
  return {
    nodes: [form, hours],
    save: async (id) => {
      await under("prechatForm", () => ctx.api.send("PUT", `/channels/${enc(id)}/prechat-form`, form.value()));
      await under("businessHours", () => ctx.api.send("PUT", `/channels/${enc(id)}/business-hours`, hours.value()));
    },
  };
}

/** The widget for this channel, in a new tab. */
function widgetLink(c) {
  return h("a", {
    href: `/widget/?sid=${encodeURIComponent(c.serviceIdentifier)}`,
    target: "_blank",
    rel: "noopener",
    text: "Open widget",
    "aria-label": `Open the chat widget of channel ${c.name} (new tab)`,
    dataset: { widget: c.serviceIdentifier },
  });
}

/**
 * Shows a connector token once, with a copy button; resolves when closed. Only its
 * digest is kept by the server, so this is the one chance to read it.
 */
function showToken(channelName, token) {
  const field = h("input", { class: "mono", readonly: true, value: token, "aria-label": "Connector token", "data-testid": "connector-token" });
  const copied = h("span", { class: "muted small", role: "status" });
  const copy = h("button", {
    type: "button",
    text: "Copy",
    onClick: async () => {
      field.select();
      try {
        await navigator.clipboard.writeText(token);
        copied.textContent = "Copied.";
      } catch {
        copied.textContent = "Selected: press Ctrl+C to copy.";
      }
    },
  });
  const done = h("button", { type: "button", class: "primary", text: "I have saved it" });
  const { close, closed } = openModal(
    { class: "card confirm", "data-testid": "token-dialog" },
    h("h2", { text: `Connector token of “${channelName}”` }),
    h("p", { text: "The connector sends it as Authorization: Bearer <token> to POST /ccm/message/receive. It is shown only now: copy it into the connector's settings." }),
    h("div", { class: "row" }, field, copy),
    copied,
    h("div", { class: "row form-actions" }, done),
  );
  done.addEventListener("click", close);
  field.select();
  return closed;
}

/** For a connector channel's form: replace its token (the old one stops at once). */
function tokenControls(ctx, row) {
  if (!ctx.canEdit || !row || row.channelType?.name === "WEB") return null;
  return h(
    "p",
    { class: "row" },
    h("span", { text: "Connector token: shown once when made." }),
    h("button", {
      type: "button",
      text: "Make a new token",
      "data-testid": "new-token",
      onClick: async () => {
        let token = null;
        const made = await confirmAction({
          title: "Make a new connector token?",
          question: `The connector of “${row.name}” stops working until it is given the new token.`,
          confirmLabel: "Make a new token",
          run: async () => {
            token = (await ctx.api.send("POST", `/channels/${encodeURIComponent(row.id)}/connector-token`, {})).connectorToken;
          },
        });
        if (made && token) await showToken(row.name, token);
      },
    }),
  );
}

function routesTo(c, { queues, pullLists }) {
  const p = policy(c);
  const list = p.routingMode === "PULL" ? pullLists : queues;
  const name = list.find((x) => x.id === p.routingObjectId)?.name ?? p.routingObjectId ?? "–";
  return `${p.routingMode === "PULL" ? "pull list" : "queue"} ${name}`;
}

export default resourcePage({
  path: "channels",
  title: "Channels",
  noun: "channel",
  apiPath: "/channels",
  serverSearch: true,
  intro: "Where chats come from. Each channel routes new chats to a queue (push) or a pull list; changes apply to the next chat.",
  empty: "Add a web channel routed to a queue, then open its widget to try it.",
  async lookups(ctx) {
    const [queues, pullLists, types] = await Promise.all([
      fetchAll(ctx, "/queues"),
      ctx.api.get("/pull-lists"),
      ctx.api.get("/channel-types"),
    ]);
    return { queues, pullLists, types };
  },
  fetchOne: async (ctx, id) => {
    const channel = await ctx.api.get(`/channels/${enc(id)}`);
    if (!isWeb(channel)) return channel;
    const [prechatForm, businessHours] = await Promise.all([
      ctx.api.get(`/channels/${enc(id)}/prechat-form`),
      ctx.api.get(`/channels/${enc(id)}/business-hours`),
    ]);
    return { ...channel, prechatForm, businessHours };
  },
  columns: [
    { heading: "Name", value: (c) => c.name },
    { heading: "Service id", value: (c) => h("span", { class: "mono", text: c.serviceIdentifier }) },
    { heading: "Type", value: (c) => c.channelType?.name ?? "–" },
    { heading: "Routes to", value: routesTo },
    { heading: "State", value: (c) => (c.enabled === false ? h("span", { class: "badge bad", text: "disabled" }) : h("span", { class: "badge ok", text: "enabled" })) },
    { heading: "Widget", value: (c) => (c.channelType?.name === "WEB" ? widgetLink(c) : "–") },
  ],
  form(ctx, row, { queues, pullLists, types }) {
    const mode = policy(row ?? {}).routingMode ?? "PUSH";
    const targets = (m) => optionsOf(m === "PULL" ? pullLists : queues, { none: m === "PULL" ? "Pick a pull list" : "Pick a queue" });
    const built = specForm(
      [
        { name: "name", label: "Name", required: true },
        { name: "serviceIdentifier", label: "Service identifier", required: true, help: "How the widget or connector names this channel (1-64 characters); the widget's ?sid=." },
        {
          name: "channelType",
          label: "Type",
          type: "select",
          options: types.map((t) => [t.name, t.name]),
          value: "WEB",
          get: (c) => c?.channelType?.name,
          disabled: Boolean(row),
          help: row ? "The type of a channel never changes." : null,
        },
        { name: "routingPolicy.routingMode", label: "Mode", type: "select", options: [["PUSH", "Push to a queue"], ["PULL", "Pull list"]], help: "Push: offered to agents. Pull: agents pick.", get: (c) => (c ? policy(c).routingMode : undefined), value: "PUSH" },
        { name: "routingPolicy.routingObjectId", label: mode === "PULL" ? "Pull list" : "Queue", type: "select", options: targets(mode), get: (c) => (c ? policy(c).routingObjectId : undefined) },
        {
          name: "routingPolicy.agentSelectionPolicy",
          label: "Agent selection",
          type: "select",
          options: [["LONGEST_AVAILABLE", "Longest available"], ["LEAST_ACTIVE_TASKS", "Fewest active tasks"], ["MOST_SKILLED", "Most skilled"]],
          get: (c) => (c ? policy(c).agentSelectionPolicy : undefined),
          value: "LONGEST_AVAILABLE",
        },
        { name: "routingPolicy.agentRequestTtl", label: "Agent request TTL (s)", type: "number", min: 1, value: 300, get: (c) => (c ? policy(c).agentRequestTtl : undefined), help: "How long a chat waits for an agent." },
        { name: "customerActivityTimeout", label: "Customer inactivity timeout (s)", type: "number", min: 1, value: 600, get: (c) => c?.channelConfig?.customerActivityTimeout, help: "A silent customer's chat closes after this." },
        { name: "responseSla", label: "Response SLA (s)", type: "number", min: 0, value: 0, get: (c) => c?.channelConfig?.responseSla },
        { name: "providerWebhook", label: "Provider webhook", type: "url", placeholder: "https://…", get: (c) => c?.channelConnector?.channelProviderInterface?.providerWebhook, help: "Connector channels: replies are posted here; empty for the web widget. A connector posts with its channel's own token, shown once when the channel is created (Make a new token on the channel's page replaces it), or the site-wide channels.connector_token." },
        { name: "routingPolicy.routeToLastAgent", label: "Prefer the customer's last agent", type: "checkbox", get: (c) => (c ? policy(c).routeToLastAgent : undefined) },
        { name: "enabled", label: "Enabled (a disabled channel refuses new chats; running ones finish)", type: "checkbox", value: true, get: (c) => (c ? c.enabled !== false : undefined) },
      ],
      row,
    );
    const modeSelect = built.controls["routingPolicy.routingMode"];
    const target = built.controls["routingPolicy.routingObjectId"];
    modeSelect.addEventListener("change", () => {
      replace(target, targets(modeSelect.value).map(([value, label]) => h("option", { value, text: label })));
      target.labels[0].textContent = modeSelect.value === "PULL" ? "Pull list" : "Queue";
    });
    const [name, sid, type, ...rest] = built.nodes;
    const widget = widgetSettings(ctx, row);
    return {
      extraTop:
        row && row.channelType?.name === "WEB"
          ? h("p", { class: "row" }, h("span", { text: "Try it as a customer:" }), widgetLink(row))
          : tokenControls(ctx, row),
      // A new connector channel's token is answered once, with the create.
      after: async (saved) => {
        if (!row && saved?.connectorToken) await showToken(saved.name ?? "channel", saved.connectorToken);
        if (row) await widget.save(row.id);
      },
      nodes: [
        h("div", { class: "field-grid" }, name, sid, type),
        h("fieldset", { class: "plain section" }, h("legend", { text: "Routing" }), h("div", { class: "field-grid" }, rest.slice(0, 4))),
        h("fieldset", { class: "plain section" }, h("legend", { text: "Conversation" }), h("div", { class: "field-grid" }, rest.slice(4, 7)), rest.slice(7)),
        ...widget.nodes,
      ],
      collect: built.collect,
    };
  },
});
