import type { CaptureProblem } from "./media";

/** The parts of `navigator.mediaDevices` this client uses (tests pass a fake). */
export interface MediaDevicesLike {
  getUserMedia(constraints: MediaStreamConstraints): Promise<MediaStream>;
  getDisplayMedia?(options?: DisplayMediaStreamOptions): Promise<MediaStream>;
  enumerateDevices(): Promise<MediaDeviceInfo[]>;
}

export type PeerConnectionFactory = (config: RTCConfiguration) => RTCPeerConnection;

export interface DeviceOption {
  deviceId: string;
  label: string;
}

export interface LocalState {
  audioTrack: MediaStreamTrack | null;
  /** Null while the camera is off: the camera is released, not just disabled. */
  videoTrack: MediaStreamTrack | null;
  screenTrack: MediaStreamTrack | null;
  audioMuted: boolean;
  videoMuted: boolean;
  audioDeviceId: string | null;
  /** The speaker remote audio plays on (`setSinkId`; null: the default output). */
  audioOutputId: string | null;
  videoDeviceId: string | null;
  devices: { audioinput: DeviceOption[]; videoinput: DeviceOption[]; audiooutput: DeviceOption[] };
  micProblem: CaptureProblem | null;
  cameraProblem: CaptureProblem | null;
  screenProblem: CaptureProblem | null;
  acquiring: boolean;
}

/** Tracks received from one participant, by what they carry. */
export interface RemoteMedia {
  audio: MediaStreamTrack[];
  camera: MediaStreamTrack | null;
  screen: MediaStreamTrack | null;
}

export interface PeerStates {
  publish: RTCPeerConnectionState | "none";
  subscribe: RTCPeerConnectionState | "none";
}
