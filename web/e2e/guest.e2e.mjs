#!/usr/bin/env node
// End-to-end test of guests against the real server binary and Debian's Chromium: a host creates
// a meeting with "Let people join without an account (guests)"; someone with no account opens
// the link, joins as a guest with a name, goes through the pre-join to the waiting page; the host
// admits her from the lobby list; both play each other's camera and she shows a "Guest" badge;
// her token is refused by the REST API (401) and the user session is untouched; leaving offers
// "Join again as a guest"; a meeting without guests says it needs an account. The harness is
// e2e/harness.mjs.

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

/** Opens the sign-in page from a meeting link, picks "Join as a guest" and sends `name`. */
async function joinAsGuest(u, base, code, name) {
  await u.page.goto(`${base}/meeting/${encodeURIComponent(code)}`);
  await u.page.waitForURL(/\/login\?next=/, { timeout: 10_000 });
  await u.page.getByRole("tab", { name: "Join as a guest" }).click();
  await u.page.getByLabel("Your name").fill(name);
  await u.page.getByRole("button", { name: "Join as a guest" }).click();
}

await runSuite("guest", async ({ base, browser, track }) => {
  const stamp = Date.now().toString(36);
  const hana = { name: "Hana Host", email: `hana-${stamp}@example.com`, password: "host password 1" };
  let A;
  let G;
  let code;
  let guestToken;

  await step("the host creates a meeting that lets guests in and joins it", async () => {
    A = await newUser(browser, "guest-A");
    track(A);
    await signUp(A, base, hana, "/dashboard");
    code = await createMeeting(A.page, "Open house", ["Let people join without an account (guests)"]);
    await A.page.goto(`${base}/meeting/${encodeURIComponent(code)}`);
    await A.page.getByRole("button", { name: "Join meeting" }).click();
    await waitForPhase(A, "joined");
    const info = await A.page.evaluate(() => window.__mm.client.state.getSnapshot().meeting);
    assert(info?.allow_guests === true, `the meeting's info: ${JSON.stringify(info)}`);
  });

  await step("someone without an account opens the link, joins as guest “Grace”, and waits", async () => {
    G = await newUser(browser, "guest-G");
    track(G);
    await joinAsGuest(G, base, code, "Grace");
    await G.page.waitForURL(new RegExp(`/meeting/${code}$`), { timeout: 10_000 });
    // The pre-join (device choices), then the waiting page.
    await G.page.getByRole("button", { name: "Join meeting" }).click();
    await G.page.getByRole("heading", { name: "Waiting for the host to let you in" }).waitFor({ timeout: 10_000 });
    await G.page.getByTestId("lobby-waiting").getByText("Open house").waitFor({ timeout: 3000 });
    assert((await phaseOf(G.page)) === "waiting", "the guest is not in the waiting phase");
    const stored = await G.page.evaluate((c) => ({ user: localStorage.getItem("mm.session"), guest: sessionStorage.getItem(`mm.guest.${c}`) }), code);
    assert(stored.user === null, `a user session was stored for the guest: ${stored.user}`);
    const grant = JSON.parse(stored.guest ?? "null");
    assert(grant?.access_token && grant.user?.name === "Grace", `the guest grant: ${stored.guest}`);
    guestToken = grant.access_token;
    await G.page.screenshot({ path: path.join(RESULTS_DIR, "guest-waiting.png") });
  });

  await step("the host admits Grace from the lobby list; both play each other's camera; Grace shows a Guest badge", async () => {
    await A.page.getByTestId("lobby-alert").getByText("Grace is waiting to join").waitFor({ timeout: 10_000 });
    await A.page.getByTestId("lobby-alert").getByRole("button", { name: "View" }).click();
    await A.page.getByRole("heading", { name: "Waiting (1)" }).waitFor({ timeout: 3000 });
    await A.page.getByRole("button", { name: "Admit Grace" }).click();
    await waitForPhase(G, "joined");
    await G.page.getByRole("toolbar", { name: "Meeting controls" }).waitFor({ timeout: 10_000 });
    const row = A.page.locator('[data-testid="person"][data-name="Grace"]');
    await row.waitFor({ timeout: 10_000 });
    await row.getByTestId("guest-badge").waitFor({ timeout: 3000 });
    await A.page.locator('.tile[data-source="camera"][aria-label="Grace"]').getByTestId("guest-badge").waitFor({ timeout: 5000 });
    const hostRow = A.page.locator('[data-testid="person"][data-name="Hana Host"]');
    assert((await hostRow.getByTestId("guest-badge").count()) === 0, "the host has a Guest badge");
    await poll("the host to play Grace's camera", () => tilePlays(A.page, "Grace"), { timeout: 25_000 });
    await poll("Grace to play the host's camera", () => tilePlays(G.page, "Hana Host"), { timeout: 25_000 });
    // Grace's own tile and row say Guest too.
    await G.page.locator('.tile[data-participant-id="self"]').getByTestId("guest-badge").waitFor({ timeout: 5000 });
    const me = await G.page.evaluate(() => window.__mm.client.state.getSnapshot().me);
    assert(me?.is_guest === true, `the guest's own info: ${JSON.stringify(me)}`);
    await A.page.screenshot({ path: path.join(RESULTS_DIR, "guest-host.png") });
    log("guest admitted: both play each other's camera");
  });

  await step("the guest token gets 401 from the REST API (fetch in the guest's page)", async () => {
    const statuses = await G.page.evaluate(
      async ({ c, t }) => {
        const h = { Authorization: `Bearer ${t}` };
        const a = await fetch(`/api/meetings/${encodeURIComponent(c)}`, { headers: h });
        const b = await fetch("/api/users/me", { headers: h });
        const d = await fetch("/api/meetings", { method: "POST", headers: { ...h, "Content-Type": "application/json" }, body: JSON.stringify({ title: "x" }) });
        return [a.status, b.status, d.status];
      },
      { c: code, t: guestToken },
    );
    assert(statuses.every((s) => s === 401), `REST with the guest token answered ${statuses.join(", ")}`);
  });

  await step("the host's “Allow guests” toggle shows the meeting's setting and switches it for everyone", async () => {
    const toggle = A.page.getByRole("button", { name: "Allow guests" });
    await toggle.waitFor({ timeout: 5000 });
    assert((await toggle.getAttribute("aria-pressed")) === "true", "the toggle is not pressed in a meeting that allows guests");
    assert((await G.page.getByRole("button", { name: "Allow guests" }).count()) === 0, "the guest has the host's toggle");
    await toggle.click();
    await poll("everyone to see guests off", async () => {
      const off = await Promise.all([A, G].map((u) => u.page.evaluate(() => window.__mm.client.state.getSnapshot().meeting?.allow_guests === false)));
      return off.every(Boolean);
    }, { timeout: 5000 });
    await A.page.getByRole("button", { name: "Allow guests", pressed: false }).waitFor({ timeout: 3000 });
    // Guests already in stay.
    assert((await phaseOf(G.page)) === "joined", "the guest was dropped when guests were turned off");
    await A.page.getByRole("button", { name: "Allow guests" }).click();
    await A.page.getByRole("button", { name: "Allow guests", pressed: true }).waitFor({ timeout: 3000 });
  }, { critical: false });

  await step("the guest leaves: “Join again as a guest”, not the dashboard, back to the form with her name", async () => {
    await G.page.getByRole("button", { name: "Leave meeting" }).click();
    await G.page.getByRole("heading", { name: "You left the meeting" }).waitFor({ timeout: 10_000 });
    assert((await G.page.getByRole("link", { name: "Back to dashboard" }).count()) === 0, "a guest is offered the dashboard");
    await G.page.getByRole("link", { name: "Join again as a guest" }).click();
    await G.page.waitForURL(/\/login\?next=.*guest=1/, { timeout: 10_000 });
    await G.page.getByRole("tab", { name: "Join as a guest", selected: true }).waitFor({ timeout: 3000 });
    const name = await G.page.getByLabel("Your name").inputValue();
    assert(name === "Grace", `the name field holds “${name}”`);
    const left = await G.page.evaluate((c) => sessionStorage.getItem(`mm.guest.${c}`), code);
    assert(left === null, "the old guest grant is still stored");
  }, { critical: false });

  await step("a meeting without guests: “This meeting needs an account”, with sign in and register links", async () => {
    const other = await A.page.evaluate(async () => {
      const s = JSON.parse(localStorage.getItem("mm.session"));
      const res = await fetch("/api/meetings", {
        method: "POST",
        headers: { Authorization: `Bearer ${s.access_token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ title: "Members only" }),
      });
      return { status: res.status, body: await res.json() };
    });
    assert(other.status === 201 && other.body.allow_guests === false, `creating the second meeting: ${JSON.stringify(other)}`);
    await joinAsGuest(G, base, other.body.code, "Grace");
    const err = G.page.getByTestId("guest-error");
    await err.waitFor({ timeout: 10_000 });
    assert((await err.getAttribute("data-code")) === "guests_not_allowed", `error code ${await err.getAttribute("data-code")}`);
    await err.getByText("This meeting needs an account").waitFor({ timeout: 3000 });
    await err.getByRole("link", { name: "sign in" }).waitFor({ timeout: 3000 });
    await err.getByRole("link", { name: "register" }).click();
    await G.page.getByRole("tab", { name: "Create account", selected: true }).waitFor({ timeout: 3000 });
    assert((await G.page.evaluate(() => localStorage.getItem("mm.session"))) === null, "a user session appeared");
  });
});
