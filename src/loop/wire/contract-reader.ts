/**
 * types.ContractReader (chainlink-common v1.3.1) as one TypeScript shape for both sides, and its
 * server. Payloads are decoded from their codec.VersionedBytes: a reader sees and returns plain
 * values. As chainlink-common's server does, GetLatestValue answers in the version its params came
 * in; BatchGetLatestValues, QueryKey and QueryKeys answer in CBOR (version 2).
 */
import type * as grpc from '@grpc/grpc-js';
import { type BatchGetLatestValuesRequest, type BindRequest, type GetLatestValueReply, type GetLatestValueRequest, type Head as PbHead, type QueryKeyRequest, type QueryKeysRequest, loopProtos } from '../../gen';
import { LoopError } from '../../core/errors';
import { handleUnary as unary, type MaybePromise, withUnimplemented } from './rpc';
import type { Head } from './relayer-api';
import { type KeyFilter, keyFilterFromPb, type LimitAndSort, limitAndSortFromPb } from './query';
import { CBOR_ENCODING, type CborValue, decodeVersioned, encodeVersioned } from './versioned-bytes';
import type { GrpcServer } from '../../index';

// Loaded with loopp/loop, not with loopp (see src/gen.ts).
const { ContractReaderService } = loopProtos.contractReader();

/** types.BoundContract; its read identifier for read R is `${address}-${name}-${R}`. */
export interface BoundContract {
  address: string;
  name: string;
}

/** The reads of one contract in a BatchGetLatestValues request. */
export interface ContractBatch {
  contract: BoundContract;
  reads: Array<{ readName: string; params: CborValue }>;
}

/** Their results, in request order; `error` is "" for a read that succeeded. */
export interface ContractBatchResult {
  contract: BoundContract;
  results: Array<{ readName: string; returnVal: CborValue; error: string }>;
}

/** types.Sequence. */
export interface Sequence {
  cursor: string;
  txHash: Buffer;
  head: Head;
  data: CborValue;
}

export interface SequenceWithKey extends Sequence {
  key: string;
}

/** types.ContractKeyFilter. */
export interface ContractKeyFilter {
  contract: BoundContract;
  filter: KeyFilter;
}

/**
 * types.ContractReader. confidence is the wire number: 0 unconfirmed, 1 finalized, 2 safe. Only
 * getLatestValue is required of a server; a method left out answers gRPC Unimplemented.
 */
export interface ContractReader {
  getLatestValue(readIdentifier: string, confidence: number, params: CborValue, signal?: AbortSignal): MaybePromise<CborValue>;
  batchGetLatestValues?(request: ContractBatch[], signal?: AbortSignal): MaybePromise<ContractBatchResult[]>;
  queryKey?(contract: BoundContract, filter: KeyFilter, limitAndSort: LimitAndSort, signal?: AbortSignal): MaybePromise<Sequence[]>;
  queryKeys?(filters: ContractKeyFilter[], limitAndSort: LimitAndSort, signal?: AbortSignal): MaybePromise<SequenceWithKey[]>;
  bind?(bindings: BoundContract[], signal?: AbortSignal): MaybePromise<void>;
  unbind?(bindings: BoundContract[], signal?: AbortSignal): MaybePromise<void>;
}

export const headToPb = (h: Head): PbHead => ({ height: h.height, hash: h.hash, timestamp: h.timestamp });
export const headFromPb = (h: PbHead | undefined): Head => ({
  height: h?.height ?? '',
  hash: Buffer.from(h?.hash ?? Buffer.alloc(0)),
  timestamp: h?.timestamp ?? 0,
});
const contractOf = (c: { address: string; name: string } | undefined): BoundContract => ({ address: c?.address ?? '', name: c?.name ?? '' });

function sequenceToPb(s: Sequence) {
  return { sequenceCursor: s.cursor, txHash: s.txHash, head: headToPb(s.head), data: encodeVersioned(s.data, CBOR_ENCODING) };
}

/** Registers loop.ContractReader for `cr` on `server` (only the methods it has). */
export function serveContractReader(server: GrpcServer, cr: ContractReader): void {
  const impl: grpc.UntypedServiceImplementation = {
    getLatestValue: unary(async (r: GetLatestValueRequest, signal): Promise<GetLatestValueReply> => {
      if (r.asValueType) throw new LoopError('ERR_LOOPP_LOOP_CODEC', 'values encoding (as_value_type) is not supported', { input: r });
      const ret = await cr.getLatestValue(r.readIdentifier, r.confidence, decodeVersioned(r.params), signal);
      return { retVal: encodeVersioned(ret, r.params?.version ?? 0) };
    }),
  };
  const { batchGetLatestValues, queryKey, queryKeys, bind, unbind } = cr;
  if (batchGetLatestValues !== undefined) {
    impl['batchGetLatestValues'] = unary(async (r: BatchGetLatestValuesRequest, signal) => {
      const batches = r.requests.map((b) => ({ contract: contractOf(b.contract), reads: b.reads.map((x) => ({ readName: x.readName, params: decodeVersioned(x.params) })) }));
      const results = await batchGetLatestValues.call(cr, batches, signal);
      return {
        results: results.map((b) => ({
          contract: b.contract,
          results: b.results.map((x) => ({ readName: x.readName, returnVal: encodeVersioned(x.returnVal, CBOR_ENCODING), error: x.error })),
        })),
      };
    });
  }
  if (queryKey !== undefined) {
    impl['queryKey'] = unary(async (r: QueryKeyRequest, signal) => {
      if (r.asValueType) throw new LoopError('ERR_LOOPP_LOOP_CODEC', 'values encoding (as_value_type) is not supported', { input: r });
      const seqs = await queryKey.call(cr, contractOf(r.contract), keyFilterFromPb(r.filter), limitAndSortFromPb(r.limitAndSort), signal);
      return { sequences: seqs.map(sequenceToPb) };
    });
  }
  if (queryKeys !== undefined) {
    impl['queryKeys'] = unary(async (r: QueryKeysRequest, signal) => {
      const filters = r.filters.map((f) => ({ contract: contractOf(f.contract), filter: keyFilterFromPb(f.filter) }));
      const seqs = await queryKeys.call(cr, filters, limitAndSortFromPb(r.limitAndSort), signal);
      return { sequences: seqs.map((s) => ({ ...sequenceToPb(s), key: s.key })) };
    });
  }
  const bindings = (r: BindRequest) => r.bindings.map(contractOf);
  if (bind !== undefined) impl['bind'] = unary(async (r: BindRequest, signal) => ((await bind.call(cr, bindings(r), signal)), {}));
  if (unbind !== undefined) impl['unbind'] = unary(async (r: BindRequest, signal) => ((await unbind.call(cr, bindings(r), signal)), {}));
  server.addService(ContractReaderService, withUnimplemented(ContractReaderService, impl));
}
