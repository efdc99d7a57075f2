#!/usr/bin/env node
// End-to-end test of "hosts in control" against the real server binary and Debian's Chromium:
// a raised hand in the host's list (raised hands first), locking the meeting against a third
// user and unlocking it, muting a participant (its microphone track goes off locally), asking it
// to unmute (it decides), co-host rights, reactions both ways, and removing it with a ban (the
// removed page, no reconnection, refused when it comes back). The harness is e2e/harness.mjs.

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

async function joinNow(u) {
  await u.page.getByRole("button", { name: "Join meeting" }).click();
  await poll(`${u.label} to be joined`, async () => (await phaseOf(u.page)) === "joined", { timeout: 15_000 });
}

/** The participant list's rows, top to bottom, by name. */
function listedNames(page) {
  return page.locator('[data-testid="person"]').evaluateAll((rows) => rows.map((r) => r.getAttribute("data-name")));
}

/** Opens the host actions menu on `name`'s row and picks `item`. */
async function hostAction(page, name, item) {
  await page.getByRole("button", { name: `Actions for ${name}` }).click();
  const menu = page.getByRole("menu", { name: `Actions for ${name}` });
  await menu.waitFor({ timeout: 3000 });
  await menu.getByRole("menuitem", { name: item, exact: true }).click();
  await menu.waitFor({ state: "detached", timeout: 3000 });
}

await runSuite("host", async ({ base, browser, track }) => {
  const stamp = Date.now().toString(36);
  const hana = { name: "Hana Host", email: `hana-${stamp}@example.com`, password: "host password 1" };
  const pat = { name: "Pat Participant", email: `pat-${stamp}@example.com`, password: "guest password 2" };
  const lee = { name: "Lee Late", email: `lee-${stamp}@example.com`, password: "late password 3" };
  let A;
  let B;
  let C;
  let code;

  await step("the host creates a meeting and both join", async () => {
    A = await newUser(browser, "host-A");
    track(A);
    await signUp(A, base, hana, "/dashboard");
    code = await createMeeting(A.page, "Hosts in control");
    await A.page.goto(`${base}/meeting/${encodeURIComponent(code)}`);
    await joinNow(A);
    B = await newUser(browser, "host-B");
    track(B);
    await signUp(B, base, pat, `/meeting/${code}`);
    await joinNow(B);
    await A.page.getByRole("button", { name: /^Participants/ }).click();
    await A.page.locator('[data-testid="person"][data-name="Pat Participant"]').waitFor({ timeout: 10_000 });
  });

  await step("the participant raises a hand: the host sees it, first in the list", async () => {
    await B.page.getByRole("button", { name: "Raise hand" }).click();
    await B.page.getByRole("button", { name: "Lower hand", pressed: true }).waitFor({ timeout: 5000 });
    await A.page.locator('[data-testid="person"][data-name="Pat Participant"][data-hand-raised="true"]').getByRole("img", { name: "Hand raised" }).waitFor({ timeout: 5000 });
    await A.page.locator('.tile[aria-label="Pat Participant"]').getByRole("img", { name: "Hand raised" }).waitFor({ timeout: 5000 });
    const names = await listedNames(A.page);
    assert(names[0] === "Pat Participant", `the host's list starts with ${names[0]} (${names.join(", ")})`);
  });

  await step("the host locks the meeting: everyone sees it, and a third user is refused", async () => {
    await A.page.getByRole("button", { name: "Lock meeting", exact: true }).click();
    await A.page.getByRole("button", { name: "Unlock meeting", pressed: true }).waitFor({ timeout: 5000 });
    await B.page.getByTestId("locked-badge").waitFor({ timeout: 5000 });
    C = await newUser(browser, "host-C");
    track(C);
    await signUp(C, base, lee, `/meeting/${code}`);
    await C.page.getByRole("button", { name: "Join meeting" }).click();
    await C.page.getByRole("heading", { name: "This meeting is locked" }).waitFor({ timeout: 10_000 });
    await C.page.getByRole("button", { name: "Try again" }).waitFor({ timeout: 3000 });
    assert((await phaseOf(C.page)) === "failed", "the refused join is not a failure");
  });

  await step("the host unlocks; Try again gets the third user in, and its raised hand queues after the first", async () => {
    await A.page.getByRole("button", { name: "Unlock meeting" }).click();
    await B.page.getByTestId("locked-badge").waitFor({ state: "detached", timeout: 5000 });
    await C.page.getByRole("button", { name: "Try again" }).click();
    await poll("Lee to be joined", async () => (await phaseOf(C.page)) === "joined", { timeout: 15_000 });
    await C.page.getByRole("button", { name: "Raise hand" }).click();
    await poll("the host's list to be Pat, Lee (hands up, in order), then the host", async () => {
      const names = await listedNames(A.page);
      return names.join(",") === "Pat Participant,Lee Late,Hana Host" ? names : null;
    }, { timeout: 5000 });
    await C.page.getByRole("button", { name: "Leave meeting" }).click();
    await C.page.getByRole("heading", { name: "You left the meeting" }).waitFor({ timeout: 5000 });
    await C.context.close();
    await A.page.locator('[data-testid="person"][data-name="Lee Late"]').waitFor({ state: "detached", timeout: 10_000 });
  });

  await step("the host lowers the participant's hand", async () => {
    await hostAction(A.page, "Pat Participant", "Lower hand");
    await B.page.getByRole("button", { name: "Raise hand", pressed: false }).waitFor({ timeout: 5000 });
    await A.page.locator('[data-testid="person"][data-name="Pat Participant"][data-hand-raised="false"]').waitFor({ timeout: 5000 });
  });

  await step("the host mutes the participant's microphone: muted there too, told by whom, its track off", async () => {
    await hostAction(A.page, "Pat Participant", "Mute microphone");
    await B.page.getByRole("button", { name: /^Unmute microphone/ }).waitFor({ timeout: 5000 });
    await B.page.getByTestId("notice").getByText("Hana Host muted your microphone").waitFor({ timeout: 5000 });
    const local = await B.page.evaluate(() => {
      const c = window.__mm.client;
      const sender = c.pub.pc.getSenders().find((s) => s.track?.kind === "audio");
      return { audioMuted: c.local.getSnapshot().audioMuted, trackEnabled: c.local.getSnapshot().audioTrack?.enabled ?? null, senderEnabled: sender?.track?.enabled ?? null };
    });
    assert(local.audioMuted && local.trackEnabled === false && local.senderEnabled === false, `the participant's microphone: ${JSON.stringify(local)}`);
    await A.page.locator('[data-testid="person"][data-name="Pat Participant"][data-audio-muted="true"]').waitFor({ timeout: 5000 });
  });

  await step("asked to unmute, the participant decides: the prompt, Unmute, and the host sees it on", async () => {
    await hostAction(A.page, "Pat Participant", "Ask to unmute");
    const prompt = B.page.getByTestId("unmute-request");
    await prompt.getByText("Hana Host asks you to turn on your microphone").waitFor({ timeout: 5000 });
    assert(await B.page.getByRole("button", { name: /^Unmute microphone/ }).isVisible(), "the microphone came on before the participant agreed");
    await prompt.getByRole("button", { name: "Unmute", exact: true }).click();
    await prompt.waitFor({ state: "detached", timeout: 3000 });
    await B.page.getByRole("button", { name: /^Mute microphone/ }).waitFor({ timeout: 5000 });
    await A.page.locator('[data-testid="person"][data-name="Pat Participant"][data-audio-muted="false"]').waitFor({ timeout: 5000 });
  });

  await step("a reaction shows over the sender's tile on both sides", async () => {
    await B.page.getByRole("button", { name: "Reactions" }).click();
    await B.page.getByRole("button", { name: "React 🎉" }).click();
    await A.page.locator('.tile[aria-label="Pat Participant"] [data-testid="reaction"][data-emoji="🎉"]').waitFor({ timeout: 5000 });
    await B.page.locator('.tile[data-participant-id="self"][data-source="camera"] [data-testid="reaction"][data-emoji="🎉"]').waitFor({ timeout: 5000 });
    await B.page.keyboard.press("Escape");
    await A.page.getByRole("button", { name: "Reactions" }).click();
    await A.page.getByRole("button", { name: "React 👍" }).click();
    await B.page.locator('.tile[aria-label="Hana Host"] [data-testid="reaction"][data-emoji="👍"]').waitFor({ timeout: 5000 });
    await A.page.keyboard.press("Escape");
  }, { critical: false });

  await step("co-host rights: granted (the participant may lock and end), then taken back", async () => {
    await hostAction(A.page, "Pat Participant", "Make co-host");
    await A.page.locator('[data-testid="person"][data-name="Pat Participant"]').getByText("Co-host").waitFor({ timeout: 5000 });
    await B.page.getByRole("button", { name: "End meeting for everyone" }).waitFor({ timeout: 5000 });
    await B.page.getByRole("button", { name: /^Participants/ }).click();
    await B.page.getByRole("button", { name: "Lock meeting", exact: true }).waitFor({ timeout: 5000 });
    await B.page.locator('[data-testid="person"][data-name="Pat Participant"]').getByText("Co-host").waitFor({ timeout: 5000 });
    // A co-host gets no actions on the host.
    assert((await B.page.getByRole("button", { name: "Actions for Hana Host" }).count()) === 0, "a co-host is offered actions on the host");
    await hostAction(A.page, "Pat Participant", "Remove co-host");
    await B.page.getByRole("button", { name: "End meeting for everyone" }).waitFor({ state: "detached", timeout: 5000 });
    await B.page.getByRole("button", { name: "Lock meeting", exact: true }).waitFor({ state: "detached", timeout: 5000 });
  }, { critical: false });

  await step("screenshot of the host's list with its menu", async () => {
    await A.page.getByRole("button", { name: "Actions for Pat Participant" }).click();
    await A.page.getByRole("menu").waitFor({ timeout: 3000 });
    await A.page.screenshot({ path: path.join(RESULTS_DIR, "host-menu.png") });
    await A.page.keyboard.press("Escape");
    await A.page.getByRole("menu").waitFor({ state: "detached", timeout: 3000 });
  }, { critical: false });

  await step("the host removes the participant and keeps them out: the removed page, no reconnection", async () => {
    await hostAction(A.page, "Pat Participant", "Remove and keep out");
    const dialog = A.page.getByRole("dialog", { name: "Remove Pat Participant from the meeting?" });
    await dialog.waitFor({ timeout: 3000 });
    await dialog.getByRole("button", { name: "Remove and keep out" }).click();
    await B.page.getByRole("heading", { name: "You were removed from the meeting" }).waitFor({ timeout: 10_000 });
    await B.page.getByText("Hana Host removed you. You can't rejoin this meeting.").waitFor({ timeout: 3000 });
    assert((await B.page.getByRole("button", { name: "Join again" }).count()) === 0, "a banned participant is offered to join again");
    await A.page.locator('[data-testid="person"][data-name="Pat Participant"]').waitFor({ state: "detached", timeout: 10_000 });
    // Not reconnecting: the signaling connection is closed with no retry pending, the devices released.
    const after = await B.page.evaluate(() => {
      const c = window.__mm.client;
      const sig = c.signaling;
      const l = c.local.getSnapshot();
      return { phase: c.state.getSnapshot().phase, status: sig.state.getSnapshot().status, retry: sig.retryTimer, socket: !!sig.socket, tracks: [l.audioTrack, l.videoTrack].filter(Boolean).length };
    });
    assert(after.phase === "removed" && after.status === "closed" && after.retry === null && !after.socket && after.tracks === 0, `after the removal: ${JSON.stringify(after)}`);
    const hostSees = await A.page.evaluate(() => Object.values(window.__mm.client.state.getSnapshot().participants).map((p) => p.name));
    assert(!hostSees.includes("Pat Participant"), `the host still has ${hostSees.join(", ")}`);
  });

  await step("the removed participant who comes back is refused", async () => {
    await B.page.goto(`${base}/meeting/${encodeURIComponent(code)}`);
    await B.page.getByRole("button", { name: "Join meeting" }).click();
    await B.page.getByRole("heading", { name: "You can't rejoin this meeting" }).waitFor({ timeout: 10_000 });
    assert((await phaseOf(B.page)) === "failed", "the banned join is not a failure");
    log("the banned user was refused");
  }, { critical: false });
});
