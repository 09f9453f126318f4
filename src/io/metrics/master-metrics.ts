// The master's metrics (docs/metrics.md): Spark's `MasterSource` (workers, aliveWorkers, apps, waitingApps) and
// `ApplicationSource` (status, runtime_ms, cores), and what an operator of a Flint master also needs: drivers,
// cores and memory, schedule() time, recovery, RPC messages and failed handshakes.
//
// Gauges are computed when scraped, from the machine's state (read-only): the master's inputs are not slowed by
// them. Only events are counted as they happen, one increment each: the RPC messages (`countMessage`), the
// schedule() passes (`probes`) and the changes of recovery state (`afterInput`, one comparison per input).

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ApplicationInfo, MasterProbes, MasterState, WorkerInfo } from '../../master/index.ts';
import { ApplicationState, DriverState, RecoveryState, WorkerState } from '../../protocol/messages.ts';
import { ListGauge } from './list-gauge.ts';
import type { UiRoute } from '../http/ui-server.ts';
import { countBy, literalsOf, MB_BYTES, metricsRoutes } from './metrics-routes.ts';
import { newRegistry } from './registry.ts';

export interface MasterMetricsOptions {
  /** The machine's state, or undefined before the machine exists (the UI listens first). */
  readonly state: () => Readonly<MasterState> | undefined;
  /** The clock of the machine's inputs (ms since the epoch): recovery's start is on it. */
  readonly now: () => number;
  /** Inbound connections that failed their handshake so far (RpcEnv.handshakeFailures). */
  readonly handshakeFailures: () => number;
}

const WORKER_STATES = literalsOf(WorkerState);
const APP_STATES = literalsOf(ApplicationState);
const DRIVER_STATES = literalsOf(DriverState);
const RECOVERY_STATES = literalsOf(RecoveryState);

const isRecovering = (state: RecoveryState): boolean => state === 'RECOVERING' || state === 'COMPLETING_RECOVERY';

/** schedule() passes take microseconds to tens of milliseconds (thousands of workers). */
const SCHEDULE_BUCKETS_S = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export class MasterMetrics {
  /** `/metrics/master/prometheus`. */
  readonly registry: Registry = newRegistry();
  /** `/metrics/applications/prometheus`: one series per active application. */
  readonly applications: Registry = newRegistry();
  readonly probes: MasterProbes;
  readonly #options: MasterMetricsOptions;
  readonly #messages: Counter<'type'>;
  readonly #byType = new Map<string, { inc(): void }>();
  #lastRecovery: RecoveryState = 'STANDBY';
  #recoverySinceMs = 0;
  #recoveredMs = 0;

  constructor(options: MasterMetricsOptions) {
    this.#options = options;
    const registers = [this.registry];
    const withState = <G>(collect: (gauge: G, state: Readonly<MasterState>) => void) =>
      function (this: G) {
        const state = options.state();
        if (state !== undefined) collect(this, state);
      };
    const states = <K extends string>(name: string, help: string, count: (state: Readonly<MasterState>) => Map<K, number>) =>
      new Gauge({
        name,
        help,
        labelNames: ['state'],
        registers,
        collect: withState<Gauge<'state'>>((gauge, state) => {
          for (const [label, n] of count(state)) gauge.set({ state: label }, n);
        }),
      });
    states('flint_master_workers', 'Workers the master lists, by state (DEAD ones until they are culled).', (s) => countBy(s.workers, (w) => w.state, WORKER_STATES));
    states('flint_master_applications', 'Applications by state: the active ones and the completed ones retained (flint.deploy.retainedApplications).', (s) =>
      countBy([...s.waitingApps, ...s.completedApps], (a) => a.state, APP_STATES),
    );
    states('flint_master_drivers', 'Drivers by state: the active ones and the completed ones retained (flint.deploy.retainedDrivers).', (s) =>
      countBy([...s.drivers, ...s.completedDrivers], (d) => d.state, DRIVER_STATES),
    );
    states('flint_master_recovery_state', '1 for the master\'s recovery state (STANDBY, ALIVE, RECOVERING, COMPLETING_RECOVERY), 0 for the others.', (s) =>
      new Map(RECOVERY_STATES.map((r) => [r, r === s.recoveryState ? 1 : 0])),
    );
    const sum = (name: string, help: string, of: (state: Readonly<MasterState>) => number) =>
      new Gauge({ name, help, registers, collect: withState<Gauge>((gauge, state) => gauge.set(of(state))) });
    sum('flint_master_cores', 'Cores of the ALIVE workers.', (s) => aliveSum(s, (w) => w.cores));
    sum('flint_master_cores_used', 'Cores of the ALIVE workers given to executors and drivers.', (s) => aliveSum(s, (w) => w.coresUsed));
    sum('flint_master_memory_bytes', 'Memory of the ALIVE workers, in bytes.', (s) => aliveSum(s, (w) => w.memoryMb) * MB_BYTES);
    sum('flint_master_memory_used_bytes', 'Memory of the ALIVE workers given to executors and drivers, in bytes.', (s) => aliveSum(s, (w) => w.memoryUsedMb) * MB_BYTES);
    sum('flint_master_waiting_applications', 'Applications in state WAITING (Spark\'s waitingApps: registered, no executor yet).', (s) =>
      s.waitingApps.reduce((n, a) => n + (a.state === 'WAITING' ? 1 : 0), 0),
    );
    sum('flint_master_waiting_drivers', 'Drivers submitted and not placed on a worker yet.', (s) => s.waitingDrivers.length);
    const scheduleSeconds = new Histogram({ name: 'flint_master_schedule_duration_seconds', help: 'Time of each schedule() pass (placing waiting drivers and executors).', buckets: SCHEDULE_BUCKETS_S, registers });
    this.probes = {
      timeSchedule: (run) => {
        const started = performance.now();
        run();
        scheduleSeconds.observe((performance.now() - started) / 1000);
      },
    };
    const recoverySeconds = () => this.recoverySeconds();
    new Counter({
      name: 'flint_master_recovery_seconds_total',
      help: 'Time this master has spent recovering (RECOVERING and COMPLETING_RECOVERY), the recovery under way included.',
      registers,
      collect() {
        this.reset();
        this.inc(recoverySeconds());
      },
    });
    this.#messages = new Counter({ name: 'flint_master_rpc_messages_total', help: 'RPC messages the master received, by message type.', labelNames: ['type'], registers });
    new Counter({
      name: 'flint_master_rpc_handshake_failures_total',
      help: 'Inbound RPC connections that failed their handshake (wrong secret, refused principal, timeout) or were refused before it.',
      registers,
      collect() {
        this.reset();
        this.inc(options.handshakeFailures());
      },
    });
    this.#applicationMetrics();
  }

  /** `/metrics/master/…` and `/metrics/applications/…` on the master's web UI. */
  routes(): UiRoute[] {
    return [
      ...metricsRoutes(this.registry, '/metrics/master/prometheus', '/metrics/master/json'),
      ...metricsRoutes(this.applications, '/metrics/applications/prometheus', '/metrics/applications/json'),
    ];
  }

  /** One message the master received (one increment: the child of each type is kept). */
  countMessage(type: string): void {
    let child = this.#byType.get(type);
    if (child === undefined) this.#byType.set(type, (child = this.#messages.labels(type)));
    child.inc();
  }

  /** After each input the machine handled: notices a change of recovery state (one comparison otherwise). */
  afterInput(): void {
    const state = this.#options.state()?.recoveryState;
    if (state === undefined || state === this.#lastRecovery) return;
    const now = this.#options.now();
    if (isRecovering(this.#lastRecovery)) this.#recoveredMs += Math.max(0, now - this.#recoverySinceMs);
    if (isRecovering(state)) this.#recoverySinceMs = now;
    this.#lastRecovery = state;
  }

  /** Seconds spent recovering so far, the recovery under way included. */
  recoverySeconds(): number {
    const ongoing = isRecovering(this.#lastRecovery) ? Math.max(0, this.#options.now() - this.#recoverySinceMs) : 0;
    return (this.#recoveredMs + ongoing) / 1000;
  }

  /** Spark's ApplicationSource, per active application: `status`, `runtime_ms`, `cores`, and its executors. */
  #applicationMetrics(): void {
    const options = this.#options;
    const registers = [this.applications];
    // Only the status carries the (long, free-form) name: the others join it on app_id, as Prometheus' info
    // metrics do, which keeps a scrape of 500 applications small.
    type Labels = (app: ApplicationInfo) => Record<string, string>;
    const byId: Labels = (app) => ({ app_id: app.id });
    const perApp = (name: string, help: string, value: (app: ApplicationInfo, nowMs: number) => number, labels = byId, labelNames = ['app_id']) =>
      new ListGauge({
        name,
        help,
        labelNames,
        registers,
        read: function* () {
          const state = options.state();
          if (state === undefined) return;
          const now = options.now();
          for (const app of state.waitingApps) yield { labels: labels(app), value: value(app, now) };
        },
      });
    perApp('flint_application_cores', 'Cores granted to the application\'s executors.', (app) => app.coresGranted);
    perApp('flint_application_executors', 'The application\'s executors the master knows (launching or running).', (app) => app.executors.size);
    perApp('flint_application_runtime_seconds', 'Time since the application registered.', (app, now) => Math.max(0, now - app.startTimeMs) / 1000);
    const status: Labels = (app) => ({ app_id: app.id, app_name: app.desc.name, state: app.state });
    perApp('flint_application_status', '1, labelled with the application\'s name and state (WAITING or RUNNING while it is active).', () => 1, status, ['app_id', 'app_name', 'state']);
  }
}

function aliveSum(state: Readonly<MasterState>, of: (w: WorkerInfo) => number): number {
  let total = 0;
  for (const w of state.idToWorker.values()) if (w.state === 'ALIVE') total += of(w);
  return total;
}
