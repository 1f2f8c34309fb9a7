/**
 * The OCR2 parts every plugin provider connection carries (chainlink-common v1.3.1,
 * pluginprovider/ocr2): loop.Service, OffchainConfigDigester, ContractConfigTracker and, for plugin
 * providers, ContractTransmitter. The interfaces are libocr's, one shape for both sides: a host's
 * provider handle implements them client-side, a TypeScript relayer implements them and serves them.
 */
import type * as grpc from '@grpc/grpc-js';
import { type AttributedOnchainSignature, type ConfigDigestRequest, type ContractConfig, type LatestConfigRequest, type ReportContext, type TransmitRequest, loopProtos } from '../../gen';
import { LoopError } from '../../core/errors';
import { handleUnary as unary, healthToWire, LoopServiceDefinition, type MaybePromise } from './rpc';
import type { GrpcServer } from '../../index';

// Loaded with loopp/loop, not with loopp (see src/gen.ts).
const { ContractConfigTrackerService, ContractTransmitterService, OffchainConfigDigesterService } = loopProtos.relayer();

export type { AttributedOnchainSignature, ContractConfig, ReportContext };

/** libocr OffchainConfigDigester. */
export interface OffchainConfigDigester {
  configDigest(config: ContractConfig): MaybePromise<Buffer>;
  configDigestPrefix(): MaybePromise<number>;
}

/** libocr ContractConfigTracker (Notify is not part of the wire contract). */
export interface ContractConfigTracker {
  latestConfigDetails(): MaybePromise<{ changedInBlock: number; configDigest: Buffer }>;
  latestConfig(changedInBlock: number): MaybePromise<ContractConfig>;
  latestBlockHeight(): MaybePromise<number>;
}

/** libocr ContractTransmitter. */
export interface ContractTransmitter {
  transmit(reportContext: ReportContext, report: Buffer, signatures: AttributedOnchainSignature[]): MaybePromise<void>;
  latestConfigDigestAndEpoch(): MaybePromise<{ configDigest: Buffer; epoch: number }>;
  fromAccount(): MaybePromise<string>;
}

/** What a provider's loop.Service answers: its name, and optionally readiness, health and close. */
export interface ProviderService {
  /** Service name (Name / HealthReport key). */
  name?: string;
  ready?(): MaybePromise<void>;
  healthReport?(): MaybePromise<Record<string, Error | null>>;
  close?(): MaybePromise<void>;
}

/** types.ConfigProvider. */
export interface ConfigProvider extends ProviderService {
  offchainConfigDigester: OffchainConfigDigester;
  contractConfigTracker: ContractConfigTracker;
}

/** loop.Service for a provider: healthy under its name unless it reports otherwise. */
export function serveProviderService(server: GrpcServer, p: ProviderService, defaultName: string): void {
  const name = p.name ?? defaultName;
  server.addService(LoopServiceDefinition as unknown as grpc.ServiceDefinition, {
    name: unary(() => ({ name })),
    ready: unary(async () => {
      await p.ready?.();
      return {};
    }),
    healthReport: unary(async () => {
      const report = p.healthReport === undefined ? { [name]: null } : await p.healthReport();
      return { healthReport: healthToWire(report) };
    }),
    closeService: unary(async () => {
      await p.close?.();
      return {};
    }),
  });
}

export function serveOffchainConfigDigester(server: GrpcServer, d: OffchainConfigDigester): void {
  server.addService(OffchainConfigDigesterService, {
    configDigest: unary(async (r: ConfigDigestRequest) => {
      if (r.contractConfig === undefined) throw new LoopError('ERR_LOOPP_LOOP_CODEC', 'missing contractConfig', { input: r });
      return { configDigest: await d.configDigest(r.contractConfig) };
    }),
    configDigestPrefix: unary(async () => ({ configDigestPrefix: await d.configDigestPrefix() })),
  });
}

export function serveContractConfigTracker(server: GrpcServer, t: ContractConfigTracker): void {
  server.addService(ContractConfigTrackerService, {
    latestConfigDetails: unary(() => t.latestConfigDetails()),
    latestConfig: unary(async (r: LatestConfigRequest) => ({ contractConfig: await t.latestConfig(r.changedInBlock) })),
    latestBlockHeight: unary(async () => ({ blockHeight: await t.latestBlockHeight() })),
  });
}

export function serveContractTransmitter(server: GrpcServer, x: ContractTransmitter): void {
  server.addService(ContractTransmitterService, {
    transmit: unary(async (r: TransmitRequest) => {
      await x.transmit(r.reportContext ?? { extraHash: Buffer.alloc(0) }, r.report, r.attributedOnchainSignatures);
      return {};
    }),
    latestConfigDigestAndEpoch: unary(() => x.latestConfigDigestAndEpoch()),
    fromAccount: unary(async () => ({ Account: await x.fromAccount() })),
  });
}

/** Whether to register loop.Service too (off when the caller registers its own, e.g. one that also stops the sub-server). */
export interface ServeOptions {
  withService?: boolean;
}

/** The services of a config provider connection (ocr2.RegisterConfigProviderServices). */
export function serveConfigProvider(server: GrpcServer, p: ConfigProvider, o: ServeOptions = {}): void {
  if (o.withService !== false) serveProviderService(server, p, 'ConfigProvider');
  serveOffchainConfigDigester(server, p.offchainConfigDigester);
  serveContractConfigTracker(server, p.contractConfigTracker);
}
