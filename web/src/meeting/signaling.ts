import { CloseCode, PROTOCOL_VERSION, type ClientMessage, type ServerMessage, type ServerMessageOf } from "../protocol";
import { Store } from "../lib/store";

/** The part of the browser WebSocket this code uses, so tests can pass a fake. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: Event) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onerror: ((ev: Event) => void) | null;
}
export type SocketFactory = (url: string) => SocketLike;

export type ConnectionStatus = "idle" | "connecting" | "open" | "reconnecting" | "closed";

export interface ConnectionState {
  status: ConnectionStatus;
  /** Reconnection attempts since the connection was last ready. */
  attempt: number;
  closeCode: number | null;
  closeReason: string | null;
  welcome: ServerMessageOf<"welcome"> | null;
}

export interface SignalingOptions {
  url: string;
  /** The REST access token; `force` asks for a refreshed one (after a 4001 close). */
  getToken: (force: boolean) => Promise<string>;
  socketFactory?: SocketFactory;
  /** Delay before reconnection attempt `n` (1-based). */
  backoff?: (attempt: number) => number;
  maxAttempts?: number;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
  now?: () => number;
}

const OPEN = 1;

/** Close codes after which reconnecting cannot help. */
const FINAL_CLOSE_CODES = new Set<number>([
  CloseCode.AuthTimeout,
  CloseCode.UnsupportedVersion,
  CloseCode.MeetingNotFound,
  CloseCode.MeetingEnded,
  CloseCode.Replaced,
  CloseCode.Removed,
]);

export function defaultBackoff(attempt: number): number {
  const base = Math.min(10_000, 500 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.5 + Math.random() * 0.5));
}

type MessageListener = (msg: ServerMessage) => void;
type ReadyListener = (welcome: ServerMessageOf<"welcome">, isReconnect: boolean) => void;
type ClosedListener = (code: number, reason: string, willReconnect: boolean) => void;

/**
 * One signaling session: opens the WebSocket, says `hello` first, keeps it alive with `ping`,
 * and reopens it with backoff when it drops unexpectedly. Knows nothing about meetings.
 */
export class SignalingConnection {
  readonly state = new Store<ConnectionState>({
    status: "idle",
    attempt: 0,
    closeCode: null,
    closeReason: null,
    welcome: null,
  });

  private socket: SocketLike | null = null;
  private wanted = false;
  private everReady = false;
  private forcedRefreshTried = false;
  private retryTimer: unknown = null;
  private heartbeatTimer: unknown = null;
  private lastHeard = 0;
  private generation = 0;
  private readonly messageListeners = new Set<MessageListener>();
  private readonly readyListeners = new Set<ReadyListener>();
  private readonly closedListeners = new Set<ClosedListener>();
  private readonly opts: Required<Omit<SignalingOptions, "url" | "getToken">> & Pick<SignalingOptions, "url" | "getToken">;

  constructor(opts: SignalingOptions) {
    this.opts = {
      socketFactory: (url) => new WebSocket(url) as unknown as SocketLike,
      backoff: defaultBackoff,
      maxAttempts: 12,
      setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
      clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof globalThis.setTimeout>),
      now: Date.now,
      // An option passed as `undefined` keeps its default.
      ...(Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as SignalingOptions),
    };
  }

  get isReady(): boolean {
    return this.state.getSnapshot().status === "open";
  }

  onMessage(fn: MessageListener): () => void {
    this.messageListeners.add(fn);
    return () => this.messageListeners.delete(fn);
  }
  onReady(fn: ReadyListener): () => void {
    this.readyListeners.add(fn);
    return () => this.readyListeners.delete(fn);
  }
  onClosed(fn: ClosedListener): () => void {
    this.closedListeners.add(fn);
    return () => this.closedListeners.delete(fn);
  }

  /** Open the connection (idempotent). */
  connect(): void {
    if (this.wanted) return;
    this.wanted = true;
    this.everReady = false;
    this.forcedRefreshTried = false;
    this.state.patch({ status: "connecting", attempt: 0, closeCode: null, closeReason: null });
    void this.open(false);
  }

  /** Close on purpose: no reconnection. */
  close(code: number = CloseCode.Normal, reason = "bye"): void {
    this.wanted = false;
    this.clearTimers();
    this.generation++;
    const s = this.socket;
    this.socket = null;
    if (s) {
      s.onopen = s.onmessage = s.onerror = s.onclose = null;
      try {
        s.close(code, reason);
      } catch {
        /* already closed */
      }
    }
    if (this.state.getSnapshot().status !== "idle") this.state.patch({ status: "closed", closeCode: code, closeReason: reason });
  }

  send(msg: ClientMessage): boolean {
    const s = this.socket;
    if (!s || s.readyState !== OPEN) return false;
    s.send(JSON.stringify(msg));
    return true;
  }

  private async open(forceToken: boolean): Promise<void> {
    const gen = ++this.generation;
    let token: string;
    try {
      token = await this.opts.getToken(forceToken);
    } catch {
      if (gen !== this.generation || !this.wanted) return;
      this.finish(CloseCode.Unauthenticated, "not logged in", false);
      return;
    }
    if (gen !== this.generation || !this.wanted) return;
    let socket: SocketLike;
    try {
      socket = this.opts.socketFactory(this.opts.url);
    } catch {
      this.handleClose(gen, 1006, "cannot open socket");
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (gen !== this.generation) return;
      this.lastHeard = this.opts.now();
      socket.send(JSON.stringify({ type: "hello", version: PROTOCOL_VERSION, token } satisfies ClientMessage));
    };
    socket.onmessage = (ev) => {
      if (gen !== this.generation) return;
      this.lastHeard = this.opts.now();
      let msg: ServerMessage;
      try {
        msg = JSON.parse(String(ev.data)) as ServerMessage;
      } catch {
        return;
      }
      if (!msg || typeof msg !== "object" || typeof msg.type !== "string") return;
      if (msg.type === "welcome") {
        const isReconnect = this.everReady;
        this.everReady = true;
        this.forcedRefreshTried = false;
        this.state.patch({ status: "open", attempt: 0, welcome: msg, closeCode: null, closeReason: null });
        this.startHeartbeat(gen, msg.heartbeat_interval_ms);
        for (const l of [...this.readyListeners]) l(msg, isReconnect);
        return;
      }
      for (const l of [...this.messageListeners]) l(msg);
    };
    socket.onerror = () => {
      /* a close event follows */
    };
    socket.onclose = (ev) => this.handleClose(gen, ev.code, ev.reason);
  }

  private startHeartbeat(gen: number, intervalMs: number): void {
    this.stopHeartbeat();
    const interval = Math.max(1000, intervalMs || 15_000);
    const tick = () => {
      if (gen !== this.generation) return;
      if (this.opts.now() - this.lastHeard > interval * 2.5) {
        // The peer went silent: treat as a dropped connection without waiting for TCP.
        const s = this.socket;
        if (s) {
          s.onopen = s.onmessage = s.onerror = s.onclose = null;
          try {
            s.close(4000, "heartbeat timeout");
          } catch {
            /* ignore */
          }
        }
        this.handleClose(gen, 1006, "heartbeat timeout");
        return;
      }
      this.send({ type: "ping" });
      this.heartbeatTimer = this.opts.setTimeout(tick, interval);
    };
    this.heartbeatTimer = this.opts.setTimeout(tick, interval);
  }

  private handleClose(gen: number, code: number, reason: string): void {
    if (gen !== this.generation) return;
    this.socket = null;
    this.stopHeartbeat();
    if (!this.wanted) return;
    if (code === CloseCode.Unauthenticated && !this.forcedRefreshTried) {
      // Probably an access token that expired between fetch and hello: refresh and retry once.
      this.forcedRefreshTried = true;
      this.scheduleReconnect(code, reason, true);
      return;
    }
    if (code === CloseCode.Unauthenticated || FINAL_CLOSE_CODES.has(code)) {
      this.finish(code, reason, false);
      return;
    }
    this.scheduleReconnect(code, reason, false);
  }

  private scheduleReconnect(code: number, reason: string, forceToken: boolean): void {
    const attempt = this.state.getSnapshot().attempt + 1;
    if (attempt > this.opts.maxAttempts) {
      this.finish(code, reason, false);
      return;
    }
    const delay = code === CloseCode.RateLimited ? Math.max(10_000, this.opts.backoff(attempt)) : this.opts.backoff(attempt);
    this.state.patch({ status: this.everReady ? "reconnecting" : "connecting", attempt, closeCode: code, closeReason: reason });
    for (const l of [...this.closedListeners]) l(code, reason, true);
    this.retryTimer = this.opts.setTimeout(() => {
      this.retryTimer = null;
      if (this.wanted) void this.open(forceToken);
    }, delay);
  }

  private finish(code: number, reason: string, willReconnect: boolean): void {
    this.wanted = false;
    this.clearTimers();
    this.state.patch({ status: "closed", closeCode: code, closeReason: reason });
    for (const l of [...this.closedListeners]) l(code, reason, willReconnect);
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer !== null) this.opts.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  private clearTimers(): void {
    this.stopHeartbeat();
    if (this.retryTimer !== null) this.opts.clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}
