// The form that opens the runner: a room (when the app has a room part)
// and a display name, unless signed in (members join under their username).

import { h } from "../dom.js";
import { nameProblem, ROOM_RULE, savedName, saveName, validRoom } from "../names.js";

/**
 * Room and display name, then the runner at /play/APP/ROOM (or /play/APP/-
 * without a room). `username` is the signed-in account's, which rooms use
 * instead of a display name.
 * @param {string|null} [version]
 * @param {string|null} [username]
 */
export function playForm(navigate, app, hasRoom, version, username) {
  const room = h("input", { type: "text", name: "room", value: "lobby", required: true, maxlength: 64, autocomplete: "off" });
  const name = h("input", { type: "text", name: "name", value: savedName(), required: true, maxlength: 64, autocomplete: "nickname" });
  const error = h("p", { class: "error", role: "alert" });
  const form = h("form", { class: "row", "aria-label": `Play ${app}` },
    hasRoom ? h("label", {}, "Room", room) : null,
    username ? h("p", { class: "as" }, "Playing as ", h("strong", {}, username)) : h("label", {}, "Your name", name),
    h("button", { class: "primary" }, "Play"), error);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (hasRoom && !validRoom(room.value)) return (error.textContent = ROOM_RULE);
    if (!username) {
      const problem = nameProblem(name.value);
      if (problem) return (error.textContent = problem);
      saveName(name.value);
      // The runner takes the name without asking again.
      sessionStorage.setItem("lodge.joining", name.value);
    }
    const target = hasRoom ? `/play/${app}/${room.value}` : `/play/${app}/-`;
    navigate(version ? `${target}?version=${encodeURIComponent(version)}` : target);
  });
  return form;
}
