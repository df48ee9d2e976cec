// The console's home: the health card and where to start.

import { h, replace } from "/shared/dom.js";
import { mountHealth } from "../health.js";

const SETUP_STEPS = [
  ["teams", "Teams", "group agents and name their supervisors."],
  ["users", "Users", "add agents, give each a capacity per MRD and routing attributes."],
  ["attributes", "Routing attributes", "the skills queue steps ask for (billing >= 5)."],
  ["queues", "Queues", "steps that widen who may take a chat as time passes."],
  ["channels", "Channels", "where chats come from; each routes to a queue or pull list."],
  ["wrapup-codes", "Wrap-up codes", "what agents pick when a chat ends."],
];

export default {
  path: "overview",
  title: "Overview",
  roles: ["admin", "supervisor"],
  mount(view, ctx) {
    const health = h("div");
    replace(
      view,
      h("h1", { text: "Overview" }),
      h(
        "div",
        { class: "grid" },
        health,
        h(
          "article",
          { class: "card stack" },
          h("h2", { text: ctx.canEdit ? "Set up the site" : "What you can read here" }),
          h(
            "ol",
            { class: "steps-list" },
            SETUP_STEPS.map(([path, title, what]) =>
              h("li", {}, h("a", { href: `#/${path}`, text: title }), ` — ${what}`),
            ),
          ),
          h(
            "p",
            { class: "muted small" },
            "Every change takes effect at once, without a restart. Try it: ",
            h("a", { href: "/desk/", text: "agent desk" }),
            " and ",
            h("a", { href: "/widget/", text: "chat widget" }),
            ".",
          ),
        ),
      ),
    );
    return mountHealth(health);
  },
};
