/**
 * The host's handle of a median provider a relayer LOOP serves (Relayer.NewPluginProvider with
 * providerType "median"): every sub-service of the provider connection, client-side, shaped as
 * MedianProvider so the handle can be handed on as is (e.g. to PluginMedianHost.newMedianFactory).
 * As chainlink-common's client (RmUnimplemented), a ContractReader that answers GetLatestValue
 * with Unimplemented counts as absent.
 */
import * as grpc from '@grpc/grpc-js';
import { type MedianFromReportReply, loopProtos } from '../../gen';
import { bigFromPb, bigToPb } from '../wire/big';
import type { LatestTransmissionDetailsWire, MedianContract, MedianProvider, OnchainConfigCodec, ReportCodec } from '../wire/median-provider';
import { MedianContractDefinition } from '../wire/median-provider';
import type { ContractConfigTracker, ContractTransmitter, OffchainConfigDigester } from '../wire/ocr2-provider';
import type { Promised } from '../wire/relayer-api';
import { loopCall } from '../wire/rpc';
import { type ContractReaderClient, contractReaderClient } from './contract-reader';
import { contractConfigTrackerClient, contractTransmitterClient, offchainConfigDigesterClient, type ProviderConnection, providerServiceClient } from './ocr2-clients';

// Loaded with loopp/loop, not with loopp (see src/gen.ts).
const { OnchainConfigCodecClient, ReportCodecClient } = loopProtos.median();
const MedianContractClient = grpc.makeGenericClientConstructor(MedianContractDefinition as unknown as grpc.ServiceDefinition, 'loop.MedianContract');

export interface MedianProviderHandle extends MedianProvider, ProviderConnection {
  readonly name: string;
  readonly offchainConfigDigester: Promised<OffchainConfigDigester>;
  readonly contractConfigTracker: Promised<ContractConfigTracker>;
  readonly contractTransmitter: Promised<ContractTransmitter>;
  readonly reportCodec: Promised<ReportCodec>;
  readonly medianContract: Promised<MedianContract>;
  readonly onchainConfigCodec: Promised<OnchainConfigCodec>;
  /** Absent when the plugin's provider has no contract reader. */
  readonly contractReader?: ContractReaderClient;
  ready(): Promise<void>;
  healthReport(): Promise<Record<string, Error | null>>;
  close(): Promise<void>;
}

function reportCodecClient(channel: grpc.ChannelInterface): Promised<ReportCodec> {
  const c = new ReportCodecClient('unused', grpc.credentials.createInsecure(), { channelOverride: channel });
  return {
    buildReport: async (observations) => {
      const req = {
        observations: observations.map((o) => ({
          timestamp: o.timestamp,
          value: bigToPb(o.value),
          julesPerFeeCoin: bigToPb(o.juelsPerFeeCoin),
          gasPriceSubunits: bigToPb(o.gasPriceSubunits),
          observer: o.observer,
        })),
      };
      return Buffer.from((await loopCall<{ report: Buffer }>(c, 'ReportCodec.BuildReport', req)).report);
    },
    medianFromReport: async (report) => bigFromPb((await loopCall<MedianFromReportReply>(c, 'ReportCodec.MedianFromReport', { report })).median),
    maxReportLength: async (n) => (await loopCall<{ max: number }>(c, 'ReportCodec.MaxReportLength', { n })).max,
  };
}

function medianContractClient(channel: grpc.ChannelInterface): Promised<MedianContract> {
  const c = new MedianContractClient('unused', grpc.credentials.createInsecure(), { channelOverride: channel });
  return {
    latestTransmissionDetails: async () => {
      const r = await loopCall<LatestTransmissionDetailsWire>(c, 'MedianContract.LatestTransmissionDetails', {});
      return { configDigest: Buffer.from(r.configDigest), epoch: r.epoch, round: r.round, latestAnswer: bigFromPb(r.latestAnswer), latestTimestamp: r.latestTimestamp };
    },
    latestRoundRequested: async (lookback) => {
      const r = await loopCall<{ configDigest: Buffer; epoch: number; round: number }>(c, 'MedianContract.LatestRoundRequested', { lookback });
      return { configDigest: Buffer.from(r.configDigest), epoch: r.epoch, round: r.round };
    },
  };
}

function onchainConfigCodecClient(channel: grpc.ChannelInterface): Promised<OnchainConfigCodec> {
  const c = new OnchainConfigCodecClient('unused', grpc.credentials.createInsecure(), { channelOverride: channel });
  return {
    encode: async (config) =>
      Buffer.from((await loopCall<{ encoded: Buffer }>(c, 'OnchainConfigCodec.Encode', { onchainConfig: { min: bigToPb(config.min), max: bigToPb(config.max) } })).encoded),
    decode: async (encoded) => {
      const r = await loopCall<{ onchainConfig?: { min?: Parameters<typeof bigFromPb>[0]; max?: Parameters<typeof bigFromPb>[0] } }>(c, 'OnchainConfigCodec.Decode', { encoded });
      return { min: bigFromPb(r.onchainConfig?.min), max: bigFromPb(r.onchainConfig?.max) };
    },
  };
}

/** The median provider served on broker id `id`, over `channel` (already dialled). */
export async function medianProviderClient(id: number, channel: grpc.ChannelInterface, signal?: AbortSignal): Promise<MedianProviderHandle> {
  const reader = contractReaderClient(channel);
  let hasReader = true;
  try {
    await reader.getLatestValue('', 0, null, signal);
  } catch (err) {
    hasReader = (err as { code?: string }).code !== 'ERR_LOOPP_LOOP_UNIMPLEMENTED';
    if (signal?.aborted) throw err;
  }
  return {
    id,
    channel,
    name: 'MedianProviderClient',
    ...providerServiceClient(channel),
    offchainConfigDigester: offchainConfigDigesterClient(channel),
    contractConfigTracker: contractConfigTrackerClient(channel),
    contractTransmitter: contractTransmitterClient(channel),
    reportCodec: reportCodecClient(channel),
    medianContract: medianContractClient(channel),
    onchainConfigCodec: onchainConfigCodecClient(channel),
    ...(hasReader ? { contractReader: reader } : {}),
  };
}
