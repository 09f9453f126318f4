// The driver's task scheduler: (state, input, now) -> effects. No I/O. See README.md.
export { TaskSchedulerMachine } from './task-scheduler.ts';
export {
  DRIVER_CONFIG_DEFAULTS,
  DRIVER_CONFIG_KEYS,
  driverConfig,
  driverConfigFromConf,
  type DriverConfig,
} from './config.ts';
export type {
  DriverInput,
  DriverInputKind,
  DriverTimer,
  ExecutorHeartbeatMessage,
  StatusUpdateMessage,
  TaskSpec,
} from './inputs.ts';
export type { DriverEffect, DriverEffectKind, ExecutorCommand, JobError, LogFields, LogLevel } from './effects.ts';
export type {
  ExecutorHistorySnapshot,
  ExecutorSnapshot,
  JobHistorySnapshot,
  JobSnapshot,
  SchedulerHistorySnapshot,
  TaskHistorySnapshot,
  TaskSchedulerSnapshot,
  TaskSnapshot,
} from './snapshot.ts';
export type { JobRunState, TaskRunState } from './history.ts';
export { compareExecutorIds, type PartitionState } from './state.ts';
export {
  ALLOCATION_DEFAULTS,
  ALLOCATION_INTERVAL_MS,
  ExecutorAllocationManager,
  allocationConfigFromConf,
  type AllocationConfig,
  type AllocationDecision,
  type AllocationExecutor,
  type AllocationView,
} from './allocation.ts';
