// Whom each daemon lets in, and with which key (docs/security.md, "Roles"). The keys of cluster-mode drivers
// and of each application's executors are derived from the cluster secret (auth.ts `deriveKey`), so the
// master and the workers agree on them without storing or sending them.

import { deriveKey, seal, type Keyring } from '../rpc/auth.ts';
import type { RpcSettings } from '../rpc/rpc-env.ts';

/**
 * The master takes daemons (the cluster secret), applications (`flint.authenticate.appSecret`) and cluster-mode
 * drivers (`driver:<id>`, with the key their worker derived); never an executor. Undefined: no authentication.
 */
export function masterKeyring(settings: RpcSettings): Keyring | undefined {
  const { secret, appSecret } = settings;
  if (secret === undefined) return undefined;
  return (principal) => {
    if (principal === 'daemon') return secret;
    if (principal === 'app') return appSecret ?? secret;
    if (principal.startsWith('driver:')) return deriveKey(secret, 'driver', principal.slice('driver:'.length));
    return undefined;
  };
}

/**
 * The key of the application's executors, sealed for the driver that registered it: `driverKey` is the key its
 * connection proved (the application secret, or its own key as a cluster-mode driver), so only that driver can
 * open it (auth.ts `seal`, the application id as context).
 */
export function sealedExecutorKey(clusterSecret: string, driverKey: string, appId: string): string {
  return seal(driverKey, deriveKey(clusterSecret, 'executor', appId), appId);
}

/**
 * A worker takes daemons (the cluster secret) and executors of any application (`executor:<appId>`, with the key
 * derived for that application) for its shuffle service: the service serves each only its own application's
 * files, and every other endpoint of the worker takes messages from daemons only (their catalogs say so).
 */
export function workerKeyring(settings: RpcSettings): Keyring | undefined {
  const { secret } = settings;
  if (secret === undefined) return undefined;
  return (principal) => {
    if (principal === 'daemon') return secret;
    if (principal.startsWith('executor:')) return deriveKey(secret, 'executor', principal.slice('executor:'.length));
    return undefined;
  };
}
