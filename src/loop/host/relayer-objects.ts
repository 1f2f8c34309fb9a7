/**
 * The objects a relayer creates and serves on broker ids of its own (Relayer.NewConfigProvider,
 * NewPluginProvider, NewContractReader, NewContractWriter): each call returns the id, the host
 * dials it and wraps the connection in a typed handle. Handles still open when the relayer closes
 * are closed with it.
 */
import * as grpc from '@grpc/grpc-js';
import { type NewConfigProviderReply, type NewContractReaderReply, type NewContractWriterReply, type NewPluginProviderReply, loopProtos } from '../../gen';
import { ConfigError } from '../../core/errors';
import type { GrpcBroker } from '../../index';
import { type PluginArgs, type RelayArgs, relayArgsToPb } from '../wire/relayer-api';
import { loopCall } from '../wire/rpc';
import { type ConfigProviderHandle, configProviderClient } from './config-provider';
import { type ContractReaderHandle, contractReaderHandle } from './contract-reader-handle';
import { type ContractWriterHandle, contractWriterHandle } from './contract-writer';
import { type MedianProviderHandle, medianProviderClient } from './median-provider-client';

// Loaded with loopp/loop, not with loopp (see src/gen.ts).
const { RelayerClient } = loopProtos.relayer();

export interface NewPluginProviderOptions {
  /** Only "median" today (the provider type decides which services the connection carries). */
  providerType: 'median';
  /** relayArgs.providerType is set from providerType. */
  relayArgs: Omit<RelayArgs, 'providerType'>;
  pluginArgs: PluginArgs;
  signal?: AbortSignal;
}

export interface RelayerObjects {
  newConfigProvider(o: { relayArgs: RelayArgs; signal?: AbortSignal }): Promise<ConfigProviderHandle>;
  newPluginProvider(o: NewPluginProviderOptions): Promise<MedianProviderHandle>;
  /** config is the relayer-specific contract reader config (JSON for most relayers), sent as bytes. */
  newContractReader(config: Buffer | string, signal?: AbortSignal): Promise<ContractReaderHandle>;
  newContractWriter(config: Buffer | string, signal?: AbortSignal): Promise<ContractWriterHandle>;
}

export function relayerObjects(channel: grpc.ChannelInterface, broker: GrpcBroker): RelayerObjects & { closeAll(): Promise<void> } {
  const relayer = new RelayerClient('unused', grpc.credentials.createInsecure(), { channelOverride: channel });
  const open = new Set<{ close(): Promise<void> }>();
  /** Calls Relayer.<method>, dials the id it answers and wraps it; the handle leaves `open` on close. */
  async function create<H extends { close(): Promise<void> }>(method: string, req: unknown, idOf: (r: never) => number, wrap: (id: number, ch: grpc.ChannelInterface) => Promise<H> | H, signal?: AbortSignal): Promise<H> {
    const id = idOf((await loopCall(relayer, `Relayer.${method}`, req, signal)) as never);
    const ch = await broker.dial(id, { signal });
    let handle: H;
    try {
      handle = await wrap(id, ch);
    } catch (err) {
      ch.close();
      throw err;
    }
    const close = handle.close.bind(handle);
    const tracked = Object.assign(handle, {
      close: async () => {
        open.delete(tracked);
        await close();
      },
    });
    open.add(tracked);
    return tracked;
  }
  const bytes = (c: Buffer | string) => (typeof c === 'string' ? Buffer.from(c) : c);
  return {
    newConfigProvider: ({ relayArgs, signal }) =>
      create('NewConfigProvider', { relayArgs: relayArgsToPb(relayArgs) }, (r: NewConfigProviderReply) => r.configProviderID, configProviderClient, signal),
    newPluginProvider: async ({ providerType, relayArgs, pluginArgs, signal }) => {
      if (providerType !== 'median') {
        throw new ConfigError('ERR_LOOPP_CONFIG', `provider type not supported: ${String(providerType)}`, { input: providerType, hint: 'Only "median" is supported.' });
      }
      const req = { relayArgs: relayArgsToPb({ ...relayArgs, providerType }), pluginArgs };
      return create('NewPluginProvider', req, (r: NewPluginProviderReply) => r.pluginProviderID, (id, ch) => medianProviderClient(id, ch, signal), signal);
    },
    newContractReader: (config, signal) =>
      create('NewContractReader', { contractReaderConfig: bytes(config) }, (r: NewContractReaderReply) => r.contractReaderID, contractReaderHandle, signal),
    newContractWriter: (config, signal) =>
      create('NewContractWriter', { contractWriterConfig: bytes(config) }, (r: NewContractWriterReply) => r.contractWriterID, contractWriterHandle, signal),
    closeAll: async () => {
      await Promise.all([...open].map((h) => h.close()));
    },
  };
}
