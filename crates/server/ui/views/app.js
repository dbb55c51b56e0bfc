// An app's page, /app/NAME: play form, http link, owner and collaborators
// (owners add and remove them), live rooms (as they change) and creating
// one, versions with their parts, and deleting.

import { h, show } from "../dom.js";
import { errorLine, field, onSubmit } from "../forms.js";
import { bytes, counted, dateTime } from "../format.js";
import { createRoomForm, liveRooms } from "./live-rooms.js";
import { playForm } from "./play-form.js";

export async function appView(visit, name) {
  const { api } = visit;
  const app = await api.get(`/apps/${encodeURIComponent(name)}`);
  if (!visit.current()) return;
  const latest = app.versions.find((v) => v.version === app.latest);
  const hasRoom = latest.parts.some((p) => p.role === "room");
  const playable = latest.parts.some((p) => p.role === "room" || p.role === "client");
  const hasHttp = latest.parts.some((p) => p.role === "http");
  const account = api.account;
  const myRole = app.members.find((m) => m.username === account?.username)?.role ?? null;
  const isAdmin = account?.role === "admin";
  // Signed in without a role here: the changes would be refused, so they are not offered.
  const unowned = app.members.length === 0;
  const mayChange = !account || isAdmin || unowned || myRole !== null;
  const mayOwn = !account || isAdmin || unowned || myRole === "owner";
  const roomPart = latest.manifest.room;
  // Unlisted rooms are shown only to the app's owners and maintainers (and
  // admins, and tokens that may see them): a room's name is its key.
  const hidden = roomPart && roomPart.visibility !== "public" && !api.hasToken() && !(isAdmin || myRole)
    ? h("p", { class: "muted" }, "This app's rooms are unlisted: only people given a room's link can find it.")
    : null;
  const rooms = hasRoom
    ? h("div", {}, liveRooms(visit, name), hidden,
      h("details", { class: "create-room" }, h("summary", {}, "Create a room"), createRoomForm(visit, name, roomPart)))
    : h("p", { class: "muted" }, "This app has no room part.");
  const problem = errorLine();
  const deleteProblem = errorLine();
  show(name,
    h("h1", {}, name),
    h("p", { class: "muted" }, latest.description || "No description."),
    ownerLine(app.members),
    playable ? playForm(visit.navigate, name, hasRoom, null, account?.username) : null,
    hasHttp
      ? h("p", {}, "HTTP: ", h("a", { href: `/run/${name}/` }, `/run/${name}/`),
        h("span", { class: "muted" }, " (pin a version with the Lodge-Version header or ?lodge-version=)"))
      : null,
    h("h2", {}, "Live rooms"), rooms,
    h("h2", {}, "Collaborators"), collaborators(visit, name, app.members, account ? isAdmin || myRole === "owner" : api.hasToken()),
    h("h2", {}, "Versions"), versionsTable(api, app, mayChange, problem), problem,
    mayOwn ? h("h2", {}, "Delete") : null,
    mayOwn ? h("p", {}, h("button", { class: "danger", onclick: () => deleteApp(visit, name, app.versions.length, deleteProblem) }, `Delete ${name} and all its versions`)) : null,
    mayOwn ? deleteProblem : null,
    mayChange ? null : h("p", { class: "muted" }, `Only ${name}'s owners and maintainers can publish or delete its versions.`));
}

/** "Owner: alice · maintainers: bob, carol". */
function ownerLine(members) {
  const named = (role) => members.filter((m) => m.role === role).map((m) => m.username);
  const owners = named("owner");
  const maintainers = named("maintainer");
  if (owners.length === 0) return h("p", { class: "owners muted" }, "No owner yet.");
  return h("p", { class: "owners" },
    owners.length === 1 ? "Owner: " : "Owners: ", h("strong", {}, owners.join(", ")),
    maintainers.length ? ` · maintainers: ${maintainers.join(", ")}` : "");
}

/** The owners and maintainers; an owner (or an admin) adds, changes and removes them. */
function collaborators(visit, name, members, manage) {
  const panel = h("div", {});
  const error = errorLine();
  const path = (username) => `/apps/${encodeURIComponent(name)}/members/${encodeURIComponent(username)}`;
  const change = async (method, username, body) => {
    error.textContent = "";
    try {
      const answer = await visit.api.authorized(method, path(username), body);
      render(answer.members);
    } catch (e) {
      error.textContent = e.message;
    }
  };
  const render = (list) => {
    const line = panel.closest("main")?.querySelector(".owners");
    line?.replaceWith(ownerLine(list));
    panel.replaceChildren(h("ul", { "aria-label": "Collaborators" }, list.map((m) => h("li", {},
      h("strong", {}, m.username), ` — ${m.role}`,
      manage ? [" ", h("button", { class: "danger", onclick: () => change("DELETE", m.username), "aria-label": `Remove ${m.username}` }, "Remove")] : null))));
  };
  render(members);
  if (!manage) return panel;
  const username = h("input", { type: "text", name: "username", required: true, maxlength: 64, autocomplete: "off" });
  const role = h("select", { name: "role" }, h("option", { value: "maintainer" }, "maintainer: pushes and deletes versions"),
    h("option", { value: "owner" }, "owner: also deletes the app and manages collaborators"));
  const addError = errorLine();
  const form = h("form", { class: "row", "aria-label": "Add a collaborator" },
    field("Username", username), field("Role", role), h("button", {}, "Add"), addError);
  onSubmit(form, addError, async () => {
    const answer = await visit.api.authorized("PUT", path(username.value.trim()), { role: role.value });
    form.reset();
    render(answer.members);
  });
  return h("div", {}, panel, error, form);
}

function versionsTable(api, app, mayChange, problem) {
  const rows = app.versions.map((v) => h("tr", {},
    h("td", {}, h("strong", {}, v.version), v.version === app.latest ? h("span", { class: "badge live latest" }, "latest") : null),
    h("td", {}, dateTime(v.created)),
    h("td", {}, h("ul", { class: "parts" }, v.parts.map((p) => h("li", {},
      h("strong", {}, p.role), ` ${bytes(p.size)} `, h("span", { class: "mono muted", title: p.sha256 }, p.sha256.slice(0, 12)),
      p.capabilities.length ? ` · ${p.capabilities.join(", ")}` : "")))),
    h("td", {}, bytes(v.size)),
    h("td", {}, h("a", { class: "button", href: `/play/${app.name}?version=${v.version}` }, "Play"), " ",
      mayChange
        ? h("button", { class: "danger", onclick: () => deleteVersion(api, app.name, v.version, problem), "aria-label": `Delete version ${v.version}` }, "Delete")
        : null)));
  return h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, ["Version", "Published", "Parts", "Size", ""].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows)));
}

async function deleteVersion(api, name, version, problem) {
  if (!confirm(`Delete ${name}@${version}? Rooms running it keep running until they stop.`)) return;
  problem.textContent = "";
  try {
    await api.authorized("DELETE", `/apps/${name}/versions/${version}`);
    location.reload();
  } catch (e) {
    problem.textContent = `Could not delete: ${e.message}`;
  }
}

async function deleteApp(visit, name, versions, problem) {
  if (!confirm(`Delete ${name} and its ${counted(versions, "version")}? This can't be undone.`)) return;
  problem.textContent = "";
  try {
    await visit.api.authorized("DELETE", `/apps/${name}`);
    visit.navigate("/");
  } catch (e) {
    problem.textContent = `Could not delete: ${e.message}`;
  }
}
