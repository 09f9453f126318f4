// Dataset files: planning text splits on the driver (Hadoop's FileInputFormat), reading a split's lines in a task
// (LineRecordReader, gzip too), JSON Lines records, and atomic output (FileOutputCommitter, algorithm 1).
export {
  DEFAULT_MAX_SPLIT_BYTES,
  InputArgumentError,
  InputNotFoundError,
  SPLIT_SLOP,
  cutFile,
  expandInputPath,
  isGlob,
  isGzipPath,
  isHiddenName,
  planTextSplits,
} from './text-splits.ts';
export type { FileSplit, TextSplitOptions } from './text-splits.ts';
export { CorruptInputError, DEFAULT_CHUNK_BYTES, LineAssembler, readGzipLines, readSplitLines } from './line-reader.ts';
export type { LineReaderOptions } from './line-reader.ts';
export { BadJsonLineError, JsonRecordError, LINE_PREVIEW_CHARS, formatJsonLine, parseJsonLine } from './json-lines.ts';
export {
  COMMITTED_DIR,
  OutputCommitError,
  OutputExistsError,
  PartWriter,
  SUCCESS_FILE,
  TEMPORARY_DIR,
  WRITE_BUFFER_CHARS,
  abortJob,
  setupJob,
  checkOutputDir,
  commitJob,
  partFileName,
} from './output-commit.ts';
