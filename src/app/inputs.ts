// Everything that can happen to the app client, as one closed union fed to `AppClientMachine.handle` one at a
// time (Spark's `StandaloneAppClient.ClientEndpoint` is a ThreadSafeRpcEndpoint). Messages from the master,
// dropped connections, failed dials, the driver's asks, the master's answers to them and timer firings all arrive
// here; the adapter (src/daemons/app-client.ts) turns each callback into one input.

import type { Answered, AskFailed, DialFailed } from '../kit/messaging.ts';
import type { ReplyToken } from '../kit/replies.ts';
import type { TimerFired } from '../kit/timers.ts';
import type { MasterReply, MasterToApp } from '../protocol/messages.ts';

export type { ReplyToken } from '../kit/replies.ts';

/**
 * The client's timers (src/kit/timers.ts), each keyed by its name: the registration round's timeout (Spark's
 * `registrationRetryTimer`) and the one-second dial loop while the master is unreachable.
 */
export type AppClientTimer = 'RegistrationRetry' | 'Reconnect';

export type AppClientInput =
  /** The endpoint is up (Spark's `ClientEndpoint.onStart`): register with every master. */
  | { readonly kind: 'Start' }
  /** A message from a master to the `AppClient` endpoint. */
  | { readonly kind: 'MasterMessage'; readonly message: MasterToApp }
  /** The connection to the RPC env `envId` (`flint://host:port`) closed (Spark's `onDisconnected`). */
  | { readonly kind: 'Disconnected'; readonly envId: string }
  /** A `Dial` could not reach the master's `Master` endpoint. */
  | DialFailed
  /**
   * The driver asks for a total number of executors (Spark's `StandaloneAppClient.requestTotalExecutors`).
   * Answered through `token` with true or false, or a failure when the master's ask failed.
   */
  | { readonly kind: 'RequestExecutors'; readonly token: ReplyToken; readonly requestedTotal: number }
  /** The driver asks the master to kill executors (Spark's `StandaloneAppClient.killExecutors`); answered as above. */
  | { readonly kind: 'KillExecutors'; readonly token: ReplyToken; readonly executorIds: readonly string[] }
  /** The master answered the `Ask` effect with this token. */
  | Answered<ReplyToken, MasterReply>
  /** The `Ask` effect with this token failed (no connection, a remote error, a timeout). */
  | AskFailed<ReplyToken>
  /** A timer fired: its name as `key`, and the generation it was armed with. */
  | TimerFired
  /** The driver stops (Spark's `StandaloneAppClient.stop`): unregister. Final. */
  | { readonly kind: 'Stop' };

export type AppClientInputKind = AppClientInput['kind'];
