/** The host's handle of a ContractReader a relayer LOOP serves on its own broker id (Relayer.NewContractReader). */
import type * as grpc from '@grpc/grpc-js';
import { type ContractReaderClient, contractReaderClient } from './contract-reader';
import { type ProviderConnection, providerServiceClient } from './ocr2-clients';

export interface ContractReaderHandle extends ContractReaderClient, ProviderConnection {}

export function contractReaderHandle(id: number, channel: grpc.ChannelInterface): ContractReaderHandle {
  return { id, channel, ...providerServiceClient(channel), ...contractReaderClient(channel) };
}
