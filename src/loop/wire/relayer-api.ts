/**
 * types.Relayer's plain calls (chainlink-common v1.3.1, pkg/types/relayer.go) as one TypeScript
 * signature for both sides: the host's RelayerHandle has them (results as promises), and a
 * TypeScript relayer LOOP's RelayerServer implements them (each optional: a missing one answers
 * gRPC Unimplemented). On the plugin side `signal` aborts when the host cancels the call.
 */
import type { ChainInfo, ChainStatus, NodeStatus } from '../../gen';
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
