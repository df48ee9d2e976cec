// The console's navigation: sections in order, each a list of pages. This is the one
// place a new part of the console plugs in (the live wallboard, reports): write its
// page modules (under web/admin/<section>/ for a section of its own) and list them here.
//
// A page is a plain object:
//   path   "users" — its URL is /#/users, and /#/users/<rest…> gives it `ctx.params`
//   title  its name in the navigation and its heading
//   roles  who sees it: ["admin", "supervisor"] (the server still checks every call)
//   mount(view, ctx)  renders into `view`; may return a function that stops timers or
//                     sockets when the reader leaves the page. `ctx`: {session, role,
//                     canEdit (admin), params, api: {get, send}, navigate(hash), flash(text)}.

import overview from "./pages/overview.js";
import users from "./pages/users.js";
import teams from "./pages/teams.js";
import mrds from "./pages/mrds.js";
import attributes from "./pages/attributes.js";
import queues from "./pages/queues.js";
import pullLists from "./pages/pull_lists.js";
import channels from "./pages/channels.js";
import reasonCodes from "./pages/reason_codes.js";
import wrapupCodes from "./pages/wrapup_codes.js";
import canned from "./pages/canned.js";
import audit from "./pages/audit.js";
import live from "./live/wallboard.js";
import reports from "./reports/report_page.js";
import search from "./reports/search_page.js";

export const SECTIONS = [
  { title: null, pages: [overview] },
  // Live: the supervisor console's wallboard (web/admin/live/).
  { title: "Live", pages: [live] },
  { title: "People", pages: [users, teams] },
  { title: "Routing", pages: [mrds, attributes, queues, pullLists, channels] },
  { title: "Desk", pages: [reasonCodes, wrapupCodes, canned] },
  // Reports and history (web/admin/reports/), beside the audit log.
  { title: "History", pages: [reports, search, audit] },
];

/** Every page the `role` may see, in navigation order. */
export function pagesFor(role) {
  return SECTIONS.flatMap((s) => s.pages).filter((p) => p.roles.includes(role));
}
