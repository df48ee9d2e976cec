// The agent's own presence (`agentPresence`): global state with its reason, the
// per-MRD states with load, and the READY / NOT_READY (with reason) / LOGOUT controls.

import { h, replace } from "/shared/dom.js";

const STATE_BADGE = { READY: "ok", ACTIVE: "info", BUSY: "warn", NOT_READY: "bad", LOGOUT: "" };

function reasonName(reason) {
  if (!reason) return "";
  if (typeof reason === "string") return reason;
  return reason.name ?? reason.id ?? "";
}

export class PresenceView {
  /** `onChange({name, reasonCode?})` performs the state change. */
  constructor({ stateEl, mrdsEl, readyBtn, notReadyBtn, reasonSelect, logoutBtn, onChange }) {
    Object.assign(this, { stateEl, mrdsEl, readyBtn, notReadyBtn, reasonSelect, logoutBtn, onChange });
    this.presence = null;
    /** MRD ids some queue routes to; null until known (then every MRD with capacity shows). */
    this.servedMrds = null;
    readyBtn.addEventListener("click", () => this.#change({ name: "READY" }));
    notReadyBtn.addEventListener("click", () => {
      const reason = this.reasonSelect.value;
      const option = this.reasonSelect.selectedOptions[0];
      this.#change(
        reason ? { name: "NOT_READY", reasonCode: { id: reason, name: option.textContent } } : { name: "NOT_READY" },
      );
    });
    logoutBtn.addEventListener("click", () => this.#change({ name: "LOGOUT" }));
    this.setEnabled(false);
  }

  /** Fills the NOT_READY reasons from `GET /reason-codes` (`[{id, name, type}]`). */
  setReasons(codes) {
    const notReady = codes.filter((c) => c.type === "NOT_READY");
    replace(
      this.reasonSelect,
      h("option", { value: "", text: "No reason" }),
      notReady.map((c) => h("option", { value: c.id, text: c.name })),
    );
  }

  /** Shows only the MRDs some queue of the site routes to (no VOICE chip without voice). */
  setServedMrds(mrdIds) {
    this.servedMrds = new Set(mrdIds.filter(Boolean));
    if (this.presence) this.show(this.presence);
  }

  setEnabled(enabled) {
    for (const control of [this.readyBtn, this.notReadyBtn, this.reasonSelect, this.logoutBtn]) {
      control.disabled = !enabled;
    }
  }

  async #change(state) {
    this.setEnabled(false);
    try {
      await this.onChange(state);
    } finally {
      this.setEnabled(true);
    }
  }

  show(presence) {
    this.presence = presence;
    const name = presence?.state?.name ?? "UNKNOWN";
    const reason = reasonName(presence?.state?.reasonCode);
    replace(
      this.stateEl,
      h("span", {
        class: `badge ${STATE_BADGE[name] ?? ""}`,
        "data-testid": "agent-state",
        text: name.replace("_", " "),
      }),
      reason ? h("span", { class: "muted small", text: ` ${reason}` }) : null,
    );
    replace(
      this.mrdsEl,
      (presence?.agentMrdStates ?? [])
        .filter((m) => (m.maxAgentTasks ?? 1) > 0 && (!this.servedMrds || this.servedMrds.has(m.mrd?.id)))
        .map((m) =>
        h(
          "span",
          { class: "mrd", title: `${m.mrd?.name}: ${m.state}, ${m.activeTasks ?? 0} of ${m.maxAgentTasks ?? "?"} tasks` },
          h("span", { class: `dot ${STATE_BADGE[m.state] ?? ""}` }),
          `${m.mrd?.name ?? "MRD"} ${String(m.state ?? "").toLowerCase().replace("_", " ")} ${m.activeTasks ?? 0}/${m.maxAgentTasks ?? "?"}`,
        ),
      ),
    );
    this.readyBtn.classList.toggle("current", name === "READY" || name === "ACTIVE");
    this.notReadyBtn.classList.toggle("current", name === "NOT_READY");
  }
}
