// Every test of test/unit/master in one process, for Stryker (see suite.ts).
import { importTestsOf } from './suite.ts';

await importTestsOf('master');
