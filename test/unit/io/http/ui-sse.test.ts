// Server-sent event streams of the UI server (src/io/http/sse.ts): events reach the client as they are sent,
// heartbeats keep the connection, a client that goes away is cleaned up after, the server's bound answers 503,
// and closing the server ends the streams it still has.

import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, before, describe, test } from 'node:test';
import type { UiRoute } from '../../../../src/io/http/ui-server.ts';
import { startHarness, waitFor, type Harness } from './ui-harness.ts';

const bus = new EventEmitter();
let cleanedUp = 0;
const routes: UiRoute[] = [
  {
    kind: 'events',
    path: '/events',
    handler: (req, stream) => {
      stream.send('hello', { who: req.query.get('who'), text: 'line 1\nline 2 </script>' });
      const onChange = (data: unknown): void => void stream.send('change', data, 'id-1');
      bus.on('change', onChange);
      stream.onClose(() => {
        bus.off('change', onChange);
        cleanedUp++;
      });
    },
  },
  {
    kind: 'events',
    path: '/events/broken',
    handler: () => {
      throw new Error('no snapshot');
    },
  },
];

interface Client {
  readonly res: Response;
  /** Everything received so far. */
  text(): string;
  until(needle: string): Promise<void>;
  abort(): void;
}

async function connect(h: Harness, path = '/events'): Promise<Client> {
  const controller = new AbortController();
  const res = await h.get(path, { signal: controller.signal });
  let received = '';
  if (res.status === 200 && res.body !== null) {
    const decoder = new TextDecoder();
    void (async () => {
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) received += decoder.decode(chunk, { stream: true });
      } catch {
        // aborted
      }
    })();
  }
  return {
    res,
    text: () => received,
    until: (needle) => waitFor(() => received.includes(needle), `${JSON.stringify(needle)} on ${path}; got ${JSON.stringify(received)}`),
    abort: () => controller.abort(),
  };
}

describe('event streams', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ routes, maxEventStreams: 2, heartbeatMs: 40 });
  });
  after(() => h.server.close());

  test('events arrive as they are sent, one JSON data line each, with the stream headers', async () => {
    const c = await connect(h, '/events?who=me');
    assert.equal(c.res.status, 200);
    assert.equal(c.res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    assert.equal(c.res.headers.get('cache-control'), 'no-store');
    assert.match(c.res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    await c.until('event: hello\n');
    assert.ok(c.text().includes('event: hello\ndata: {"who":"me","text":"line 1\\nline 2 </script>"}\n\n'), c.text());
    bus.emit('change', { workers: 3 });
    await c.until('event: change\nid: id-1\ndata: {"workers":3}\n\n');
    c.abort();
    await waitFor(() => h.server.openEventStreams === 0, 'the stream to close');
  });

  test('a heartbeat comment comes every heartbeatMs', async () => {
    const c = await connect(h);
    await c.until(': heartbeat\n\n');
    c.abort();
    await waitFor(() => h.server.openEventStreams === 0, 'the stream to close');
  });

  test('a client that goes away is cleaned up after: its cleanup runs, it no longer counts', async () => {
    const before = cleanedUp;
    const c = await connect(h);
    await c.until('event: hello');
    assert.equal(h.server.openEventStreams, 1);
    assert.equal(bus.listenerCount('change'), 1);
    c.abort();
    await waitFor(() => cleanedUp === before + 1, 'the cleanup');
    assert.equal(h.server.openEventStreams, 0);
    assert.equal(bus.listenerCount('change'), 0);
  });

  test('past maxEventStreams a new stream is 503 with Retry-After; a slot freed is usable again', async () => {
    const a = await connect(h);
    const b = await connect(h);
    await Promise.all([a.until('hello'), b.until('hello')]);
    const c = await connect(h);
    assert.equal(c.res.status, 503);
    assert.equal(c.res.headers.get('retry-after'), '5');
    assert.match(((await c.res.json()) as { error: string }).error, /has 2 event streams open, its most/);
    a.abort();
    await waitFor(() => h.server.openEventStreams === 1, 'one stream to close');
    const d = await connect(h);
    assert.equal(d.res.status, 200);
    b.abort();
    d.abort();
    await waitFor(() => h.server.openEventStreams === 0, 'the streams to close');
  });

  test('an event stream takes GET only: HEAD and POST are 405', async () => {
    for (const method of ['HEAD', 'POST']) {
      const res = await h.get('/events', { method });
      assert.equal(res.status, 405, method);
      assert.equal(res.headers.get('allow'), 'GET');
    }
    assert.equal(h.server.openEventStreams, 0);
  });

  test('a handler that throws is a 500 and holds no slot', async () => {
    const c = await connect(h, '/events/broken');
    assert.equal(c.res.status, 500);
    assert.deepEqual(await c.res.json(), { error: 'internal error; see the daemon log' });
    assert.equal(h.server.openEventStreams, 0);
  });
});

test('closing the server ends the streams it still has', async () => {
  const h = await startHarness({ routes });
  const c = await connect(h);
  await c.until('hello');
  const before = cleanedUp;
  await h.server.close();
  assert.equal(cleanedUp, before + 1);
  assert.equal(h.server.openEventStreams, 0);
});
