// withHugePages (src/io/child-process/huge-pages.ts): the worker's children ask glibc for transparent huge pages,
// keeping any other tunable the operator set, and an operator's own glibc.malloc.hugetlb wins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HUGE_PAGES_TUNABLE, withHugePages } from '../../../../src/io/child-process/huge-pages.ts';

test('no GLIBC_TUNABLES: set to the huge pages tunable; the rest of the environment is kept and not mutated', () => {
  const env = { PATH: '/usr/bin', HOME: '/home/flint' };
  assert.deepEqual(withHugePages(env), { PATH: '/usr/bin', HOME: '/home/flint', GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' });
  assert.equal(HUGE_PAGES_TUNABLE, 'glibc.malloc.hugetlb=1');
  assert.deepEqual(env, { PATH: '/usr/bin', HOME: '/home/flint' });
  assert.deepEqual(withHugePages({ GLIBC_TUNABLES: '' }), { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' });
});

test("other tunables are kept, the huge pages one appended; an operator's own hugetlb setting is left as it is", () => {
  assert.equal(withHugePages({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' })['GLIBC_TUNABLES'], 'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1');
  assert.equal(withHugePages({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' })['GLIBC_TUNABLES'], 'glibc.malloc.hugetlb=0');
  assert.equal(withHugePages({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=2' })['GLIBC_TUNABLES'], 'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=2');
  // A tunable whose name only ends the same way is another one.
  assert.equal(withHugePages({ GLIBC_TUNABLES: 'x.glibc.malloc.hugetlb=0' })['GLIBC_TUNABLES'], 'x.glibc.malloc.hugetlb=0:glibc.malloc.hugetlb=1');
});
