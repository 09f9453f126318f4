// A read-only view of the scheduler for tests, the UI and the progress bar. Plain data, copied: holding on to
// it never sees later changes, and changing it never changes the machine.

import type { ExecutorHistory, JobRunState, TaskAttemptIdentity, TaskHistory } from './history.ts';
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

export interface TaskSnapshot extends TaskAttemptIdentity {
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

/** A job as the application UI lists it. Times are the machine's (the `now` of its inputs). */
export interface JobHistorySnapshot {
  readonly jobId: number;
  readonly description: string;
  readonly state: JobRunState;
  readonly submittedMs: number;
  readonly endedMs: number | undefined;
  readonly tasks: number;
  /** Tasks whose result is in: every task of a succeeded job, as far as a failed one got. */
  readonly tasksDone: number;
  readonly tasksRunning: number;
  readonly failedAttempts: number;
  readonly killedAttempts: number;
  readonly error: string | undefined;
}

export type TaskHistorySnapshot = Readonly<TaskHistory>;

/** An executor, live or removed, with the attempts running on it now. */
export interface ExecutorHistorySnapshot extends Readonly<ExecutorHistory> {
  readonly activeTasks: number;
}

/**
 * What the application UI shows (history.ts): retained jobs in submission order, executors in registration order
 * (removed ones too). Tasks are copied only for the job asked for (`tasksOfJob`), or for none: a job page shows
 * one job's tasks, and the jobs page none, so a render never copies a hundred thousand attempts.
 */
export interface SchedulerHistorySnapshot {
  readonly jobs: readonly JobHistorySnapshot[];
  readonly executors: readonly ExecutorHistorySnapshot[];
  /** The attempts of job `tasksOfJob`, by task id; empty when none was asked for. */
  readonly tasks: readonly TaskHistorySnapshot[];
  /** Ended attempts retained, across all jobs. */
  readonly retainedTasks: number;
}

export function historySnapshot(state: SchedulerState, tasksOfJob?: number): SchedulerHistorySnapshot {
  const { history } = state;
  const jobs: JobHistorySnapshot[] = [...history.jobs.values()].map((job) => {
    let tasksDone = 0;
    let tasksRunning = 0;
    let failedAttempts = 0;
    let killedAttempts = 0;
    for (const taskId of job.taskIds) {
      const taskState = history.tasks.stateOf(taskId);
      if (taskState === 'SUCCESS') tasksDone += 1;
      else if (taskState === 'RUNNING' || taskState === 'GET RESULT') tasksRunning += 1;
      else if (taskState === 'FAILED' || taskState === 'LOST') failedAttempts += 1;
      else if (taskState === 'KILLED') killedAttempts += 1;
    }
    const live = state.jobs.get(job.jobId);
    return {
      jobId: job.jobId,
      description: job.description,
      state: job.state,
      submittedMs: job.submittedMs,
      endedMs: job.endedMs,
      tasks: job.tasks,
      tasksDone: live?.done ?? (job.state === 'SUCCEEDED' ? job.tasks : Math.min(tasksDone, job.tasks)),
      tasksRunning: live?.live.size ?? tasksRunning,
      failedAttempts,
      killedAttempts,
      error: job.error,
    };
  });
  const executors: ExecutorHistorySnapshot[] = [...history.executors.values()].map((e) => ({
    ...e,
    logUrls: { ...e.logUrls },
    activeTasks: e.removedMs === undefined ? (state.executors.get(e.executorId)?.running.size ?? 0) : 0,
  }));
  const taskIds = tasksOfJob === undefined ? [] : (history.jobs.get(tasksOfJob)?.taskIds ?? []);
  const tasks: TaskHistorySnapshot[] = taskIds.flatMap((taskId) => {
    const t = history.tasks.get(taskId);
    return t === undefined ? [] : [t];
  });
  return { jobs, executors, tasks, retainedTasks: history.endedTaskCount };
}
