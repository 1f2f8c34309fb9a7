/**
 * The host's handle of a config provider a relayer LOOP serves (Relayer.NewConfigProvider): its
 * OffchainConfigDigester and ContractConfigTracker, client-side, shaped as ConfigProvider.
 */
import type * as grpc from '@grpc/grpc-js';
import type { ConfigProvider, ContractConfigTracker, OffchainConfigDigester } from '../wire/ocr2-provider';
import type { Promised } from '../wire/relayer-api';
import { contractConfigTrackerClient, offchainConfigDigesterClient, type ProviderConnection, providerServiceClient } from './ocr2-clients';

export interface ConfigProviderHandle extends ConfigProvider, ProviderConnection {
  readonly name: string;
  readonly offchainConfigDigester: Promised<OffchainConfigDigester>;
  readonly contractConfigTracker: Promised<ContractConfigTracker>;
  ready(): Promise<void>;
  healthReport(): Promise<Record<string, Error | null>>;
  close(): Promise<void>;
}

export function configProviderClient(id: number, channel: grpc.ChannelInterface): ConfigProviderHandle {
  return {
    id,
    channel,
    name: 'ConfigProviderClient',
    ...providerServiceClient(channel),
    offchainConfigDigester: offchainConfigDigesterClient(channel),
    contractConfigTracker: contractConfigTrackerClient(channel),
  };
}
