// An app's page, /app/NAME: play form, http link, live rooms (refreshed),
// versions with their parts, and deleting.

import { h, show } from "../dom.js";
import { bytes, counted, dateTime } from "../format.js";
import { playForm } from "./play-form.js";

const REFRESH_MS = 5000;

export async function appView(visit, name) {
  const { api } = visit;
  const app = await api.get(`/apps/${encodeURIComponent(name)}`);
  if (!visit.current()) return;
  const latest = app.versions.find((v) => v.version === app.latest);
  const hasRoom = latest.parts.some((p) => p.role === "room");
  const playable = latest.parts.some((p) => p.role === "room" || p.role === "client");
  const hasHttp = latest.parts.some((p) => p.role === "http");
  const rooms = h("div", {});
  const renderRooms = async () => {
    if (!hasRoom) return rooms.replaceChildren(h("p", { class: "muted" }, "This app has no room part."));
    const { rooms: live } = await api.get(`/apps/${encodeURIComponent(name)}/rooms`);
    // Unlisted rooms are shown only to the token's holder: a room's name is its key.
    const hidden = latest.manifest.room?.visibility !== "public" && !api.hasToken()
      ? h("p", { class: "muted" }, "This app's rooms are unlisted: only people given a room's link can find it.")
      : null;
    rooms.replaceChildren(live.length === 0
      ? h("p", { class: "muted" }, "No rooms are running.")
      : h("ul", { "aria-label": "Live rooms" }, live.map((r) => h("li", {},
        h("a", { href: `/play/${name}/${r.name}` }, r.name), ` — ${counted(r.members, "member")}, v${r.version}`))),
      ...(hidden ? [hidden] : []));
  };
  show(name,
    h("h1", {}, name),
    h("p", { class: "muted" }, latest.description || "No description."),
    playable ? playForm(visit.navigate, name, hasRoom) : null,
    hasHttp
      ? h("p", {}, "HTTP: ", h("a", { href: `/run/${name}/` }, `/run/${name}/`),
        h("span", { class: "muted" }, " (pin a version with the Lodge-Version header or ?lodge-version=)"))
      : null,
    h("h2", {}, "Live rooms"), rooms,
    h("h2", {}, "Versions"), versionsTable(api, app),
    h("h2", {}, "Delete"),
    h("p", {}, h("button", { class: "danger", onclick: () => deleteApp(visit, name, app.versions.length) }, `Delete ${name} and all its versions`)));
  await renderRooms();
  if (!visit.current()) return;
  visit.every(REFRESH_MS, renderRooms);
}

function versionsTable(api, app) {
  const rows = app.versions.map((v) => h("tr", {},
    h("td", {}, h("strong", {}, v.version), v.version === app.latest ? h("span", { class: "badge live latest" }, "latest") : null),
    h("td", {}, dateTime(v.created)),
    h("td", {}, h("ul", { class: "parts" }, v.parts.map((p) => h("li", {},
      h("strong", {}, p.role), ` ${bytes(p.size)} `, h("span", { class: "mono muted", title: p.sha256 }, p.sha256.slice(0, 12)),
      p.capabilities.length ? ` · ${p.capabilities.join(", ")}` : "")))),
    h("td", {}, bytes(v.size)),
    h("td", {}, h("a", { class: "button", href: `/play/${app.name}?version=${v.version}` }, "Play"), " ",
      h("button", { class: "danger", onclick: () => deleteVersion(api, app.name, v.version), "aria-label": `Delete version ${v.version}` }, "Delete"))));
  return h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, ["Version", "Published", "Parts", "Size", ""].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows)));
}

async function deleteVersion(api, name, version) {
  if (!confirm(`Delete ${name}@${version}? Rooms running it keep running until they stop.`)) return;
  try {
    await api.authorized("DELETE", `/apps/${name}/versions/${version}`);
    location.reload();
  } catch (e) {
    alert(`Could not delete: ${e.message}`);
  }
}

async function deleteApp(visit, name, versions) {
  if (!confirm(`Delete ${name} and its ${counted(versions, "version")}? This can't be undone.`)) return;
  try {
    await visit.api.authorized("DELETE", `/apps/${name}`);
    visit.navigate("/");
  } catch (e) {
    alert(`Could not delete: ${e.message}`);
  }
}
