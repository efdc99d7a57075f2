import type {
  ChatMessage,
  EndReason,
  LobbyEntry,
  MeetingInfo,
  ParticipantId,
  ParticipantInfo,
  RemoteTrack,
  ServerMessage,
  TrackSource,
} from "../protocol";
import { isReaction, mutedNotice, type Reaction } from "./moderation";
import { lobbyAlertAfter } from "./lobby";

export type Phase =
  /** Not joined yet (pre-join). */
  | "idle"
  | "joining"
  /** In the meeting's lobby (`lobby_waiting`): `joined` follows if a host admits us. */
  | "waiting"
  | "joined"
  /** The signaling connection dropped; trying to resume. */
  | "reconnecting"
  | "ended"
  | "left"
  /** A host removed us (see `removal`); never reconnected. */
  | "removed"
  /** Could not join or lost for good: see `failure`. */
  | "failed";

/** Whether we hold, or are asking for, a place in the meeting (a join, the lobby, the meeting itself). */
export function isActive(phase: Phase): boolean {
  return phase === "joining" || phase === "waiting" || phase === "joined" || phase === "reconnecting";
}

export interface Problem {
  code: string;
  message: string;
}

/** A reaction floating over its sender's tile until `expireReaction` takes it away. */
export interface ReactionEntry {
  /** Increasing per client: the entry's key and what expires it. */
  seq: number;
  participantId: ParticipantId;
  emoji: Reaction;
}

/** A host asked us to turn a source on: a prompt, never done for us. */
export interface UnmuteRequest {
  source: TrackSource;
  byName: string;
}

export interface Removal {
  byName: string | null;
  banned: boolean;
}

export interface MeetingState {
  phase: Phase;
  selfId: ParticipantId | null;
  meeting: MeetingInfo | null;
  /**
   * Our own ParticipantInfo as the server last told it (`joined.you`, then any
   * `participant_updated` about us: a raised hand, co-host rights); null before joining.
   */
  me: ParticipantInfo | null;
  /** Everyone else, by participant id. */
  participants: Record<number, ParticipantInfo>;
  /** Participant ids in join order. */
  order: ParticipantId[];
  /** What each subscribe-connection mid carries (from the latest subscriber_offer). */
  remoteTracks: Record<string, RemoteTrack>;
  chat: ChatMessage[];
  chatOpen: boolean;
  unread: number;
  endedReason: EndReason | null;
  failure: Problem | null;
  /** A transient, non-fatal problem to show to the user. */
  notice: Problem | null;
  reactions: ReactionEntry[];
  reactionSeq: number;
  unmuteRequest: UnmuteRequest | null;
  removal: Removal | null;
  resumed: boolean;
  /** Who waits in the lobby (`lobby_updated`; hosts and co-hosts only), in order of arrival. */
  lobby: LobbyEntry[];
  /** The latest arrival in the lobby, announced until dismissed or no longer waiting. */
  lobbyAlert: LobbyEntry | null;
}

export const initialMeetingState: MeetingState = {
  phase: "idle",
  selfId: null,
  meeting: null,
  me: null,
  participants: {},
  order: [],
  remoteTracks: {},
  chat: [],
  chatOpen: false,
  unread: 0,
  endedReason: null,
  failure: null,
  notice: null,
  reactions: [],
  reactionSeq: 0,
  unmuteRequest: null,
  removal: null,
  resumed: false,
  lobby: [],
  lobbyAlert: null,
};

const MAX_CHAT = 500;
/** Reactions in flight at most (a burst from many people drops the oldest). */
const MAX_REACTIONS = 50;

function upsert(state: MeetingState, p: ParticipantInfo): MeetingState {
  if (p.id === state.selfId) {
    // Co-host rights taken away: the server stops telling us about the lobby.
    const rights = p.is_host || p.is_cohost;
    return { ...state, me: p, ...(rights ? {} : { lobby: [], lobbyAlert: null }) };
  }
  const exists = p.id in state.participants;
  return {
    ...state,
    participants: { ...state.participants, [p.id]: p },
    order: exists ? state.order : [...state.order, p.id],
  };
}

function remove(state: MeetingState, id: ParticipantId): MeetingState {
  if (!(id in state.participants)) return state;
  const participants = { ...state.participants };
  delete participants[id];
  const remoteTracks: Record<string, RemoteTrack> = {};
  for (const [mid, t] of Object.entries(state.remoteTracks)) if (t.participant_id !== id) remoteTracks[mid] = t;
  return { ...state, participants, order: state.order.filter((x) => x !== id), remoteTracks };
}

/** The meeting's chat history from `joined`, merged by id into what this client already holds
 * (after a resume it repeats messages we have). History never counts as unread. */
function mergeChat(held: ChatMessage[], history: ChatMessage[]): ChatMessage[] {
  const byId = new Map(held.map((c) => [String(c.id), c]));
  for (const c of history) byId.set(String(c.id), c);
  const list = [...byId.values()].sort((a, b) => Number(a.id) - Number(b.id));
  return list.length > MAX_CHAT ? list.slice(list.length - MAX_CHAT) : list;
}

/** Pure state transitions for the meeting-level server messages (SDP handling is elsewhere). */
export function reduceServerMessage(state: MeetingState, msg: ServerMessage): MeetingState {
  switch (msg.type) {
    case "joined": {
      const participants: Record<number, ParticipantInfo> = {};
      const order: ParticipantId[] = [];
      // On a resume keep the join order we already had for people still there.
      const known = msg.resumed ? state.order : [];
      const incoming = msg.participants.filter((p) => p.id !== msg.participant_id);
      for (const p of incoming) participants[p.id] = p;
      for (const id of known) if (id in participants) order.push(id);
      for (const p of incoming) if (!order.includes(p.id)) order.push(p.id);
      return {
        ...state,
        phase: "joined",
        selfId: msg.participant_id,
        meeting: msg.meeting,
        me: msg.you,
        participants,
        order,
        remoteTracks: msg.resumed ? state.remoteTracks : {},
        chat: mergeChat(state.chat, msg.chat_history),
        failure: null,
        resumed: msg.resumed,
        // A host hears of the lobby right after `joined` (when anyone waits), never before.
        lobby: [],
        lobbyAlert: null,
      };
    }
    case "lobby_waiting":
      return { ...state, phase: "waiting", meeting: msg.meeting, failure: null };
    case "lobby_updated":
      return { ...state, lobby: msg.waiting, lobbyAlert: lobbyAlertAfter(state.lobby, state.lobbyAlert, msg.waiting) };
    case "participant_joined":
    case "participant_updated":
      return upsert(state, msg.participant);
    case "participant_left":
      return remove(state, msg.participant_id);
    case "subscriber_offer": {
      const remoteTracks: Record<string, RemoteTrack> = {};
      for (const t of msg.tracks) remoteTracks[t.mid] = t;
      return { ...state, remoteTracks };
    }
    case "chat": {
      const { type: _type, ...chat } = msg;
      if (state.chat.some((c) => String(c.id) === String(chat.id))) return state;
      const mine = chat.participant_id === state.selfId;
      const list = [...state.chat, chat];
      return {
        ...state,
        chat: list.length > MAX_CHAT ? list.slice(list.length - MAX_CHAT) : list,
        unread: state.chatOpen || mine ? state.unread : state.unread + 1,
      };
    }
    case "meeting_ended":
      return { ...state, phase: "ended", endedReason: msg.reason };
    case "meeting_updated":
      return { ...state, meeting: msg.meeting };
    case "muted_by_host":
      return {
        ...state,
        notice: { code: "muted_by_host", message: mutedNotice(nameOf(state, msg.by), msg.source) },
        unmuteRequest: state.unmuteRequest?.source === msg.source ? null : state.unmuteRequest,
      };
    case "unmute_requested":
      return { ...state, unmuteRequest: { source: msg.source, byName: nameOf(state, msg.by) } };
    case "removed":
      return { ...state, phase: "removed", removal: { byName: nameOf(state, msg.by), banned: msg.banned }, unmuteRequest: null, reactions: [] };
    case "reaction": {
      if (!isReaction(msg.emoji)) return state;
      const seq = state.reactionSeq + 1;
      const list = [...state.reactions, { seq, participantId: msg.participant_id, emoji: msg.emoji }];
      return { ...state, reactionSeq: seq, reactions: list.length > MAX_REACTIONS ? list.slice(list.length - MAX_REACTIONS) : list };
    }
    case "error":
      return reduceError(state, { code: msg.code, message: msg.message });
    default:
      return state;
  }
}

function reduceError(state: MeetingState, err: Problem): MeetingState {
  switch (err.code) {
    case "meeting_not_found":
    case "unauthenticated":
    case "auth_timeout":
    case "unsupported_version":
    case "replaced":
    case "meeting_locked": // a join refused: locked, or this user was removed and kept out
    case "removed":
    case "lobby_denied": // turned away from the lobby, or nobody let us in: we may ask again
    case "lobby_timeout":
    case "guests_not_allowed": // a guest's join, after a host stopped letting guests in
      return { ...state, phase: "failed", failure: err };
    case "meeting_ended":
      // A (re)join found the meeting over: why it ended is not known here, so no reason is made up.
      return { ...state, phase: "ended", endedReason: state.endedReason };
    case "already_joined":
    case "resume_failed":
      return state;
    default:
      return { ...state, notice: err };
  }
}

/** Who did something, by participant id, for a sentence ("A host" when not in our list). */
function nameOf(state: MeetingState, id: ParticipantId): string {
  return state.participants[id]?.name ?? "A host";
}

/** A reaction's time is up. */
export function expireReaction(state: MeetingState, seq: number): MeetingState {
  if (!state.reactions.some((r) => r.seq === seq)) return state;
  return { ...state, reactions: state.reactions.filter((r) => r.seq !== seq) };
}

export function setChatOpen(state: MeetingState, open: boolean): MeetingState {
  if (state.chatOpen === open && (!open || state.unread === 0)) return state;
  return { ...state, chatOpen: open, unread: open ? 0 : state.unread };
}

/** A user-facing sentence for an error code from the server. */
export function describeProblem(p: Problem): string {
  switch (p.code) {
    case "meeting_not_found":
      return "There is no meeting with this code.";
    case "replaced":
      return "You joined this meeting from another tab or device, so this one was disconnected.";
    case "unauthenticated":
      return "Your session has expired. Please log in again.";
    case "rate_limited":
      return "Too many requests. Please wait a moment.";
    case "not_host":
      return "Only a host or co-host can do that.";
    case "unknown_participant":
      return "That person is no longer in the meeting.";
    case "meeting_locked":
      return "This meeting is locked: nobody new can join. Ask a host to unlock it, then try again.";
    case "removed":
      return "A host removed you from this meeting. You can't rejoin it.";
    case "lobby_denied":
      return "A host didn't let you into this meeting.";
    case "lobby_timeout":
      return "Nobody let you in while you waited. You can ask to join again.";
    case "guests_not_allowed":
      return "This meeting doesn't let guests in any more. Sign in or register to join it.";
    case "chat_invalid":
      return "That message could not be sent (empty or too long).";
    case "connection_lost":
      return "The connection to the server was lost.";
    default:
      return p.message || p.code;
  }
}

export function describeEndReason(r: EndReason | null): string {
  switch (r) {
    case "host_ended":
      return "The host ended the meeting for everyone.";
    case "empty":
      return "Everyone left, so the meeting ended.";
    case "server_shutdown":
      return "The server was shut down.";
    default:
      // Shown under the title "The meeting has ended": say what to do, not that again.
      return "Its link no longer opens a meeting. Start a new one from your dashboard.";
  }
}
