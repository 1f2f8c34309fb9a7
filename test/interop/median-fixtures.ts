/**
 * The static values chainlink-common v1.3.1's test driver (`-cmd=median`) checks and returns,
 * restated as data (facts only) from:
 *   pkg/loop/internal/relayer/pluginprovider/ext/median/test/{test,median,datasource}.go  (factory)
 *   pkg/loop/internal/relayer/pluginprovider/ocr2/test/test.go    (digester/tracker/transmitter)
 *   pkg/loop/internal/relayer/pluginprovider/contractreader/test/contract_reader.go
 *   pkg/loop/internal/reportingplugin/test/test.go                (the static ReportingPlugin)
 * Each host object below behaves like the driver's static Go implementation: it checks what it is
 * asked and answers the fixture, so the driver's Evaluate calls succeed.
 */
import assert from 'node:assert/strict';
import type {
  AttributedObservation,
  ContractConfig,
  ContractReader,
  DataSource,
  ErrorLog,
  MedianProvider,
  OnchainConfig,
  ParsedAttributedObservation,
  ReportContext,
  ReportingPluginConfig,
  ReportingPluginInfo,
  ReportTimestamp,
} from '../../src/loop/host/median';
import type { CborValue } from '../../src/loop/wire/versioned-bytes';

/** A zero-filled buffer of `len` bytes with the given index: value entries (Go's `[]byte{i: v}`). */
export function bytesAt(len: number, set: Record<number, number> = {}): Buffer {
  const b = Buffer.alloc(len);
  for (const [i, v] of Object.entries(set)) b[Number(i)] = v;
  return b;
}
/** Go `[]byte{i: v, ...}`: the length is the highest index + 1. */
const goBytes = (set: Record<number, number>) => bytesAt(Math.max(...Object.keys(set).map(Number)) + 1, set);
const digest = (set: Record<number, number>) => bytesAt(32, set);

const sameTs = (a: ReportTimestamp, b: ReportTimestamp) => Buffer.from(a.configDigest).equals(b.configDigest) && a.epoch === b.epoch && a.round === b.round;
const fmtTs = (t: ReportTimestamp) => `{${Buffer.from(t.configDigest).toString('hex')} ${t.epoch} ${t.round}}`;

// ---- median/test/test.go ---------------------------------------------------------------------
export const MEDIAN_CONTRACT_ID = '0x42';
const LOOKBACK_NS = (60 + 4) * 1e9; // time.Minute + 4*time.Second
const MAX_REPORT_LENGTH = 101;
const N = 12;
const encodedOnchainConfig = goBytes({ 5: 11 });
const onchainConfig: OnchainConfig = { min: -12n, max: 1234567890987654321n };
const medianValue = -1042n;
const pobs: ParsedAttributedObservation[] = [{ timestamp: 123, value: 31n, juelsPerFeeCoin: 54n, gasPriceSubunits: 77n, observer: 99 }];
const medianReport = goBytes({ 42: 101 });
/** The ReportTimestamp the driver observes the three data sources with. */
export const DATA_SOURCE_TIMESTAMP: ReportTimestamp = { configDigest: digest({ 1: 7, 31: 3 }), epoch: 79, round: 17 };
export const DATA_SOURCE_VALUE = 999n;
export const JUELS_PER_FEE_COIN = 1234n;
export const GAS_PRICE_SUBUNITS = 777n;

/** The config the driver's static factory expects in NewReportingPlugin. */
export const REPORTING_PLUGIN_CONFIG: ReportingPluginConfig = {
  configDigest: Buffer.alloc(32),
  oracleID: 10,
  n: 12,
  f: 42,
  onchainConfig: goBytes({ 17: 11 }),
  offchainConfig: goBytes({ 32: 64 }),
  estimatedRoundInterval: 1e9,
  maxDurationQuery: 3600e9,
  maxDurationObservation: 1e6,
  maxDurationReport: 1e3,
  maxDurationShouldAcceptFinalizedReport: 10e9,
  maxDurationShouldTransmitAcceptedReport: 60e9,
};
/** The ReportingPluginInfo it answers with. */
export const REPORTING_PLUGIN_INFO: ReportingPluginInfo = {
  name: 'test',
  uniqueReports: true,
  reportingPluginLimits: { maxQueryLength: 42, maxObservationLength: 13, maxReportLength: 17 },
};

// ---- ocr2/test/test.go -----------------------------------------------------------------------
const ocr2Digest = digest({ 1: 7, 13: 11, 31: 23 });
const ocr2Epoch = 88;
const ocr2Round = 74;
const contractConfig: ContractConfig = {
  configDigest: ocr2Digest,
  configCount: 42,
  signers: [goBytes({ 15: 1 })],
  transmitters: ['foo', 'bar'],
  F: 11,
  onchainConfig: goBytes({ 2: 11, 14: 22, 31: 1 }),
  offchainConfigVersion: 2,
  offchainConfig: goBytes({ 1: 99, 12: 55 }),
};
const transmitReportContext: ReportContext = {
  reportTimestamp: { configDigest: ocr2Digest, epoch: ocr2Epoch, round: ocr2Round },
  extraHash: digest({ 1: 3, 3: 5, 7: 11 }),
};
const transmitReport = goBytes({ 41: 131 });
const sigs = [{ signature: goBytes({ 9: 8, 7: 6 }), signer: 54 }];

// ---- contractreader/test/contract_reader.go --------------------------------------------------
const READ_IDENTIFIER = '0x24-anyContract-anyMethod'; // BoundContract{Address, Name}.ReadIdentifier(method)
const readParams = { param1: 'value1', param2: 'value2' };
const latestValue = { ret1: 'latestValue1', ret2: 'latestValue2' };

// ---- reportingplugin/test/test.go ------------------------------------------------------------
/** The ReportTimestamp the static ReportingPlugin expects in every call. */
export const PLUGIN_TIMESTAMP: ReportTimestamp = { configDigest: digest({ 2: 10, 12: 16 }), epoch: 88, round: 74 };
export const QUERY = goBytes({ 42: 42 });
export const OBSERVATION = goBytes({ 21: 19 });
export const ATTRIBUTED_OBSERVATIONS: AttributedObservation[] = [{ observation: goBytes({ 21: 19 }), observer: 99 }];
export const REPORT = goBytes({ 42: 101 });

// ---- host objects ----------------------------------------------------------------------------
export function staticDataSource(value: bigint): DataSource {
  return {
    observe: (ts) => {
      if (!sameTs(ts, DATA_SOURCE_TIMESTAMP)) throw new Error(`expected ${fmtTs(DATA_SOURCE_TIMESTAMP)} but got ${fmtTs(ts)}`);
      return value;
    },
  };
}

export function recordingErrorLog(): ErrorLog & { messages: string[] } {
  const messages: string[] = [];
  return { messages, saveError: (m) => void messages.push(m) };
}

const staticContractReader: ContractReader = {
  getLatestValue: (readIdentifier, _confidence, params: CborValue) => {
    if (readIdentifier !== READ_IDENTIFIER) throw new Error(`expected read identifier ${READ_IDENTIFIER} but got ${JSON.stringify(readIdentifier)}`);
    assert.deepEqual(params, readParams, 'GetLatestValue params');
    return { ...latestValue };
  },
};

export function staticMedianProvider(): MedianProvider {
  const eqBuf = (what: string, want: Buffer, got: Buffer) => {
    if (!Buffer.from(got).equals(want)) throw new Error(`expected ${what} ${want.toString('hex')} but got ${Buffer.from(got).toString('hex')}`);
  };
  return {
    name: 'staticMedianProvider',
    offchainConfigDigester: {
      configDigest: (c) => {
        assert.deepEqual({ ...c }, contractConfig, 'ConfigDigest contract config');
        return ocr2Digest;
      },
      configDigestPrefix: () => 99,
    },
    contractConfigTracker: {
      latestConfigDetails: () => ({ changedInBlock: 14, configDigest: ocr2Digest }),
      latestConfig: (cib) => {
        if (cib !== 14) throw new Error(`expected changed in block 14 but got ${cib}`);
        return contractConfig;
      },
      latestBlockHeight: () => 1337,
    },
    contractTransmitter: {
      transmit: (rc, report, ss) => {
        assert.deepEqual(rc, transmitReportContext, 'Transmit report context');
        eqBuf('report', transmitReport, report);
        assert.deepEqual(ss, sigs, 'Transmit signatures');
      },
      latestConfigDigestAndEpoch: () => ({ configDigest: ocr2Digest, epoch: ocr2Epoch }),
      fromAccount: () => 'some-account',
    },
    reportCodec: {
      buildReport: (os) => {
        assert.deepEqual(os, pobs, 'BuildReport observations');
        return medianReport;
      },
      medianFromReport: (r) => {
        eqBuf('report', medianReport, r);
        return medianValue;
      },
      maxReportLength: (n) => {
        if (n !== N) throw new Error(`expected n ${N} but got ${n}`);
        return MAX_REPORT_LENGTH;
      },
    },
    medianContract: {
      latestTransmissionDetails: () => ({
        configDigest: digest({ 1: 1, 11: 8 }),
        epoch: 7,
        round: 11,
        latestAnswer: 123n,
        latestTimestamp: { seconds: 1234567890, nanos: 987654321 },
      }),
      latestRoundRequested: (lookback) => {
        if (lookback !== LOOKBACK_NS) throw new Error(`expected lookback ${LOOKBACK_NS} but got ${lookback}`);
        return { configDigest: digest({ 1: 1, 11: 8 }), epoch: 7, round: 11 };
      },
    },
    onchainConfigCodec: {
      encode: (c) => {
        if (c.min !== onchainConfig.min || c.max !== onchainConfig.max) throw new Error(`expected ${onchainConfig.min}/${onchainConfig.max} but got ${c.min}/${c.max}`);
        return encodedOnchainConfig;
      },
      decode: (b) => {
        eqBuf('encoded', encodedOnchainConfig, b);
        return onchainConfig;
      },
    },
    contractReader: staticContractReader,
  };
}

/** The arguments the driver's static provider objects expect (to call a provider served by the driver). */
export const MEDIAN_PROVIDER_INPUTS = {
  contractConfig,
  changedInBlock: 14,
  transmitReportContext,
  transmitReport,
  signatures: sigs,
  observations: pobs,
  medianReport,
  n: N,
  lookbackNs: LOOKBACK_NS,
  onchainConfig,
  encodedOnchainConfig,
  readIdentifier: READ_IDENTIFIER,
  readParams,
} as const;
