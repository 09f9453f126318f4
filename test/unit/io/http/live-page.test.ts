// Live pages: one render on subscribe, then a render per burst of changes (coalesced), only when the page changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeSignal, liveEvents } from '../../../../src/io/http/live-page.ts';
import type { SseStream } from '../../../../src/io/http/sse.ts';
import type { UiRequest } from '../../../../src/io/http/ui-routes.ts';
import { html } from '../../../../src/ui/html.ts';
import { waitFor } from '../../../helpers/process.ts';

function fakeStream() {
  const sent: Array<[string, unknown]> = [];
  const cleanups: Array<() => void> = [];
  const stream: SseStream & { end(): void } = {
    closed: false,
    send(event, data) {
      sent.push([event, data]);
      return true;
    },
    onClose: (cleanup) => void cleanups.push(cleanup),
    close() {},
    end() {
      (this as { closed: boolean }).closed = true;
      for (const c of cleanups) c();
    },
  };
  return { stream, sent };
}

const req = { path: '/events/x', params: {}, query: new URLSearchParams(), body: undefined, csrfToken: undefined, access: 'open' } as UiRequest;

async function until(cond: () => boolean): Promise<void> {
  await waitFor(cond, { timeoutMs: 2_500, intervalMs: 5, what: 'the stream to catch up' });
}

test('a live page gets its render at once, one render per burst of changes, and nothing when the page is the same', async () => {
  const signal = new ChangeSignal();
  let state = 1;
  let renders = 0;
  const { stream, sent } = fakeStream();
  await liveEvents({ signal, minIntervalMs: 50, render: () => (renders++, html`<p>${state}</p>`) })(req, stream);
  assert.deepEqual(sent, [['update', '<p>1</p>']]);
  for (let i = 0; i < 20; i++) {
    state = 2;
    signal.notify();
  }
  await until(() => sent.length === 2);
  assert.deepEqual(sent[1], ['update', '<p>2</p>']);
  assert.ok(renders <= 3, `a burst of 20 changes rendered ${renders} times`);
  signal.notify(); // nothing new to show
  await until(() => renders >= 3);
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.equal(sent.length, 2, 'an unchanged page is not sent again');
  stream.end();
  state = 3;
  signal.notify();
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.equal(sent.length, 2, 'a closed stream is left alone');
});
