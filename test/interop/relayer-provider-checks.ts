/**
 * Checks of a median provider (or config provider) handle against an expected provider object:
 * every method is called on both with the same arguments and the answers must be equal. Used with
 * the driver's static provider (expected = median-fixtures' staticMedianProvider) and with
 * reference.json's values.
 */
import assert from 'node:assert/strict';
import type { ConfigProvider } from '../../src/loop/wire/ocr2-provider';
import type { MedianProvider } from '../../src/loop/wire/median-provider';
import type { MedianProviderHandle } from '../../src/loop/host/median-provider-client';
import type { ConfigProviderHandle } from '../../src/loop/host/config-provider';
import { MEDIAN_PROVIDER_INPUTS as IN } from './median-fixtures';

const norm = (v: unknown): unknown => v === undefined ? undefined : JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)));

async function same(what: string, got: Promise<unknown>, want: unknown): Promise<void> {
  assert.deepEqual(norm(await got), norm(await want), what);
}

export async function checkConfigProvider(p: ConfigProviderHandle | MedianProviderHandle, want: ConfigProvider): Promise<void> {
  await same('ConfigDigest', p.offchainConfigDigester.configDigest(IN.contractConfig), want.offchainConfigDigester.configDigest(IN.contractConfig));
  await same('ConfigDigestPrefix', p.offchainConfigDigester.configDigestPrefix(), want.offchainConfigDigester.configDigestPrefix());
  await same('LatestConfigDetails', p.contractConfigTracker.latestConfigDetails(), want.contractConfigTracker.latestConfigDetails());
  await same('LatestConfig', p.contractConfigTracker.latestConfig(IN.changedInBlock), want.contractConfigTracker.latestConfig(IN.changedInBlock));
  await same('LatestBlockHeight', p.contractConfigTracker.latestBlockHeight(), want.contractConfigTracker.latestBlockHeight());
}

export async function checkMedianProvider(p: MedianProviderHandle, want: MedianProvider): Promise<void> {
  await checkConfigProvider(p, want);
  const t = [IN.transmitReportContext, IN.transmitReport, IN.signatures] as const;
  await same('Transmit', p.contractTransmitter.transmit(...t), want.contractTransmitter.transmit(...t));
  await same('LatestConfigDigestAndEpoch', p.contractTransmitter.latestConfigDigestAndEpoch(), want.contractTransmitter.latestConfigDigestAndEpoch());
  await same('FromAccount', p.contractTransmitter.fromAccount(), want.contractTransmitter.fromAccount());
  await same('BuildReport', p.reportCodec.buildReport([...IN.observations]), want.reportCodec.buildReport([...IN.observations]));
  await same('MedianFromReport', p.reportCodec.medianFromReport(IN.medianReport), want.reportCodec.medianFromReport(IN.medianReport));
  await same('MaxReportLength', p.reportCodec.maxReportLength(IN.n), want.reportCodec.maxReportLength(IN.n));
  await same('LatestTransmissionDetails', p.medianContract.latestTransmissionDetails(), want.medianContract.latestTransmissionDetails());
  await same('LatestRoundRequested', p.medianContract.latestRoundRequested(IN.lookbackNs), want.medianContract.latestRoundRequested(IN.lookbackNs));
  await same('OnchainConfigCodec.Encode', p.onchainConfigCodec.encode(IN.onchainConfig), want.onchainConfigCodec.encode(IN.onchainConfig));
  await same('OnchainConfigCodec.Decode', p.onchainConfigCodec.decode(IN.encodedOnchainConfig), want.onchainConfigCodec.decode(IN.encodedOnchainConfig));
  assert.ok(p.contractReader !== undefined && want.contractReader !== undefined, 'both have a contract reader');
  await same('GetLatestValue', p.contractReader.getLatestValue(IN.readIdentifier, 0, { ...IN.readParams }), want.contractReader.getLatestValue(IN.readIdentifier, 0, { ...IN.readParams }));
}
