// LeaderElection: tells a master when it leads and when it must stop (Spark's LeaderElectionAgent).
//
// Contract:
// - `start` begins the election; `granted` and `revoked` are called from the event loop, never re-entrantly
//   inside `start`. They alternate, starting with `granted`.
// - After `revoked` the master must stop acting as leader at once (no scheduling, no launches).
// - `close` withdraws from the election; no handler is called after it resolves.
// - An implementation reports events; it never decides cluster policy.

export interface LeadershipHandlers {
  granted(): void;
  revoked(): void;
}

export interface LeaderElection {
  start(handlers: LeadershipHandlers): void;
  close(): Promise<void>;
}

/** The only master leads at once and forever (recovery modes NONE and FILESYSTEM): MonarchyLeaderAgent. */
export class MonarchyLeaderElection implements LeaderElection {
  #closed = false;

  start(handlers: LeadershipHandlers): void {
    queueMicrotask(() => {
      if (!this.#closed) handlers.granted();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}
