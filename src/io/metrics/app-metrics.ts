// An application's metrics, on its driver's UI (docs/metrics.md): Spark's `DAGSchedulerSource` and
// `AppStatusSource` (jobs, stages, tasks), the task duration histogram, shuffle and result bytes, executors
// (`/metrics/prometheus`), and each executor's figures with an `executor_id` label (`/metrics/executors/prometheus`,
// Spark's `ExecutorSummary` metrics: active and completed tasks, task time, GC time, heap, RSS).
//
// Events are counted here in plain numbers as they arrive, one increment each: a task's end (`statusUpdate`), a
// job's or stage's start and end and the shuffle bytes (`DagEvents`), and each heartbeat's figures, kept by
// executor id (`heartbeat`). Live figures (active tasks, executors) are read from the task scheduler's snapshots.
// prom-client and its registries (app-metrics-registry.ts) are loaded at the first scrape: they are some 200 KB of
// JavaScript with OpenTelemetry's API, which every driver would otherwise load before its app's first line runs
// (bench:submit; most apps are never scraped).

import type { DagEvents } from '../../api/dag-runner.ts';
import type { TaskSchedulerMachine } from '../../driver/index.ts';
import type { ExecutorFigures, ExecutorToDriver } from '../../protocol/task-messages.ts';
import type { UiRoute } from '../http/ui-server.ts';
import type { AppRegistries } from './app-metrics-registry.ts';
import { CountingHistogram } from './counting-histogram.ts';
import { metricsRoutes } from './metrics-routes.ts';

type StatusUpdate = Extract<ExecutorToDriver, { type: 'StatusUpdate' }>;
type Heartbeat = Extract<ExecutorToDriver, { type: 'ExecutorHeartbeat' }>;

/** How an attempt ended, as `flint_app_tasks_completed_total` labels it. */
const TASK_RESULTS = { FINISHED: 'succeeded', FAILED: 'failed', KILLED: 'killed', LOST: 'lost' } as const;
export type TaskResult = (typeof TASK_RESULTS)[keyof typeof TASK_RESULTS];

/** How a stage attempt ended, as `flint_app_stages_completed_total` labels it. */
export const STAGE_RESULTS = { SUCCEEDED: 'succeeded', FAILED: 'failed', RESUBMITTED: 'resubmitted' } as const;
type StageState = keyof typeof STAGE_RESULTS;

/** Tasks run from a millisecond to many minutes. */
const TASK_BUCKETS_S = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];

/** The counts the registries read when scraped (app-metrics-registry.ts). */
export interface AppCounts {
  readonly tasks: Readonly<Record<TaskResult, number>>;
  readonly taskSeconds: CountingHistogram;
  readonly resultBytes: number;
  readonly jobsActive: number;
  readonly jobs: Readonly<Record<'succeeded' | 'failed', number>>;
  readonly stagesActive: number;
  readonly stages: Readonly<Record<StageState, number>>;
  readonly shuffleWrittenBytes: number;
  readonly shuffleReadBytes: number;
  /** The last figures each executor sent; the registry drops those of executors no longer live when scraped. */
  readonly figures: Map<string, ExecutorFigures>;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] extends Readonly<Record<string, number>> ? { -readonly [L in keyof T[K]]: T[K][L] } : T[K] };

export type AppMachine = Pick<TaskSchedulerMachine, 'snapshot' | 'historySnapshot'>;

export class AppMetrics implements DagEvents {
  readonly #machine: AppMachine;
  readonly #counts: Writable<AppCounts> = {
    tasks: { succeeded: 0, failed: 0, killed: 0, lost: 0 },
    taskSeconds: new CountingHistogram({ name: 'flint_app_task_duration_seconds', help: 'Run time of the task attempts that ended, as their executors measured it.', buckets: TASK_BUCKETS_S, registers: [] }),
    resultBytes: 0,
    jobsActive: 0,
    jobs: { succeeded: 0, failed: 0 },
    stagesActive: 0,
    stages: { SUCCEEDED: 0, FAILED: 0, RESUBMITTED: 0 },
    shuffleWrittenBytes: 0,
    shuffleReadBytes: 0,
    figures: new Map(),
  };
  #registries: Promise<AppRegistries> | undefined;

  constructor(machine: AppMachine) {
    this.#machine = machine;
  }

  /**
   * `registry` (`/metrics/prometheus`) and `executors` (`/metrics/executors/prometheus`, one series per live
   * executor), made at the first call.
   */
  registries(): Promise<AppRegistries> {
    this.#registries ??= import('./app-metrics-registry.ts').then((m) => m.appRegistries(this.#machine, this.#counts));
    return this.#registries;
  }

  /** `/metrics/…` and `/metrics/executors/…` on the application UI, each registry made at its first scrape. */
  routes(): UiRoute[] {
    return [
      ...metricsRoutes(async () => (await this.registries()).registry, '/metrics/prometheus', '/metrics/json'),
      ...metricsRoutes(async () => (await this.registries()).executors, '/metrics/executors/prometheus', '/metrics/executors/json'),
    ];
  }

  /** A task's StatusUpdate: counted when it ends, with its run time and result bytes. */
  statusUpdate(message: StatusUpdate): void {
    if (message.state === 'LAUNCHING' || message.state === 'RUNNING') return;
    const c = this.#counts;
    c.tasks[TASK_RESULTS[message.state]]++;
    if (message.metrics === undefined) return;
    c.taskSeconds.observe(message.metrics.runTimeMs / 1000);
    c.resultBytes += message.metrics.resultBytes;
  }

  heartbeat(message: Heartbeat): void {
    if (message.figures !== undefined) this.#counts.figures.set(message.executorId, message.figures);
  }

  jobStarted(): void {
    this.#counts.jobsActive++;
  }

  jobEnded(succeeded: boolean): void {
    this.#counts.jobsActive--;
    this.#counts.jobs[succeeded ? 'succeeded' : 'failed']++;
  }

  stageStarted(): void {
    this.#counts.stagesActive++;
  }

  stageEnded(state: StageState): void {
    this.#counts.stagesActive--;
    this.#counts.stages[state]++;
  }

  shuffleWritten(bytes: number): void {
    if (bytes > 0) this.#counts.shuffleWrittenBytes += bytes;
  }

  shuffleRead(bytes: number): void {
    if (bytes > 0) this.#counts.shuffleReadBytes += bytes;
  }
}
