// What every handler works with during one `handle` call.

import type { Rng } from '../scheduling/index.ts';
import type { MasterConfig } from './config.ts';
import type { EffectList } from './effects.ts';
import type { MasterState } from './state.ts';
import type { MachineContext } from '../kit/context.ts';

export interface Ctx extends MachineContext<MasterState, MasterConfig, EffectList> {
  /** Draws the spread-out driver shuffle (STYLE.md §6). */
  readonly rng: Rng;
  /** Hooks of the host's metrics (docs/metrics.md); absent in tests and the simulator. */
  readonly probes?: MasterProbes;
}

/**
 * What the host may observe of a `handle` call without the machine touching a clock: `timeSchedule` runs one
 * schedule() pass (it must call `run` exactly once, synchronously) and may time it.
 */
export interface MasterProbes {
  readonly timeSchedule?: (run: () => void) => void;
}
