// A table of API rows drawn with exactly the API's columns in the API's order (so
// the CSV export, which the server writes from the same columns, is what the screen
// shows), and the CSV download itself: fetched with the session's token and saved
// under the server's file name.

import { h } from "/shared/dom.js";
import { columnHint, columnLabel, csvText, formatCell, isNumeric } from "./format.js";

/**
 * `<table>` of `rows` (objects keyed by `columns`). `cell(key, row)` may return a
 * node for a cell (a drill-down link); otherwise the formatted value is shown. Every
 * cell carries the API's value in `data-value`, every header its column in
 * `data-column`.
 */
export function dataTable({ columns, rows, cell = () => null, testId, caption, rowProps = () => ({}) }) {
  return h(
    "table",
    { class: "report-table", "data-testid": testId },
    caption ? h("caption", { class: "visually-hidden", text: caption }) : null,
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        columns.map((key) =>
          h("th", { scope: "col", class: isNumeric(key) ? "num" : null, title: columnHint(key), dataset: { column: key }, text: columnLabel(key) }),
        ),
      ),
    ),
    h(
      "tbody",
      {},
      rows.map((row) =>
        h(
          "tr",
          rowProps(row),
          columns.map((key) => {
            const custom = cell(key, row);
            return h(
              "td",
              { class: [isNumeric(key) ? "num" : "", key === "id" ? "id-cell" : ""].join(" ").trim() || null, dataset: { column: key, value: csvText(row[key]) } },
              custom ?? (key === "id" ? shortId(row[key]) : formatCell(key, row[key])),
            );
          }),
        ),
      ),
    ),
  );
}

/** An id shown short, whole in its tooltip. */
function shortId(id) {
  const text = String(id ?? "");
  return h("span", { class: "mono muted", title: text, text: text.length > 10 ? `${text.slice(0, 8)}…` : text });
}

/**
 * A "Download CSV" button for `path` (under /api/v1, with `format=csv` in its query).
 * The server names the file; `onSaved(name)` runs after the browser is handed it.
 */
export function csvButton(ctx, path, { label = "Download CSV", testId = "csv" } = {}) {
  const button = h("button", { type: "button", class: "small-button", "data-testid": testId, text: label });
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const response = await fetch(`/api/v1${path}`, { headers: { Authorization: `Bearer ${ctx.session.token}`, Accept: "text/csv" } });
      if (!response.ok) throw new Error(`the server answered ${response.status}`);
      const name = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") ?? "")?.[1] ?? "report.csv";
      const url = URL.createObjectURL(await response.blob());
      const link = h("a", { href: url, download: name, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      button.title = `Cannot export: ${err.message}`;
      button.classList.add("failed");
    } finally {
      button.disabled = false;
    }
  });
  return button;
}
