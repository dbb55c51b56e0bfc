// The app list, /: every app as a card, refreshed every few seconds, and
// the upload panel.

import { h, show } from "../dom.js";
import { counted } from "../format.js";
import { uploadPanel } from "./upload.js";

const REFRESH_MS = 5000;

export async function listView(visit) {
  const list = h("ul", { class: "cards", "aria-label": "Apps" });
  const status = h("p", { class: "muted", role: "status" });
  const render = async () => {
    const { apps } = await visit.api.get("/apps");
    status.textContent = apps.length ? "" : "No apps yet: upload a bundle below, or run `lodge app push DIR`.";
    list.replaceChildren(...apps.map(appCard));
  };
  await render();
  if (!visit.current()) return;
  show("Apps", h("h1", {}, "Apps"), status, list, uploadPanel(visit.api, () => render().catch(() => {})));
  visit.every(REFRESH_MS, render);
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
        `${counted(app.live_rooms, "room")}, ${counted(app.live_members, "member")}`)),
    h("div", { class: "actions" },
      app.parts.some((p) => p === "room" || p === "client")
        ? h("a", { class: "button primary", href: `/play/${app.name}`, "aria-label": `Play ${app.name}` }, "Play")
        : null,
      app.parts.includes("http")
        ? h("a", { class: "button", href: `/run/${app.name}/`, "aria-label": `Open ${app.name}'s HTTP part` }, "Open")
        : null,
      h("a", { class: "button", href: `/app/${app.name}` }, "Details")));
}
