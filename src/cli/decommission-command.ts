// `flint decommission <workerId…>`: drains workers (the master's DecommissionWorkers ask, by id; the UI's
// `/workers/kill/` does it by host). Needs the cluster secret: only daemons may drain workers
// (docs/security.md). What follows is in docs/operations.md, "Decommissioning a worker".

import { Command } from 'commander';
import { FlintError } from '../errors.ts';
import type { Env } from './daemon-options.ts';
import { print, withOperatorClient, withOperatorOptions, type OperatorFlags } from './operator-client.ts';

export function decommissionCommand(flintHome: string, env: Env = process.env): Command {
  return withOperatorOptions(new Command('decommission'))
    .description('decommission workers: the master places nothing more on them, their executors drain and exit')
    .argument('<workerId...>', 'worker ids, as flint status lists them')
    .action(async (ids: string[], flags: OperatorFlags) => {
      await withOperatorClient(flags, flintHome, env, async (client) => {
        const { state } = await client.leader();
        const known = new Set(state.workers.filter((w) => w.state !== 'DEAD').map((w) => w.id));
        const unknown = ids.filter((id) => !known.has(id));
        if (unknown.length > 0) {
          throw new FlintError('FLINT_OPERATOR_FAILED', `no registered worker has the id ${unknown.join(', ')} (flint status --master … lists the workers)`);
        }
        const reply = await client.ask({ type: 'DecommissionWorkers', ids });
        const count = reply.type === 'DecommissionWorkersResponse' ? reply.count : 0;
        if (flags.json === true) return print(JSON.stringify({ decommissioned: count, ids }));
        if (count === 0) throw new FlintError('FLINT_OPERATOR_FAILED', `the master decommissioned none of ${ids.join(', ')}`);
        print(`Decommissioning ${count} worker(s): ${ids.join(', ')}`);
      });
    });
}
