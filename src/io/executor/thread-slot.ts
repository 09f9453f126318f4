// The slots a task pool thread shares with the pool (task-thread.ts explains their protocol), in a module of
// their own so that the executor's main thread does not load the task engine the threads run.

/** Indexes into the shared Int32Array of one thread. */
export const ThreadSlot = { CURRENT: 0, ABORT: 1, CANCEL_SEQ: 2, LENGTH: 3 } as const;

/**
 * What CURRENT and ABORT hold for a task: never 0 (0 means no task), and the same Int32 on both sides for any
 * id. Task ids start at 0 (an app's first task) and may pass 2^31, which an Int32 slot keeps only modulo 2^32.
 */
export function slotIdOf(taskId: number): number {
  const id = (taskId + 1) | 0;
  return id === 0 ? 1 : id;
}
