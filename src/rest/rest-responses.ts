// The master's replies made into the REST protocol's responses: what Spark's `StandaloneRestServer` handlers
// (`StandaloneSubmitRequestServlet`, `StandaloneKillRequestServlet`, `StandaloneStatusRequestServlet`, …) do with
// the `DeployMessages` answers they get (reference §12.2). Pure.

import type { MasterReplyMessage } from '../master/index.ts';
import type {
  ClearResponse,
  CreateSubmissionResponse,
  ErrorResponse,
  KillAllSubmissionResponse,
  KillSubmissionResponse,
  ReadyzResponse,
  RestResponse,
  SubmissionStatusResponse,
} from '../protocol/rest-messages.ts';

type Reply<T extends MasterReplyMessage['type']> = Extract<MasterReplyMessage, { type: T }>;

/** A response and the HTTP status it goes with. */
export interface RestAnswer {
  readonly status: number;
  readonly body: RestResponse;
}

export function errorResponse(serverSparkVersion: string, message: string, highestProtocolVersion?: string): ErrorResponse {
  return { action: 'ErrorResponse', serverSparkVersion, message, ...(highestProtocolVersion === undefined ? {} : { highestProtocolVersion }) };
}

export function createResponse(serverSparkVersion: string, reply: Reply<'SubmitDriverResponse'>, unknownFields: readonly string[]): CreateSubmissionResponse {
  return {
    action: 'CreateSubmissionResponse',
    serverSparkVersion,
    success: reply.success,
    message: reply.message,
    ...(reply.driverId === undefined ? {} : { submissionId: reply.driverId }),
    ...(unknownFields.length === 0 ? {} : { unknownFields }),
  };
}

export function killResponse(serverSparkVersion: string, reply: Reply<'KillDriverResponse'>): KillSubmissionResponse {
  return { action: 'KillSubmissionResponse', serverSparkVersion, success: reply.success, submissionId: reply.driverId, message: reply.message };
}

export function killAllResponse(serverSparkVersion: string, reply: Reply<'KillAllDriversResponse'>): KillAllSubmissionResponse {
  return { action: 'KillAllSubmissionResponse', serverSparkVersion, success: reply.success, message: reply.message };
}

/** `success` is whether the master found the driver; the exception, if any, goes in `message` as Spark's. */
export function statusResponse(serverSparkVersion: string, submissionId: string, reply: Reply<'DriverStatusResponse'>): SubmissionStatusResponse {
  return {
    action: 'SubmissionStatusResponse',
    serverSparkVersion,
    submissionId,
    success: reply.found,
    ...(reply.state === undefined ? {} : { driverState: reply.state }),
    ...(reply.workerId === undefined ? {} : { workerId: reply.workerId }),
    ...(reply.workerHostPort === undefined ? {} : { workerHostPort: reply.workerHostPort }),
    ...(reply.exception === undefined ? {} : { message: `Exception from the cluster:\n${reply.exception}` }),
  };
}

export function clearResponse(serverSparkVersion: string, reply: Reply<'BooleanResponse'>): ClearResponse {
  return { action: 'ClearResponse', serverSparkVersion, success: reply.value };
}

/** Spark 4.0: 200 with a ReadyzResponse when the master is not STANDBY, else 503 with an ErrorResponse. */
export function readyzAnswer(serverSparkVersion: string, reply: Reply<'BooleanResponse'>): RestAnswer {
  if (!reply.value) return { status: 503, body: errorResponse(serverSparkVersion, 'Master is not ready.') };
  const body: ReadyzResponse = { action: 'ReadyzResponse', serverSparkVersion, success: true };
  return { status: 200, body };
}
