// Which replies each endpoint may give to an ask: the catalog a host checks every answer against before a machine
// sees it (src/daemons/machine-host.ts `carryOutMessage`), as Spark's `RpcEndpointRef.askSync[T]` casts to the
// type it expects, but checked.

import type { MessageCatalog } from './catalog.ts';
import { MasterReplies } from './messages.ts';
import { DriverReplies, ExecutorReplies } from './task-messages.ts';

const REPLIES_BY_ENDPOINT: Readonly<Record<string, MessageCatalog<{ readonly type: string }>>> = {
  Master: MasterReplies,
  CoarseGrainedScheduler: DriverReplies,
  Executor: ExecutorReplies,
};

/** The replies endpoint `name` may give; undefined for an endpoint that answers no asks. */
export function repliesOf(name: string): MessageCatalog<{ readonly type: string }> | undefined {
  return Object.hasOwn(REPLIES_BY_ENDPOINT, name) ? REPLIES_BY_ENDPOINT[name] : undefined;
}
