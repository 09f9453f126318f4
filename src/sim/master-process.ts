// A simulated master process: the real MasterMachine (src/master) in a host that does what the master daemon
// (src/daemons/master-daemon.ts) does with its effects, on the simulated network and recovery store.

import type { Rng } from '../kit/rng.ts';
import { isMasterAsk, type MasterMachine, type MasterConfig, type MasterEffect, type MasterInput } from '../master/index.ts';
import type { Envelope, Node } from './network.ts';
import { envOf, MachineProcess, SimReplyBook, type Own, type ProcessClock, type SimWorld } from './world.ts';
import type { MasterStorage } from './zookeeper.ts';

export class SimMaster extends MachineProcess<MasterInput, MasterEffect> implements Node {
  readonly env: string;
  readonly name: string;
  readonly machine: MasterMachine;
  readonly #storage: MasterStorage;
  readonly #onExit: (master: SimMaster) => void;
  readonly #asks = new SimReplyBook();

  constructor(world: SimWorld, config: MasterConfig, rng: Rng, storage: MasterStorage, clock: ProcessClock, onExit: (master: SimMaster) => void) {
    super(world, clock);
    this.#storage = storage;
    this.#onExit = onExit;
    this.machine = world.machines.master(config, rng);
    this.env = config.masterUrl;
    this.name = `master ${config.host}`;
  }

  /** Acting as the leader: ALIVE or RECOVERING (a STANDBY master changes nothing). */
  get leads(): boolean {
    return this.up && this.machine.state.recoveryState !== 'STANDBY';
  }

  protected apply(input: MasterInput, now: number): readonly MasterEffect[] {
    return this.machine.handle(input, now);
  }

  /** As the daemon starts: the endpoint starts, then the election runs; leadership comes with what the store holds. */
  start(): void {
    this.step({ kind: 'Start' }, 'Start');
    this.#storage.start({
      granted: () => this.#granted(),
      revoked: (reason) => {
        this.world.trace(`${this.name}: leadership revoked (${reason})`);
        this.step({ kind: 'RevokedLeadership' }, 'RevokedLeadership');
      },
    });
  }

  /** The daemon reads the store back, retrying every second while the read fails, then feeds ElectedLeader. */
  #granted(): void {
    const persisted = this.#storage.read();
    if (persisted === undefined) {
      this.after(1_000, () => this.#granted());
      return;
    }
    this.step({ kind: 'ElectedLeader', persisted }, 'ElectedLeader');
  }

  crash(): void {
    this.up = false;
    this.cancelTimers();
    this.#storage.crashed();
    this.world.network.crashed(this.env);
  }

  deliver(from: string, envelope: Envelope): void {
    if (envelope.kind === 'reply' || envelope.kind === 'failure') return; // the master asks nobody
    const message = envelope.message as Parameters<typeof isMasterAsk>[0];
    if (isMasterAsk(message)) {
      const token = this.#asks.open(from, envelope.kind === 'ask' ? envelope.askId : undefined, undefined);
      this.step({ kind: 'Ask', from, replyTo: token, message }, `Ask ${message.type} from ${from}`);
    } else {
      this.step({ kind: 'Receive', from, message } as MasterInput, `${message.type} from ${from}`);
    }
  }

  disconnected(env: string): void {
    this.step({ kind: 'Disconnected', envId: env }, `Disconnected ${env}`);
  }

  protected carryOut(effect: Own<MasterEffect>): boolean {
    const { network } = this.world;
    switch (effect.kind) {
      case 'Send':
        network.send(this.env, envOf(effect.to), { kind: 'send', message: effect.message });
        return true;
      case 'Reply':
      case 'ReplyFailure':
        this.#asks.answer(network, this.env, effect);
        return true;
      case 'Persist':
      case 'Unpersist': {
        // As the daemon's host: a failed write stops this input's later effects (nothing is acknowledged).
        const ok = this.#storage.write(effect.key, effect.kind === 'Persist' ? effect.record : undefined);
        // Then, before any other input (the daemon drops what comes between), the machine hears of it.
        if (!ok) this.step({ kind: 'PersistFailed', key: effect.key, error: 'the write failed' }, `${effect.kind} ${effect.key} failed`);
        return ok;
      }
      case 'StepDown':
        this.world.trace(`${this.name} steps down: ${effect.reason}`);
        this.#storage.close();
        this.crash();
        this.#onExit(this);
        return false;
      default: {
        const never: never = effect;
        throw new Error(`unknown master effect ${JSON.stringify(never)}`);
      }
    }
  }
}
