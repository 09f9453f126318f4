// Transparent huge pages for the memory an executor's typed arrays live in (docs/configuration.md, "Environment";
// docs/differences-from-spark.md). A task's large buffers (the sorter's columns and the radix sort's scratch,
// shuffle reads, frame slabs: src/shuffle/column-pool.ts, frame-arena.ts) are allocated by Node through glibc's
// malloc, which maps them in 4 KiB pages faulted in one by one; on the virtual machines Flint was measured on a
// fault costs 10–20 µs, so touching 1 GiB of fresh buffers took 5.0 s and 265,000 faults, and 0.6 s and 4,700
// faults with huge pages (docs/benchmarks.md, bench:shuffle). glibc (2.35 and later) asks the kernel for huge
// pages on the memory it maps when the tunable glibc.malloc.hugetlb is 1, which only takes effect where the
// kernel's transparent huge pages are `always` or `madvise` (the common default); elsewhere, and under other C
// libraries, it changes nothing. The JVM's counterpart is -XX:+UseTransparentHugePages.

/** The tunable, read by glibc when a process starts. */
export const HUGE_PAGES_TUNABLE = 'glibc.malloc.hugetlb=1';

/**
 * `env` with GLIBC_TUNABLES asking for huge pages, unless it already sets glibc.malloc.hugetlb (an operator's
 * `GLIBC_TUNABLES=glibc.malloc.hugetlb=0` turns them off); the other tunables it sets are kept.
 */
export function withHugePages(env: Readonly<Record<string, string>>): Record<string, string> {
  const tunables = env['GLIBC_TUNABLES'];
  if (tunables !== undefined && /(^|:)glibc\.malloc\.hugetlb=/.test(tunables)) return { ...env };
  return { ...env, GLIBC_TUNABLES: tunables === undefined || tunables === '' ? HUGE_PAGES_TUNABLE : `${tunables}:${HUGE_PAGES_TUNABLE}` };
}
