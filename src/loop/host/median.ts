/**
 * The median LOOP's host side (chainlink-common's PluginMedian client, v2.4-style wiring where the
 * host itself provides the MedianProvider): serve the data sources, the median provider connection
 * and the error log on broker ids, call PluginMedian.NewMedianFactory, then drive the
 * ReportingPluginFactory and ReportingPlugin the plugin serves on the ids it returns. Wire names and
 * field numbers are those of chainlink-common v1.3.1 (proto/loop/).
 *
 * The median provider connection carries, on one broker id: Service, OffchainConfigDigester,
 * ContractConfigTracker, ContractTransmitter, ReportCodec, MedianContract, OnchainConfigCodec and,
 * when given, ContractReader. The plugin probes ContractReader and Codec and treats Unimplemented as
 * "absent"; Codec is never served here.
 */
import * as grpc from '@grpc/grpc-js';
import { type AttributedOnchainSignature, type NewMedianFactoryReply, type NewMedianFactoryRequest, type SaveErrorRequest, type ObserveRequest, type ContractConfig, type ReportContext, type ReportTimestamp, type AttributedObservation, type NewReportingPluginReply, type ReportingPluginConfig, type ReportingPluginInfo, loopProtos } from '../../gen';
import { LoopError, messageOf } from '../../core/errors';
import { grpcPlugin, type GrpcBroker, type GrpcPlugin, type PluginClientContext } from '../../index';
import { callUnary as call, emptyMethod, handleUnary as unary, loopCall, loopServiceClient, type MaybePromise, remoteHealthReport, servedDependencies } from '../wire/rpc';
import type { Logger } from '../../core/logger';
import { bigToPb } from '../wire/big';
import { addUnaryProxy } from '../wire/grpc-proxy';
import { medianProviderPaths, type MedianProvider, serveMedianProvider } from '../wire/median-provider';
import { queryDeadlineNs } from './query-deadline';
import type { LoopHostedService } from './service';
import type { GrpcServer } from '../../index';

// Loaded with loopp/loop, not with loopp (see src/gen.ts).
const { ErrorLogService, PluginMedianClient } = loopProtos.median();
const { DataSourceService } = loopProtos.medianDatasource();
const { ReportingPluginFactoryClient, ReportingPluginService } = loopProtos.reporting();

export type { AttributedObservation, AttributedOnchainSignature, ContractConfig, ReportContext, ReportingPluginConfig, ReportingPluginInfo, ReportTimestamp };
// The provider's shapes live in ../wire (a TypeScript relayer serves them too); re-exported for median hosts.
export type { ContractConfigTracker, ContractTransmitter, OffchainConfigDigester } from '../wire/ocr2-provider';
export type { MedianContract, MedianProvider, OnchainConfig, OnchainConfigCodec, ParsedAttributedObservation, PreciseTime, ReportCodec } from '../wire/median-provider';
export type { ContractReader } from '../wire/contract-reader';
export { bigFromPb, bigToPb } from '../wire/big';

/** median.DataSource: the value observed for a report timestamp. */
export interface DataSource {
  observe(ts: ReportTimestamp): MaybePromise<bigint>;
}

/** core.ErrorLog. */
export interface ErrorLog {
  saveError(message: string): MaybePromise<void>;
}

export interface NewMedianFactoryOptions {
  /**
   * The median provider: an object the host serves, or a provider that is already a connection to
   * another LOOP (`relayer.newPluginProvider(...)`, anything with a `channel`), which the host hands
   * on as a transparent proxy without decoding its calls, as chainlink-common's host does.
   */
  provider: MedianProvider | ProxiedProvider;
  contractID: string;
  dataSource: DataSource;
  juelsPerFeeCoinDataSource: DataSource;
  gasPriceSubunitsDataSource: DataSource;
  errorLog: ErrorLog;
  /** Sent as JSON; omitted when undefined. */
  deviationFuncDefinition?: Record<string, unknown>;
  /**
   * The node's CL_MIN_OCR2_MAX_DURATION_QUERY (nanoseconds), applied to Solana jobs: each reporting
   * plugin's MaxDurationQuery is raised to it (see query-deadline.ts). Unset: not applied.
   */
  minMaxDurationQueryNs?: number;
  /** Receives the warning when MaxDurationQuery is raised. */
  logger?: Logger;
  signal?: AbortSignal;
}

/** A provider served by another LOOP: the host forwards the median plugin's calls to `channel`. */
export interface ProxiedProvider {
  readonly channel: grpc.ChannelInterface;
}

/**
 * libocr ReportingPlugin as the host sees it. A failed call rejects with a LoopError
 * (ERR_LOOPP_LOOP_CALL) whose message is `ReportingPlugin.<Method>: <the plugin's error text>`.
 */
export interface ReportingPluginHandle {
  readonly id: number;
  readonly info: ReportingPluginInfo;
  query(ts: ReportTimestamp): Promise<Buffer>;
  observation(ts: ReportTimestamp, query: Buffer): Promise<Buffer>;
  report(ts: ReportTimestamp, query: Buffer, observations: AttributedObservation[]): Promise<{ shouldReport: boolean; report: Buffer }>;
  shouldAcceptFinalizedReport(ts: ReportTimestamp, report: Buffer): Promise<boolean>;
  shouldTransmitAcceptedReport(ts: ReportTimestamp, report: Buffer): Promise<boolean>;
  close(): Promise<void>;
}

/** The ReportingPluginFactory (plus its Service) the median LOOP returns. */
export interface MedianFactoryHandle extends LoopHostedService {
  readonly id: number;
  /**
   * The broker ids of the host dependencies served to this factory (data sources, provider, error
   * log) that are still open: five while the factory lives, none once close() has returned.
   */
  servedIds(): number[];
  newReportingPlugin(config: ReportingPluginConfig, signal?: AbortSignal): Promise<ReportingPluginHandle>;
  // No name(): chainlink-common's goplugin.ServiceServer (v1.3.1) leaves loop.Service/Name Unimplemented.
  ready(): Promise<void>;
  healthReport(): Promise<Record<string, Error | null>>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// helpers

/** loop.ReportingPlugin with its Close method (left out of the generated definition; see rpc.ts). */
const ReportingPluginDefinition = { ...ReportingPluginService, closePlugin: emptyMethod('/loop.ReportingPlugin/Close') } as const;
const ReportingPluginClient = grpc.makeGenericClientConstructor(ReportingPluginDefinition as unknown as grpc.ServiceDefinition, 'loop.ReportingPlugin');

function serveDataSource(server: GrpcServer, ds: DataSource): void {
  server.addService(DataSourceService, {
    observe: unary(async (r: ObserveRequest) => ({ value: bigToPb(await ds.observe(r.reportTimestamp ?? { configDigest: Buffer.alloc(0), epoch: 0, round: 0 })) })),
  });
}

function serveErrorLog(server: GrpcServer, log: ErrorLog): void {
  server.addService(ErrorLogService, {
    saveError: unary(async (r: SaveErrorRequest) => {
      await log.saveError(r.message);
      return {};
    }),
  });
}

/** The host's handle on a ReportingPlugin the plugin serves on channel `ch`; `onClose` runs once, at close. */
function reportingPluginHandle(r: NewReportingPluginReply, ch: grpc.ChannelInterface, queryMs: number, onClose: () => void): ReportingPluginHandle {
  const rp = new ReportingPluginClient('unused', grpc.credentials.createInsecure(), { channelOverride: ch });
  const rpCall = <Res>(method: string, req: unknown, options?: grpc.CallOptions) =>
    loopCall<Res>(rp, `ReportingPlugin.${method.charAt(0).toUpperCase()}${method.slice(1)}`, req, undefined, options);
  let closed = false;
  return {
    id: r.reportingPluginID,
    info: r.reportingPluginInfo ?? { name: '', uniqueReports: false },
    // libocr bounds Query by MaxDurationQuery; over gRPC that deadline reaches the plugin's context.
    query: async (reportTimestamp) => (await rpCall<{ query: Buffer }>('query', { reportTimestamp }, { deadline: Date.now() + queryMs })).query,
    observation: async (reportTimestamp, query) => (await rpCall<{ observation: Buffer }>('observation', { reportTimestamp, query })).observation,
    report: (reportTimestamp, query, observations) => rpCall<{ shouldReport: boolean; report: Buffer }>('report', { reportTimestamp, query, observations }),
    shouldAcceptFinalizedReport: async (reportTimestamp, report) =>
      (await rpCall<{ shouldAccept: boolean }>('shouldAcceptFinalizedReport', { reportTimestamp, report })).shouldAccept,
    shouldTransmitAcceptedReport: async (reportTimestamp, report) =>
      (await rpCall<{ shouldTransmit: boolean }>('shouldTransmitAcceptedReport', { reportTimestamp, report })).shouldTransmit,
    close: async () => {
      if (closed) return;
      closed = true;
      onClose();
      try {
        await call(rp, 'closePlugin', {});
      } finally {
        ch.close();
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------

/** Host-side client of a median LOOP's root service (loop.PluginMedian). */
export class PluginMedianHost {
  #client: grpc.Client;
  #broker: GrpcBroker;

  constructor(ctx: PluginClientContext) {
    this.#client = ctx.createClient(PluginMedianClient.service);
    this.#broker = ctx.broker;
  }

  /** Serves the host dependencies, calls NewMedianFactory, and connects to the factory it returns. */
  async newMedianFactory(o: NewMedianFactoryOptions): Promise<MedianFactoryHandle> {
    const deps = servedDependencies(this.#broker);
    let reply: NewMedianFactoryReply;
    try {
      const dataSourceID = await deps.serve((s) => serveDataSource(s, o.dataSource));
      const juelsPerFeeCoinDataSourceID = await deps.serve((s) => serveDataSource(s, o.juelsPerFeeCoinDataSource));
      const gasPriceSubunitsDataSourceID = await deps.serve((s) => serveDataSource(s, o.gasPriceSubunitsDataSource));
      const provider = o.provider;
      const medianProviderID = await deps.serve((s) => ('channel' in provider ? addUnaryProxy(s, provider.channel, medianProviderPaths()) : serveMedianProvider(s, provider)));
      const errorLogID = await deps.serve((s) => serveErrorLog(s, o.errorLog));
      const req: NewMedianFactoryRequest = {
        medianProviderID,
        contractID: o.contractID,
        dataSourceID,
        juelsPerFeeCoinDataSourceID,
        errorLogID,
        gasPriceSubunitsDataSourceID,
        ...(o.deviationFuncDefinition !== undefined ? { deviationFuncDefinition: Buffer.from(JSON.stringify(o.deviationFuncDefinition)) } : {}),
      };
      reply = await loopCall<NewMedianFactoryReply>(this.#client, 'PluginMedian.NewMedianFactory', req, o.signal);
    } catch (err) {
      await deps.release();
      throw err;
    }
    const broker = this.#broker;
    let channel: grpc.ChannelInterface;
    try {
      channel = await broker.dial(reply.reportingPluginFactoryID, { signal: o.signal });
    } catch (err) {
      // The served dependencies only live as long as the factory; without it nobody would release them.
      await deps.release();
      throw err;
    }
    const opts = { channelOverride: channel };
    const factory = new ReportingPluginFactoryClient('unused', grpc.credentials.createInsecure(), opts);
    const service = loopServiceClient(channel);
    const plugins = new Set<ReportingPluginHandle>();
    const empty = {};
    return {
      id: reply.reportingPluginFactoryID,
      servedIds: () => deps.ids(),
      newReportingPlugin: async (config, signal) => {
        // Refused here, before the plugin sees it: a zero deadline would fail every Query.
        const queryMs = queryDeadlineNs(config.maxDurationQuery, o.minMaxDurationQueryNs, o.logger) / 1e6;
        const r = await loopCall<NewReportingPluginReply>(factory, 'ReportingPluginFactory.NewReportingPlugin', { reportingPluginConfig: config }, signal);
        const ch = await broker.dial(r.reportingPluginID, { signal });
        const handle = reportingPluginHandle(r, ch, queryMs, () => plugins.delete(handle));
        plugins.add(handle);
        return handle;
      },
      ready: async () => {
        await call(service, 'ready', empty);
      },
      healthReport: () => remoteHealthReport(service),
      close: async () => {
        await Promise.all([...plugins].map((p) => p.close().catch(() => {})));
        await call(service, 'closeService', empty).catch(() => {});
        channel.close();
        await deps.release();
      },
    };
  }
}

/** The host-side plugin definition of a median LOOP (dispense name `median`). */
export function medianLoopPlugin(): GrpcPlugin<PluginMedianHost> {
  return grpcPlugin({ client: (ctx) => new PluginMedianHost(ctx) });
}
