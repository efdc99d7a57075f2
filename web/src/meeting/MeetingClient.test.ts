import { beforeEach, describe, expect, it, vi } from "vitest";
import { askedFor, joined, joinMeeting, resetFakes, setup, welcome } from "./clientTestKit";
import { FakePeerConnection, FakeSocket, FakeTrack } from "./testFakes";

beforeEach(resetFakes);

describe("MeetingClient", () => {
  it("joins with its media state and publishes mic and camera on a sendonly publish connection", async () => {
    const { client } = await setup();
    await client.setAudioMuted(true);
    const { ws, join, pub } = await joinMeeting(client);
    expect(ws.sent[0]).toMatchObject({ type: "hello", token: "tok" });
    expect(join).toEqual({ type: "join", meeting_code: "abc-defg-hij", media: { audio_muted: true, video_muted: false, screen_sharing: false } });
    expect(client.state.getSnapshot()).toMatchObject({ phase: "joined", selfId: 1, order: [2] });
    expect(pub.config.iceServers).toEqual([{ urls: ["stun:127.0.0.1:3478"] }]);
    expect(pub.transceivers.map((t) => [t.kind, t.direction])).toEqual([
      ["audio", "sendonly"],
      ["video", "sendonly"],
    ]);
    expect(pub.transceivers[0].sender.track?.enabled).toBe(false);
    expect(ws.ofType("publish_offer")[0]).toEqual({
      type: "publish_offer",
      sdp: "offer-1",
      tracks: [
        { mid: "0", source: "microphone" },
        { mid: "1", source: "camera" },
      ],
    });
    ws.receive({ type: "publish_answer", sdp: "answer-1" });
    await vi.waitFor(() => expect(pub.remoteDescription).toEqual({ type: "answer", sdp: "answer-1" }));
  });

  it("trickles ICE candidates of both connections with the pc kind", async () => {
    const { client } = await setup();
    const { ws, pub } = await joinMeeting(client);
    pub.emit("icecandidate", { candidate: { candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host", sdpMid: "0" } });
    pub.emit("icecandidate", { candidate: null });
    expect(ws.ofType("ice_candidate")).toEqual([
      { type: "ice_candidate", pc: "publish", candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host", sdp_mid: "0" },
    ]);
  });

  it("answers subscriber offers and maps received tracks to participants by mid", async () => {
    const { client } = await setup();
    const { ws } = await joinMeeting(client);
    ws.receive({
      type: "subscriber_offer",
      sdp: "sub:0/audio,1/video",
      tracks: [
        { mid: "0", participant_id: 2, track_id: "a", kind: "audio", source: "microphone" },
        { mid: "1", participant_id: 2, track_id: "v", kind: "video", source: "camera" },
      ],
    });
    await vi.waitFor(() => expect(ws.ofType("subscriber_answer")).toHaveLength(1));
    expect(ws.ofType("subscriber_answer")[0]).toEqual({ type: "subscriber_answer", sdp: "answer-to-sub:0/audio,1/video" });
    const sub = FakePeerConnection.instances[1];
    const media = client.remote.getSnapshot()[2];
    expect(media.audio).toEqual([sub.transceivers[0].receiver.track]);
    expect(media.camera).toBe(sub.transceivers[1].receiver.track);
    expect(media.screen).toBeNull();

    // A screen share is added later on a new mid.
    ws.receive({
      type: "subscriber_offer",
      sdp: "sub:0/audio,1/video,2/video",
      tracks: [
        { mid: "0", participant_id: 2, track_id: "a", kind: "audio", source: "microphone" },
        { mid: "1", participant_id: 2, track_id: "v", kind: "video", source: "camera" },
        { mid: "2", participant_id: 2, track_id: "s", kind: "video", source: "screen_share" },
      ],
    });
    await vi.waitFor(() => expect(client.remote.getSnapshot()[2].screen).toBe(sub.transceivers[2].receiver.track));
    expect(FakePeerConnection.instances).toHaveLength(2);
  });

  it("sends media_state and mutes the real tracks", async () => {
    const { client } = await setup();
    const { ws, pub } = await joinMeeting(client);
    await client.toggleAudio();
    expect(client.local.getSnapshot().audioTrack?.enabled).toBe(false);
    await client.setVideoMuted(true);
    expect(pub.transceivers[1].sender.track).toBeNull();
    expect(ws.ofType("media_state").at(-1)).toEqual({ type: "media_state", audio_muted: true, video_muted: true, screen_sharing: false });
    await client.setVideoMuted(false);
    expect(pub.transceivers[1].sender.track).toBe(client.local.getSnapshot().videoTrack);
    expect(ws.ofType("media_state").at(-1)).toMatchObject({ video_muted: false });
  });

  it("sends the camera as three layers, applies publish_layers, and keeps both through a device switch or the camera off and on", async () => {
    const { client } = await setup();
    const { ws, pub } = await joinMeeting(client);
    const cam = pub.transceivers[1];
    const layers = () => cam.sender.encodings.map((e) => [e.rid, e.scaleResolutionDownBy ?? 1, e.active ?? true]);
    expect(layers()).toEqual([
      ["q", 4, true],
      ["h", 2, true],
      ["f", 1, true],
    ]);
    ws.receive({ type: "publish_layers", mid: "1", track_id: "t-cam", active: ["q"] });
    ws.receive({ type: "publish_layers", mid: "9", track_id: "t-gone", active: [] }); // no such sender: ignored
    await vi.waitFor(() => expect(layers().map((l) => l[2])).toEqual([true, false, false]));

    await client.switchDevice("videoinput", "cam2");
    await client.setVideoMuted(true);
    await client.setVideoMuted(false);
    expect(pub.transceivers).toHaveLength(2);
    expect(cam.sender.track).toBe(client.local.getSnapshot().videoTrack);
    expect(layers()).toEqual([
      ["q", 4, true],
      ["h", 2, false],
      ["f", 1, false],
    ]);

    await client.startScreenShare();
    expect(pub.transceivers[2].sender.encodings).toEqual([{}]); // a screen share is one layer
  });

  it("renegotiates for screen share, one offer in flight at a time", async () => {
    const { client } = await setup();
    const { ws, pub } = await joinMeeting(client);
    await client.startScreenShare();
    // The first offer is still unanswered: no second offer yet.
    expect(ws.ofType("publish_offer")).toHaveLength(1);
    ws.receive({ type: "publish_answer", sdp: "answer-1" });
    await vi.waitFor(() => expect(ws.ofType("publish_offer")).toHaveLength(2));
    expect(ws.ofType("publish_offer")[1].tracks).toEqual([
      { mid: "0", source: "microphone" },
      { mid: "1", source: "camera" },
      { mid: "2", source: "screen_share" },
    ]);
    expect(ws.ofType("media_state").at(-1)).toMatchObject({ screen_sharing: true });
    ws.receive({ type: "publish_answer", sdp: "answer-2" });
    await vi.waitFor(() => expect(pub.signalingState).toBe("stable"));
    await client.stopScreenShare();
    await vi.waitFor(() => expect(ws.ofType("publish_offer")).toHaveLength(3));
    expect(ws.ofType("publish_offer")[2].tracks).toEqual([
      { mid: "0", source: "microphone" },
      { mid: "1", source: "camera" },
    ]);
  });

  it("chat goes out and comes back with unread counting", async () => {
    const { client } = await setup();
    const { ws } = await joinMeeting(client);
    expect(client.sendChat("  hello  ")).toBe(true);
    expect(client.sendChat("   ")).toBe(false);
    expect(ws.ofType("chat")).toEqual([{ type: "chat", text: "hello" }]);
    ws.receive({ type: "chat", id: 1, participant_id: 2, name: "Bo", text: "hi!", sent_at: "2026-01-01T00:00:00Z" });
    expect(client.state.getSnapshot()).toMatchObject({ unread: 1, chat: [{ name: "Bo", text: "hi!" }] });
  });

  it("sends only changed track settings, and all of them again after a fresh join", async () => {
    const { client } = await setup();
    const { ws } = await joinMeeting(client);
    const a = { track_id: "tr-1", enabled: true, max_width: 320, max_height: 176 };
    const b = { track_id: "tr-2", enabled: false };
    client.setTrackSettings([a, b]);
    client.setTrackSettings([a, b]);
    client.setTrackSettings([a, { ...b, enabled: true }]);
    expect(ws.ofType("track_settings")).toEqual([
      { type: "track_settings", tracks: [a, b] },
      { type: "track_settings", tracks: [{ ...b, enabled: true }] },
    ]);
    ws.drop(1006);
    await vi.waitFor(() => expect(FakeSocket.instances).toHaveLength(2));
    const ws2 = FakeSocket.last();
    ws2.open();
    ws2.receive(welcome);
    ws2.receive(joined(false));
    await vi.waitFor(() => expect(client.state.getSnapshot().phase).toBe("joined"));
    client.setTrackSettings([a]);
    expect(ws2.ofType("track_settings")).toEqual([{ type: "track_settings", tracks: [a] }]);
  });

  it("meeting_ended closes the socket, the connections and the camera", async () => {
    const { client } = await setup();
    const { ws, pub } = await joinMeeting(client);
    const cam = client.local.getSnapshot().videoTrack as unknown as FakeTrack;
    ws.receive({ type: "meeting_ended", reason: "host_ended" });
    expect(client.state.getSnapshot()).toMatchObject({ phase: "ended", endedReason: "host_ended" });
    expect(pub.closed).toBe(true);
    expect(ws.closedWith).toBe(1000);
    expect(cam.readyState).toBe("ended");
  });

  it("resumes after a drop: same resume token, ICE restart on publish, restart_subscriber", async () => {
    const { client } = await setup();
    const { ws, pub } = await joinMeeting(client);
    ws.receive({ type: "publish_answer", sdp: "answer-1" });
    await vi.waitFor(() => expect(pub.signalingState).toBe("stable"));
    ws.drop(1006);
    expect(client.state.getSnapshot().phase).toBe("reconnecting");
    await vi.waitFor(() => expect(FakeSocket.instances).toHaveLength(2));
    const ws2 = FakeSocket.last();
    ws2.open();
    ws2.receive(welcome);
    expect(ws2.ofType("join")[0]).toMatchObject({ meeting_code: "abc-defg-hij", resume_token: "rt-1" });
    ws2.receive(joined(true));
    await vi.waitFor(() => expect(ws2.ofType("publish_offer")).toHaveLength(1));
    expect(ws2.ofType("publish_offer")[0].sdp).toBe("offer-2-restart");
    expect(pub.offerOptions.at(-1)).toEqual({ iceRestart: true });
    expect(ws2.ofType("restart_subscriber")).toHaveLength(1);
    expect(FakePeerConnection.instances).toHaveLength(1);
    expect(client.state.getSnapshot().phase).toBe("joined");
  });

  it("sets the connections up afresh when the server could not resume", async () => {
    const { client } = await setup();
    const { ws, pub } = await joinMeeting(client);
    ws.drop(1006);
    await vi.waitFor(() => expect(FakeSocket.instances).toHaveLength(2));
    const ws2 = FakeSocket.last();
    ws2.open();
    ws2.receive(welcome);
    ws2.receive(joined(false));
    await vi.waitFor(() => expect(ws2.ofType("publish_offer")).toHaveLength(1));
    expect(pub.closed).toBe(true);
    expect(FakePeerConnection.instances).toHaveLength(2);
    expect(ws2.ofType("publish_offer")[0].sdp).toBe("offer-1");
    expect(ws2.ofType("restart_subscriber")).toHaveLength(0);
  });

  it("a camera refusal is explained and the join goes on without video", async () => {
    const { client } = await setup({ denyCamera: true });
    const l = client.local.getSnapshot();
    expect(l.cameraProblem?.kind).toBe("denied");
    expect(l.audioTrack).not.toBeNull();
    expect(l.videoMuted).toBe(true);
    const { join } = await joinMeeting(client);
    expect(join.media).toEqual({ audio_muted: false, video_muted: true, screen_sharing: false });
  });

  it("starts from the remembered choices: a muted microphone opens disabled, the camera stays off", async () => {
    const { client, md } = await setup({ initial: { audioMuted: true, videoMuted: true, audioDeviceId: "mic-2" } });
    const l = client.local.getSnapshot();
    expect(l.audioTrack?.enabled).toBe(false);
    expect(l.videoTrack).toBeNull();
    expect(vi.mocked(md.getUserMedia).mock.calls.map(([c]) => [askedFor(c.audio), !!c.video])).toEqual([["mic-2", false]]);
    const { join } = await joinMeeting(client);
    expect(join.media).toEqual({ audio_muted: true, video_muted: true, screen_sharing: false });
  });

  it("Rejoin after leaving goes straight back in, muted as before, without opening the camera", async () => {
    const { client, md } = await setup();
    await joinMeeting(client);
    await client.setAudioMuted(true);
    await client.setVideoMuted(true);
    client.leave();
    expect(client.state.getSnapshot().phase).toBe("left");
    vi.mocked(md.getUserMedia).mockClear();
    const sockets = FakeSocket.instances.length;
    await client.rejoin();
    expect(client.state.getSnapshot().phase).toBe("joining");
    await vi.waitFor(() => expect(FakeSocket.instances.length).toBe(sockets + 1));
    const ws = FakeSocket.last();
    ws.open();
    ws.receive(welcome);
    expect(ws.ofType("join")[0].media).toEqual({ audio_muted: true, video_muted: true, screen_sharing: false });
    expect(vi.mocked(md.getUserMedia).mock.calls.every(([c]) => !c.video)).toBe(true);
  });

  it("Rejoin goes from the left screen to joining at once, never through the pre-join", async () => {
    const { client } = await setup();
    await joinMeeting(client);
    client.leave();
    const phases: string[] = [];
    const unsubscribe = client.state.subscribe(() => phases.push(client.state.getSnapshot().phase));
    await client.rejoin();
    await client.rejoin(); // a second click while joining: nothing more
    unsubscribe();
    expect(phases).not.toContain("idle");
    expect(phases.at(-1)).toBe("joining");
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it("a replaced tab releases its devices; 'Use this tab instead' reopens them and joins afresh", async () => {
    const { client, md } = await setup();
    const { ws } = await joinMeeting(client);
    const { audioTrack, videoTrack } = client.local.getSnapshot();
    ws.receive({ type: "error", code: "replaced", message: "another tab" });
    ws.drop(4011);
    expect([audioTrack?.readyState, videoTrack?.readyState]).toEqual(["ended", "ended"]);
    vi.mocked(md.getUserMedia).mockClear();
    await client.rejoin();
    const l = client.local.getSnapshot();
    expect(l.audioTrack?.readyState).toBe("live");
    expect(l.videoTrack?.readyState).toBe("live");
    expect(vi.mocked(md.getUserMedia).mock.calls.some(([c]) => !!c.video)).toBe(true);
    await vi.waitFor(() => expect(FakeSocket.instances).toHaveLength(2));
    const ws2 = FakeSocket.last();
    ws2.open();
    ws2.receive(welcome);
    expect(ws2.ofType("join")[0]).toEqual({ type: "join", meeting_code: "abc-defg-hij", media: { audio_muted: false, video_muted: false, screen_sharing: false } });
  });

  it("a Rejoin that finds the meeting over shows the ended page and releases the devices", async () => {
    const { client } = await setup();
    await joinMeeting(client);
    client.leave();
    await client.rejoin();
    await vi.waitFor(() => expect(FakeSocket.instances).toHaveLength(2));
    const ws = FakeSocket.last();
    ws.open();
    ws.receive(welcome);
    const cam = client.local.getSnapshot().videoTrack;
    ws.receive({ type: "error", code: "meeting_ended", message: "the meeting has ended" });
    expect(client.state.getSnapshot().phase).toBe("ended");
    expect(cam?.readyState).toBe("ended");
    expect(client.local.getSnapshot().videoTrack).toBeNull();
    expect(ws.closedWith).toBe(1000);
  });

  it("a remembered device that is gone gives way to the default one", async () => {
    const { client } = await setup({ gone: ["mic-old", "cam-old"], initial: { audioDeviceId: "mic-old", videoDeviceId: "cam-old" } });
    const l = client.local.getSnapshot();
    expect(l.audioTrack).not.toBeNull();
    expect(l.videoTrack).not.toBeNull();
    expect([l.micProblem, l.cameraProblem]).toEqual([null, null]);
    expect([l.audioDeviceId, l.videoDeviceId]).toEqual(["audio-dev", "video-dev"]); // the devices in use
  });

  it("a replaced session (4011) fails without reconnecting", async () => {
    const { client } = await setup();
    const { ws } = await joinMeeting(client);
    ws.receive({ type: "error", code: "replaced", message: "another tab" });
    ws.drop(4011);
    expect(client.state.getSnapshot()).toMatchObject({ phase: "failed", failure: { code: "replaced" } });
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it("speaking rings and the big tile follow the server's active_speakers", async () => {
    const { client } = await setup();
    const { ws } = await joinMeeting(client);
    const me = client.state.getSnapshot().selfId;
    ws.receive({ type: "active_speakers", speakers: [{ participant_id: me!, level: 60 }] });
    expect(client.levels.getSnapshot()).toEqual({ speaking: { self: true }, activeSpeaker: null });
    ws.receive({ type: "active_speakers", speakers: [] });
    expect(client.levels.getSnapshot().speaking).toEqual({});
  });
});

describe("MeetingClient: hosts in control", () => {
  it("sends each host request as the protocol spells it", async () => {
    const { client } = await setup();
    const { ws } = await joinMeeting(client);
    client.muteParticipant(2, "camera");
    client.askToUnmute(2, "microphone");
    client.removeParticipant(2);
    client.removeParticipant(2, true);
    client.lockMeeting(true);
    client.setCohost(2, true);
    client.raiseHand(true);
    client.lowerHand(2);
    const kinds = ["mute_participant", "ask_to_unmute", "remove_participant", "lock_meeting", "set_cohost", "raise_hand", "lower_hand"];
    expect(ws.sent.filter((m) => kinds.includes(String(m.type)))).toEqual([
      { type: "mute_participant", participant_id: 2, source: "camera" },
      { type: "ask_to_unmute", participant_id: 2, source: "microphone" },
      { type: "remove_participant", participant_id: 2 },
      { type: "remove_participant", participant_id: 2, ban: true },
      { type: "lock_meeting", locked: true },
      { type: "set_cohost", participant_id: 2, cohost: true },
      { type: "raise_hand", raised: true },
      { type: "lower_hand", participant_id: 2 },
    ]);
  });

  it("sends at most one reaction per 250 ms, and a reaction leaves its tile after its time", async () => {
    let now = 1000;
    const { client } = await setup({ reactionTtlMs: 30, now: () => now });
    const { ws } = await joinMeeting(client);
    expect(client.sendReaction("👍")).toBe(true);
    now += 100;
    expect(client.sendReaction("🎉")).toBe(false);
    now += 150;
    expect(client.sendReaction("🎉")).toBe(true);
    expect(ws.ofType("reaction")).toEqual([
      { type: "reaction", emoji: "👍" },
      { type: "reaction", emoji: "🎉" },
    ]);
    ws.receive({ type: "reaction", participant_id: 2, emoji: "👏" });
    expect(client.state.getSnapshot().reactions).toMatchObject([{ participantId: 2, emoji: "👏" }]);
    await vi.waitFor(() => expect(client.state.getSnapshot().reactions).toEqual([]));
  });

  it("muted by a host: the microphone goes off here too, media_state says so, and the notice names the host", async () => {
    const { client } = await setup();
    const { ws, pub } = await joinMeeting(client);
    ws.receive({ type: "muted_by_host", source: "microphone", by: 2 });
    await vi.waitFor(() => expect(ws.ofType("media_state").at(-1)).toMatchObject({ audio_muted: true }));
    expect(client.local.getSnapshot()).toMatchObject({ audioMuted: true });
    expect(client.local.getSnapshot().audioTrack?.enabled).toBe(false);
    expect(pub.transceivers[0].sender.track?.enabled).toBe(false);
    expect(client.state.getSnapshot().notice).toEqual({ code: "muted_by_host", message: "Bo muted your microphone" });
  });

  it("a host turning off the camera releases it; stopping the screen share stops it", async () => {
    const { client } = await setup();
    const { ws } = await joinMeeting(client);
    const cam = client.local.getSnapshot().videoTrack;
    ws.receive({ type: "muted_by_host", source: "camera", by: 2 });
    await vi.waitFor(() => expect(client.local.getSnapshot().videoTrack).toBeNull());
    expect(cam?.readyState).toBe("ended");
    await client.startScreenShare();
    const screen = client.local.getSnapshot().screenTrack;
    ws.receive({ type: "muted_by_host", source: "screen_share", by: 2 });
    await vi.waitFor(() => expect(client.local.getSnapshot().screenTrack).toBeNull());
    expect(screen?.readyState).toBe("ended");
    await vi.waitFor(() => expect(ws.ofType("media_state").at(-1)).toEqual({ type: "media_state", audio_muted: false, video_muted: true, screen_sharing: false }));
  });

  it("an unmute request is only a prompt: the microphone comes on when the participant accepts", async () => {
    const { client } = await setup({ initial: { audioMuted: true } });
    const { ws } = await joinMeeting(client);
    ws.receive({ type: "unmute_requested", source: "microphone", by: 2 });
    expect(client.state.getSnapshot().unmuteRequest).toEqual({ source: "microphone", byName: "Bo" });
    expect(client.local.getSnapshot().audioMuted).toBe(true);
    await client.acceptUnmuteRequest();
    expect(client.local.getSnapshot().audioTrack?.enabled).toBe(true);
    expect(ws.ofType("media_state").at(-1)).toMatchObject({ audio_muted: false });
    expect(client.state.getSnapshot().unmuteRequest).toBeNull();
    // Asked for what is on already: nothing to prompt.
    ws.receive({ type: "unmute_requested", source: "microphone", by: 2 });
    expect(client.state.getSnapshot().unmuteRequest).toBeNull();
  });

  it("removed: the removed page, the devices released, and no reconnection after the 4012 close", async () => {
    const { client } = await setup();
    const { ws, pub } = await joinMeeting(client);
    const { audioTrack, videoTrack } = client.local.getSnapshot();
    ws.receive({ type: "removed", by: 2, banned: true });
    ws.drop(4012);
    expect(client.state.getSnapshot()).toMatchObject({ phase: "removed", removal: { byName: "Bo", banned: true } });
    expect([audioTrack?.readyState, videoTrack?.readyState]).toEqual(["ended", "ended"]);
    expect(pub.closed).toBe(true);
    await client.rejoin(); // kept out: nothing to rejoin
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it("a bare 4012 close (the removed message lost) does not reconnect either", async () => {
    const { client, signaling } = await setup();
    const { ws } = await joinMeeting(client);
    ws.drop(4012);
    expect(client.state.getSnapshot()).toMatchObject({ phase: "removed", removal: { byName: null, banned: false } });
    expect(signaling.state.getSnapshot().status).toBe("closed");
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it("a join refused because the meeting is locked fails, releases the devices, and Try again joins afresh", async () => {
    const { client } = await setup();
    client.join();
    await vi.waitFor(() => expect(FakeSocket.instances.length).toBe(1));
    const ws = FakeSocket.last();
    ws.open();
    ws.receive(welcome);
    const cam = client.local.getSnapshot().videoTrack;
    ws.receive({ type: "error", code: "meeting_locked", message: "the meeting is locked" });
    expect(client.state.getSnapshot()).toMatchObject({ phase: "failed", failure: { code: "meeting_locked" } });
    expect(cam?.readyState).toBe("ended");
    expect(ws.closedWith).toBe(1000);
    await client.rejoin();
    await vi.waitFor(() => expect(FakeSocket.instances).toHaveLength(2));
    FakeSocket.last().open();
    FakeSocket.last().receive(welcome);
    expect(FakeSocket.last().ofType("join")).toHaveLength(1);
  });
});
