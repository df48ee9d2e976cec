// What the desk tells the agent when it is not looking: a short tone and a browser
// notification for a new offer, or a new message while the tab is in the background,
// with a mute that is remembered; and the server's codes in plain words.

const MUTE_KEY = "switchboard.desk.muted";

/** Why an offer was taken back (`revokeTask.reason`), in words an agent reads. */
const REVOKE_WORDS = {
  RONA: "it was not accepted in time, so it went to another agent",
  AGENT_NOT_READY: "you went not ready before accepting it",
  AGENT_LOGOUT: "you were logged out",
  TASK_CLOSED: "the customer left or the chat ended before you accepted",
  NO_AGENT_AVAILABLE: "its waiting time ran out",
};

/** Server error codes (`errors`, refused requests), in words an agent reads. */
const ERROR_WORDS = {
  not_found: "That conversation or task no longer exists.",
  forbidden: "You are not allowed to do that.",
  wrong_state: "That cannot be done right now.",
  invalid_payload: "The desk sent something the server could not read; reload the page.",
  unknown_event: "The server does not know that request; reload the page.",
  silent_monitor: "You are listening silently and cannot write in this chat.",
  unknown_task: "That offer no longer exists.",
  not_reserved_to_agent: "That offer is not yours (any more): it was taken back or went to another agent.",
  task_not_active: "That chat is not active any more.",
  not_logged_in: "You are not logged in to routing; set your state again.",
  agent_not_ready: "Go READY first, then make a channel ready.",
  unknown_mrd: "That channel type does not exist any more; reload the page.",
  mrd_busy: "You still hold chats of that channel type.",
  not_connected: "Your desk is not connected; reload the page.",
  unknown_pull_list: "That list no longer exists.",
  unknown_pull_request: "That request no longer exists.",
  not_subscribed: "You are not subscribed to that list.",
  already_joined: "You already joined that request.",
  pull_request_closed: "That request is closed.",
  session: "Your session has ended; please sign in again.",
  unavailable: "The server could not save that; try again in a moment.",
  unknown_conversation: "That conversation no longer exists.",
  conversation_closed: "That conversation is already closed.",
  not_a_participant: "You are no longer in that conversation.",
  already_participant: "You are already in that conversation.",
  channel_session_ended: "The customer has left the chat.",
  in_wrapup: "You are wrapping up this chat and cannot write in it.",
  not_in_wrapup: "This chat is not in wrap-up.",
  event_not_allowed: "That is not allowed in this conversation.",
};

export function revokeText(reason) {
  const words = REVOKE_WORDS[reason] ?? (reason ? String(reason).toLowerCase().replaceAll("_", " ") : null);
  return words ? `An offer was withdrawn: ${words}.` : "An offer was withdrawn.";
}

/** `{code, message}` → one sentence; the server's message is kept when it says more. */
export function errorText(error) {
  const plain = ERROR_WORDS[error?.code];
  const message = error?.message && error.message !== error.code ? error.message : null;
  if (plain && message) return `${plain} (${message})`;
  return plain ?? message ?? "Something went wrong.";
}

export class Alerts {
  constructor(button) {
    this.button = button;
    this.muted = localStorage.getItem(MUTE_KEY) === "1";
    this.audio = null;
    button?.addEventListener("click", () => this.setMuted(!this.muted));
    this.#showMute();
  }

  setMuted(muted) {
    this.muted = muted;
    localStorage.setItem(MUTE_KEY, muted ? "1" : "0");
    this.#showMute();
    // Asking once, on a click, is what browsers allow.
    if (!muted && typeof Notification !== "undefined" && Notification.permission === "default") {
      Notification.requestPermission().catch(() => {});
    }
  }

  #showMute() {
    if (!this.button) return;
    this.button.textContent = this.muted ? "Alerts muted" : "Alerts on";
    this.button.setAttribute("aria-pressed", this.muted ? "true" : "false");
    this.button.title = this.muted ? "Alerts are muted: click to hear new chats" : "Click to mute alerts";
  }

  /** A new offer: always a tone; a notification when the tab is hidden. */
  offer(title, body) {
    this.#alert(title, body, true);
  }

  /** A new customer message: only while the tab is in the background. */
  message(title, body) {
    if (document.visibilityState === "visible" && document.hasFocus()) return;
    this.#alert(title, body, false);
  }

  #alert(title, body, always) {
    if (this.muted) return;
    this.#tone();
    if (!always && document.visibilityState === "visible") return;
    if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
    try {
      const note = new Notification(title, { body, tag: "switchboard-desk" });
      note.onclick = () => {
        window.focus();
        note.close();
      };
    } catch {
      // Some browsers allow notifications only from a service worker: the tone did it.
    }
  }

  #tone() {
    try {
      this.audio ??= new AudioContext();
      const osc = this.audio.createOscillator();
      const gain = this.audio.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, this.audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.2, this.audio.currentTime + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, this.audio.currentTime + 0.35);
      osc.connect(gain).connect(this.audio.destination);
      osc.start();
      osc.stop(this.audio.currentTime + 0.4);
      window.switchboardDeskTones = (window.switchboardDeskTones ?? 0) + 1;
    } catch {
      // No audio device: nothing to play.
    }
  }
}
