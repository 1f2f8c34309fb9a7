/**
 * The host's client of loop.ContractReader: on a connection of its own (Relayer.NewContractReader)
 * or on a median provider connection. Params go out as CBOR (version 2, chainlink-common's default);
 * replies are decoded from whatever version they come in.
 */
import * as grpc from '@grpc/grpc-js';
import { type BatchGetLatestValuesReply, type GetLatestValueReply, type QueryKeyReply, type QueryKeysReply, loopProtos } from '../../gen';
import { type ContractReader, headFromPb } from '../wire/contract-reader';
import { keyFilterToPb, limitAndSortToPb } from '../wire/query';
import type { Promised } from '../wire/relayer-api';
import { loopCall } from '../wire/rpc';
import { CBOR_ENCODING, decodeVersioned, encodeVersioned } from '../wire/versioned-bytes';

// Loaded with loopp/loop, not with loopp (see src/gen.ts).
const { ContractReaderClient } = loopProtos.contractReader();

/** Every ContractReader method, over the host's connection. */
export type ContractReaderClient = Promised<Required<ContractReader>>;

const V = CBOR_ENCODING;

export function contractReaderClient(channel: grpc.ChannelInterface): ContractReaderClient {
  const c = new ContractReaderClient('unused', grpc.credentials.createInsecure(), { channelOverride: channel });
  const call = <R>(method: string, req: unknown, signal?: AbortSignal) => loopCall<R>(c, `ContractReader.${method}`, req, signal);
  const seq = (s: { sequenceCursor: string; txHash: Buffer; head?: Parameters<typeof headFromPb>[0]; data?: Parameters<typeof decodeVersioned>[0] }) => ({
    cursor: s.sequenceCursor,
    txHash: Buffer.from(s.txHash),
    head: headFromPb(s.head),
    data: decodeVersioned(s.data),
  });
  return {
    getLatestValue: async (readIdentifier, confidence, params, signal) =>
      decodeVersioned((await call<GetLatestValueReply>('GetLatestValue', { readIdentifier, confidence, params: encodeVersioned(params, V), asValueType: false }, signal)).retVal),
    batchGetLatestValues: async (request, signal) => {
      const req = { requests: request.map((b) => ({ contract: b.contract, reads: b.reads.map((r) => ({ readName: r.readName, params: encodeVersioned(r.params, V) })) })) };
      const reply = await call<BatchGetLatestValuesReply>('BatchGetLatestValues', req, signal);
      return reply.results.map((b) => ({
        contract: { address: b.contract?.address ?? '', name: b.contract?.name ?? '' },
        results: b.results.map((r) => ({ readName: r.readName, returnVal: decodeVersioned(r.returnVal), error: r.error })),
      }));
    },
    queryKey: async (contract, filter, limitAndSort, signal) => {
      const req = { contract, filter: keyFilterToPb(filter, V), limitAndSort: limitAndSortToPb(limitAndSort), asValueType: false };
      return (await call<QueryKeyReply>('QueryKey', req, signal)).sequences.map(seq);
    },
    queryKeys: async (filters, limitAndSort, signal) => {
      const req = { filters: filters.map((f) => ({ contract: f.contract, filter: keyFilterToPb(f.filter, V), asValueType: false })), limitAndSort: limitAndSortToPb(limitAndSort) };
      return (await call<QueryKeysReply>('QueryKeys', req, signal)).sequences.map((s) => ({ ...seq(s), key: s.key }));
    },
    bind: async (bindings, signal) => {
      await call('Bind', { bindings }, signal);
    },
    unbind: async (bindings, signal) => {
      await call('Unbind', { bindings }, signal);
    },
  };
}
