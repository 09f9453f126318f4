// Encodes and decodes 1 million small plain records with the record codec (src/task/record-codec.ts) and with
// @msgpack/msgpack's default encode/decode (what records used before), in slices of 1,000 as parallelize sends
// them. Run: node bench/record-codec.ts [msgpack|record]. The last line is JSON: ms for each, best of 9
// interleaved rounds, and the CPU. With an argument only that codec runs, so neither shapes the other's JIT
// feedback (both share msgpack's Encoder and Decoder classes): run each in its own process to compare.

import { decode, encode } from '@msgpack/msgpack';
import { decodeRecord, encodeRecord } from '../src/task/record-codec.ts';
import { benchJson, measureMachine } from './lib/machine.ts';

const machine = await measureMachine();
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

/** Best of ROUNDS for each, the contenders interleaved round by round so that load on the machine hits both. */
const ROUNDS = 9;
function race(fns: Record<string, () => void>): Record<string, number> {
  const best: Record<string, number> = {};
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [name, fn] of Object.entries(fns)) {
      const start = performance.now();
      fn();
      best[name] = Math.min(best[name] ?? Infinity, Math.round(performance.now() - start));
    }
  }
  return best;
}

const only = process.argv[2];
const encoders: Record<string, () => void> = {};
const decoders: Record<string, () => void> = {};
if (only !== 'record') {
  const plainBytes = slices.map((slice) => encode(slice));
  encoders['msgpackEncodeMs'] = () => slices.forEach((slice) => encode(slice));
  decoders['msgpackDecodeMs'] = () => plainBytes.forEach((bytes) => decode(bytes));
}
if (only !== 'msgpack') {
  const recordBytes = slices.map((slice) => encodeRecord(slice));
  encoders['recordEncodeMs'] = () => slices.forEach((slice) => encodeRecord(slice));
  decoders['recordDecodeMs'] = () => recordBytes.forEach((bytes) => decodeRecord(bytes));
}
const result = {
  records: RECORDS,
  // Encoding first, then decoding: the million objects each decode round leaves would otherwise be collected
  // during the next encode round.
  ...race(encoders),
  ...race(decoders),
};
console.log(benchJson(result, machine));
