// Teams: a name, its members (agents) and its supervisors.

import { specForm } from "../kit/fields.js";
import { picker } from "../kit/picker.js";
import { fetchAll, resourcePage } from "../kit/resource.js";

const fullName = (u) => [u.firstName, u.lastName].filter(Boolean).join(" ");
const userRow = (u) => ({ id: u.id, label: u.username, hint: [fullName(u), u.role, u.disabled ? "disabled" : ""].filter(Boolean).join(" · ") });
const names = (refs) => refs.map((u) => u.username).join(", ") || "–";

/** Runs `call`; an error naming `userIds[i]` is shown at the picker `name`. */
async function at(name, call) {
  try {
    return await call();
  } catch (err) {
    if (err.field?.startsWith("userIds")) err.field = name;
    throw err;
  }
}

export default resourcePage({
  path: "teams",
  title: "Teams",
  noun: "team",
  apiPath: "/teams",
  intro: "Agents belong to one team; supervisors watch the teams they supervise.",
  empty: "Add a team, then put agents in it here or on their user page.",
  searchText: (t) => `${t.name} ${names(t.members)} ${names(t.supervisors)}`,
  lookups: async (ctx) => ({ users: ctx.canEdit ? await fetchAll(ctx, "/users") : [] }),
  columns: [
    { heading: "Name", value: (t) => t.name },
    { heading: "Members", value: (t) => `${t.members.length}: ${names(t.members)}` },
    { heading: "Supervisors", value: (t) => names(t.supervisors) },
  ],
  form(ctx, row, { users }) {
    const main = specForm([{ name: "name", label: "Name", required: true }], row);
    const known = ctx.canEdit ? users : [...(row?.members ?? []), ...(row?.supervisors ?? [])];
    const members = picker({
      name: "members",
      legend: "Members",
      help: "Ticking an agent moves it from its old team.",
      rows: known.filter((u) => u.role === "agent" || row?.members.some((m) => m.id === u.id)).map(userRow),
      chosen: row?.members.map((u) => u.id) ?? [],
      empty: "No agents yet: add them on the Users page.",
    });
    const supervisors = picker({
      name: "supervisors",
      legend: "Supervisors",
      rows: known.filter((u) => u.role !== "agent").map(userRow),
      chosen: row?.supervisors.map((u) => u.id) ?? [],
      empty: "No supervisors yet: add a user with the supervisor role.",
    });
    return {
      nodes: [...main.nodes, members, supervisors],
      collect: () => ({ team: main.collect(), members: members.selected(), supervisors: supervisors.selected() }),
    };
  },
  async save(ctx, row, body) {
    const team = row
      ? await ctx.api.send("PUT", `/teams/${row.id}`, body.team)
      : await ctx.api.send("POST", "/teams", body.team);
    await at("members", () => ctx.api.send("PUT", `/teams/${team.id}/members`, { userIds: body.members }));
    return at("supervisors", () => ctx.api.send("PUT", `/teams/${team.id}/supervisors`, { userIds: body.supervisors }));
  },
});
