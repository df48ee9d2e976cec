// One configuration entity as console pages: a searchable, paged list, a create/edit
// form with the server's errors at their fields, and a delete that asks first and
// shows the server's refusal. Supervisors get the same pages without edit controls.
//
// resourcePage(def) → a page for sections.js. `def`:
//   path, title, noun ("queue"), apiPath ("/queues"), intro (one sentence)
//   columns       [{heading, value(row, extra) → text | Node}]; the first links to the form
//   searchText    row → text the search box matches (lists the server does not search)
//   serverSearch  true: the list route pages and filters (`?q=&limit=&offset=`)
//   empty         what to do next when there are none yet (text)
//   lookups(ctx)  → extra data the list and form need (MRDs for queues, …)
//   form(ctx, row|null, extra) → {nodes, collect(), after?(saved)}: the form's fields
//   fetchOne, save, remove, label, id: override the REST defaults

import { confirmAction } from "/shared/dialog.js";
import { h, replace } from "/shared/dom.js";
import { withQuery } from "/shared/api.js";
import { actions, clearErrors, showApiError } from "/shared/form.js";

const PAGE_SIZE = 50;

/** The console page of each kind of thing a 409 `blockers` entry names. */
const BLOCKER_PAGES = {
  user: "users",
  team: "teams",
  mrd: "mrds",
  routingAttribute: "attributes",
  queue: "queues",
  channel: "channels",
  pullList: "pull-lists",
};

/** A list answer as {items, total}: a bare array, or the paged shape `{items, total}`. */
export function asPage(answer) {
  if (Array.isArray(answer)) return { items: answer, total: answer.length };
  const items = answer?.items ?? [];
  return { items, total: typeof answer?.total === "number" ? answer.total : items.length };
}

/** Every row of a list route, following its pages (for lookups such as queue names). */
export async function fetchAll(ctx, path) {
  const rows = [];
  for (let offset = 0; ; offset += 500) {
    const page = asPage(await ctx.api.get(withQuery(path, { limit: 500, offset: offset || undefined })));
    rows.push(...page.items);
    if (rows.length >= page.total || page.items.length === 0) return rows;
  }
}

export function resourcePage(def) {
  const d = {
    id: (row) => row.id,
    label: (row) => row.name,
    roles: ["admin", "supervisor"],
    lookups: async () => ({}),
    fetchOne: (ctx, id) => ctx.api.get(`${def.apiPath}/${encodeURIComponent(id)}`),
    save: (ctx, row, body) =>
      row
        ? ctx.api.send("PUT", `${def.apiPath}/${encodeURIComponent(d.id(row))}`, body)
        : ctx.api.send("POST", def.apiPath, body),
    remove: (ctx, row) => ctx.api.send("DELETE", `${def.apiPath}/${encodeURIComponent(d.id(row))}`),
    deletable: true,
    ...def,
  };
  return {
    path: d.path,
    title: d.title,
    roles: d.roles,
    mount(view, ctx) {
      const [first] = ctx.params;
      if (first === undefined) return listView(view, ctx, d);
      return formView(view, ctx, d, first === "new" ? null : first);
    },
  };
}

/** The page heading row: title, a count badge beside it, and actions on the right. */
export function pageHead(title, count, ...right) {
  return h("div", { class: "page-head" }, h("h1", { text: title }), count, h("span", { class: "spacer" }), right);
}

/** "Routing attributes" → "routing attributes", "MRDs" stays: for use inside a sentence. */
export function inSentence(title) {
  return /^[A-Z][a-z]/.test(title) ? title.charAt(0).toLowerCase() + title.slice(1) : title;
}

/**
 * The "Newer / Older" controls of a newest-first list in pages of `size` (none when
 * one page holds all): `state.offset` moves and `load()` runs. `more`: the server
 * stopped counting at `total` (shown as "1,000+").
 */
export function newerOlder(state, shown, total, size, load, more = false) {
  if (total <= size && !more) return [];
  const last = state.offset + shown;
  const move = (offset) => {
    state.offset = offset;
    load();
  };
  return [
    h("span", { class: "muted small", text: `${state.offset + 1}–${last} of ${countText(total, more)}` }),
    h("button", { type: "button", text: "Newer", disabled: state.offset === 0, onClick: () => move(Math.max(0, state.offset - size)) }),
    h("button", { type: "button", text: "Older", disabled: last >= total && !more, onClick: () => move(state.offset + size) }),
  ];
}

/** A count as shown: "1,000+" when the server stopped counting at it. */
export function countText(total, more = false) {
  return more ? `${total.toLocaleString("en")}+` : String(total);
}

/**
 * A filter form that reloads from the first page a moment after the last edit (and
 * never submits). Returns the stop for the page's unmount.
 */
export function reloadOnInput(form, state, load, delayMs = 150) {
  let timer = null;
  form.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      state.offset = 0;
      load();
    }, delayMs);
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  return () => clearTimeout(timer);
}

/** A link styled as a button. */
export function linkButton(href, text, kind = "", extra = {}) {
  return h("a", { class: `button ${kind}`.trim(), href, text, ...extra });
}

function flashNode(ctx) {
  const text = ctx.takeFlash();
  return text ? h("p", { class: "notice ok", role: "status", "data-testid": "flash", text }) : null;
}

// ---- list ---------------------------------------------------------------------

function listView(view, ctx, d) {
  const state = { q: "", offset: 0, extra: {}, all: null };
  const count = h("span", { class: "badge", "data-testid": "count" });
  const search = h("input", {
    type: "search",
    id: `search-${d.path}`,
    placeholder: `Search ${inSentence(d.title)}`,
    "aria-keyshortcuts": "/",
    autocomplete: "off",
  });
  const body = h("div", { "data-testid": "list" }, h("p", { class: "muted", text: "Loading…" }));
  const pager = h("div", { class: "row pager" });
  const flashSlot = h("div", {}, flashNode(ctx));
  const newButton = ctx.canEdit
    ? linkButton(`#/${d.path}/new`, `New ${d.noun}`, "primary", { "aria-keyshortcuts": "n", "data-testid": "new" })
    : null;
  replace(
    view,
    pageHead(d.title, count, newButton),
    flashSlot,
    d.intro ? h("p", { class: "muted intro", text: d.intro }) : null,
    ctx.canEdit ? null : h("p", { class: "notice", text: "Read only: only admins change the site." }),
    h(
      "div",
      { class: "toolbar" },
      h("label", { class: "visually-hidden", for: search.id, text: `Search ${inSentence(d.title)}` }),
      search,
    ),
    body,
    pager,
  );

  let latest = 0;
  async function load() {
    const mine = ++latest;
    try {
      if (!state.loaded) {
        state.extra = await d.lookups(ctx);
        state.loaded = true;
      }
      let page;
      if (d.serverSearch) {
        page = asPage(await ctx.api.get(withQuery(d.apiPath, { q: state.q, limit: PAGE_SIZE, offset: state.offset || undefined })));
      } else {
        state.all ??= asPage(await ctx.api.get(d.apiPath)).items;
        const needle = state.q.toLowerCase();
        const found = needle
          ? state.all.filter((row) => (d.searchText ?? d.label)(row, state.extra).toLowerCase().includes(needle))
          : state.all;
        page = { items: found.slice(state.offset, state.offset + PAGE_SIZE), total: found.length };
      }
      // Typing on in the search box sends newer requests; only the newest answer shows.
      if (mine === latest) render(page);
    } catch (err) {
      if (mine !== latest) return;
      replace(body, h("p", { class: "notice bad", role: "alert", text: `Cannot load ${inSentence(d.title)}: ${err.message}` }));
    }
  }

  function render({ items, total }) {
    count.textContent = String(total);
    if (!items.length) {
      replace(body, emptyState(ctx, d, state.q, () => {
        search.value = "";
        state.q = "";
        state.offset = 0;
        load();
      }));
      replace(pager);
      return;
    }
    replace(body, h("div", { class: "card table-wrap" }, table(ctx, d, items, state.extra, deleted)));
    const first = state.offset + 1;
    const last = state.offset + items.length;
    replace(
      pager,
      total > PAGE_SIZE
        ? [
            h("span", { class: "muted small", text: `${first}–${last} of ${total}` }),
            h("button", { type: "button", text: "Previous", disabled: state.offset === 0, onClick: () => { state.offset = Math.max(0, state.offset - PAGE_SIZE); load(); } }),
            h("button", { type: "button", text: "Next", disabled: last >= total, onClick: () => { state.offset += PAGE_SIZE; load(); } }),
          ]
        : [],
    );
  }

  function deleted(said) {
    replace(flashSlot, h("p", { class: "notice ok", role: "status", "data-testid": "flash", text: said }));
    state.all = null;
    load();
  }

  let timer = null;
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      state.q = search.value.trim();
      state.offset = 0;
      load();
    }, 150);
  });
  const onKey = (event) => {
    if (event.target.closest?.("input, textarea, select, [contenteditable]") || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "/") {
      event.preventDefault();
      search.focus();
    } else if (event.key === "n" && newButton) {
      event.preventDefault();
      newButton.click();
    }
  };
  document.addEventListener("keydown", onKey);
  load();
  return () => {
    clearTimeout(timer);
    document.removeEventListener("keydown", onKey);
  };
}

function emptyState(ctx, d, q, clear) {
  if (q) {
    return h(
      "div",
      { class: "card empty", "data-testid": "empty" },
      h("p", { text: `No ${inSentence(d.title)} match “${q}”.` }),
      h("button", { type: "button", text: "Clear the search", onClick: clear }),
    );
  }
  return h(
    "div",
    { class: "card empty", "data-testid": "empty" },
    h("p", { text: `No ${inSentence(d.title)} yet.` }),
    h("p", { class: "muted", text: d.empty ?? "" }),
    ctx.canEdit ? linkButton(`#/${d.path}/new`, `New ${d.noun}`, "primary") : h("p", { class: "muted small", text: "An admin adds them." }),
  );
}

function table(ctx, d, rows, extra, onDeleted) {
  const [firstColumn, ...rest] = d.columns;
  return h(
    "table",
    {},
    h("caption", { class: "visually-hidden", text: d.title }),
    h(
      "thead",
      {},
      h("tr", {}, d.columns.map((c) => h("th", { scope: "col", text: c.heading })), ctx.canEdit && d.deletable ? h("th", { scope: "col", class: "actions" }, h("span", { class: "visually-hidden", text: "Actions" })) : null),
    ),
    h(
      "tbody",
      {},
      rows.map((row) =>
        h(
          "tr",
          { dataset: { id: d.id(row) } },
          h("td", {}, h("a", { href: `#/${d.path}/${encodeURIComponent(d.id(row))}`, dataset: { row: d.label(row) } }, firstColumn.value(row, extra) ?? "")),
          rest.map((c) => h("td", {}, c.value(row, extra) ?? "")),
          ctx.canEdit && d.deletable
            ? h(
                "td",
                { class: "actions" },
                h("button", {
                  type: "button",
                  class: "danger small-button",
                  text: "Delete",
                  "aria-label": `Delete ${d.noun} ${d.label(row)}`,
                  onClick: async () => {
                    const said = await askDelete(ctx, d, row);
                    if (said) onDeleted(said);
                  },
                }),
              )
            : null,
        ),
      ),
    ),
  );
}

/** Asks, deletes; resolves what to tell the reader after a delete, or null when not deleted. */
async function askDelete(ctx, d, row) {
  let said = null;
  const done = await confirmAction({
    title: `Delete ${d.noun}?`,
    question: `Delete ${d.noun} “${d.label(row)}”? This cannot be undone.`,
    confirmLabel: `Delete ${d.noun}`,
    run: async () => {
      said = await d.remove(ctx, row);
    },
    blockerLink: (b) => (BLOCKER_PAGES[b.type] && b.id ? `#/${BLOCKER_PAGES[b.type]}/${encodeURIComponent(b.id)}` : null),
  });
  if (!done) return null;
  return typeof said === "string" ? said : `Deleted ${d.noun} “${d.label(row)}”.`;
}

// ---- form ---------------------------------------------------------------------

async function formView(view, ctx, d, id) {
  const back = h("a", { class: "back", href: `#/${d.path}`, text: `← ${d.title}` });
  replace(view, back, h("p", { class: "muted", text: "Loading…" }));
  let extra;
  let row = null;
  try {
    extra = await d.lookups(ctx);
    if (id !== null) row = await d.fetchOne(ctx, id, extra);
  } catch (err) {
    replace(view, back, h("p", { class: "notice bad", role: "alert", text: id === null ? `Cannot open the form: ${err.message}` : `Cannot load this ${d.noun}: ${err.message}` }));
    return;
  }
  if (id === null && !ctx.canEdit) {
    replace(view, back, h("p", { class: "notice warn", text: `Only admins add ${inSentence(d.title)}.` }));
    return;
  }
  const built = d.form(ctx, row, extra);
  const fieldset = h("fieldset", { class: "plain stack", disabled: !ctx.canEdit }, built.nodes);
  const submit = h("button", { class: "primary", type: "submit", text: row ? "Save changes" : `Create ${d.noun}` });
  const del =
    row && d.deletable
      ? h("button", {
          type: "button",
          class: "danger",
          text: `Delete ${d.noun}`,
          onClick: async () => {
            const said = await askDelete(ctx, d, row);
            if (said) {
              ctx.flash(said);
              ctx.navigate(`#/${d.path}`);
            }
          },
        })
      : null;
  const form = h(
    "form",
    { class: "card stack entity-form", novalidate: true, "data-testid": "entity-form" },
    fieldset,
    ctx.canEdit ? actions(submit, h("a", { href: `#/${d.path}`, text: "Cancel" }), h("span", { class: "spacer" }), del) : null,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    submit.disabled = true;
    try {
      const saved = await d.save(ctx, row, built.collect(), extra);
      await built.after?.(saved ?? row);
      ctx.flash(`Saved ${d.noun} “${d.label(saved ?? { ...row, ...built.collect() })}”.`);
      ctx.navigate(`#/${d.path}`);
    } catch (err) {
      showApiError(form, err);
    } finally {
      submit.disabled = false;
    }
  });
  replace(
    view,
    back,
    h("h1", { text: row ? `${capital(d.noun)} “${d.label(row)}”` : `New ${d.noun}` }),
    ctx.canEdit ? null : h("p", { class: "notice", text: "Read only: only admins change the site." }),
    built.extraTop ?? null,
    form,
  );
  built.mounted?.();
  const focusable = fieldset.querySelector("input, select, textarea");
  if (ctx.canEdit && focusable) focusable.focus();
}

export function capital(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
