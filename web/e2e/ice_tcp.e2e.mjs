#!/usr/bin/env node
// End-to-end test of ICE over TCP: two users in Chromium whose UDP to the SFU is "blocked"
// join a meeting, and media flows both ways over the SFU's passive TCP candidates.
//
//   npm run build && cargo build && node e2e/ice_tcp.e2e.mjs      (from web/)
//
// The block: an init script wraps RTCPeerConnection so that every UDP candidate of the
// server (in the SDP given to setRemoteDescription, and trickled through addIceCandidate) is
// removed before Chromium sees it; ICE can then only pair Chromium's active TCP candidates
// with the SFU's passive one. The test reads pc.getStats() of every connection: the selected
// pair must be TCP on both ends, and each user must decode the other's camera.

import { assert, createMeeting, inboundVideo, log, newUser, poll, register, runSuite, step } from "./harness.mjs";

/** Runs in every page before its scripts: strips the server's UDP candidates, keeps the PCs. */
function blockUdp() {
  const Native = window.RTCPeerConnection;
  if (!Native || Native.__mmTcpOnly) return;
  const pcs = [];
  window.__mmPcs = pcs;
  window.__mmStripped = 0;
  // candidate:<foundation> <component> <transport> ...
  const isUdp = (c) => /^(a=)?candidate:\S+ \d+ udp /i.test(String(c ?? "").trim());
  const strip = (sdp) =>
    sdp
      .split(/\r\n/)
      .filter((l) => {
        const udp = isUdp(l);
        if (udp) window.__mmStripped += 1;
        return !udp;
      })
      .join("\r\n");
  class TcpOnly extends Native {
    constructor(...args) {
      super(...args);
      pcs.push(this);
    }
    setRemoteDescription(desc, ...rest) {
      if (desc && desc.sdp) desc = { type: desc.type, sdp: strip(desc.sdp) };
      return super.setRemoteDescription(desc, ...rest);
    }
    addIceCandidate(c, ...rest) {
      const text = typeof c === "string" ? c : c?.candidate;
      if (isUdp(text)) {
        window.__mmStripped += 1;
        return Promise.resolve();
      }
      return super.addIceCandidate(c, ...rest);
    }
  }
  TcpOnly.__mmTcpOnly = true;
  window.RTCPeerConnection = TcpOnly;
}

/** The selected candidate pair of every connected PeerConnection of the page. */
function selectedPairs(page) {
  return page.evaluate(async () => {
    const out = [];
    for (const pc of window.__mmPcs ?? []) {
      if (pc.connectionState === "closed") continue;
      const stats = await pc.getStats();
      const byId = new Map();
      stats.forEach((r) => byId.set(r.id, r));
      let pair = null;
      stats.forEach((r) => {
        if (r.type === "transport" && r.selectedCandidatePairId) pair = byId.get(r.selectedCandidatePairId);
      });
      if (!pair) continue;
      const local = byId.get(pair.localCandidateId);
      const remote = byId.get(pair.remoteCandidateId);
      out.push({
        state: pc.connectionState,
        local: local && { protocol: local.protocol, type: local.candidateType, tcpType: local.tcpType, address: local.address },
        remote: remote && { protocol: remote.protocol, type: remote.candidateType, address: remote.address, port: remote.port },
        bytesSent: pair.bytesSent,
        bytesReceived: pair.bytesReceived,
      });
    }
    return { pcs: (window.__mmPcs ?? []).length, stripped: window.__mmStripped, pairs: out };
  });
}

await runSuite("ice_tcp", async ({ base, browser, track }) => {
  const stamp = Date.now().toString(36);
  const alice = { name: "Alice Tcp", email: `alice-tcp-${stamp}@example.com`, password: "correct horse 1" };
  const bob = { name: "Bob Tcp", email: `bob-tcp-${stamp}@example.com`, password: "battery staple 2" };
  let A;
  let B;
  let code;

  await step("both register with UDP to the server blocked", async () => {
    A = await newUser(browser, "tcpA");
    track(A);
    B = await newUser(browser, "tcpB");
    track(B);
    for (const [u, who] of [
      [A, alice],
      [B, bob],
    ]) {
      await u.page.addInitScript(blockUdp);
      await u.page.goto(`${base}/login?next=%2Fdashboard`);
      await register(u.page, who);
      await u.page.waitForURL(/\/dashboard$/, { timeout: 10_000 });
    }
  });

  await step("A creates a meeting", async () => {
    code = await createMeeting(A.page, "ICE-TCP check");
  });

  await step("both join", async () => {
    for (const u of [A, B]) {
      await u.page.goto(`${base}/meeting/${encodeURIComponent(code)}`);
      await u.page.getByRole("button", { name: "Join meeting" }).waitFor({ timeout: 10_000 });
    }
    for (const u of [A, B]) await u.page.getByRole("button", { name: "Join meeting" }).click();
    for (const u of [A, B]) {
      await poll(`${u.label} to be joined`, () => u.page.evaluate(() => window.__mm?.client.state.getSnapshot().phase === "joined"), {
        timeout: 10_000,
      });
    }
  });

  for (const who of ["A", "B"]) {
    await step(`${who}'s publish and subscribe connections run over TCP on both ends`, async () => {
      const page = who === "A" ? A.page : B.page;
      const s = await poll(
        `${who}'s two connections to select a pair`,
        async () => {
          const s = await selectedPairs(page);
          return s.pairs.filter((p) => p.state === "connected").length >= 2 ? s : null;
        },
        { timeout: 30_000, interval: 500 },
      );
      log(`${who}: ${JSON.stringify(s)}`);
      assert(s.stripped > 0, "no UDP candidate of the server was removed: is the block in place?");
      for (const p of s.pairs) {
        assert(p.local?.protocol === "tcp", `local candidate is ${JSON.stringify(p.local)}`);
        assert(p.remote?.protocol === "tcp", `remote candidate is ${JSON.stringify(p.remote)}`);
      }
    });
  }

  for (const [who, other] of [
    ["A", "B"],
    ["B", "A"],
  ]) {
    await step(`${who} decodes ${other}'s camera over TCP (framesDecoded grows)`, async () => {
      const page = who === "A" ? A.page : B.page;
      const s1 = await poll(`${who}'s inbound camera to decode`, async () => {
        const s = await inboundVideo(page, "camera");
        return s.framesDecoded > 0 ? s : null;
      }, { timeout: 30_000, interval: 500 });
      const s2 = await poll(
        "framesDecoded to grow",
        async () => {
          const s = await inboundVideo(page, "camera");
          return s.framesDecoded >= s1.framesDecoded + 10 ? s : null;
        },
        { timeout: 10_000, interval: 500 },
      );
      log(`${who}: framesDecoded ${s1.framesDecoded} -> ${s2.framesDecoded}`);
    });
  }

  await step("the server's /metrics counts the TCP connections and frames", async () => {
    const m = await poll(
      "mm_sfu_tcp_frames_in_total > 0",
      async () => {
        const r = await fetch(`${base}/metrics`);
        if (!r.ok) throw new Error(`/metrics: HTTP ${r.status}`);
        const text = await r.text();
        const value = (name) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);
        const v = { open: value("mm_sfu_tcp_connections"), inFrames: value("mm_sfu_tcp_frames_in_total"), outFrames: value("mm_sfu_tcp_frames_out_total") };
        return v.inFrames > 0 && v.outFrames > 0 && v.open >= 4 ? v : null;
      },
      { timeout: 15_000, interval: 1000 },
    );
    log(`metrics: ${JSON.stringify(m)}`);
  }, { critical: false });
});
