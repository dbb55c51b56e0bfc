// The signed-in account's page, /me: its apps with roles, usage against
// its quotas, changing the password, signing out everywhere, deleting it.

import { h, show } from "../dom.js";
import { errorLine, field, onSubmit } from "../forms.js";
import { bytes, counted, dateTime } from "../format.js";

/** A page that needs an account, for a visitor who is signed out. */
export function showSignInNeeded(title) {
  const next = encodeURIComponent(location.pathname);
  return show(title, h("h1", {}, title),
    h("p", { class: "notice" }, h("a", { href: `/signin?next=${next}` }, "Sign in"), " to see this page, or ",
      h("a", { href: `/signup?next=${next}` }, "create an account"), "."));
}

export async function meView(visit) {
  const { api } = visit;
  let me;
  try {
    me = await api.get("/me");
  } catch (e) {
    if (e.status === 401) return showSignInNeeded("My apps");
    throw e;
  }
  if (!visit.current()) return;
  const session = me.via === "session";
  show(me.username,
    h("h1", {}, me.username, me.role === "admin" ? h("span", { class: "badge latest" }, "admin") : null),
    h("p", { class: "muted" }, `Account created ${dateTime(me.created)}.`,
      session ? "" : ` This page uses ${me.via === "operator" ? "the operator's" : "an API"} token, not a sign-in.`),
    h("h2", {}, "My apps"), myApps(me),
    h("p", {}, h("a", { href: "/" }, "Upload a bundle"), " on the apps page, or run ",
      h("span", { class: "mono" }, "lodge app push DIR"), " after ", h("span", { class: "mono" }, "lodge login"), "."),
    h("h2", {}, "Usage"), usageTable(me),
    session ? h("h2", {}, "Password") : null, session ? passwordForm(api) : null,
    session ? h("h2", {}, "Sessions") : null, session ? signOutEverywhere(visit) : null,
    session ? h("h2", {}, "Delete the account") : null, session ? deleteForm(visit, me) : null);
}

function myApps(me) {
  if (me.apps.length === 0) return h("p", { class: "muted" }, "You have no apps yet.");
  return h("ul", { class: "my-apps", "aria-label": "My apps" }, me.apps.map((app) => h("li", { "data-app": app.name },
    h("a", { href: `/app/${app.name}` }, app.name), " ", h("span", { class: "badge" }, app.role))));
}

function usageTable(me) {
  const { usage, quotas } = me;
  const row = (what, used, limit, format = String) => h("tr", {},
    h("th", { scope: "row" }, what), h("td", {}, format(used)), h("td", {}, quotas ? format(limit) : "no limit"),
    h("td", {}, quotas ? h("meter", { min: 0, max: limit, value: Math.min(used, limit), "aria-label": `${what} used` }) : null));
  return h("div", { class: "table-wrap" }, h("table", { "aria-label": "Usage" },
    h("thead", {}, h("tr", {}, ["", "Used", "Quota", ""].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {},
      row("Apps owned", usage.apps, quotas?.apps),
      row("Stored (components and assets)", usage.stored_bytes, quotas?.stored_bytes, bytes),
      row("kv data", usage.kv_bytes, quotas?.kv_bytes, bytes))),
    quotas ? h("p", { class: "muted" }, `Each app may keep ${counted(quotas.versions_per_app, "version")}.`)
      : h("p", { class: "muted" }, "Admins have no quotas."));
}

function passwordForm(api) {
  const current = h("input", { type: "password", name: "current", required: true, autocomplete: "current-password" });
  const next = h("input", { type: "password", name: "new", required: true, maxlength: 128, autocomplete: "new-password" });
  const error = errorLine();
  const done = h("p", { role: "status" });
  const form = h("form", { class: "row", "aria-label": "Change the password" },
    field("Current password", current), field("New password", next), h("button", {}, "Change the password"), error);
  onSubmit(form, error, async () => {
    done.textContent = "";
    await api.authorized("PUT", "/me/password", { current: current.value, new: next.value });
    form.reset();
    done.textContent = "Password changed. Your other browsers were signed out.";
  });
  return h("div", {}, form, done);
}

function signOutEverywhere(visit) {
  const error = errorLine();
  const button = h("button", {
    type: "button",
    onclick: async () => {
      try {
        await visit.api.authorized("DELETE", "/me/sessions");
        visit.api.signedOut();
        visit.navigate("/signin");
      } catch (e) {
        error.textContent = e.message;
      }
    },
  }, "Sign out everywhere");
  return h("div", {}, h("p", { class: "muted" }, "Ends every session of this account, this browser's too. API tokens keep working."), button, error);
}

function deleteForm(visit, me) {
  const password = h("input", { type: "password", name: "password", required: true, autocomplete: "current-password" });
  const error = errorLine();
  const owned = me.apps.filter((a) => a.role === "owner").length;
  const form = h("form", { class: "row", "aria-label": "Delete the account" },
    field("Your password, to confirm", password), h("button", { class: "danger" }, "Delete my account"), error);
  onSubmit(form, error, async () => {
    if (!confirm(`Delete the account ${me.username}, and the apps you alone own? This can't be undone.`)) return;
    const { apps_deleted: deleted } = await visit.api.authorized("DELETE", "/me", { password: password.value });
    visit.api.signedOut();
    const note = deleted.length ? ` Deleted with it: ${deleted.join(", ")}.` : "";
    show("Account deleted", h("h1", {}, "Account deleted"),
      h("p", { class: "notice", role: "status" }, `The account ${me.username} is deleted.${note}`),
      h("p", {}, h("a", { href: "/" }, "Back to the apps")));
  });
  return h("div", {},
    h("p", { class: "muted" }, owned ? `Apps you alone own go with it (you own ${counted(owned, "app")}); apps with other owners stay theirs.` : "You own no apps."),
    form);
}
