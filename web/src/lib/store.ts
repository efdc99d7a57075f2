/**
 * A minimal external store (subscribe / getSnapshot) for `useSyncExternalStore`.
 * State is replaced immutably; listeners run synchronously after each change.
 */
export type Listener = () => void;

export class Store<T> {
  private state: T;
  private readonly listeners = new Set<Listener>();

  constructor(initial: T) {
    this.state = initial;
  }

  readonly getSnapshot = (): T => this.state;

  readonly subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  /** Replace the state (or derive it from the previous one). No-op when it is the same object. */
  set(next: T | ((prev: T) => T)): void {
    const value = typeof next === "function" ? (next as (prev: T) => T)(this.state) : next;
    if (Object.is(value, this.state)) return;
    this.state = value;
    for (const l of [...this.listeners]) l();
  }

  /** Shallow-merge a partial object into an object state. */
  patch(partial: Partial<T>): void {
    this.set((prev) => ({ ...prev, ...partial }));
  }
}
