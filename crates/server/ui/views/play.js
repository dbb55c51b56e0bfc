// The runner page, /play/APP/ROOM: asks a guest for a display name (a
// signed-in player joins under their username), then runs the app's client
// part (or the generic text client) connected to the room.

import { AudioEngine } from "../audio/engine.js";
import { closeReason, LODGE_CLOSE_CODES, NEW_VERSION, SIGN_IN_REQUIRED } from "../close-codes.js";
import { h, show, showProblem } from "../dom.js";
import { nameProblem, ROOM_RULE, savedName, saveName, validName, validRoom } from "../names.js";
import { KEYBOARD_PAD_HELP } from "../caps/input.js";
import { RoomPanel } from "../lobby.js";
import {
  backoffMs, joinedName, keepInvite, keepJoinedName, mayReconnect, RECONNECT_ATTEMPTS, resumeToken, roomInvite,
} from "../room-link.js";
import { chooseRenderer } from "../renderers/index.js";
import { ClientRunner } from "../runner.js";
import { TextClient } from "../text-client.js";
import { isCartridge, WASM4_KEYS_HELP } from "../wasm4/part.js";

const FAULT_TITLES = {
  trap: "The client crashed",
  stuck: "The client stopped responding",
  exit: "The client exited",
  load: "The client could not start",
};

/** Messages kept while the connection opens. */
const MAX_PENDING = 256;
/** How long an open connection must stay open to count as joined (a refusal closes it at once). */
const JOINED_AFTER_MS = 250;
const PASSWORD_REQUIRED = LODGE_CLOSE_CODES.PASSWORD_REQUIRED[0];

export async function playView(visit, app, room) {
  const version = new URLSearchParams(location.search).get("version");
  let info;
  try {
    const path = version ? `/apps/${encodeURIComponent(app)}/versions/${encodeURIComponent(version)}` : `/apps/${encodeURIComponent(app)}`;
    const answer = await visit.api.get(path);
    info = version ? answer : answer.versions.find((v) => v.version === answer.latest);
    if (!visit.current()) return;
  } catch (e) {
    return showProblem("Not found", `Can't play ${app}`, e.message);
  }
  const hasRoom = info.parts.some((p) => p.role === "room");
  if (hasRoom && !validRoom(room)) {
    return showProblem("Bad room", "That room name won't do", `"${room}": ${ROOM_RULE}`,
      h("a", { href: `/play/${app}` }, "Choose another room"));
  }
  const joining = sessionStorage.getItem("lodge.joining");
  sessionStorage.removeItem("lodge.joining");
  // The server names a signed-in member by their account, whatever the page
  // asks. A reload comes back under the name this tab joined with.
  const username = visit.api.account?.username;
  const before = hasRoom ? joinedName(app, room) : null;
  const given = joining && validName(joining) ? joining : before && validName(before) ? before : null;
  const name = username ?? given ?? (await askName(app, hasRoom ? room : null));
  if (hasRoom) keepJoinedName(app, room, name);
  if (!visit.current()) return;
  const spectate = new URLSearchParams(location.search).get("spectate") === "1";
  const session = new Session({ api: visit.api, app, room: hasRoom ? room : null, version, info, name, spectate });
  visit.onLeave(() => session.leave());
}

/** The name form shown to whoever opens a shared link. */
function askName(app, room) {
  return new Promise((resolve) => {
    const input = h("input", { type: "text", name: "name", value: savedName(), required: true, maxlength: 64, autocomplete: "nickname" });
    const error = h("p", { class: "error", role: "alert" });
    const form = h("form", { class: "row", "aria-label": "Join" }, h("label", {}, "Your name", input), h("button", { class: "primary" }, "Join"), error);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const problem = nameProblem(input.value);
      if (problem) return (error.textContent = problem);
      saveName(input.value);
      resolve(input.value);
    });
    show(`Join ${app}`, h("h1", {}, room ? `Join ${room} in ${app}` : `Play ${app}`),
      h("p", { class: "muted" }, "Pick the name others will see, or ",
        h("a", { href: signInLink() }, "sign in"), " to play under your username."), form);
    input.focus();
    input.select();
  });
}

/** The sign-in page, coming back here after. */
function signInLink() {
  return `/signin?next=${encodeURIComponent(location.pathname + location.search)}`;
}

/** One run of an app on this page: its client, its connection, its UI. */
class Session {
  constructor({ api, app, room, version, info, name, spectate }) {
    this.api = api;
    this.app = app;
    this.room = room;
    this.version = version;
    this.name = name;
    this.spectate = spectate;
    /** This tab's way back into the room as the same member. */
    this.resume = room ? resumeToken(app, room) : null;
    /** The invite to get in with (until the first join succeeds). */
    this.invite = room ? roomInvite(app, room) : null;
    this.attempt = 0;
    this.retryTimer = 0;
    this.joinedTimer = 0;
    this.joined = false;
    this.panel = room ? new RoomPanel({ api, app, room, resume: this.resume }) : null;
    this.clientPart = info.parts.find((p) => p.role === "client");
    this.ws = null;
    this.pending = [];
    this.leaving = false;
    this.fault = null;
    this.disconnected = null;
    this.overlay = null;

    this.status = h("span", { class: "status", role: "status" });
    this.stage = h("div", { class: "stage" });
    this.logList = h("ol", { "aria-label": "Console lines" });
    this.logCount = h("span", { class: "muted" }, "");
    this.lines = 0;
    /** The renderer's own buttons (zoom) go here once it is mounted. */
    const controls = h("span", { class: "controls" });
    // Made right after the Join button (a gesture), so browsers let it play.
    // A WASM-4 cartridge's tones play on the same mixer.
    const cartridge = isCartridge(this.clientPart);
    const sound = this.clientPart?.capabilities?.includes("audio") || cartridge;
    this.audio = sound
      ? AudioEngine.start({ assets: this.clientPart.assets ?? [], onLog: (lines) => this.log(lines) })
      : null;
    const bar = h("div", { class: "play-bar" },
      h("span", { class: "title" }, room ? `${app} · ${room}` : app),
      h("span", { class: "muted" }, spectate ? `watching as ${name}` : `as ${name}`),
      controls,
      this.audio?.controls,
      h("a", { class: "button", href: `/app/${app}` }, "Leave"),
      this.panel?.el,
      this.status);
    const gamepad = this.clientPart?.capabilities?.includes("gamepad");
    const padHelp = cartridge ? WASM4_KEYS_HELP : gamepad && KEYBOARD_PAD_HELP;
    const main = show(room ? `${app} · ${room}` : app, bar, this.stage,
      padHelp && h("p", { class: "pad-help muted" }, padHelp),
      h("details", { class: "console" }, h("summary", {}, "Console ", this.logCount), this.audio?.statsLine, this.logList));
    main.className = "wide";

    if (this.clientPart) {
      // Mounted once the stage is in the page, so it measures its real size.
      this.view = chooseRenderer(this.clientPart).mount(this.stage, {
        label: `${app} screen`,
        onEvent: (event) => this.client?.send(event),
      });
      controls.replaceChildren(...this.view.controls);
    }
    this.startClient();
    if (room) this.connect();
    else this.setStatus("runs in this page only", "");
  }

  startClient() {
    this.fault = null;
    if (!this.clientPart) {
      this.client = new TextClient(this.stage, { onSend: (payload) => this.sendToRoom(payload) });
      return;
    }
    this.client = new ClientRunner({
      part: this.clientPart,
      view: this.view,
      session: { room: this.room ?? undefined, name: this.name },
      app: this.app,
      audio: this.audio,
      onSend: (payload) => this.sendToRoom(payload),
      onLog: (lines) => this.log(lines),
      onFault: ({ kind, message }) => this.faulted(kind, message),
    });
    if (this.ws?.readyState === WebSocket.OPEN) this.client.send({ tag: "connected" });
    this.updateOverlay();
  }

  connect() {
    clearTimeout(this.retryTimer);
    this.disconnected = null;
    // Rejoining also brings back a client that had stopped.
    if (this.fault) this.startClient();
    this.updateOverlay();
    const url = new URL(`/apps/${encodeURIComponent(this.app)}/rooms/${encodeURIComponent(this.room)}`, location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("name", this.name);
    url.searchParams.set("resume", this.resume);
    if (this.version) url.searchParams.set("version", this.version);
    if (this.spectate) url.searchParams.set("spectate", "true");
    if (this.invite) url.searchParams.set("invite", this.invite);
    this.setStatus(this.attempt ? "reconnecting…" : "connecting…", this.attempt ? "reconnecting" : "");
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    this.pending = [];
    ws.onopen = () => {
      this.setStatus("connected", "connected");
      // What the client sent while the connection opened goes first.
      for (const payload of this.pending.splice(0)) ws.send(payload.val);
      this.client?.send({ tag: "connected" });
      this.joinedTimer = setTimeout(() => this.ws === ws && ws.readyState === WebSocket.OPEN && this.arrived(), JOINED_AFTER_MS);
    };
    ws.onmessage = ({ data }) => {
      if (!this.joined) this.arrived();
      const payload = typeof data === "string" ? { tag: "text", val: data } : { tag: "binary", val: new Uint8Array(data) };
      this.client?.send({ tag: "message", val: payload });
    };
    ws.onclose = (e) => {
      clearTimeout(this.joinedTimer);
      if (this.ws !== ws || this.leaving) return;
      this.joined = false;
      const reason = closeReason(e.code, e.reason);
      this.client?.send({ tag: "disconnected", val: reason });
      this.log([{ level: "warn", message: `disconnected: ${reason}` }]);
      if (mayReconnect(e.code) && this.attempt < RECONNECT_ATTEMPTS) return this.retry(reason);
      this.setStatus(`disconnected: ${reason}`, "disconnected");
      this.disconnected = { code: e.code, reason };
      this.updateOverlay();
    };
  }

  /** The join went through: the room panel learns who we are; the invite has done its job. */
  arrived() {
    this.joined = true;
    this.attempt = 0;
    if (this.invite) {
      this.invite = null;
      keepInvite(this.app, this.room, null);
    }
    this.panel?.joined();
  }

  /** Tries again after a close that allows it, saying so, with backoff. */
  retry(reason) {
    this.attempt += 1;
    const wait = backoffMs(this.attempt);
    this.setStatus(`reconnecting in ${(wait / 1000).toFixed(1)} s…`, "reconnecting");
    this.reconnecting = { reason, wait, attempt: this.attempt };
    this.updateOverlay();
    this.retryTimer = setTimeout(() => {
      this.reconnecting = null;
      this.connect();
    }, wait);
  }

  /** The room's password for an invite, then joins with it. */
  async enterPassword(password, error) {
    try {
      const path = `/apps/${encodeURIComponent(this.app)}/rooms/${encodeURIComponent(this.room)}/admit`;
      const answer = await this.api.post(path, { password });
      this.invite = answer.invite;
      this.connect();
    } catch (e) {
      error.textContent = e.message;
    }
  }

  /** Sends to the room; queued (up to a bound) while the connection opens. */
  sendToRoom(payload) {
    const ws = this.ws;
    if (ws?.readyState === WebSocket.OPEN) ws.send(payload.val);
    else if (ws?.readyState === WebSocket.CONNECTING && this.pending.length < MAX_PENDING) this.pending.push(payload);
  }

  faulted(kind, message) {
    this.log([{ level: "error", message: `${FAULT_TITLES[kind]}: ${message}` }]);
    this.fault = { kind, message };
    this.updateOverlay();
  }

  /** Shows what needs a person's action: a stopped client, a closed connection, or nothing. */
  updateOverlay() {
    this.overlay?.remove();
    this.overlay = null;
    const leave = h("a", { class: "button", href: `/app/${this.app}` }, "Leave");
    const rejoin = () => h("button", { class: this.fault ? "" : "primary", onclick: () => this.connect() }, "Rejoin");
    if (this.reconnecting) {
      const { reason, wait, attempt } = this.reconnecting;
      this.showOverlay("info", "Reconnecting…",
        `${reason}\n\nTrying again in ${(wait / 1000).toFixed(1)} s (attempt ${attempt} of ${RECONNECT_ATTEMPTS}); your seat is kept for a while.`,
        [h("button", { class: "primary", onclick: () => this.connect() }, "Reconnect now"), leave]);
    } else if (this.disconnected?.code === PASSWORD_REQUIRED && !this.fault) {
      const input = h("input", { type: "password", name: "password", required: true, maxlength: 128, "aria-label": "Room password" });
      const error = h("p", { class: "error", role: "alert" });
      const form = h("form", { class: "row" }, input, h("button", { class: "primary" }, "Join"), error);
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        this.enterPassword(input.value, error);
      });
      this.showOverlay("info", "This room has a password", this.disconnected.reason, [form, leave]);
      input.focus();
    } else if (this.disconnected?.code === NEW_VERSION) {
      // A new version: reload, so the client part is the new one too.
      this.showOverlay("info", "A new version is out", this.disconnected.reason, [
        h("button", { class: "primary", onclick: () => location.reload() }, "Reload"),
      ]);
    } else if (this.disconnected?.code === SIGN_IN_REQUIRED && !this.fault) {
      this.showOverlay("info", "Sign in to join", this.disconnected.reason, [
        h("a", { class: "button primary", href: signInLink() }, "Sign in"),
        h("a", { class: "button", href: `/signup?next=${encodeURIComponent(location.pathname + location.search)}` }, "Sign up"),
        leave,
      ]);
    } else if (this.fault) {
      const buttons = [h("button", { class: "primary", onclick: () => this.startClient() }, "Restart the client")];
      if (this.disconnected) buttons.push(rejoin());
      buttons.push(leave);
      const note = this.disconnected ? `\n\nThe connection closed too: ${this.disconnected.reason}` : "";
      this.showOverlay("error", FAULT_TITLES[this.fault.kind], `${this.fault.message}${note}`, buttons);
    } else if (this.disconnected) {
      this.showOverlay("info", "Disconnected", this.disconnected.reason, [rejoin(), leave]);
    } else if (this.view) {
      this.view.el.inert = false;
      this.view.el.focus();
    } else {
      this.client?.focus?.();
    }
  }

  showOverlay(kind, title, message, buttons) {
    this.overlay = h("div", { class: "overlay", role: "alertdialog", "aria-labelledby": "overlay-title", "data-kind": kind },
      h("div", { class: kind === "error" ? "box" : "box info" },
        h("h2", { id: "overlay-title" }, title), h("pre", {}, message), h("div", { class: "buttons" }, buttons)));
    // What is behind the overlay can't be reached until it is dealt with.
    if (this.view) this.view.el.inert = true;
    this.stage.append(this.overlay);
    this.overlay.querySelector("button, a")?.focus();
  }

  setStatus(text, className) {
    this.status.textContent = text;
    this.status.className = `status ${className}`;
  }

  /** Appends console lines ([{level, message}]), keeping the last 500. */
  log(lines) {
    this.lines += lines.length;
    this.logCount.textContent = `(${this.lines})`;
    const fragment = document.createDocumentFragment();
    for (const { level, message } of lines) fragment.append(h("li", { class: level }, `${level} ${message}`));
    this.logList.append(fragment);
    while (this.logList.children.length > 500) this.logList.firstChild.remove();
    if (this.logList.parentElement.open) this.logList.scrollTop = this.logList.scrollHeight;
  }

  leave() {
    this.leaving = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.joinedTimer);
    this.panel?.close();
    this.client?.stop();
    this.view?.stop();
    this.audio?.close();
    this.ws?.close(1000, "left");
  }
}

