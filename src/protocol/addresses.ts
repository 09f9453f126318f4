// The one address manipulation the master and the app client need, kept pure (the RPC layer's parsers live in
// src/rpc, which core code may not import). Forms (see src/rpc/address.ts):
//   flint://host:port          an RPC env: what a `Disconnected` input names
//   flint://Name@host:port     an endpoint on a server env: `masterAddress`, `workerAddress`
//   flint+client://Name@id     an endpoint on a client env (no port): `driverAddress`

/**
 * The env part of an endpoint address: `flint://Worker@h:1` → `flint://h:1`, `flint+client://App@x` →
 * `flint+client://x`. `spark://` is read as `flint://`, as the RPC layer does. Disconnections name envs.
 */
export function envIdOf(endpointAddress: string): string {
  const match = /^(flint\+client|flint|spark):\/\/(?:[^@/]*@)?(.*)$/.exec(endpointAddress);
  if (match === null) return endpointAddress;
  const scheme = match[1] === 'flint+client' ? 'flint+client' : 'flint';
  return `${scheme}://${match[2] ?? ''}`;
}

/** The endpoint `name` on the env `envId`: `flint://h:1` → `flint://Name@h:1`, `flint+client://x` → `flint+client://Name@x`. */
export function endpointOn(envId: string, name: string): string {
  const match = /^(flint\+client|flint):\/\/(.*)$/.exec(envId);
  return match === null ? envId : `${match[1]}://${name}@${match[2] ?? ''}`;
}
