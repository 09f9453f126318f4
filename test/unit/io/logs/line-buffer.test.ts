// The executor's log destination (src/io/logs/line-buffer.ts): lines reach the descriptor in order and whole,
// only as the buffer fills or is flushed, and a descriptor that cannot be written never throws into the logger.
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { LogLineBuffer } from '../../../../src/io/logs/line-buffer.ts';
import { tempDir } from '../../../helpers/temp-dir.ts';

const dir = tempDir('flint-line-buffer-');
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

function file(): { path: string; fd: number; size(): number; text(): string } {
  const path = join(dir, `log-${files++}`);
  const fd = openSync(path, 'a');
  after(() => closeSync(fd));
  return { path, fd, size: () => statSync(path).size, text: () => readFileSync(path, 'utf8') };
}

test('lines are written only when the buffer may not hold the next one, or on flush, in order', () => {
  const out = file();
  const buffer = new LogLineBuffer(out.fd, 64);
  buffer.write('one\n'); // 4 bytes: room is kept for 3 bytes a unit
  buffer.write('two\n');
  assert.equal(out.size(), 0, 'nothing written yet');
  assert.equal(buffer.pending, 8);
  buffer.write('x'.repeat(19) + '\n'); // 20 units may take 60 bytes: more than the 56 left, so the first two go
  assert.equal(out.text(), 'one\ntwo\n');
  assert.equal(buffer.pending, 20);
  buffer.flushSync();
  assert.equal(out.text(), `one\ntwo\n${'x'.repeat(19)}\n`);
  assert.equal(buffer.pending, 0);
  buffer.flushSync();
  assert.equal(out.size(), 28, 'an empty flush writes nothing');
});

test('a line longer than the buffer is written whole, after the lines before it', () => {
  const out = file();
  const buffer = new LogLineBuffer(out.fd, 64);
  buffer.write('first\n');
  const long = `${'é'.repeat(100)}\n`;
  buffer.write(long);
  buffer.write('last\n');
  buffer.flushSync();
  assert.equal(out.text(), `first\n${long}last\n`);
});

test('characters of every width survive, a buffer filled many times over', () => {
  const out = file();
  const buffer = new LogLineBuffer(out.fd, 256);
  const lines = Array.from({ length: 500 }, (_, i) => `${i} 日本語 🚀 ${'ß'.repeat(i % 40)} \u{10FFFF}\n`);
  for (const line of lines) buffer.write(line);
  buffer.flushSync();
  assert.equal(out.text(), lines.join(''));
});

test("pino's lines through it are JSON, one per line, and flush() writes them", () => {
  const out = file();
  const buffer = new LogLineBuffer(out.fd);
  const logger = pino({ name: 'flint-executor', base: { pid: 1 } }, buffer).child({ executorId: '3' });
  for (let i = 0; i < 50; i++) logger.info(`Finished task ${i}.0 in stage 0.0 (TID ${i}). 5 bytes result sent to driver`);
  assert.equal(out.size(), 0);
  logger.flush();
  const parsed = out.text().trimEnd().split('\n').map((line) => JSON.parse(line) as { msg: string; executorId: string });
  assert.equal(parsed.length, 50);
  assert.equal(parsed[49]?.msg, "Finished task 49.0 in stage 0.0 (TID 49). 5 bytes result sent to driver");
  assert.equal(parsed[0]?.executorId, '3');
});

test('a descriptor that cannot be written to drops the lines and never throws', () => {
  const path = join(dir, 'read-only');
  closeSync(openSync(path, 'w'));
  const fd = openSync(path, 'r');
  after(() => closeSync(fd));
  const buffer = new LogLineBuffer(fd, 64);
  buffer.write('lost\n');
  assert.doesNotThrow(() => buffer.flushSync());
  assert.doesNotThrow(() => buffer.write(`${'y'.repeat(100)}\n`));
  buffer.write('also lost\n');
  assert.doesNotThrow(() => buffer.flushSync());
  assert.equal(buffer.pending, 0, 'nothing is kept for a descriptor that failed');
  assert.equal(statSync(path).size, 0);
});

test('a full non-blocking pipe is retried until its reader drains it: every byte arrives, in order', async () => {
  // The reader starts reading only after 200 ms; meanwhile the pipe (non-blocking on this side, as libuv makes
  // its pipes) is filled, so the buffer's write meets EAGAIN and waits in 1 ms pauses (for up to a second each).
  const reader = spawn('sh', ['-c', 'sleep 0.2; exec cat'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const chunks: Buffer[] = [];
  reader.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const exited = new Promise((resolve) => reader.once('exit', resolve));
  const fd = (reader.stdin as unknown as { _handle: { fd: number } })._handle.fd;
  const buffer = new LogLineBuffer(fd, 4096);
  const lines = Array.from({ length: 2_000 }, (_, i) => `${String(i).padStart(4, '0')} ${'z'.repeat(95)}\n`); // 200 KB: three pipes' worth
  const started = performance.now();
  for (const line of lines) buffer.write(line);
  buffer.flushSync();
  const tookMs = performance.now() - started;
  reader.stdin.end();
  await exited;
  assert.equal(Buffer.concat(chunks).toString(), lines.join(''), 'the reader got every line, in order');
  assert.ok(tookMs >= 100, `the writes waited for the reader (${tookMs.toFixed(0)} ms)`);
});
