// Every test of test/unit/scheduling in one process, for Stryker (see suite.ts).
import { importTestsOf } from './suite.ts';

await importTestsOf('scheduling');
