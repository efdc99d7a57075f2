#!/usr/bin/env node
// End-to-end test of the large-meeting layouts with four Chromium participants (fake camera
// at 1280x720, published as three simulcast layers): the grid with its self-view and centred
// last row, the speaker view, the presentation layout while a screen is shared, and which
// simulcast layer each tile receives (frameHeight from getStats). Screenshots of each layout
// and of a paused tile go to test-results/; a hidden tab must stop receiving video. The harness is e2e/harness.mjs.

import path from "node:path";
import { assert, createMeeting, log, newUser, poll, register, RESULTS_DIR, runSuite, step } from "./harness.mjs";

/** The subscribe connection's received video, per row: source, participant, frameHeight. */
function receivedVideo(page) {
  return page.evaluate(async () => {
    const s = await window.__mm.client.getStatsSummary();
    return s.subscribe
      .filter((r) => r.kind === "video" && r.participant_id !== null && (r.bytesReceived ?? 0) > 0)
      .map((r) => ({ source: r.source, participant: r.participant_id, height: r.frameHeight ?? 0 }));
  });
}

/** Polls until `check(rows)` holds for the received video; returns the rows. */
async function receivedSatisfies(page, what, check, timeout = 25_000) {
  return poll(what, async () => {
    const rows = await receivedVideo(page);
    return check(rows) ? rows : null;
  }, { timeout, interval: 500 });
}

await runSuite("layouts", async ({ base, browser, track }) => {
  const stamp = Date.now().toString(36);
  const people = ["Ada Host", "Ben", "Cleo", "Dev"].map((name, i) => ({
    name,
    email: `layout-${i}-${stamp}@example.com`,
    password: `long enough password ${i}`,
  }));
  const users = [];
  let code;

  await step("four people join one meeting (the first is told it is alone until the second comes)", async () => {
    for (const [i, person] of people.entries()) {
      const u = await newUser(browser, `L${i}`);
      track(u);
      users.push(u);
      if (i === 0) {
        await u.page.goto(`${base}/login?next=%2Fdashboard`);
        await register(u.page, person);
        await u.page.waitForURL(/\/dashboard$/, { timeout: 10_000 });
        code = await createMeeting(u.page, "Layouts");
        await u.page.goto(`${base}/meeting/${encodeURIComponent(code)}`);
      } else {
        await u.page.goto(`${base}/login?next=${encodeURIComponent(`/meeting/${code}`)}`);
        await register(u.page, person);
        await u.page.waitForURL(new RegExp(`/meeting/${code}$`), { timeout: 10_000 });
      }
      await u.page.getByRole("button", { name: "Join meeting" }).click();
      await poll(`${person.name} to be joined`, () => u.page.evaluate(() => window.__mm?.client.state.getSnapshot().phase === "joined"), { timeout: 15_000 });
      // The first one in is told so, with the link; it goes as soon as someone else is there.
      if (i === 0) {
        await u.page.getByTestId("alone-panel").waitFor({ timeout: 5000 });
        const link = await u.page.getByRole("textbox", { name: "Meeting link" }).inputValue();
        assert(link.endsWith(`/meeting/${code}`), `alone panel link ${link}`);
      }
      if (i === 1) await users[0].page.getByTestId("alone-panel").waitFor({ state: "detached", timeout: 10_000 });
    }
    for (const u of users) {
      await poll(`${u.label} to see three others`, () => u.page.evaluate(() => window.__mm.client.state.getSnapshot().order.length === 3));
    }
  });

  const [A, B] = users;

  await step("the grid shows the others, centres the last row, and puts you in a self-view", async () => {
    await poll("three remote tiles in B's grid and B's own camera in the corner", () =>
      B.page.evaluate(() => {
        const grid = document.querySelector(".video-grid");
        const inGrid = grid ? grid.querySelectorAll('.tile[data-source="camera"]:not([data-participant-id="self"])').length : 0;
        const selfInGrid = grid?.querySelector('[data-participant-id="self"]');
        const selfView = document.querySelector('[data-testid="self-view"] [data-participant-id="self"]');
        return inGrid === 3 && !selfInGrid && !!selfView;
      }),
    );
    const rows = await B.page.evaluate(() => {
      const grid = document.querySelector(".video-grid").getBoundingClientRect();
      const tiles = [...document.querySelectorAll(".video-grid > .tile")].map((t) => t.getBoundingClientRect());
      const lastTop = Math.max(...tiles.map((t) => Math.round(t.top)));
      const last = tiles.filter((t) => Math.round(t.top) === lastTop);
      const left = Math.min(...last.map((t) => t.left));
      const right = Math.max(...last.map((t) => t.right));
      return { gridMid: (grid.left + grid.right) / 2, lastMid: (left + right) / 2, lastCount: last.length, total: tiles.length };
    });
    log(`grid: ${rows.total} tiles, last row ${rows.lastCount}, centre ${rows.lastMid.toFixed(0)} vs ${rows.gridMid.toFixed(0)}`);
    assert(Math.abs(rows.lastMid - rows.gridMid) < 2, `last row not centred: ${JSON.stringify(rows)}`);
    await B.page.screenshot({ path: path.join(RESULTS_DIR, "layout-grid.png") });
  });

  await step("the controls' middle group is centred for the host (with End) and for others alike", async () => {
    const middle = (page) =>
      page.evaluate(() => {
        const groups = document.querySelectorAll('[role="toolbar"][aria-label="Meeting controls"] > .controls-group');
        const r = groups[1].getBoundingClientRect();
        const unlabelled = [...document.querySelectorAll('[role="toolbar"] button')].filter((b) => !b.getAttribute("aria-label") || !b.getAttribute("title")).length;
        return { mid: (r.left + r.right) / 2, width: window.innerWidth, unlabelled };
      });
    const host = await middle(A.page);
    const guest = await middle(B.page);
    assert(await A.page.getByRole("button", { name: "End meeting for everyone" }).isVisible(), "the host has End");
    assert(!(await B.page.getByRole("button", { name: "End meeting for everyone" }).count()), "a guest has no End");
    assert(Math.abs(host.mid - host.width / 2) < 2 && Math.abs(guest.mid - guest.width / 2) < 2, `middle groups at ${host.mid} and ${guest.mid}`);
    assert(host.unlabelled === 0 && guest.unlabelled === 0, `controls without a label and tooltip: ${host.unlabelled}, ${guest.unlabelled}`);
  }, { critical: false });

  await step("every camera tile shows its connection quality", async () => {
    const grades = await poll("quality on B's remote tiles", () =>
      B.page.evaluate(() => {
        const q = [...document.querySelectorAll('.video-grid [data-source="camera"] [data-quality]')].map((e) => e.getAttribute("data-quality"));
        return q.length === 3 ? q : null;
      }),
    );
    log(`B grades the others: ${grades.join(", ")}`);
    // Nobody is reconnecting; the grade itself follows the machine's load (a starved 2-core
    // machine shows real jitter), and its thresholds are unit-tested.
    assert(grades.every((g) => ["excellent", "good", "poor"].includes(g)), `grades: ${grades}`);
  }, { critical: false });

  await step("speaker view: the main tile receives the high layer, thumbnails the low one", async () => {
    await B.page.getByRole("button", { name: "Switch to speaker view" }).click();
    await B.page.locator('[data-layout="speaker"]').waitFor({ timeout: 5000 });
    // The main tile gets a large layer: 720 unless the publisher's encoder has shed its top
    // layer for CPU (Chromium does under load, as on a busy 2-core CI machine), then 360.
    const rows = await receivedSatisfies(B.page, "a large main camera and two 180p thumbnails at B", (rows) => {
      const heights = rows.filter((r) => r.source === "camera").map((r) => r.height).sort((a, b) => a - b);
      return heights.length === 3 && heights[0] === 180 && heights[1] === 180 && heights[2] >= 360;
    });
    log(`B receives ${JSON.stringify(rows)}`);
    await B.page.screenshot({ path: path.join(RESULTS_DIR, "layout-speaker.png") });
  }, { critical: false });

  await step("a screen share switches everyone to the presentation layout: the share large, cameras small", async () => {
    await A.page.getByRole("button", { name: "Share screen" }).click();
    for (const u of users) await u.page.locator('[data-layout="presentation"]').waitFor({ timeout: 15_000 });
    const rows = await receivedSatisfies(B.page, "the screen at 720 and the cameras at 180 at B", (rows) => {
      const screen = rows.filter((r) => r.source === "screen_share");
      const cams = rows.filter((r) => r.source === "camera");
      return screen.length === 1 && screen[0].height === 720 && cams.length === 3 && cams.every((c) => c.height === 180);
    });
    log(`B receives ${JSON.stringify(rows)}`);
    await B.page.screenshot({ path: path.join(RESULTS_DIR, "layout-presentation.png") });
    await A.page.getByRole("button", { name: "Stop sharing screen" }).click();
    await B.page.locator('[data-layout="speaker"]').waitFor({ timeout: 15_000 });
  }, { critical: false });

  await step("a hidden tab receives no video until it is shown again", async () => {
    const videoBytes = async () => (await B.page.evaluate(async () => (await window.__mm.client.getStatsSummary()).subscribe))
      .filter((r) => r.kind === "video")
      .reduce((a, r) => a + (r.bytesReceived ?? 0), 0);
    const setHidden = (hidden) =>
      B.page.evaluate((h) => {
        Object.defineProperty(document, "visibilityState", { configurable: true, get: () => (h ? "hidden" : "visible") });
        document.dispatchEvent(new Event("visibilitychange"));
      }, hidden);
    await setHidden(true);
    // Once the server has applied track_settings (debounced 250 ms), video stops: the byte
    // count holds still over a whole second.
    const still = await poll("B's video bytes to stop growing", async () => {
      const before = await videoBytes();
      await new Promise((r) => setTimeout(r, 1000));
      const after = await videoBytes();
      return after - before < 2000 ? { before, after } : null;
    }, { timeout: 10_000, interval: 100 });
    log(`hidden: video bytes ${still.before} -> ${still.after}`);
    await setHidden(false);
    const again = await poll("B's video bytes to grow again", async () => {
      const before = await videoBytes();
      await new Promise((r) => setTimeout(r, 1000));
      const after = await videoBytes();
      return after - before > 20_000 ? after - before : null;
    }, { timeout: 10_000, interval: 100 });
    log(`shown again: ${again} video bytes in 1 s`);
  }, { critical: false });

  await step("a tile paused for bandwidth says so (track_state delivered to the client)", async () => {
    // Pausing for real needs a downlink the browser cannot be shaped to here, so the server's
    // message is handed to the client as the socket would: this checks what the tile shows.
    const trackId = await B.page.evaluate(() => {
      const st = window.__mm.client.state.getSnapshot();
      const other = Object.values(st.participants).find((p) => p.name === "Cleo");
      const video = other.tracks.find((t) => t.source === "camera");
      window.__mm.client.handleMessage({ type: "track_state", track_id: video.track_id, state: "paused_bandwidth" });
      return video.track_id;
    });
    await B.page.locator('[data-notice="paused_bandwidth"]').first().waitFor({ timeout: 5000 });
    const quality = await poll("Cleo graded poor", () =>
      B.page.evaluate(() => document.querySelector('[aria-label="Cleo"] [data-quality]')?.getAttribute("data-quality") === "poor"),
      { timeout: 20000 },
    );
    assert(quality, "quality");
    log(`paused ${trackId}`);
    await B.page.screenshot({ path: path.join(RESULTS_DIR, "layout-paused-tile.png") });
  }, { critical: false });
});
