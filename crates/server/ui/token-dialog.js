// The dialog that asks for an API token, for people who use one instead of
// signing in (the operator's token, or a personal one).

import { h } from "./dom.js";

/** Asks for the API token; resolves to it, or null when cancelled. */
export function askToken(again) {
  return new Promise((resolve) => {
    const dialog = h("dialog", { "aria-labelledby": "token-title" });
    const input = h("input", { type: "password", name: "token", autocomplete: "off", required: true });
    const form = h("form", {},
      h("h2", { id: "token-title" }, "API token"),
      h("p", { class: again ? "error" : "muted" },
        again ? "That token was refused. " : "",
        "An API token acts for its account: a personal one (", h("span", { class: "mono" }, "lodge token create"),
        "), or the operator's (LODGE_TOKEN, or the token file in the data directory). It is kept in this browser."),
      h("label", {}, "Token", input),
      h("div", { class: "buttons" },
        h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"),
        h("button", { class: "primary" }, "Save")));
    let token = null;
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      token = input.value.trim() || null;
      dialog.close();
    });
    dialog.append(form);
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(token);
    });
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  });
}
