// Every wire message between Flint's daemons, apps and submission clients: Spark's DeployMessages, typed.
//
// Grouped by conversation as in Spark's `deploy/DeployMessage.scala` (reference §2). Schemas are the
// source; the TS types are inferred from them. Each family is a closed union with a catalog that the RPC
// layer checks inbound messages against. Naming: commands are imperative (`LaunchExecutor`), facts are past
// tense (`ExecutorStateChanged`), replies end in `Response`/`Failed`. Refs to endpoints travel as address
// strings (`flint://Worker@host:port`), never as live handles. Units are last in field names.
// Self-addressed events (timers, leadership) are not here: they belong to each machine's input type.

import { Type, type Static } from '@sinclair/typebox';
import { defineCatalog, message, type MessageOf } from './catalog.ts';
import { integerIn, LIMITS, RESOURCE_ADDRESS_PATTERN, RESOURCE_NAME_PATTERN } from './limits.ts';

const Str = Type.String({ maxLength: 65_536 });
const Id = Type.String({ minLength: 1, maxLength: 512 });
// Every number field has a range from limits.ts (docs/rpc.md, "Bounds"); the catalog refuses the rest.
const Count = integerIn(LIMITS.count);
const Cores = integerIn(LIMITS.cores);
const AppCores = integerIn(LIMITS.appCores);
const MemoryMb = integerIn(LIMITS.memoryMb);
const Port = integerIn(LIMITS.port);
const BindPort = integerIn(LIMITS.bindPort);
const TimestampMs = integerIn(LIMITS.timestampMs);
const ExitStatus = integerIn(LIMITS.exitStatus);
/** An endpoint address: `flint://Name@host:port` or `flint+client://Name@id`. */
/**
 * `flint://Name@host:port` (`spark://` too, a host may be `[v6]`) or `flint+client://Name@id`: the shapes
 * src/rpc/address.ts parses, so that an address that passed the schema never fails later when it is used.
 */
const EndpointAddress = Type.String({
  minLength: 1,
  maxLength: 1024,
  pattern: '^(?:(?:flint|spark)://[A-Za-z][A-Za-z0-9_.-]*@(?:\\[[0-9A-Fa-f:.]+\\]|[^@\\s/\\[\\]:]+):[0-9]{1,5}|flint\\+client://[A-Za-z][A-Za-z0-9_.-]*@[A-Za-z0-9_-]+)$',
});
const Opt = Type.Optional;

// ---- states (reference §3) ----------------------------------------------------------------------------

export const ExecutorState = Type.Union([
  Type.Literal('LAUNCHING'),
  Type.Literal('RUNNING'),
  Type.Literal('KILLED'),
  Type.Literal('FAILED'),
  Type.Literal('LOST'),
  Type.Literal('EXITED'),
  Type.Literal('DECOMMISSIONED'),
]);
export type ExecutorState = Static<typeof ExecutorState>;

export const DriverState = Type.Union([
  Type.Literal('SUBMITTED'),
  Type.Literal('RUNNING'),
  Type.Literal('FINISHED'),
  Type.Literal('RELAUNCHING'),
  Type.Literal('UNKNOWN'),
  Type.Literal('KILLED'),
  Type.Literal('FAILED'),
  Type.Literal('ERROR'),
]);
export type DriverState = Static<typeof DriverState>;

export const ApplicationState = Type.Union([
  Type.Literal('WAITING'),
  Type.Literal('RUNNING'),
  Type.Literal('FINISHED'),
  Type.Literal('FAILED'),
  Type.Literal('KILLED'),
  Type.Literal('UNKNOWN'),
]);
export type ApplicationState = Static<typeof ApplicationState>;

export const WorkerState = Type.Union([
  Type.Literal('ALIVE'),
  Type.Literal('DEAD'),
  Type.Literal('DECOMMISSIONED'),
  Type.Literal('UNKNOWN'),
]);
export type WorkerState = Static<typeof WorkerState>;

export const RecoveryState = Type.Union([
  Type.Literal('STANDBY'),
  Type.Literal('ALIVE'),
  Type.Literal('RECOVERING'),
  Type.Literal('COMPLETING_RECOVERY'),
]);
export type RecoveryState = Static<typeof RecoveryState>;

export const EXECUTOR_FINISHED_STATES: readonly ExecutorState[] = ['KILLED', 'FAILED', 'LOST', 'EXITED'];

// ---- custom resources (reference §5.6, §6.9; docs/resources.md) ---------------------------------------------

/** A custom resource's name (`gpu`, `fpga`): it is also a part of conf keys such as `flint.executor.resource.gpu.amount`. */
export const ResourceName = Type.String({ pattern: `^${RESOURCE_NAME_PATTERN}$`, maxLength: 64 });
/**
 * One address of a resource (a GPU index, a device UUID). No commas or spaces: addresses are joined with commas
 * into `CUDA_VISIBLE_DEVICES`.
 */
export const ResourceAddress = Type.String({ pattern: `^${RESOURCE_ADDRESS_PATTERN}$`, maxLength: 128 });
/**
 * Addresses by resource name: what a worker has (RegisterWorker), or what one executor, driver or task holds.
 * Spark's `Map[String, ResourceInformation]`, with the name kept once, as the key.
 */
export const ResourceAddresses = Type.Record(
  ResourceName,
  Type.Array(ResourceAddress, { maxItems: LIMITS.resourceAddresses.max, uniqueItems: true }),
  { maxProperties: LIMITS.resourceNames.max, additionalProperties: false },
);
export type ResourceAddresses = Static<typeof ResourceAddresses>;
/** How many addresses of one resource an executor or driver needs: Spark's `ResourceRequirement` (whole addresses). */
export const ResourceRequest = Type.Object(
  { name: ResourceName, amount: integerIn(LIMITS.resourceAddresses) },
  { additionalProperties: false },
);
export type ResourceRequest = Static<typeof ResourceRequest>;
/** Sorted by name, each name once (Spark sorts `resourceReqsPerExecutor` by name). */
export const ResourceRequests = Type.Array(ResourceRequest, { maxItems: LIMITS.resourceNames.max });

// ---- descriptions -------------------------------------------------------------------------------------

/**
 * What a worker runs: Spark's `Command`, for Node. The worker starts `node [nodeOptions] mainModule
 * arguments` with `environment` added, as an argv array (never a shell string). Placeholders such as
 * `{{EXECUTOR_ID}}` in `arguments` are substituted by the worker (reference §6.4).
 */
export const Command = Type.Object(
  {
    mainModule: Type.String({ minLength: 1, maxLength: 4096 }),
    arguments: Type.Array(Str, { maxItems: 1024 }),
    environment: Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', maxLength: 256 }), Str),
    nodeOptions: Type.Array(Str, { maxItems: 256 }),
  },
  { additionalProperties: false },
);
export type Command = Static<typeof Command>;

/** Spark's ApplicationDescription (default resource profile folded in). */
export const ApplicationDescription = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 1024 }),
    maxCores: Opt(AppCores),
    coresPerExecutor: Opt(Cores),
    memoryMbPerExecutor: MemoryMb,
    command: Command,
    appUiUrl: Str,
    initialExecutorLimit: Opt(Count),
    user: Str,
    /** Custom resources each executor needs (`flint.executor.resource.<name>.amount`); absent: none. */
    resourceReqsPerExecutor: Opt(ResourceRequests),
  },
  { additionalProperties: false },
);
export type ApplicationDescription = Static<typeof ApplicationDescription>;

/** Spark's DriverDescription: `appResource` is Spark's jarUrl. */
export const DriverDescription = Type.Object(
  {
    appResource: Str,
    memoryMb: MemoryMb,
    cores: Cores,
    supervise: Type.Boolean(),
    command: Command,
    /** Custom resources the driver needs (`flint.driver.resource.<name>.amount`); absent: none. */
    resourceReqs: Opt(ResourceRequests),
  },
  { additionalProperties: false },
);
export type DriverDescription = Static<typeof DriverDescription>;

export const ExecutorDescription = Type.Object(
  { appId: Id, execId: Count, cores: Cores, memoryMb: MemoryMb, state: ExecutorState, resources: Opt(ResourceAddresses) },
  { additionalProperties: false },
);
export type ExecutorDescription = Static<typeof ExecutorDescription>;

// ---- Worker to Master (reference §2.1, §2.3) -----------------------------------------------------------

export const RegisterWorker = message('RegisterWorker', {
  id: Id,
  host: Type.String({ minLength: 1, maxLength: 255 }),
  port: Port,
  workerAddress: EndpointAddress,
  cores: Cores,
  memoryMb: MemoryMb,
  workerWebUiUrl: Str,
  /** The master URL this worker used to reach the master (SPARK-20529), echoed back. */
  masterAddress: Str,
  /** The custom resources the worker discovered (reference §6.9); absent: none. */
  resources: Opt(ResourceAddresses),
});
export const Heartbeat = message('Heartbeat', { workerId: Id, workerAddress: EndpointAddress });
export const WorkerLatestState = message('WorkerLatestState', {
  id: Id,
  executors: Type.Array(ExecutorDescription),
  driverIds: Type.Array(Id),
});
/** An ask since Spark 3.1 (SPARK-34245): the master answers BooleanResponse and the worker retries. */
export const ExecutorStateChanged = message('ExecutorStateChanged', {
  appId: Id,
  execId: Count,
  state: ExecutorState,
  message: Opt(Str),
  exitStatus: Opt(ExitStatus),
});
export const DriverStateChanged = message('DriverStateChanged', {
  driverId: Id,
  state: DriverState,
  exception: Opt(Str),
});
export const WorkerSchedulerStateResponse = message('WorkerSchedulerStateResponse', {
  id: Id,
  executors: Type.Array(ExecutorDescription),
  driverIds: Type.Array(Id),
  /** The addresses each reported driver holds, by driver id (Spark's `WorkerDriverStateResponse.resources`). */
  driverResources: Opt(Type.Record(Id, ResourceAddresses, { maxProperties: 10_000 })),
});
export const WorkerDecommissioning = message('WorkerDecommissioning', { id: Id, workerAddress: EndpointAddress });

export const WorkerToMaster = defineCatalog('WorkerToMaster', [
  RegisterWorker,
  Heartbeat,
  WorkerLatestState,
  ExecutorStateChanged,
  DriverStateChanged,
  WorkerSchedulerStateResponse,
  WorkerDecommissioning,
], { from: ['daemon'] });
export type WorkerToMaster = MessageOf<typeof WorkerToMaster>;

// ---- Master to Worker (reference §2.1, §2.2, §2.6) -----------------------------------------------------

export const RegisteredWorker = message('RegisteredWorker', {
  masterAddress: EndpointAddress,
  masterWebUiUrl: Str,
  /** Echo of RegisterWorker.masterAddress. */
  masterUrl: Str,
  duplicate: Type.Boolean(),
});
export const RegisterWorkerFailed = message('RegisterWorkerFailed', { message: Str });
export const MasterInStandby = message('MasterInStandby', {});
export const ReconnectWorker = message('ReconnectWorker', { masterUrl: Str });
export const LaunchExecutor = message('LaunchExecutor', {
  masterUrl: Str,
  appId: Id,
  execId: Count,
  appDesc: ApplicationDescription,
  cores: Cores,
  memoryMb: MemoryMb,
  /** The addresses the master assigned to this executor; absent: none. */
  resources: Opt(ResourceAddresses),
});
export const KillExecutor = message('KillExecutor', { masterUrl: Str, appId: Id, execId: Count });
export const LaunchDriver = message('LaunchDriver', {
  driverId: Id,
  driverDesc: DriverDescription,
  /** The addresses the master assigned to this driver; absent: none. */
  resources: Opt(ResourceAddresses),
});
export const KillDriver = message('KillDriver', { driverId: Id });
export const ApplicationFinished = message('ApplicationFinished', { id: Id });
export const MasterChanged = message('MasterChanged', { masterAddress: EndpointAddress, masterWebUiUrl: Str });
export const DecommissionWorker = message('DecommissionWorker', {});

export const MasterToWorker = defineCatalog('MasterToWorker', [
  RegisteredWorker,
  RegisterWorkerFailed,
  MasterInStandby,
  ReconnectWorker,
  LaunchExecutor,
  KillExecutor,
  LaunchDriver,
  KillDriver,
  ApplicationFinished,
  MasterChanged,
  DecommissionWorker,
], { from: ['daemon'] });
export type MasterToWorker = MessageOf<typeof MasterToWorker>;

// ---- Application client to Master (reference §2.4) -----------------------------------------------------

export const RegisterApplication = message('RegisterApplication', {
  appDescription: ApplicationDescription,
  driverAddress: EndpointAddress,
});
export const UnregisterApplication = message('UnregisterApplication', { appId: Id });
export const MasterChangeAcknowledged = message('MasterChangeAcknowledged', { appId: Id });
/** Ask → BooleanResponse. */
export const RequestExecutors = message('RequestExecutors', { appId: Id, requestedTotal: Count });
/** Ask → BooleanResponse. */
export const KillExecutors = message('KillExecutors', { appId: Id, executorIds: Type.Array(Id) });

export const AppToMaster = defineCatalog('AppToMaster', [
  RegisterApplication,
  UnregisterApplication,
  MasterChangeAcknowledged,
  RequestExecutors,
  KillExecutors,
], { from: ['app'] });
export type AppToMaster = MessageOf<typeof AppToMaster>;

// ---- Master to application client (reference §2.4, §2.6) -----------------------------------------------

export const RegisteredApplication = message('RegisteredApplication', {
  appId: Id,
  masterAddress: EndpointAddress,
  /**
   * The key the application's executors prove to its driver, sealed for that driver (src/daemons/keyrings.ts);
   * absent when the cluster does not authenticate. The master adds it as it sends.
   */
  executorKey: Opt(Str),
});
export const ExecutorAdded = message('ExecutorAdded', {
  id: Count,
  workerId: Id,
  hostPort: Str,
  cores: Cores,
  memoryMb: MemoryMb,
});
export const ExecutorUpdated = message('ExecutorUpdated', {
  id: Count,
  state: ExecutorState,
  message: Opt(Str),
  exitStatus: Opt(ExitStatus),
  /** Set when the executor was lost with its worker. */
  workerHost: Opt(Str),
});
/**
 * `message` is the final ApplicationState name, then the reason if the master has one. Sent for FINISHED only to an
 * app removed because it did not answer a recovering master in time (src/master/recovery.ts).
 */
export const ApplicationRemoved = message('ApplicationRemoved', { message: Str });
export const WorkerRemoved = message('WorkerRemoved', { id: Id, host: Str, message: Str });

export const MasterToApp = defineCatalog('MasterToApp', [
  RegisteredApplication,
  ExecutorAdded,
  ExecutorUpdated,
  ApplicationRemoved,
  WorkerRemoved,
  MasterChanged,
], { from: ['daemon'] });
export type MasterToApp = MessageOf<typeof MasterToApp>;

// ---- Driver submission (reference §2.5) ----------------------------------------------------------------

export const RequestSubmitDriver = message('RequestSubmitDriver', { driverDescription: DriverDescription });
export const RequestKillDriver = message('RequestKillDriver', { driverId: Id });
export const RequestDriverStatus = message('RequestDriverStatus', { driverId: Id });
export const RequestKillAllDrivers = message('RequestKillAllDrivers', {});
export const RequestClearCompletedDriversAndApps = message('RequestClearCompletedDriversAndApps', {});
export const RequestReadyz = message('RequestReadyz', {});
/**
 * Ask → DecommissionWorkersResponse: Spark's `DecommissionWorkersOnHosts` (the UI's `/workers/kill/`), every
 * worker on these hosts (case-insensitive, without ports); the count includes workers already decommissioned.
 */
export const DecommissionWorkersOnHosts = message('DecommissionWorkersOnHosts', { hostnames: Type.Array(Id, { maxItems: 10_000 }) });
/** Ask → DecommissionWorkersResponse: by worker id (`flint decommission`); Spark sends this one to itself. */
export const DecommissionWorkers = message('DecommissionWorkers', { ids: Type.Array(Id, { maxItems: 10_000 }) });
/** Ask → KillApplicationResponse: `flint kill <appId>` (Spark has only the UI's `/app/kill`). */
export const RequestKillApplication = message('RequestKillApplication', { appId: Id });

/** What applications and `flint submit` may ask of drivers (docs/security.md). */
export const ClientToMaster = defineCatalog('ClientToMaster', [RequestSubmitDriver, RequestKillDriver, RequestDriverStatus], {
  from: ['app', 'daemon'],
});
/** Operators' requests, made by the master's own HTTP side: no application may send them. */
export const AdminToMaster = defineCatalog('AdminToMaster', [
  RequestKillAllDrivers,
  RequestClearCompletedDriversAndApps,
  RequestReadyz,
  DecommissionWorkersOnHosts,
  DecommissionWorkers,
  RequestKillApplication,
], {
  from: ['daemon'],
});
export type ClientToMaster = MessageOf<typeof ClientToMaster> | MessageOf<typeof AdminToMaster>;

// ---- Replies to asks -----------------------------------------------------------------------------------

/** Spark answers several asks with a bare Boolean; Flint wraps it so every reply has a `type`. */
export const BooleanResponse = message('BooleanResponse', { value: Type.Boolean() });
export const SubmitDriverResponse = message('SubmitDriverResponse', {
  masterUrl: Str,
  success: Type.Boolean(),
  driverId: Opt(Id),
  message: Str,
});
export const KillDriverResponse = message('KillDriverResponse', {
  masterUrl: Str,
  driverId: Id,
  success: Type.Boolean(),
  message: Str,
});
export const KillAllDriversResponse = message('KillAllDriversResponse', {
  masterUrl: Str,
  success: Type.Boolean(),
  message: Str,
});
export const DriverStatusResponse = message('DriverStatusResponse', {
  found: Type.Boolean(),
  state: Opt(DriverState),
  workerId: Opt(Id),
  workerHostPort: Opt(Str),
  exception: Opt(Str),
});

/** Spark answers `DecommissionWorkersOnHosts` with a bare Integer: the workers that matched (0 in STANDBY). */
export const DecommissionWorkersResponse = message('DecommissionWorkersResponse', { count: Count });
export const KillApplicationResponse = message('KillApplicationResponse', { appId: Id, success: Type.Boolean(), message: Str });

export const MasterReplies = defineCatalog('MasterReplies', [
  BooleanResponse,
  SubmitDriverResponse,
  KillDriverResponse,
  KillAllDriversResponse,
  DriverStatusResponse,
  DecommissionWorkersResponse,
  KillApplicationResponse,
], { from: ['daemon'] });
export type MasterReply = MessageOf<typeof MasterReplies>;

// ---- UI / internal queries to the Master (reference §2.7) -----------------------------------------------
// Added with the Master state machine. Both are asks answered in every recovery state.

/** Ask → MasterStateResponse. The web UI, the REST gateway and tests read the cluster through it. */
export const RequestMasterState = message('RequestMasterState', {});
/** Ask → BoundPortsResponse: the ports the master daemon bound (its `main` asks, as Spark's does). */
export const BoundPortsRequest = message('BoundPortsRequest', {});

/**
 * Ask → PlanResponse: where an application with this request would get executors now, and what would wait and
 * why, changing nothing (docs/resources.md, "The what-if planner"; Nomad's `job plan`). With `appId`, the request
 * of that registered application, as schedule() sees it.
 */
export const RequestPlan = message('RequestPlan', {
  appId: Opt(Id),
  /** `--total-executor-cores` (`flint.cores.max`); absent: unlimited, or `flint.deploy.defaultCores`. */
  maxCores: Opt(AppCores),
  coresPerExecutor: Opt(Cores),
  memoryMbPerExecutor: Opt(MemoryMb),
  resourceReqsPerExecutor: Opt(ResourceRequests),
  /** Executors at most (dynamic allocation's target); absent: unlimited. */
  executorLimit: Opt(Count),
});

export const MasterQueries = defineCatalog('MasterQueries', [RequestMasterState, BoundPortsRequest, RequestPlan], { from: ['daemon', 'app'] });
export type MasterQuery = MessageOf<typeof MasterQueries>;

/** One executor as the master books it (Spark's ExecutorDesc, without live handles). */
export const ExecutorSummary = Type.Object(
  { appId: Id, execId: Count, workerId: Id, cores: Cores, memoryMb: MemoryMb, state: ExecutorState, resources: Opt(ResourceAddresses) },
  { additionalProperties: false },
);
export type ExecutorSummary = Static<typeof ExecutorSummary>;

/** Spark's WorkerInfo as MasterStateResponse carries it. `executorIds` are full ids (`appId/execId`). */
export const WorkerSummary = Type.Object(
  {
    id: Id,
    host: Type.String({ minLength: 1, maxLength: 255 }),
    port: Port,
    workerAddress: EndpointAddress,
    webUiUrl: Str,
    cores: Cores,
    coresUsed: integerIn({ min: 0, max: LIMITS.cores.max }),
    memoryMb: MemoryMb,
    memoryUsedMb: integerIn({ min: 0, max: LIMITS.memoryMb.max }),
    state: WorkerState,
    lastHeartbeatMs: TimestampMs,
    executorIds: Type.Array(Str),
    driverIds: Type.Array(Id),
    /** Every address the worker has, by resource; absent: none. */
    resources: Opt(ResourceAddresses),
    /** The addresses executors, drivers and orphans hold. */
    resourcesUsed: Opt(ResourceAddresses),
  },
  { additionalProperties: false },
);
export type WorkerSummary = Static<typeof WorkerSummary>;

/** Spark's ApplicationInfo. `endTimeMs` is absent while the application runs; `executorLimit` when unlimited. */
export const ApplicationSummary = Type.Object(
  {
    id: Id,
    desc: ApplicationDescription,
    driverAddress: EndpointAddress,
    state: ApplicationState,
    startTimeMs: TimestampMs,
    submitDateMs: TimestampMs,
    endTimeMs: Opt(TimestampMs),
    /** Summed over workers, so it may exceed any one bound: up to 2^53 − 1. */
    coresGranted: integerIn(LIMITS.longCount),
    executorLimit: Opt(Count),
    retryCount: Count,
    executors: Type.Array(ExecutorSummary),
  },
  { additionalProperties: false },
);
export type ApplicationSummary = Static<typeof ApplicationSummary>;

/** Spark's DriverInfo. `workerId`/`workerHostPort` are absent until the driver is placed. */
export const DriverSummary = Type.Object(
  {
    id: Id,
    desc: DriverDescription,
    state: DriverState,
    startTimeMs: TimestampMs,
    submitDateMs: TimestampMs,
    workerId: Opt(Id),
    workerHostPort: Opt(Str),
    exception: Opt(Str),
    resources: Opt(ResourceAddresses),
  },
  { additionalProperties: false },
);
export type DriverSummary = Static<typeof DriverSummary>;

/** Reply to RequestMasterState. `workers` lists DEAD workers too, until they are culled (reference §3.2). */
export const MasterStateResponse = message('MasterStateResponse', {
  host: Type.String({ minLength: 1, maxLength: 255 }),
  port: BindPort,
  restPort: Opt(BindPort),
  masterUrl: Str,
  status: RecoveryState,
  workers: Type.Array(WorkerSummary),
  activeApps: Type.Array(ApplicationSummary),
  completedApps: Type.Array(ApplicationSummary),
  activeDrivers: Type.Array(DriverSummary),
  completedDrivers: Type.Array(DriverSummary),
});
export const BoundPortsResponse = message('BoundPortsResponse', {
  rpcPort: BindPort,
  webUiPort: BindPort,
  restPort: Opt(BindPort),
});

/** One executor the plan would launch. */
export const PlannedExecutor = Type.Object(
  { workerId: Id, host: Type.String({ maxLength: 255 }), port: Port, cores: Cores, memoryMb: MemoryMb, resources: Opt(ResourceAddresses) },
  { additionalProperties: false },
);
/** Why part of the request would wait, with the workers the reason applies to. */
export const PlanReason = Type.Object(
  {
    code: Type.Union(
      ['MASTER_NOT_ALIVE', 'NO_ALIVE_WORKER', 'APP_NOT_FOUND', 'CORES_GRANTED', 'EXECUTOR_LIMIT', 'WORKER_NOT_READY', 'EXCLUDED', 'CORES', 'MEMORY', 'RESOURCE', 'TAKEN_BY_EARLIER_APPS'].map((c) => Type.Literal(c)),
    ),
    message: Str,
    workerIds: Type.Array(Id),
  },
  { additionalProperties: false },
);
export type PlanReason = Static<typeof PlanReason>;
export const PlanResponse = message('PlanResponse', {
  masterUrl: Str,
  status: RecoveryState,
  /** The request as planned (defaults filled in). */
  maxCores: Opt(integerIn(LIMITS.longCount)),
  coresPerExecutor: Opt(Cores),
  memoryMbPerExecutor: MemoryMb,
  resourceReqsPerExecutor: ResourceRequests,
  executors: Type.Array(PlannedExecutor),
  coresPlaced: integerIn(LIMITS.longCount),
  /** Cores that would wait (absent: unlimited — an app without maxCores always wants more). */
  coresWaiting: Opt(integerIn(LIMITS.longCount)),
  /** Why the rest would wait; empty when everything is placed. */
  reasons: Type.Array(PlanReason),
});
export type PlanResponse = Static<typeof PlanResponse>;

export const MasterQueryReplies = defineCatalog('MasterQueryReplies', [MasterStateResponse, BoundPortsResponse, PlanResponse], { from: ['daemon'] });
export type MasterQueryReply = MessageOf<typeof MasterQueryReplies>;
