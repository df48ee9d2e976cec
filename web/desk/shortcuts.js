// Keyboard shortcuts of the desk: Alt+A accepts the oldest offer, Alt+N opens the
// next conversation, Alt+R goes to the reply box (Enter sends there). Listed in the
// side column so an agent can learn them.

export const SHORTCUTS = [
  ["Alt+A", "accept the oldest offer"],
  ["Alt+N", "next conversation"],
  ["Alt+R", "reply box"],
  ["Enter", "send (Shift+Enter: new line)"],
];

export function installShortcuts({ offers, chat }) {
  document.addEventListener("keydown", (e) => {
    if (!e.altKey || e.ctrlKey || e.metaKey || document.querySelector("dialog[open]")) return;
    switch (e.code) {
      case "KeyA":
        if (offers.acceptFirst()) e.preventDefault();
        break;
      case "KeyN":
        e.preventDefault();
        chat.selectNext();
        break;
      case "KeyR":
        e.preventDefault();
        chat.focusComposer();
        break;
      default:
        break;
    }
  });
}
