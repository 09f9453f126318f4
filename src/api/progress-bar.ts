// The console progress bar, as Spark's ConsoleProgressBar draws it:
//
//   [Stage 3:===============>                                    (41 + 4) / 128]
//
// It appears only on a TTY, only for a job that has run longer than 500 ms, redraws at most every 200 ms,
// and is erased when the job ends, so short jobs and logs stay clean. `flint.ui.showConsoleProgress=false`
// (Spark's key) or `progress: false` in the context options turn it off.

const FIRST_DELAY_MS = 500;
const UPDATE_PERIOD_MS = 200;

export interface ProgressState {
  readonly jobId: number;
  readonly total: number;
  readonly done: number;
  readonly running: number;
}

/** One bar of `width` characters. Pure, for tests. */
export function renderProgressBar({ jobId, total, done, running }: ProgressState, width: number): string {
  const header = `[Stage ${jobId}:`;
  const tailer = `(${done} + ${running}) / ${total}]`;
  const w = width - header.length - tailer.length;
  if (w <= 0) return `${header}${tailer}`;
  const percent = total === 0 ? w : Math.floor((w * done) / total);
  let bar = '';
  for (let i = 0; i < w; i++) bar += i < percent ? '=' : i === percent ? '>' : ' ';
  return `${header}${bar}${tailer}`;
}

export interface ProgressSink {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

export class ConsoleProgressBar {
  readonly #out: ProgressSink;
  readonly #now: () => number;
  readonly #jobs = new Map<number, { state: ProgressState; startedAt: number }>();
  #lastDrawn = '';
  #lastDrawAt = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(out: ProgressSink, now: () => number = Date.now) {
    this.#out = out;
    this.#now = now;
  }

  update(state: ProgressState): void {
    const job = this.#jobs.get(state.jobId);
    if (job === undefined) this.#jobs.set(state.jobId, { state, startedAt: this.#now() });
    else job.state = state;
    this.#timer ??= setInterval(() => this.#draw(), UPDATE_PERIOD_MS).unref();
  }

  /** The job ended: its bar goes away. */
  finish(jobId: number): void {
    this.#jobs.delete(jobId);
    if (this.#jobs.size === 0) this.#clear();
    else this.#draw();
  }

  stop(): void {
    this.#jobs.clear();
    this.#clear();
  }

  #draw(): void {
    const now = this.#now();
    if (now - this.#lastDrawAt < UPDATE_PERIOD_MS / 2) return;
    const shown = [...this.#jobs.values()].filter((j) => now - j.startedAt >= FIRST_DELAY_MS).slice(0, 3);
    if (shown.length === 0) return;
    const width = Math.max(40, Math.min(this.#out.columns ?? 80, 200));
    const each = Math.floor(width / shown.length);
    const line = shown.map((j) => renderProgressBar(j.state, each)).join('');
    if (line === this.#lastDrawn) return;
    this.#out.write(`\r${line}`);
    this.#lastDrawn = line;
    this.#lastDrawAt = now;
  }

  #clear(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#lastDrawn !== '') this.#out.write(`\r${' '.repeat(this.#lastDrawn.length)}\r`);
    this.#lastDrawn = '';
  }
}
