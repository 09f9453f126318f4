// What the Master persists for recovery (reference §8.1): the constructor fields of each worker, application
// and driver, written once when the object is added and deleted when it is removed. Every transient field
// (states, executors, used cores, heartbeat time) is rebuilt on recovery. Schemas are the source so that a
// store adapter can validate what it reads back before it hands it to `ElectedLeader`.

import { Type, type Static } from '@sinclair/typebox';
import { ApplicationDescription, DriverDescription, ResourceAddresses } from '../protocol/messages.ts';

const Id = Type.String({ minLength: 1, maxLength: 512 });
const Address = Type.String({ minLength: 1, maxLength: 1024 });
const Time = Type.Integer();

export const PersistedWorker = Type.Object(
  {
    kind: Type.Literal('worker'),
    id: Id,
    host: Type.String({ minLength: 1, maxLength: 255 }),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    workerAddress: Address,
    cores: Type.Integer({ minimum: 1 }),
    memoryMb: Type.Integer({ minimum: 1 }),
    webUiUrl: Type.String({ maxLength: 65_536 }),
    /** The worker's custom resources (reference §8.1: Spark persists its resource address lists); absent: none. */
    resources: Type.Optional(ResourceAddresses),
  },
  { additionalProperties: false },
);
export type PersistedWorker = Static<typeof PersistedWorker>;

export const PersistedApplication = Type.Object(
  {
    kind: Type.Literal('app'),
    id: Id,
    desc: ApplicationDescription,
    driverAddress: Address,
    startTimeMs: Time,
    submitDateMs: Time,
    /** `flint.deploy.defaultCores` when the app registered; absent = unlimited. */
    defaultCores: Type.Optional(Type.Integer({ minimum: 1 })),
    /**
     * Every executor id given so far is below this (ids are reserved in blocks, master/schedule.ts): a master that
     * recovers the app gives ids from here, never one an earlier master gave. Absent = 0.
     */
    executorIdsBelow: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 })),
  },
  { additionalProperties: false },
);
export type PersistedApplication = Static<typeof PersistedApplication>;

export const PersistedDriver = Type.Object(
  {
    kind: Type.Literal('driver'),
    id: Id,
    desc: DriverDescription,
    startTimeMs: Time,
    submitDateMs: Time,
  },
  { additionalProperties: false },
);
export type PersistedDriver = Static<typeof PersistedDriver>;

export const PersistedRecord = Type.Union([PersistedWorker, PersistedApplication, PersistedDriver]);
export type PersistedRecord = Static<typeof PersistedRecord>;

/** What the store read back (by key prefix) when leadership was granted. Empty lists: a fresh cluster. */
export interface PersistedMasterState {
  readonly apps: ReadonlyArray<PersistedApplication>;
  readonly drivers: ReadonlyArray<PersistedDriver>;
  readonly workers: ReadonlyArray<PersistedWorker>;
}

export const EMPTY_PERSISTED_STATE: PersistedMasterState = { apps: [], drivers: [], workers: [] };

/** Spark's key prefixes; a store lists each with `read(prefix)`. */
export const PERSISTENCE_PREFIX = { app: 'app_', driver: 'driver_', worker: 'worker_' } as const;

export const persistenceKey = (record: Pick<PersistedRecord, 'kind' | 'id'>): string =>
  `${PERSISTENCE_PREFIX[record.kind]}${record.id}`;
