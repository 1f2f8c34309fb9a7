/**
 * types.Relayer's plain calls (chainlink-common v1.3.1, pkg/types/relayer.go) as one TypeScript
 * signature for both sides: the host's RelayerHandle has them (results as promises), and a
 * TypeScript relayer LOOP's RelayerServer implements them (each optional: a missing one answers
 * gRPC Unimplemented). On the plugin side `signal` aborts when the host cancels the call.
 */
import type { ChainInfo, ChainStatus, NodeStatus, RelayArgs as PbRelayArgs } from '../../gen';
import { ConfigError } from '../../core/errors';
import type { MaybePromise } from './rpc';

export type { ChainInfo, ChainStatus, NodeStatus };

/** types.Head: height as a decimal string, timestamp in unix seconds. */
export interface Head {
  height: string;
  hash: Buffer;
  timestamp: number;
}

/** One page of ListNodeStatuses; nextPageToken "" on the last page. total is every node, not this page's. */
export interface NodeStatusPage {
  nodes: NodeStatus[];
  nextPageToken: string;
  total: number;
}

/** Relayer.Transact's arguments. */
export interface TransactRequest {
  from: string;
  to: string;
  amount: bigint;
  balanceCheck: boolean;
}

/** Relayer.Replay's arguments; args travel as a google.protobuf.Struct (JSON values only). */
export interface ReplayRequest {
  fromBlock: string;
  args: Record<string, unknown>;
}

export interface RelayerCalls {
  latestHead(signal?: AbortSignal): MaybePromise<Head>;
  finalizedHead(signal?: AbortSignal): MaybePromise<Head>;
  getChainStatus(signal?: AbortSignal): MaybePromise<ChainStatus>;
  getChainInfo(signal?: AbortSignal): MaybePromise<ChainInfo>;
  /** pageToken "" (or omitted) asks for the first page. */
  listNodeStatuses(pageSize: number, pageToken?: string, signal?: AbortSignal): MaybePromise<NodeStatusPage>;
  transact(request: TransactRequest, signal?: AbortSignal): MaybePromise<void>;
  replay(request: ReplayRequest, signal?: AbortSignal): MaybePromise<void>;
}

/** `T`'s methods with their results as promises (how the host sees a plugin's methods). */
export type Promised<T> = { [K in keyof T]: T[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<Awaited<R>> : T[K] };

/** types.RelayArgs; externalJobID is a UUID string (16 bytes on the wire). */
export interface RelayArgs {
  externalJobID: string;
  jobID: number;
  contractID: string;
  new: boolean;
  relayConfig: Buffer;
  providerType: string;
}

/** types.PluginArgs. */
export interface PluginArgs {
  transmitterID: string;
  pluginConfig: Buffer;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function relayArgsToPb(a: RelayArgs): PbRelayArgs {
  if (!UUID.test(a.externalJobID)) {
    throw new ConfigError('ERR_LOOPP_CONFIG', `relayArgs.externalJobID is not a UUID: ${JSON.stringify(a.externalJobID)}`, {
      input: a.externalJobID,
      hint: 'Pass the job UUID as 8-4-4-4-12 hex digits, e.g. "1051429b-aa66-11ed-b0d2-5cff35dfbe67".',
    });
  }
  return { ...a, externalJobID: Buffer.from(a.externalJobID.replace(/-/g, ''), 'hex') };
}

/** As chainlink-common's server: an externalJobID that is not 16 bytes is refused. */
export function relayArgsFromPb(a: PbRelayArgs | undefined): RelayArgs {
  const id = Buffer.from(a?.externalJobID ?? Buffer.alloc(0));
  if (id.length !== 16) throw new Error(`invalid uuid bytes for ExternalJobID: invalid UUID (got ${id.length} bytes)`);
  const h = id.toString('hex');
  return {
    externalJobID: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`,
    jobID: a?.jobID ?? 0,
    contractID: a?.contractID ?? '',
    new: a?.new ?? false,
    relayConfig: Buffer.from(a?.relayConfig ?? Buffer.alloc(0)),
    providerType: a?.providerType ?? '',
  };
}
