#!/usr/bin/env node
// End-to-end test of a meeting larger than one grid page: one Chromium participant and a crowd
// of 17 publishing headless participants (`bench crowd`, webrtc-rs). What it checks is what the
// server sends: only the cameras on the page shown are received (a tile on another page costs
// nothing), turning the page swaps which are received, and a speaker from the second page moves
// onto the first page and is received there. The harness is e2e/harness.mjs.
//
// Env: MM_BENCH_BIN (default ../target/debug/bench, relative to web/), MM_CROWD (the crowd's
// size, default 17; `MM_CROWD=50` is the 50-person measurement in docs/benchmarks.md).

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { assert, createMeeting, log, newUser, poll, register, runSuite, step } from "./harness.mjs";

const WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BENCH_BIN = path.resolve(WEB_DIR, process.env.MM_BENCH_BIN ?? "../target/debug/bench");
/** A grid page holds 16 tiles; the default crowd puts exactly one camera on page 2. */
const PAGE = 16;
const CROWD = Number(process.env.MM_CROWD ?? 17);

/** Starts `bench crowd` and resolves with the process and its ready line. */
function startCrowd(base, code) {
  assert(existsSync(BENCH_BIN), `bench binary not found at ${BENCH_BIN} (set MM_BENCH_BIN, or cargo build --bin bench)`);
  const proc = spawn(BENCH_BIN, ["--threads", "1", "crowd", "--server", base, "--meeting", code, "--participants", String(CROWD)], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  proc.stderr.on("data", (d) => (stderr = (stderr + d.toString()).slice(-4000)));
  const lines = [];
  let buf = "";
  proc.stdout.on("data", (d) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      lines.push(JSON.parse(buf.slice(0, nl)));
      buf = buf.slice(nl + 1);
    }
  });
  const ready = new Promise((resolve, reject) => {
    const limit = 30 + 3 * CROWD;
    const timer = setTimeout(() => reject(new Error(`bench crowd not ready within ${limit} s\n${stderr}`)), limit * 1000);
    const check = setInterval(() => {
      const r = lines.find((l) => l.ready);
      if (r) {
        clearTimeout(timer);
        clearInterval(check);
        resolve(r.ready);
      }
    }, 100);
    proc.on("exit", (code) => {
      clearTimeout(timer);
      clearInterval(check);
      reject(new Error(`bench crowd exited (code ${code})\n${stderr}`));
    });
  });
  return { proc, ready, lines, say: (line) => proc.stdin.write(`${line}\n`) };
}

/** Remote camera participant ids on the grid page shown. */
function onPage(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('.video-grid .tile[data-source="camera"]')]
      .map((t) => t.getAttribute("data-participant-id"))
      .filter((id) => id !== "self")
      .map(Number),
  );
}

/** Video packets received so far, per remote participant. */
function videoPackets(page) {
  return page.evaluate(async () => {
    const s = await window.__mm.client.getStatsSummary();
    const out = {};
    for (const r of s.subscribe) {
      if (r.kind !== "video" || r.participant_id === null) continue;
      out[r.participant_id] = (out[r.participant_id] ?? 0) + (r.packetsReceived ?? 0);
    }
    return out;
  });
}

/**
 * Polls until, over a 2 s window, video arrives from every id in `shown` and from none of
 * `hidden`: the server follows the page (track_settings) once it settles. Returns the window.
 */
async function receivingExactly(page, what, shown, hidden) {
  return poll(
    what,
    async () => {
      const a = await videoPackets(page);
      await new Promise((r) => setTimeout(r, 2000));
      const b = await videoPackets(page);
      const grew = (id) => (b[id] ?? 0) - (a[id] ?? 0);
      const ok = shown.every((id) => grew(id) > 0) && hidden.every((id) => grew(id) === 0);
      return ok ? Object.fromEntries([...shown, ...hidden].map((id) => [id, grew(id)])) : null;
    },
    { timeout: 30_000, interval: 500 },
  );
}

await runSuite("crowd", async ({ base, browser, track }) => {
  const stamp = Date.now().toString(36);
  let A;
  let code;
  let crowd;
  let ids;

  try {
    await step(`one person and a crowd of ${CROWD} headless publishers meet`, async () => {
      A = await newUser(browser, "crowd-A");
      track(A);
      await A.page.goto(`${base}/login?next=%2Fdashboard`);
      await register(A.page, { name: "Ada Host", email: `crowd-${stamp}@example.com`, password: "long enough password" });
      await A.page.waitForURL(/\/dashboard$/, { timeout: 10_000 });
      code = await createMeeting(A.page, "Crowd");
      await A.page.goto(`${base}/meeting/${encodeURIComponent(code)}`);
      await A.page.getByRole("button", { name: "Join meeting" }).click();
      await poll("Ada to be joined", () => A.page.evaluate(() => window.__mm?.client.state.getSnapshot().phase === "joined"), { timeout: 15_000 });
      crowd = startCrowd(base, code);
      const ready = await crowd.ready;
      ids = ready.participants;
      assert(ids.length === CROWD && ids.every((id) => typeof id === "number"), `crowd ids ${JSON.stringify(ids)}`);
      await poll(`Ada to see ${CROWD} others`, async () => (await A.page.evaluate(() => window.__mm.client.state.getSnapshot().order.length)) === CROWD, {
        timeout: 30_000,
      });
    });

    let first;
    const pages = Math.ceil(CROWD / PAGE);
    await step(`the grid has ${pages} pages; only the first page's cameras are received`, async () => {
      await poll(`a pager showing 1 / ${pages}`, async () => (await A.page.locator(".pager span").textContent().catch(() => null))?.trim() === `1 / ${pages}`, {
        timeout: 15_000,
      });
      first = await onPage(A.page);
      assert(first.length === PAGE, `${PAGE} cameras on page 1, got ${first.length}`);
      const rest = ids.filter((id) => !first.includes(id));
      assert(rest.length === CROWD - PAGE, `${CROWD - PAGE} cameras off page 1, got ${rest.length}`);
      const w = await receivingExactly(A.page, "video from page 1 only", first, rest);
      log(`packets in 2 s per participant: ${JSON.stringify(w)}`);
    });

    await step("turning the page: page 2's cameras are received and page 1's stop", async () => {
      const before = await videoPackets(A.page);
      const clicked = Date.now();
      await A.page.getByRole("button", { name: "Next page" }).click();
      const shown = await poll("the second page's tiles", async () => {
        const p = await onPage(A.page);
        return p.length === Math.min(PAGE, CROWD - PAGE) && p.every((id) => !first.includes(id)) ? p : null;
      });
      const rendered = Date.now() - clicked;
      await poll("video from every tile of page 2", async () => {
        const now = await videoPackets(A.page);
        return shown.every((id) => (now[id] ?? 0) > (before[id] ?? 0));
      }, { timeout: 20_000, interval: 50 });
      log(`page turn with ${CROWD} in the meeting: tiles in ${rendered} ms, video from all ${shown.length} in ${Date.now() - clicked} ms`);
      const rest = ids.filter((id) => !shown.includes(id));
      await receivingExactly(A.page, "video from page 2 only", shown, rest);
      await A.page.getByRole("button", { name: "Previous page" }).click();
      await poll("page 1 again", async () => (await onPage(A.page)).length === PAGE);
    });

    await step("the page stays responsive: few long tasks, a virtualised participant list", async () => {
      // Main-thread tasks over 50 ms in a 5 s steady window (the Long Tasks API).
      assert(await A.page.evaluate(() => PerformanceObserver.supportedEntryTypes.includes("longtask")), "this Chromium reports long tasks");
      const longTasks = await A.page.evaluate(
        () =>
          new Promise((resolve) => {
            const tasks = [];
            const obs = new PerformanceObserver((list) => tasks.push(...list.getEntries().map((e) => e.duration)));
            obs.observe({ type: "longtask" });
            setTimeout(() => {
              obs.disconnect();
              resolve(tasks);
            }, 5000);
          }),
      );
      const opened = Date.now();
      await A.page.getByRole("button", { name: /^Participants/ }).click();
      const list = A.page.locator("ul.people");
      await list.waitFor({ timeout: 5000 });
      const openMs = Date.now() - opened;
      const { rendered, capacity } = await list.evaluate((el) => ({
        rendered: Number(el.getAttribute("data-rendered-rows")),
        // What rowWindow may render: the rows that fit (48 px each) plus one, and 4 of overscan below.
        capacity: Math.ceil(el.clientHeight / 48) + 1 + 4,
      }));
      log(
        `${CROWD + 1} people: ${longTasks.length} long tasks in 5 s (longest ${Math.round(Math.max(0, ...longTasks))} ms, ` +
          `${Math.round(longTasks.reduce((a, b) => a + b, 0))} ms in all); participant list open in ${openMs} ms, ${rendered} rows rendered`,
      );
      assert(rendered > 0 && rendered <= Math.min(CROWD + 1, capacity), `the list renders ${rendered} rows of ${CROWD + 1} (at most ${capacity} fit)`);
      await A.page.getByRole("button", { name: "Close participants" }).click();
    });

    await step("a speaker on page 2 moves onto page 1 and is received there", async () => {
      const before = await onPage(A.page);
      const speakerIndex = ids.findIndex((id) => !before.includes(id));
      const speaker = ids[speakerIndex];
      crowd.say(`speak ${speakerIndex + 1}`);
      const after = await poll(`participant ${speaker} on page 1`, async () => {
        const p = await onPage(A.page);
        return p.includes(speaker) && p.length === PAGE ? p : null;
      }, { timeout: 20_000 });
      const movedOff = before.filter((id) => !after.includes(id));
      assert(movedOff.length === 1, `exactly one tile left page 1 for the speaker, got ${JSON.stringify(movedOff)}`);
      await receivingExactly(A.page, "the speaker's video, not the tile it replaced", [speaker], movedOff);
    });
  } finally {
    if (crowd) {
      crowd.proc.stdin.end();
      await new Promise((r) => {
        const t = setTimeout(() => {
          crowd.proc.kill("SIGKILL");
          r();
        }, 15_000);
        crowd.proc.on("exit", () => {
          clearTimeout(t);
          r();
        });
        if (crowd.proc.exitCode !== null) r();
      });
    }
  }
});
