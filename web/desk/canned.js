// Canned responses in the composer: typing `/` and the start of a shortcut opens a
// list of the agent's responses (site-wide and its team's, as the server scopes
// them); arrow keys pick, Enter or Tab inserts, Escape closes.

import { apiGet } from "/shared/api.js";
import { h, replace } from "/shared/dom.js";

const REFRESH_MS = 30_000;
const MAX_SHOWN = 8;

export class CannedResponses {
  constructor(token) {
    this.token = token;
    this.items = [];
    this.loadedAt = 0;
  }

  async refresh(force = false) {
    if (!force && Date.now() - this.loadedAt < REFRESH_MS) return;
    this.loadedAt = Date.now();
    try {
      const list = await apiGet("/canned-responses", this.token);
      this.items = Array.isArray(list) ? list : (list?.items ?? []);
    } catch {
      // Keep what we had: the composer works without canned responses.
    }
  }

  /** Responses whose shortcut starts with `prefix` (without the slash). */
  matching(prefix) {
    const wanted = prefix.toLowerCase();
    return this.items
      .filter((c) => shortcutOf(c).toLowerCase().startsWith(wanted))
      .sort((a, b) => shortcutOf(a).localeCompare(shortcutOf(b)))
      .slice(0, MAX_SHOWN);
  }

  /** Wires the picker to a composer textarea. */
  attach(input) {
    const list = h("ul", { class: "canned-picker", role: "listbox", "data-testid": "canned-picker", hidden: true });
    let shown = [];
    let active = 0;

    const token = () => {
      const before = input.value.slice(0, input.selectionStart ?? input.value.length);
      const match = /(^|\s)\/(\S*)$/.exec(before);
      return match ? { start: before.length - match[2].length - 1, prefix: match[2] } : null;
    };
    const close = () => {
      list.hidden = true;
      shown = [];
    };
    const render = () => {
      replace(
        list,
        shown.map((c, i) =>
          h(
            "li",
            {
              role: "option",
              class: i === active ? "active" : "",
              "aria-selected": i === active ? "true" : "false",
              onMousedown: (e) => {
                e.preventDefault();
                insert(c);
              },
            },
            h("strong", { text: `/${shortcutOf(c)}` }),
            " ",
            h("span", { class: "muted", text: c.text }),
          ),
        ),
      );
      list.hidden = shown.length === 0;
      // The composer may be built after attach(): place the list beside it on first use.
      if (!list.isConnected) input.before(list);
    };
    const insert = (canned) => {
      const at = token();
      if (!at) return close();
      const end = input.selectionStart ?? input.value.length;
      input.value = input.value.slice(0, at.start) + canned.text + input.value.slice(end);
      const caret = at.start + canned.text.length;
      input.setSelectionRange(caret, caret);
      input.dispatchEvent(new Event("input", { bubbles: true }));
      close();
      input.focus();
    };
    const update = async () => {
      const at = token();
      if (!at) return close();
      await this.refresh();
      shown = this.matching(at.prefix);
      active = 0;
      render();
    };

    input.addEventListener("input", (e) => {
      if (e.isTrusted !== false) update();
    });
    input.addEventListener("blur", close);
    input.addEventListener("keydown", (e) => {
      if (list.hidden || !shown.length) return;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        active = (active + (e.key === "ArrowDown" ? 1 : shown.length - 1)) % shown.length;
        render();
      } else if (e.key === "Enter" || e.key === "Tab") {
        e.preventDefault();
        insert(shown[active]);
      } else if (e.key === "Escape") {
        e.preventDefault();
        close();
      }
    });
  }
}

function shortcutOf(canned) {
  return String(canned.shortcut ?? "").replace(/^\//, "");
}
