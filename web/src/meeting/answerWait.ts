/**
 * The one publish offer waiting for its `publish_answer`. A newer offer supersedes it, and an
 * answer that never comes is reported after the timeout instead of being waited for forever.
 */
export class AnswerWait {
  private pending: { resolve: (sdp: string) => void; reject: (err: Error) => void; timer: ReturnType<typeof setTimeout> } | null = null;

  constructor(private readonly timeoutMs: number) {}

  /** Waits for the answer to the offer about to be sent. */
  next(): Promise<string> {
    this.reject(new Error("superseded"));
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending?.timer === timer) this.pending = null;
        reject(new Error("no publish_answer from the server"));
      }, this.timeoutMs);
      this.pending = { resolve, reject, timer };
    });
  }

  /** The server's answer, to whoever waits for it. */
  resolve(sdp: string): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    clearTimeout(p.timer);
    p.resolve(sdp);
  }

  reject(err: Error): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    clearTimeout(p.timer);
    p.reject(err);
  }
}
