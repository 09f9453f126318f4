// Spark's DAGScheduler for one driver: cuts a job into stages at shuffle boundaries and runs them in order of
// dependency, each stage as one task set of the task scheduler (src/driver, through DriverRuntime.runJob).
//
//   - A shuffle's map stage runs only the map tasks whose output the MapOutputTracker does not have: a stage
//     already computed by an earlier job is skipped, as Spark skips it.
//   - A task that cannot read a block fails its task set at once with FetchFailed (src/driver/jobs.ts). The
//     runner forgets every output at that block's shuffle service (its worker is likely gone: one lost worker
//     causes one resubmission, not one per failed fetch), keeps the results of the tasks that finished, re-runs
//     the missing map tasks, then the tasks of the stage that had not finished. Stale attempts are ignored by the
//     task scheduler (their task set is over).
//   - A stage that fails `flint.stage.maxConsecutiveAttempts` (4) times in a row fails the job, naming the stage
//     and the last cause (Spark's `spark.stage.maxConsecutiveAttempts`). Any other task failure has already
//     been retried by the task scheduler and fails the job as it is.
//   - Range partitioners sample their parent first (a job of `sampleKeys` tasks, Spark's RangePartitioner
//     sketch), and `zipWithIndex` counts its parent's partitions first; both once per dataset.
//   - The missing parent stages of a stage run at once (Spark's DAGScheduler.submitStage submits every missing
//     parent), so the two sides of a join share the executors rather than the second waiting for the first's
//     last task; a shuffle that two of them need (a diamond) runs once. A stage whose parents include a failed
//     one fails once its running siblings have ended.
//
// Stages are numbered by the task scheduler's job ids: the progress bar and the application UI show them as
// `Stage n`.

import { FlintError } from '../errors.ts';
import type { TaskSpec } from '../driver/index.ts';
import { MapOutputTracker } from '../driver/map-output-tracker.ts';
import { JobFailedError, type StageResults } from '../daemons/driver-runtime.ts';
import type { ShuffleLocation, TaskAction, TaskOp, TaskSource } from '../protocol/task-messages.ts';
import { decodeRecord, encodeRecord } from '../task/record-codec.ts';
import { taskFunctionNames } from '../task/evaluate-task.ts';
import { closuresFor } from './task-functions.ts';
import type { MapStatus } from '../io/executor/shuffle-task.ts';
import { determineBounds, rangeSampleSizePerPartition } from '../shuffle/partitioners.ts';
import { describeOps, directIndexDeps, directShuffles, type CachePoint, type IndexDependency, type PartitionPlan, type PlanOp, type ShuffleDependency } from './plan.ts';

/** What the runner needs of the driver: run one task set, resolve with its results in task order. */
export interface StageRunner {
  runJob(tasks: readonly TaskSpec[], description?: string): { jobId: number; done: Promise<StageResults> };
}

export const MAX_CONSECUTIVE_STAGE_ATTEMPTS = 4;

/** Stages the runner remembers for the application UI's /json (Spark's spark.ui.retainedStages). */
const RETAINED_STAGES = 1000;

/**
 * One run of a stage's task set, as the application UI's /json lists it (Spark's StageInfo). `stageId` is the
 * task scheduler's id for the task set, the `n` of the progress bar's `[Stage n: …]` and of the jobs list.
 */
export interface StageInfo {
  readonly stageId: number;
  /** The action's job (one per action), counted from 0. */
  readonly jobId: number;
  readonly name: string;
  readonly kind: 'ShuffleMapStage' | 'ResultStage';
  /** 0 for the first run of the stage, then 1, 2 … after fetch failures. */
  readonly attempt: number;
  readonly tasks: number;
  state: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'RESUBMITTED';
}

/**
 * What the application's metrics count of the DAG (docs/metrics.md): jobs (actions) and stages as they start and
 * end, and the shuffle bytes the map tasks wrote and the reduce tasks were given to read.
 */
export interface DagEvents {
  jobStarted(): void;
  jobEnded(succeeded: boolean): void;
  stageStarted(): void;
  stageEnded(state: Exclude<StageInfo['state'], 'RUNNING'>): void;
  shuffleWritten(bytes: number): void;
  shuffleRead(bytes: number): void;
}

/** A stage failed too many times in a row (Spark's "Stage n has failed the maximum allowable number of times"). */
export class StageFailedError extends FlintError {
  constructor(stage: string, attempts: number, cause: string) {
    super('FLINT_STAGE_FAILED', `${stage} has failed the maximum allowable number of times: ${attempts}. Most recent failure reason: ${cause}`);
  }
}

export class DagRunner {
  readonly tracker = new MapOutputTracker();
  readonly #runner: StageRunner;
  readonly #maxAttempts: number;
  readonly #onShuffleLost: (service: string) => void;
  readonly #stages: StageInfo[] = [];
  #nextJobId = 0;
  #currentJob = 0;
  /** Where each cached partition of a persisted dataset is, `id/partition` → executor id. */
  readonly #cacheLocations = new Map<string, string>();
  /** The map stages running now, by shuffle id, for stages that need the same shuffle to wait on one run. */
  readonly #ensuring = new Map<number, Promise<void>>();

  readonly #broadcasts: () => NonNullable<TaskSpec['broadcasts']>;
  readonly #applyUpdates: (updates: Readonly<Record<string, number>>) => void;
  readonly #events: DagEvents | undefined;

  constructor(
    runner: StageRunner,
    options: {
      maxConsecutiveAttempts?: number;
      onFetchFailed?: (service: string) => void;
      /** The broadcast values set now, sent with every task (each executor gets each value once). */
      broadcasts?: () => NonNullable<TaskSpec['broadcasts']>;
      /** Applies a task's accumulator updates: once per task whose result is kept. */
      applyAccumulatorUpdates?: (updates: Readonly<Record<string, number>>) => void;
      events?: DagEvents;
    } = {},
  ) {
    this.#runner = runner;
    this.#maxAttempts = options.maxConsecutiveAttempts ?? MAX_CONSECUTIVE_STAGE_ATTEMPTS;
    this.#onShuffleLost = options.onFetchFailed ?? (() => {});
    this.#broadcasts = options.broadcasts ?? (() => []);
    this.#applyUpdates = options.applyAccumulatorUpdates ?? (() => {});
    this.#events = options.events;
  }

  /** The stages run so far (the last RETAINED_STAGES), oldest first. */
  stages(): readonly StageInfo[] {
    return this.#stages;
  }

  /** The executors holding persisted partitions (dynamic allocation keeps them by `cachedExecutorIdleTimeout`). */
  executorsWithCachedData(): ReadonlySet<string> {
    return new Set(this.#cacheLocations.values());
  }

  /** A worker is gone: its shuffle service's outputs are lost (Spark's `removeOutputsOnHost`). */
  workerLost(service: string): void {
    this.tracker.removeLocation(service);
  }

  /**
   * Runs `action` on each of `plans` (the result stage), whose partition numbers are `partitionIds`, and returns
   * the encoded results in order.
   */
  async run(plans: readonly PartitionPlan[], partitionIds: readonly number[], action: TaskAction, description: string): Promise<Uint8Array[]> {
    const results = new Array<Uint8Array | undefined>(plans.length).fill(undefined);
    this.#currentJob = this.#nextJobId++;
    const taskOf = (plan: PartitionPlan, i: number) => ({ plan, action, partition: partitionIds[i] as number });
    this.#events?.jobStarted();
    try {
      await this.#runStage(`Result stage of ${description}`, plans, taskOf, missingIn(results), description, collectInto(results));
    } catch (err) {
      this.#events?.jobEnded(false);
      throw err;
    }
    this.#events?.jobEnded(true);
    return results as Uint8Array[];
  }

  /**
   * Runs the task set for `plans` until every result is in `results`: first their parents, then the tasks whose
   * result is missing; on a fetch failure, again (at most maxAttempts times in a row).
   */
  async #runStage(
    name: string,
    plans: readonly PartitionPlan[],
    taskOf: (plan: PartitionPlan, index: number) => { plan: PartitionPlan; action: TaskAction; partition?: number },
    pending: () => number[],
    description: string,
    onResult: (index: number, bytes: Uint8Array) => void,
  ): Promise<void> {
    let failures = 0;
    for (;;) {
      await this.#prepare(plans);
      const indices = pending();
      if (indices.length === 0) return;
      const cached: Array<CachedAt | undefined> = [];
      const broadcasts = this.#broadcasts();
      const tasks = indices.map((i): TaskSpec => {
        const { plan, action, partition } = taskOf(plans[i] as PartitionPlan, i);
        const resolved = this.#resolve(plan);
        cached.push(resolved.cached);
        const preferred = resolved.cached === undefined ? undefined : this.#cacheLocations.get(cacheKey(resolved.cached));
        return {
          partition: partition ?? i,
          source: resolved.source,
          ops: resolved.ops,
          action,
          ...(preferred === undefined ? {} : { preferredExecutor: preferred }),
          ...(broadcasts.length === 0 ? {} : { broadcasts }),
          ...closuresField(resolved.source, resolved.ops, action),
        };
      });
      const kind = tasks[0]?.action.kind === 'shuffleWrite' ? 'ShuffleMapStage' : 'ResultStage';
      const started = this.#runner.runJob(tasks, name.endsWith(description) ? name : `${name}: ${description}`);
      const info: StageInfo = { stageId: started.jobId, jobId: this.#currentJob, name, kind, attempt: failures, tasks: tasks.length, state: 'RUNNING' };
      this.#stages.push(info);
      if (this.#stages.length > RETAINED_STAGES) this.#stages.shift();
      this.#events?.stageStarted();
      try {
        const out = await started.done;
        info.state = 'SUCCEEDED';
        out.results.forEach((bytes, k) => onResult(indices[k] as number, bytes));
        for (const updates of out.accumulators) if (updates !== undefined) this.#applyUpdates(updates);
        // A persisted partition is now in the memory of the executor that computed it (or read it from there).
        cached.forEach((at, k) => {
          const executor = out.executors[k];
          if (at !== undefined && executor !== undefined && executor !== '') this.#cacheLocations.set(cacheKey(at), executor);
        });
        this.#events?.stageEnded('SUCCEEDED');
        return;
      } catch (err) {
        const resubmitted = err instanceof JobFailedError && err.fetchFailed !== undefined;
        info.state = resubmitted ? 'RESUBMITTED' : 'FAILED';
        this.#events?.stageEnded(info.state);
        if (!resubmitted) throw err;
        err.partialResults.forEach((bytes, k) => {
          if (bytes === undefined) return;
          onResult(indices[k] as number, bytes);
          const updates = err.partialAccumulators[k];
          if (updates !== undefined) this.#applyUpdates(updates);
        });
        const { service, shuffleId, mapId } = err.fetchFailed;
        this.tracker.removeOutput(shuffleId, mapId);
        this.tracker.removeLocation(service);
        this.#onShuffleLost(service);
        failures += 1;
        if (failures >= this.#maxAttempts) throw new StageFailedError(name, failures, err.message);
      }
    }
  }

  /**
   * Everything the plans need before their tasks can be resolved: parent shuffles (their map stages at once) and
   * partition indexes. A parent whose outputs a sibling's fetch failure removed meanwhile (they were at the same
   * lost worker) is run again, as many times as a stage may be attempted.
   */
  async #prepare(plans: readonly PartitionPlan[]): Promise<void> {
    const deps = directShuffles(plans);
    for (let round = 1; ; round++) {
      await settleAll(deps.map((dep) => this.#ensureShuffleOnce(dep)));
      const incomplete = deps.find((dep) => this.tracker.missing(dep.shuffleId).length > 0);
      if (incomplete === undefined) break;
      if (round >= this.#maxAttempts) {
        throw new StageFailedError(`Shuffle map stage of ${incomplete.label}`, round, 'its map outputs were lost again while its sibling stages ran');
      }
    }
    for (const dep of directIndexDeps(plans)) await this.#ensureIndex(dep);
  }

  /** #ensureShuffle, or the run of it already under way for the same shuffle (another stage needs it too). */
  #ensureShuffleOnce(dep: ShuffleDependency): Promise<void> {
    const running = this.#ensuring.get(dep.shuffleId);
    if (running !== undefined) return running;
    const started = this.#ensureShuffle(dep).finally(() => this.#ensuring.delete(dep.shuffleId));
    this.#ensuring.set(dep.shuffleId, started);
    return started;
  }

  async #ensureShuffle(dep: ShuffleDependency): Promise<void> {
    const numMaps = dep.parent.length;
    this.tracker.register(dep.shuffleId, numMaps, dep.partitioner.partitions);
    if (dep.partitioner.kind === 'range' && dep.rangeBounds === undefined) dep.rangeBounds = await this.#sampleBounds(dep);
    if (this.tracker.missing(dep.shuffleId).length === 0) {
      // Its parents may have lost outputs, but this shuffle's own output is complete: nothing to re-run (Spark
      // skips the stage).
      return;
    }
    const partitioner =
      dep.partitioner.kind === 'hash'
        ? dep.partitioner
        : { kind: 'range' as const, partitions: dep.partitioner.partitions, bounds: dep.rangeBounds as Uint8Array, ascending: dep.partitioner.ascending };
    const action: TaskAction = {
      kind: 'shuffleWrite',
      shuffleId: dep.shuffleId,
      partitioner,
      ...(dep.mapSideAggregator === undefined ? {} : { aggregator: dep.mapSideAggregator }),
    };
    const pending = (): number[] => this.tracker.missing(dep.shuffleId);
    await this.#runStage(`Shuffle map stage of ${dep.label}`, dep.parent, (plan) => ({ plan, action }), pending, `${describeParent(dep)} → ${dep.label}`, (mapId, bytes) => {
      const status = decodeRecord(bytes) as MapStatus;
      this.tracker.setOutput(dep.shuffleId, mapId, { location: status.location, sizes: status.sizes });
      if (this.#events !== undefined) this.#events.shuffleWritten(status.sizes.reduce((sum, size) => sum + size, 0));
    });
  }

  /** Spark's RangePartitioner: a reservoir sample of each parent partition's keys, weighted, cut into bounds. */
  async #sampleBounds(dep: ShuffleDependency): Promise<Uint8Array> {
    const partitions = dep.partitioner.partitions;
    if (partitions <= 1) return encodeRecord([]);
    const size = rangeSampleSizePerPartition(partitions, dep.parent.length);
    const results = new Array<Uint8Array | undefined>(dep.parent.length).fill(undefined);
    const action: TaskAction = { kind: 'sampleKeys', size, seed: (dep.shuffleId * 7_919) | 0 };
    await this.#runStage(`Sampling stage of ${dep.label}`, dep.parent, (plan) => ({ plan, action }), missingIn(results), `${describeParent(dep)} → sample for ${dep.label}`, collectInto(results));
    const candidates: Array<readonly [unknown, number]> = [];
    for (const bytes of results) {
      const { count, sample } = decodeRecord(bytes as Uint8Array) as { count: number; sample: unknown[] };
      if (sample.length === 0) continue;
      const weight = count / sample.length;
      for (const key of sample) candidates.push([key, weight]);
    }
    return encodeRecord(determineBounds(candidates, partitions));
  }

  async #ensureIndex(dep: IndexDependency): Promise<void> {
    if (dep.starts !== undefined) return;
    const results = new Array<Uint8Array | undefined>(dep.parent.length).fill(undefined);
    await this.#runStage('Count stage of zipWithIndex', dep.parent, (plan) => ({ plan, action: { kind: 'count' } }), missingIn(results), 'count for zipWithIndex', collectInto(results));
    let next = 0;
    dep.starts = results.map((bytes) => {
      const start = next;
      next += decodeRecord(bytes as Uint8Array) as number;
      return start;
    });
  }

  /** Forgets where a persisted dataset's partitions are (unpersist). */
  forgetCached(id: number): void {
    for (const key of [...this.#cacheLocations.keys()]) if (key.startsWith(`${id}/`)) this.#cacheLocations.delete(key);
  }

  /**
   * A plan with its shuffles and indexes known, as the wire's TaskSource and TaskOps. The last persisted
   * dataset the records pass through becomes a `cache` source: read from the executor's memory, else computed
   * from the plan before it and kept (`cached` names it, for the task's preferred executor).
   */
  #resolve(plan: PartitionPlan): { source: TaskSource; ops: TaskOp[]; cached?: CachedAt } {
    const points = plan.cachePoints ?? [];
    for (let i = points.length - 1; i >= 0; i--) {
      const point = points[i] as CachePoint;
      const id = point.ref.id;
      if (id === undefined) continue;
      const inner = this.#resolve({ source: plan.source, ops: plan.ops.slice(0, point.at), cachePoints: points.slice(0, i) });
      const cached = { id, partition: point.partition };
      return {
        source: { kind: 'cache', id, partition: point.partition, inner: { source: inner.source, ops: inner.ops } },
        ops: plan.ops.slice(point.at).map((op) => this.#resolveOp(op)),
        cached,
      };
    }
    const ops = plan.ops.map((op) => this.#resolveOp(op));
    const source = plan.source;
    switch (source.kind) {
      case 'shuffled': {
        const locations: ShuffleLocation[] = [];
        const index = new Map<string, number>();
        const reads = source.deps.map((dep) => this.tracker.readFor(dep.shuffleId, source.reduceId, locations, index));
        if (this.#events !== undefined) for (const read of reads) this.#events.shuffleRead(read.blocks.reduce((sum, block) => sum + block.size, 0));
        return { source: { kind: 'shuffle', reads, locations, mode: source.mode }, ops };
      }
      case 'concatPlans':
        return { source: { kind: 'concat', parts: source.parts.map((part) => this.#resolve(part)) }, ops };
      default:
        return { source, ops };
    }
  }

  #resolveOp(op: PlanOp): TaskOp {
    if (op.op !== 'zipWithIndexOf') return op;
    const start = op.dep.starts?.[op.partition];
    if (start === undefined) throw new Error('zipWithIndex: the partition counts are not known yet');
    return { op: 'zipWithIndex', start };
  }
}

interface CachedAt {
  readonly id: number;
  readonly partition: number;
}

/** The inline functions a task names, with their captured values (LaunchTask.closures); none for exported ones. */
function closuresField(source: TaskSource, ops: readonly TaskOp[], action: TaskAction): Pick<TaskSpec, 'closures'> {
  const closures = closuresFor(taskFunctionNames({ source, ops, action }));
  return closures.length === 0 ? {} : { closures };
}

function cacheKey(at: CachedAt): string {
  return `${at.id}/${at.partition}`;
}

/**
 * Waits until every one of `runs` has settled, then rejects with the first failure, if any: no stage of the job
 * is still running when its failure is reported.
 */
async function settleAll(runs: ReadonlyArray<Promise<void>>): Promise<void> {
  const outcomes = await Promise.allSettled(runs);
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

function missingIn(results: ReadonlyArray<Uint8Array | undefined>): () => number[] {
  return () => {
    const out: number[] = [];
    results.forEach((r, i) => {
      if (r === undefined) out.push(i);
    });
    return out;
  };
}

function collectInto(results: Array<Uint8Array | undefined>): (index: number, bytes: Uint8Array) => void {
  return (index, bytes) => {
    results[index] = bytes;
  };
}

function describeParent(dep: ShuffleDependency): string {
  const first = dep.parent[0];
  return first === undefined ? 'empty' : describeOps(first.ops).join(' → ') || first.source.kind;
}
