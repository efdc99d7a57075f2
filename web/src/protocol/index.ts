// Thin re-export of the protocol types generated from signaling/src/protocol.rs by ts-rs.
// Import protocol types from here, never redefine them.
export type { ChatMessage } from "./generated/ChatMessage";
export type { ClientMessage } from "./generated/ClientMessage";
export type { ConnectionState } from "./generated/ConnectionState";
export type { EndReason } from "./generated/EndReason";
export type { ErrorBody } from "./generated/ErrorBody";
export type { ErrorCode } from "./generated/ErrorCode";
export type { IceServer } from "./generated/IceServer";
export type { LeaveReason } from "./generated/LeaveReason";
export type { LobbyEntry } from "./generated/LobbyEntry";
export type { LobbyId } from "./generated/LobbyId";
export type { MediaKind } from "./generated/MediaKind";
export type { MediaState } from "./generated/MediaState";
export type { MeetingInfo } from "./generated/MeetingInfo";
export type { ParticipantId } from "./generated/ParticipantId";
export type { ParticipantInfo } from "./generated/ParticipantInfo";
export type { PcKind } from "./generated/PcKind";
export type { PublishedTrack } from "./generated/PublishedTrack";
export type { RemoteTrack } from "./generated/RemoteTrack";
export type { ServerMessage } from "./generated/ServerMessage";
export type { SpeakerLevel } from "./generated/SpeakerLevel";
export type { TrackDecl } from "./generated/TrackDecl";
export type { TrackFlow } from "./generated/TrackFlow";
export type { TrackSetting } from "./generated/TrackSetting";
export type { TrackSource } from "./generated/TrackSource";

/** PROTOCOL_VERSION in signaling/src/protocol.rs. */
export const PROTOCOL_VERSION = 1;

/** WebSocket close codes the server uses (ErrorCode::close_code in protocol.rs). */
export const CloseCode = {
  Normal: 1000,
  Unauthenticated: 4001,
  AuthTimeout: 4002,
  UnsupportedVersion: 4003,
  MeetingNotFound: 4004,
  JoinTimeout: 4005,
  MeetingEnded: 4010,
  Replaced: 4011,
  /** A host removed the participant: never reconnect. */
  Removed: 4012,
  RateLimited: 4029,
  /** `unavailable`: the server could not check the token; reconnecting later helps. */
  TryAgainLater: 1013,
} as const;

/** Narrow a server message by its `type` tag. */
export type ServerMessageOf<T extends import("./generated/ServerMessage").ServerMessage["type"]> = Extract<
  import("./generated/ServerMessage").ServerMessage,
  { type: T }
>;
