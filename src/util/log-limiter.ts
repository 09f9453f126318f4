// Rate-limited logging for lines an outside peer can trigger (bad frames, refused handshakes, rejected
// messages, dropped connections). A peer that repeats the same mistake, or a storm of thousands of peers
// failing at once, must not write one line per event: that fills disks and blocks the event loop on a
// synchronous stderr.
//
// Lines are grouped by a key (the message template, never a value that comes from outside, so the number of
// keys stays small). In each window of `windowMs` (10 s) the first `burst` (20) lines of a key are written as
// they come; the rest are counted, and when the window ends one summary line says how many were left out:
// `<key> (repeated 1234 more times in the last 10 s)`. The clock is injected so the behaviour is unit-tested
// without waiting; the summary is written by an unref'd timer at the end of the window, or by `flush()`.

import type { Logger } from './logger.ts';

export type LimitedLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogLimiterOptions {
  /** Lines of one key written per window before the rest are only counted. Default 20. */
  readonly burst?: number;
  /** The window, in ms. Default 10,000. */
  readonly windowMs?: number;
  /** Monotonic ms. Default performance.now. */
  readonly now?: () => number;
  /** Write the summaries from a timer at the end of each window (default true; tests call flush()). */
  readonly timers?: boolean;
  /** Keys tracked at once; past it, lines of new keys are written unlimited rather than tracked. Default 1,000. */
  readonly maxKeys?: number;
}

interface Window {
  readonly level: LimitedLevel;
  readonly startMs: number;
  written: number;
  suppressed: number;
}

export class LogLimiter {
  readonly #logger: Logger;
  readonly #burst: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #timers: boolean;
  readonly #maxKeys: number;
  readonly #windows = new Map<string, Window>();
  #timer: NodeJS.Timeout | undefined;

  constructor(logger: Logger, options: LogLimiterOptions = {}) {
    this.#logger = logger;
    this.#burst = options.burst ?? 20;
    this.#windowMs = options.windowMs ?? 10_000;
    this.#now = options.now ?? (() => performance.now());
    this.#timers = options.timers ?? true;
    this.#maxKeys = options.maxKeys ?? 1_000;
  }

  /** Logs `msg` at `level` unless `key` has already written `burst` lines in this window. */
  log(level: LimitedLevel, key: string, fields: object, msg: string): void {
    const now = this.#now();
    let window = this.#windows.get(key);
    if (window !== undefined && now - window.startMs >= this.#windowMs) {
      this.#summarise(key, window);
      window = undefined;
    }
    if (window === undefined) {
      if (this.#windows.size >= this.#maxKeys) this.flush();
      window = { level, startMs: now, written: 0, suppressed: 0 };
      this.#windows.set(key, window);
    }
    if (window.written < this.#burst) {
      window.written++;
      this.#logger[level](fields, msg);
      return;
    }
    window.suppressed++;
    this.#arm();
  }

  warn(key: string, fields: object, msg: string): void {
    this.log('warn', key, fields, msg);
  }

  /** Writes the summary of every window that has ended (all of them with `all`), and forgets them. */
  flush(all = true): void {
    const now = this.#now();
    for (const [key, window] of this.#windows) {
      if (all || now - window.startMs >= this.#windowMs) this.#summarise(key, window);
    }
  }

  /** Stops the summary timer (the pending summaries are written first). */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.flush();
  }

  #summarise(key: string, window: Window): void {
    this.#windows.delete(key);
    if (window.suppressed === 0) return;
    const seconds = Math.max(1, Math.round((this.#now() - window.startMs) / 1000));
    this.#logger[window.level](
      { repeated: window.suppressed, windowMs: this.#windowMs },
      `${key} (repeated ${window.suppressed} more times in the last ${seconds} s)`,
    );
  }

  #arm(): void {
    if (!this.#timers || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush(false);
      if ([...this.#windows.values()].some((w) => w.suppressed > 0)) this.#arm();
    }, this.#windowMs);
    this.#timer.unref();
  }
}
