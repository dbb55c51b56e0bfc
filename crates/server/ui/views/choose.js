// The room chooser, /play/NAME[?version=V]: the play form for one version.

import { ApiError } from "../api.js";
import { h, show } from "../dom.js";
import { playForm } from "./play-form.js";

export async function chooseView(visit, name) {
  const version = new URLSearchParams(location.search).get("version");
  const app = await visit.api.get(`/apps/${encodeURIComponent(name)}`);
  if (!visit.current()) return;
  const chosen = app.versions.find((v) => v.version === (version ?? app.latest));
  if (!chosen) throw new ApiError(404, "not_found", `${name} has no version ${version}`);
  const hasRoom = chosen.parts.some((p) => p.role === "room");
  show(`Play ${name}`, h("h1", {}, `Play ${name}`), h("p", { class: "muted" }, chosen.description),
    playForm(visit.navigate, name, hasRoom, version, visit.api.account?.username));
  document.querySelector("form input[name=room], form input[name=name]")?.focus();
}
