// Valid wire messages drawn from the protocol catalog (src/protocol/messages.ts, src/protocol/task-messages.ts).
//
// The TypeBox schemas are the source of truth for what each endpoint accepts, so the fuzzer walks them: every
// exported message schema (`{ type: Literal, ... }`) becomes a generator of values that pass its schema.
// The mutators (mutate.ts) then break one field at a time, so each input is "almost valid" and reaches the
// code behind the schema check as often as possible.

import { Kind, type TSchema } from '@sinclair/typebox';
import * as deploy from '../../src/protocol/messages.ts';
import * as tasks from '../../src/protocol/task-messages.ts';
import type { MessageCatalog } from '../../src/protocol/catalog.ts';
import type { FuzzRng } from './rng.ts';

type Schema = TSchema & Record<string, unknown>;

/** A family of messages (one catalog) with the schema of each of its types. */
export interface Family {
  readonly name: string;
  readonly schemas: readonly Schema[];
}

function messageSchemas(module: Record<string, unknown>): Map<string, Schema> {
  const out = new Map<string, Schema>();
  for (const value of Object.values(module)) {
    const s = value as Schema | null;
    if (typeof s !== 'object' || s === null || s[Kind] !== 'Object') continue;
    const literal = (s['properties'] as Record<string, Schema> | undefined)?.['type'];
    if (literal?.[Kind] === 'Literal' && typeof literal['const'] === 'string') out.set(literal['const'], s);
  }
  return out;
}

function family(catalog: MessageCatalog<{ type: string }>, schemas: Map<string, Schema>): Family {
  const list = [...catalog.types].map((type) => {
    const s = schemas.get(type);
    if (s === undefined) throw new Error(`no exported schema for ${catalog.name}.${type}`);
    return s;
  });
  return { name: catalog.name, schemas: list };
}

const deploySchemas = messageSchemas(deploy as Record<string, unknown>);
const taskSchemas = messageSchemas(tasks as Record<string, unknown>);

/** What the master's `Master` endpoint accepts (src/daemons/master-daemon.ts). */
export const MASTER_FAMILIES: readonly Family[] = [deploy.WorkerToMaster, deploy.AppToMaster, deploy.ClientToMaster, deploy.MasterQueries].map((c) =>
  family(c, deploySchemas),
);
/** What the worker's `Worker` endpoint accepts (src/daemons/worker-daemon.ts). */
export const WORKER_FAMILIES: readonly Family[] = [family(deploy.MasterToWorker, deploySchemas)];
/** Every other family: messages of other roles, sent to the wrong daemon. */
export const OTHER_FAMILIES: readonly Family[] = [
  family(deploy.MasterToApp, deploySchemas),
  family(deploy.MasterReplies, deploySchemas),
  family(deploy.MasterQueryReplies, deploySchemas),
  family(tasks.ExecutorToDriver, taskSchemas),
  family(tasks.DriverToExecutor, taskSchemas),
  family(tasks.DriverReplies, taskSchemas),
  family(tasks.ExecutorReplies, taskSchemas),
];
export const ALL_TYPES: readonly string[] = [...new Set([...deploySchemas.keys(), ...taskSchemas.keys()])];

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function word(rng: FuzzRng, min: number, max: number, first = ALNUM): string {
  const n = rng.between(Math.max(1, min), max);
  let s = first[rng.int(first.length)] as string;
  for (let i = 1; i < n; i++) s += ALNUM[rng.int(ALNUM.length)];
  return s;
}

function stringFor(s: Schema, rng: FuzzRng): string {
  const pattern = s['pattern'] as string | undefined;
  const min = (s['minLength'] as number | undefined) ?? 0;
  const max = Math.min((s['maxLength'] as number | undefined) ?? 64, 24);
  if (pattern?.startsWith('^(flint')) return `${rng.pick(['flint', 'spark', 'flint+client'])}://${word(rng, 1, 8)}@127.0.0.1:${rng.between(1, 65535)}`;
  if (pattern !== undefined) return word(rng, 1, 12, 'abcdefghijklmnopqrstuvwxyz_');
  if (min === 0 && rng.chance(0.2)) return '';
  return word(rng, min, Math.max(min, max));
}

function numberFor(s: Schema, rng: FuzzRng, integer: boolean): number {
  const lo = (s['minimum'] as number | undefined) ?? (rng.chance(0.1) ? -1000 : 0);
  const hi = Math.min((s['maximum'] as number | undefined) ?? lo + 4096, lo + 1_000_000);
  const n = lo + rng.float() * (hi - lo);
  return integer ? Math.floor(n) : n;
}

/** A value that passes `schema` (with a fixed bias to small sizes). */
/** Recursive schemas (Type.Recursive, e.g. TaskSource) by their $id, for their `This` references. */
const recursiveRoots = new Map<string, Schema>();

export function valueFor(schema: Schema, rng: FuzzRng, depth = 0): unknown {
  const id = schema['$id'];
  if (typeof id === 'string') recursiveRoots.set(id, schema);
  switch (schema[Kind]) {
    case 'This': {
      // A reference back to the enclosing recursive schema: deeper down, the arrays that hold it come out empty.
      const root = recursiveRoots.get(String(schema['$ref']));
      if (root === undefined) throw new Error(`the fuzzer met a recursive reference to ${String(schema['$ref'])} outside its schema`);
      return valueFor(root, rng, depth + 1);
    }
    case 'Literal':
      return schema['const'];
    case 'String':
      return stringFor(schema, rng);
    case 'Integer':
      return numberFor(schema, rng, true);
    case 'Number':
      return numberFor(schema, rng, false);
    case 'Boolean':
      return rng.chance(0.5);
    case 'Uint8Array':
      return rng.bytes(rng.int(32));
    case 'Union':
      return valueFor(rng.pick(schema['anyOf'] as Schema[]), rng, depth);
    case 'Array': {
      const n = depth > 3 ? 0 : rng.int(Math.min(4, ((schema['maxItems'] as number | undefined) ?? 4) + 1));
      return Array.from({ length: n }, () => valueFor(schema['items'] as Schema, rng, depth + 1));
    }
    case 'Record': {
      const [, valueSchema] = Object.entries(schema['patternProperties'] as Record<string, Schema>)[0] as [string, Schema];
      const n = depth > 3 ? 0 : rng.int(3);
      return Object.fromEntries(Array.from({ length: n }, () => [word(rng, 1, 8, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ_'), valueFor(valueSchema, rng, depth + 1)]));
    }
    case 'Object': {
      const required = new Set((schema['required'] as string[] | undefined) ?? []);
      const out: Record<string, unknown> = {};
      for (const [key, prop] of Object.entries(schema['properties'] as Record<string, Schema>)) {
        if (required.has(key) || rng.chance(0.5)) out[key] = valueFor(prop, rng, depth + 1);
      }
      return out;
    }
    default:
      throw new Error(`the fuzzer cannot generate a value of schema kind ${String(schema[Kind])}`);
  }
}
