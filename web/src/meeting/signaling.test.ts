import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SignalingConnection } from "./signaling";
import { FakeSocket } from "./testFakes";

const welcome = { type: "welcome", version: 1, user_id: 7, name: "Ada", heartbeat_interval_ms: 10_000 };

function make(getToken = vi.fn(async (force: boolean) => (force ? "fresh" : "tok"))) {
  const conn = new SignalingConnection({
    url: "ws://host/ws",
    getToken,
    socketFactory: (url) => new FakeSocket(url),
    backoff: (n) => n * 100,
    maxAttempts: 3,
  });
  return { conn, getToken };
}

beforeEach(() => {
  FakeSocket.instances = [];
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("SignalingConnection", () => {
  it("sends hello first with the access token and becomes ready on welcome", async () => {
    const { conn } = make();
    const ready = vi.fn();
    conn.onReady(ready);
    conn.connect();
    await vi.advanceTimersByTimeAsync(0);
    const s = FakeSocket.last();
    expect(s.url).toBe("ws://host/ws");
    s.open();
    expect(s.sent).toEqual([{ type: "hello", version: 1, token: "tok" }]);
    expect(conn.state.getSnapshot().status).toBe("connecting");
    s.receive(welcome);
    expect(conn.state.getSnapshot().status).toBe("open");
    expect(ready).toHaveBeenCalledWith(expect.objectContaining({ type: "welcome" }), false);
  });

  it("delivers other messages to listeners and ignores garbage", async () => {
    const { conn } = make();
    const got = vi.fn();
    conn.onMessage(got);
    conn.connect();
    await vi.advanceTimersByTimeAsync(0);
    const s = FakeSocket.last();
    s.open();
    s.receive(welcome);
    s.onmessage?.({ data: "not json" } as MessageEvent);
    s.receive({ type: "pong" });
    expect(got).toHaveBeenCalledTimes(1);
    expect(conn.send({ type: "chat", text: "hi" })).toBe(true);
    expect(s.sent.at(-1)).toEqual({ type: "chat", text: "hi" });
  });

  it("reconnects with backoff after an unexpected drop and reports it as a reconnect", async () => {
    const { conn } = make();
    const ready = vi.fn();
    const closed = vi.fn();
    conn.onReady(ready);
    conn.onClosed(closed);
    conn.connect();
    await vi.advanceTimersByTimeAsync(0);
    FakeSocket.last().open();
    FakeSocket.last().receive(welcome);
    FakeSocket.last().drop(1006);
    expect(conn.state.getSnapshot()).toMatchObject({ status: "reconnecting", attempt: 1 });
    expect(closed).toHaveBeenCalledWith(1006, "", true);
    expect(FakeSocket.instances).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(FakeSocket.instances).toHaveLength(2);
    FakeSocket.last().open();
    FakeSocket.last().receive(welcome);
    expect(ready).toHaveBeenLastCalledWith(expect.anything(), true);
    expect(conn.state.getSnapshot()).toMatchObject({ status: "open", attempt: 0 });
  });

  it("does not reconnect after meeting-ended or replaced closes, nor after close()", async () => {
    for (const code of [4010, 4011]) {
      const { conn } = make();
      const closed = vi.fn();
      conn.onClosed(closed);
      conn.connect();
      await vi.advanceTimersByTimeAsync(0);
      FakeSocket.last().open();
      FakeSocket.last().receive(welcome);
      const before = FakeSocket.instances.length;
      FakeSocket.last().drop(code);
      await vi.advanceTimersByTimeAsync(5000);
      expect(FakeSocket.instances.length).toBe(before);
      expect(conn.state.getSnapshot()).toMatchObject({ status: "closed", closeCode: code });
      expect(closed).toHaveBeenCalledWith(code, "", false);
    }
    const { conn } = make();
    conn.connect();
    await vi.advanceTimersByTimeAsync(0);
    const s = FakeSocket.last();
    s.open();
    conn.close();
    expect(s.closedWith).toBe(1000);
    expect(conn.state.getSnapshot().status).toBe("closed");
  });

  it("retries once with a refreshed token after 4001, then gives up", async () => {
    const { conn, getToken } = make();
    conn.connect();
    await vi.advanceTimersByTimeAsync(0);
    FakeSocket.last().open();
    FakeSocket.last().drop(4001);
    await vi.advanceTimersByTimeAsync(100);
    expect(getToken).toHaveBeenLastCalledWith(true);
    FakeSocket.last().open();
    expect(FakeSocket.last().sent[0]).toEqual({ type: "hello", version: 1, token: "fresh" });
    FakeSocket.last().drop(4001);
    await vi.advanceTimersByTimeAsync(1000);
    expect(conn.state.getSnapshot()).toMatchObject({ status: "closed", closeCode: 4001 });
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it("gives up after maxAttempts", async () => {
    const { conn } = make();
    conn.connect();
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 4; i++) {
      FakeSocket.last().drop(1006);
      await vi.advanceTimersByTimeAsync(1000);
    }
    expect(conn.state.getSnapshot().status).toBe("closed");
    expect(FakeSocket.instances).toHaveLength(4);
  });

  it("pings at the heartbeat interval and drops a silent connection", async () => {
    const { conn } = make();
    conn.connect();
    await vi.advanceTimersByTimeAsync(0);
    const s = FakeSocket.last();
    s.open();
    s.receive(welcome);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(s.ofType("ping")).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(20_000);
    // 30 s of silence > 2.5 x 10 s: treated as a drop, a new socket follows.
    expect(conn.state.getSnapshot().status).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(100);
    expect(FakeSocket.instances).toHaveLength(2);
  });
});

describe("SignalingConnection options", () => {
  it("an option passed as undefined keeps its default", () => {
    const conn = new SignalingConnection({ url: "ws://h/ws", getToken: async () => "t", socketFactory: undefined });
    expect(typeof (conn as unknown as { opts: { socketFactory: unknown } }).opts.socketFactory).toBe("function");
  });
});
