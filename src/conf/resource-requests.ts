// Custom-resource requests read from conf (reference §5.6, §9.3): Spark's `spark.{executor,driver,task}.resource.
// <name>.amount`, as `flint.*` (the `spark.*` spelling is accepted). Spark's `ResourceUtils.parseResourceRequirements`.

import { ConfigError } from '../errors.ts';
import { LIMITS, RESOURCE_NAME_PATTERN } from '../protocol/limits.ts';
import type { ResourceRequest } from '../protocol/messages.ts';
import type { FlintConf } from './flint-conf.ts';

const NAME = new RegExp(`^${RESOURCE_NAME_PATTERN}$`);

export type ResourceComponent = 'executor' | 'driver' | 'task';

/**
 * The `<component>` resources the conf asks for, sorted by name (as Spark sorts `resourceReqsPerExecutor`).
 * Amounts are whole numbers from 1 to 1024: Spark's fractional task amounts (several tasks sharing an address)
 * are not supported, and a fraction is refused with the key named.
 */
export function resourceRequests(conf: FlintConf, component: ResourceComponent): ResourceRequest[] {
  const keyPattern = new RegExp(`^(?:flint|spark)\\.${component}\\.resource\\.(.+)\\.amount$`);
  const byName = new Map<string, number>();
  for (const [key] of conf.entries()) {
    const name = keyPattern.exec(key)?.[1];
    if (name === undefined || byName.has(name)) continue;
    const flintKey = `flint.${component}.resource.${name}.amount`;
    if (!NAME.test(name)) {
      throw new ConfigError(flintKey, `${key}: "${name}" is not a resource name; expected a letter or digit, then letters, digits, '_', '.' or '-' (at most 64)`);
    }
    const raw = conf.get(flintKey) ?? '';
    if (/^\s*\d*\.\d+\s*$/.test(raw) && Number(raw) < 1) {
      throw new ConfigError(flintKey, `${flintKey}=${raw}: fractional amounts (tasks sharing one address) are not supported; expected a whole number from 1 to ${LIMITS.resourceAddresses.max}`);
    }
    byName.set(name, conf.getInt(flintKey, 1, LIMITS.resourceAddresses));
  }
  if (byName.size > LIMITS.resourceNames.max) {
    throw new ConfigError(`flint.${component}.resource`, `${byName.size} ${component} resources are requested; at most ${LIMITS.resourceNames.max} are allowed`);
  }
  return [...byName].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, amount]) => ({ name, amount }));
}

/** `resourceRequests` as an optional description field: absent when the conf asks for none. */
export function resourceRequestsField<K extends string>(conf: FlintConf, component: ResourceComponent, field: K): Partial<Record<K, ResourceRequest[]>> {
  const requests = resourceRequests(conf, component);
  return requests.length === 0 ? {} : ({ [field]: requests } as Partial<Record<K, ResourceRequest[]>>);
}
