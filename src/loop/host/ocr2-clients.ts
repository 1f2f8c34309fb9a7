/**
 * Host-side clients of the OCR2 parts of a provider connection (OffchainConfigDigester,
 * ContractConfigTracker, ContractTransmitter) and of its loop.Service, shaped as the interfaces in
 * ../wire/ocr2-provider so a provider handle can be handed on as is (e.g. to a median LOOP).
 */
import * as grpc from '@grpc/grpc-js';
import { type ContractConfig, loopProtos } from '../../gen';
import type { ContractConfigTracker, ContractTransmitter, OffchainConfigDigester } from '../wire/ocr2-provider';
import type { Promised } from '../wire/relayer-api';
import { loopCall, loopServiceClient, remoteHealthReport } from '../wire/rpc';

// Loaded with loopp/loop, not with loopp (see src/gen.ts).
const { ContractConfigTrackerClient, ContractTransmitterClient, OffchainConfigDigesterClient } = loopProtos.relayer();

const over = (channel: grpc.ChannelInterface) => [grpc.credentials.createInsecure(), { channelOverride: channel }] as const;

export function offchainConfigDigesterClient(channel: grpc.ChannelInterface): Promised<OffchainConfigDigester> {
  const c = new OffchainConfigDigesterClient('unused', ...over(channel));
  return {
    configDigest: async (contractConfig) => Buffer.from((await loopCall<{ configDigest: Buffer }>(c, 'OffchainConfigDigester.ConfigDigest', { contractConfig })).configDigest),
    configDigestPrefix: async () => (await loopCall<{ configDigestPrefix: number }>(c, 'OffchainConfigDigester.ConfigDigestPrefix', {})).configDigestPrefix,
  };
}

export function contractConfigTrackerClient(channel: grpc.ChannelInterface): Promised<ContractConfigTracker> {
  const c = new ContractConfigTrackerClient('unused', ...over(channel));
  return {
    latestConfigDetails: async () => {
      const r = await loopCall<{ changedInBlock: number; configDigest: Buffer }>(c, 'ContractConfigTracker.LatestConfigDetails', {});
      return { changedInBlock: r.changedInBlock, configDigest: Buffer.from(r.configDigest) };
    },
    latestConfig: async (changedInBlock) => {
      const r = await loopCall<{ contractConfig?: ContractConfig }>(c, 'ContractConfigTracker.LatestConfig', { changedInBlock });
      return (
        r.contractConfig ?? { configDigest: Buffer.alloc(0), configCount: 0, signers: [], transmitters: [], F: 0, onchainConfig: Buffer.alloc(0), offchainConfigVersion: 0, offchainConfig: Buffer.alloc(0) }
      );
    },
    latestBlockHeight: async () => (await loopCall<{ blockHeight: number }>(c, 'ContractConfigTracker.LatestBlockHeight', {})).blockHeight,
  };
}

export function contractTransmitterClient(channel: grpc.ChannelInterface): Promised<ContractTransmitter> {
  const c = new ContractTransmitterClient('unused', ...over(channel));
  return {
    transmit: async (reportContext, report, attributedOnchainSignatures) => {
      await loopCall(c, 'ContractTransmitter.Transmit', { reportContext, report, attributedOnchainSignatures });
    },
    latestConfigDigestAndEpoch: async () => {
      const r = await loopCall<{ configDigest: Buffer; epoch: number }>(c, 'ContractTransmitter.LatestConfigDigestAndEpoch', {});
      return { configDigest: Buffer.from(r.configDigest), epoch: r.epoch };
    },
    fromAccount: async () => (await loopCall<{ Account: string }>(c, 'ContractTransmitter.FromAccount', {})).Account,
  };
}

/** What every handle of an object a relayer serves on a broker id has: its broker id on the relayer plugin's broker and the host's connection to it. */
export interface ProviderConnection {
  /** The provider's broker id on the relayer plugin's broker. */
  readonly id: number;
  /** The host's connection to the provider; open until close(). */
  readonly channel: grpc.ChannelInterface;
  ready(): Promise<void>;
  healthReport(): Promise<Record<string, Error | null>>;
  /** Service.Name, asked of the plugin (`name` is the handle's local name). */
  remoteName(): Promise<string>;
  /** Asks the plugin to close the provider, then closes the connection. Idempotent. */
  close(): Promise<void>;
}

/** A provider's loop.Service as a handle sees it; close() asks the plugin to close it, then drops the connection. */
export function providerServiceClient(channel: grpc.ChannelInterface) {
  const service = loopServiceClient(channel);
  let closing: Promise<void> | undefined;
  return {
    ready: async (): Promise<void> => {
      await loopCall(service, 'Service.Ready', {});
    },
    healthReport: () => remoteHealthReport(service),
    remoteName: async (): Promise<string> => (await loopCall<{ name: string }>(service, 'Service.Name', {})).name,
    close: (): Promise<void> =>
      (closing ??= (async () => {
        try {
          await loopCall(service, 'Service.Close', {});
        } catch {
          // Best effort: the plugin may be gone already; the connection is dropped either way.
        } finally {
          channel.close();
        }
      })()),
  };
}
