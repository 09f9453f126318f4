// The metrics endpoints of a web UI (docs/metrics.md): Spark's `MetricsSystem` attaches its `PrometheusServlet`
// and `MetricsServlet` to each UI (`getServletHandlers`) at `/metrics/<instance>/prometheus` and `/metrics/json`.
// Here every daemon and every driver keeps its own prom-client Registry (registry.ts) and serves it twice through its UI's routes, so a scrape needs the UI's login (a
// bearer token, as Prometheus sends it with `authorization: { credentials: … }`) like any other protected route.

import type { Counter, Registry } from 'prom-client';
import type { UiRoute } from '../http/ui-server.ts';

/**
 * The Prometheus text (`text/plain; version=0.0.4`) at `prometheusPath`, and its JSON twin at `jsonPath`:
 * prom-client's `getMetricsAsJSON`, one object per metric with its name, help, type and labelled values. The
 * registry, or a function that makes it at the first scrape (a driver's: app-metrics.ts); this module loads no
 * prom-client of its own.
 */
export function metricsRoutes(registry: Registry | (() => Promise<Registry>), prometheusPath: string, jsonPath: string): UiRoute[] {
  const get = async (): Promise<Registry> => (typeof registry === 'function' ? registry() : registry);
  return [
    {
      kind: 'text',
      path: prometheusPath,
      handler: async () => {
        const r = await get();
        return { contentType: r.contentType, body: await r.metrics() };
      },
    },
    { kind: 'json', path: jsonPath, handler: async () => (await get()).getMetricsAsJSON() },
  ];
}

/** The literal values of a TypeBox union of literals (`WorkerState`, …), for a gauge's zero-filled label set. */
export function literalsOf<T extends string>(union: { readonly anyOf: ReadonlyArray<{ readonly const: T }> }): readonly T[] {
  return union.anyOf.map((member) => member.const);
}

/** Counts `items` by `key`, every one of `known` present (at zero when absent): a state gauge shows its zeros. */
export function countBy<T, K extends string>(items: Iterable<T>, key: (item: T) => K, known: readonly K[]): Map<K, number> {
  const counts = new Map<K, number>(known.map((k) => [k, 0]));
  for (const item of items) {
    const k = key(item);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

export const MB_BYTES = 1024 * 1024;

/**
 * The child of `counter` for one label value, shown at 0 from the start: a series that appears only at its first
 * event makes `rate()` miss that event, and a test (or a dashboard) cannot tell "none yet" from "not exported".
 */
export function zeroed<L extends string>(counter: Counter<L>, label: L, value: string): { inc(n?: number): void } {
  counter.inc({ [label]: value } as Partial<Record<L, string>>, 0);
  return counter.labels({ [label]: value } as Partial<Record<L, string>>);
}
