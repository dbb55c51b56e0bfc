// An app's live rooms on its page, kept up to date as they open, fill,
// start and close (Server-Sent Events from GET /api/apps/APP/rooms), with
// Join and Watch for each; and the form that creates a room with its own
// settings.

import { h } from "../dom.js";
import { errorLine, field, onSubmit } from "../forms.js";

/** How often a token holder's list is fetched (EventSource can't send the token). */
const POLL_MS = 5000;

/**
 * The live rooms table. Signed in (the session cookie goes with the
 * stream), a collaborator sees every room; anyone else the public ones.
 */
export function liveRooms(visit, app) {
  const { api } = visit;
  const body = h("div", { "aria-live": "polite" });
  const rooms = new Map();
  const render = () => {
    const list = [...rooms.values()].sort((a, b) => a.name.localeCompare(b.name));
    if (list.length === 0) return body.replaceChildren(h("p", { class: "muted" }, "No rooms are running."));
    body.replaceChildren(h("table", { class: "rooms-table", "aria-label": "Live rooms" },
      h("thead", {}, h("tr", {}, ["Room", "Phase", "Players", "Watching", "Host", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, list.map((r) => h("tr", { "data-room": r.name },
        h("td", {}, h("strong", {}, r.name), r.password ? h("span", { class: "badge" }, "password") : null,
          r.visibility !== "public" ? h("span", { class: "badge" }, r.visibility) : null),
        h("td", {}, r.phase === "lobby" ? "waiting to start" : "playing"),
        h("td", { title: r.roster.filter((m) => m.role === "player").map((m) => m.name).join(", ") },
          `${r.players}/${r.max_members}`),
        h("td", {}, r.max_spectators ? String(r.spectators) : "—"),
        h("td", {}, r.host ?? "—"),
        h("td", {}, h("div", { class: "actions" },
          h("a", { class: "button", href: `/play/${app}/${r.name}` }, "Join"),
          r.max_spectators ? h("a", { class: "button", href: `/play/${app}/${r.name}?spectate=1` }, "Watch") : null)))))));
  };
  const replace = (list) => {
    rooms.clear();
    for (const room of list) rooms.set(room.name, room);
    render();
  };
  const path = `/apps/${encodeURIComponent(app)}/rooms`;
  if (api.hasToken() && !api.account) {
    const poll = async () => replace((await api.get(path)).rooms);
    poll().catch((e) => body.replaceChildren(h("p", { class: "error" }, e.message)));
    visit.every(POLL_MS, poll);
    return body;
  }
  const events = new EventSource(`/api${path}`);
  events.addEventListener("snapshot", ({ data }) => replace(JSON.parse(data).rooms));
  events.addEventListener("change", ({ data }) => {
    const change = JSON.parse(data);
    if (change.what.includes("closed")) rooms.delete(change.name);
    else rooms.set(change.name, change.room);
    render();
  });
  visit.onLeave(() => events.close());
  render();
  return body;
}

/**
 * Creates a room with settings narrowing the app's `[room]` ones, then
 * opens it (with the creator's invite when the room needs one).
 */
export function createRoomForm(visit, app, roomPart) {
  const text = (name, attrs = {}) => h("input", { type: "text", name, autocomplete: "off", ...attrs });
  const select = (name, options, chosen) => h("select", { name },
    options.map(([value, label]) => h("option", { value, selected: value === chosen }, label)));
  const name = text("name", { maxlength: 64, placeholder: "a code like 7KQ2-M9XD" });
  // The manifest as the API shows it: `[room]`'s kebab-case keys.
  const appMax = roomPart["max-members"];
  const max = h("input", { type: "number", name: "max_members", min: 1, max: appMax ?? 10000, placeholder: appMax ? String(appMax) : "" });
  const start = select("start", [["immediate", "at once"], ["lobby", "when the host starts it"]], roomPart.start ?? "immediate");
  const lateJoin = select("late_join", [["allow", "join and play"], ["spectate", "watch"], ["deny", "can't join"]], roomPart["late-join"] ?? "allow");
  const exposure = ["public", "unlisted", "invite"];
  const appVisibility = roomPart.visibility ?? "unlisted";
  const visibility = select("visibility",
    exposure.slice(exposure.indexOf(appVisibility)).map((v) => [v, { public: "listed for everyone", unlisted: "anyone with the link", invite: "invited people only" }[v]]),
    appVisibility);
  const password = h("input", { type: "password", name: "password", maxlength: 128, autocomplete: "new-password", placeholder: "none" });
  const spectators = roomPart["max-spectators"] ? h("input", { type: "checkbox", name: "spectators", checked: true }) : null;
  const error = errorLine();
  const form = h("form", { class: "stack", "aria-label": "Create a room" },
    field("Name (optional)", name), field("Players at most", max), field("Starts", start),
    field("Once started, newcomers", lateJoin), field("Who can find it", visibility),
    spectators ? field("Spectators welcome", spectators) : null, field("Password (optional)", password),
    h("button", { class: "primary" }, "Create and join"), error);
  onSubmit(form, error, async () => {
    const body = {
      start: start.value,
      late_join: lateJoin.value,
      visibility: visibility.value,
    };
    if (name.value.trim()) body.name = name.value.trim();
    if (max.value) body.max_members = Number(max.value);
    if (password.value) body.password = password.value;
    if (spectators && !spectators.checked) body.spectators = false;
    const created = await visit.api.post(`/apps/${encodeURIComponent(app)}/rooms`, body);
    visit.navigate(created.play);
  });
  return form;
}
