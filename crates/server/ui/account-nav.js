// The header's account corner: who is signed in, their pages and signing
// out; or the links to sign in and sign up.

import { h } from "./dom.js";

/**
 * Draws the site navigation for `account` into the header.
 * @param {import("./api.js").Api} api
 * @param {(path: string) => void} navigate
 */
export function renderNav(api, navigate) {
  const nav = document.querySelector("header.top nav");
  const account = api.account;
  const links = [h("a", { href: "/" }, "Apps")];
  let corner;
  if (account) {
    links.push(h("a", { href: "/me" }, "My apps"), h("a", { href: "/tokens" }, "Tokens"));
    if (account.role === "admin") links.push(h("a", { href: "/admin" }, "Admin"));
    corner = h("div", { class: "account" },
      h("span", { class: "muted" }, "Signed in as "),
      h("a", { href: "/me", class: "who", "aria-label": `Signed in as ${account.username}` }, account.username),
      h("button", {
        type: "button",
        onclick: async () => {
          await api.signOut();
          navigate("/");
        },
      }, "Sign out"));
  } else {
    corner = h("div", { class: "account" },
      api.hasToken()
        ? h("span", { class: "muted" }, "Using an API token ",
          h("button", { type: "button", onclick: () => api.forgetToken() }, "Forget it"))
        : null,
      h("a", { href: "/signin" }, "Sign in"),
      h("a", { class: "button", href: "/signup" }, "Sign up"));
  }
  nav.replaceChildren(...links);
  document.querySelector("header.top .account")?.remove();
  nav.after(corner);
}
