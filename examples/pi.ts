// Monte-Carlo π: throw N darts at the square [-1, 1]² over S slices and count those inside the unit circle.
//
//   bin/flint submit --master flint://127.0.0.1:7077 examples/pi.ts [samples] [slices]
//
// The driver makes one record per slice: the number of darts that slice throws. `throwDarts` runs on the
// executors (found there by its export name) and returns how many of them hit; `add` sums the hits.

import { FlintContext, runApp } from 'flint';

/** Throws `darts` random darts and returns how many land inside the unit circle. */
export function throwDarts(darts: number): number {
  let inside = 0;
  for (let i = 0; i < darts; i++) {
    const x = Math.random() * 2 - 1;
    const y = Math.random() * 2 - 1;
    if (x * x + y * y <= 1) inside++;
  }
  return inside;
}

export function add(a: number, b: number): number {
  return a + b;
}

runApp(async (args) => {
  const samples = Number(args[0] ?? 2_000_000);
  const slices = Number(args[1] ?? 20);
  if (!Number.isSafeInteger(samples) || samples < 1 || !Number.isSafeInteger(slices) || slices < 1) {
    throw new Error(`usage: pi.ts [samples ≥ 1] [slices ≥ 1], got: ${args.join(' ')}`);
  }
  const perSlice = Math.ceil(samples / slices);
  const flint = await FlintContext.create({ appName: 'Flint Pi' });
  try {
    const darts = Array.from({ length: slices }, () => perSlice);
    const inside = await flint.parallelize(darts, slices).map(throwDarts).reduce(add);
    console.log(`Pi is roughly ${(4 * inside) / (perSlice * slices)} (${perSlice * slices} samples over ${slices} slices)`);
  } finally {
    await flint.stop();
  }
});
