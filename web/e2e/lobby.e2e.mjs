#!/usr/bin/env node
// End-to-end test of the lobby against the real server binary and Debian's Chromium: a meeting
// created with "Let people in from a lobby"; a joiner waits (the waiting page) while the host is
// told (a toast, a badge, "Waiting (1)" in the list); admitted, both see each other's video; a
// third user is denied (the denied page), asks again, and is let in when the host turns the
// lobby off; a co-host's rights survive a reload (joined.you). The harness is e2e/harness.mjs.

import path from "node:path";
import { assert, createMeeting, log, newUser, poll, register, RESULTS_DIR, runSuite, step } from "./harness.mjs";

/** Registers `person` on `u`'s page, landing on `next`. */
async function signUp(u, base, person, next) {
  await u.page.goto(`${base}/login?next=${encodeURIComponent(next)}`);
  await register(u.page, person);
  await u.page.waitForURL(new RegExp(`${next.replace(/[/]/g, "\\/")}$`), { timeout: 10_000 });
}

function phaseOf(page) {
  return page.evaluate(() => window.__mm?.client.state.getSnapshot().phase);
}

function waitForPhase(u, phase, timeout = 15_000) {
  return poll(`${u.label} to be ${phase}`, async () => (await phaseOf(u.page)) === phase, { timeout });
}

/** Whether `name`'s camera tile plays frames on `page`. */
function tilePlays(page, name) {
  return page.evaluate((n) => {
    const v = document.querySelector(`.tile[data-source="camera"][aria-label="${n}"] video`);
    return !!v && v.videoWidth > 0;
  }, name);
}

/** The names in the host's "Waiting (N)" section, top to bottom. */
function waitingNames(page) {
  return page.locator('[data-testid="waiting-person"]').evaluateAll((rows) => rows.map((r) => r.getAttribute("data-name")));
}

await runSuite("lobby", async ({ base, browser, track }) => {
  const stamp = Date.now().toString(36);
  const hana = { name: "Hana Host", email: `hana-${stamp}@example.com`, password: "host password 1" };
  const pat = { name: "Pat Participant", email: `pat-${stamp}@example.com`, password: "guest password 2" };
  const lee = { name: "Lee Late", email: `lee-${stamp}@example.com`, password: "late password 3" };
  let A;
  let B;
  let C;
  let code;

  await step("the host creates a meeting with a lobby and joins it", async () => {
    A = await newUser(browser, "lobby-A");
    track(A);
    await signUp(A, base, hana, "/dashboard");
    code = await createMeeting(A.page, "Lobby standup", ["Let people in from a lobby"]);
    await A.page.goto(`${base}/meeting/${encodeURIComponent(code)}`);
    await A.page.getByRole("button", { name: "Join meeting" }).click();
    await waitForPhase(A, "joined");
    const info = await A.page.evaluate(() => window.__mm.client.state.getSnapshot().meeting);
    assert(info?.lobby === true, `the meeting's info: ${JSON.stringify(info)}`);
  });

  await step("a second user opens the link and waits; the host is told and sees “Waiting (1)” with the name", async () => {
    B = await newUser(browser, "lobby-B");
    track(B);
    await signUp(B, base, pat, `/meeting/${code}`);
    await B.page.getByRole("button", { name: "Join meeting" }).click();
    await B.page.getByRole("heading", { name: "Waiting for the host to let you in" }).waitFor({ timeout: 10_000 });
    await B.page.getByTestId("lobby-waiting").getByText("Lobby standup").waitFor({ timeout: 3000 });
    await B.page.getByRole("button", { name: "Cancel" }).waitFor({ timeout: 3000 });
    assert((await phaseOf(B.page)) === "waiting", "the waiter is not in the waiting phase");
    // Nothing of the meeting reaches a waiter.
    const seen = await B.page.evaluate(() => Object.keys(window.__mm.client.state.getSnapshot().participants).length);
    assert(seen === 0, `the waiter knows ${seen} participants`);
    await A.page.getByTestId("lobby-alert").getByText("Pat Participant is waiting to join").waitFor({ timeout: 10_000 });
    assert((await A.page.getByTestId("lobby-badge").textContent()) === "1", "no badge with 1 on the participants button");
    await A.page.getByTestId("lobby-alert").getByRole("button", { name: "View" }).click();
    await A.page.getByRole("heading", { name: "Waiting (1)" }).waitFor({ timeout: 3000 });
    const names = await waitingNames(A.page);
    assert(names.join(",") === "Pat Participant", `waiting: ${names.join(", ")}`);
    await A.page.getByRole("button", { name: "Turn off the lobby", pressed: true }).waitFor({ timeout: 3000 });
    await A.page.screenshot({ path: path.join(RESULTS_DIR, "lobby-host.png") });
    await B.page.screenshot({ path: path.join(RESULTS_DIR, "lobby-waiting.png") });
  });

  await step("the host admits them: they are in the meeting, and each plays the other's camera", async () => {
    await A.page.getByRole("button", { name: "Admit Pat Participant" }).click();
    await waitForPhase(B, "joined");
    await B.page.getByRole("toolbar", { name: "Meeting controls" }).waitFor({ timeout: 10_000 });
    await A.page.getByTestId("lobby-list").waitFor({ state: "detached", timeout: 5000 });
    await A.page.getByTestId("lobby-badge").waitFor({ state: "detached", timeout: 5000 });
    await A.page.locator('[data-testid="person"][data-name="Pat Participant"]').waitFor({ timeout: 10_000 });
    await poll("the host to play Pat's camera", () => tilePlays(A.page, "Pat Participant"), { timeout: 25_000 });
    await poll("Pat to play the host's camera", () => tilePlays(B.page, "Hana Host"), { timeout: 25_000 });
    log("admitted from the lobby: both play each other's camera");
  });

  await step("a third user waits and the host denies them: the denied page, with a way back", async () => {
    C = await newUser(browser, "lobby-C");
    track(C);
    await signUp(C, base, lee, `/meeting/${code}`);
    await C.page.getByRole("button", { name: "Join meeting" }).click();
    await C.page.getByRole("heading", { name: "Waiting for the host to let you in" }).waitFor({ timeout: 10_000 });
    await A.page.getByRole("heading", { name: "Waiting (1)" }).waitFor({ timeout: 10_000 });
    assert((await waitingNames(A.page)).join(",") === "Lee Late", "Lee is not the one waiting");
    await A.page.getByRole("button", { name: "Deny Lee Late" }).click();
    await C.page.getByRole("heading", { name: "You weren't let in" }).waitFor({ timeout: 10_000 });
    await C.page.getByRole("button", { name: "Ask to join again" }).waitFor({ timeout: 3000 });
    await C.page.getByRole("link", { name: "Back to dashboard" }).waitFor({ timeout: 3000 });
    await A.page.getByTestId("lobby-list").waitFor({ state: "detached", timeout: 5000 });
    const participants = await A.page.evaluate(() => Object.values(window.__mm.client.state.getSnapshot().participants).map((p) => p.name));
    assert(!participants.includes("Lee Late"), `the denied user is a participant: ${participants.join(", ")}`);
  });

  await step("the third asks again and waits; the host turns the lobby off and they are let in", async () => {
    await C.page.getByRole("button", { name: "Ask to join again" }).click();
    await C.page.getByRole("heading", { name: "Waiting for the host to let you in" }).waitFor({ timeout: 10_000 });
    await A.page.getByRole("heading", { name: "Waiting (1)" }).waitFor({ timeout: 10_000 });
    await A.page.getByRole("button", { name: "Turn off the lobby" }).click();
    await waitForPhase(C, "joined");
    await A.page.getByRole("button", { name: "Turn on the lobby", pressed: false }).waitFor({ timeout: 5000 });
    await A.page.locator('[data-testid="person"][data-name="Lee Late"]').waitFor({ timeout: 10_000 });
    await poll("everyone to see the lobby off", async () => {
      const off = await Promise.all([A, B, C].map((u) => u.page.evaluate(() => window.__mm.client.state.getSnapshot().meeting?.lobby === false)));
      return off.every(Boolean);
    }, { timeout: 5000 });
  });

  await step("a co-host's rights survive a reload (joined.you): the End button and the lobby toggle are back", async () => {
    await A.page.getByRole("button", { name: "Actions for Pat Participant" }).click();
    await A.page.getByRole("menuitem", { name: "Make co-host", exact: true }).click();
    await B.page.getByRole("button", { name: "End meeting for everyone" }).waitFor({ timeout: 5000 });
    await B.page.reload();
    await B.page.getByRole("button", { name: "Join meeting" }).click();
    await waitForPhase(B, "joined");
    const me = await B.page.evaluate(() => window.__mm.client.state.getSnapshot().me);
    assert(me?.is_cohost === true, `after the reload, me = ${JSON.stringify(me)}`);
    await B.page.getByRole("button", { name: "End meeting for everyone" }).waitFor({ timeout: 5000 });
    await B.page.getByRole("button", { name: /^Participants/ }).click();
    await B.page.getByTestId("lobby-toggle").waitFor({ timeout: 5000 });
    await B.page.locator('[data-testid="person"][data-name="Pat Participant"]').getByText("Co-host").waitFor({ timeout: 5000 });
  }, { critical: false });
});
