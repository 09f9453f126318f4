// What every handler works with during one `handle` call.

import type { Rng } from '../scheduling/index.ts';
import type { MasterConfig } from './config.ts';
import type { EffectList } from './effects.ts';
import type { MasterState } from './state.ts';
import type { MachineContext } from '../kit/context.ts';

export interface Ctx extends MachineContext<MasterState, MasterConfig, EffectList> {
  /** Draws the spread-out driver shuffle (STYLE.md §6). */
  readonly rng: Rng;
}
