// A read-only view of the scheduler for tests, the UI and the progress bar. Plain data, copied: holding on to
// it never sees later changes, and changing it never changes the machine.

import { pendingCount, sortedIds, type PartitionState, type SchedulerState } from './state.ts';

export interface ExecutorSnapshot {
  readonly executorId: string;
  readonly address: string;
  readonly host: string;
  readonly cores: number;
  readonly launched: boolean;
  readonly freeCores: number;
  readonly lastSeenMs: number;
  /** Task ids occupying a core, ascending. */
  readonly runningTasks: readonly number[];
}

export interface JobSnapshot {
  readonly jobId: number;
  readonly total: number;
  readonly done: number;
  /** Live attempts: running, or with their result being fetched. */
  readonly running: number;
  readonly pending: number;
  /** Per task index. */
  readonly states: readonly PartitionState[];
  /** Failures counted toward `maxFailures`, per task index. */
  readonly failures: readonly number[];
  readonly resultBytes: number;
}

export interface TaskSnapshot {
  readonly taskId: number;
  readonly jobId: number;
  readonly index: number;
  readonly partition: number;
  readonly attempt: number;
  readonly executorId: string;
  readonly phase: 'running' | 'fetching';
  /** The job is over; the attempt is tracked only until the executor reports it ended (or is lost). */
  readonly zombie: boolean;
}

export interface TaskSchedulerSnapshot {
  readonly stopped: boolean;
  /** In offer order (executor id order). */
  readonly executors: readonly ExecutorSnapshot[];
  readonly freeCores: number;
  /** Unfinished jobs, in FIFO order. */
  readonly jobs: readonly JobSnapshot[];
  /** Tracked attempts, by task id. */
  readonly tasks: readonly TaskSnapshot[];
  readonly jobsSucceeded: number;
  readonly jobsFailed: number;
}

export function schedulerSnapshot(state: SchedulerState): TaskSchedulerSnapshot {
  const executors: ExecutorSnapshot[] = [];
  for (const executorId of state.executorOrder) {
    const e = state.executors.get(executorId);
    if (e === undefined) continue;
    executors.push({
      executorId,
      address: e.address,
      host: e.host,
      cores: e.cores,
      launched: e.launched,
      freeCores: Math.max(0, e.freeCores),
      lastSeenMs: e.lastSeenMs,
      runningTasks: sortedIds(e.running),
    });
  }
  const jobs: JobSnapshot[] = [...state.jobs.values()].map((job) => ({
    jobId: job.jobId,
    total: job.tasks.length,
    done: job.done,
    running: job.live.size,
    pending: pendingCount(job),
    states: [...job.states],
    failures: [...job.failures],
    resultBytes: job.resultBytes,
  }));
  const tasks: TaskSnapshot[] = sortedIds(state.tasks.keys()).flatMap((taskId) => {
    const t = state.tasks.get(taskId);
    if (t === undefined) return [];
    const partition = t.job.tasks[t.index]?.partition ?? t.index;
    return [
      {
        taskId,
        jobId: t.job.jobId,
        index: t.index,
        partition,
        attempt: t.attempt,
        executorId: t.executorId,
        phase: t.phase,
        zombie: !t.job.active,
      },
    ];
  });
  return {
    stopped: state.stopped,
    executors,
    freeCores: executors.reduce((sum, e) => sum + Math.max(0, e.freeCores), 0),
    jobs,
    tasks,
    jobsSucceeded: state.jobsSucceeded,
    jobsFailed: state.jobsFailed,
  };
}
