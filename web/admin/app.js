// The console's frame: sign-in, the navigation built from sections.js, and the hash
// router that mounts one page at a time (/#/queues, /#/queues/new, /#/queues/<id>).

import { byId, h, replace } from "/shared/dom.js";
import { mountHealth } from "./health.js";
import { SECTIONS, pagesFor } from "./sections.js";
import { savedSession, sessionApi, signIn, signOut } from "./session.js";

const CONSOLE_ROLES = ["admin", "supervisor"];

let session = null;
let unmount = null;
let flashText = null;
let stopSigninHealth = null;

// ---- sign-in ------------------------------------------------------------------

function show(current, message) {
  session = current;
  const allowed = Boolean(session) && CONSOLE_ROLES.includes(session.user.role);
  byId("signed-in").hidden = !session;
  byId("signin-view").hidden = allowed;
  byId("app-view").hidden = !allowed;
  byId("login-form").hidden = Boolean(session);
  byId("not-allowed").hidden = !session || allowed;
  const error = byId("login-error");
  error.hidden = !message;
  error.textContent = message ?? "";
  if (session) {
    byId("who").textContent = session.user.username;
    byId("role").textContent = session.user.role;
  }
  if (allowed) {
    stopSigninHealth?.();
    stopSigninHealth = null;
    replace(byId("signin-health"));
    renderNav();
    route();
  } else {
    leavePage();
    if (!stopSigninHealth) stopSigninHealth = mountHealth(byId("signin-health"));
  }
}

async function onLogin(event) {
  event.preventDefault();
  const button = event.currentTarget.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const current = await signIn(byId("username").value.trim(), byId("password").value);
    byId("password").value = "";
    show(current);
  } catch (err) {
    show(null, err.status === 401 ? "Wrong username or password." : err.message);
  } finally {
    button.disabled = false;
  }
}

async function onLogout() {
  const old = session;
  show(null);
  await signOut(old);
}

function expired() {
  sessionStorage.clear();
  show(null, "Your session ended; please sign in again.");
}

// ---- navigation and routing ---------------------------------------------------

function currentPath() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  // Supervisors land on the live wallboard, admins on the overview.
  const home = session?.user.role === "supervisor" ? "live" : "overview";
  return { path: parts[0] ?? home, params: parts.slice(1) };
}

function renderNav() {
  const role = session.user.role;
  const { path } = currentPath();
  const groups = SECTIONS.map((section) => {
    const pages = section.pages.filter((p) => p.roles.includes(role));
    if (!pages.length) return null;
    return h(
      "div",
      { class: "nav-group" },
      section.title ? h("h2", { class: "nav-title", text: section.title }) : null,
      h(
        "ul",
        {},
        pages.map((p) =>
          h(
            "li",
            {},
            h("a", {
              href: `#/${p.path}`,
              text: p.title,
              "aria-current": p.path === path ? "page" : undefined,
              dataset: { page: p.path },
            }),
          ),
        ),
      ),
    );
  });
  replace(byId("nav"), groups);
}

function leavePage() {
  try {
    unmount?.();
  } finally {
    unmount = null;
  }
}

function route() {
  if (!session || !CONSOLE_ROLES.includes(session.user.role)) return;
  const role = session.user.role;
  const { path, params } = currentPath();
  const page = pagesFor(role).find((p) => p.path === path);
  leavePage();
  renderNav();
  const view = byId("view");
  if (!page) {
    replace(
      view,
      h("h1", { text: "Page not found" }),
      h("p", {}, "There is no page here for your role. ", h("a", { href: "#/overview", text: "Back to the overview" })),
    );
    return;
  }
  document.title = `${page.title} · Switchboard console`;
  const ctx = {
    session,
    role,
    canEdit: role === "admin",
    params,
    api: sessionApi(session, expired),
    navigate: (hash) => {
      location.hash = hash;
    },
    flash: (text) => {
      flashText = text;
    },
    takeFlash: () => {
      const text = flashText;
      flashText = null;
      return text;
    },
  };
  replace(view);
  const stop = page.mount(view, ctx);
  unmount = typeof stop === "function" ? stop : null;
}

// ---- start --------------------------------------------------------------------

byId("login-form").addEventListener("submit", onLogin);
byId("logout").addEventListener("click", onLogout);
byId("not-allowed-logout").addEventListener("click", onLogout);
window.addEventListener("hashchange", () => {
  route();
  byId("view").focus({ preventScroll: true });
});
show(savedSession());
