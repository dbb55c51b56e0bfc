// Shared by the browser tests: real `lodge serve` processes on loopback,
// the real CLI, and Debian's chromium driven by playwright-core.

import { spawn, execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join as joinPath, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const TOKEN = "browser-test-token";
export const ARTIFACTS = joinPath(ROOT, "tests/artifacts/browser");
mkdirSync(ARTIFACTS, { recursive: true });

const TARGET = process.env.CARGO_TARGET_DIR ?? joinPath(ROOT, "target");
export const LODGE = process.env.LODGE_BIN ?? joinPath(TARGET, "debug/lodge");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

const children = new Set();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

/** A running `lodge serve` with its own data directory. */
export class Server {
  static async start({ data, listen = "127.0.0.1:0", args = [] } = {}) {
    const dir = data ?? mkdtempSync(joinPath(tmpdir(), "lodge-browser-"));
    const child = spawn(LODGE, ["serve", "--listen", listen, "--data", dir, ...args], {
      env: { ...process.env, LODGE_TOKEN: TOKEN, RUST_LOG: "warn" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.add(child);
    const output = { text: "" };
    child.stdout.on("data", (chunk) => (output.text += chunk));
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("lodge serve did not print its address within 30 s")), 30_000);
      child.stdout.on("data", () => {
        const match = output.text.match(/lodge listening on (\S+)/);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.on("exit", (code) => reject(new Error(`lodge serve exited with ${code}`)));
    });
    return new Server(child, url, dir, output);
  }

  constructor(child, url, data, output) {
    this.child = child;
    this.url = url;
    this.data = data;
    /** Everything the server printed on stdout so far. */
    this.output = output;
  }

  /** Waits until the server has printed a line matching `pattern`; returns the match. */
  async printed(pattern, timeout = 10_000) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const match = this.output.text.match(pattern);
      if (match) return match;
      if (Date.now() > deadline) throw new Error(`lodge serve never printed ${pattern}; it printed:\n${this.output.text}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Runs the CLI against this server; returns stdout. */
  lodge(...args) {
    return execFileSync(LODGE, args, {
      env: { ...process.env, LODGE_SERVER: this.url, LODGE_TOKEN: TOKEN },
      encoding: "utf8",
    });
  }

  push(dir) {
    return this.lodge("app", "push", joinPath(ROOT, dir));
  }

  /** Stops the server (SIGTERM: members are told it is shutting down). */
  async stop() {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill("SIGTERM");
    await exited;
    children.delete(this.child);
  }

  async destroy() {
    await this.stop();
    rmSync(this.data, { recursive: true, force: true });
  }
}

/**
 * Writes an app directory holding `manifest` and the guest components it
 * names (`component = "bad_client.wasm"`), copied from tests/guests.
 */
export function appDir(manifest) {
  const dir = mkdtempSync(joinPath(tmpdir(), "lodge-app-"));
  writeFileSync(joinPath(dir, "lodge.toml"), manifest);
  for (const [, file] of manifest.matchAll(/component = "([^"]+)"/g)) {
    copyFileSync(joinPath(GUESTS, file), joinPath(dir, file));
  }
  return dir;
}

/** Guest components, built by scripts/test from tests/guests. */
const GUESTS = joinPath(ROOT, "tests/guests/target/wasm32-wasip2/release");

/** The file name of a guest component, for a manifest made by `appDir`. */
export function guest(name) {
  return `${name}.wasm`;
}

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
}

/** A new page that fails the test on uncaught page errors and content security policy violations. */
export async function newPage(browser, errors = []) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 720 } });
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`));
  });
  const page = await context.newPage();
  page.on("pageerror", (e) => errors.push(e));
  page.on("console", (m) => m.text().startsWith("CSP violation") && errors.push(new Error(m.text())));
  return page;
}

export async function screenshot(page, name) {
  await page.screenshot({ path: joinPath(ARTIFACTS, `${name}.png`) });
}

/** The runner's terminal text (what a screen reader reads). */
export function screen(page) {
  return page.locator(".terminal").innerText();
}

/** Waits until the terminal shows `pattern`. */
export async function waitForScreen(page, pattern, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  let text = "";
  while (Date.now() < deadline) {
    text = await screen(page).catch(() => "");
    if (typeof pattern === "string" ? text.includes(pattern) : pattern.test(text)) return text;
    await page.waitForTimeout(50);
  }
  throw new Error(`the screen never showed ${pattern}; it shows:\n${text}`);
}

/** Opens /play/APP/ROOM, enters a display name and waits for the connection. */
export async function join(page, server, app, room, name) {
  await page.goto(`${server.url}/play/${app}/${room}`);
  await page.getByLabel("Your name").fill(name);
  await page.getByRole("button", { name: "Join" }).click();
  await page.locator(".status.connected").waitFor();
  await page.locator(".terminal").focus();
}

/**
 * The screen as shown: a screenshot of the canvas (what the person sees,
 * after scaling), decoded in the page and sampled at the centre of each
 * screen pixel. Returns {width, height, scale, pixel(x, y) → [r, g, b]}.
 */
export async function readScreen(page, { width, height }) {
  const canvas = page.locator(".screen canvas");
  const png = await canvas.screenshot();
  const { data, shotW, shotH } = await page.evaluate(async ({ base64, width, height }) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/png" }));
    const scratch = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = scratch.getContext("2d");
    context.drawImage(bitmap, 0, 0);
    const all = context.getImageData(0, 0, bitmap.width, bitmap.height).data;
    const sx = bitmap.width / width;
    const sy = bitmap.height / height;
    const out = [];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = (Math.floor((y + 0.5) * sy) * bitmap.width + Math.floor((x + 0.5) * sx)) * 4;
        out.push(all[i], all[i + 1], all[i + 2]);
      }
    }
    return { data: out, shotW: bitmap.width, shotH: bitmap.height };
  }, { base64: png.toString("base64"), width, height });
  return { shotW, shotH, pixel: (x, y) => data.slice((y * width + x) * 3, (y * width + x) * 3 + 3) };
}
