// npm run fuzz — the structure-aware fuzzer (test/fuzz/, docs/fuzzing.md) against a real master and worker
// with authentication on, while a legitimate worker and application keep working.
//
//   FLINT_FUZZ_INPUTS=1000000      inputs to send (--inputs)
//   FLINT_FUZZ_SEED=<u32>          the run's seed, printed first (--seed); input #i depends only on (seed, i)
//   FLINT_FUZZ_FROM=0              the first input index (--from): replay a finding's range
//   FLINT_FUZZ_BATCH=5000          inputs between two health checks (--batch)
//   FLINT_FUZZ_CONNECTIONS=16      parallel lanes (--connections)
//   FLINT_FUZZ_SYNC_EVERY=32       structured inputs per VERIFY round trip (--sync-every); 1 with
//                                  --connections 1 pins a hang on one input index
//
// The last line is one JSON object with the figures; a readable table comes before it. Exit code 1 when a
// crash or a hang was found.

import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { formatTable, intFromEnv } from '../bench/lib/stats.ts';
import { runFuzz, type DaemonFigures, type FuzzReport } from '../test/fuzz/harness.ts';
import { calibrationMs, cpuModel } from '../test/fuzz/probes.ts';
import { parseSeed } from '../test/fuzz/rng.ts';

const TARGETS = { crashes: 0, hangs: 0, rssGrowthMb: 64, maxJsonMs: 250 } as const;

const { values } = parseArgs({
  options: {
    inputs: { type: 'string' },
    seed: { type: 'string' },
    from: { type: 'string' },
    batch: { type: 'string' },
    connections: { type: 'string' },
    'sync-every': { type: 'string' },
  },
});

/** A flag overrides its environment variable. */
function setting(flag: string | undefined, env: string, fallback: number): number {
  if (flag === undefined) return intFromEnv(env, fallback);
  const n = Number(flag);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${env.replace('FLINT_FUZZ_', '').toLowerCase()}=${flag} is not a positive integer`);
  return n;
}

const seed = parseSeed(values.seed ?? process.env['FLINT_FUZZ_SEED']);
const fromText = values.from ?? process.env['FLINT_FUZZ_FROM'] ?? '0';
const from = Number(fromText);
if (!Number.isSafeInteger(from) || from < 0) throw new Error(`FLINT_FUZZ_FROM=${fromText} is not a non-negative integer`);
const inputs = setting(values.inputs, 'FLINT_FUZZ_INPUTS', 1_000_000);
const batch = setting(values.batch, 'FLINT_FUZZ_BATCH', 5_000);
const connections = setting(values.connections, 'FLINT_FUZZ_CONNECTIONS', 16);
const syncEvery = setting(values['sync-every'], 'FLINT_FUZZ_SYNC_EVERY', 32);

console.log(`FLINT_FUZZ_SEED=${seed} FLINT_FUZZ_FROM=${from} FLINT_FUZZ_INPUTS=${inputs} (batch ${batch}, ${connections} connections)`);
const calibration = calibrationMs();
const report = await runFuzz({ seed, from, inputs, batch, connections, syncEvery, settle: true, log: (line) => console.error(line) });
printReport(report, calibration);
process.exitCode = report.findings.length > 0 ? 1 : 0;

function printReport(r: FuzzReport, calibration: number): void {
  const crashes = r.findings.filter((f) => f.kind === 'crash').length;
  const hangs = r.findings.filter((f) => f.kind === 'hang').length;
  // Growth is what a daemon kept once the flood passed (settled); the peak during it is reported beside it.
  const growth = (f: DaemonFigures): number => f.settledMb - f.baseMb;
  const rssGrowthMb = Math.max(growth(r.rss.master), growth(r.rss.worker));
  const peakGrowthMb = Math.max(r.rss.master.peakMb - r.rss.master.baseMb, r.rss.worker.peakMb - r.rss.worker.baseMb);
  const inputsPerSec = (r.inputs / r.elapsedMs) * 1000;
  const s = r.stats;
  const rssLine = (f: DaemonFigures): string => [f.startMb, f.baseMb, f.peakMb, f.lastMb, f.settledMb].map((x) => x.toFixed(0)).join(' → ');
  const us = (ms: number): number => (ms * 1000) / Math.max(1, r.inputs);
  const cpuTotal = r.cpuMs.fuzzer + r.cpuMs.master + r.cpuMs.worker;
  const n = (x: number): string => x.toLocaleString('en-US');
  const f1 = (x: number): string => x.toFixed(1);
  for (const finding of r.findings) {
    console.log(`${finding.kind.toUpperCase()}: ${finding.what}; replay: FLINT_FUZZ_SEED=${r.seed} FLINT_FUZZ_FROM=${finding.from} FLINT_FUZZ_INPUTS=${finding.to - finding.from + 1}`);
  }
  console.log(
    formatTable(
      ['figure', 'what', 'value', 'target'],
      [
        ['inputs', `sent from index ${r.from} (${n(s.structured)} structured, ${n(s.raw)} raw), ${n(Math.round(s.bytes / 1e6))} MB`, n(r.inputs), '1,000,000'],
        ['inputsPerSec', `over ${f1(r.elapsedMs / 1000)} s`, n(Math.round(inputsPerSec)), ''],
        ['crashes', 'a fuzzed daemon or the legit worker died', String(crashes), '0'],
        ['hangs', 'no VERIFY answer in 20 s, /json in 10 s, legit job in 30 s, legit worker not ALIVE', String(hangs), '0'],
        ['maxJsonMs', "the master's /json, every 250 ms during the run and after each batch", f1(r.maxJsonMs), '≤ 250'],
        ['maxWorkerJsonMs', "the target worker's /json", f1(r.maxWorkerJsonMs), ''],
        ['rssGrowthMb', 'VmRSS kept once idle after the last input, minus VmRSS after the first batch; worst of master and target worker', f1(rssGrowthMb), '≤ 64'],
        ['peakRssGrowthMb', 'the same for the peak during the run (V8 grows its heap under a flood of garbage)', f1(peakGrowthMb), ''],
        ['rss master', 'start → after batch 1 → peak → end → settled (MB)', rssLine(r.rss.master), ''],
        ['rss worker', 'start → after batch 1 → peak → end → settled (MB)', rssLine(r.rss.worker), ''],
        ['load average', 'of the machine at the end (1 min)', loadavg()[0]?.toFixed(2) ?? '', ''],
        ['legitJobs', `jobs of the legit app that completed (slowest ${f1(r.maxLegitJobMs)} ms)`, String(r.legitJobs), 'one per batch'],
        ['fatal closed', 'inputs meant to end the connection that did', n(s.fatalClosed), ''],
        ['fatal survived', '… that the daemon let through (answered the next VERIFY)', n(s.fatalSurvived), ''],
        ['unexpected closes', 'connections closed after inputs not meant to end them', n(s.unexpectedClosed), ''],
        ['raw not closed', 'raw connections the daemon left open for 20 s after our FIN', n(s.rawNotClosed), ''],
        ['cpu per input', `CPU µs per input: fuzzer ${f1(us(r.cpuMs.fuzzer))}, master ${f1(us(r.cpuMs.master))}, target worker ${f1(us(r.cpuMs.worker))}`, f1(us(cpuTotal)), ''],
        ['calibrationMs', 'SHA-256 of 64 MiB in this process', f1(calibration), ''],
      ],
    ),
  );
  console.log(
    JSON.stringify({
      seed: r.seed,
      from: r.from,
      inputs: r.inputs,
      crashes,
      hangs,
      maxJsonMs: Math.round(r.maxJsonMs),
      rssGrowthMb: Math.round(rssGrowthMb * 10) / 10,
      peakRssGrowthMb: Math.round(peakGrowthMb * 10) / 10,
      inputsPerSec: Math.round(inputsPerSec),
      legitJobs: r.legitJobs,
      cpuUsPerInput: Math.round(us(cpuTotal)),
      findings: r.findings,
      cpuModel: cpuModel(),
      calibrationMs: Math.round(calibration),
      targets: TARGETS,
    }),
  );
}
