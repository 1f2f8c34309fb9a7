/**
 * The host's handle of a ContractWriter a relayer LOOP serves (Relayer.NewContractWriter). Params
 * go out as CBOR (version 2, chainlink-common's default).
 */
import * as grpc from '@grpc/grpc-js';
import { type GetEstimateFeeReply, type GetFeeComponentsReply, type GetTransactionStatusReply, loopProtos } from '../../gen';
import { LoopError } from '../../core/errors';
import { bigFromPb } from '../wire/big';
import { type ContractWriter, type EstimateFeeRequest, optBigToPb, TRANSACTION_STATUSES, type TransactionStatus, txMetaToPb } from '../wire/contract-writer';
import type { Promised } from '../wire/relayer-api';
import { loopCall } from '../wire/rpc';
import { CBOR_ENCODING, encodeVersioned } from '../wire/versioned-bytes';
import { type ProviderConnection, providerServiceClient } from './ocr2-clients';

// Loaded with loopp/loop, not with loopp (see src/gen.ts).
const { ContractWriterClient } = loopProtos.contractWriter();

export interface ContractWriterHandle extends Promised<Required<ContractWriter>>, ProviderConnection {}

const estimateToPb = (r: EstimateFeeRequest) => ({
  contractName: r.contractName,
  method: r.method,
  params: encodeVersioned(r.params, CBOR_ENCODING),
  toAddress: r.toAddress,
  meta: txMetaToPb(r.meta),
  value: optBigToPb(r.value),
});

export function contractWriterHandle(id: number, channel: grpc.ChannelInterface): ContractWriterHandle {
  const c = new ContractWriterClient('unused', grpc.credentials.createInsecure(), { channelOverride: channel });
  const call = <R>(method: string, req: unknown, signal?: AbortSignal) => loopCall<R>(c, `ContractWriter.${method}`, req, signal);
  return {
    id,
    channel,
    ...providerServiceClient(channel),
    submitTransaction: async (r, signal) => {
      await call('SubmitTransaction', { ...estimateToPb(r), transactionId: r.transactionID }, signal);
    },
    getTransactionStatus: async (transactionId, signal) => {
      const n = (await call<GetTransactionStatusReply>('GetTransactionStatus', { transactionId }, signal)).transactionStatus;
      const s = (TRANSACTION_STATUSES as readonly string[])[n] as TransactionStatus | undefined;
      if (s === undefined) throw new LoopError('ERR_LOOPP_LOOP_CODEC', `ContractWriter.GetTransactionStatus: unknown transaction status ${n}`, { input: n });
      return s;
    },
    getFeeComponents: async (signal) => {
      const r = await call<GetFeeComponentsReply>('GetFeeComponents', {}, signal);
      return { executionFee: bigFromPb(r.executionFee), dataAvailabilityFee: bigFromPb(r.dataAvailabilityFee) };
    },
    getEstimateFee: async (r, signal) => {
      const reply = await call<GetEstimateFeeReply>('GetEstimateFee', estimateToPb(r), signal);
      return { fee: bigFromPb(reply.fee), decimals: reply.decimals };
    },
  };
}
