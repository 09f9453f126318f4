// A histogram without labels for a hot path (the driver's task ends): `observe` only counts, in plain numbers, and
// the cumulative buckets are built when scraped. prom-client's own Histogram hashes its labels on every observe;
// at tens of thousands of tasks a second that is measurable (bench:metrics). Registered into a prom-client
// Registry as any metric is (`registerMetric` takes an object with `name`, `help`, `type`, `get()`, `reset()`),
// so its text and JSON are prom-client's own.

import type { Registry } from 'prom-client';

export class CountingHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #bounds: readonly number[];
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  readonly #counts: Float64Array;
  #sum = 0;
  #count = 0;

  constructor(options: { name: string; help: string; buckets: readonly number[]; registers: readonly Registry[] }) {
    this.name = options.name;
    this.help = options.help;
    this.#bounds = [...options.buckets].sort((a, b) => a - b);
    this.#counts = new Float64Array(this.#bounds.length + 1);
    for (const registry of options.registers) registry.registerMetric(this as never);
  }

  observe(value: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.#counts[i] = (this.#counts[i] as number) + 1;
    this.#sum += value;
    this.#count++;
  }

  /** What prom-client's registry formats: cumulative buckets, then `_sum` and `_count`. */
  get(): { name: string; help: string; type: string; aggregator: string; values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> } {
    const values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = [];
    let cumulative = 0;
    for (let i = 0; i <= this.#bounds.length; i++) {
      cumulative += this.#counts[i] as number;
      values.push({ labels: { le: i < this.#bounds.length ? (this.#bounds[i] as number) : '+Inf' }, value: cumulative, metricName: `${this.name}_bucket` });
    }
    values.push({ labels: {}, value: this.#sum, metricName: `${this.name}_sum` }, { labels: {}, value: this.#count, metricName: `${this.name}_count` });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.#counts.fill(0);
    this.#sum = 0;
    this.#count = 0;
  }
}
