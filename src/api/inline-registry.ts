// The runtime half of inline task functions (src/io/bundle/transform-inline.ts writes the calls to it). Every
// transformed module starts with `import "flint"` and reads this registry from a global slot, so that it works
// the same on the driver (the real API), in an executor's bundle (the stand-in, remote.ts) and in a cluster-mode
// driver's bundle (`flint` external), without a name in the public API.
//
//   define(id, factory, where, names)  when a module loads: the factory of an inline function by its stable id,
//                         where it is (`app.ts:12`) and the names of its captures, for messages
//   tag(fn, id, values)   where the function is created: on the driver, remembers its id and the values of
//                         its captures (read when it is passed to a Dataset method); on executors, nothing
//   refuse(fn, id)        a function that cannot travel; explain(id, why) says why, when the module loads
//
// A tag costs one WeakMap entry per function created on the driver, never anything per record.

import { isExecutor } from './launch-context.ts';

/** What the driver knows of a function created by an inline-function site. */
export type InlineTag =
  | { readonly id: string; readonly values: readonly unknown[] }
  | { readonly id: string; readonly refused: string };

export type InlineFactory = (...captures: unknown[]) => unknown;

/** An inline function's factory, where it is (`app.ts:12`) and the names of its captures. */
export interface InlineSiteInfo {
  readonly factory: InlineFactory;
  readonly where: string;
  readonly names: readonly string[];
}

interface InlineRegistry {
  define(id: string, factory: InlineFactory, where: string, names: readonly string[]): void;
  explain(id: string, why: string): void;
  tag<F>(fn: F, id: string, values: readonly unknown[]): F;
  refuse<F>(fn: F, id: string): F;
  readonly sites: Map<string, InlineSiteInfo>;
  readonly refusals: Map<string, string>;
  readonly tags: WeakMap<object, InlineTag>;
}

const SLOT = Symbol.for('flint.inline');

function createRegistry(): InlineRegistry {
  const sites = new Map<string, InlineSiteInfo>();
  const refusals = new Map<string, string>();
  const tags = new WeakMap<object, InlineTag>();
  return {
    sites,
    refusals,
    tags,
    define: (id, factory, where, names) => void sites.set(id, { factory, where, names }),
    explain: (id, why) => void refusals.set(id, why),
    tag(fn, id, values) {
      if (!isExecutor() && typeof fn === 'function') tags.set(fn, { id, values });
      return fn;
    },
    refuse(fn, id) {
      if (!isExecutor() && typeof fn === 'function') tags.set(fn, { id, refused: refusals.get(id) ?? `the inline function ${id} cannot be sent to executors` });
      return fn;
    },
  };
}

function registry(): InlineRegistry {
  const slots = globalThis as unknown as Record<symbol, InlineRegistry | undefined>;
  return (slots[SLOT] ??= createRegistry());
}

// Installed as soon as `flint` is imported: transformed modules read the slot right after their imports.
registry();

/** The tag of a function created by an inline-function site on this driver, or undefined. */
export function inlineTagOf(fn: unknown): InlineTag | undefined {
  return typeof fn === 'function' ? registry().tags.get(fn) : undefined;
}

/** The site registered under `id` by the modules loaded so far, or undefined. */
export function inlineSite(id: string): InlineSiteInfo | undefined {
  return registry().sites.get(id);
}
