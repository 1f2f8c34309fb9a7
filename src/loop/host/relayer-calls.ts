/**
 * The host's client of loop.Relayer's plain calls (heads, chain status and info, node statuses,
 * Transact, Replay) on a relayer connection. Every failure is a LoopError naming the method.
 */
import * as grpc from '@grpc/grpc-js';
import { type ChainInfo, type ChainStatus, type FinalizedHeadReply, type LatestHeadReply, type ListNodeStatusesReply, loopProtos } from '../../gen';
import { bigToPb } from '../wire/big';
import { headFromPb } from '../wire/contract-reader';
import type { Promised, RelayerCalls } from '../wire/relayer-api';
import { loopCall } from '../wire/rpc';

// Loaded with loopp/loop, not with loopp (see src/gen.ts).
const { RelayerClient } = loopProtos.relayer();

/** RelayerCalls over `channel` (the connection to the broker id NewRelayer returned). */
export function relayerCalls(channel: grpc.ChannelInterface): Promised<RelayerCalls> {
  const relayer = new RelayerClient('unused', grpc.credentials.createInsecure(), { channelOverride: channel });
  const call = <R>(method: string, req: unknown, signal?: AbortSignal) => loopCall<R>(relayer, `Relayer.${method}`, req, signal);
  return {
    latestHead: async (signal) => headFromPb((await call<LatestHeadReply>('LatestHead', {}, signal)).head),
    finalizedHead: async (signal) => headFromPb((await call<FinalizedHeadReply>('FinalizedHead', {}, signal)).head),
    getChainStatus: async (signal) => (await call<{ chain?: ChainStatus }>('GetChainStatus', {}, signal)).chain ?? { id: '', enabled: false, config: '' },
    getChainInfo: async (signal) =>
      (await call<{ chainInfo?: ChainInfo }>('GetChainInfo', {}, signal)).chainInfo ?? { familyName: '', chainId: '', networkName: '', networkNameFull: '' },
    listNodeStatuses: async (pageSize, pageToken = '', signal) => {
      const r = await call<ListNodeStatusesReply>('ListNodeStatuses', { pageSize, pageToken }, signal);
      return { nodes: r.nodes, nextPageToken: r.nextPageToken, total: r.total };
    },
    transact: async (t, signal) => {
      await call('Transact', { from: t.from, to: t.to, amount: bigToPb(t.amount), balanceCheck: t.balanceCheck }, signal);
    },
    replay: async (r, signal) => {
      await call('Replay', { fromBlock: r.fromBlock, args: r.args }, signal);
    },
  };
}
