/**
 * The relayer LOOP's host side (chainlink-common's RelayerService client): serve the Keystore, the
 * CSA Keystore and the capabilities registry on broker ids, call PluginRelayer.NewRelayer, and talk
 * to the Relayer and Service the plugin serves on the id it returns. Wire names and field numbers
 * are those of chainlink-common v1.3.1 (proto/loop/).
 */
import * as grpc from '@grpc/grpc-js';
import { type DecryptRequest, type SignRequest, type NewRelayerReply, type NewRelayerRequest, loopProtos } from '../../gen';
import { LoopError, messageOf } from '../../core/errors';
import type { GrpcBroker, PluginClientContext } from '../../index';
import { callUnary, handleUnary, loopCall, loopServiceClient, remoteHealthReport, servedDependencies } from '../wire/rpc';
import type { Promised, RelayerCalls } from '../wire/relayer-api';
import { relayerCalls } from './relayer-calls';
import { type RelayerObjects, relayerObjects } from './relayer-objects';
import type { LoopHostedService } from './service';
import type { Keystore } from '../wire/keystore';
import type { GrpcServer } from '../../index';

// Loaded with loopp/loop, not with loopp (see src/gen.ts).
const { CapabilitiesRegistryService } = loopProtos.capabilitiesRegistry();
const { KeystoreService } = loopProtos.keystore();
const { PluginRelayerClient } = loopProtos.relayer();

export interface NewRelayerOptions {
  /** Relayer config, TOML. */
  config: string;
  keystore: Keystore;
  csaKeystore: Keystore;
  signal?: AbortSignal;
}

/**
 * The relayer as the host sees it (chainlink-common's types.Relayer). A method the plugin does not
 * serve rejects with ERR_LOOPP_LOOP_UNIMPLEMENTED; any other failure with ERR_LOOPP_LOOP_CALL.
 */
export interface RelayerHandle extends LoopHostedService, Promised<RelayerCalls>, RelayerObjects {
  /** The relayer's broker id on the plugin's broker. */
  readonly id: number;
  name(): Promise<string>;
  ready(): Promise<void>;
  healthReport(): Promise<Record<string, Error | null>>;
  close(): Promise<void>;
}

function serveKeystore(server: GrpcServer, ks: Keystore): void {
  server.addService(KeystoreService, {
    accounts: handleUnary(async () => ({ accounts: await ks.accounts() })),
    sign: handleUnary(async (r: SignRequest) => ({ signedData: await ks.sign(r.account, Buffer.from(r.data)) })),
    decrypt: (c: grpc.ServerUnaryCall<DecryptRequest, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      const decrypt = ks.decrypt;
      if (decrypt === undefined) return cb({ code: grpc.status.UNIMPLEMENTED, details: 'decrypt not supported' });
      handleUnary(async (r: DecryptRequest) => ({ decryptedData: await decrypt.call(ks, r.account, Buffer.from(r.data)) }))(c, cb);
    },
  });
}

/** Host-side client of a relayer LOOP's root service. */
export class PluginRelayerHost {
  #client: InstanceType<typeof PluginRelayerClient>;
  #broker: GrpcBroker;

  constructor(ctx: PluginClientContext) {
    this.#client = ctx.createClient(PluginRelayerClient.service);
    this.#broker = ctx.broker;
  }

  /** Serves the host dependencies, calls NewRelayer, and connects to the relayer it returns. */
  async newRelayer(o: NewRelayerOptions): Promise<RelayerHandle> {
    const deps = servedDependencies(this.#broker);
    let reply: NewRelayerReply;
    try {
      const keystoreID = await deps.serve((s) => serveKeystore(s, o.keystore));
      const keystoreCSAID = await deps.serve((s) => serveKeystore(s, o.csaKeystore));
      // No capabilities here: every CapabilitiesRegistry method answers Unimplemented.
      const capabilityRegistryID = await deps.serve((s) => s.addService(CapabilitiesRegistryService, {}));
      const req: NewRelayerRequest = { config: o.config, keystoreID, capabilityRegistryID, keystoreCSAID };
      reply = await loopCall<NewRelayerReply>(this.#client, 'PluginRelayer.NewRelayer', req, o.signal);
    } catch (err) {
      await deps.release();
      throw err;
    }
    let channel: grpc.ChannelInterface;
    try {
      channel = await this.#broker.dial(reply.relayerID, { signal: o.signal });
    } catch (err) {
      // The served dependencies only live as long as the relayer; without it nobody would release them.
      await deps.release();
      throw err;
    }
    const service = loopServiceClient(channel);
    const empty = {};
    const { closeAll, ...objects } = relayerObjects(channel, this.#broker);
    return {
      id: reply.relayerID,
      ...relayerCalls(channel),
      ...objects,
      name: async () => (await loopCall<{ name: string }>(service, 'Service.Name', empty)).name,
      ready: async () => {
        await loopCall(service, 'Service.Ready', empty);
      },
      healthReport: () => remoteHealthReport(service),
      close: async () => {
        await closeAll();
        await callUnary(service, 'closeService', empty).catch(() => {});
        channel.close();
        await deps.release();
      },
    };
  }
}
