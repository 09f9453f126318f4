// A worker's custom resources (reference §6.9; Spark's `ResourceUtils.getOrDiscoverAllResources` with prefix
// `spark.worker`, called from `Worker.setupWorkerResources`): first the resources file
// (`flint.worker.resourcesFile`, Spark's JSON array of `{id: {componentName, resourceName}, addresses}`), then,
// for each `flint.worker.resource.<name>.amount` the file did not give, the resource's discovery script
// (`flint.worker.resource.<name>.discoveryScript`), whose stdout is Spark's `{"name": "gpu", "addresses": [..]}`.
// The worker does not start when a configured resource cannot be found, or has fewer addresses than its amount.
//
// The script runs with execFile (an argv, never a shell string), with a time limit
// (`flint.worker.resource.discoveryTimeout`, Flint's) and a cap on its output; every failure is a ConfigError
// that names the key, the script and what was wrong.

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Type } from '@sinclair/typebox';
import type { FlintConf } from '../../conf/flint-conf.ts';
import { ConfigError } from '../../errors.ts';
import { LIMITS, RESOURCE_NAME_PATTERN } from '../../protocol/limits.ts';
import { ResourceAddress, ResourceName, type ResourceAddresses } from '../../protocol/messages.ts';

/** The most a discovery script may print, and a resources file may hold. */
export const MAX_DISCOVERY_OUTPUT_BYTES = 1024 * 1024;
const DEFAULT_DISCOVERY_TIMEOUT = '60s';
const NAME = new RegExp(`^${RESOURCE_NAME_PATTERN}$`);
const WORKER_COMPONENTS = new Set(['flint.worker', 'spark.worker']);

const Addresses = Type.Array(ResourceAddress, { maxItems: LIMITS.resourceAddresses.max, uniqueItems: true });
/** Spark's `ResourceInformationJson`. */
const ScriptOutput = TypeCompiler.Compile(Type.Object({ name: ResourceName, addresses: Addresses }));
/** Spark's `ResourceAllocation` list. */
const ResourcesFile = TypeCompiler.Compile(
  Type.Array(
    Type.Object({ id: Type.Object({ componentName: Type.String({ maxLength: 256 }), resourceName: ResourceName }), addresses: Addresses }),
    { maxItems: 1024 },
  ),
);

/** The resource names with a `flint.worker.resource.<name>.amount` (or `spark.…`) key, and their amounts. */
export function requestedWorkerResources(conf: FlintConf): Map<string, number> {
  const amounts = new Map<string, number>();
  for (const [key] of conf.entries()) {
    const match = /^(?:flint|spark)\.worker\.resource\.(.+)\.amount$/.exec(key);
    if (match === null) continue;
    const name = match[1] as string;
    const flintKey = `flint.worker.resource.${name}.amount`;
    if (!NAME.test(name)) {
      throw new ConfigError(flintKey, `${key}: "${name}" is not a resource name; expected letters, digits, '_', '.' or '-' (at most 64)`);
    }
    amounts.set(name, conf.getInt(flintKey, 1, LIMITS.resourceAddresses));
  }
  if (amounts.size > LIMITS.resourceNames.max) {
    throw new ConfigError('flint.worker.resource', `${amounts.size} worker resources are configured; at most ${LIMITS.resourceNames.max} are allowed`);
  }
  return amounts;
}

/** Parses a discovery script's stdout; `what` names the script in the error. */
export function parseDiscoveryOutput(stdout: string, name: string, key: string, what: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new ConfigError(key, `${what} printed ${JSON.stringify(stdout.slice(0, 200))}, which is not JSON; expected {"name": "${name}", "addresses": ["0", …]}`);
  }
  if (!ScriptOutput.Check(parsed)) {
    const first = ScriptOutput.Errors(parsed).First();
    throw new ConfigError(key, `${what} printed JSON that is not a resource at ${first?.path || '/'}: ${first?.message ?? 'bad shape'}; expected {"name": "${name}", "addresses": ["0", …]}`);
  }
  if (parsed.name !== name) throw new ConfigError(key, `${what} reported resource "${parsed.name}"; expected "${name}"`);
  return parsed.addresses;
}

/** Parses a resources file's text: the worker's entries by name (entries of other components are skipped). */
export function parseResourcesFile(text: string, path: string): Map<string, string[]> {
  const key = 'flint.worker.resourcesFile';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(key, `the resources file ${path} is not JSON; expected [{"id": {"componentName": "spark.worker", "resourceName": "gpu"}, "addresses": ["0"]}, …]`);
  }
  if (!ResourcesFile.Check(parsed)) {
    const first = ResourcesFile.Errors(parsed).First();
    throw new ConfigError(key, `the resources file ${path} is malformed at ${first?.path || '/'}: ${first?.message ?? 'bad shape'}`);
  }
  const found = new Map<string, string[]>();
  for (const entry of parsed) if (WORKER_COMPONENTS.has(entry.id.componentName)) found.set(entry.id.resourceName, entry.addresses);
  return found;
}

/** Runs one discovery script: argv only, bounded in time and output. */
function runScript(script: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(script, [], { timeout: timeoutMs, maxBuffer: MAX_DISCOVERY_OUTPUT_BYTES, windowsHide: true, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err === null) {
        resolve(stdout);
        return;
      }
      const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; code?: string | number | null };
      const why =
        e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER' ? `printed more than ${MAX_DISCOVERY_OUTPUT_BYTES} bytes`
        : e.killed === true ? `did not finish within ${timeoutMs} ms`
        : typeof e.code === 'string' ? `could not be run (${e.code})`
        : `exited with status ${String(e.code ?? e.signal)}${stderr.trim() === '' ? '' : `: ${stderr.trim().slice(0, 300)}`}`;
      reject(new Error(why));
    });
  });
}

/**
 * The worker's resources by name, or undefined when none is configured. Throws a ConfigError naming the key when
 * the file or a script fails, a configured resource is missing, or it has fewer addresses than its amount.
 */
export async function discoverWorkerResources(conf: FlintConf): Promise<ResourceAddresses | undefined> {
  const amounts = requestedWorkerResources(conf);
  const filePath = conf.get('flint.worker.resourcesFile');
  const fromFile = new Map<string, string[]>();
  if (filePath !== undefined && filePath !== '') {
    let text: string;
    try {
      text = await readFile(filePath, 'utf8');
    } catch (err) {
      throw new ConfigError('flint.worker.resourcesFile', `the resources file ${filePath} cannot be read: ${(err as Error).message}`);
    }
    if (text.length > MAX_DISCOVERY_OUTPUT_BYTES) throw new ConfigError('flint.worker.resourcesFile', `the resources file ${filePath} is larger than ${MAX_DISCOVERY_OUTPUT_BYTES} bytes`);
    for (const [name, addresses] of parseResourcesFile(text, filePath)) fromFile.set(name, addresses);
  }
  const timeoutMs = conf.getDurationMs('flint.worker.resource.discoveryTimeout', DEFAULT_DISCOVERY_TIMEOUT, 's');
  const resources: ResourceAddresses = Object.fromEntries(fromFile);
  for (const [name, amount] of amounts) {
    let addresses = fromFile.get(name);
    if (addresses === undefined) {
      const key = `flint.worker.resource.${name}.discoveryScript`;
      const script = conf.get(key);
      if (script === undefined || script === '') {
        throw new ConfigError(key, `flint.worker.resource.${name}.amount is set, but ${name} is neither in flint.worker.resourcesFile nor has a ${key}`);
      }
      const what = `the discovery script ${script} of ${name}`;
      let stdout: string;
      try {
        stdout = await runScript(script, timeoutMs);
      } catch (err) {
        throw new ConfigError(key, `${what} failed: it ${(err as Error).message}`);
      }
      addresses = parseDiscoveryOutput(stdout, name, key, what);
    }
    if (addresses.length < amount) {
      throw new ConfigError(
        `flint.worker.resource.${name}.amount`,
        `Resource: ${name}, with addresses: ${addresses.join(',')} is less than what the user requested: ${amount}`,
      );
    }
    resources[name] = addresses;
  }
  return Object.keys(resources).length === 0 ? undefined : resources;
}
