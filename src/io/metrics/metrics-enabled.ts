// `flint.metrics.enabled` on its own, without prom-client: executors read it (to send their heap, RSS and GC
// figures) and never serve metrics, so they do not load the client library (docs/metrics.md).

import type { FlintConf } from '../../conf/flint-conf.ts';

/** `flint.metrics.enabled` (true): the metrics endpoints, their counters, and the executors' figures. */
export const METRICS_ENABLED_KEY = 'flint.metrics.enabled';

export function readMetricsEnabled(conf: FlintConf): boolean {
  return conf.getBoolean(METRICS_ENABLED_KEY, true);
}
