// The Master state machine: (state, input, now) -> effects. No I/O. See README.md.
export { MasterMachine } from './master-machine.ts';
export type { MasterProbes } from './context.ts';
export { masterConfig, MASTER_CONFIG_DEFAULTS, type MasterConfig, type MasterConfigInput } from './config.ts';
export {
  isMasterAsk,
  MASTER_ASK_TYPES,
  replyToken,
  type EnvId,
  type MasterAsk,
  type MasterAskType,
  type MasterInbound,
  type MasterInput,
  type MasterOneWay,
  type MasterTimer,
  type Msg,
  type ReplyToken,
} from './inputs.ts';
export type { LogLevel, MasterEffect, MasterEffectKind, MasterOutbound, MasterReplyMessage } from './effects.ts';
export {
  EMPTY_PERSISTED_STATE,
  PERSISTENCE_PREFIX,
  PersistedApplication,
  PersistedDriver,
  PersistedRecord,
  PersistedWorker,
  persistenceKey,
  type PersistedMasterState,
} from './persisted.ts';
export { clusterUtilizationJson, masterJson, masterJsonField, type JsonObject, type JsonValue } from './json.ts';
export { masterStateResponse } from './snapshot.ts';
export { NOT_ALIVE_PREFIX } from './drivers.ts';
export { formatApplicationId, formatDriverId, formatJavaDate } from './ids.ts';
export type { ApplicationInfo, DriverInfo, ExecutorInfo, MasterState, WorkerInfo } from './state.ts';
