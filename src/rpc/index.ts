// Flint's RPC layer: envs, endpoints and refs over TCP. See README.md in this folder.
export * from './address.ts';
export type { CallContext, ReplyContext, RpcEndpoint } from './endpoint.ts';
export { RpcEndpointRef, type AskOptions } from './endpoint-ref.ts';
export { RpcEnv, readRpcSettings, type RpcEnvOptions, type RpcSettings } from './rpc-env.ts';
export { PROTOCOL_VERSION } from './wire.ts';
