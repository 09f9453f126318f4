// What `import … from 'flint'` means inside an application bundle that an executor loads. Executors only
// need the module's exported task functions, so the driver API is replaced by this small stand-in: the app's
// `runApp(main)` does nothing there, and creating a context fails with a clear message instead of trying to
// start a driver inside an executor.

// Inline task functions find their factories here (src/io/bundle/transform-inline.ts).
import './inline-registry.ts';

export { runApp } from './run-app.ts';
// An app may test for it in code that runs on both sides (docs/applications.md, "Records").
export { RecordEncodeError } from '../task/record-codec.ts';
export { HashPartitioner, RangePartitioner, type Partitioner } from './partitioner.ts';
// Declared at the top level of an app's module, read and updated by its task functions on the executors.
export { Accumulator, Broadcast, accumulator, broadcastVariable } from './shared-variables.ts';
// Read by task functions: the running task's ids and the addresses it holds.
export { TaskContext, NotInTaskError, type ResourceInformation } from './task-context.ts';

export class FlintContext {
  static create(): Promise<never> {
    return Promise.reject(new Error('FlintContext.create() was called inside an executor. Create contexts in main (runApp(main)), not at the top level of a module that tasks import.'));
  }
}

/**
 * Stand-ins for the driver's classes an application may import to test what a job threw (`err instanceof
 * JobFailedError`) in code its executors load too: nothing on an executor throws them, and importing the
 * driver's own would put the driver into every executor's bundle. test/unit/api/remote-exports.test.ts checks
 * this module exports every value `flint` does.
 */
class DriverOnly extends Error {
  constructor() {
    super('only a driver makes this');
  }
}
export class ApplicationFailedError extends DriverOnly {}
export class JobFailedError extends DriverOnly {}
export class StageFailedError extends DriverOnly {}
export class NotExportedError extends DriverOnly {}
export class Dataset extends DriverOnly {}
