// The end-to-end tests' harness: steps and polling, the server binary on loopback with SQLite,
// Debian's Chromium with fake devices and a fake screen capture, and helpers that read the
// client's state and WebRTC stats through its debug hook (window.__mm).
//
// Env: MM_SERVER_BIN (default ../target/debug/mini-meeting, relative to web/), MM_CHROMIUM
// (default /usr/bin/chromium), MM_E2E_KEEP=1 keeps the temporary data directory.

import { spawn } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SERVER_BIN = path.resolve(WEB_DIR, process.env.MM_SERVER_BIN ?? "../target/debug/mini-meeting");
const DIST_DIR = path.join(WEB_DIR, "dist");
const CHROMIUM = process.env.MM_CHROMIUM ?? "/usr/bin/chromium";
export const RESULTS_DIR = path.join(WEB_DIR, "test-results");
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--use-fake-ui-for-media-stream",
  "--use-fake-device-for-media-stream",
  "--allow-loopback-in-peer-connection",
];

// ------------------------------------------------------------------ tiny test harness

const results = [];
let blocked = null; // name of the failed step that later steps depend on

export function log(...args) {
  console.log(`[e2e ${new Date().toISOString().slice(11, 23)}]`, ...args);
}

/** Run one check. A failed `critical` step makes the following steps skip. */
export async function step(name, fn, { critical = true } = {}) {
  if (blocked) {
    results.push({ name, status: "skipped" });
    log(`SKIP  ${name} (needs: ${blocked})`);
    return;
  }
  const t0 = Date.now();
  try {
    await fn();
    results.push({ name, status: "passed" });
    log(`PASS  ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push({ name, status: "failed", error: e });
    log(`FAIL  ${name} (${Date.now() - t0} ms)\n      ${String(e?.stack ?? e).split("\n").slice(0, 6).join("\n      ")}`);
    if (critical) blocked = name;
  }
}

/** Poll `fn` until it returns a truthy value or the deadline passes. */
export async function poll(what, fn, { timeout = 15_000, interval = 250 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  let lastErr;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      lastErr = e;
    }
    await new Promise((r) => setTimeout(r, interval));
  }
  throw new Error(
    `timed out after ${timeout} ms waiting for ${what}` +
      (lastErr ? ` (last error: ${lastErr.message ?? lastErr})` : "") +
      (last !== undefined ? ` (last value: ${JSON.stringify(last)})` : ""),
  );
}

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}

// ------------------------------------------------------------------ server

export async function startServer(tmp, logName = "server", extraEnv = {}) {
  if (!existsSync(SERVER_BIN)) throw new Error(`server binary not found at ${SERVER_BIN} (set MM_SERVER_BIN, or cargo build)`);
  if (!existsSync(path.join(DIST_DIR, "index.html"))) throw new Error(`${DIST_DIR}/index.html missing: run "npm run build" first`);
  const logFile = createWriteStream(path.join(RESULTS_DIR, `${logName}.log`));
  const proc = spawn(SERVER_BIN, [], {
    cwd: tmp,
    env: {
      ...process.env,
      HTTP_ADDR: "127.0.0.1:0",
      DATABASE_URL: `sqlite:${path.join(tmp, "mm.db")}`,
      DATA_DIR: tmp,
      WEB_DIR: DIST_DIR,
      SFU_UDP_ADDR: "127.0.0.1:0",
      SFU_PUBLIC_IPS: "127.0.0.1",
      SFU_ALLOWED_NETWORKS: "127.0.0.0/8,::1/128",
      RUST_LOG: process.env.RUST_LOG ?? "info",
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderrTail = "";
  proc.stderr.on("data", (d) => {
    logFile.write(d);
    stderrTail = (stderrTail + d.toString()).slice(-4000);
  });
  const url = await new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error(`server did not print "listening on http://..." within 30 s\n${stderrTail}`)), 30_000);
    proc.stdout.on("data", (d) => {
      logFile.write(d);
      buf += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (code ${code}, signal ${signal})\n${stderrTail}`));
    });
    proc.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  return { proc, url, logFile };
}

export async function stopServer(server) {
  if (!server?.proc || server.proc.exitCode !== null || server.proc.signalCode !== null) return;
  const exited = new Promise((r) => server.proc.once("exit", r));
  server.proc.kill("SIGTERM");
  const done = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 5000))]);
  if (!done) {
    log("server did not stop on SIGTERM within 5 s: SIGKILL");
    server.proc.kill("SIGKILL");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
  }
}

// ------------------------------------------------------------------ browser helpers

/** Runs in every page before its scripts: debug hook on, and a fake screen capture (canvas). */
export function initScript() {
  try {
    localStorage.setItem("mm.debug", "1");
  } catch {
    /* about:blank */
  }
  if (!navigator.mediaDevices) return;
  navigator.mediaDevices.getDisplayMedia = async () => {
    const canvas = document.createElement("canvas");
    canvas.width = 1280;
    canvas.height = 720;
    const ctx = canvas.getContext("2d");
    let n = 0;
    const draw = () => {
      ctx.fillStyle = `hsl(${(n * 7) % 360} 55% 35%)`;
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.fillStyle = "#fff";
      ctx.font = "bold 72px sans-serif";
      ctx.fillText(`Shared screen ${n++}`, 80, 380);
    };
    draw();
    const timer = setInterval(draw, 66);
    const stream = canvas.captureStream(15);
    stream.getVideoTracks()[0].addEventListener("ended", () => clearInterval(timer));
    return stream;
  };
}

export async function newUser(browser, label) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(initScript);
  const page = await context.newPage();
  const consoleLog = createWriteStream(path.join(RESULTS_DIR, `console-${label}.log`));
  page.on("console", (m) => consoleLog.write(`[${m.type()}] ${m.text()}\n`));
  page.on("pageerror", (e) => consoleLog.write(`[pageerror] ${e.stack ?? e}\n`));
  return { context, page, label, consoleLog };
}

export async function register(page, { name, email, password }) {
  const tab = page.getByRole("tab", { name: "Create account" });
  await tab.waitFor({ timeout: 10_000 });
  await tab.click();
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
}

/**
 * On the dashboard: creates a meeting titled `title`, ticking the option checkboxes named in
 * `options` (their accessible names), and returns its code.
 */
export async function createMeeting(page, title, options = []) {
  await page.getByRole("textbox", { name: "Meeting title" }).fill(title);
  for (const name of options) await page.getByRole("checkbox", { name }).check();
  await page.getByRole("button", { name: "Create meeting" }).click();
  const created = page.getByTestId("created-meeting");
  await created.waitFor({ timeout: 10_000 });
  const code = await created.getAttribute("data-code");
  assert(code, "created meeting has no code");
  return code;
}

/** Size of the first playing remote camera video, or null. */
export function remoteVideoSize(page, source = "camera") {
  return page.evaluate((src) => {
    const vids = [...document.querySelectorAll(`[data-source="${src}"]:not([data-participant-id="self"]) video`)];
    const v = vids.find((x) => x.videoWidth > 0);
    return v ? { w: v.videoWidth, h: v.videoHeight } : null;
  }, source);
}

/** Received video stats of one source, summed over the subscribe connection. */
export async function inboundVideo(page, source) {
  return page.evaluate(async (src) => {
    const mm = window.__mm;
    if (!mm) throw new Error("window.__mm is missing (debug hook off?)");
    const s = await mm.client.getStatsSummary();
    const rows = s.subscribe.filter((r) => r.kind === "video" && (src === null || r.source === src));
    return {
      rows: rows.length,
      framesDecoded: rows.reduce((a, r) => a + (r.framesDecoded ?? 0), 0),
      bytesReceived: rows.reduce((a, r) => a + (r.bytesReceived ?? 0), 0),
      peers: s.peers,
    };
  }, source);
}

// ------------------------------------------------------------------ a suite

/**
 * Runs `body({ base, browser, track })` against a fresh server (SQLite in a temporary
 * directory) and one Chromium, always cleaning both up; `track(user)` closes a user's console
 * log at the end. Prints "N passed, M failed[, K skipped]" last and exits non-zero on any
 * failure or skip.
 */
export async function runSuite(name, body, { serverEnv = {} } = {}) {
  let fatal = null;
  await mkdir(RESULTS_DIR, { recursive: true });
  const tmp = await mkdtemp(path.join(os.tmpdir(), `mm-${name}-`));
  let server = null;
  let browser = null;
  const users = [];
  const cleanup = async () => {
    for (const u of users) u.consoleLog.end();
    if (browser) await browser.close().catch(() => undefined);
    browser = null;
    await stopServer(server);
    server?.logFile.end();
    if (!process.env.MM_E2E_KEEP) await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
  };
  const onSignal = async () => {
    log("interrupted: cleaning up");
    await cleanup();
    process.exit(130);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    let base;
    await step("server starts and prints its URL", async () => {
      server = await startServer(tmp, `server-${name}`, serverEnv);
      base = server.url;
      log(`server at ${base}`);
    });
    await step("Chromium starts", async () => {
      assert(existsSync(CHROMIUM), `${CHROMIUM} not found (apt-get install -y chromium)`);
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
    });
    if (!blocked) await body({ base, browser, track: (u) => users.push(u) });
  } catch (e) {
    fatal = e;
    log(`fatal: ${e?.stack ?? e}`);
  } finally {
    await cleanup();
  }
  const passed = results.filter((r) => r.status === "passed").length;
  const failed = results.filter((r) => r.status === "failed").length + (fatal ? 1 : 0);
  const skipped = results.filter((r) => r.status === "skipped").length;
  for (const r of results.filter((x) => x.status === "failed")) log(`failed: ${r.name}: ${r.error?.message ?? r.error}`);
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
  process.exit(failed > 0 || skipped > 0 ? 1 : 0);
}
