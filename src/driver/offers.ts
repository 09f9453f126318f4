// Resource offers: free executor cores meet pending tasks. After Spark's `TaskSchedulerImpl.resourceOffers`,
// which takes the task sets in scheduling order (FIFO here: job submission order) and, for each, walks the
// offers round-robin, one task per executor per pass, repeating while a pass launched anything
// (`resourceOfferSingleTaskSet` in a do/while). "We fill each node with tasks in a round-robin manner so that
// tasks are balanced across the cluster." Spark shuffles the offers first; Flint walks them in executor id
// order instead (STYLE.md §4: deterministic tie-breaks), so the same inputs always give the same placement.
//
// Every task takes `flint.task.cpus` cores (1) and, with `flint.task.resource.<name>.amount`, that many of its
// executor's addresses of each resource, which it alone holds until it ends (task-resources.ts; Spark's
// `resourcesMeetTaskRequirements`); its LaunchTask names them. Executors that have not sent LaunchedExecutor
// have no free cores, so they get nothing (Spark's `CoarseGrainedSchedulerBackend.DriverEndpoint` frees them on it).
//
// Prefetch (Flint only, `flint.task.prefetch`): once a job's finished tasks show that they are short, each
// executor may hold up to `depth × cores` of its tasks beyond its free cores, queued on the executor, where
// depth = ⌊`flint.task.prefetch.queueTime` / mean run time⌋ capped at `flint.task.prefetch` (so about 5 ms of
// work waits per core, and tasks of 5 ms or more are not queued at all). The next task is then already there when a core
// frees, instead of a driver round trip later, and tasks and their status updates travel in batches. Free
// cores are always filled first, in the same round-robin passes, so prefetch never changes which executor a
// task goes to while cores are free. A prefetched task is still `running` here: losing its executor
// resubmits it like any other. Tasks that need custom resources are never prefetched: a queued task would
// hold addresses without using them (Spark has no prefetch at all).

import { recordTaskLaunched } from './history.ts';
import { acquireTaskResources, hasTaskResources } from './task-resources.ts';
import { hasPending, takePending, type Ctx, type ExecutorRecord, type JobRecord, type TaskAttempt } from './state.ts';
import type { TaskSpec } from './inputs.ts';
import type { ExecutorCommand } from './effects.ts';
import { copyResources, type AssignedResources } from '../scheduling/resources.ts';
import type { InlineClosure, TaskOp } from '../protocol/task-messages.ts';

type LaunchTaskMessage = Extract<ExecutorCommand, { readonly type: 'LaunchTask' }>;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Launches as many pending tasks as free cores (then prefetch slots) allow. Called at the end of every `handle`. */
export function makeOffers(ctx: Ctx): void {
  const { state } = ctx;
  if (state.stopped || state.jobs.size === 0) return;
  const offers: ExecutorRecord[] = [];
  for (const executorId of state.executorOrder) {
    const executor = state.executors.get(executorId);
    // A decommissioning executor takes nothing new (Spark's TaskSchedulerImpl.resourceOffers skips them).
    if (executor === undefined || !executor.launched || executor.decommissioning) continue;
    offers.push(executor);
  }
  if (offers.length === 0) return;
  for (const job of state.jobs.values()) offerToJob(ctx, job, offers, 0);
  for (const job of state.jobs.values()) {
    const depth = prefetchDepth(ctx, job);
    if (depth > 0) offerToJob(ctx, job, offers, depth);
  }
}

/** Tasks per core that may wait on an executor for `job`: 0 until its finished tasks show they are short. */
export function prefetchDepth(ctx: Pick<Ctx, 'config'>, job: Pick<JobRecord, 'runTimeMsSum' | 'runTimeCount'>): number {
  const { prefetchPerCore, prefetchQueueTimeMs, taskResourceReqs } = ctx.config;
  if (prefetchPerCore === 0 || job.runTimeCount === 0 || taskResourceReqs.length > 0) return 0;
  const mean = job.runTimeMsSum / job.runTimeCount;
  return mean <= 0 ? prefetchPerCore : Math.min(prefetchPerCore, Math.floor(prefetchQueueTimeMs / mean));
}

/**
 * Round-robin passes over `offers` for one job, each executor taking tasks while it has `flint.task.cpus` cores
 * free (counting `cores × perCoreExtra` more for prefetch) and the addresses a task needs. Returns how many
 * tasks it launched.
 */
function offerToJob(ctx: Ctx, job: JobRecord, offers: readonly ExecutorRecord[], perCoreExtra: number): number {
  let launched = 0;
  let launchedInPass = true;
  const isRegistered = (id: string): boolean => ctx.state.executors.get(id)?.decommissioning === false;
  while (launchedInPass && hasPending(job)) {
    launchedInPass = false;
    for (const executor of offers) {
      if (!canTakeTask(ctx, executor, perCoreExtra)) continue;
      const index = takePending(job, executor.executorId, isRegistered);
      // Nothing for this executor (what is left waits for the executors that hold its cached partitions); the
      // others may still have tasks. A pass that launches nothing ends the loop.
      if (index === undefined) continue;
      launchTask(ctx, job, index, executor);
      launched += 1;
      launchedInPass = true;
    }
  }
  return launched;
}

function canTakeTask(ctx: Ctx, executor: ExecutorRecord, perCoreExtra: number): boolean {
  const { taskCpus, taskResourceReqs } = ctx.config;
  return executor.freeCores - taskCpus >= -executor.cores * perCoreExtra && hasTaskResources(executor.addresses, taskResourceReqs);
}

/** Each broadcast value travels to an executor once: with its first task that uses it (Spark's TorrentBroadcast fetches it once per executor). */
function broadcastsFor(executor: ExecutorRecord, broadcasts: NonNullable<TaskSpec['broadcasts']>): Array<{ name: string; id: number; data?: Uint8Array }> {
  return broadcasts.map(({ name, id, data }) => {
    if (executor.broadcastsSent.has(id)) return { name, id };
    executor.broadcastsSent.add(id);
    return { name, id, data };
  });
}

// Once per task, so written to allocate little: the attempt and the message are plain literals of one shape
// each (the optional parts of a LaunchTask are added only when a task has them), and the job's ops and closures
// are shared by its tasks' messages, not copied (nothing changes a message once it is sent).
function launchTask(ctx: Ctx, job: JobRecord, index: number, executor: ExecutorRecord): void {
  const { state, out, config } = ctx;
  const spec = job.tasks[index];
  if (spec === undefined) throw new Error(`job ${job.jobId} has no task ${index}`);
  const taskId = state.nextTaskId;
  state.nextTaskId += 1;
  const attempt = job.attempts[index] ?? 0;
  job.attempts[index] = attempt + 1;
  const resources = config.taskResourceReqs.length === 0 ? undefined : acquireTaskResources(executor.addresses, config.taskResourceReqs);
  job.states[index] = 'running';
  job.live.add(taskId);
  const task: TaskAttempt = { taskId, job, index, attempt, executorId: executor.executorId, phase: 'running', resources, resultBytes: 0 };
  state.tasks.set(taskId, task);
  recordTaskLaunched(ctx, task, spec.partition);
  executor.running.add(taskId);
  executor.freeCores -= config.taskCpus;
  out.send(executor.executorId, executor.address, launchMessage(job, spec, taskId, attempt, executor, resources));
  out.debug(`Starting task ${index}.${attempt} in job ${job.jobId} (TID ${taskId}) on executor ${executor.executorId}`);
}

function launchMessage(job: JobRecord, spec: TaskSpec, taskId: number, attempt: number, executor: ExecutorRecord, resources: AssignedResources | undefined): LaunchTaskMessage {
  const message: Mutable<LaunchTaskMessage> = {
    type: 'LaunchTask',
    taskId,
    jobId: job.jobId,
    partition: spec.partition,
    attempt,
    source: spec.source,
    ops: spec.ops as TaskOp[],
    action: spec.action,
  };
  if (spec.broadcasts !== undefined && spec.broadcasts.length > 0) message.broadcasts = broadcastsFor(executor, spec.broadcasts);
  if (spec.closures !== undefined) message.closures = spec.closures as InlineClosure[];
  if (resources !== undefined) message.resources = copyResources(resources);
  return message;
}
