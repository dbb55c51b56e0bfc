// The web UI's pages: the app list (with upload), an app's page, and the
// room chooser. The runner itself is play.js. Routes:
//   /                   apps, upload
//   /app/NAME           versions, parts, live rooms, play, delete
//   /play/NAME          choose a room (or run a client-only app)
//   /play/NAME/ROOM     the runner

import { ApiError, authorized, bytes, get, h, hasToken, nameProblem, savedName, saveName, show, validRoom } from "./api.js";

const REFRESH_MS = 5000;
let refreshTimer = null;
/** Counts navigations, so a view still loading can tell it was left. */
let navigation = 0;
/** The page (path and query) on screen; a change of #fragment only is not a navigation. */
let shown = null;

function route() {
  clearInterval(refreshTimer);
  document.dispatchEvent(new Event("lodge:navigate"));
  shown = location.pathname + location.search;
  const mine = ++navigation;
  const current = () => mine === navigation;
  const parts = location.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return listPage(current);
  if (parts[0] === "app" && parts.length === 2) return appPage(parts[1], current);
  if (parts[0] === "play" && parts.length === 2) return choosePage(parts[1], current);
  if (parts[0] === "play" && parts.length === 3) {
    return import("./play.js").then((play) => current() && play.playPage(parts[1], parts[2], current));
  }
  show("Not found", h("h1", {}, "Not found"), h("p", {}, h("a", { href: "/" }, "Back to the apps")));
}

/** Loads a view, showing API failures in the page instead of an empty screen. */
async function guarded(view) {
  try {
    await view();
  } catch (e) {
    show("Error", h("h1", {}, "Something went wrong"), h("p", { class: "notice error", role: "alert" }, e.message),
      h("p", {}, h("a", { href: "/" }, "Back to the apps")));
  }
}

function listPage(current) {
  return guarded(async () => {
    const list = h("ul", { class: "cards", "aria-label": "Apps" });
    const status = h("p", { class: "muted", role: "status" });
    const render = async () => {
      const { apps } = await get("/apps");
      status.textContent = apps.length ? "" : "No apps yet: upload a bundle below, or run `lodge app push DIR`.";
      list.replaceChildren(...apps.map(appCard));
    };
    await render();
    if (!current()) return;
    show("Apps", h("h1", {}, "Apps"), status, list, uploadPanel(() => render().catch(() => {})));
    refreshTimer = setInterval(() => render().catch(() => {}), REFRESH_MS);
  });
}

function appCard(app) {
  const live = app.live_rooms > 0;
  return h("li", { class: "card", "data-app": app.name },
    h("h3", {}, h("a", { href: `/app/${app.name}` }, app.name)),
    h("p", { class: "muted" }, app.description || "No description."),
    h("div", { class: "badges" },
      h("span", { class: "badge" }, `v${app.latest}`),
      h("span", { class: "badge" }, app.parts.join(" + ")),
      h("span", { class: live ? "badge live" : "badge" },
        `${app.live_rooms} ${app.live_rooms === 1 ? "room" : "rooms"}, ${app.live_members} ${app.live_members === 1 ? "member" : "members"}`)),
    h("div", { class: "actions" },
      app.parts.some((p) => p === "room" || p === "client")
        ? h("a", { class: "button primary", href: `/play/${app.name}`, "aria-label": `Play ${app.name}` }, "Play")
        : null,
      app.parts.includes("http")
        ? h("a", { class: "button", href: `/run/${app.name}/`, "aria-label": `Open ${app.name}'s HTTP part` }, "Open")
        : null,
      h("a", { class: "button", href: `/app/${app.name}` }, "Details")));
}

/** Upload: drop a bundle (from `lodge app pack DIR`) or choose one. */
function uploadPanel(onPublished) {
  const input = h("input", { type: "file", id: "bundle", accept: ".gz,.tgz,application/gzip", class: "visually-hidden", tabindex: -1 });
  const progress = h("progress", { max: 1, value: 0, hidden: true });
  const result = h("div", { role: "status", "aria-live": "polite" });
  const drop = h("div", { class: "drop" },
    h("p", {}, "Drop a bundle here, or ", h("label", { for: "bundle", class: "button", tabindex: 0, role: "button",
      onkeydown: (e) => (e.key === "Enter" || e.key === " ") && (e.preventDefault(), input.click()) }, "choose a file"), "."),
    h("p", { class: "muted" }, "Make one with ", h("span", { class: "mono" }, "lodge app pack DIR"), "."),
    input, progress);
  const upload = async (file) => {
    if (!file) return;
    progress.hidden = false;
    progress.value = 0;
    result.replaceChildren(h("p", {}, `Uploading ${file.name}…`));
    try {
      const answer = await authorized("POST", "/apps", file, (fraction) => (progress.value = fraction));
      const verb = answer.status === "unchanged" ? "was already published" : "published";
      result.replaceChildren(h("p", { class: "notice" }, `${answer.name}@${answer.version} ${verb}. `,
        h("a", { href: `/app/${answer.name}` }, "Open it")));
      onPublished();
    } catch (e) {
      result.replaceChildren(h("p", { class: "notice error", role: "alert" }, `Upload refused: ${e.message}`));
    } finally {
      progress.hidden = true;
      input.value = "";
    }
  };
  input.addEventListener("change", () => upload(input.files[0]));
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    upload(e.dataTransfer.files[0]);
  });
  return h("section", { "aria-labelledby": "upload-title" }, h("h2", { id: "upload-title" }, "Upload"), drop, result);
}

function appPage(name, current) {
  return guarded(async () => {
    const app = await get(`/apps/${encodeURIComponent(name)}`);
    if (!current()) return;
    const latest = app.versions.find((v) => v.version === app.latest);
    const hasRoom = latest.parts.some((p) => p.role === "room");
    const playable = latest.parts.some((p) => p.role === "room" || p.role === "client");
    const hasHttp = latest.parts.some((p) => p.role === "http");
    const rooms = h("div", {});
    const renderRooms = async () => {
      if (!hasRoom) return rooms.replaceChildren(h("p", { class: "muted" }, "This app has no room part."));
      const { rooms: live } = await get(`/apps/${encodeURIComponent(name)}/rooms`);
      // Unlisted rooms are shown only to the token's holder: a room's name is its key.
      const hidden = latest.manifest.room?.visibility !== "public" && !hasToken()
        ? h("p", { class: "muted" }, "This app's rooms are unlisted: only people given a room's link can find it.")
        : null;
      rooms.replaceChildren(live.length === 0
        ? h("p", { class: "muted" }, "No rooms are running.")
        : h("ul", { "aria-label": "Live rooms" }, live.map((r) => h("li", {},
          h("a", { href: `/play/${name}/${r.name}` }, r.name), ` — ${r.members} ${r.members === 1 ? "member" : "members"}, v${r.version}`))),
        ...(hidden ? [hidden] : []));
    };
    show(name,
      h("h1", {}, name),
      h("p", { class: "muted" }, latest.description || "No description."),
      playable ? playForm(name, hasRoom) : null,
      hasHttp
        ? h("p", {}, "HTTP: ", h("a", { href: `/run/${name}/` }, `/run/${name}/`),
          h("span", { class: "muted" }, " (pin a version with the Lodge-Version header or ?lodge-version=)"))
        : null,
      h("h2", {}, "Live rooms"), rooms,
      h("h2", {}, "Versions"), versionsTable(app),
      h("h2", {}, "Delete"),
      h("p", {}, h("button", { class: "danger", onclick: () => deleteApp(name, app.versions.length) }, `Delete ${name} and all its versions`)));
    await renderRooms();
    if (!current()) return;
    refreshTimer = setInterval(() => renderRooms().catch(() => {}), REFRESH_MS);
  });
}

function versionsTable(app) {
  const rows = app.versions.map((v) => h("tr", {},
    h("td", {}, h("strong", {}, v.version), v.version === app.latest ? h("span", { class: "badge live latest" }, "latest") : null),
    h("td", {}, new Date(v.created).toLocaleString()),
    h("td", {}, h("ul", { class: "parts" }, v.parts.map((p) => h("li", {},
      h("strong", {}, p.role), ` ${bytes(p.size)} `, h("span", { class: "mono muted", title: p.sha256 }, p.sha256.slice(0, 12)),
      p.capabilities.length ? ` · ${p.capabilities.join(", ")}` : "")))),
    h("td", {}, bytes(v.size)),
    h("td", {}, h("a", { class: "button", href: `/play/${app.name}?version=${v.version}` }, "Play"), " ",
      h("button", { class: "danger", onclick: () => deleteVersion(app.name, v.version), "aria-label": `Delete version ${v.version}` }, "Delete"))));
  return h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, ["Version", "Published", "Parts", "Size", ""].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows)));
}

async function deleteVersion(name, version) {
  if (!confirm(`Delete ${name}@${version}? Rooms running it keep running until they stop.`)) return;
  try {
    await authorized("DELETE", `/apps/${name}/versions/${version}`);
    location.reload();
  } catch (e) {
    alert(`Could not delete: ${e.message}`);
  }
}

async function deleteApp(name, versions) {
  if (!confirm(`Delete ${name} and its ${versions} ${versions === 1 ? "version" : "versions"}? This can't be undone.`)) return;
  try {
    await authorized("DELETE", `/apps/${name}`);
    history.pushState(null, "", "/");
    route();
  } catch (e) {
    alert(`Could not delete: ${e.message}`);
  }
}

/** Room and display name, then the runner. */
function playForm(app, hasRoom, version) {
  const room = h("input", { type: "text", name: "room", value: "lobby", required: true, maxlength: 64, autocomplete: "off" });
  const name = h("input", { type: "text", name: "name", value: savedName(), required: true, maxlength: 64, autocomplete: "nickname" });
  const error = h("p", { class: "error", role: "alert" });
  const form = h("form", { class: "row", "aria-label": `Play ${app}` },
    hasRoom ? h("label", {}, "Room", room) : null,
    h("label", {}, "Your name", name),
    h("button", { class: "primary" }, "Play"), error);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (hasRoom && !validRoom(room.value)) return (error.textContent = "Room names are 1-64 letters, digits, '-', '_' or '.'.");
    const problem = nameProblem(name.value);
    if (problem) return (error.textContent = problem);
    saveName(name.value);
    sessionStorage.setItem("lodge.joining", name.value);
    const target = hasRoom ? `/play/${app}/${room.value}` : `/play/${app}/-`;
    navigate(version ? `${target}?version=${encodeURIComponent(version)}` : target);
  });
  return form;
}

function choosePage(name, current) {
  return guarded(async () => {
    const version = new URLSearchParams(location.search).get("version");
    const app = await get(`/apps/${encodeURIComponent(name)}`);
    if (!current()) return;
    const shown = app.versions.find((v) => v.version === (version ?? app.latest));
    if (!shown) throw new ApiError(404, "not_found", `${name} has no version ${version}`);
    const hasRoom = shown.parts.some((p) => p.role === "room");
    show(`Play ${name}`, h("h1", {}, `Play ${name}`), h("p", { class: "muted" }, shown.description),
      playForm(name, hasRoom, version));
    document.querySelector("form input[name=room], form input[name=name]")?.focus();
  });
}

export function navigate(path) {
  history.pushState(null, "", path);
  route();
}

// Same-origin links navigate without reloading.
document.addEventListener("click", (e) => {
  const a = e.target.closest("a[href^='/']");
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || a.target) return;
  // Only the UI's own pages are routed here; the API and apps' http parts load for real.
  if (!/^\/(app\/|play\/|$)/.test(a.getAttribute("href"))) return;
  e.preventDefault();
  navigate(a.getAttribute("href"));
});
window.addEventListener("popstate", () => {
  // Following "#main" (the skip link) changes only the fragment: stay.
  if (location.pathname + location.search !== shown) route();
});
route();
