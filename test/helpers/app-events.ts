// What a driver's AppClient tells its listener (src/daemons/app-client.ts `AppClientListener`), recorded in order
// for tests to wait on.

import type { AppClientListener } from '../../src/daemons/app-client.ts';

export function appClientRecorder(): { events: Array<[string, ...unknown[]]>; listener: AppClientListener } {
  const events: Array<[string, ...unknown[]]> = [];
  const listener: AppClientListener = {
    connected: (appId) => events.push(['connected', appId]),
    disconnected: () => events.push(['disconnected']),
    dead: (reason) => events.push(['dead', reason]),
    executorAdded: (id, workerId, hostPort, cores, mem) => events.push(['executorAdded', id, workerId, hostPort, cores, mem]),
    executorRemoved: (id, msg, exit, host) => events.push(['executorRemoved', id, msg, exit, host]),
    workerRemoved: (id, host, msg) => events.push(['workerRemoved', id, host, msg]),
    executorDecommissioned: (id, msg) => events.push(['executorDecommissioned', id, msg]),
  };
  return { events, listener };
}
