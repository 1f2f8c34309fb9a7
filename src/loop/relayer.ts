/**
 * The relayer LOOP's host side (chainlink-common's RelayerService client): serve the Keystore, the
 * CSA Keystore and the capabilities registry on broker ids, call PluginRelayer.NewRelayer, and talk
 * to the Relayer and Service the plugin serves on the id it returns. Wire names and field numbers
 * are those of chainlink-common v1.3.1 (proto/loop/).
 */
import * as grpc from '@grpc/grpc-js';
import type { GrpcBroker } from '../broker';
import type { BrokerServer } from '../broker';
import { Empty } from '../gen/google/protobuf/empty';
import { CapabilitiesRegistryService } from '../gen/loop/capabilities_registry';
import { type AccountsReply, type DecryptReply, type DecryptRequest, KeystoreService, type SignReply, type SignRequest } from '../gen/loop/keystore';
import {
  type ChainInfo,
  type ChainStatus,
  type ListNodeStatusesReply,
  type NewRelayerReply,
  type NewRelayerRequest,
  PluginRelayerClient,
  RelayerClient,
  ServiceService,
} from '../gen/loop/relayer';
import { grpcPlugin, type GrpcPlugin, type PluginClientContext } from '../plugin';
import type { LoopHostedService } from './service';

/**
 * loop.Service with its Close method, which the generated definition leaves out (ts-proto would name
 * it `close`, clashing with grpc-js's Client.close); the key is `closeService`, the path the real one.
 */
export const LoopServiceDefinition = {
  ...ServiceService,
  closeService: {
    path: '/loop.Service/Close',
    requestStream: false,
    responseStream: false,
    requestSerialize: (value: Empty): Buffer => Buffer.from(Empty.encode(value).finish()),
    requestDeserialize: (value: Buffer): Empty => Empty.decode(value),
    responseSerialize: (value: Empty): Buffer => Buffer.from(Empty.encode(value).finish()),
    responseDeserialize: (value: Buffer): Empty => Empty.decode(value),
  },
} as const;

/** A host keystore: accounts plus signing (nil data = existence check) and decryption. */
export interface Keystore {
  accounts(): Promise<string[]> | string[];
  sign(account: string, data: Buffer): Promise<Buffer> | Buffer;
  decrypt?(account: string, data: Buffer): Promise<Buffer> | Buffer;
}

export interface NewRelayerOptions {
  /** Relayer config, TOML. */
  config: string;
  keystore: Keystore;
  csaKeystore: Keystore;
  signal?: AbortSignal;
}

/** The relayer as the host sees it (a subset of chainlink-common's types.Relayer). */
export interface RelayerHandle extends LoopHostedService {
  readonly id: number;
  getChainStatus(): Promise<ChainStatus>;
  getChainInfo(): Promise<ChainInfo>;
  listNodeStatuses(pageSize: number, pageToken?: string): Promise<ListNodeStatusesReply>;
  name(): Promise<string>;
  ready(): Promise<void>;
  healthReport(): Promise<Record<string, Error | null>>;
  close(): Promise<void>;
}

type Unary<Req, Res> = (req: Req, md: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: Res) => void) => grpc.ClientUnaryCall;
function call<Req, Res>(client: grpc.Client, fn: Unary<Req, Res>, req: Req, signal?: AbortSignal): Promise<Res> {
  return new Promise((resolve, reject) => {
    const c = fn.call(client, req, new grpc.Metadata(), {}, (e, r) => {
      signal?.removeEventListener('abort', onAbort);
      if (e) reject(e);
      else resolve(r);
    });
    const onAbort = () => c.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function unaryMethod<Res>(client: grpc.Client, key: string): Unary<unknown, Res> {
  return (client as unknown as Record<string, Unary<unknown, Res>>)[key] as Unary<unknown, Res>;
}

function serveKeystore(server: grpc.Server, ks: Keystore): void {
  const fail = (cb: grpc.sendUnaryData<never>, err: unknown) => cb({ code: grpc.status.UNKNOWN, details: err instanceof Error ? err.message : String(err) });
  server.addService(KeystoreService, {
    accounts: (_call: grpc.ServerUnaryCall<Empty, AccountsReply>, cb: grpc.sendUnaryData<AccountsReply>) => {
      Promise.resolve(ks.accounts()).then((accounts) => cb(null, { accounts }), (e) => fail(cb, e));
    },
    sign: (c: grpc.ServerUnaryCall<SignRequest, SignReply>, cb: grpc.sendUnaryData<SignReply>) => {
      Promise.resolve(ks.sign(c.request.account, Buffer.from(c.request.data))).then((signedData) => cb(null, { signedData }), (e) => fail(cb, e));
    },
    decrypt: (c: grpc.ServerUnaryCall<DecryptRequest, DecryptReply>, cb: grpc.sendUnaryData<DecryptReply>) => {
      if (ks.decrypt === undefined) return cb({ code: grpc.status.UNIMPLEMENTED, details: 'decrypt not supported' });
      Promise.resolve(ks.decrypt(c.request.account, Buffer.from(c.request.data))).then((decryptedData) => cb(null, { decryptedData }), (e) => fail(cb, e));
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
    const served: BrokerServer[] = [];
    const serve = async (register: (s: grpc.Server) => void) => {
      const id = this.#broker.nextId();
      served.push(await this.#broker.acceptAndServe(id, register));
      return id;
    };
    const release = () => Promise.all(served.map((s) => s.close()));
    let reply: NewRelayerReply;
    try {
      const keystoreID = await serve((s) => serveKeystore(s, o.keystore));
      const keystoreCSAID = await serve((s) => serveKeystore(s, o.csaKeystore));
      // No capabilities here: every CapabilitiesRegistry method answers Unimplemented.
      const capabilityRegistryID = await serve((s) => s.addService(CapabilitiesRegistryService, {}));
      const req: NewRelayerRequest = { config: o.config, keystoreID, capabilityRegistryID, keystoreCSAID };
      reply = await call(this.#client, unaryMethod<NewRelayerReply>(this.#client, 'newRelayer'), req, o.signal);
    } catch (err) {
      await release();
      throw new Error(`failed to create Relayer: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const channel = await this.#broker.dial(reply.relayerID, { signal: o.signal });
    const opts = { channelOverride: channel };
    const relayer = new RelayerClient('unused', grpc.credentials.createInsecure(), opts);
    const Svc = grpc.makeGenericClientConstructor(LoopServiceDefinition as unknown as grpc.ServiceDefinition, 'loop.Service');
    const service = new Svc('unused', grpc.credentials.createInsecure(), opts);
    const empty = {};
    return {
      id: reply.relayerID,
      getChainStatus: async () => {
        const r = await call<object, { chain?: ChainStatus }>(relayer, unaryMethod(relayer, 'getChainStatus'), empty);
        return r.chain ?? { id: '', enabled: false, config: '' };
      },
      getChainInfo: async () => {
        const r = await call<object, { chainInfo?: ChainInfo }>(relayer, unaryMethod(relayer, 'getChainInfo'), empty);
        return r.chainInfo ?? { familyName: '', chainId: '', networkName: '', networkNameFull: '' };
      },
      listNodeStatuses: (pageSize, pageToken = '') =>
        call<object, ListNodeStatusesReply>(relayer, unaryMethod(relayer, 'listNodeStatuses'), { pageSize, pageToken }),
      name: async () => (await call<object, { name: string }>(service, unaryMethod(service, 'name'), empty)).name,
      ready: async () => {
        await call(service, unaryMethod(service, 'ready'), empty);
      },
      healthReport: async () => {
        const r = await call<object, { healthReport: Record<string, string> }>(service, unaryMethod(service, 'healthReport'), empty);
        return Object.fromEntries(Object.entries(r.healthReport).map(([k, v]) => [k, v === '' ? null : new Error(v)]));
      },
      close: async () => {
        await call(service, unaryMethod(service, 'closeService'), empty).catch(() => {});
        channel.close();
        await release();
      },
    };
  }
}

/** The host-side plugin definition of a relayer LOOP (dispense name `relayer`). */
export function relayerLoopPlugin(): GrpcPlugin<PluginRelayerHost> {
  return grpcPlugin({ client: (ctx) => new PluginRelayerHost(ctx) });
}
