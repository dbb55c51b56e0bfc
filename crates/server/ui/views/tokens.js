// API tokens, /tokens: the account's tokens (never their secrets), making
// one with a name, scopes and an expiry (its secret shown once), revoking.

import { h, show } from "../dom.js";
import { errorLine, field, onSubmit, secretBox } from "../forms.js";
import { dateTime } from "../format.js";
import { showSignInNeeded } from "./me.js";

const EXPIRY_DAYS = [["30", "30 days"], ["90", "90 days"], ["365", "a year"], ["7", "7 days"], ["", "never"]];

export async function tokensView(visit) {
  const { api } = visit;
  let tokens;
  try {
    ({ tokens } = await api.get("/tokens"));
  } catch (e) {
    if (e.status === 401) return showSignInNeeded("API tokens");
    throw e;
  }
  if (!visit.current()) return;
  const list = h("div", {});
  const error = errorLine();
  const render = async () => {
    ({ tokens } = await api.get("/tokens"));
    list.replaceChildren(tokenTable(tokens, revoke));
  };
  const revoke = async (token) => {
    if (!confirm(`Revoke the token "${token.name}"? Scripts using it stop working.`)) return;
    error.textContent = "";
    try {
      await api.authorized("DELETE", `/tokens/${token.id}`);
      await render();
    } catch (e) {
      error.textContent = `Could not revoke: ${e.message}`;
    }
  };
  list.replaceChildren(tokenTable(tokens, revoke));
  show("API tokens", h("h1", {}, "API tokens"),
    h("p", { class: "muted" }, "A token lets a script or the CLI act for you, within its scopes. ",
      h("span", { class: "mono" }, "lodge login"), " makes one for the CLI."),
    list, error,
    h("h2", {}, "New token"), createForm(api, render));
}

function tokenTable(tokens, revoke) {
  if (tokens.length === 0) return h("p", { class: "muted" }, "You have no tokens.");
  const rows = tokens.map((t) => h("tr", { "data-token": t.name },
    h("td", {}, h("strong", {}, t.name), t.expired ? h("span", { class: "badge latest" }, "expired") : null),
    h("td", { class: "mono" }, t.scopes.join(" ")),
    h("td", {}, dateTime(t.created)),
    h("td", {}, t.expires ? dateTime(t.expires) : "never"),
    h("td", {}, t.last_used ? dateTime(t.last_used) : "never"),
    h("td", {}, h("button", { class: "danger", onclick: () => revoke(t), "aria-label": `Revoke ${t.name}` }, "Revoke"))));
  return h("div", { class: "table-wrap" }, h("table", { "aria-label": "Tokens" },
    h("thead", {}, h("tr", {}, ["Name", "Scopes", "Created", "Expires", "Last used", ""].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows)));
}

function createForm(api, onCreated) {
  const admin = api.account?.role === "admin";
  const name = h("input", { type: "text", name: "name", required: true, maxlength: 64, autocomplete: "off" });
  const all = h("input", { type: "checkbox", name: "publish-all", checked: true });
  const apps = h("input", { type: "text", name: "apps", autocomplete: "off", placeholder: "app-one, app-two" });
  const rooms = h("input", { type: "checkbox", name: "rooms" });
  const adminScope = h("input", { type: "checkbox", name: "admin" });
  const expiry = h("select", { name: "expiry" }, EXPIRY_DAYS.map(([value, label]) => h("option", { value }, label)));
  const error = errorLine();
  const created = h("div", { role: "status" });
  const form = h("form", { class: "stack", "aria-label": "New token" },
    field("Name", name, "What it is for: \"laptop\", \"CI\"."),
    h("fieldset", {}, h("legend", {}, "Scopes"),
      h("label", { class: "check" }, all, "Publish to all my apps (publish:*)"),
      field("Publish to these apps only (publish:APP)", apps, "Names separated by commas or spaces."),
      h("label", { class: "check" }, rooms, "Manage rooms: see unlisted rooms, logs, stop rooms (rooms)"),
      admin ? h("label", { class: "check" }, adminScope, "Admin (admin)") : null),
    field("Expires after", expiry),
    error,
    h("div", {}, h("button", { class: "primary" }, "Create token")));
  onSubmit(form, error, async () => {
    created.replaceChildren();
    const scopes = [];
    if (all.checked) scopes.push("publish:*");
    for (const app of apps.value.split(/[\s,]+/).filter(Boolean)) scopes.push(`publish:${app}`);
    if (rooms.checked) scopes.push("rooms");
    if (adminScope.checked) scopes.push("admin");
    if (scopes.length === 0) throw new Error("Choose at least one scope.");
    const body = { name: name.value.trim(), scopes };
    if (expiry.value) body.expires_in_days = Number(expiry.value);
    const token = await api.authorized("POST", "/tokens", body);
    form.reset();
    created.replaceChildren(h("div", { class: "notice" },
      h("p", {}, h("strong", {}, `Token "${token.name}" created.`), " Copy it now: it is shown only this once."),
      secretBox(`The token ${token.name}`, token.token),
      h("p", { class: "muted" }, "Use it as ", h("span", { class: "mono" }, "Authorization: Bearer TOKEN"), ", or ",
        h("span", { class: "mono" }, "LODGE_TOKEN=TOKEN lodge …"), ".")));
    await onCreated();
  });
  return h("div", {}, created, form);
}
