// Message catalogs: the schemas an endpoint accepts, compiled once, checked once at the edge.
//
// Schemas are the source and TS types are inferred from them (STYLE.md §2). Every message is an object with
// a literal `type`. A catalog answers two questions for an inbound value: is its `type` one we know
// (else FLINT_RPC_UNKNOWN_MESSAGE), and does it match that type's schema (else FLINT_RPC_MALFORMED_MESSAGE,
// with the first failing path). Handlers then see only typed values. A catalog also says which roles may send
// its messages (docs/security.md, "Who may send what"); the env refuses the others with FLINT_RPC_FORBIDDEN.

import { Type, type Static, type TObject, type TProperties, type TLiteral } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';

export type MessageSchema<T extends string = string, P extends TProperties = TProperties> = TObject<
  { type: TLiteral<T> } & P
>;

/** One wire message: `{ type: T, ...props }`, no other fields. */
export function message<const T extends string, P extends TProperties>(type: T, props: P): MessageSchema<T, P> {
  return Type.Object({ type: Type.Literal(type), ...props }, { additionalProperties: false }) as MessageSchema<T, P>;
}

/**
 * What an authenticated peer may do: `daemon` (masters and workers, with the cluster secret), `app` (drivers and
 * `flint submit`, with the application secret or a cluster-mode driver's key), `executor` (with its
 * application's key). The handshake proves it (src/rpc/auth.ts).
 */
export type Role = 'daemon' | 'app' | 'executor';

export interface CatalogOptions {
  /** The roles that may send these messages. */
  readonly from: readonly Role[];
}

/** Every role: for test catalogs and catalogs whose senders are checked elsewhere. */
export const ANY_ROLE: CatalogOptions = { from: ['daemon', 'app', 'executor'] };

export type CheckResult<M> =
  | { readonly ok: true; readonly value: M }
  | {
      readonly ok: false;
      readonly code: 'FLINT_RPC_UNKNOWN_MESSAGE' | 'FLINT_RPC_MALFORMED_MESSAGE';
      readonly reason: string;
    };

export interface MessageCatalog<M extends { readonly type: string }> {
  /** The family's name, e.g. `WorkerToMaster`, used in errors. */
  readonly name: string;
  readonly types: ReadonlySet<string>;
  check(value: unknown): CheckResult<M>;
  /** Whether a peer of `role` may send a message of `type` (one of `types`). */
  allows(type: string, role: Role): boolean;
}

export type MessageOf<C> = C extends MessageCatalog<infer M> ? M : never;

function typeOf(schema: TObject): string {
  const literal = schema.properties['type'] as TLiteral | undefined;
  if (literal === undefined || typeof literal.const !== 'string') {
    throw new Error('a message schema needs a literal string `type` property');
  }
  return literal.const;
}

/**
 * Builds a closed family of messages (a discriminated union on `type`). Each message's checker is compiled the
 * first time a message of its type is checked: a daemon defines every catalog as it starts, and compiling them
 * all at once (TypeBox generates and evaluates code for each) was about a tenth of a master's start-up
 * (docs/benchmarks.md, bench:tasks). `compileAll` compiles them now (the tests do, so a schema TypeBox cannot
 * compile fails there, not at a peer's first message).
 */
export function defineCatalog<const S extends readonly TObject[]>(
  name: string,
  schemas: S,
  options: CatalogOptions,
): MessageCatalog<Static<S[number]> & { readonly type: string }> & { compileAll(): void } {
  const byType = new Map<string, TObject>();
  for (const schema of schemas) {
    const type = typeOf(schema);
    if (byType.has(type)) throw new Error(`message type ${type} appears twice in ${name}`);
    byType.set(type, schema);
  }
  return catalogFrom(name, byType, new Set(options.from));
}

/** The union of several families, for an endpoint that accepts more than one. */
export function mergeCatalogs<M extends { readonly type: string }>(
  name: string,
  ...catalogs: ReadonlyArray<MessageCatalog<M>>
): MessageCatalog<M> {
  return {
    name,
    types: new Set(catalogs.flatMap((c) => [...c.types])),
    check(value: unknown): CheckResult<M> {
      const type = (value as { type?: unknown } | null)?.type;
      const owner = catalogs.find((c) => typeof type === 'string' && c.types.has(type));
      return owner ? owner.check(value) : unknownType(name, value);
    },
    allows(type: string, role: Role): boolean {
      return catalogs.some((c) => c.types.has(type) && c.allows(type, role));
    },
  };
}

function unknownType<M>(family: string, value: unknown): CheckResult<M> {
  const type = (value as { type?: unknown } | null)?.type;
  const what = typeof type === 'string' ? `type "${type.slice(0, 100)}"` : 'a value with no string `type`';
  return { ok: false, code: 'FLINT_RPC_UNKNOWN_MESSAGE', reason: `${family} has no message of ${what}` };
}

function catalogFrom<M extends { readonly type: string }>(
  name: string,
  schemas: ReadonlyMap<string, TObject>,
  senders: ReadonlySet<Role>,
): MessageCatalog<M> & { compileAll(): void } {
  const checkers = new Map<string, TypeCheck<TObject>>();
  const checkerOf = (type: string): TypeCheck<TObject> | undefined => {
    let checker = checkers.get(type);
    if (checker === undefined) {
      const schema = schemas.get(type);
      if (schema === undefined) return undefined;
      checker = TypeCompiler.Compile(schema);
      checkers.set(type, checker);
    }
    return checker;
  };
  return {
    name,
    types: new Set(schemas.keys()),
    allows: (type: string, role: Role): boolean => schemas.has(type) && senders.has(role),
    compileAll(): void {
      for (const type of schemas.keys()) checkerOf(type);
    },
    check(value: unknown): CheckResult<M> {
      const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
      const type = isObject ? (value as { type?: unknown }).type : undefined;
      const checker = typeof type === 'string' ? checkerOf(type) : undefined;
      if (checker === undefined) return unknownType(name, value);
      if (checker.Check(value)) return { ok: true, value: value as M };
      const first = checker.Errors(value).First();
      const where = first?.path ? first.path : '/';
      return {
        ok: false,
        code: 'FLINT_RPC_MALFORMED_MESSAGE',
        reason: `${type as string} is malformed at ${where}: ${first?.message ?? 'does not match its schema'}`,
      };
    },
  };
}
