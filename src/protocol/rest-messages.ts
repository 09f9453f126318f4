// Spark's REST submission protocol (reference §12; Spark's `deploy/rest/SubmitRestProtocolMessage.scala`,
// `SubmitRestProtocolRequest.scala` and `SubmitRestProtocolResponse.scala`): the JSON bodies of the master's
// REST gateway (docs/rest.md). Spark's field names are kept, since scripts and spark-submit speak them.
//
// Spark picks the message class from the body's `action` and validates it with hand-written checks; here the
// one request with a body (CreateSubmissionRequest) is a schema, checked once at the edge, whose first failure
// names the field (`checkCreateRequest`). Responses are built by the gateway (src/rest/rest-responses.ts), so
// they are plain types. Unknown request fields are not refused: as Spark's, they come back in the response's
// `unknownFields`.

import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

/** The protocol version this gateway speaks: `/v1/submissions/…`. Spark's `RestSubmissionServer.PROTOCOL_VERSION`. */
export const REST_PROTOCOL_VERSION = 'v1';

/** Spark's non-standard status for a request in an unknown protocol version (`RestSubmissionServer.SC_UNKNOWN_PROTOCOL_VERSION`). */
export const SC_UNKNOWN_PROTOCOL_VERSION = 468;

const Text = Type.String({ maxLength: 65_536 });
/** Conf keys as `--conf key=value` can carry them: no `=`, no white space, at most 256 characters. */
const PROPERTY_KEY = /^[^=\s]{1,256}$/;
/** Environment variable names, as the worker's Command schema takes them. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,255}$/;

/**
 * Spark's CreateSubmissionRequest. `appResource` is the URL of the application bundle (Spark's jar) as the
 * workers can fetch it; `mainClass`, when given, must be `flint:driver` (Flint runs every driver with it);
 * `sparkProperties` must name the application (`spark.app.name` or `flint.app.name`).
 */
export const CreateSubmissionRequest = Type.Object({
  action: Type.Literal('CreateSubmissionRequest'),
  clientSparkVersion: Type.String({ minLength: 1, maxLength: 64 }),
  appResource: Type.String({ minLength: 1, maxLength: 4096 }),
  mainClass: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  appArgs: Type.Optional(Type.Array(Text, { maxItems: 1024 })),
  sparkProperties: Type.Record(Type.String(), Text, { maxProperties: 1024 }),
  environmentVariables: Type.Optional(Type.Record(Type.String(), Text, { maxProperties: 1024 })),
  message: Type.Optional(Text),
});
export type CreateSubmissionRequest = Static<typeof CreateSubmissionRequest>;

const KNOWN_CREATE_FIELDS: ReadonlySet<string> = new Set(Object.keys(CreateSubmissionRequest.properties));

const createCheck = TypeCompiler.Compile(CreateSubmissionRequest);

/** A request that failed its schema: which field (dotted, `sparkProperties.spark.driver.memory`) and why. */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

export type CreateCheck =
  | { readonly ok: true; readonly request: CreateSubmissionRequest; readonly unknownFields: readonly string[] }
  | ({ readonly ok: false } & FieldError);

/** Checks a parsed create body; on failure names the first bad field, as Spark's `assertFieldIsSet` does. */
export function checkCreateRequest(body: unknown): CreateCheck {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, field: '(body)', message: 'the request body must be a JSON object' };
  }
  const action = (body as { action?: unknown }).action;
  if (action === undefined) return { ok: false, field: 'action', message: 'the action field is missing; expected "CreateSubmissionRequest"' };
  if (action !== 'CreateSubmissionRequest') {
    const shown = typeof action === 'string' ? action.slice(0, 100) : typeof action;
    return { ok: false, field: 'action', message: `Received message of unexpected type ${shown}; expected CreateSubmissionRequest` };
  }
  if (!createCheck.Check(body)) {
    const first = createCheck.Errors(body).First();
    const field = fieldOfPath(first?.path ?? '');
    return { ok: false, field, message: `${field}: ${describeSchemaError(first?.message, first?.path ?? '', body)}` };
  }
  const badKey = firstBadKey(body.sparkProperties, PROPERTY_KEY, 'a conf key: no "=" or white space, 1 to 256 characters', 'sparkProperties')
    ?? firstBadKey(body.environmentVariables ?? {}, ENV_NAME, 'an environment variable name: [A-Za-z_][A-Za-z0-9_]*, at most 256 characters', 'environmentVariables');
  if (badKey !== undefined) return { ok: false, ...badKey };
  const unknownFields = Object.keys(body).filter((key) => !KNOWN_CREATE_FIELDS.has(key)).slice(0, 100);
  return { ok: true, request: body, unknownFields };
}

function firstBadKey(record: Readonly<Record<string, string>>, shape: RegExp, expected: string, field: string): FieldError | undefined {
  const key = Object.keys(record).find((k) => !shape.test(k));
  if (key === undefined) return undefined;
  return { field, message: `${field}: the key ${JSON.stringify(key.slice(0, 100))} is not ${expected}` };
}

/** `/sparkProperties/spark.app.name` → `sparkProperties.spark.app.name`; a JSON pointer's `~1` and `~0` decoded. */
export function fieldOfPath(path: string): string {
  const parts = path.split('/').slice(1).map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
  return parts.length === 0 || (parts.length === 1 && parts[0] === '') ? '(body)' : parts.join('.').slice(0, 300);
}

/** TypeBox's message, or what a missing required field means in this protocol. */
function describeSchemaError(message: string | undefined, path: string, body: object): string {
  const parts = path.split('/');
  const top = parts[1];
  if (top !== undefined && parts.length === 2 && (body as Record<string, unknown>)[top] === undefined) return 'is required but missing';
  if ((top === 'sparkProperties' || top === 'environmentVariables') && parts.length === 2) {
    return `${message ?? 'is invalid'}: an object of string values`;
  }
  return message ?? 'does not match the protocol';
}

// ---- responses (built by the gateway; Spark's SubmitRestProtocolResponse subclasses) ----------------------

interface ResponseBase {
  readonly serverSparkVersion: string;
  readonly message?: string;
}

export interface CreateSubmissionResponse extends ResponseBase {
  readonly action: 'CreateSubmissionResponse';
  readonly success: boolean;
  readonly submissionId?: string;
  readonly unknownFields?: readonly string[];
}

export interface KillSubmissionResponse extends ResponseBase {
  readonly action: 'KillSubmissionResponse';
  readonly success: boolean;
  readonly submissionId: string;
}

export interface KillAllSubmissionResponse extends ResponseBase {
  readonly action: 'KillAllSubmissionResponse';
  readonly success: boolean;
}

export interface SubmissionStatusResponse extends ResponseBase {
  readonly action: 'SubmissionStatusResponse';
  readonly success: boolean;
  readonly submissionId: string;
  readonly driverState?: string;
  readonly workerId?: string;
  readonly workerHostPort?: string;
}

export interface ClearResponse extends ResponseBase {
  readonly action: 'ClearResponse';
  readonly success: boolean;
}

export interface ReadyzResponse extends ResponseBase {
  readonly action: 'ReadyzResponse';
  readonly success: boolean;
}

export interface ErrorResponse extends ResponseBase {
  readonly action: 'ErrorResponse';
  readonly message: string;
  /** Set when the client spoke an unknown protocol version. */
  readonly highestProtocolVersion?: string;
}

export type RestResponse =
  | CreateSubmissionResponse
  | KillSubmissionResponse
  | KillAllSubmissionResponse
  | SubmissionStatusResponse
  | ClearResponse
  | ReadyzResponse
  | ErrorResponse;

/**
 * A response as Spark writes it: keys in alphabetical order, absent fields left out, pretty-printed
 * (`SubmitRestProtocolMessage.toJson`, Jackson with ORDER_MAP_ENTRIES_BY_KEYS and INDENT_OUTPUT).
 */
export function renderRestJson(response: RestResponse): string {
  const sorted = Object.fromEntries(
    Object.entries(response)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  return `${JSON.stringify(sorted, null, 2)}\n`;
}
