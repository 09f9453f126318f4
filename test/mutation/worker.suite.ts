// Every test of test/unit/worker in one process, for Stryker (see suite.ts).
import { importTestsOf } from './suite.ts';

await importTestsOf('worker');
