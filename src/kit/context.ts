// What a machine's handlers get for one input (STYLE.md §3): its state, its config, the time the input came with,
// and where its effects go. Every machine's `Ctx` is this, with what is its own added (the master's and the
// executor's `Rng`, the worker's registration intervals).

export interface MachineContext<State, Config, Out> {
  readonly state: State;
  readonly config: Config;
  /** The input's time, in ms: the only clock the machine has. */
  readonly now: number;
  /** The effects of this input, in order. Handlers only append. */
  readonly out: Out;
}
