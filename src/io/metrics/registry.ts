// A prom-client Registry per daemon and per driver, never prom-client's global one: tests run several daemons in
// one process. Apart from metrics-routes.ts, which serves a registry without loading prom-client: a driver loads it
// only at its first scrape (app-metrics.ts).

import { Registry } from 'prom-client';

/** A registry of one daemon or driver. */
export function newRegistry(): Registry {
  return new Registry();
}
