// A gauge (or a counter read from state) with one series per item of a list read when scraped: the master's
// applications, the driver's executors. prom-client's Gauge would be reset and `set` once per item on every scrape,
// hashing each item's labels; this hands the registry the values as they are read, so a scrape of 500 applications
// costs the reading and the text, nothing more. Registered as CountingHistogram is (counting-histogram.ts).

import type { Registry } from 'prom-client';

export interface ListSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export class ListGauge {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  readonly aggregator = 'sum';
  readonly labelNames: readonly string[];
  readonly #read: () => Iterable<ListSample>;

  constructor(options: { name: string; help: string; type?: 'gauge' | 'counter'; labelNames: readonly string[]; registers: readonly Registry[]; read: () => Iterable<ListSample> }) {
    this.name = options.name;
    this.help = options.help;
    this.type = options.type ?? 'gauge';
    this.labelNames = options.labelNames;
    this.#read = options.read;
    for (const registry of options.registers) registry.registerMetric(this as never);
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: ListSample[] } {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: [...this.#read()] };
  }

  reset(): void {}
}
