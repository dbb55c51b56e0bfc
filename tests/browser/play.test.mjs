// Playing: client parts in the page, connected to their rooms.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join as joinPath } from "node:path";
import { ROOT, Server, appDir, guest, join, launch, newPage, screen, screenshot, waitForScreen } from "./support.mjs";

let server;
let browser;

before(async () => {
  server = await Server.start();
  for (const app of ["chat", "tic-tac-toe"]) server.push(`examples/${app}`);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.destroy();
});

/** The board as nine characters (X, O or .) read from the screen. */
async function board(page) {
  const rows = (await screen(page)).split("\n");
  const marks = [];
  for (const row of rows) {
    // Board rows with marks look like "   X   │   O   │       ".
    if (!row.includes("│")) continue;
    const cells = row.split("│");
    if (cells.length !== 3) continue;
    const line = cells.map((c) => c.trim() || ".");
    if (cells.every((c) => c.trim().length <= 1)) marks.push(line);
  }
  // Each board row is three text rows; the middle one holds the marks.
  const middle = [];
  for (let i = 1; i < marks.length; i += 3) middle.push(...marks[i]);
  return middle.join("");
}

test("two pages play tic-tac-toe through the lobby; one reloads mid-game and keeps its seat", async () => {
  const errors = [];
  const ada = await newPage(browser, errors);
  const bob = await newPage(browser, errors);
  await join(ada, server, "tic-tac-toe", "final", "ada");
  await waitForScreen(ada, "Waiting for a second player");
  // The room waits in its lobby; ada, its first player, is the host.
  const adaPanel = ada.getByRole("region", { name: "Room" });
  await adaPanel.getByText("Waiting to start").waitFor();
  await join(bob, server, "tic-tac-toe", "final", "bob");
  await waitForScreen(ada, "the host starts the game");
  const bobPanel = bob.getByRole("region", { name: "Room" });
  await bobPanel.getByText("ada starts the game").waitFor();
  assert.equal(await bobPanel.getByRole("button", { name: "Start the game" }).count(), 0, "only the host starts");
  await screenshot(ada, "tic-tac-toe-lobby");
  await adaPanel.getByRole("button", { name: "Start the game" }).click();
  await ada.locator(".terminal").focus();
  await waitForScreen(ada, "Your turn (X)");
  await waitForScreen(bob, "ada's turn (X)");
  await bobPanel.getByText("Playing").waitFor();
  assert.match(await screen(bob), /You are bob \(O\)/);

  // X plays the top row; O plays the middle row. Keys, arrows and the mouse.
  await ada.keyboard.press("1"); // cell 0
  await waitForScreen(bob, "Your turn (O)");
  assert.equal(await board(bob), "X........");
  await bob.keyboard.press("4"); // cell 3
  await waitForScreen(ada, "Your turn (X)");
  assert.equal(await board(ada), "X..O.....");

  // bob reloads the page mid-game: same tab, same seat, same mark, the
  // board as it was; nobody forfeits.
  await bob.reload();
  await bob.locator(".status.connected").waitFor();
  await waitForScreen(bob, "You are bob (O)");
  await waitForScreen(bob, "ada's turn (X)");
  assert.equal(await board(bob), "X..O.....");
  assert.doesNotMatch(await screen(ada), /wins/);
  await bob.locator(".terminal").focus();

  // ada's cursor is on the cell she played (0): right one (cell 1), Enter.
  await ada.keyboard.press("ArrowRight");
  await ada.keyboard.press("Enter");
  await waitForScreen(bob, "Your turn (O)");
  assert.equal(await board(bob), "XX.O.....");

  // bob clicks the centre cell of the board.
  const box = await bob.locator(".terminal").boundingBox();
  await bob.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await waitForScreen(ada, "Your turn (X)");
  assert.equal(await board(ada), "XX.OO....");

  await ada.keyboard.press("3");
  await waitForScreen(ada, "You win!");
  await waitForScreen(bob, "ada (X) wins.");
  assert.equal(await board(bob), "XXXOO....");
  await screenshot(ada, "tic-tac-toe-winner");
  await screenshot(bob, "tic-tac-toe-loser");

  // A third person joining now watches.
  const cat = await newPage(browser, errors);
  await join(cat, server, "tic-tac-toe", "final", "cat");
  await waitForScreen(cat, "ada (X) wins");
  assert.match(await screen(cat), /You are cat \(watching\)/);
  assert.equal(await board(cat), "XXXOO....");
  await cat.getByRole("region", { name: "Room" }).getByText("watching").first().waitFor();
  assert.deepEqual(errors, []);
});

test("a dropped connection shows that it is reconnecting, then plays on", async () => {
  const errors = [];
  const page = await newPage(browser, errors);
  await join(page, server, "tic-tac-toe", "drops", "dee");
  await waitForScreen(page, "Waiting for a second player");
  // The server goes away for this member (1001): the page says it is
  // reconnecting, and comes back by itself.
  server.lodge("rooms", "stop", "tic-tac-toe", "drops");
  await page.getByRole("alertdialog").getByText("Reconnecting").waitFor();
  await page.locator(".status.connected").waitFor();
  await waitForScreen(page, "You are dee (X)");
  assert.deepEqual(errors, []);
});

test("two pages chat, each seeing the other's lines with names", async () => {
  const ada = await newPage(browser);
  const bob = await newPage(browser);
  await join(ada, server, "chat", "tea", "ada");
  await join(bob, server, "chat", "tea", "bob");
  await waitForScreen(ada, "* bob joined");
  await ada.keyboard.type("hello bob");
  await waitForScreen(ada, "> hello bob");
  await ada.keyboard.press("Enter");
  await waitForScreen(bob, "ada: hello bob");
  await bob.keyboard.type("hi ada!");
  await bob.keyboard.press("Enter");
  await waitForScreen(ada, "bob: hi ada!");
  await screenshot(ada, "chat");
  // A third page joining later gets the history.
  const cy = await newPage(browser);
  await join(cy, server, "chat", "tea", "cy");
  const text = await waitForScreen(cy, "bob: hi ada!");
  assert.match(text, /ada: hello bob/);
});

test("an app with only a room part gets the generic text client", async () => {
  const dir = appDir(`[app]
name = "echo"
version = "0.1.0"
description = "Room only."

[room]
component = "${guest("readme_echo")}"
capabilities = ["kv"]
`);
  server.lodge("app", "push", dir);
  const page = await newPage(browser);
  await page.goto(`${server.url}/play/echo/one`);
  await page.getByLabel("Your name").fill("ada");
  await page.getByRole("button", { name: "Join" }).click();
  const log = page.getByRole("log", { name: "Messages" });
  await log.getByText("ada is here").waitFor();
  await page.getByRole("textbox", { name: "Message" }).fill("ping");
  await page.getByRole("button", { name: "Send" }).click();
  await log.getByText("ping", { exact: true }).waitFor();
});

test("an app with only a client part runs without a server", async () => {
  const dir = appDir(`[app]
name = "solo"
version = "0.1.0"
description = "Client only."

[client]
component = "${guest("bad_client")}"
`);
  server.lodge("app", "push", dir);
  const page = await newPage(browser);
  await page.goto(`${server.url}/play/solo`);
  await page.getByLabel("Your name").fill("ada");
  await page.getByRole("button", { name: "Play" }).click();
  await waitForScreen(page, "ready: ada (no room)");
  await page.locator(".terminal").press("x");
  await waitForScreen(page, "key 1: x");
});

test("the client in the SDK README works as written: timers, keys, the room", async () => {
  const readme = readFileSync(joinPath(ROOT, "sdk/rust-client/README.md"), "utf8");
  const example = readme.split("```rust\n")[1].split("```")[0];
  const source = readFileSync(joinPath(ROOT, "tests/guests/readme-client/src/lib.rs"), "utf8");
  assert.equal(example, source, "tests/guests/readme-client must be the README's client");

  server.lodge("app", "push", appDir(`[app]
name = "hello"
version = "0.1.0"
description = "Says hello."

[room]
component = "${guest("readme_echo")}"
capabilities = ["kv"]

[client]
component = "${guest("readme_client")}"
`));
  const page = await newPage(browser);
  await join(page, server, "hello", "lobby", "ada");
  await waitForScreen(page, "hello, ada");
  await waitForScreen(page, "room: ada is here");
  await waitForScreen(page, "2 s");
  await page.keyboard.press("Enter");
  await waitForScreen(page, "room: hi");
  assert.match(await screen(page), /key: Enter/);
});

test("frame ticks arrive while asked for, and resizes reach the client", async () => {
  server.lodge("app", "push", appDir(`[app]
name = "frames"
version = "0.1.0"
description = "Ticks."

[client]
component = "${guest("bad_client")}"
`));
  const page = await newPage(browser);
  await page.goto(`${server.url}/play/frames`);
  await page.getByLabel("Your name").fill("ada");
  await page.getByRole("button", { name: "Play" }).click();
  await waitForScreen(page, "ready: ada");
  await page.locator(".terminal").press("t");
  await waitForScreen(page, /ticks: (1\d|[2-9]\d|\d{3,})/);
  await page.locator(".terminal").press("T");
  await page.waitForTimeout(200); // ticks already on their way still arrive
  const stopped = (await screen(page)).match(/ticks: (\d+)/)[1];
  await page.waitForTimeout(300);
  assert.equal((await screen(page)).match(/ticks: (\d+)/)[1], stopped, "no ticks after turning them off");

  await page.setViewportSize({ width: 600, height: 500 });
  const text = await waitForScreen(page, /size: \d+x\d+/);
  const [, cols, rows] = text.match(/size: (\d+)x(\d+)/);
  assert.ok(Number(cols) < 80 && Number(rows) >= 8, `${cols}x${rows}`);
  // A/A+ makes the text larger: fewer cells fit.
  await page.getByRole("button", { name: "Larger text" }).click();
  await page.getByRole("button", { name: "Larger text" }).click();
  await waitForScreen(page, new RegExp(`size: (?!${cols}x)\\d+x\\d+`));
});
