// The canvas benchmark of issue 11 (figures, not a test): in headless
// Chromium, a Lodge client (tests/guests/bench-screen) redrawing a full
// 320×180 RGBA frame every display frame for 10 s, beside a plain
// JavaScript page doing the same drawing in the same run. Prints frames per
// second, the p95 frame interval and the browser's CPU (all its processes:
// seconds of CPU per second of wall time) for each.
//
//   node tests/browser/bench-canvas.mjs [--busy MS] [--runs N]
//
// --busy makes the Lodge client work MS milliseconds before drawing each
// frame (the plain page stays idle: it shows what the page costs around a
// busy guest). Needs the debug `lodge` (LODGE_BIN) and the test guests built
// (scripts/test builds both).

import { readFileSync, readdirSync } from "node:fs";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { Server, appDir, guest } from "./support.mjs";

const { values: options } = parseArgs({
  options: { busy: { type: "string", default: "0" }, runs: { type: "string", default: "2" } },
});
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const TICK = 100; // clock ticks per second in /proc/*/stat

/** CPU seconds used so far by `pid` and every process under it. */
function treeCpu(pid) {
  const children = new Map();
  let total = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ppid = Number(fields[1]);
      const cpu = (Number(fields[11]) + Number(fields[12])) / TICK;
      children.set(Number(entry), { ppid, cpu });
    } catch {
      // The process ended while being read.
    }
  }
  const walk = (p) => {
    total += children.get(p)?.cpu ?? 0;
    for (const [child, info] of children) if (info.ppid === p) walk(child);
  };
  walk(pid);
  return total;
}

/** Runs `body(page)` in a fresh browser, measuring its processes' CPU over `body`. */
async function measured(body) {
  const server = await chromium.launchServer({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required"],
  });
  const browser = await chromium.connect(server.wsEndpoint());
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 720 } });
    const pid = server.process().pid;
    let cpuStart = 0;
    let wallStart = 0;
    const result = await body(page, () => {
      cpuStart = treeCpu(pid);
      wallStart = performance.now();
    });
    const cpu = (treeCpu(pid) - cpuStart) / ((performance.now() - wallStart) / 1000);
    return { ...result, cpu };
  } finally {
    await browser.close();
    await server.close();
  }
}

/** The Lodge client: its own figures come back as a console line. */
async function lodgeRun(lodge, busy) {
  return measured(async (page, start) => {
    await page.goto(`${lodge.url}/play/bench/busy-${busy}`);
    await page.getByLabel("Your name").fill("bench");
    await page.getByRole("button", { name: "Join" }).click();
    await page.locator(".stage canvas").waitFor();
    start();
    const line = page.locator(".console li", { hasText: "bench: frames=" });
    await line.waitFor({ state: "attached", timeout: 30_000 });
    const text = await line.textContent();
    const [, frames, fps, p95, dropped] = text.match(/frames=(\d+) fps=([\d.]+) p95=([\d.]+)ms dropped=(\d+)/);
    return { frames: Number(frames), fps: Number(fps), p95: Number(p95), dropped: Number(dropped) };
  });
}

/** The same drawing in a plain page: main-thread rAF, ImageData, putImageData, scaled ×3. */
async function plainRun() {
  return measured(async (page, start) => {
    await page.setContent(`<canvas width="320" height="180" style="width:960px;height:540px;image-rendering:pixelated"></canvas>`);
    start();
    return page.evaluate(() => new Promise((resolve) => {
      const canvas = document.querySelector("canvas");
      const context = canvas.getContext("2d");
      const image = new ImageData(320, 180);
      const px = image.data;
      const intervals = [];
      let first = null;
      let last = null;
      const frame = (now) => {
        const t = Math.floor(now / 16);
        for (let i = 0; i < 320 * 180; i++) {
          const x = i % 320;
          const y = (i / 320) | 0;
          px[i * 4] = (x + t) & 255;
          px[i * 4 + 1] = (y + t) & 255;
          px[i * 4 + 2] = (x ^ y) & 255;
          px[i * 4 + 3] = 255;
        }
        context.putImageData(image, 0, 0);
        first ??= now;
        if (last !== null) intervals.push(now - last);
        last = now;
        if (now - first >= 10_000) {
          intervals.sort((a, b) => a - b);
          const p95 = intervals[Math.min(intervals.length - 1, Math.floor(intervals.length * 0.95))];
          return resolve({ frames: intervals.length + 1, fps: intervals.length / ((now - first) / 1000), p95, dropped: 0 });
        }
        requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
    }));
  });
}

const lodge = await Server.start();
lodge.lodge("app", "push", appDir(`[app]
name = "bench"
version = "0.1.0"
description = "The canvas benchmark's client."

[room]
component = "${guest("readme_echo")}"
capabilities = ["kv"]

[client]
component = "${guest("bench_screen")}"
capabilities = ["screen"]
`));
const rows = [];
try {
  for (let run = 1; run <= Number(options.runs); run++) {
    rows.push({ target: `lodge (busy ${options.busy} ms)`, run, ...(await lodgeRun(lodge, options.busy)) });
    rows.push({ target: "plain page", run, ...(await plainRun()) });
  }
} finally {
  await lodge.destroy();
}
console.log("target                 run  frames    fps  p95 ms  dropped  CPU (cores)");
for (const r of rows) {
  console.log(`${r.target.padEnd(22)} ${String(r.run).padStart(3)} ${String(r.frames).padStart(7)} ${r.fps.toFixed(1).padStart(6)} ${r.p95.toFixed(1).padStart(7)} ${String(r.dropped).padStart(8)} ${r.cpu.toFixed(2).padStart(12)}`);
}
const mean = (target) => {
  const runs = rows.filter((r) => r.target === target);
  return { fps: runs.reduce((a, r) => a + r.fps, 0) / runs.length, cpu: runs.reduce((a, r) => a + r.cpu, 0) / runs.length };
};
const [lodgeMean, plainMean] = [mean(rows[0].target), mean("plain page")];
console.log(`mean: lodge ${lodgeMean.fps.toFixed(1)} fps at ${lodgeMean.cpu.toFixed(3)} cores; plain ${plainMean.fps.toFixed(1)} fps at ${plainMean.cpu.toFixed(3)} cores; CPU ratio ${(lodgeMean.cpu / plainMean.cpu).toFixed(2)}×`);
