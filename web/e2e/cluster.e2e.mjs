#!/usr/bin/env node
// End-to-end test of the web client in a cluster: two server processes on PostgreSQL and Redis
// (TEST_DATABASE_URL, TEST_REDIS_URL) and two HAProxy front ends (Debian's haproxy): Ada's sends
// her to node 1 while it is ready, Bo's to node 2, each falling back on the other node. Ada's
// meeting is owned by node 1, so Bo's socket is forwarded there through node 2; they see each
// other's video. Then node 1 drains and stops, and both come back by themselves on node 2 with
// live video. The harness is e2e/harness.mjs.

import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { assert, createMeeting, inboundVideo, log, newUser, poll, register, runSuite, startServer, step, stopServer } from "./harness.mjs";

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

/** HAProxy sending everything to `primary` while it is ready, else to `backup`. */
async function startBalancer(tmp, name, primary, backup) {
  const port = await freePort();
  const line = (url, i, extra) => `  server n${i} ${url.replace("http://", "")} check${extra}`;
  const servers = [line(primary, 0, ""), line(backup, 1, " backup")].join("\n");
  const cfg = `global\n  maxconn 1000\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 60s\n  timeout server 60s\n  timeout tunnel 1h\nfrontend meetings\n  bind 127.0.0.1:${port}\n  default_backend nodes\nbackend nodes\n  balance roundrobin\n  option httpchk GET /readyz\n  http-check expect status 200\n  default-server inter 500ms fall 2 rise 1\n${servers}\n`;
  const file = path.join(tmp, `haproxy-${name}.cfg`);
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
let lbA = null;
let lbB = null;
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

      await step("a second node joins the first, and a front end for each person", async () => {
        node2 = await startServer(tmp2, "server-cluster-2", clusterEnv);
        lbA = await startBalancer(tmp2, "ada", base, node2.url);
        lbB = await startBalancer(tmp2, "bo", node2.url, base);
        await poll("both nodes in the cluster", async () => (await clusterNodes(base)).length === 2);
        log(`nodes ${base} ${node2.url}, front ends ${lbA.base} (Ada) ${lbB.base} (Bo)`);
      });

      await step("Ada's meeting lives on node 1, Bo's socket is forwarded there by node 2, and they see each other's video", async () => {
        A = await newUser(browser, "cluster-A");
        B = await newUser(browser, "cluster-B");
        track(A);
        track(B);
        await A.page.goto(`${lbA.base}/login?next=${encodeURIComponent("/dashboard")}`);
        await register(A.page, ada);
        await A.page.waitForURL(/\/dashboard$/, { timeout: 15_000 });
        code = await createMeeting(A.page, "Across nodes");
        await A.page.goto(`${lbA.base}/meeting/${encodeURIComponent(code)}`);
        await A.page.getByRole("button", { name: "Join meeting" }).click();
        await poll("Ada in the meeting", async () => (await phaseOf(A.page)) === "joined");
        await B.page.goto(`${lbB.base}/login?next=${encodeURIComponent(`/meeting/${code}`)}`);
        await register(B.page, bo);
        await B.page.waitForURL(new RegExp(`/meeting/${code}$`), { timeout: 15_000 });
        await B.page.getByRole("button", { name: "Join meeting" }).click();
        await poll("Ada's video at Bo and Bo's at Ada", async () => (await videoLive(A)) && (await videoLive(B)), { timeout: 30_000 });
      });

      await step("node 1 owns the meeting and drains: both come back by themselves on node 2, with live video", async () => {
        await poll("node 1 owns the meeting, node 2 none", async () => {
          const rooms = Object.fromEntries((await clusterNodes(base)).map((n) => [n.url, n.rooms]));
          return rooms[base] === 1 && rooms[node2.url] === 0;
        });
        const res = await fetch(`${base}/admin/drain`, { method: "POST", headers: { authorization: `Bearer ${ADMIN}` } });
        assert(res.status === 202, `drain answered ${res.status}`);
        await poll("node 1 to leave the cluster", async () => {
          const nodes = await clusterNodes(node2.url).catch(() => []);
          return nodes.length === 1 && nodes[0].url === node2.url;
        }, { timeout: 40_000 });
        await poll("both joined again with live video", async () => {
          const phases = [await phaseOf(A.page), await phaseOf(B.page)];
          return phases.every((p) => p === "joined") && (await videoLive(A)) && (await videoLive(B));
        }, { timeout: 40_000 });
        await poll("node 2 owns the meeting now", async () => (await clusterNodes(node2.url))[0]?.rooms === 1);
      });
    } finally {
      lbA?.proc.kill("SIGKILL");
      lbB?.proc.kill("SIGKILL");
      await stopServer(node2);
      node2?.logFile.end();
      await rm(tmp2, { recursive: true, force: true }).catch(() => undefined);
    }
  },
  { serverEnv: clusterEnv },
);
