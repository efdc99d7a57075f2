import type { ClientMessage, LobbyId, MediaState, ParticipantId, ServerMessageOf, TrackSource } from "../protocol";
import type { Store } from "../lib/store";
import { REACTION_MIN_INTERVAL_MS, REACTION_TTL_MS, type Reaction } from "./moderation";
import { expireReaction, type MeetingState } from "./state";

type ModerationMessage = ServerMessageOf<"muted_by_host" | "unmute_requested" | "reaction">;

/**
 * The "hosts in control" part of MeetingClient (which extends it), in its own file: the host
 * and co-host requests (the lobby's too), raised hands and reactions, and what the client does
 * when a host acts on it. The server checks every request (`not_host` otherwise); these only send it, and the
 * outcome comes back as participant_updated, meeting_updated, lobby_updated or participant_left.
 */
export abstract class HostControls {
  abstract readonly state: Store<MeetingState>;
  protected abstract send(msg: ClientMessage): boolean;
  protected abstract mediaState(): MediaState;
  abstract setAudioMuted(muted: boolean): Promise<void>;
  abstract setVideoMuted(muted: boolean): Promise<void>;
  abstract stopScreenShare(): Promise<void>;

  private lastReactionAt = -Infinity;
  private readonly reactionTimers = new Set<ReturnType<typeof setTimeout>>();

  constructor(
    private readonly reactionTtlMs = REACTION_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  muteParticipant(id: ParticipantId, source: TrackSource): boolean {
    return this.send({ type: "mute_participant", participant_id: id, source });
  }

  askToUnmute(id: ParticipantId, source: TrackSource): boolean {
    return this.send({ type: "ask_to_unmute", participant_id: id, source });
  }

  /** With `ban`, the user cannot join this meeting again while it lives. */
  removeParticipant(id: ParticipantId, ban = false): boolean {
    return this.send({ type: "remove_participant", participant_id: id, ...(ban ? { ban: true } : {}) });
  }

  lockMeeting(locked: boolean): boolean {
    return this.send({ type: "lock_meeting", locked });
  }

  /** Off admits everyone waiting. */
  setLobby(enabled: boolean): boolean {
    return this.send({ type: "set_lobby", enabled });
  }

  /** Let people without an account join by the link (guests already in stay when turned off). */
  allowGuests(allowed: boolean): boolean {
    return this.send({ type: "allow_guests", allowed });
  }

  admit(id: LobbyId): boolean {
    return this.send({ type: "admit", lobby_id: id });
  }

  deny(id: LobbyId): boolean {
    return this.send({ type: "deny", lobby_id: id });
  }

  admitAll(): boolean {
    return this.send({ type: "admit_all" });
  }

  dismissLobbyAlert(): void {
    this.state.set((s) => (s.lobbyAlert ? { ...s, lobbyAlert: null } : s));
  }

  /** Host only. */
  setCohost(id: ParticipantId, cohost: boolean): boolean {
    return this.send({ type: "set_cohost", participant_id: id, cohost });
  }

  /** Our own hand; it shows once the server echoes our participant_updated. */
  raiseHand(raised: boolean): boolean {
    return this.send({ type: "raise_hand", raised });
  }

  /** Someone else's hand (a host or co-host). */
  lowerHand(id: ParticipantId): boolean {
    return this.send({ type: "lower_hand", participant_id: id });
  }

  /** At most one per REACTION_MIN_INTERVAL_MS: a faster one is dropped here rather than refused by the server. */
  sendReaction(emoji: Reaction): boolean {
    const now = this.now();
    if (now - this.lastReactionAt < REACTION_MIN_INTERVAL_MS) return false;
    if (!this.send({ type: "reaction", emoji })) return false;
    this.lastReactionAt = now;
    return true;
  }

  /** "Unmute" on a host's request: our own choice, so it goes through the usual toggles (and media_state). */
  async acceptUnmuteRequest(): Promise<void> {
    const req = this.state.getSnapshot().unmuteRequest;
    this.dismissUnmuteRequest();
    if (req?.source === "microphone") await this.setAudioMuted(false);
    else if (req?.source === "camera") await this.setVideoMuted(false);
  }

  dismissUnmuteRequest(): void {
    this.state.set((s) => (s.unmuteRequest ? { ...s, unmuteRequest: null } : s));
  }

  /** After the reducer has taken the message in. */
  protected onModeration(msg: ModerationMessage): void {
    switch (msg.type) {
      case "muted_by_host":
        // The server already stopped forwarding it: turn it off here too, so the controls and
        // our media_state agree, and the host has to ask before it comes back.
        if (msg.source === "microphone") void this.setAudioMuted(true);
        else if (msg.source === "camera") void this.setVideoMuted(true);
        else void this.stopScreenShare();
        break;
      case "unmute_requested":
        if (this.isOn(msg.source)) this.dismissUnmuteRequest();
        break;
      case "reaction": {
        const last = this.state.getSnapshot().reactions.at(-1);
        if (last) this.expireLater(last.seq);
        break;
      }
    }
  }

  protected clearReactionTimers(): void {
    for (const t of this.reactionTimers) clearTimeout(t);
    this.reactionTimers.clear();
  }

  private isOn(source: TrackSource): boolean {
    const m = this.mediaState();
    return source === "microphone" ? !m.audio_muted : source === "camera" ? !m.video_muted : m.screen_sharing;
  }

  private expireLater(seq: number): void {
    const t = setTimeout(() => {
      this.reactionTimers.delete(t);
      this.state.set((s) => expireReaction(s, seq));
    }, this.reactionTtlMs);
    this.reactionTimers.add(t);
  }
}
