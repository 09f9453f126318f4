// What every benchmark prints about the machine it ran on, so figures from two machines can be compared: the CPU
// model, and a calibration figure (a fixed CPU loop, in ms).

import { readFileSync } from 'node:fs';

export function cpuModel(): string {
  try {
    return /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** A fixed CPU loop, in ms: figures from two machines compare through it. */
export function calibrationMs(): number {
  const start = performance.now();
  let x = 0;
  for (let i = 1; i <= 50_000_000; i++) x += Math.sqrt(i) % 7;
  if (x < 0) console.log(x);
  return performance.now() - start;
}
