// The dialog shown when a change needs a signed-in account: sign in right
// there (so an upload in progress goes on), create an account, or use an
// API token instead.

import { h } from "./dom.js";

/**
 * Asks the person to sign in. Resolves to "signed-in" once `api` is signed
 * in, "token" when they chose to paste an API token, or null when cancelled.
 * @param {import("./api.js").Api} api
 * @param {boolean} again  whether a sign-in or token was just refused
 * @returns {Promise<"signed-in"|"token"|null>}
 */
export function askSignIn(api, again) {
  return new Promise((resolve) => {
    let answer = null;
    const dialog = h("dialog", { "aria-labelledby": "signin-title" });
    const username = h("input", { type: "text", name: "username", autocomplete: "username", required: true, maxlength: 64 });
    const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
    const error = h("p", { class: "error", role: "alert" });
    const submit = h("button", { class: "primary" }, "Sign in");
    const next = encodeURIComponent(location.pathname + location.search);
    const form = h("form", {},
      h("h2", { id: "signin-title" }, "Sign in"),
      h("p", { class: again ? "error" : "muted" },
        again ? "You were signed out, or the token was refused. " : "",
        "Changes are made as your account. ",
        h("a", { href: `/signup?next=${next}` }, "Create an account"), " if you have none."),
      h("label", {}, "Username", username),
      h("label", {}, "Password", password),
      error,
      h("div", { class: "buttons" },
        h("button", { type: "button", class: "link", onclick: () => close("token") }, "Use an API token"),
        h("button", { type: "button", onclick: () => close(null) }, "Cancel"),
        submit));
    function close(value) {
      answer = value;
      dialog.close();
    }
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      submit.disabled = true;
      error.textContent = "";
      try {
        await api.signIn("/session", { username: username.value.trim(), password: password.value });
        close("signed-in");
      } catch (failure) {
        error.textContent = failure.message;
        password.select();
      } finally {
        submit.disabled = false;
      }
    });
    dialog.append(form);
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(answer);
    });
    // Links inside leave the page: close first, so the change is given up.
    dialog.addEventListener("click", (e) => e.target.closest("a") && dialog.close());
    document.body.append(dialog);
    dialog.showModal();
    username.focus();
  });
}
