/**
 * types.MedianProvider (chainlink-common v1.3.1, pluginprovider/ext/median) as one TypeScript shape
 * for both sides, and the services of a median provider connection: loop.Service,
 * OffchainConfigDigester, ContractConfigTracker, ContractTransmitter, ReportCodec, MedianContract,
 * OnchainConfigCodec and, when given, ContractReader. A median host serves it to the median LOOP; a
 * TypeScript relayer serves it for Relayer.NewPluginProvider(median). Codec is never served (the
 * median LOOP probes it and treats Unimplemented as "no codec").
 */
import type * as grpc from '@grpc/grpc-js';
import { Timestamp, type BuildReportRequest, type DecodeRequest, type EncodeRequest, type LatestRoundRequestedRequest, type LatestTransmissionDetailsReply, type MaxReportLengthRequest, type MedianFromReportRequest, loopProtos } from '../../gen';
import { LoopError } from '../../core/errors';
import { bigFromPb, bigToPb } from './big';
import { type ContractReader, serveContractReader } from './contract-reader';
import { type ContractConfigTracker, type ContractTransmitter, type OffchainConfigDigester, type ProviderService, type ServeOptions, serveContractConfigTracker, serveContractTransmitter, serveOffchainConfigDigester, serveProviderService } from './ocr2-provider';
import { unaryPaths } from './grpc-proxy';
import { handleUnary as unary, LoopServiceDefinition, type MaybePromise } from './rpc';
import type { GrpcServer } from '../../index';

// Loaded with loopp/loop, not with loopp (see src/gen.ts).
const { MedianContractService, OnchainConfigCodecService, ReportCodecService } = loopProtos.median();
const latestTransmissionDetailsReplyCodec = loopProtos.median().LatestTransmissionDetailsReply;

/** libocr median.ParsedAttributedObservation. */
export interface ParsedAttributedObservation {
  timestamp: number;
  value: bigint;
  juelsPerFeeCoin: bigint;
  gasPriceSubunits: bigint;
  observer: number;
}

/** libocr median.ReportCodec. */
export interface ReportCodec {
  buildReport(observations: ParsedAttributedObservation[]): MaybePromise<Buffer>;
  medianFromReport(report: Buffer): MaybePromise<bigint>;
  maxReportLength(n: number): MaybePromise<number>;
}

/** A protobuf Timestamp with full nanosecond precision (a JS Date would lose it). */
export interface PreciseTime {
  seconds: number;
  nanos: number;
}

/** libocr median.MedianContract. */
export interface MedianContract {
  latestTransmissionDetails(): MaybePromise<{ configDigest: Buffer; epoch: number; round: number; latestAnswer: bigint; latestTimestamp: PreciseTime }>;
  /** lookback is a Go time.Duration: nanoseconds. */
  latestRoundRequested(lookbackNs: number): MaybePromise<{ configDigest: Buffer; epoch: number; round: number }>;
}

/** libocr median.OnchainConfig / OnchainConfigCodec. */
export interface OnchainConfig {
  min: bigint;
  max: bigint;
}
export interface OnchainConfigCodec {
  encode(config: OnchainConfig): MaybePromise<Buffer>;
  decode(encoded: Buffer): MaybePromise<OnchainConfig>;
}

/** types.MedianProvider. name defaults to `MedianProvider`. */
export interface MedianProvider extends ProviderService {
  offchainConfigDigester: OffchainConfigDigester;
  contractConfigTracker: ContractConfigTracker;
  contractTransmitter: ContractTransmitter;
  reportCodec: ReportCodec;
  medianContract: MedianContract;
  onchainConfigCodec: OnchainConfigCodec;
  /** Left unregistered when absent (the median LOOP then sees no contract reader). */
  contractReader?: ContractReader;
}

/** The bytes of the last length-delimited field `field` of a message (undefined if absent). */
function lengthDelimitedField(buf: Buffer, field: number): Buffer | undefined {
  let pos = 0;
  let found: Buffer | undefined;
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const b = buf[pos++];
      if (b === undefined) throw new LoopError('ERR_LOOPP_LOOP_CODEC', 'truncated message', { input: buf.toString('hex') });
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
  };
  while (pos < buf.length) {
    const tag = varint();
    const wire = tag & 7;
    if (wire === 0) varint();
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const len = varint();
      if (Math.floor(tag / 8) === field) found = buf.subarray(pos, pos + len);
      pos += len;
    } else throw new LoopError('ERR_LOOPP_LOOP_CODEC', `unsupported wire type ${wire}`, { input: buf.toString('hex') });
  }
  return found;
}

/**
 * MedianContract with LatestTransmissionDetails' nanosecond-precise timestamp: the generated code
 * maps google.protobuf.Timestamp to Date (milliseconds), so field 5 is written and read here by hand.
 */
export type LatestTransmissionDetailsWire = Omit<LatestTransmissionDetailsReply, 'latestTimestamp'> & { latestTimestamp: PreciseTime };
export const MedianContractDefinition = {
  ...MedianContractService,
  latestTransmissionDetails: {
    ...MedianContractService.latestTransmissionDetails,
    responseSerialize: (v: LatestTransmissionDetailsWire): Buffer => {
      const { latestTimestamp, ...rest } = v;
      const w = latestTransmissionDetailsReplyCodec.encode({ ...rest, latestTimestamp: undefined });
      Timestamp.encode(latestTimestamp, w.uint32(42).fork()).join();
      return Buffer.from(w.finish());
    },
    responseDeserialize: (b: Buffer): LatestTransmissionDetailsWire => {
      const ts = lengthDelimitedField(b, 5);
      const t = ts === undefined ? { seconds: 0, nanos: 0 } : Timestamp.decode(ts);
      return { ...latestTransmissionDetailsReplyCodec.decode(b), latestTimestamp: { seconds: t.seconds, nanos: t.nanos } };
    },
  },
};

function serveReportCodec(server: GrpcServer, rc: ReportCodec): void {
  server.addService(ReportCodecService, {
    buildReport: unary(async (r: BuildReportRequest) => ({
      report: await rc.buildReport(
        r.observations.map((o) => ({
          timestamp: o.timestamp,
          value: bigFromPb(o.value),
          juelsPerFeeCoin: bigFromPb(o.julesPerFeeCoin),
          gasPriceSubunits: bigFromPb(o.gasPriceSubunits),
          observer: o.observer,
        })),
      ),
    })),
    medianFromReport: unary(async (r: MedianFromReportRequest) => ({ median: bigToPb(await rc.medianFromReport(r.report)) })),
    maxReportLength: unary(async (r: MaxReportLengthRequest) => ({ max: await rc.maxReportLength(r.n) })),
  });
}

function serveMedianContract(server: GrpcServer, mc: MedianContract): void {
  server.addService(MedianContractDefinition as unknown as grpc.ServiceDefinition, {
    latestTransmissionDetails: unary(async (): Promise<LatestTransmissionDetailsWire> => {
      const r = await mc.latestTransmissionDetails();
      return { configDigest: r.configDigest, epoch: r.epoch, round: r.round, latestAnswer: bigToPb(r.latestAnswer), latestTimestamp: r.latestTimestamp };
    }),
    latestRoundRequested: unary((r: LatestRoundRequestedRequest) => mc.latestRoundRequested(r.lookback)),
  });
}

function serveOnchainConfigCodec(server: GrpcServer, occ: OnchainConfigCodec): void {
  server.addService(OnchainConfigCodecService, {
    encode: unary(async (r: EncodeRequest) => ({
      encoded: await occ.encode({ min: bigFromPb(r.onchainConfig?.min), max: bigFromPb(r.onchainConfig?.max) }),
    })),
    decode: unary(async (r: DecodeRequest) => {
      const c = await occ.decode(r.encoded);
      return { onchainConfig: { min: bigToPb(c.min), max: bigToPb(c.max) } };
    }),
  });
}

/** Registers every service of a median provider connection for `p` on `server`. */
export function serveMedianProvider(server: GrpcServer, p: MedianProvider, o: ServeOptions = {}): void {
  if (o.withService !== false) serveProviderService(server, p, 'MedianProvider');
  serveOffchainConfigDigester(server, p.offchainConfigDigester);
  serveContractConfigTracker(server, p.contractConfigTracker);
  serveContractTransmitter(server, p.contractTransmitter);
  serveReportCodec(server, p.reportCodec);
  serveMedianContract(server, p.medianContract);
  serveOnchainConfigCodec(server, p.onchainConfigCodec);
  if (p.contractReader !== undefined) serveContractReader(server, p.contractReader);
}

/**
 * Every method path of a median provider connection, for a host that forwards one (grpc-proxy.ts):
 * the services above, plus chainlink-common's Codec, which loopp never serves itself but a relayer's
 * provider may: package `codec` since v1.x, `loop` in the v0.4 line chainlink-feeds is built with.
 */
export function medianProviderPaths(): string[] {
  const { ContractConfigTrackerService, ContractTransmitterService, OffchainConfigDigesterService } = loopProtos.relayer();
  const { ContractReaderService } = loopProtos.contractReader();
  return [
    ...unaryPaths(
      LoopServiceDefinition,
      OffchainConfigDigesterService,
      ContractConfigTrackerService,
      ContractTransmitterService,
      ReportCodecService,
      MedianContractService,
      OnchainConfigCodecService,
      ContractReaderService,
    ),
    ...['codec', 'loop'].flatMap((pkg) => ['GetEncoding', 'GetDecoding', 'GetMaxSize'].map((m) => `/${pkg}.Codec/${m}`)),
  ];
}
