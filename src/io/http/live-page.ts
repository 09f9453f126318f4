// Pages that follow the cluster (issue 11: "a page shows a change within a second of it happening"): a daemon
// notifies a ChangeSignal after each input its machine handled; each open page's event stream re-renders the page's
// <main> and sends it as an `update` event (static/live.js swaps it in) when it differs from what the page shows.
// Renders are coalesced: at most one per `minIntervalMs` per stream, the last one always sent, so a storm of
// inputs costs each viewer a few renders a second, not one per input. Spark's pages do not update themselves.

import type { SafeHtml } from '../../ui/html.ts';
import type { UiRequest } from './ui-routes.ts';
import type { SseStream } from './sse.ts';

/** Something changed: every subscriber is told (synchronously; they schedule their own work). */
export class ChangeSignal {
  readonly #listeners = new Set<() => void>();
  #version = 0;

  get version(): number {
    return this.#version;
  }

  notify(): void {
    this.#version++;
    for (const listener of this.#listeners) listener();
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

export interface LiveEventsOptions {
  readonly signal: ChangeSignal;
  /** The page's <main> for this request (its query string chooses sort, filter and page, as the page's own). */
  readonly render: (req: UiRequest) => SafeHtml | Promise<SafeHtml>;
  /** The least time between two renders for one stream; 250 ms when not given. */
  readonly minIntervalMs?: number;
}

export const LIVE_MIN_INTERVAL_MS = 250;

/** The handler of an `events` route that keeps one page live. */
export function liveEvents(options: LiveEventsOptions): (req: UiRequest, stream: SseStream) => Promise<void> {
  const minInterval = options.minIntervalMs ?? LIVE_MIN_INTERVAL_MS;
  return async (req, stream) => {
    let last = '';
    let lastAt = 0;
    let timer: NodeJS.Timeout | undefined;
    let rendering = false;
    let again = false;
    const push = async (): Promise<void> => {
      timer = undefined;
      if (stream.closed) return;
      if (rendering) {
        again = true;
        return;
      }
      rendering = true;
      try {
        const text = (await options.render(req)).toString();
        lastAt = performance.now();
        if (text !== last) {
          last = text;
          stream.send('update', text);
        }
      } finally {
        rendering = false;
      }
      if (again) {
        again = false;
        schedule();
      }
    };
    const schedule = (): void => {
      if (timer !== undefined || stream.closed) return;
      const wait = Math.max(0, lastAt + minInterval - performance.now());
      timer = setTimeout(() => void push(), wait);
      timer.unref();
    };
    const unsubscribe = options.signal.subscribe(schedule);
    stream.onClose(() => {
      unsubscribe();
      if (timer !== undefined) clearTimeout(timer);
    });
    await push(); // what the page may have missed between its load and this stream
  };
}
