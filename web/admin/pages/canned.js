// Canned responses: text an agent inserts with a shortcut, site-wide or for one team.

import { emptyToNull, optionsOf, specForm } from "../kit/fields.js";
import { resourcePage } from "../kit/resource.js";

export default resourcePage({
  path: "canned",
  title: "Canned responses",
  noun: "canned response",
  apiPath: "/canned-responses",
  label: (c) => c.shortcut,
  intro: "Text agents insert on the desk by its shortcut, for everyone or for one team.",
  empty: "Add a greeting such as shortcut hello; agents then insert it while chatting.",
  searchText: (c) => `${c.shortcut} ${c.text}`,
  lookups: async (ctx) => ({ teams: await ctx.api.get("/teams") }),
  columns: [
    { heading: "Shortcut", value: (c) => `/${c.shortcut}` },
    { heading: "Text", value: (c) => (c.text.length > 120 ? `${c.text.slice(0, 120)}…` : c.text) },
    { heading: "Team", value: (c, { teams }) => (c.teamId ? teams.find((t) => t.id === c.teamId)?.name ?? "another team" : "everyone") },
  ],
  form: (ctx, row, { teams }) =>
    specForm(
      [
        { name: "shortcut", label: "Shortcut", required: true, help: "1-32 letters, digits, _ or -." },
        { name: "text", label: "Text", type: "textarea", rows: 5, required: true },
        { name: "teamId", label: "For", type: "select", options: optionsOf(teams, { none: "Everyone" }), put: emptyToNull },
      ],
      row,
    ),
});
