/**
 * The relayer LOOP's plugin side (chainlink-common's PluginRelayer server): NewRelayer dials the
 * host's two keystores, hands the request to the plugin's `newRelayer`, and serves the relayer it
 * returns (Relayer and loop.Service) on a new broker id, as chainlink's relayer binaries do. The
 * plugin's own service answers loop.Service beside PluginRelayer.
 */
import * as grpc from '@grpc/grpc-js';
import { type ListNodeStatusesRequest, type NewRelayerRequest, type ReplayRequest, type TransactionRequest, loopProtos } from '../../gen';
import { bigFromPb } from '../wire/big';
import type { RelayerCalls } from '../wire/relayer-api';
import { headToPb } from '../wire/contract-reader';
import type { GrpcBroker, PluginServerContext } from '../../index';
import type { Keystore } from '../wire/keystore';
import { addLoopService, callUnary, handleUnary, type LoopServiceObject, withUnimplemented } from '../wire/rpc';
import { type RelayerFactories, relayerFactoryHandlers } from './relayer-objects-server';
import type { GrpcServer } from '../../index';

// Loaded with loopp/loop, not with loopp (see src/gen.ts).
const { KeystoreClient } = loopProtos.keystore();
const { PluginRelayerService, RelayerService } = loopProtos.relayer();

/**
 * A relayer as a TypeScript LOOP implements it: chainlink-common's types.Relayer, every method
 * optional (one left out answers gRPC Unimplemented, as an older Go relayer does).
 */
export interface RelayerServer extends LoopServiceObject, Partial<RelayerCalls>, RelayerFactories {}

export interface RelayerServerOptions {
  /** The plugin's own service (name, readiness, health), answered beside PluginRelayer. */
  service: LoopServiceObject;
  /** Builds a relayer for a NewRelayer call; a thrown error is the call's error text. */
  newRelayer(request: { config: string; keystore: Keystore; csaKeystore: Keystore }): Promise<RelayerServer>;
}

/** The host's keystore served on broker id `id`, dialled afresh for each use. */
function dialKeystore(broker: GrpcBroker, id: number): Keystore {
  const withClient = async <T>(use: (ks: grpc.Client) => Promise<T>): Promise<T> => {
    const channel = await broker.dial(id);
    try {
      return await use(new KeystoreClient('unused', grpc.credentials.createInsecure(), { channelOverride: channel }));
    } finally {
      channel.close();
    }
  };
  return {
    accounts: () => withClient(async (ks) => (await callUnary<{ accounts: string[] }>(ks, 'accounts', {})).accounts),
    sign: (account, data) => withClient(async (ks) => Buffer.from((await callUnary<{ signedData: Uint8Array }>(ks, 'sign', { account, data })).signedData)),
    decrypt: (account, data) =>
      withClient(async (ks) => Buffer.from((await callUnary<{ decryptedData: Uint8Array }>(ks, 'decrypt', { account, data })).decryptedData)),
  };
}

/** Only the methods `impl` has (the others answer Unimplemented, see withUnimplemented). */
function implemented<T extends object>(impl: T, handlers: { [K in keyof T]?: grpc.UntypedHandleCall }): grpc.UntypedServiceImplementation {
  return Object.fromEntries(Object.entries(handlers).filter(([k]) => typeof (impl as Record<string, unknown>)[k] === 'function')) as grpc.UntypedServiceImplementation;
}

function serveRelayer(server: GrpcServer, broker: GrpcBroker, r: RelayerServer): void {
  const objects = relayerFactoryHandlers(r, broker);
  server.addService(RelayerService, withUnimplemented(RelayerService, {
    ...objects.handlers,
    ...implemented(r, {
      latestHead: handleUnary(async (_req: unknown, signal) => ({ head: headToPb(await r.latestHead!(signal)) })),
      finalizedHead: handleUnary(async (_req: unknown, signal) => ({ head: headToPb(await r.finalizedHead!(signal)) })),
      getChainStatus: handleUnary(async (_req: unknown, signal) => ({ chain: await r.getChainStatus!(signal) })),
      getChainInfo: handleUnary(async (_req: unknown, signal) => ({ chainInfo: await r.getChainInfo!(signal) })),
      listNodeStatuses: handleUnary((q: ListNodeStatusesRequest, signal) => r.listNodeStatuses!(q.pageSize, q.pageToken, signal)),
      transact: handleUnary(async (t: TransactionRequest, signal) => {
        await r.transact!({ from: t.from, to: t.to, amount: bigFromPb(t.amount), balanceCheck: t.balanceCheck }, signal);
        return {};
      }),
      replay: handleUnary(async (q: ReplayRequest, signal) => {
        await r.replay!({ fromBlock: q.fromBlock, args: (q.args ?? {}) as Record<string, unknown> }, signal);
        return {};
      }),
    }),
  }));
  addLoopService(server, {
    name: () => r.name(),
    ready: () => r.ready(),
    healthReport: () => r.healthReport(),
    close: async () => {
      await objects.closeAll();
      await r.close();
    },
  });
}

/** Registers PluginRelayer and the plugin's loop.Service on the plugin's main server. */
export function servePluginRelayer(ctx: PluginServerContext, options: RelayerServerOptions): void {
  const { server, broker } = ctx;
  server.addService(PluginRelayerService, {
    newRelayer: handleUnary(async (req: NewRelayerRequest) => {
      const relayer = await options.newRelayer({
        config: req.config,
        keystore: dialKeystore(broker, req.keystoreID),
        csaKeystore: dialKeystore(broker, req.keystoreCSAID),
      });
      const relayerID = broker.nextId();
      await broker.acceptAndServe(relayerID, (s) => serveRelayer(s, broker, relayer));
      return { relayerID };
    }),
  });
  addLoopService(server, options.service);
}
