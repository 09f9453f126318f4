// The few address manipulations the worker needs, kept pure (the RPC layer's parsers live in src/rpc, which core
// code may not import). Forms (see src/rpc/address.ts):
//   flint://host:port         an RPC env: a configured master URL, the `Disconnected` env id, LaunchExecutor.masterUrl
//   flint://Name@host:port    an endpoint: what RegisteredWorker/MasterChanged carry as `masterAddress`
// `spark://` is accepted wherever `flint://` is.

const SCHEME = /^(flint|spark):\/\//;

/**
 * The env URL (`flint://host:port`) for a master URL or an endpoint address: the scheme becomes `flint://`, an
 * endpoint name and a trailing slash are dropped. Anything else is returned trimmed, so that it compares unequal.
 */
export function masterEnvUrl(text: string): string {
  const trimmed = text.trim();
  if (!SCHEME.test(trimmed)) return trimmed;
  let rest = trimmed.replace(SCHEME, '');
  const at = rest.lastIndexOf('@');
  if (at >= 0) rest = rest.slice(at + 1);
  return `flint://${rest.replace(/\/+$/, '')}`;
}

/** The endpoint address of the worker's own `Worker` endpoint: Spark's `workerUri`, `{{WORKER_URL}}`. */
export function workerEndpointAddress(host: string, port: number): string {
  const where = host.includes(':') ? `[${host}]` : host;
  return `flint://Worker@${where}:${port}`;
}
