// The slots a task pool thread shares with the pool (task-thread.ts explains their protocol), in a module of
// their own so that the executor's main thread does not load the task engine the threads run.

/** Indexes into the shared Int32Array of one thread. */
export const ThreadSlot = { CURRENT: 0, ABORT: 1, CANCEL_SEQ: 2, LENGTH: 3 } as const;
