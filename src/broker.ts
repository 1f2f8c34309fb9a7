/**
 * go-plugin's GRPCBroker (classic mode): either side serves extra gRPC servers by id and the other
 * side dials them. The side that serves allocates the id (nextId counts per side), opens a fresh
 * listener, and announces it with a ConnInfo on the StartStream stream; the dialling side waits up
 * to 5 s for that ConnInfo. One ConnInfo satisfies one dial, as in Go.
 */
import * as grpc from '@grpc/grpc-js';
import { createLog, type Log } from './debug';
import { BrokerError, messageOf } from './errors';
import type { ConnInfo } from './gen/plugin/grpc_broker';
import type { Network } from './handshake';
import { grpcTarget, type Listener } from './transport';

/** go-plugin's window for a ConnInfo to arrive (dial) or be consumed (janitor). */
export const BROKER_TIMEOUT_MS = 5_000;

export interface BrokerStream {
  write(message: ConnInfo): boolean;
  on(event: 'data', listener: (message: ConnInfo) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'end' | 'close', listener: () => void): unknown;
}

export interface BrokerTransport {
  /** A new listener for a served id (same rules as the main listener). */
  listen(): Promise<Listener>;
  /** TLS for brokered servers (the serving side's AutoMTLS config), or insecure. */
  serverCredentials(): grpc.ServerCredentials;
  /** TLS for brokered dials (the dialling side's AutoMTLS config), or insecure. */
  channelCredentials(): { credentials: grpc.ChannelCredentials; options: grpc.ChannelOptions };
}

export interface BrokerServer extends AsyncDisposable {
  readonly id: number;
  readonly server: grpc.Server;
  /** Stops the sub-server and removes its listener. Idempotent. */
  close(): Promise<void>;
}

interface Slot {
  message: ConnInfo | undefined;
  waiter: ((m: ConnInfo) => void) | undefined;
  janitor: NodeJS.Timeout | undefined;
}

export interface GrpcBrokerOptions {
  side: 'host' | 'plugin';
  transport: BrokerTransport;
  /** Prefix of debug lines (e.g. the plugin's name and pid). */
  instance?: string;
}

export class GrpcBroker {
  readonly side: 'host' | 'plugin';
  #transport: BrokerTransport;
  #log: Log;
  #nextId = 0;
  #stream: BrokerStream | undefined;
  #slots = new Map<number, Slot>();
  #servers = new Set<BrokerServer>();
  #dialFailures = new Set<(err: Error) => void>();
  #closed = false;
  #streamEnded = false;

  constructor(options: GrpcBrokerOptions) {
    this.side = options.side;
    this.#transport = options.transport;
    this.#log = createLog('broker', `${options.instance ?? ''} ${options.side}`.trim());
  }

  /** The next id this side can serve under (1, 2, 3, …; each side counts on its own). */
  nextId(): number {
    this.#nextId = (this.#nextId + 1) >>> 0;
    return this.#nextId;
  }

  /** Binds the StartStream stream (host: the client call; plugin: the server call). */
  attach(stream: BrokerStream): void {
    if (this.#stream !== undefined) throw new BrokerError('ERR_LOOPP_BROKER', 'broker stream already attached');
    this.#stream = stream;
    this.#log('stream attached');
    stream.on('data', (m: ConnInfo) => this.#receive(m));
    const ended = (why: string) => {
      if (this.#streamEnded) return;
      this.#streamEnded = true;
      this.#log('stream ended (%s)', why);
      this.#failDials(new BrokerError('ERR_LOOPP_BROKER_CLOSED', `broker stream closed: ${why}`));
    };
    stream.on('error', (err: Error) => ended(err.message));
    stream.on('end', () => ended('end'));
    stream.on('close', () => ended('close'));
  }

  #receive(m: ConnInfo): void {
    const id = m.serviceId;
    this.#log('id=%d conninfo received network=%s address=%s', id, m.network, m.address);
    let slot = this.#slots.get(id);
    if (slot === undefined) {
      slot = { message: undefined, waiter: undefined, janitor: undefined };
      this.#slots.set(id, slot);
    }
    if (slot.waiter !== undefined) {
      const w = slot.waiter;
      this.#slots.delete(id);
      w(m);
      return;
    }
    // go-plugin's slots hold one message; a second one while the first is unconsumed is dropped.
    if (slot.message !== undefined) {
      this.#log('id=%d second conninfo dropped', id);
      return;
    }
    slot.message = m;
    slot.janitor = setTimeout(() => {
      if (this.#slots.get(id) === slot) {
        this.#slots.delete(id);
        this.#log('id=%d unclaimed conninfo expired', id);
      }
    }, BROKER_TIMEOUT_MS);
    slot.janitor.unref();
  }

  #send(m: ConnInfo): void {
    if (this.#stream === undefined || this.#streamEnded) {
      throw new BrokerError('ERR_LOOPP_BROKER_CLOSED', 'broker stream is not open', { id: m.serviceId });
    }
    this.#stream.write(m);
  }

  /**
   * Serves a new gRPC server under `id`: `register` adds its services. The peer can dial it once it
   * has the id (send the id to it in an app RPC *after* calling this).
   */
  async acceptAndServe(id: number, register: (server: grpc.Server) => void): Promise<BrokerServer> {
    if (this.#closed) throw new BrokerError('ERR_LOOPP_BROKER_CLOSED', 'broker closed', { id });
    const listener = await this.#transport.listen();
    const server = new grpc.Server({ 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 });
    try {
      register(server);
    } catch (err) {
      await listener.close();
      throw err;
    }
    const injector = server.createConnectionInjector(this.#transport.serverCredentials());
    listener.server.on('connection', (socket) => injector.injectConnection(socket));
    this.#log('id=%d accepted on %s %s', id, listener.network, listener.address);
    let closing: Promise<void> | undefined;
    const handle: BrokerServer = {
      id,
      server,
      close: () =>
        (closing ??= (async () => {
          this.#servers.delete(handle);
          injector.destroy();
          server.forceShutdown();
          await listener.close();
          this.#log('id=%d server closed', id);
        })()),
      [Symbol.asyncDispose]: () => handle.close(),
    };
    this.#servers.add(handle);
    try {
      this.#send({ serviceId: id, network: listener.network, address: listener.address, knock: undefined });
      this.#log('id=%d conninfo sent', id);
    } catch (err) {
      await handle.close();
      throw err;
    }
    return handle;
  }

  /** Waits (up to 5 s) for the peer's ConnInfo for `id` and returns a channel to that server. */
  async dial(id: number, options: { signal?: AbortSignal } = {}): Promise<grpc.Channel> {
    const info = await this.#waitConnInfo(id, options.signal);
    const network = info.network as Network;
    if (network !== 'unix' && network !== 'tcp') {
      throw new BrokerError('ERR_LOOPP_BROKER', `Unknown address type: ${info.address}`, { id, input: info });
    }
    const { credentials, options: channelOptions } = this.#transport.channelCredentials();
    const channel = new grpc.Channel(grpcTarget(network, info.address), credentials, {
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
      ...channelOptions,
    });
    this.#log('id=%d dialled %s %s', id, network, info.address);
    return channel;
  }

  #waitConnInfo(id: number, signal: AbortSignal | undefined): Promise<ConnInfo> {
    if (this.#closed) return Promise.reject(new BrokerError('ERR_LOOPP_BROKER_CLOSED', 'broker closed', { id }));
    const slot = this.#slots.get(id);
    if (slot?.message !== undefined) {
      clearTimeout(slot.janitor);
      this.#slots.delete(id);
      return Promise.resolve(slot.message);
    }
    if (this.#streamEnded) {
      return Promise.reject(new BrokerError('ERR_LOOPP_BROKER_CLOSED', 'broker stream closed', { id }));
    }
    signal?.throwIfAborted();
    return new Promise<ConnInfo>((resolve, reject) => {
      const s: Slot = slot ?? { message: undefined, waiter: undefined, janitor: undefined };
      this.#slots.set(id, s);
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#dialFailures.delete(onFail);
        if (this.#slots.get(id) === s && s.message === undefined) this.#slots.delete(id);
      };
      const onFail = (err: Error) => {
        cleanup();
        reject(err instanceof BrokerError ? new BrokerError(err.code, err.message, { id, cause: err }) : err);
      };
      const onAbort = () => onFail(signal?.reason as Error);
      const timer = setTimeout(
        () => onFail(new BrokerError('ERR_LOOPP_BROKER_TIMEOUT', 'timeout waiting for connection info', {
          id,
          hint: 'The serving side must call acceptAndServe(id) before (or within 5 s of) the dial.',
        })),
        BROKER_TIMEOUT_MS,
      );
      timer.unref();
      s.waiter = (m) => {
        cleanup();
        resolve(m);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#dialFailures.add(onFail);
    });
  }

  #failDials(err: Error): void {
    for (const fail of [...this.#dialFailures]) fail(err);
  }

  /** Fails pending dials, stops every served id and forgets the stream. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#log('closing (%d served ids)', this.#servers.size);
    this.#failDials(new BrokerError('ERR_LOOPP_BROKER_CLOSED', 'broker closed'));
    for (const slot of this.#slots.values()) clearTimeout(slot.janitor);
    this.#slots.clear();
    await Promise.all([...this.#servers].map((s) => s.close().catch((e) => this.#log('close error %s', messageOf(e)))));
  }
}
