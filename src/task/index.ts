// Task evaluation: what an executor's pool threads run for one task (source → ops → action → encoded result), apart
// from the executor's state machine. Pure: the application's exports and the codec are injected. See README.md.
export { evaluateTask, resolveTaskFunctions, taskFunctionNames } from './evaluate-task.ts';
export { closureFunctions, type CaptureEntry, type ClosureEnv } from './closures.ts';
export type { LaunchTaskMessage, TaskCodec, TaskEnv, TaskOutput } from './evaluate-task.ts';
export { PartitionRecords } from './record-stream.ts';
export type { TaskFn } from './record-stream.ts';
export {
  MAX_DEPTH,
  RecordEncodeError,
  SUPPORTED_TYPES,
  concatRecordLists,
  decodeRecord,
  encodeRecord,
  encodeRecordSlice,
  recordCodec,
} from './record-codec.ts';
export { InlineFunctionNotFoundError, TaskFunctionNotFoundError, TaskInputError, TaskKilledError, clipTaskFailure, taskFailureOf } from './task-errors.ts';
