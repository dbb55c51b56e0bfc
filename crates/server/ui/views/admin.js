// The admin's page, /admin: every user with their usage (disable, enable,
// make an admin, set a new password or quotas, delete), invite codes (a new one's link shown once), and moving an app
// to another owner.

import { h, show } from "../dom.js";
import { errorLine, field, onSubmit, secretBox } from "../forms.js";
import { bytes, dateTime } from "../format.js";
import { showSignInNeeded } from "./me.js";

export async function adminView(visit) {
  const { api } = visit;
  let users;
  try {
    ({ users } = await api.get("/users"));
  } catch (e) {
    if (e.status === 401) return showSignInNeeded("Admin");
    throw e;
  }
  const { invites } = await api.get("/invites");
  // The operator's token acts as the first admin: it stays an enabled admin.
  const { username: firstAdmin } = await api.get("/setup");
  if (!visit.current()) return;
  const list = h("div", {});
  const error = errorLine();
  const done = h("p", { role: "status", class: "muted" });
  /**
   * Runs a change to a user, then shows the list again, and `said` (if
   * given) once it is made; a failure's message shows under the list.
   */
  const change = async (method, username, body, said) => {
    error.textContent = "";
    done.textContent = "";
    try {
      await api.authorized(method, `/users/${encodeURIComponent(username)}`, body);
      ({ users } = await api.get("/users"));
      list.replaceChildren(userTable(users, change, firstAdmin));
      if (said) done.textContent = said;
    } catch (e) {
      error.textContent = e.message;
    }
  };
  list.replaceChildren(userTable(users, change, firstAdmin));
  show("Admin", h("h1", {}, "Admin"),
    h("h2", {}, "Users"), list, error, done,
    h("h2", {}, "Invites"), invitePanel(api, invites),
    h("h2", {}, "Transfer an app"), transferForm(api));
}

function userTable(users, change, firstAdmin) {
  const rows = users.map((u) => {
    const quota = (used, limit, format = String) => (u.quotas ? `${format(used)} of ${format(limit)}` : format(used));
    const remove = () => {
      if (confirm(`Delete ${u.username}, and the apps they alone own? This can't be undone.`)) change("DELETE", u.username);
    };
    return h("tr", { "data-user": u.username },
      h("td", {}, h("strong", {}, u.username), u.role === "admin" ? h("span", { class: "badge latest" }, "admin") : null,
        u.disabled ? h("span", { class: "badge latest" }, "disabled") : null),
      h("td", {}, dateTime(u.created)),
      h("td", {}, quota(u.usage.apps, u.quotas?.apps)),
      h("td", {}, quota(u.usage.stored_bytes, u.quotas?.stored_bytes, bytes)),
      h("td", {}, quota(u.usage.kv_bytes, u.quotas?.kv_bytes, bytes)),
      h("td", {}, u.username === firstAdmin
        ? h("span", { class: "muted" }, "the first admin (the operator's token acts as it)")
        : [
          h("button", { onclick: () => change("PATCH", u.username, { disabled: !u.disabled }), "aria-label": `${u.disabled ? "Enable" : "Disable"} ${u.username}` },
            u.disabled ? "Enable" : "Disable"), " ",
          h("button", { onclick: () => change("PATCH", u.username, { role: u.role === "admin" ? "user" : "admin" }), "aria-label": `${u.role === "admin" ? "Make a user" : "Make an admin"}: ${u.username}` },
            u.role === "admin" ? "Make a user" : "Make an admin"), " ",
          h("button", { onclick: () => newPassword(u.username, change), "aria-label": `Set a new password for ${u.username}` }, "New password"), " ",
          h("button", { onclick: () => editQuotas(u, change), "aria-label": `Quotas of ${u.username}` }, "Quotas"), " ",
          h("button", { class: "danger", onclick: remove, "aria-label": `Delete ${u.username}` }, "Delete"),
        ]));
  });
  return h("div", { class: "table-wrap" }, h("table", { "aria-label": "Users" },
    h("thead", {}, h("tr", {}, ["User", "Created", "Apps", "Stored", "kv", ""].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows)));
}

/** Asks for a new password for someone who lost theirs (Lodge sends no email). */
function newPassword(username, change) {
  const password = prompt(`A new password for ${username} (8 to 128 characters); their sessions end:`);
  if (password) change("PATCH", username, { password }, `${username} has a new password.`);
}

/**
 * Edits one account's own quotas, as JSON: the keys are apps,
 * versions_per_app, stored_bytes and kv_bytes; `{}` goes back to the defaults.
 */
function editQuotas(user, change) {
  const given = prompt(`Quotas of ${user.username} that differ from the defaults (JSON; {} for the defaults):`,
    JSON.stringify(user.quota_overrides));
  if (given === null) return;
  let quotas;
  try {
    quotas = JSON.parse(given);
  } catch {
    alert("That is not JSON: write for example {\"apps\": 5, \"stored_bytes\": 100000000}");
    return;
  }
  change("PATCH", user.username, { quotas });
}

function invitePanel(api, invites) {
  const days = h("input", { type: "number", name: "days", min: 1, max: 365, value: 7, required: true });
  const error = errorLine();
  const made = h("div", { role: "status" });
  const list = h("div", {}, inviteTable(invites));
  const form = h("form", { class: "row", "aria-label": "New invite" },
    field("Valid for (days)", days), h("button", { class: "primary" }, "Create an invite"), error);
  onSubmit(form, error, async () => {
    const invite = await api.authorized("POST", "/invites", { expires_in_days: Number(days.value) });
    made.replaceChildren(h("div", { class: "notice" },
      h("p", {}, h("strong", {}, "Invite created."), ` Send this link; it works once, until ${dateTime(invite.expires)}, and is shown only now.`),
      secretBox("Invite link", `${location.origin}${invite.signup_path}`),
      invite.note ? h("p", { class: "muted" }, `Note: ${invite.note}.`) : null));
    list.replaceChildren(inviteTable((await api.get("/invites")).invites));
  });
  return h("div", {}, form, made, list);
}

function inviteTable(invites) {
  if (invites.length === 0) return h("p", { class: "muted" }, "No invites yet.");
  const state = (i) => (i.used_by != null ? `used by ${i.used_by}` : i.expired ? "expired" : "unused");
  return h("div", { class: "table-wrap" }, h("table", { "aria-label": "Invites" },
    h("thead", {}, h("tr", {}, ["Invite", "Created", "Expires", "State"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, invites.map((i) => h("tr", {},
      h("td", {}, `#${i.id}`), h("td", {}, dateTime(i.created)), h("td", {}, dateTime(i.expires)), h("td", {}, state(i)))))));
}

function transferForm(api) {
  const app = h("input", { type: "text", name: "app", required: true, maxlength: 64, autocomplete: "off" });
  const to = h("input", { type: "text", name: "to", required: true, maxlength: 64, autocomplete: "off" });
  const error = errorLine();
  const done = h("p", { role: "status" });
  const form = h("form", { class: "row", "aria-label": "Transfer an app" },
    field("App", app), field("New owner (username)", to), h("button", {}, "Transfer"), error);
  onSubmit(form, error, async () => {
    done.textContent = "";
    const answer = await api.authorized("POST", `/apps/${encodeURIComponent(app.value.trim())}/transfer`, { to: to.value.trim() });
    form.reset();
    done.textContent = `${answer.name} now belongs to ${answer.members.filter((m) => m.role === "owner").map((m) => m.username).join(", ")}.`;
  });
  return h("div", {}, h("p", { class: "muted" }, "The new owner becomes the app's only owner; its maintainers stay."), form, done);
}
