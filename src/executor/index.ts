// The executor core: task evaluation (run on pool threads) and the executor's sans-I/O state machine.
export type { LaunchTaskMessage } from '../task/index.ts';
export {
  EXECUTOR_CONFIG_DEFAULTS,
  EXECUTOR_CONFIG_KEYS,
  executorConfig,
  executorConfigFromConf,
} from './executor-config.ts';
export type { ExecutorConfig, ExecutorLaunchArgs } from './executor-config.ts';
export { ExecutorExitCode } from './executor-effect.ts';
export type { DriverAskMessage, DriverSendMessage, ExecutorEffect, ExecutorTimer, StatusUpdateMessage } from './executor-effect.ts';
export type { DriverCommand, ExecutorInput, FetchTaskResultMessage, ReplyToken } from './executor-input.ts';
export { ExecutorMachine } from './executor-machine.ts';
export type { ExecutorMachineOptions, ExecutorSnapshot } from './executor-machine.ts';
export type { ExecutorPhase, Rng } from './executor-state.ts';
