/**
 * The plugin side of the objects a relayer creates (Relayer.NewConfigProvider, NewPluginProvider,
 * NewContractReader, NewContractWriter): the relayer's factory builds the object, and it is served
 * on a new broker id, with loop.Service next to it, as chainlink-common's relayer server does.
 * Service.Close closes the object and then stops its sub-server; closing the relayer stops those
 * still served.
 */
import type * as grpc from '@grpc/grpc-js';
import type { NewConfigProviderRequest, NewPluginProviderRequest } from '../../gen';
import type { BrokerServer, GrpcBroker } from '../../index';
import { type ContractReader, serveContractReader } from '../wire/contract-reader';
import { type ContractWriter, serveContractWriter } from '../wire/contract-writer';
import { type MedianProvider, serveMedianProvider } from '../wire/median-provider';
import { type ConfigProvider, type ContractTransmitter, type ProviderService, serveConfigProvider, serveContractTransmitter, serveProviderService } from '../wire/ocr2-provider';
import { type PluginArgs, type RelayArgs, relayArgsFromPb } from '../wire/relayer-api';
import { handleUnary, type MaybePromise } from '../wire/rpc';
import type { GrpcServer } from '../../index';

/** types.PluginProvider (the generic one); a median provider is one with the median parts too. */
export interface PluginProvider extends ConfigProvider {
  contractTransmitter: ContractTransmitter;
}

/** The factories of a RelayerServer; each optional (a missing one answers gRPC Unimplemented). */
export interface RelayerFactories {
  newConfigProvider?(request: { relayArgs: RelayArgs }, signal?: AbortSignal): MaybePromise<ConfigProvider>;
  /** relayArgs.providerType "median" must give a MedianProvider; other types are served as generic plugin providers. */
  newPluginProvider?(request: { relayArgs: RelayArgs; pluginArgs: PluginArgs }, signal?: AbortSignal): MaybePromise<PluginProvider | MedianProvider>;
  newContractReader?(config: Buffer, signal?: AbortSignal): MaybePromise<ContractReader & ProviderService>;
  newContractWriter?(config: Buffer, signal?: AbortSignal): MaybePromise<ContractWriter & ProviderService>;
}

function isMedian(p: PluginProvider | MedianProvider): p is MedianProvider {
  const m = p as Partial<MedianProvider>;
  return m.reportCodec !== undefined && m.medianContract !== undefined && m.onchainConfigCodec !== undefined;
}

/** The Relayer handlers of `f`'s factories, serving each object on a new id of `broker`. */
export function relayerFactoryHandlers(f: RelayerFactories, broker: GrpcBroker): { handlers: grpc.UntypedServiceImplementation; closeAll(): Promise<void> } {
  const served = new Set<BrokerServer>();
  /** Serves `obj` under a new id; its Service.Close closes it, then stops the sub-server. */
  async function serve<T extends ProviderService>(obj: T, defaultName: string, register: (s: GrpcServer, o: T) => void): Promise<number> {
    const id = broker.nextId();
    let sub: BrokerServer | undefined;
    const closing: ProviderService = {
      ...(obj.name === undefined ? {} : { name: obj.name }),
      ready: () => obj.ready?.(),
      ...(obj.healthReport === undefined ? {} : { healthReport: () => obj.healthReport!() }),
      close: async () => {
        await obj.close?.();
        const s = sub;
        // After the Close reply is on its way: stopping the server first would cut it off.
        if (s !== undefined) setImmediate(() => void s.close().finally(() => served.delete(s)));
      },
    };
    sub = await broker.acceptAndServe(id, (s) => {
      serveProviderService(s, closing, defaultName);
      register(s, obj);
    });
    served.add(sub);
    return id;
  }
  const handlers: grpc.UntypedServiceImplementation = {};
  const { newConfigProvider, newPluginProvider, newContractReader, newContractWriter } = f;
  if (newConfigProvider !== undefined) {
    handlers['newConfigProvider'] = handleUnary(async (r: NewConfigProviderRequest, signal) => {
      const p = await newConfigProvider.call(f, { relayArgs: relayArgsFromPb(r.relayArgs) }, signal);
      return { configProviderID: await serve(p, 'ConfigProvider', serveConfigProviderOnly) };
    });
  }
  if (newPluginProvider !== undefined) {
    handlers['newPluginProvider'] = handleUnary(async (r: NewPluginProviderRequest, signal) => {
      const relayArgs = relayArgsFromPb(r.relayArgs);
      const pluginArgs = { transmitterID: r.pluginArgs?.transmitterID ?? '', pluginConfig: Buffer.from(r.pluginArgs?.pluginConfig ?? Buffer.alloc(0)) };
      const p = await newPluginProvider.call(f, { relayArgs, pluginArgs }, signal);
      if (relayArgs.providerType === 'median') {
        if (!isMedian(p)) throw new Error('newPluginProvider: providerType "median" needs a MedianProvider (reportCodec, medianContract, onchainConfigCodec)');
        return { pluginProviderID: await serve(p, 'MedianProvider', serveMedianProviderOnly) };
      }
      return { pluginProviderID: await serve(p, 'PluginProvider', serveGenericProviderOnly) };
    });
  }
  if (newContractReader !== undefined) {
    handlers['newContractReader'] = handleUnary(async (r: { contractReaderConfig: Buffer }, signal) => {
      const cr = await newContractReader.call(f, Buffer.from(r.contractReaderConfig), signal);
      return { contractReaderID: await serve(cr, 'ContractReader', serveContractReader) };
    });
  }
  if (newContractWriter !== undefined) {
    handlers['newContractWriter'] = handleUnary(async (r: { contractWriterConfig: Buffer }, signal) => {
      const cw = await newContractWriter.call(f, Buffer.from(r.contractWriterConfig), signal);
      return { contractWriterID: await serve(cw, 'ContractWriter', serveContractWriter) };
    });
  }
  return {
    handlers,
    closeAll: async () => {
      await Promise.all([...served].map((s) => s.close()));
      served.clear();
    },
  };
}

// The provider parts without loop.Service (serve() registers the closing one).
function serveConfigProviderOnly(s: GrpcServer, p: ConfigProvider): void {
  serveConfigProvider(s, p, { withService: false });
}
function serveGenericProviderOnly(s: GrpcServer, p: PluginProvider | MedianProvider): void {
  serveConfigProvider(s, p, { withService: false });
  serveContractTransmitter(s, p.contractTransmitter);
}
function serveMedianProviderOnly(s: GrpcServer, p: MedianProvider): void {
  serveMedianProvider(s, p, { withService: false });
}
