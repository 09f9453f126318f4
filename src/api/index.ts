// Flint's application API: what `import … from 'flint'` gives a driver program. See README.md.
export { FlintContext, ApplicationFailedError, type FlintContextOptions, type JobProgress } from './context.ts';
export { Dataset, type PartitionRecords } from './dataset.ts';
export { HashPartitioner, RangePartitioner, type Partitioner } from './partitioner.ts';
export { StageFailedError } from './dag-runner.ts';
export { Accumulator, Broadcast, accumulator, broadcastVariable } from './shared-variables.ts';
export { TaskContext, NotInTaskError, type ResourceInformation } from './task-context.ts';
export { JobFailedError } from '../daemons/driver-runtime.ts';
export { NotExportedError } from './app-exports.ts';
export { runApp } from './run-app.ts';
export { RecordEncodeError } from '../task/record-codec.ts';
