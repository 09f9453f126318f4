// bench:shuffle — Flint's shuffles against one good thread (McSherry et al.'s COST) and against Dask, on a real
// local cluster of 2 workers × 1 core (processes started through the CLI from the build bin/flint runs), this
// process as the driver:
//
//   (a) word count of a generated corpus (FLINT_BENCH_CORPUS_MB, default 256 MiB in 8 files, Zipf words over a
//       50,000-word vocabulary): textFile … flatMap … map … reduceByKey … saveAsTextFile, against a
//       single-threaded Node word count of the same files (whole files, one pass, one Map)
//   (b) sortByKey of 10 million pairs, against a single-threaded Node sort of the same pairs
//   (c) join of 10 million pairs with 1 million, against a single-threaded Node hash join
//   (d) the same word count with Dask bag on a distributed LocalCluster of 2 processes × 1 thread
//   and the peak RSS (VmHWM) of each executor, against flint.executor.memory.
//
// The baselines run in child processes of their own (bench/lib/baselines.ts); likewise (a), (b) and (c) each run in
// a Flint application of its own, on fresh executors, timed once they have loaded the app and the cluster has
// settled (executor code the word count had compiled for its string keys is not there to be thrown away by the
// sort, docs/benchmarks.md). Every result is checked. The whole
// comparison runs FLINT_BENCH_ROUNDS times (default 3): each round the baselines, Dask, then Flint on a fresh
// cluster, so that each round's figures are taken minutes apart at most; each ratio is the median over the
// rounds of that round's ratio (the shared machine's speed drifts by a fifth within minutes). The last line is
// one JSON object with the figures. Run: npm run bench:shuffle (FLINT_BENCH_SKIP_FLINT=1: the baselines and Dask
// only).

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlintContext, runApp, type PartitionRecords } from 'flint';
import { LocalCluster } from '../src/daemons/local-cluster.ts';
import { currentBuildCli } from './lib/build.ts';
import { JOIN_LEFT, JOIN_RIGHT, SORT_PAIRS, ensureCorpus, joinLeftKey, joinRightValue, pairKey, type Corpus } from './lib/corpus.ts';
import { DEFAULT_TOKENIZER, type Tokenizer } from './lib/baselines.ts';
import { daskWordCount, ensureDask } from './lib/dask.ts';
import { benchJson, measureMachine, type Machine } from './lib/machine.ts';
import { childPids, cpuSample, executorPids, memorySample } from './lib/proc.ts';
import { expectEqual, expectSameCounts, expectSorted, readCountsFile, readSavedCounts, runBaseline, type SortedPartition } from './lib/shuffle-checks.ts';
import { exitAfter, formatTable, intFromEnv, timed, until } from './lib/stats.ts';

// ---- task functions (executors find them by export name) ----------------------------------------------------

/** A line's words: a scan of its char codes, a slice at each space (the baseline's `scan` tokenizer, for a line). */
export function scanWords(line: string): string[] {
  const words: string[] = [];
  let start = 0;
  const n = line.length;
  for (let i = 0; i < n; i++) {
    if (line.charCodeAt(i) === 32) {
      if (i > start) words.push(line.slice(start, i));
      start = i + 1;
    }
  }
  if (n > start) words.push(line.slice(start));
  return words;
}

/** A line's words by `split(' ')` (the baseline's `lines` tokenizer, for a line). */
export function splitWords(line: string): string[] {
  return line.split(' ');
}

/** A line's words by `split(/\s+/)`, empty ones dropped (the baseline's `regex` tokenizer). */
export function regexWords(line: string): string[] {
  return line.split(/\s+/).filter((word) => word !== '');
}

/**
 * The word count's flatMap function for each of the baseline's tokenizers (FLINT_BENCH_TOKENIZER, default scan):
 * both sides split the text the same way, so that (a) compares the engines, not two tokenizers. V8's `split`
 * looks every two-character piece up in its string table (`MakeOrFindTwoCharacterString`): 10 % of the
 * executors' CPU in this word count, which a slice does not do (docs/benchmarks.md).
 */
const WORD_SPLITTERS: Readonly<Record<Tokenizer, (line: string) => string[]>> = { scan: scanWords, lines: splitWords, regex: regexWords };

function tokenizerFromEnv(): Tokenizer {
  const name = process.env['FLINT_BENCH_TOKENIZER'] ?? DEFAULT_TOKENIZER;
  if (!Object.hasOwn(WORD_SPLITTERS, name)) {
    throw new Error(`FLINT_BENCH_TOKENIZER is ${JSON.stringify(name)}; expected one of ${Object.keys(WORD_SPLITTERS).join(', ')}`);
  }
  return name as Tokenizer;
}

export function toOne(word: string): [string, number] {
  return [word, 1];
}

export function add(a: number, b: number): number {
  return a + b;
}

export function toPair(i: number): [number, number] {
  return [pairKey(i), i];
}

export function toJoinLeft(i: number): [number, number] {
  return [joinLeftKey(i), i];
}

export function toJoinRight(k: number): [number, number] {
  return [k, joinRightValue(k)];
}

/**
 * One SortedPartition for a partition of sorted pairs: its size, first and last key, order, and value sum. (The
 * partition's index comes from collect's order: mapPartitions does not pass its second argument today.)
 */
export function checkSorted(records: PartitionRecords<[number, number]>): SortedPartition[] {
  let count = 0;
  let first = -1;
  let last = -1;
  let sorted = true;
  let valueSum = 0;
  for (const [key, value] of records) {
    if (count === 0) first = key;
    else if (key < last) sorted = false;
    last = key;
    valueSum += value;
    count++;
  }
  return [[count, first, last, sorted, valueSum]];
}

/** [output pairs, Σ (left value + right value)] of one partition of the join. */
export function sumJoined(records: PartitionRecords<[number, [number, number]]>): Array<[number, number]> {
  let count = 0;
  let checksum = 0;
  for (const [, [v, w]] of records) {
    count++;
    checksum += v + w;
  }
  return [[count, checksum]];
}

// ---- the benchmark ----------------------------------------------------------------------------------------

const DEADLINE_MS = 15 * 60_000;
/** flint.executor.memory, and the bound on every executor's peak RSS. */
const EXECUTOR_MEMORY = '1g';
const EXECUTOR_MEMORY_MB = 1024;
/** textFile's minPartitions for (a). */
const TEXT_PARTITIONS = 16;
/** The partitions of the generated pairs and of the shuffles of (b) and (c): 4 per core. */
const PAIR_PARTITIONS = 8;

interface Baselines {
  readonly wordCountMs: number;
  readonly wordCountRssMb: number;
  readonly sortMs: number;
  readonly sortRssMb: number;
  /** The tuple sort, run in the first round only (it takes 15 s and is not a target). */
  readonly sortTuplesMs: number | undefined;
  readonly joinMs: number;
  readonly joinRssMb: number;
  readonly sortValueSum: number;
  readonly joinChecksum: number;
  readonly tokenizer: string;
}

function runBaselines(corpus: Corpus, outFile: string, withTuples: boolean): Baselines {
  const wc = runBaseline(['wordcount', outFile, ...corpus.paths]);
  expectEqual('single-threaded word count: words', wc.count, corpus.words);
  expectEqual('single-threaded word count: distinct words', wc.distinct, corpus.distinctWords);
  const packed = runBaseline(['sort', 'packed']);
  const tuples = withTuples ? runBaseline(['sort', 'tuples']) : undefined;
  const valueSum = (SORT_PAIRS * (SORT_PAIRS - 1)) / 2;
  for (const s of tuples === undefined ? [packed] : [packed, tuples]) expectEqual(`single-threaded sort (${s.variant}): the sum of the values`, s.checksum, valueSum);
  const join = runBaseline(['join']);
  expectEqual('single-threaded hash join: output pairs', join.count, JOIN_LEFT);
  return {
    wordCountMs: wc.ms,
    wordCountRssMb: wc.maxRssMb,
    // The typed-array sort is the faster one: it is the baseline (COST asks for the best single thread).
    sortMs: Math.min(packed.ms, tuples?.ms ?? Infinity),
    sortRssMb: tuples === undefined || packed.ms <= tuples.ms ? packed.maxRssMb : tuples.maxRssMb,
    sortTuplesMs: tuples?.ms,
    joinMs: join.ms,
    joinRssMb: join.maxRssMb,
    sortValueSum: valueSum,
    joinChecksum: join.checksum ?? Number.NaN,
    tokenizer: wc.variant,
  };
}

interface FlintFigures {
  readonly wordCountMs: number;
  readonly sortMs: number;
  readonly joinMs: number;
  /** Each executor's peak RSS (VmHWM), in MiB, read just before its application stops: word count, sort, join. */
  readonly executorRssMb: readonly number[];
}

/** The executors under the cluster's workers (standbys still waiting to be adopted left out). */
function executorsOf(cluster: LocalCluster): number[] {
  return cluster.workers.flatMap((w) => (w.pid === undefined ? [] : executorPids(w.pid)));
}

/** CPU ticks so far of every process under the cluster's workers (executors and standbys), and of the workers. */
function clusterTicks(cluster: LocalCluster): number {
  const pids = cluster.workers.flatMap((w) => (w.pid === undefined ? [] : [w.pid, ...childPids(w.pid)]));
  return pids.reduce((n, pid) => {
    try {
      return n + cpuSample(pid).ticks;
    } catch {
      return n; // it exited meanwhile
    }
  }, 0);
}

/**
 * Waits until the processes under the workers have used no CPU for 200 ms (bounded: 15 s): an application's start
 * has each worker start a standby executor in place of the one adopted (docs/standby-executors.md), and its
 * loading would otherwise take a core from the work being timed.
 */
async function settled(cluster: LocalCluster): Promise<void> {
  let last = clusterTicks(cluster);
  let quietSince = performance.now();
  await until(
    'the cluster settling after the application started',
    () => {
      const now = clusterTicks(cluster);
      if (now !== last) {
        last = now;
        quietSince = performance.now();
      }
      return performance.now() - quietSince >= 200;
    },
    15_000,
    20,
  );
}

/**
 * Runs `work` in an application of its own on `cluster` (2 executors of 1 core), timed from when both executors
 * have loaded the app's module and the cluster has settled: each workload starts on fresh executors, as each
 * baseline runs in a fresh process. Returns its result, its time and its executors' peak RSS (VmHWM, MiB),
 * read just before the application stops; returns when those executors have exited.
 */
async function inApp<T>(cluster: LocalCluster, name: string, work: (flint: FlintContext) => Promise<T>): Promise<{ result: T; ms: number; rssMb: number[] }> {
  const conf = {
    'flint.cores.max': 2,
    'flint.executor.cores': 1,
    'flint.executor.memory': EXECUTOR_MEMORY,
    'flint.authenticate.secret.file': cluster.secretFile,
  };
  const flint = await FlintContext.create({ master: cluster.masterUrl, appName: `bench:shuffle ${name}`, conf, progress: false });
  let rssMb: number[];
  let timedWork: [T, number];
  try {
    await flint.awaitExecutors(2, 30_000);
    // Both executors load the app's module before anything is timed (the baselines' times leave out Node's start too).
    await flint.range(0, 2, 1, 2).map(toPair).count();
    await settled(cluster);
    timedWork = await timed(() => work(flint));
    rssMb = executorsOf(cluster).map((pid) => memorySample(pid).peakRssMb);
    if (rssMb.length !== 2) throw new Error(`found ${rssMb.length} executor processes under the workers during ${name}, expected 2`);
  } finally {
    await flint.stop();
  }
  await until(`the executors of ${name} exiting`, () => executorsOf(cluster).length === 0, 30_000, 20);
  return { result: timedWork[0], ms: timedWork[1], rssMb };
}

async function runFlint(corpus: Corpus, outDir: string, baselines: Baselines, baselineCounts: ReadonlyMap<string, number>): Promise<FlintFigures> {
  const cli = currentBuildCli();
  const cluster = await LocalCluster.start({ cli, workers: 2, coresPerWorker: 1, memoryPerWorker: '2g' });
  try {
    // (a) word count
    const savedTo = join(outDir, 'wordcount-flint');
    const wordCount = await inApp(cluster, 'word count', (flint) =>
      flint.textFile(corpus.glob, TEXT_PARTITIONS).flatMap(WORD_SPLITTERS[tokenizerFromEnv()]).map(toOne).reduceByKey(add).saveAsTextFile(savedTo),
    );
    expectSameCounts('Flint word count', readSavedCounts(savedTo), baselineCounts);

    // (b) sort
    const sort = await inApp(cluster, 'sort', (flint) =>
      flint.range(0, SORT_PAIRS, 1, PAIR_PARTITIONS).map(toPair).sortByKey(true, PAIR_PARTITIONS).mapPartitions(checkSorted).collect(),
    );
    expectSorted(sort.result, SORT_PAIRS, baselines.sortValueSum);

    // (c) join
    const joined = await inApp(cluster, 'join', (flint) => {
      const left = flint.range(0, JOIN_LEFT, 1, PAIR_PARTITIONS).map(toJoinLeft);
      const right = flint.range(0, JOIN_RIGHT, 1, PAIR_PARTITIONS).map(toJoinRight);
      return left.join(right, PAIR_PARTITIONS).mapPartitions(sumJoined).collect();
    });
    expectEqual('Flint join: output pairs', joined.result.reduce((n, [c]) => n + c, 0), JOIN_LEFT);
    expectEqual('Flint join: Σ (left value + right value)', joined.result.reduce((n, [, s]) => n + s, 0), baselines.joinChecksum);

    return { wordCountMs: wordCount.ms, sortMs: sort.ms, joinMs: joined.ms, executorRssMb: [...wordCount.rssMb, ...sort.rssMb, ...joined.rssMb] };
  } finally {
    await cluster.stop();
  }
}

const round = (x: number, digits = 0): number => Number(x.toFixed(digits));

/** The middle value (the mean of the two middle ones for an even count). */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** One round: the baselines, Dask, then Flint on a fresh cluster. */
interface Round {
  readonly baselines: Baselines;
  readonly dask: { readonly ms: number; readonly clusterStartMs: number };
  readonly flint: FlintFigures | undefined;
}

runApp(async () => {
  exitAfter(DEADLINE_MS, 'bench:shuffle');
  tokenizerFromEnv(); // a wrong FLINT_BENCH_TOKENIZER fails here, not after the baselines
  const loadAtStart = loadavg()[0] as number;
  const machine = await measureMachine();
  const corpus = ensureCorpus(intFromEnv('FLINT_BENCH_CORPUS_MB', 256));
  const rounds = intFromEnv('FLINT_BENCH_ROUNDS', 3);
  const corpusMb = corpus.files.reduce((n, f) => n + f.bytes, 0) / (1024 * 1024);
  console.error(`bench: corpus ${corpusMb.toFixed(1)} MiB, ${corpus.words} words (${corpus.generated ? `generated in ${corpus.generateMs} ms` : 'cached'}) in ${corpus.dir}`);
  const work = mkdtempSync(join(tmpdir(), 'flint-bench-shuffle-'));
  try {
    const daskVersions = ensureDask();
    const done: Round[] = [];
    for (let i = 0; i < rounds; i++) {
      const dir = join(work, `round-${i + 1}`);
      mkdirSync(dir);
      const baselineOut = join(dir, 'wordcount-baseline.txt');
      const baselines = runBaselines(corpus, baselineOut, i === 0);
      const baselineCounts = readCountsFile(baselineOut);
      const tuples = baselines.sortTuplesMs === undefined ? '' : ` (tuples ${baselines.sortTuplesMs.toFixed(0)} ms)`;
      console.error(`bench: round ${i + 1}/${rounds}: single-threaded word count ${baselines.wordCountMs.toFixed(0)} ms, sort ${baselines.sortMs.toFixed(0)} ms${tuples}, join ${baselines.joinMs.toFixed(0)} ms`);
      const dask = daskWordCount(corpus.paths, dir);
      expectEqual('Dask bag word count: words', dask.words, corpus.words);
      expectEqual('Dask bag word count: distinct words', dask.distinct, corpus.distinctWords);
      console.error(`bench: round ${i + 1}/${rounds}: Dask bag word count ${dask.ms.toFixed(0)} ms (${daskVersions})`);
      const flint = process.env['FLINT_BENCH_SKIP_FLINT'] === '1' ? undefined : await runFlint(corpus, dir, baselines, baselineCounts);
      if (flint !== undefined) {
        console.error(`bench: round ${i + 1}/${rounds}: Flint word count ${flint.wordCountMs.toFixed(0)} ms, sort ${flint.sortMs.toFixed(0)} ms, join ${flint.joinMs.toFixed(0)} ms`);
      }
      done.push({ baselines, dask, flint });
    }
    report({ corpus, corpusMb, rounds: done, daskVersions, machine, loadAtStart });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

function report(r: { corpus: Corpus; corpusMb: number; rounds: readonly Round[]; daskVersions: string; machine: Machine; loadAtStart: number }): void {
  const rounds = r.rounds;
  const first = rounds[0] as Round;
  const flints = rounds.flatMap((round) => (round.flint === undefined ? [] : [round.flint]));
  const ran = flints.length === rounds.length;
  const round2 = (x: number): number => round(x, 2);
  /** Each round's ratio of a baseline's time over Flint's, or null when Flint was skipped. */
  const perRound = (baseline: (round: Round) => number, flint: (f: FlintFigures) => number): number[] | null =>
    ran ? rounds.map((round) => round2(baseline(round) / flint(round.flint as FlintFigures))) : null;
  const ratios = {
    wordCountVsSingleThread: perRound((x) => x.baselines.wordCountMs, (f) => f.wordCountMs),
    sortVsSingleThread: perRound((x) => x.baselines.sortMs, (f) => f.sortMs),
    joinVsSingleThread: perRound((x) => x.baselines.joinMs, (f) => f.joinMs),
    wordCountVsDaskBag: perRound((x) => x.dask.ms, (f) => f.wordCountMs),
  };
  const med = (xs: number[] | null): number | null => (xs === null ? null : round2(median(xs)));
  const medMs = (xs: readonly number[]): number => round(median(xs));
  const executorRssMb = flints.flatMap((f) => f.executorRssMb);
  const maxExecutorRssMb = ran ? round(Math.max(...executorRssMb), 1) : null;
  const figures = {
    wordCountVsSingleThread: med(ratios.wordCountVsSingleThread),
    sortVsSingleThread: med(ratios.sortVsSingleThread),
    joinVsSingleThread: med(ratios.joinVsSingleThread),
    wordCountVsDaskBag: med(ratios.wordCountVsDaskBag),
    maxExecutorRssMb,
    executorMemoryMb: EXECUTOR_MEMORY_MB,
  };
  const targetsMet = !ran
    ? null
    : [figures.wordCountVsSingleThread, figures.sortVsSingleThread, figures.joinVsSingleThread].every((x) => (x ?? 0) >= 1.5) &&
      (figures.wordCountVsDaskBag ?? 0) >= 2 &&
      (maxExecutorRssMb ?? Infinity) <= EXECUTOR_MEMORY_MB;
  const times = {
    wordCountMs: ran ? medMs(flints.map((f) => f.wordCountMs)) : null,
    wordCountSingleThreadMs: medMs(rounds.map((x) => x.baselines.wordCountMs)),
    sortMs: ran ? medMs(flints.map((f) => f.sortMs)) : null,
    sortSingleThreadMs: medMs(rounds.map((x) => x.baselines.sortMs)),
    sortTuplesSingleThreadMs: first.baselines.sortTuplesMs === undefined ? null : round(first.baselines.sortTuplesMs),
    joinMs: ran ? medMs(flints.map((f) => f.joinMs)) : null,
    joinSingleThreadMs: medMs(rounds.map((x) => x.baselines.joinMs)),
    daskBagMs: medMs(rounds.map((x) => x.dask.ms)),
  };
  const ms = (v: number | null): string => (v === null ? 'skipped' : v.toFixed(0));
  const x = (v: number | null): string => (v === null ? '' : `${v.toFixed(2)}×`);
  const each = (xs: number[] | null): string => (xs === null ? '' : xs.map((v) => v.toFixed(2)).join(', '));
  const b = first.baselines;
  console.log(`corpus: ${r.corpusMb.toFixed(1)} MiB in ${r.corpus.files.length} files, ${r.corpus.words} words, ${r.corpus.distinctWords} distinct; ${r.daskVersions}; load average at start ${r.loadAtStart.toFixed(2)}; ${rounds.length} round(s), medians`);
  console.log(
    formatTable(
      ['figure', 'what', 'Flint ms', 'baseline ms', 'speed-up', 'each round', 'target'],
      [
        ['(a) word count', `vs one Node thread (${b.tokenizer} tokenizer, one Map; Flint's flatMap the same tokenizer)`, ms(times.wordCountMs), ms(times.wordCountSingleThreadMs), x(figures.wordCountVsSingleThread), each(ratios.wordCountVsSingleThread), '≥ 1.50×'],
        ['(b) sortByKey 10M', 'vs one Node thread (Float64Array sort, packed key·2^24+value)', ms(times.sortMs), ms(times.sortSingleThreadMs), x(figures.sortVsSingleThread), each(ratios.sortVsSingleThread), '≥ 1.50×'],
        ['(b) ″', 'one Node thread, [key, value] tuples, sort with a comparator (first round)', '', ms(times.sortTuplesSingleThreadMs), x(times.sortTuplesSingleThreadMs === null || first.flint === undefined ? null : round2(times.sortTuplesSingleThreadMs / first.flint.sortMs)), '', ''],
        ['(c) join 10M × 1M', 'vs one Node thread (hash join, one Map)', ms(times.joinMs), ms(times.joinSingleThreadMs), x(figures.joinVsSingleThread), each(ratios.joinVsSingleThread), '≥ 1.50×'],
        ['(d) word count', `vs Dask bag, 2 processes × 1 thread (cluster start ${ms(round(first.dask.clusterStartMs))} ms apart)`, ms(times.wordCountMs), ms(times.daskBagMs), x(figures.wordCountVsDaskBag), each(ratios.wordCountVsDaskBag), '≥ 2.00×'],
        ['executor peak RSS MiB', `each executor's VmHWM, every round (flint.executor.memory ${EXECUTOR_MEMORY})`, ran ? executorRssMb.map((m) => m.toFixed(0)).join(', ') : 'skipped', '', '', '', `≤ ${EXECUTOR_MEMORY_MB}`],
        ['baseline peak RSS MiB', 'word count, sort, join (each its own process; first round)', '', [b.wordCountRssMb, b.sortRssMb, b.joinRssMb].map((m) => m.toFixed(0)).join(', '), '', '', ''],
        ['calibrationMs', 'a fixed loop of 50 million square roots', '', String(r.machine.calibrationMs), '', '', ''],
        ['pingPongP50Us', 'a raw TCP round trip between two processes over loopback', '', String(r.machine.pingPongP50Us), '', '', ''],
      ],
    ),
  );
  console.log(
    benchJson(
      {
        ...figures,
        targetsMet,
        ...times,
        rounds: rounds.length,
        perRound: ratios,
        executorRssMb: ran ? executorRssMb.map((m) => round(m, 1)) : null,
        corpusMb: round(r.corpusMb, 1),
        corpusWords: r.corpus.words,
      },
      r.machine,
    ),
  );
}
