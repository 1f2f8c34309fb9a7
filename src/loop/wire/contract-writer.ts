/**
 * types.ContractWriter (chainlink-common v1.3.1) as one TypeScript shape for both sides, and its
 * server. Params are decoded from their codec.VersionedBytes; absent big integers (value, gas
 * limit) stay undefined, as Go's nil *big.Int.
 */
import type * as grpc from '@grpc/grpc-js';
import type { BigInt as PbBigInt, GetEstimateFeeRequest, GetTransactionStatusRequest, SubmitTransactionRequest as PbSubmit, TransactionMeta } from '../../gen';
import { loopProtos } from '../../gen';
import { bigFromPb, bigToPb } from './big';
import { handleUnary as unary, type MaybePromise, withUnimplemented } from './rpc';
import type { CborValue } from './versioned-bytes';
import { decodeVersioned } from './versioned-bytes';
import type { GrpcServer } from '../../index';

// Loaded with loopp/loop, not with loopp (see src/gen.ts).
const { ContractWriterService } = loopProtos.contractWriter();

/** types.TxMeta. */
export interface TxMeta {
  workflowExecutionID: string;
  gasLimit?: bigint;
}

/** ContractWriter.GetEstimateFee's arguments. */
export interface EstimateFeeRequest {
  contractName: string;
  method: string;
  params: CborValue;
  toAddress: string;
  meta?: TxMeta;
  value?: bigint;
}

/** ContractWriter.SubmitTransaction's arguments. */
export interface SubmitTransactionRequest extends EstimateFeeRequest {
  transactionID: string;
}

/** types.TransactionStatus, in wire order (0 unknown … 5 fatal). */
export const TRANSACTION_STATUSES = ['unknown', 'pending', 'unconfirmed', 'finalized', 'failed', 'fatal'] as const;
export type TransactionStatus = (typeof TRANSACTION_STATUSES)[number];

export interface FeeComponents {
  executionFee: bigint;
  dataAvailabilityFee: bigint;
}

export interface EstimateFee {
  fee: bigint;
  decimals: number;
}

/** types.ContractWriter; a method a server leaves out answers gRPC Unimplemented. */
export interface ContractWriter {
  submitTransaction?(request: SubmitTransactionRequest, signal?: AbortSignal): MaybePromise<void>;
  getTransactionStatus?(transactionID: string, signal?: AbortSignal): MaybePromise<TransactionStatus>;
  getFeeComponents?(signal?: AbortSignal): MaybePromise<FeeComponents>;
  getEstimateFee?(request: EstimateFeeRequest, signal?: AbortSignal): MaybePromise<EstimateFee>;
}

export const optBigToPb = (v: bigint | undefined): PbBigInt | undefined => (v === undefined ? undefined : bigToPb(v));
const optBigFromPb = (v: PbBigInt | undefined): bigint | undefined => (v === undefined ? undefined : bigFromPb(v));

export const txMetaToPb = (m: TxMeta | undefined): TransactionMeta | undefined =>
  m === undefined ? undefined : { workflowExecutionId: m.workflowExecutionID, gasLimit: optBigToPb(m.gasLimit) };

function txMetaFromPb(m: TransactionMeta | undefined): TxMeta | undefined {
  if (m === undefined) return undefined;
  const gasLimit = optBigFromPb(m.gasLimit);
  return { workflowExecutionID: m.workflowExecutionId, ...(gasLimit === undefined ? {} : { gasLimit }) };
}

function estimateFromPb(r: GetEstimateFeeRequest | PbSubmit): EstimateFeeRequest {
  const meta = txMetaFromPb(r.meta);
  const value = optBigFromPb(r.value);
  return { contractName: r.contractName, method: r.method, params: decodeVersioned(r.params), toAddress: r.toAddress, ...(meta === undefined ? {} : { meta }), ...(value === undefined ? {} : { value }) };
}

/** Registers loop.ContractWriter for `cw` on `server` (only the methods it has). */
export function serveContractWriter(server: GrpcServer, cw: ContractWriter): void {
  const impl: grpc.UntypedServiceImplementation = {};
  const { submitTransaction, getTransactionStatus, getFeeComponents, getEstimateFee } = cw;
  if (submitTransaction !== undefined) {
    impl['submitTransaction'] = unary(async (r: PbSubmit, signal) => {
      await submitTransaction.call(cw, { ...estimateFromPb(r), transactionID: r.transactionId }, signal);
      return {};
    });
  }
  if (getTransactionStatus !== undefined) {
    impl['getTransactionStatus'] = unary(async (r: GetTransactionStatusRequest, signal) => {
      const s = await getTransactionStatus.call(cw, r.transactionId, signal);
      const n = TRANSACTION_STATUSES.indexOf(s);
      if (n < 0) throw new Error(`unknown transaction status ${JSON.stringify(s)}`);
      return { transactionStatus: n };
    });
  }
  if (getFeeComponents !== undefined) {
    impl['getFeeComponents'] = unary(async (_r: unknown, signal) => {
      const f = await getFeeComponents.call(cw, signal);
      return { executionFee: bigToPb(f.executionFee), dataAvailabilityFee: bigToPb(f.dataAvailabilityFee) };
    });
  }
  if (getEstimateFee !== undefined) {
    impl['getEstimateFee'] = unary(async (r: GetEstimateFeeRequest, signal) => {
      const f = await getEstimateFee.call(cw, estimateFromPb(r), signal);
      return { fee: bigToPb(f.fee), decimals: f.decimals };
    });
  }
  server.addService(ContractWriterService, withUnimplemented(ContractWriterService, impl));
}
