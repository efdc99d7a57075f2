#!/usr/bin/env node
// End-to-end test of the web client in a cluster: two server processes on PostgreSQL and Redis
// (TEST_DATABASE_URL, TEST_REDIS_URL) behind HAProxy (Debian's haproxy), two Chromium users on
// the load balancer's URL. They meet and see each other's video, whichever node holds their
// sockets; then the node that owns the meeting drains and stops, and both come back by
// themselves on the other node with live video. The harness is e2e/harness.mjs.

import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { assert, inboundVideo, log, newUser, poll, register, runSuite, startServer, step, stopServer } from "./harness.mjs";

const DB = process.env.TEST_DATABASE_URL;
const REDIS = process.env.TEST_REDIS_URL;
const haproxyOk = spawnSync("haproxy", ["-v"], { stdio: "ignore" }).status === 0;
if (!DB || !REDIS || !haproxyOk) {
  const why = "needs TEST_DATABASE_URL, TEST_REDIS_URL and haproxy";
  if (process.env.MM_REQUIRE_SERVICES) {
    console.error(`cluster e2e: MM_REQUIRE_SERVICES is set but it ${why}`);
    process.exit(1);
  }
  console.log(`cluster e2e skipped: ${why}`);
  process.exit(0);
}

const ADMIN = "operator-token-for-e2e";
const stamp = Date.now().toString(36);
const schema = `mm_e2e_cluster_${stamp}`;
const psql = (sql) => spawnSync("psql", [DB, "-qAtc", sql], { encoding: "utf8" });
const created = psql(`CREATE SCHEMA ${schema}`);
if (created.status !== 0) throw new Error(`psql: ${created.stderr}`);
const sep = DB.includes("?") ? "&" : "?";
const clusterEnv = {
  DATABASE_URL: `${DB}${sep}options=-c%20search_path%3D${schema}`,
  REDIS_URL: REDIS,
  REDIS_KEY_PREFIX: `mm_e2e_cluster_${stamp}:`,
  JWT_SECRET: "e2e-cluster-secret-e2e-cluster-secret",
  ADMIN_TOKEN: ADMIN,
  SFU_WORKERS: "1",
};

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startBalancer(tmp, nodes) {
  const port = await freePort();
  const servers = nodes.map((n, i) => `  server n${i} ${n.replace("http://", "")} check`).join("\n");
  const cfg = `global\n  maxconn 1000\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 60s\n  timeout server 60s\n  timeout tunnel 1h\nfrontend meetings\n  bind 127.0.0.1:${port}\n  default_backend nodes\nbackend nodes\n  balance roundrobin\n  option httpchk GET /readyz\n  http-check expect status 200\n  default-server inter 500ms fall 2 rise 1\n${servers}\n`;
  const file = path.join(tmp, "haproxy.cfg");
  await writeFile(file, cfg);
  const proc = spawn("haproxy", ["-db", "-f", file], { stdio: "ignore" });
  const base = `http://127.0.0.1:${port}`;
  await poll("the load balancer to answer", async () => (await fetch(`${base}/healthz`).catch(() => null))?.ok === true);
  return { proc, base };
}

async function clusterNodes(base) {
  const res = await fetch(`${base}/admin/cluster`, { headers: { authorization: `Bearer ${ADMIN}` } });
  return (await res.json()).nodes ?? [];
}

/** Whether `name`'s camera tile on `page` decodes new frames (two samples a second apart). */
async function videoLive(u) {
  const first = await inboundVideo(u.page, "camera").catch(() => null);
  await new Promise((r) => setTimeout(r, 1000));
  const second = await inboundVideo(u.page, "camera").catch(() => null);
  return !!first && !!second && second.framesDecoded > first.framesDecoded;
}

function phaseOf(page) {
  return page.evaluate(() => window.__mm?.client.state.getSnapshot().phase);
}

const tmp2 = await mkdtemp(path.join(os.tmpdir(), "mm-cluster-e2e-"));
let node2 = null;
let lb = null;
// runSuite exits the process when it is done: the schema goes with it.
process.on("exit", () => {
  psql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
});
await runSuite(
  "cluster",
  async ({ base, browser, track }) => {
    try {
      let A;
      let B;
      let code;
      const ada = { name: "Ada Node", email: `ada-${stamp}@example.com`, password: "cluster password 1" };
      const bo = { name: "Bo Node", email: `bo-${stamp}@example.com`, password: "cluster password 2" };

      await step("a second node joins the first, and HAProxy fronts both", async () => {
        node2 = await startServer(tmp2, "server-cluster-2", clusterEnv);
        lb = await startBalancer(tmp2, [base, node2.url]);
        await poll("both nodes in the cluster", async () => (await clusterNodes(base)).length === 2);
        log(`nodes ${base} ${node2.url}, load balancer ${lb.base}`);
      });

      await step("two people meet through the load balancer and see each other's video", async () => {
        A = await newUser(browser, "cluster-A");
        B = await newUser(browser, "cluster-B");
        track(A);
        track(B);
        await A.page.goto(`${lb.base}/login?next=${encodeURIComponent("/dashboard")}`);
        await register(A.page, ada);
        await A.page.waitForURL(/\/dashboard$/, { timeout: 15_000 });
        await A.page.getByRole("textbox", { name: "Meeting title" }).fill("Across nodes");
        await A.page.getByRole("button", { name: "Create meeting" }).click();
        const made = A.page.getByTestId("created-meeting");
        await made.waitFor({ timeout: 10_000 });
        code = await made.getAttribute("data-code");
        await A.page.goto(`${lb.base}/meeting/${encodeURIComponent(code)}`);
        await A.page.getByRole("button", { name: "Join meeting" }).click();
        await B.page.goto(`${lb.base}/login?next=${encodeURIComponent(`/meeting/${code}`)}`);
        await register(B.page, bo);
        await B.page.waitForURL(new RegExp(`/meeting/${code}$`), { timeout: 15_000 });
        await B.page.getByRole("button", { name: "Join meeting" }).click();
        await poll("Ada's video at Bo and Bo's at Ada", async () => (await videoLive(A)) && (await videoLive(B)), { timeout: 30_000 });
      });

      await step("the owner drains: both come back by themselves on the other node, with live video", async () => {
        let owner = null;
        await poll("one node owns the meeting", async () => {
          const nodes = await clusterNodes(base);
          const owning = nodes.filter((n) => n.rooms > 0);
          owner = owning.length === 1 ? owning[0] : null;
          return owner !== null;
        });
        const drained = owner.url === node2.url ? node2 : null;
        const res = await fetch(`${owner.url}/admin/drain`, { method: "POST", headers: { authorization: `Bearer ${ADMIN}` } });
        assert(res.status === 202, `drain answered ${res.status}`);
        log(`drained ${owner.url}`);
        // The drained node stops by itself once everyone left it.
        await poll("the drained node to leave the cluster", async () => {
          const survivor = owner.url === base ? node2.url : base;
          const nodes = await clusterNodes(survivor).catch(() => []);
          return nodes.length === 1 && nodes[0].url !== owner.url;
        }, { timeout: 40_000 });
        if (drained) await poll("node 2 to exit", async () => drained.proc.exitCode !== null || drained.proc.signalCode !== null, { timeout: 40_000 });
        await poll("both joined again with live video", async () => {
          const phases = [await phaseOf(A.page), await phaseOf(B.page)];
          return phases.every((p) => p === "joined") && (await videoLive(A)) && (await videoLive(B));
        }, { timeout: 40_000 });
      });
    } finally {
      lb?.proc.kill("SIGKILL");
      await stopServer(node2);
      node2?.logFile.end();
      await rm(tmp2, { recursive: true, force: true }).catch(() => undefined);
    }
  },
  { serverEnv: clusterEnv },
);
