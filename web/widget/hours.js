// The channel as the widget sees it before a chat (GET /api/v1/widget/channels/{sid}):
// its pre-chat form, and whether it is within its business hours. Outside them the
// widget says when it opens ("We're closed — back Monday 09:00") and offers to leave
// a message instead of a chat.

/** The channel's widget info, or null when it cannot be read (the chat still tries). */
export async function fetchChannel(serviceIdentifier) {
  try {
    const response = await fetch(`/api/v1/widget/channels/${encodeURIComponent(serviceIdentifier)}`, {
      headers: { Accept: "application/json" },
    });
    if (!response.ok) return null;
    return await response.json();
  } catch {
    return null;
  }
}

/** "Monday 09:00" (or "today 09:00", "tomorrow 09:00") in the channel's time zone. */
export function openingText(nextOpen, timeZone, now = Date.now()) {
  if (typeof nextOpen !== "number") return null;
  const zone = timeZone || undefined;
  const day = (ms) => new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(ms));
  const time = new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(nextOpen));
  const days = Math.round((Date.parse(day(nextOpen)) - Date.parse(day(now))) / 86_400_000);
  if (days === 0) return `today ${time}`;
  if (days === 1) return `tomorrow ${time}`;
  if (days < 7) return `${new Intl.DateTimeFormat("en-GB", { timeZone: zone, weekday: "long" }).format(new Date(nextOpen))} ${time}`;
  const date = new Intl.DateTimeFormat("en-GB", { timeZone: zone, weekday: "long", day: "numeric", month: "long" }).format(new Date(nextOpen));
  return `${date} ${time}`;
}

/** The headline of a closed channel. */
export function closedText(info) {
  const when = openingText(info?.nextOpen, info?.timeZone);
  return when ? `We're closed — back ${when}` : "We're closed at the moment";
}
