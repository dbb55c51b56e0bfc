// Accounts in the web UI (issue 12): signing up, publishing and deleting as
// the signed-in account, "my apps", tokens shown once, signing out and in,
// a signed-in player named by their account in a room, the admin's page
// with an invite link, and a room for signed-in players only.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LODGE, ROOT, Server, appDir, guest, launch, newPage, screenshot, waitForScreen } from "./support.mjs";

const PASSWORD = "correct horse battery";
const ADMIN_PASSWORD = "admin password 1";

let server;
let browser;

before(async () => {
  server = await Server.start();
  server.push("examples/chat");
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.destroy();
});

/** Signs up through /signup and waits for the account's page. */
async function signUp(page, base, username, { invite } = {}) {
  await page.goto(`${base}/signup${invite ? `#invite=${invite}` : ""}`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("Password again").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { name: username, exact: true }).waitFor();
  await page.getByRole("link", { name: `Signed in as ${username}` }).waitFor();
}

/** Signs in through /signin, waiting for the header to say so. */
async function signIn(page, base, username, password) {
  await page.goto(`${base}/signin`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("link", { name: `Signed in as ${username}` }).waitFor();
}

/** A bundle of a client-only app named `name`, made by `lodge app pack`. */
function bundle(name) {
  const dir = appDir(`[app]
name = "${name}"
version = "1.0.0"
description = "Published from the browser."

[client]
component = "${guest("bad_client")}"
`);
  const file = join(dir, `${name}.tar.gz`);
  execFileSync(LODGE, ["app", "pack", dir, "--output", file]);
  return file;
}

/** The status of GET /api/me as the page's cookie makes it. */
function meStatus(page) {
  return page.evaluate(async () => (await fetch("/api/me")).status);
}

test("a person signs up, publishes, sees their app, makes a token, signs out and in, and deletes the app", async () => {
  const errors = [];
  const page = await newPage(browser, errors);
  await signUp(page, server.url, "alice");

  // Uploading as the signed-in account asks for nothing.
  await page.getByRole("link", { name: "Apps", exact: true }).click();
  await page.getByText("It is published as alice.").waitFor();
  await page.locator("#bundle").setInputFiles(bundle("solo"));
  await page.getByText("solo@1.0.0 published").waitFor();
  assert.equal(await page.getByRole("dialog").count(), 0);
  assert.match(server.lodge("app", "ls"), /solo\s+1\.0\.0/);

  // "My apps" lists it with alice's role, and the usage counts it.
  await page.getByRole("link", { name: "My apps" }).click();
  const mine = page.getByRole("list", { name: "My apps" });
  await mine.getByRole("link", { name: "solo" }).waitFor();
  assert.match(await mine.innerText(), /solo\s+owner/);
  assert.match(await page.getByRole("table", { name: "Usage" }).innerText(), /Apps owned\s+1\s+20/);
  await screenshot(page, "accounts-me");

  // The app's page names its owner.
  await mine.getByRole("link", { name: "solo" }).click();
  await page.getByText("Owner: alice").waitFor();
  assert.match(await page.getByRole("list", { name: "Collaborators" }).innerText(), /alice — owner/);
  await page.getByRole("form", { name: "Add a collaborator" }).waitFor();

  // A token's secret is shown once, and works.
  await page.getByRole("link", { name: "Tokens" }).click();
  const form = page.getByRole("form", { name: "New token" });
  await form.getByLabel("Name").fill("laptop");
  await form.getByRole("button", { name: "Create token" }).click();
  const secret = await page.getByRole("textbox", { name: "The token laptop" }).inputValue();
  assert.match(secret, /^lodge_[0-9a-f]{64}$/);
  await screenshot(page, "accounts-token");
  const me = await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${secret}` } }).then((r) => r.json());
  assert.equal(me.username, "alice");
  assert.deepEqual(me.scopes, ["publish:*"]);
  await page.reload();
  const tokens = page.getByRole("table", { name: "Tokens" });
  await tokens.getByText("laptop").waitFor();
  assert.equal(await page.getByRole("textbox", { name: "The token laptop" }).count(), 0);
  assert.doesNotMatch(await page.locator("body").innerText(), new RegExp(secret));

  // Signing out ends the session; signing in again starts one.
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await page.getByRole("link", { name: "Sign in" }).waitFor();
  assert.equal(await meStatus(page), 401);
  await signIn(page, server.url, "alice", PASSWORD);
  assert.equal(await meStatus(page), 200);

  // Deleting the app through its page.
  await page.goto(`${server.url}/app/solo`);
  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: "Delete solo and all its versions" }).click();
  await page.getByRole("heading", { name: "Apps" }).waitFor();
  assert.doesNotMatch(server.lodge("app", "ls"), /solo/);
  assert.deepEqual(errors, []);
});

test("a wrong password is refused inline, without saying whether the account exists", async () => {
  const page = await newPage(browser);
  await page.goto(`${server.url}/signin`);
  await page.getByLabel("Username").fill("nobody-here");
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "the username or the password is wrong" }).waitFor();
});

test("signed out, an upload offers to sign in and goes on; the owner manages collaborators", async () => {
  const page = await newPage(browser);
  await signUp(page, server.url, "dora");
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await page.getByRole("link", { name: "Sign in" }).waitFor();
  await page.goto(server.url);
  await page.getByText("Uploading asks you to sign in.").waitFor();
  await page.locator("#bundle").setInputFiles(bundle("later"));
  const dialog = page.getByRole("dialog", { name: "Sign in" });
  await dialog.getByLabel("Username").fill("dora");
  await dialog.getByLabel("Password").fill(PASSWORD);
  await dialog.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("later@1.0.0 published").waitFor();
  const { members } = await fetch(`${server.url}/api/apps/later`).then((r) => r.json());
  assert.deepEqual(members, [{ username: "dora", role: "owner" }]);

  // The owner adds a collaborator on the app's page, and removes them; an
  // unknown username is refused in the server's words.
  await page.goto(`${server.url}/app/later`);
  const add = page.getByRole("form", { name: "Add a collaborator" });
  await add.getByLabel("Username").fill("nobody-at-all");
  await add.getByRole("button", { name: "Add" }).click();
  await add.getByRole("alert").filter({ hasText: 'no account "nobody-at-all"' }).waitFor();
  await add.getByLabel("Username").fill("alice");
  await add.getByRole("button", { name: "Add" }).click();
  const collaborators = page.getByRole("list", { name: "Collaborators" });
  await collaborators.getByText("alice — maintainer").waitFor();
  await page.getByText("Owner: dora · maintainers: alice").waitFor();
  await collaborators.getByRole("button", { name: "Remove alice" }).click();
  await page.waitForFunction(() => !document.body.innerText.includes("alice — maintainer"));
});

test("a signed-in player is their username in a room; a guest can't take it", async () => {
  const errors = [];
  const page = await newPage(browser, errors);
  await signUp(page, server.url, "bob");

  // The play form names the player instead of asking.
  await page.goto(`${server.url}/app/chat`);
  const form = page.getByRole("form", { name: "Play chat" });
  await form.getByText("Playing as bob").waitFor();
  assert.equal(await form.getByLabel("Your name").count(), 0);
  // Not one of chat's owners or maintainers: no delete buttons.
  await page.getByText("Only chat's owners and maintainers can publish or delete its versions.").waitFor();
  assert.equal(await page.getByRole("button", { name: /^Delete/ }).count(), 0);
  await form.getByLabel("Room").fill("porch");
  await form.getByRole("button", { name: "Play" }).click();
  await page.locator(".status.connected").waitFor();
  assert.match(await page.locator(".play-bar").innerText(), /as bob/);
  await page.locator(".terminal").focus();
  await page.keyboard.type("hello from bob");
  await page.keyboard.press("Enter");
  await waitForScreen(page, "bob: hello from bob");

  // A guest asking for the name is refused, and told why.
  const guestPage = await newPage(browser, errors);
  await guestPage.goto(`${server.url}/play/chat/porch`);
  await guestPage.getByLabel("Your name").fill("bob");
  await guestPage.getByRole("button", { name: "Join" }).click();
  const overlay = guestPage.getByRole("alertdialog");
  await overlay.getByText(/"bob" is the name of an account/).waitFor();
  assert.deepEqual(errors, []);
});

test("an app for signed-in players offers a guest to sign in, and lets the member in", async () => {
  const release = join(ROOT, "examples/target/wasm32-wasip2/release");
  const dir = mkdtempSync(join(tmpdir(), "lodge-app-"));
  for (const file of ["chat_room.wasm", "chat_client.wasm"]) copyFileSync(join(release, file), join(dir, file));
  writeFileSync(join(dir, "lodge.toml"), `[app]
name = "club"
version = "0.1.0"
description = "Members only."

[room]
component = "chat_room.wasm"
capabilities = ["kv", "timers"]
require-account = true

[client]
component = "chat_client.wasm"
`);
  server.lodge("app", "push", dir);

  const guestPage = await newPage(browser);
  await guestPage.goto(`${server.url}/play/club/den`);
  await guestPage.getByLabel("Your name").fill("visitor");
  await guestPage.getByRole("button", { name: "Join" }).click();
  const overlay = guestPage.getByRole("alertdialog", { name: "Sign in to join" });
  await overlay.waitFor();
  await screenshot(guestPage, "accounts-sign-in-to-join");
  await overlay.getByRole("link", { name: "Sign in" }).click();
  await guestPage.waitForURL(/\/signin\?next=%2Fplay%2Fclub%2Fden$/);
  await guestPage.getByLabel("Username").fill("bob");
  await guestPage.getByLabel("Password").fill(PASSWORD);
  await guestPage.getByRole("button", { name: "Sign in" }).click();
  // Back in the room, as bob.
  await guestPage.waitForURL(/\/play\/club\/den$/);
  await guestPage.locator(".status.connected").waitFor();
  await guestPage.locator(".terminal").focus();
  await guestPage.keyboard.type("members only");
  await guestPage.keyboard.press("Enter");
  await waitForScreen(guestPage, "bob: members only");
});

test("the admin lists users, makes an invite link that signs a person up, and disables them", async () => {
  const invited = await Server.start({ args: ["--signup", "invite", "--admin-password", ADMIN_PASSWORD] });
  try {
    const errors = [];
    const admin = await newPage(browser, errors);
    // Without an invite, sign-up says what it needs.
    await admin.goto(`${invited.url}/signup`);
    await admin.getByLabel("Invite code").waitFor();

    await signIn(admin, invited.url, "admin", ADMIN_PASSWORD);
    await admin.getByRole("link", { name: "Admin", exact: true }).click();
    const first = admin.getByRole("table", { name: "Users" }).locator('[data-user="admin"]');
    await first.waitFor();
    // The first admin can't be disabled or deleted: the page doesn't offer it.
    await first.getByText("the first admin").waitFor();
    assert.equal(await first.getByRole("button").count(), 0);
    await admin.getByRole("button", { name: "Create an invite" }).click();
    const link = await admin.getByRole("textbox", { name: "Invite link" }).inputValue();
    assert.match(link, new RegExp(`^${invited.url}/signup#invite=[0-9a-f]{64}$`));

    // The link fills in the code.
    const newcomer = await newPage(browser, errors);
    await newcomer.goto(link);
    assert.equal(await newcomer.getByLabel("Invite code").inputValue(), link.split("#invite=")[1]);
    await newcomer.getByLabel("Username").fill("carol");
    await newcomer.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await newcomer.getByLabel("Password again").fill(PASSWORD);
    await newcomer.getByRole("button", { name: "Create account" }).click();
    await newcomer.getByRole("link", { name: "Signed in as carol" }).waitFor();
    // Not an admin: the page says so in the server's words.
    await newcomer.goto(`${invited.url}/admin`);
    await newcomer.getByText("only an admin may do this").waitFor();

    await admin.reload();
    const carol = admin.getByRole("table", { name: "Users" }).locator('[data-user="carol"]');
    await carol.waitFor();
    await carol.getByRole("button", { name: "Disable carol" }).click();
    await carol.getByRole("button", { name: "Enable carol" }).waitFor();
    assert.match(await carol.innerText(), /disabled/);
    // A lost password: the admin sets a new one (the page asks in a prompt).
    admin.once("dialog", (dialog) => dialog.accept("carol's new password"));
    await carol.getByRole("button", { name: "Set a new password for carol" }).click();
    await admin.getByRole("status").getByText("carol has a new password.").waitFor();
    await carol.getByRole("button", { name: "Enable carol" }).click();
    await carol.getByRole("button", { name: "Disable carol" }).waitFor();
    const signedIn = await fetch(`${invited.url}/api/session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "carol", password: "carol's new password" }),
    });
    assert.equal(signedIn.status, 200);
    await carol.getByRole("button", { name: "Make an admin: carol" }).click();
    await carol.getByRole("button", { name: "Make a user: carol" }).waitFor();
    await screenshot(admin, "accounts-admin");
    assert.deepEqual(errors, []);
  } finally {
    await invited.destroy();
  }
});

test("the setup link the server prints sets the first admin's password, once", async () => {
  const fresh = await Server.start();
  try {
    const [, link] = await fresh.printed(/set the admin's password \(once\) at (\S+)/);
    const page = await newPage(browser);
    await page.goto(link);
    await page.getByRole("heading", { name: "Set admin's password" }).waitFor();
    await page.getByLabel("Password", { exact: true }).fill(ADMIN_PASSWORD);
    await page.getByLabel("Password again").fill(ADMIN_PASSWORD);
    await page.getByRole("button", { name: "Set the password" }).click();
    await page.getByRole("heading", { name: "Admin", exact: true }).waitFor();
    await page.getByRole("link", { name: "Signed in as admin" }).waitFor();
    assert.equal(new URL(page.url()).hash, "");
    // The link is used up.
    const again = await newPage(browser);
    await again.goto(link);
    await again.getByText("The admin's password is already set.").waitFor();
  } finally {
    await fresh.destroy();
  }
});
