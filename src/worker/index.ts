// The Worker as a sans-I/O state machine: (state, input, now) -> effects. See README.md.
export { WorkerMachine, type WorkerMachineOptions } from './worker-machine.ts';
export {
  WORKER_CONFIG_DEFAULTS,
  heartbeatIntervalMs,
  registrationIntervals,
  workerConfig,
  workerConfigFromConf,
  type RegistrationIntervals,
  type Rng,
  type WorkerCleanupConfig,
  type WorkerConfig,
  type WorkerConfigInput,
} from './worker-config.ts';
export {
  timerKey,
  type ExecutorStateChangedMessage,
  type ProcessExit,
  type WorkerInput,
  type WorkerTimer,
} from './worker-input.ts';
export type {
  DriverLaunchSpec,
  ExecutorLaunchSpec,
  LogLevel,
  ProcessSpec,
  RegisterWorkerMessage,
  WorkerEffect,
} from './worker-effect.ts';
export type { DriverSnapshot, ExecutorSnapshot, WorkerSnapshot } from './worker-snapshot.ts';
export { workerJson, type WorkerJson, type WorkerJsonExecutor } from './worker-json.ts';
export { civilTimeUtc, formatIdTimestamp, generateWorkerId } from './worker-id.ts';
export { masterEnvUrl, workerEndpointAddress } from './master-address.ts';
export { exitStatusOf } from './process-exit.ts';
export { APP_CODE_DIR, FLINT_ENTRIES, resolveMainModule } from './process-specs.ts';
export { EXECUTOR_CPUS_KEY, chooseCpus, formatCpuList, parseCpuList } from './cpu-binding.ts';
export { INITIAL_DRIVER_BACKOFF_MS, SUCCESSFUL_RUN_DURATION_MS } from './drivers.ts';
export {
  LOG_ROLLING_KEYS,
  MIN_ROLLING_INTERVAL_MS,
  MIN_ROLLING_SIZE_BYTES,
  SIZE_SUFFIX_PATTERN,
  formatRolledSuffix,
  logRollingFromConf,
  type LogRollingConfig,
  type RolledSuffixPattern,
} from './log-rolling-config.ts';
