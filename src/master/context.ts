// What every handler works with during one `handle` call.

import type { Rng } from '../scheduling/index.ts';
import type { MasterConfig } from './config.ts';
import type { EffectList } from './effects.ts';
import type { MasterState } from './state.ts';

export interface Ctx {
  readonly state: MasterState;
  readonly config: MasterConfig;
  /** Draws the spread-out driver shuffle (STYLE.md §6). */
  readonly rng: Rng;
  /** Wall-clock time of this input, in ms since the epoch. The only clock the machine has. */
  readonly now: number;
  readonly out: EffectList;
}
