// The customer panel of an open chat: who the customer is (name, identifiers), what
// the widget's form and the conversation data say, and the customer's previous
// conversations, each of which opens its transcript drawn as the chat pane draws it.

import { apiGet } from "/shared/api.js";
import { openModal } from "/shared/dialog.js";
import { formatTime, h, replace } from "/shared/dom.js";
import { bubble, describe } from "/shared/transcript.js";

const HIDDEN_CUSTOMER_KEYS = new Set(["__v", "isAnonymous"]);

function rows(pairs) {
  const shown = pairs.filter(([, value]) => value !== undefined && value !== null && value !== "");
  if (!shown.length) return h("p", { class: "muted small", text: "Nothing given." });
  return h(
    "dl",
    { class: "facts" },
    shown.flatMap(([key, value]) => [
      h("dt", { text: key }),
      h("dd", { text: typeof value === "object" ? JSON.stringify(value) : String(value) }),
    ]),
  );
}

/** `[label, value]` pairs of the CIM customer and its channel identifier. */
function identifiers(conversation) {
  const customer = conversation?.customer ?? {};
  const session = conversation?.channelSession ?? {};
  const pairs = [
    ["Customer id", customer._id],
    ["Channel identifier", session.channelData?.channelCustomerIdentifier],
    ["Channel", session.channel?.name],
    ["Phone", Array.isArray(customer.phoneNumber) ? customer.phoneNumber.join(", ") : customer.phoneNumber],
  ];
  for (const [key, value] of Object.entries(customer)) {
    if (["_id", "firstName", "phoneNumber"].includes(key) || HIDDEN_CUSTOMER_KEYS.has(key)) continue;
    // Identifier lists per channel type (`web: [...]`) read as "web identifiers".
    if (Array.isArray(value)) pairs.push([`${key} identifiers`, value.join(", ")]);
    else pairs.push([key, value]);
  }
  return pairs;
}

/** The widget form's fields (`formData.attributes`) and the channel data names. */
function formData(conversation) {
  const data = conversation?.channelSession?.channelData ?? {};
  const pairs = [
    ["First name", data.customerFirstName],
    ["Last name", data.customerLastName],
  ];
  const attributes = data.additionalAttributes ?? [];
  for (const attribute of Array.isArray(attributes) ? attributes : []) {
    for (const field of attribute?.value?.formData?.attributes ?? []) {
      // The form's name fields are already shown above as First / Last name.
      if (field?.key === "firstName" && data.customerFirstName) continue;
      if (field?.key === "lastName" && data.customerLastName) continue;
      if (field?.key) pairs.push([field.key, field.value]);
    }
  }
  return pairs;
}

function conversationData(conversation) {
  const data = conversation?.conversationData;
  return data && typeof data === "object" ? Object.entries(data) : [];
}

export class CustomerPanel {
  constructor(token) {
    this.token = token;
  }

  /** The panel's node for `item` (a desk Conversation). */
  render(item) {
    const past = h("div", { class: "past", "data-testid": "customer-history" }, h("p", { class: "muted small", text: "Loading…" }));
    const panel = h(
      "aside",
      { class: "customer-panel", "data-testid": "customer-panel", "aria-label": "Customer" },
      h("h3", { text: item.customerName() }),
      h("h4", { text: "Identifiers" }),
      rows(identifiers(item.conversation)),
      h("h4", { text: "Form" }),
      rows(formData(item.conversation)),
      conversationData(item.conversation).length ? [h("h4", { text: "Conversation data" }), rows(conversationData(item.conversation))] : null,
      h("h4", { text: "Previous conversations" }),
      past,
    );
    this.#loadHistory(item, past);
    return panel;
  }

  async #loadHistory(item, node) {
    try {
      const list = await apiGet(`/conversations/${encodeURIComponent(item.id)}/customer-history`, this.token);
      if (!list.length) {
        replace(node, h("p", { class: "muted small", text: "This is the customer's first conversation." }));
        return;
      }
      replace(
        node,
        h(
          "ul",
          { class: "past-list" },
          list.map((c) =>
            h(
              "li",
              {},
              h("button", {
                type: "button",
                class: "link",
                "data-testid": "past-conversation",
                text: [
                  new Date(c.creationTime).toLocaleString(),
                  String(c.state).toLowerCase().replace("_", " "),
                  c.csat ? `rated ${c.csat.rating}/5` : null,
                ]
                  .filter(Boolean)
                  .join(" · "),
                onClick: () => this.#openTranscript(item, c),
              }),
            ),
          ),
        ),
      );
    } catch (err) {
      replace(node, h("p", { class: "notice bad small", text: `Cannot load the history: ${err.message}` }));
    }
  }

  async #openTranscript(item, past) {
    const body = h("div", { class: "messages transcript", "data-testid": "past-transcript" }, h("p", { class: "muted", text: "Loading…" }));
    const closeButton = h("button", { type: "button", text: "Close" });
    const { close } = openModal(
      { class: "card transcript-dialog", "data-testid": "transcript-dialog" },
      h("div", { class: "row" }, h("h2", { text: `${item.customerName()} · ${new Date(past.creationTime).toLocaleString()}` }), h("span", { class: "spacer" }), closeButton),
      body,
    );
    closeButton.addEventListener("click", close);
    try {
      const transcript = await apiGet(
        `/conversations/${encodeURIComponent(item.id)}/customer-history/${encodeURIComponent(past.id)}/events`,
        this.token,
      );
      const context = { agentId: null, customerName: item.customerName() };
      const nodes = transcript.events.map((e) => describe(e, context)).filter(Boolean).map((shown) => bubble(shown));
      replace(body, nodes.length ? nodes : h("p", { class: "muted", text: `Nothing was said (${formatTime(past.creationTime)}).` }));
    } catch (err) {
      replace(body, h("p", { class: "notice bad", text: `Cannot load the transcript: ${err.message}` }));
    }
  }
}
