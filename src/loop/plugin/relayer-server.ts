/**
 * The relayer LOOP's plugin side (chainlink-common's PluginRelayer server): NewRelayer dials the
 * host's two keystores, hands the request to the plugin's `newRelayer`, and serves the relayer it
 * returns (Relayer and loop.Service) on a new broker id, as chainlink's relayer binaries do. The
 * plugin's own service answers loop.Service beside PluginRelayer.
 */
import * as grpc from '@grpc/grpc-js';
import { type ChainInfo, type ChainStatus, type ListNodeStatusesReply, type NewRelayerRequest, loopProtos } from '../../gen';
import type { GrpcBroker, PluginServerContext } from '../../index';
import type { Keystore } from '../wire/keystore';
import { addLoopService, callUnary, handleUnary, type LoopServiceObject } from '../wire/rpc';

// Loaded with loopp/loop, not with loopp (see src/gen.ts).
const { KeystoreClient } = loopProtos.keystore();
const { PluginRelayerService, RelayerService } = loopProtos.relayer();

/** A relayer as a TypeScript LOOP implements it (the part of chainlink-common's Relayer served today). */
export interface RelayerServer extends LoopServiceObject {
  getChainStatus(): Promise<ChainStatus> | ChainStatus;
  getChainInfo(): Promise<ChainInfo> | ChainInfo;
  listNodeStatuses(pageSize: number, pageToken: string): Promise<ListNodeStatusesReply> | ListNodeStatusesReply;
}

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

function serveRelayer(server: grpc.Server, relayer: RelayerServer): void {
  server.addService(RelayerService, {
    getChainStatus: handleUnary(async () => ({ chain: await relayer.getChainStatus() })),
    getChainInfo: handleUnary(async () => ({ chainInfo: await relayer.getChainInfo() })),
    listNodeStatuses: handleUnary((r: { pageSize: number; pageToken: string }) => relayer.listNodeStatuses(r.pageSize, r.pageToken)),
  });
  addLoopService(server, relayer);
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
      await broker.acceptAndServe(relayerID, (s) => serveRelayer(s, relayer));
      return { relayerID };
    }),
  });
  addLoopService(server, options.service);
}
