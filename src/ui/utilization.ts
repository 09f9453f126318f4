// The master page's utilization chart (issue 11): cores and memory in use over the last hour, from a bounded
// ring buffer of samples the daemon takes every UTILIZATION_SAMPLE_MS. Spark's MasterPage has no chart; its
// `/json/clusterutilization` (MasterWebUI, JsonProtocol.writeClusterUtilization) gives only the figures of now.
//
// The chart is an inline SVG drawn on the server, so it shows with no script. It carries no style attribute
// (the Content-Security-Policy refuses inline styles): its colours and strokes come from classes in
// static/master.css.

import { html, joinHtml, type SafeHtml } from './html.ts';
import { formatDate, formatMb } from './format.ts';

/** One sample of the ALIVE workers' capacity and use (the sums of `/json/clusterutilization`). */
export interface UtilizationSample {
  readonly atMs: number;
  readonly cores: number;
  readonly coresUsed: number;
  readonly memoryMb: number;
  readonly memoryUsedMb: number;
}

export const UTILIZATION_SAMPLE_MS = 10_000;
/** One hour of samples at UTILIZATION_SAMPLE_MS. */
export const UTILIZATION_SAMPLES = 360;

/** The last `capacity` samples, oldest first; recording past the capacity overwrites the oldest. */
export class UtilizationHistory {
  readonly #ring: Array<UtilizationSample | undefined>;
  #next = 0;
  #size = 0;

  constructor(capacity: number = UTILIZATION_SAMPLES) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`a utilization history holds at least 1 sample, not ${capacity}`);
    this.#ring = new Array<UtilizationSample | undefined>(capacity).fill(undefined);
  }

  get size(): number {
    return this.#size;
  }

  record(sample: UtilizationSample): void {
    this.#ring[this.#next] = sample;
    this.#next = (this.#next + 1) % this.#ring.length;
    this.#size = Math.min(this.#size + 1, this.#ring.length);
  }

  /** The samples held, oldest first. */
  samples(): UtilizationSample[] {
    const out: UtilizationSample[] = [];
    const start = (this.#next - this.#size + this.#ring.length) % this.#ring.length;
    for (let i = 0; i < this.#size; i++) out.push(this.#ring[(start + i) % this.#ring.length] as UtilizationSample);
    return out;
  }
}

const WIDTH = 600;
const HEIGHT = 160;
const WINDOW_MS = 60 * 60 * 1000;

const percent = (used: number, total: number): number => (total <= 0 ? 0 : Math.min(100, Math.max(0, (100 * used) / total)));

function points(samples: readonly UtilizationSample[], nowMs: number, value: (s: UtilizationSample) => number): string {
  return samples
    .map((s) => {
      const x = WIDTH - ((nowMs - s.atMs) / WINDOW_MS) * WIDTH;
      const y = HEIGHT - (value(s) / 100) * HEIGHT;
      return `${Math.max(0, x).toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
}

/** The chart of the last hour ending at `nowMs`, with a caption that says the figures of the latest sample. */
export function utilizationChart(samples: readonly UtilizationSample[], nowMs: number): SafeHtml {
  const recent = samples.filter((s) => nowMs - s.atMs <= WINDOW_MS);
  const last = recent.at(-1);
  const grid = joinHtml([25, 50, 75].map((p) => html`<line class="grid" x1="0" x2="${WIDTH}" y1="${HEIGHT - (p / 100) * HEIGHT}" y2="${HEIGHT - (p / 100) * HEIGHT}"></line>`));
  const caption =
    last === undefined
      ? html`No samples yet: the master samples its workers every ${UTILIZATION_SAMPLE_MS / 1000} s.`
      : html`<span class="key cores">Cores ${last.coresUsed} of ${last.cores} in use</span>
<span class="key memory">Memory ${formatMb(last.memoryUsedMb)} of ${formatMb(last.memoryMb)} in use</span>
<span class="since">${recent.length} samples since ${formatDate(recent[0]?.atMs ?? nowMs)} UTC, every ${UTILIZATION_SAMPLE_MS / 1000} s</span>`;
  const title = last === undefined ? 'No samples yet' : `Cores ${Math.round(percent(last.coresUsed, last.cores))}% and memory ${Math.round(percent(last.memoryUsedMb, last.memoryMb))}% in use`;
  return html`<figure class="chart utilization">
<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" preserveAspectRatio="none" role="img" aria-label="${title}">
<title>${title}</title>
${grid}
<polyline class="line cores" points="${points(recent, nowMs, (s) => percent(s.coresUsed, s.cores))}"></polyline>
<polyline class="line memory" points="${points(recent, nowMs, (s) => percent(s.memoryUsedMb, s.memoryMb))}"></polyline>
</svg>
<figcaption>${caption}</figcaption>
<div class="axis"><span>1 h ago</span><span>0–100% of the ALIVE workers</span><span>now</span></div>
</figure>`;
}
