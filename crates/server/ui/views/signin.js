// Signing in (/signin), signing up (/signup, with an invite code when the
// server's policy asks for one) and the first admin's setup link (/setup).

import { h, show } from "../dom.js";
import { errorLine, field, nextPage, onSubmit } from "../forms.js";

const USERNAME_HINT = "1-64 characters: a-z, 0-9 and '-' (not first or last). Others see it in rooms.";
const PASSWORD_HINT = "At least 8 characters, and not your username.";

/** What `#name=value` in the address says, or "". */
function fromHash(name) {
  return new URLSearchParams(location.hash.slice(1)).get(name) ?? "";
}

function usernameInput(autocomplete) {
  return h("input", { type: "text", name: "username", required: true, maxlength: 64, autocomplete, autocapitalize: "none", spellcheck: "false" });
}

function passwordInput(name, autocomplete) {
  return h("input", { type: "password", name, required: true, maxlength: 128, autocomplete });
}

/** Already signed in: says so, instead of a form. */
function signedInAlready(visit, title) {
  const { username } = visit.api.account;
  show(title, h("h1", {}, title),
    h("p", { class: "notice" }, `You are signed in as ${username}. `, h("a", { href: "/me" }, "Go to your apps"), "."));
}

export async function signInView(visit) {
  if (visit.api.account) return signedInAlready(visit, "Sign in");
  const username = usernameInput("username");
  const password = passwordInput("password", "current-password");
  const error = errorLine();
  const form = h("form", { class: "stack", "aria-label": "Sign in" },
    field("Username", username), field("Password", password), error,
    h("div", {}, h("button", { class: "primary" }, "Sign in")));
  onSubmit(form, error, async () => {
    await visit.api.signIn("/session", { username: username.value.trim(), password: password.value });
    visit.navigate(nextPage("/me"));
  });
  show("Sign in", h("h1", {}, "Sign in"), form,
    h("p", { class: "muted" }, "No account yet? ", h("a", { href: `/signup${location.search}` }, "Sign up"), "."));
  username.focus();
}

export async function signUpView(visit) {
  if (visit.api.account) return signedInAlready(visit, "Sign up");
  const { signup } = await visit.api.get("/setup");
  if (!visit.current()) return;
  if (signup === "closed") {
    return show("Sign up", h("h1", {}, "Sign up"),
      h("p", { class: "notice" }, "Sign-up is closed on this server: ask its operator for an account."),
      h("p", {}, "Have one? ", h("a", { href: "/signin" }, "Sign in"), "."));
  }
  const invite = h("input", { type: "text", name: "invite", required: true, value: fromHash("invite"), autocomplete: "off", spellcheck: "false", class: "mono" });
  const username = usernameInput("username");
  const password = passwordInput("password", "new-password");
  const again = passwordInput("again", "new-password");
  const error = errorLine();
  const form = h("form", { class: "stack", "aria-label": "Sign up" },
    signup === "invite" ? field("Invite code", invite, "Sign-up on this server needs an invite from an admin.") : null,
    field("Username", username, USERNAME_HINT),
    field("Password", password, PASSWORD_HINT),
    field("Password again", again),
    error,
    h("div", {}, h("button", { class: "primary" }, "Create account")));
  onSubmit(form, error, async () => {
    if (password.value !== again.value) throw new Error("The two passwords differ.");
    const body = { username: username.value.trim(), password: password.value };
    if (signup === "invite") body.invite = invite.value.trim();
    await visit.api.signIn("/signup", body);
    visit.navigate(nextPage("/me"));
  });
  show("Sign up", h("h1", {}, "Create an account"),
    h("p", { class: "muted" }, "An account publishes apps and joins rooms under its username."),
    form,
    h("p", { class: "muted" }, "Have one already? ", h("a", { href: `/signin${location.search}` }, "Sign in"), "."));
  (signup === "invite" && !invite.value ? invite : username).focus();
}

export async function setupView(visit) {
  const code = fromHash("code");
  const { pending, username } = await visit.api.get("/setup");
  if (!visit.current()) return;
  if (!pending) {
    return show("Setup", h("h1", {}, "Setup"),
      h("p", { class: "notice" }, `The admin's password is already set. `, h("a", { href: "/signin" }, "Sign in"), "."));
  }
  if (!code) {
    return show("Setup", h("h1", {}, "Setup"),
      h("p", { class: "notice error", role: "alert" },
        "This page needs the setup link `lodge serve` printed (it ends in #code=…): open that link."));
  }
  const password = passwordInput("password", "new-password");
  const again = passwordInput("again", "new-password");
  const error = errorLine();
  const form = h("form", { class: "stack", "aria-label": "Set the admin's password" },
    field("Password", password, PASSWORD_HINT), field("Password again", again), error,
    h("div", {}, h("button", { class: "primary" }, "Set the password")));
  onSubmit(form, error, async () => {
    if (password.value !== again.value) throw new Error("The two passwords differ.");
    await visit.api.signIn("/setup", { code, password: password.value });
    // The code is used up: keep it out of the address and history.
    history.replaceState(null, "", "/setup");
    visit.navigate("/admin");
  });
  show("Setup", h("h1", {}, `Set ${username}'s password`),
    h("p", { class: "muted" }, `${username} is this server's first admin. The link works once.`),
    form);
  password.focus();
}
