// Flint's local errors: one base class, one stable `code` per subclass (STYLE.md §8).
//
// These are thrown for local failures (a bad config value, an ask that timed out, a peer that could not be
// reached). Expected refusals between daemons (RegisterWorkerFailed, …) are protocol replies, not errors.
// Every code is listed in docs/errors.md; test/unit/errors-documented.test.ts fails when one is missing.
//
// `isFlintError` checks a brand symbol rather than `instanceof`, so it holds across copies of the module
// (the same trick as undici's `lib/core/errors.js`).

const kFlintError = Symbol.for('flint.error');

export class FlintError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
    Object.defineProperty(this, kFlintError, { value: true });
  }
}

export function isFlintError(err: unknown): err is FlintError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[kFlintError] === true;
}

/** A config value, flag or environment variable that cannot be used. Names the key and what is expected. */
export class ConfigError extends FlintError {
  readonly key: string;
  constructor(key: string, message: string) {
    super('FLINT_CONFIG_INVALID', message);
    this.key = key;
  }
}

/** An RPC address (`flint://host:port`, `flint://Name@host:port`) that cannot be parsed. */
export class InvalidAddressError extends FlintError {
  constructor(message: string) {
    super('FLINT_RPC_BAD_ADDRESS', message);
  }
}

/** `ask` got no reply in time. Names the endpoint, the message type, the timeout and the key that sets it. */
export class RpcTimeoutError extends FlintError {
  readonly endpoint: string;
  readonly messageType: string;
  readonly timeoutMs: number;
  constructor(endpoint: string, messageType: string, timeoutMs: number, confKey: string) {
    super(
      'FLINT_RPC_TIMEOUT',
      `ask ${messageType} to ${endpoint} got no reply within ${timeoutMs} ms; ` +
        `raise ${confKey} (or pass a larger timeout to ask) if the remote is just slow`,
    );
    this.endpoint = endpoint;
    this.messageType = messageType;
    this.timeoutMs = timeoutMs;
  }
}

/** The remote handler threw, or the remote rejected the message. Carries the remote's code and message. */
export class RpcRemoteError extends FlintError {
  readonly remoteCode: string;
  readonly remoteStack: string | undefined;
  constructor(endpoint: string, remoteCode: string, remoteMessage: string, remoteStack?: string) {
    super('FLINT_RPC_REMOTE', `${endpoint} failed: ${remoteMessage}`);
    this.remoteCode = remoteCode;
    this.remoteStack = remoteStack;
  }
}

/** `setupEndpointRef` found no endpoint of that name at the remote address. */
export class EndpointNotFoundError extends FlintError {
  constructor(address: string, name: string) {
    super('FLINT_RPC_ENDPOINT_NOT_FOUND', `no endpoint named "${name}" at ${address}`);
  }
}

/** The connection to a peer could not be opened, or was lost with the request in flight. */
export class RpcConnectionError extends FlintError {
  constructor(message: string, options?: ErrorOptions) {
    super('FLINT_RPC_CONNECTION', message, options);
  }
}

/** The peer could not prove it knows the shared secret, or required one this env does not have. */
export class AuthenticationError extends FlintError {
  constructor(message: string) {
    super('FLINT_RPC_AUTH_FAILED', message);
  }
}

/** The peer speaks another version of Flint's wire protocol. */
export class ProtocolVersionError extends FlintError {
  constructor(message: string) {
    super('FLINT_RPC_PROTOCOL_VERSION', message);
  }
}

/** The peer answered as something else than a Flint RPC endpoint: an HTTP server (a web UI or a REST port). */
export class NotFlintPeerError extends FlintError {
  constructor(message: string) {
    super('FLINT_RPC_NOT_FLINT', message);
  }
}

/** A frame larger than `flint.rpc.message.maxSize`, on either side. */
export class MessageTooLargeError extends FlintError {
  constructor(message: string) {
    super('FLINT_RPC_MESSAGE_TOO_LARGE', message);
  }
}

/** A message that failed its schema, or whose `type` no endpoint here accepts. */
export class InvalidMessageError extends FlintError {
  constructor(code: 'FLINT_RPC_UNKNOWN_MESSAGE' | 'FLINT_RPC_MALFORMED_MESSAGE', message: string) {
    super(code, message);
  }
}

/** The RpcEnv (or the endpoint) was stopped while the call was pending, or before it was made. */
export class RpcEnvStoppedError extends FlintError {
  constructor(message: string) {
    super('FLINT_RPC_STOPPED', message);
  }
}

/**
 * A request for a log (the worker's log page and its download) that cannot be served: a parameter that is not
 * a plain id, a log type or a byte count (`FLINT_LOG_BAD_REQUEST`), or a log that is not there or not a regular
 * file inside the work dir (`FLINT_LOG_NOT_FOUND`). Messages never echo more than a short prefix of the input.
 */
export class LogRequestError extends FlintError {
  constructor(code: 'FLINT_LOG_BAD_REQUEST' | 'FLINT_LOG_NOT_FOUND', message: string) {
    super(code, message);
  }
}

/**
 * No port from the first to the last tried could be bound (each was in use): Spark's BindException from
 * `Utils.startServiceOnPort`. Names the service, the ports and the setting to raise.
 */
export class PortInUseError extends FlintError {
  readonly firstPort: number;
  readonly lastPort: number;
  constructor(message: string, firstPort: number, lastPort: number, options?: ErrorOptions) {
    super('FLINT_PORT_IN_USE', message, options);
    this.firstPort = firstPort;
    this.lastPort = lastPort;
  }
}

/** Every code above and in the other error modules, for docs and tests. Keep in step with the classes. */
export const ERROR_CODES = [
  'FLINT_CONFIG_INVALID',
  'FLINT_RPC_BAD_ADDRESS',
  'FLINT_RPC_TIMEOUT',
  'FLINT_RPC_REMOTE',
  'FLINT_RPC_ENDPOINT_NOT_FOUND',
  'FLINT_RPC_CONNECTION',
  'FLINT_RPC_AUTH_FAILED',
  'FLINT_RPC_PROTOCOL_VERSION',
  'FLINT_RPC_NOT_FLINT',
  'FLINT_RPC_MESSAGE_TOO_LARGE',
  'FLINT_RPC_UNKNOWN_MESSAGE',
  'FLINT_RPC_MALFORMED_MESSAGE',
  'FLINT_RPC_STOPPED',
  'FLINT_LOG_BAD_REQUEST',
  'FLINT_LOG_NOT_FOUND',
  'FLINT_PORT_IN_USE',
  // src/task/task-errors.ts: how a task can fail on the executor
  'FLINT_TASK_FUNCTION_NOT_EXPORTED',
  'FLINT_INLINE_FUNCTION_NOT_FOUND',
  'FLINT_TASK_BAD_INPUT',
  'FLINT_TASK_KILLED',
  // src/task/record-codec.ts: a record that cannot cross the wire (driver or executor)
  'FLINT_RECORD_UNENCODABLE',
  // src/io/dataset-files: reading text and JSON inputs, writing outputs
  'FLINT_INPUT_NOT_FOUND',
  'FLINT_INPUT_INVALID',
  'FLINT_INPUT_CORRUPT',
  'FLINT_BAD_JSON_LINE',
  'FLINT_RECORD_NOT_JSON',
  'FLINT_OUTPUT_EXISTS',
  'FLINT_OUTPUT_COMMIT_FAILED',
  // src/shuffle and src/io/executor/shuffle-task.ts: key-value operations and shuffle files
  'FLINT_ASYNC_COMBINER',
  'FLINT_NOT_A_PAIR',
  'FLINT_SHUFFLE_CORRUPT',
  'FLINT_SHUFFLE_FETCH_FAILED',
  // src/api: what an application sees
  'FLINT_NOT_IN_TASK',
  'FLINT_INLINE_FUNCTION_REFUSED',
  'FLINT_JOB_FAILED',
  'FLINT_STAGE_FAILED',
  'FLINT_APP_FAILED',
  'FLINT_CONTEXT_STOPPED',
  // src/cli: the operators' commands (flint status, apps, logs, kill, decommission)
  'FLINT_OPERATOR_FAILED',
] as const;
