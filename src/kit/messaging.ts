// The one messaging vocabulary of the machines (master, worker, executor, driver, app client). A machine never
// touches a connection: it returns `Send`, `Ask` and `Dial` effects, and its host carries them out over the
// Transport port (src/ports/transport.ts) with one function for all of them (src/daemons/machine-host.ts
// `carryOutMessage`), or over the simulator's network (src/sim/network.ts).
//
// Addresses are the protocol's: `to` is an endpoint address `flint://Name@host:port` (src/protocol/addresses.ts),
// `envUrl` an env `flint://host:port`. What comes back is an input of the kit's too:
//   - a `Send` reports nothing: a message that cannot be delivered is dropped, as Spark's `RpcEndpointRef.send`;
//   - every `Ask` is answered exactly once, by `Answered` (with the peer's reply, checked against the replies its
//     endpoint may give: src/protocol/replies.ts) or by `AskFailed` (`timedOut` when no answer came in time), and
//     both carry the ask's `context` back unchanged: the machine's own note of what it asked, plain data;
//   - a `Dial` opens (or reuses) a connection to `envUrl`, checks that `endpoint` exists there (Spark's
//     `RpcEnv.setupEndpointRef`) and sends `message` to it. Only failure reports back, as one `DialFailed`;
//     success shows up as the peer's answer message.

/** A one-way message to the endpoint at `to`. */
export interface Send<M> {
  readonly kind: 'Send';
  readonly to: string;
  readonly message: M;
}

/** An ask to the endpoint at `to`; `timeoutMs` undefined means the transport's `flint.rpc.askTimeout`. */
export interface Ask<M, C> {
  readonly kind: 'Ask';
  readonly to: string;
  readonly message: M;
  /** What the machine needs to know when the answer comes back; the host hands it back as it is. */
  readonly context: C;
  readonly timeoutMs?: number;
}

/** Connect to the env at `envUrl` and send `message` to its `endpoint`. */
export interface Dial<M> {
  readonly kind: 'Dial';
  readonly envUrl: string;
  readonly endpoint: string;
  readonly message: M;
}

/** The answer to an `Ask`. */
export interface Answered<C, R> {
  readonly kind: 'Answered';
  readonly context: C;
  readonly reply: R;
}

/** An `Ask` that got no answer: the peer failed it, the connection broke, or (`timedOut`) time ran out. */
export interface AskFailed<C> {
  readonly kind: 'AskFailed';
  readonly context: C;
  readonly error: string;
  readonly timedOut: boolean;
}

/** A `Dial` that could not reach its env or endpoint; `messageType` is the type of the message it carried. */
export interface DialFailed {
  readonly kind: 'DialFailed';
  readonly envUrl: string;
  readonly messageType: string;
  readonly error: string;
  /** The error's code (src/errors.ts) when it has one: a machine tells a refusal no retry can mend by it. */
  readonly code?: string;
}

export type MessageEffect<M, C> = Send<M> | Ask<M, C> | Dial<M>;
