// A web channel's business hours editor: on or off, the time zone (the site's unless
// chosen), a week of open hours (per day one or more intervals, overnight when the
// close is before the open) and holidays. Saved with PUT /channels/{id}/business-hours;
// the server's field errors come back as "businessHours.weekly.monday[0].close".

import { h, replace } from "/shared/dom.js";
import { fieldId } from "/shared/form.js";

export const DAYS = [
  ["monday", "Monday"],
  ["tuesday", "Tuesday"],
  ["wednesday", "Wednesday"],
  ["thursday", "Thursday"],
  ["friday", "Friday"],
  ["saturday", "Saturday"],
  ["sunday", "Sunday"],
];
const MAX_INTERVALS = 6;

function zones() {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return [];
  }
}

/** An input in a wrapper whose data-field is `name`, labelled for screen readers. */
function bare(name, input, label) {
  input.id = fieldId(name);
  input.setAttribute("aria-label", label);
  const wrapper = h("span", { class: "field inline-field", dataset: { field: name } }, input);
  wrapper.control = input;
  return wrapper;
}

/**
 * The editor for `hours` ({enabled, timeZone, weekly, holidays}); `.value()` gives the
 * edited hours.
 */
export function hoursEditor(hours, { readOnly = false, siteZone = null } = {}) {
  const state = {
    enabled: Boolean(hours?.enabled),
    timeZone: hours?.timeZone ?? "",
    weekly: Object.fromEntries(DAYS.map(([day]) => [day, (hours?.weekly?.[day] ?? []).map((i) => ({ ...i }))])),
    holidays: (hours?.holidays ?? []).map((d) => ({ date: d.date, label: d.label ?? "" })),
  };
  const enabledId = fieldId("businessHours.enabled");
  const enabled = h("input", { type: "checkbox", id: enabledId, checked: state.enabled, disabled: readOnly });
  const zone = h(
    "select",
    { id: fieldId("businessHours.timeZone"), disabled: readOnly },
    h("option", { value: "", text: `The site's time zone${siteZone ? ` (${siteZone})` : ""}` }),
    zones().map((z) => h("option", { value: z, text: z })),
  );
  zone.value = state.timeZone;
  const week = h("tbody", {});
  const holidays = h("ul", { class: "holidays", "data-testid": "holidays" });
  const body = h("div", { class: "stack" });
  const wrapper = h(
    "fieldset",
    { class: "plain section", dataset: { field: "businessHours" }, "data-testid": "hours-editor" },
    h("legend", { text: "Business hours" }),
    h("div", { class: "field check", dataset: { field: "businessHours.enabled" } }, h("label", { class: "inline", for: enabledId }, enabled, " Use business hours")),
    h("p", { class: "help", text: "Outside these hours the widget says when you open and offers to leave a message; left messages go to the channel's queue when the hours open. Off: always open." }),
    body,
  );
  replace(
    body,
    h("div", { class: "field", dataset: { field: "businessHours.timeZone" } }, h("label", { for: zone.id, text: "Time zone" }), zone),
    h("div", { class: "table-wrap" }, h("table", { class: "week" }, h("caption", { class: "visually-hidden", text: "Open hours by weekday" }), week)),
    readOnly ? null : h("button", { type: "button", text: "Copy Monday to Tuesday–Friday", "data-testid": "copy-monday", onClick: copyMonday }),
    h("h3", { class: "small-heading", text: "Holidays (closed all day)" }),
    holidays,
    readOnly ? null : h("button", { type: "button", text: "Add a holiday", "data-testid": "add-holiday", onClick: addHoliday }),
  );
  enabled.addEventListener("change", () => {
    state.enabled = enabled.checked;
    body.classList.toggle("dimmed", !state.enabled);
  });
  body.classList.toggle("dimmed", !state.enabled);
  zone.addEventListener("change", () => (state.timeZone = zone.value));

  wrapper.value = () => ({
    enabled: state.enabled,
    timeZone: state.timeZone || null,
    weekly: Object.fromEntries(DAYS.map(([day]) => [day, state.weekly[day].map(({ open, close }) => ({ open, close }))])),
    holidays: state.holidays.map(({ date, label }) => ({ date, label: label.trim() || null })),
  });

  function copyMonday() {
    for (const [day] of DAYS.slice(1, 5)) state.weekly[day] = state.weekly.monday.map((i) => ({ ...i }));
    renderWeek();
  }

  function addHoliday() {
    state.holidays.push({ date: "", label: "" });
    renderHolidays(state.holidays.length - 1);
  }

  function renderWeek(focusDay = null) {
    replace(week, DAYS.map(([day, dayName]) => dayRow(day, dayName)));
    if (focusDay) week.querySelector(`tr[data-day=${focusDay}] input:last-of-type`)?.focus();
  }

  function dayRow(day, dayName) {
    const intervals = state.weekly[day];
    const cells = intervals.map((interval, i) => {
      const at = `businessHours.weekly.${day}[${i}]`;
      const open = h("input", { type: "time", value: interval.open, disabled: readOnly, required: true });
      const close = h("input", { type: "time", value: interval.close, disabled: readOnly, required: true });
      open.addEventListener("input", () => (interval.open = open.value));
      close.addEventListener("input", () => (interval.close = close.value));
      return h(
        "div",
        { class: "interval" },
        bare(`${at}.open`, open, `${dayName} interval ${i + 1} opens`),
        h("span", { "aria-hidden": "true", text: "–" }),
        bare(`${at}.close`, close, `${dayName} interval ${i + 1} closes`),
        readOnly
          ? null
          : h("button", {
              type: "button",
              class: "small-button",
              text: "Remove",
              "aria-label": `Remove ${dayName} interval ${i + 1}`,
              onClick: () => {
                intervals.splice(i, 1);
                renderWeek();
              },
            }),
      );
    });
    const add = readOnly
      ? null
      : h("button", {
          type: "button",
          class: "small-button",
          text: intervals.length ? "Add hours" : "Open this day",
          "aria-label": `Add open hours on ${dayName}`,
          disabled: intervals.length >= MAX_INTERVALS,
          onClick: () => {
            const last = intervals.at(-1);
            intervals.push(last ? { open: last.close === "00:00" ? "09:00" : last.close, close: "23:59" } : { open: "09:00", close: "17:00" });
            renderWeek(day);
          },
        });
    return h(
      "tr",
      { dataset: { day } },
      h("th", { scope: "row", text: dayName }),
      h("td", { dataset: { field: `businessHours.weekly.${day}` } }, intervals.length ? cells : h("span", { class: "muted", text: "Closed" })),
      h("td", { class: "actions" }, add),
    );
  }

  function renderHolidays(focus = null) {
    replace(
      holidays,
      state.holidays.map((holiday, i) => {
        const at = `businessHours.holidays[${i}]`;
        const date = h("input", { type: "date", value: holiday.date, disabled: readOnly, required: true });
        const label = h("input", { value: holiday.label, maxlength: 100, disabled: readOnly, placeholder: "Christmas Day" });
        date.addEventListener("input", () => (holiday.date = date.value));
        label.addEventListener("input", () => (holiday.label = label.value));
        return h(
          "li",
          { class: "row" },
          bare(`${at}.date`, date, `Holiday ${i + 1} date`),
          bare(`${at}.label`, label, `Holiday ${i + 1} name`),
          readOnly
            ? null
            : h("button", {
                type: "button",
                class: "small-button",
                text: "Remove",
                "aria-label": `Remove holiday ${i + 1}`,
                onClick: () => {
                  state.holidays.splice(i, 1);
                  renderHolidays();
                },
              }),
        );
      }),
    );
    if (!state.holidays.length) holidays.append(h("li", { class: "muted small", text: "No holidays." }));
    if (focus !== null) holidays.children[focus]?.querySelector("input")?.focus();
  }

  renderWeek();
  renderHolidays();
  return wrapper;
}
