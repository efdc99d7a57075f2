import { beforeEach, describe, expect, it, vi } from "vitest";
import { hostRights } from "./moderation";
import { joined, joinMeeting, meetingInfo, person, resetFakes, setup, welcome } from "./clientTestKit";
import type { MeetingClient } from "./MeetingClient";
import { FakePeerConnection, FakeSocket } from "./testFakes";

beforeEach(resetFakes);

const lobbyMeeting = { ...meetingInfo, lobby: true };

/** Connect, say welcome, and answer the join with `lobby_waiting`. */
async function waitInLobby(client: MeetingClient) {
  client.join();
  await vi.waitFor(() => expect(FakeSocket.instances.length).toBeGreaterThan(0));
  const ws = FakeSocket.last();
  ws.open();
  ws.receive(welcome);
  ws.receive({ type: "lobby_waiting", meeting: lobbyMeeting });
  return ws;
}

describe("MeetingClient: waiting in the lobby", () => {
  it("waits with its camera on and nothing published; admitted, it publishes as a participant", async () => {
    const { client } = await setup();
    const ws = await waitInLobby(client);
    expect(client.state.getSnapshot()).toMatchObject({ phase: "waiting", meeting: { title: "Standup", lobby: true } });
    expect(client.local.getSnapshot().videoTrack?.readyState).toBe("live");
    await client.setAudioMuted(true); // no media_state while waiting: the join carries it
    expect(ws.sent.map((m) => m.type)).toEqual(["hello", "join"]);
    expect(FakePeerConnection.instances).toHaveLength(0);
    client.join(); // a second click changes nothing
    expect(ws.ofType("join")).toHaveLength(1);
    ws.receive(joined());
    await vi.waitFor(() => expect(ws.ofType("publish_offer")).toHaveLength(1));
    expect(client.state.getSnapshot()).toMatchObject({ phase: "joined", selfId: 1, order: [2] });
    expect(ws.ofType("media_state").at(-1)).toMatchObject({ audio_muted: true });
  });

  it("Cancel withdraws with leave and closes the connection", async () => {
    const { client } = await setup();
    const ws = await waitInLobby(client);
    client.leave();
    expect(ws.ofType("leave")).toHaveLength(1);
    expect(ws.closedWith).toBe(1000);
    expect(client.state.getSnapshot().phase).toBe("left");
  });

  it("a drop while waiting asks again on the new connection (the server forgot the place)", async () => {
    const { client } = await setup();
    const ws = await waitInLobby(client);
    ws.drop(1006);
    expect(client.state.getSnapshot().phase).toBe("waiting");
    await vi.waitFor(() => expect(FakeSocket.instances).toHaveLength(2));
    const ws2 = FakeSocket.last();
    ws2.open();
    ws2.receive(welcome);
    expect(ws2.ofType("join")).toEqual([expect.objectContaining({ meeting_code: "abc-defg-hij" })]);
    expect(ws2.ofType("join")[0]).not.toHaveProperty("resume_token");
  });

  it("denied: the denied page, the devices released; Ask to join again reopens them and joins on a new connection", async () => {
    const { client } = await setup();
    const ws = await waitInLobby(client);
    const cam = client.local.getSnapshot().videoTrack;
    ws.receive({ type: "error", code: "lobby_denied", message: "a host turned you away" });
    expect(client.state.getSnapshot()).toMatchObject({ phase: "failed", failure: { code: "lobby_denied" } });
    expect(cam?.readyState).toBe("ended");
    expect(ws.closedWith).toBe(1000);
    await client.rejoin();
    await vi.waitFor(() => expect(FakeSocket.instances).toHaveLength(2));
    const ws2 = FakeSocket.last();
    ws2.open();
    ws2.receive(welcome);
    expect(ws2.ofType("join")).toHaveLength(1);
    expect(client.local.getSnapshot().videoTrack?.readyState).toBe("live");
    ws2.receive({ type: "lobby_waiting", meeting: lobbyMeeting });
    expect(client.state.getSnapshot()).toMatchObject({ phase: "waiting", failure: null });
  });

  it("a lobby timeout is the same page, for its own reason", async () => {
    const { client } = await setup();
    const ws = await waitInLobby(client);
    ws.receive({ type: "error", code: "lobby_timeout", message: "nobody let you in" });
    expect(client.state.getSnapshot()).toMatchObject({ phase: "failed", failure: { code: "lobby_timeout" } });
  });

  it("the meeting ending while we wait shows the ended page", async () => {
    const { client } = await setup();
    const ws = await waitInLobby(client);
    ws.receive({ type: "meeting_ended", reason: "host_ended" });
    ws.drop(4010);
    expect(client.state.getSnapshot()).toMatchObject({ phase: "ended", endedReason: "host_ended" });
    expect(FakeSocket.instances).toHaveLength(1);
  });
});

describe("MeetingClient: hosts and the lobby", () => {
  it("sends the lobby requests as the protocol spells them", async () => {
    const { client } = await setup();
    const { ws } = await joinMeeting(client);
    client.setLobby(true);
    client.admit(7);
    client.deny(8);
    client.admitAll();
    client.setLobby(false);
    const kinds = ["set_lobby", "admit", "deny", "admit_all"];
    expect(ws.sent.filter((m) => kinds.includes(String(m.type)))).toEqual([
      { type: "set_lobby", enabled: true },
      { type: "admit", lobby_id: 7 },
      { type: "deny", lobby_id: 8 },
      { type: "admit_all" },
      { type: "set_lobby", enabled: false },
    ]);
  });

  it("lists who waits and announces a newcomer until dismissed", async () => {
    const { client } = await setup();
    const { ws } = await joinMeeting(client);
    ws.receive({ type: "lobby_updated", waiting: [{ lobby_id: 7, user_id: 70, name: "Gus" }] });
    expect(client.state.getSnapshot()).toMatchObject({ lobby: [{ lobby_id: 7, name: "Gus" }], lobbyAlert: { lobby_id: 7 } });
    client.dismissLobbyAlert();
    expect(client.state.getSnapshot()).toMatchObject({ lobby: [{ lobby_id: 7 }], lobbyAlert: null });
  });

  it("a co-host's rights come with joined.you, so they survive a reload", async () => {
    const { client } = await setup();
    client.join();
    await vi.waitFor(() => expect(FakeSocket.instances.length).toBe(1));
    const ws = FakeSocket.last();
    ws.open();
    ws.receive(welcome);
    ws.receive(joined(false, [person(2, "Bo")], { ...person(1, "Cy"), is_cohost: true, raised_hand: 1 }));
    const s = client.state.getSnapshot();
    expect(s.me).toMatchObject({ is_cohost: true, raised_hand: 1 });
    expect(hostRights(s.meeting, s.me, 30)).toBe("cohost");
  });
});
