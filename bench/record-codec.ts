// Encodes and decodes 1 million small plain records with the record codec (src/task/record-codec.ts) and with
// @msgpack/msgpack's default encode/decode (what records used before), in slices of 1,000 as parallelize sends
// them. Run: node bench/record-codec.ts. The last line is JSON: ms for each, best of 5 rounds, and the CPU.

import { decode, encode } from '@msgpack/msgpack';
import { readFileSync } from 'node:fs';
import { decodeRecord, encodeRecord } from '../src/task/record-codec.ts';

const RECORDS = 1_000_000;
const SLICE = 1_000;
const slices: unknown[][] = [];
for (let s = 0; s < RECORDS / SLICE; s += 1) {
  const slice: unknown[] = [];
  for (let i = 0; i < SLICE; i += 1) {
    const n = s * SLICE + i;
    slice.push({ id: n, name: `user${n}`, score: n * 1.5, tags: ['a', 'b'], active: n % 2 === 0 });
  }
  slices.push(slice);
}

function time(fn: () => void): number {
  let best = Infinity;
  for (let round = 0; round < 5; round += 1) {
    const start = performance.now();
    fn();
    best = Math.min(best, performance.now() - start);
  }
  return Math.round(best);
}

const plainBytes = slices.map((slice) => encode(slice));
const recordBytes = slices.map((slice) => encodeRecord(slice));
const result = {
  records: RECORDS,
  msgpackEncodeMs: time(() => slices.forEach((slice) => encode(slice))),
  recordEncodeMs: time(() => slices.forEach((slice) => encodeRecord(slice))),
  msgpackDecodeMs: time(() => plainBytes.forEach((bytes) => decode(bytes))),
  recordDecodeMs: time(() => recordBytes.forEach((bytes) => decodeRecord(bytes))),
  cpu: /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown',
  node: process.version,
};
console.log(JSON.stringify(result));
