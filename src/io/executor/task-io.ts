// The executor's TaskIo (src/task/evaluate-task.ts): what a task does with files and shuffles, on a pool thread.
// Text splits are read by src/io/dataset-files (Hadoop's LineRecordReader), part files written with its
// committer; shuffles go through shuffle-task.ts with this executor's ShuffleEnv.

import type { TaskIo } from '../../task/evaluate-task.ts';
import { PartWriter, formatJsonLine, parseJsonLine, readGzipLines, readSplitLines } from '../dataset-files/index.ts';
import { openShuffle, sampleKeys, writeShuffle, type ShuffleEnv } from './shuffle-task.ts';
import { BlockStore } from './block-store.ts';

export function taskIo(shuffle: ShuffleEnv | undefined, blocks: BlockStore = new BlockStore(0)): TaskIo {
  const shuffleEnv = (): ShuffleEnv => {
    if (shuffle === undefined) throw new Error('this executor cannot run shuffle tasks: it was started without a worker (no --worker-url)');
    return shuffle;
  };
  return {
    readFile(source) {
      if (source.gzip) {
        const lines = readGzipLines(source);
        return source.json ? parsedAsync(lines, source.path) : lines;
      }
      const lines = readSplitLines(source);
      return source.json ? parsed(lines, source.path) : lines;
    },
    openShuffle(source, resolve) {
      const env = shuffleEnv();
      return openShuffle(source.reads, source.locations, source.mode, env, env.location.dir, resolve);
    },
    async writeShuffle(records, action, mapId, attemptId, resolve) {
      const status = await writeShuffle(records, action, mapId, attemptId, shuffleEnv(), resolve);
      return { status, records: status.records };
    },
    sampleKeys,
    cacheGet: (id, partition) => blocks.get(id, partition),
    cachePut: (id, partition, records) => void blocks.put(id, partition, records),
    openPart(dir, partition, attemptId, format) {
      const writer = new PartWriter(dir, partition, attemptId);
      return {
        write: format === 'json' ? (record) => writer.writeLine(formatJsonLine(record)) : (record) => writer.writeLine(String(record)),
        commit: () => writer.commit(),
        abort: () => writer.abort(),
      };
    },
  };
}

function* parsed(lines: Iterable<string>, path: string): Generator<unknown> {
  for (const line of lines) yield parseJsonLine(line, { path });
}

async function* parsedAsync(lines: AsyncIterable<string>, path: string): AsyncGenerator<unknown> {
  for await (const line of lines) yield parseJsonLine(line, { path });
}
