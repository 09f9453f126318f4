// Crash loops end (docs/differences-from-spark.md, "Applications"). Spark's Master resets an app's
// `retryCount` whenever an executor reports RUNNING (`ExecutorStateChanged` in master/Master.scala), so an app
// whose executors start and then crash at once is relaunched for ever, as fast as the worker can spawn them.
// Flint changes two things:
//
//   - Proof of health. An executor proves the app can run once it has been RUNNING for
//     `executorMinUptimeMs` by the master's clock (`now`); only then are the failures counted before it
//     cleared. One that fails sooner counts toward `maxExecutorRetries` although it reported RUNNING.
//     Proofs are applied lazily, with no timer per executor: an executor proven at
//     P = runningSince + minUptime ≤ now clears the failures that happened before P. Its own proof is applied
//     when it changes state or leaves the app; the proofs of all the app's executors, before a failure counts.
//   - Relaunch backoff. After a failure of an app's executor on worker W, the app gets no new executor on W
//     for `executorRelaunchBackoffMs` × 2^(failures on W − 1), capped at `executorRelaunchBackoffMaxMs`;
//     other workers may take it at once. One master timer, `ExecutorRelaunchBackoff`, is due when the
//     earliest backoff of any app ends, and runs `schedule()` then.

import type { Ctx } from './context.ts';
import type { ApplicationInfo, ExecutorInfo } from './state.ts';

/**
 * Clears what executors of `app` proven healthy by `ctx.now` vouch for: the app's failure count, and the
 * backoff on their workers, when the proof came after the failures. Call before an executor of the app
 * changes state or leaves it (its `runningSinceMs` still describes the run that is ending).
 */
export function noteHealthyExecutors(ctx: Ctx, app: ApplicationInfo, executors: Iterable<ExecutorInfo> = app.executors.values()): void {
  if (app.retryCount === 0 && app.relaunchBackoff.size === 0) return; // nothing to clear: O(1) on the usual path
  for (const exec of executors) {
    if (exec.runningSinceMs === undefined) continue;
    const provenMs = exec.runningSinceMs + ctx.config.executorMinUptimeMs;
    if (provenMs > ctx.now) continue;
    if (provenMs > app.lastFailureMs) app.retryCount = 0;
    const backoff = app.relaunchBackoff.get(exec.worker.id);
    if (backoff !== undefined && provenMs > backoff.lastFailureMs) app.relaunchBackoff.delete(exec.worker.id);
  }
}

/** Some executor of the app has been RUNNING for the minimum uptime: the app is not failed while it runs. */
export function hasHealthyExecutor(ctx: Ctx, app: ApplicationInfo): boolean {
  for (const exec of app.executors.values()) {
    if (exec.state !== 'RUNNING' || exec.runningSinceMs === undefined) continue;
    if (ctx.now - exec.runningSinceMs >= ctx.config.executorMinUptimeMs) return true;
  }
  return false;
}

/** Counts a failure of `exec` (noteHealthyExecutors first) and starts its worker's backoff for the app. */
export function countExecutorFailure(ctx: Ctx, app: ApplicationInfo, exec: ExecutorInfo): void {
  const { config, now } = ctx;
  app.retryCount += 1;
  app.lastFailureMs = now;
  if (config.executorRelaunchBackoffMs === 0) return;
  const previous = app.relaunchBackoff.get(exec.worker.id);
  const failures = (previous?.failures ?? 0) + 1;
  // 2^(failures − 1) stays finite for any count a worker can reach before the cap applies.
  const delayMs = Math.min(config.executorRelaunchBackoffMs * 2 ** Math.min(failures - 1, 52), config.executorRelaunchBackoffMaxMs);
  app.relaunchBackoff.set(exec.worker.id, { failures, lastFailureMs: now, untilMs: now + delayMs });
  ctx.out.info(`Executor ${app.id}/${exec.id} failed on worker ${exec.worker.id}; the app's next executor there waits ${delayMs} ms`, {
    appId: app.id,
    workerId: exec.worker.id,
    failures,
  });
  armRelaunchTimer(ctx);
}

/** The workers where `app` may not get a new executor at `now`; undefined when there are none. */
export function workersInBackoff(app: ApplicationInfo, now: number): ReadonlySet<string> | undefined {
  let ids: Set<string> | undefined;
  for (const [workerId, backoff] of app.relaunchBackoff) {
    if (backoff.untilMs > now) (ids ??= new Set()).add(workerId);
  }
  return ids;
}

/**
 * Keeps the one `ExecutorRelaunchBackoff` timer due at the earliest backoff end still ahead of `now`, over every
 * active app; cancels it when there is none. A timer that fires a little early finds that backoff still on
 * and re-arms for the rest.
 */
export function armRelaunchTimer(ctx: Ctx): void {
  const { state, now } = ctx;
  let dueMs = Number.POSITIVE_INFINITY;
  for (const app of state.apps) {
    for (const backoff of app.relaunchBackoff.values()) {
      if (backoff.untilMs > now && backoff.untilMs < dueMs) dueMs = backoff.untilMs;
    }
  }
  if (dueMs === Number.POSITIVE_INFINITY) {
    if (state.relaunchTimerDueMs !== undefined) ctx.out.cancelTimer('ExecutorRelaunchBackoff');
    state.relaunchTimerDueMs = undefined;
    return;
  }
  if (state.relaunchTimerDueMs === dueMs) return;
  state.relaunchTimerDueMs = dueMs;
  ctx.out.startTimer('ExecutorRelaunchBackoff', dueMs - now);
}
