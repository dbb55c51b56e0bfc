// The room panel in a room's bar: its phase and seats in one line while it
// plays; in the lobby, a second row with who is in the room (players,
// spectators, the host). And what a member may do through Lodge itself:
// the host starts the game from the lobby, anyone invites. It
// follows the room live (GET /api/apps/APP/rooms?room=ROOM as Server-Sent
// Events), proving membership with the tab's resume token.

import { h } from "./dom.js";
import { counted } from "./format.js";

export class RoomPanel {
  /**
   * @param {{api, app: string, room: string, resume: string}} options
   */
  constructor({ api, app, room, resume }) {
    Object.assign(this, { api, app, room, resume });
    /** The room as the list shows it, once known. */
    this.info = null;
    /** Who this tab is in the room (POST …/whoami), once joined. */
    this.me = null;
    this.closed = false;
    this.events = null;
    this.error = h("p", { class: "error", role: "alert" });
    this.inviteBox = h("div", { class: "invite" });
    this.el = h("section", { class: "room-panel", "aria-label": "Room" });
    this.render();
  }

  /** The member joined (or came back): learn who they are and follow the room. */
  async joined() {
    try {
      const answer = await this.api.post(this.path("whoami"), { resume: this.resume });
      this.me = answer;
      this.update(answer.room);
    } catch (e) {
      this.error.textContent = e.message;
    }
    if (!this.events) this.follow();
  }

  follow() {
    const url = `/api/apps/${encodeURIComponent(this.app)}/rooms?room=${encodeURIComponent(this.room)}&resume=${encodeURIComponent(this.resume)}`;
    const events = new EventSource(url);
    this.events = events;
    events.addEventListener("snapshot", ({ data }) => {
      const [room] = JSON.parse(data).rooms;
      if (room) this.update(room);
    });
    events.addEventListener("change", ({ data }) => {
      const change = JSON.parse(data);
      if (change.what.includes("closed")) {
        this.closed = true;
        this.render();
      } else {
        this.update(change.room);
      }
    });
    events.onerror = () => {
      // The browser retries by itself; a refusal (not a member yet) ends it.
      if (events.readyState === EventSource.CLOSED) this.events = null;
    };
  }

  update(room) {
    this.closed = false;
    this.info = room;
    if (this.me) this.me.host = room.host_id === this.me.member;
    this.render();
  }

  path(action) {
    return `/apps/${encodeURIComponent(this.app)}/rooms/${encodeURIComponent(this.room)}/${action}`;
  }

  async start() {
    this.error.textContent = "";
    try {
      const answer = await this.api.post(this.path("start"), { resume: this.resume });
      this.update(answer.room);
    } catch (e) {
      this.error.textContent = e.message;
    }
  }

  async invite() {
    this.error.textContent = "";
    try {
      const answer = await this.api.post(this.path("invites"), { resume: this.resume });
      const link = new URL(answer.play, location.href).href;
      const input = h("input", { type: "text", readonly: true, value: link, "aria-label": "Invite link" });
      const copy = h("button", {
        onclick: async () => {
          input.select();
          await navigator.clipboard?.writeText(link).catch(() => {});
          copy.textContent = "Copied";
        },
      }, "Copy");
      this.inviteBox.replaceChildren(input, copy, h("span", { class: "muted" }, ` valid until ${new Date(answer.expires).toLocaleString()}`));
    } catch (e) {
      this.error.textContent = e.message;
    }
  }

  render() {
    const room = this.info;
    if (this.closed) {
      this.el.replaceChildren(h("p", { class: "muted" }, "The room has closed."));
      return;
    }
    if (!room) {
      this.el.replaceChildren(h("p", { class: "phase muted" }, "Joining…"), this.error);
      return;
    }
    const lobby = room.phase === "lobby";
    this.el.classList.toggle("lobby", lobby);
    const you = (m) => (this.me?.member === m.id ? " (you)" : "");
    const person = (m) => h("li", { class: m.connected ? "" : "away" },
      m.name, you(m),
      m.id === room.host_id ? h("span", { class: "badge" }, "host") : null,
      m.connected ? null : h("span", { class: "muted" }, " reconnecting…"));
    const players = room.roster.filter((m) => m.role === "player");
    const spectators = room.roster.filter((m) => m.role === "spectator");
    const seats = `${room.players}/${room.max_members} players`;
    const watching = room.spectators ? ` · ${counted(room.spectators, "spectator")}` : "";
    const headline = lobby
      ? h("p", { class: "phase lobby" }, h("strong", {}, "Waiting to start"), ` · ${seats}${watching}`,
        room.host ? ` · ${room.host} starts the game` : "")
      : h("p", { class: "phase playing" }, h("strong", {}, "Playing"), ` · ${seats}${watching}`);
    const buttons = [];
    if (lobby && this.me?.host) buttons.push(h("button", { class: "primary", onclick: () => this.start() }, "Start the game"));
    if (this.me) buttons.push(h("button", { onclick: () => this.invite() }, "Invite"));
    if (this.me?.role === "spectator") buttons.push(h("span", { class: "badge" }, "watching"));
    this.el.replaceChildren(
      headline,
      lobby
        ? h("div", { class: "roster" },
          h("ul", { "aria-label": "Players" }, players.map(person)),
          spectators.length ? h("ul", { "aria-label": "Spectators", class: "spectators" }, spectators.map(person)) : null)
        : null,
      h("div", { class: "buttons" }, buttons),
      this.inviteBox,
      this.error);
  }

  close() {
    this.events?.close();
    this.events = null;
  }
}
