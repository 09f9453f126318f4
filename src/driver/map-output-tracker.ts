// Where every shuffle's map output is, and how big each block is: Spark's MapOutputTrackerMaster, on the
// driver. A map task's MapStatus (src/task/shuffle-task.ts) is registered when its stage's task set succeeds
// or fails with some tasks done; a lost location (a fetch failure, a removed worker) unregisters every output
// there, so the next run of a stage re-runs exactly the missing map tasks. Pure: no I/O, no clock.

import type { ShuffleLocation, ShuffleRead } from '../protocol/task-messages.ts';

export interface MapOutput {
  readonly location: ShuffleLocation;
  /** Bytes of each reduce partition's block. */
  readonly sizes: readonly number[];
}

interface ShuffleOutputs {
  readonly numReduces: number;
  readonly outputs: Array<MapOutput | undefined>;
}

export class MapOutputTracker {
  readonly #shuffles = new Map<number, ShuffleOutputs>();

  /** Known shuffles, by id. */
  get shuffleIds(): number[] {
    return [...this.#shuffles.keys()];
  }

  /** Registers a shuffle of `numMaps` map tasks and `numReduces` reduce partitions; a second call keeps what is known. */
  register(shuffleId: number, numMaps: number, numReduces: number): void {
    if (this.#shuffles.has(shuffleId)) return;
    this.#shuffles.set(shuffleId, { numReduces, outputs: new Array<MapOutput | undefined>(numMaps).fill(undefined) });
  }

  has(shuffleId: number): boolean {
    return this.#shuffles.has(shuffleId);
  }

  setOutput(shuffleId: number, mapId: number, output: MapOutput): void {
    const shuffle = this.#get(shuffleId);
    if (mapId < 0 || mapId >= shuffle.outputs.length) throw new Error(`shuffle ${shuffleId} has no map ${mapId}`);
    if (output.sizes.length !== shuffle.numReduces) {
      throw new Error(`map ${mapId} of shuffle ${shuffleId} reported ${output.sizes.length} blocks; the shuffle has ${shuffle.numReduces} partitions`);
    }
    shuffle.outputs[mapId] = output;
  }

  /** Map ids whose output is not available. */
  missing(shuffleId: number): number[] {
    const shuffle = this.#get(shuffleId);
    const out: number[] = [];
    shuffle.outputs.forEach((o, i) => {
      if (o === undefined) out.push(i);
    });
    return out;
  }

  /** Forgets one map output (a fetch of it failed). Returns whether it was known. */
  removeOutput(shuffleId: number, mapId: number): boolean {
    const shuffle = this.#shuffles.get(shuffleId);
    if (shuffle?.outputs[mapId] === undefined) return false;
    shuffle.outputs[mapId] = undefined;
    return true;
  }

  /** Forgets every output kept by the shuffle service at `service` (its worker is gone). Returns how many. */
  removeLocation(service: string): number {
    let removed = 0;
    for (const shuffle of this.#shuffles.values()) {
      shuffle.outputs.forEach((o, i) => {
        if (o?.location.service === service) {
          shuffle.outputs[i] = undefined;
          removed += 1;
        }
      });
    }
    return removed;
  }

  /** Forgets a shuffle the driver no longer needs (Spark's `unregisterShuffle`). */
  unregister(shuffleId: number): void {
    this.#shuffles.delete(shuffleId);
  }

  /**
   * The blocks of reduce partition `reduceId` of one shuffle, in map order, with their locations added to
   * `locations` (deduplicated through `index`). Throws when an output is missing: the caller runs the map
   * stage first.
   */
  readFor(shuffleId: number, reduceId: number, locations: ShuffleLocation[], index: Map<string, number>): ShuffleRead {
    const shuffle = this.#get(shuffleId);
    const blocks = shuffle.outputs.map((output, mapId) => {
      if (output === undefined) throw new Error(`shuffle ${shuffleId} misses the output of map ${mapId}`);
      const key = `${output.location.service}\u0000${output.location.dir}`;
      let at = index.get(key);
      if (at === undefined) {
        at = locations.length;
        locations.push(output.location);
        index.set(key, at);
      }
      return { mapId, location: at, size: output.sizes[reduceId] ?? 0 };
    });
    return { shuffleId, reduceId, blocks };
  }

  /** Bytes written by the map tasks known so far, per shuffle (for the UI and metrics). */
  bytesWritten(shuffleId: number): number {
    let total = 0;
    for (const o of this.#shuffles.get(shuffleId)?.outputs ?? []) for (const size of o?.sizes ?? []) total += size;
    return total;
  }

  #get(shuffleId: number): ShuffleOutputs {
    const shuffle = this.#shuffles.get(shuffleId);
    if (shuffle === undefined) throw new Error(`shuffle ${shuffleId} is not registered`);
    return shuffle;
  }
}
