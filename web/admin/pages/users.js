// Users: sign-in, role, team and supervised teams; on the same page an agent's capacity
// per MRD and its routing attributes; disable/enable and a password reset.

import { confirmAction } from "/shared/dialog.js";
import { h } from "/shared/dom.js";
import { field, valueOf } from "/shared/form.js";
import { emptyToNull, optionsOf, specForm, under } from "../kit/fields.js";
import { picker } from "../kit/picker.js";
import { resourcePage } from "../kit/resource.js";

const ROLES = [["agent", "Agent"], ["supervisor", "Supervisor"], ["admin", "Admin"]];

const fullName = (u) => [u.firstName, u.lastName].filter(Boolean).join(" ");

function capacityFields(mrds, capacities) {
  return mrds.map((m) =>
    field({
      name: `capacities.${m.id}`,
      label: `${m.name} capacity`,
      type: "number",
      min: 0,
      max: 100,
      value: capacities?.[m.id],
      help: `Tasks at once (0-${m.maxTasks}); empty: not set (clearing removes it).`,
    }),
  );
}

function attributeFields(attributes, values) {
  return attributes.map((a) =>
    a.type === "BOOLEAN"
      ? field({
          name: `attributes.${a.name}`,
          label: a.name,
          type: "select",
          options: [["", "not set"], ["true", "yes"], ["false", "no"]],
          value: values?.[a.name] === undefined ? "" : String(values[a.name]),
        })
      : field({ name: `attributes.${a.name}`, label: a.name, type: "number", min: 1, max: 10, value: values?.[a.name], help: "1-10; empty: not set." }),
  );
}

/** {<key>: value} of the filled controls; `null` for attributes that were set and are now empty. */
function collectMap(wrappers, prefix, before, parse) {
  const out = {};
  for (const w of wrappers) {
    const key = w.dataset.field.slice(prefix.length + 1);
    const value = valueOf(w.control);
    if (value === null || value === "") {
      if (before?.[key] !== undefined && parse) out[key] = null;
      continue;
    }
    out[key] = parse ? parse(value) : value;
  }
  return out;
}

/** Supervised teams go with supervisors and admins; an agent's body leaves them out. */
function withSupervised(user, teamIds) {
  return user.role === "agent" && !teamIds.length ? user : { ...user, supervisedTeamIds: teamIds };
}

function section(title, help, nodes, empty) {
  return h(
    "fieldset",
    { class: "plain section" },
    h("legend", { text: title }),
    h("p", { class: "help", text: help }),
    nodes.length ? h("div", { class: "field-grid" }, nodes) : h("p", { class: "muted small", text: empty }),
  );
}

function accountActions(ctx, row) {
  if (!ctx.canEdit || !row) return null;
  const toggle = h("button", {
    type: "button",
    text: row.disabled ? "Enable user" : "Disable user",
    onClick: async () => {
      const ok = await confirmAction({
        title: row.disabled ? "Enable user?" : "Disable user?",
        question: row.disabled
          ? `${row.username} may sign in again.`
          : `${row.username} is signed out at once, its desk closes and it is never offered work again. Its history stays.`,
        confirmLabel: row.disabled ? "Enable" : "Disable",
        danger: !row.disabled,
        run: () => ctx.api.send("POST", `/users/${row.id}/${row.disabled ? "enable" : "disable"}`),
      });
      if (ok) {
        ctx.flash(`${row.username} ${row.disabled ? "enabled" : "disabled"}.`);
        ctx.navigate("#/users");
      }
    },
  });
  const password = field({ name: "password", label: "New password", type: "password", autocomplete: "new-password", help: "At least 5 characters; the user's sessions end." });
  const note = h("span", { role: "status", class: "small" });
  const reset = h("form", { class: "row reset", novalidate: true }, password, h("button", { type: "submit", text: "Set password" }), note);
  reset.addEventListener("submit", async (event) => {
    event.preventDefault();
    note.textContent = "";
    note.className = "small";
    try {
      await ctx.api.send("POST", `/users/${row.id}/password`, { password: password.control.value });
      password.control.value = "";
      note.textContent = "Password set.";
      note.className = "small badge ok";
    } catch (err) {
      note.textContent = err.message;
      note.className = "small badge bad";
    }
  });
  return h(
    "section",
    { class: "card stack", "aria-labelledby": "account-title" },
    h("h2", { id: "account-title", text: "Account" }),
    h("div", { class: "row" }, h("span", { text: "Status:" }), row.disabled ? h("span", { class: "badge bad", text: "disabled" }) : h("span", { class: "badge ok", text: "active" }), h("span", { class: "spacer" }), toggle),
    reset,
  );
}

export default resourcePage({
  path: "users",
  title: "Users",
  noun: "user",
  apiPath: "/users",
  serverSearch: true,
  label: (u) => u.username,
  intro: "Agents, supervisors and admins. An agent's capacities and skills are set on its page.",
  empty: "Add an agent, put it in a team and give it a capacity so it can take chats.",
  async lookups(ctx) {
    const [teams, mrds, attributes] = await Promise.all([
      ctx.api.get("/teams"),
      ctx.api.get("/mrds"),
      ctx.api.get("/routing-attributes"),
    ]);
    return { teams, mrds, attributes };
  },
  async fetchOne(ctx, id) {
    const [user, caps, attrs] = await Promise.all([
      ctx.api.get(`/users/${encodeURIComponent(id)}`),
      ctx.api.get(`/users/${encodeURIComponent(id)}/capacities`),
      ctx.api.get(`/users/${encodeURIComponent(id)}/attributes`),
    ]);
    return { ...user, capacities: caps.capacities, attributes: attrs.attributes };
  },
  columns: [
    { heading: "Username", value: (u) => u.username },
    { heading: "Name", value: (u) => fullName(u) || "–" },
    { heading: "Role", value: (u) => h("span", { class: "badge info", text: u.role }) },
    { heading: "Team", value: (u) => u.teamName ?? "–" },
    { heading: "Supervises", value: (u) => (u.supervisedTeams ?? []).map((t) => t.teamName).join(", ") || "–" },
    { heading: "Status", value: (u) => (u.disabled ? h("span", { class: "badge bad", text: "disabled" }) : h("span", { class: "badge ok", text: "active" })) },
  ],
  form(ctx, row, { teams, mrds, attributes }) {
    const main = specForm(
      [
        { name: "username", label: "Username", required: true, disabled: Boolean(row), skip: Boolean(row), autocomplete: "off", help: row ? "A username never changes." : "Letters, digits, . _ - @" },
        ...(row ? [] : [{ name: "password", label: "Password", type: "password", required: true, autocomplete: "new-password", help: "At least 5 characters." }]),
        { name: "firstName", label: "First name" },
        { name: "lastName", label: "Last name" },
        { name: "role", label: "Role", type: "select", options: ROLES, value: "agent" },
        { name: "teamId", label: "Team", type: "select", options: optionsOf(teams, { none: "No team" }), put: emptyToNull },
      ],
      row,
    );
    const supervised = picker({
      name: "supervisedTeamIds",
      legend: "Supervises teams",
      help: "For supervisors and admins: whose agents they watch.",
      rows: teams.map((t) => ({ id: t.id, label: t.name })),
      chosen: (row?.supervisedTeams ?? []).map((t) => t.teamId),
      empty: "No teams yet.",
    });
    // Supervised teams mean something for supervisors and admins only.
    const role = main.controls.role;
    const showSupervised = () => {
      supervised.hidden = role.value === "agent" && !supervised.selected().length;
    };
    role.addEventListener("change", showSupervised);
    showSupervised();
    const caps = capacityFields(mrds, row?.capacities);
    const attrs = attributeFields(attributes, row?.attributes);
    return {
      extraTop: accountActions(ctx, row),
      nodes: [
        h("div", { class: "field-grid" }, main.nodes),
        supervised,
        section("Capacity per MRD", "How many tasks of each kind this agent holds at once. Routing uses it at once.", caps, "No MRDs yet."),
        section("Routing attributes", "The skills queue steps test (billing >= 5).", attrs, "No routing attributes yet: add them on the Routing attributes page."),
      ],
      collect: () => ({
        user: withSupervised(main.collect(), supervised.selected()),
        // A cleared capacity is removed (null), not set to 0.
        capacities: collectMap(caps, "capacities", row?.capacities, Number),
        attributes: collectMap(attrs, "attributes", row?.attributes, (v) => (v === "true" ? true : v === "false" ? false : Number(v))),
      }),
    };
  },
  async save(ctx, row, body) {
    const user = row
      ? await ctx.api.send("PUT", `/users/${row.id}`, body.user)
      : await ctx.api.send("POST", "/users", body.user);
    if (Object.keys(body.capacities).length) {
      await under("capacities", () => ctx.api.send("PUT", `/users/${user.id}/capacities`, body.capacities));
    }
    if (Object.keys(body.attributes).length) {
      await under("attributes", () => ctx.api.send("PUT", `/users/${user.id}/attributes`, body.attributes));
    }
    return user;
  },
  async remove(ctx, row) {
    const answer = await ctx.api.send("DELETE", `/users/${row.id}`);
    return answer?.disabled ? `${row.username} has history, so it was disabled instead of deleted.` : null;
  },
});
