// `flint kill <appId|driverId>`: kills an application (the master's RequestKillApplication, the RPC twin of the
// UI's `/app/kill`) or a cluster-mode driver (Spark's RequestKillDriver, as `flint submit --kill` sends).

import { Command } from 'commander';
import { ConfigError, FlintError } from '../errors.ts';
import type { Env } from './daemon-options.ts';
import { print, withOperatorClient, withOperatorOptions, type OperatorFlags } from './operator-client.ts';

export function killCommand(flintHome: string, env: Env = process.env): Command {
  return withOperatorOptions(new Command('kill'))
    .description('kill an application (app-…, needs the cluster secret) or a cluster-mode driver (driver-…)')
    .argument('<id>', 'an application id (app-…) or a driver id (driver-…), as flint status lists them')
    .action(async (id: string, flags: OperatorFlags) => {
      const kind = id.startsWith('app-') ? 'app' : id.startsWith('driver-') ? 'driver' : undefined;
      if (kind === undefined) throw new ConfigError('id', `${JSON.stringify(id)} is neither an application id (app-…) nor a driver id (driver-…); flint status lists them`);
      await withOperatorClient(flags, flintHome, env, async (client) => {
        const reply = await client.ask(kind === 'app' ? { type: 'RequestKillApplication', appId: id } : { type: 'RequestKillDriver', driverId: id });
        if (reply.type !== 'KillApplicationResponse' && reply.type !== 'KillDriverResponse') {
          throw new FlintError('FLINT_OPERATOR_FAILED', `unexpected reply ${reply.type}`);
        }
        if (flags.json === true) print(JSON.stringify({ id, success: reply.success, message: reply.message }));
        if (!reply.success) throw new FlintError('FLINT_OPERATOR_FAILED', reply.message);
        if (flags.json !== true) print(reply.message);
      });
    });
}
