/**
 * go-plugin's GRPCBroker: either side serves extra gRPC servers by id and the other side dials them.
 * The side that serves allocates the id (nextId counts per side).
 *
 * Classic mode: the server gets a fresh listener, announced with a ConnInfo on the StartStream
 * stream; the dialling side waits up to 5 s for it, and one ConnInfo satisfies one dial, as in Go.
 *
 * Multiplexed mode (PLUGIN_MULTIPLEX_GRPC): everything is a yamux stream on the main connection. The
 * dialling side sends a knock ConnInfo for the id and waits up to 5 s for the ack; the serving side
 * arms routing so the next inbound stream reaches that id's server. Knock-and-open sequences are
 * serialised, which is go-plugin's rule that multiplexed connections are set up one at a time.
 */
import * as grpc from '@grpc/grpc-js';
import type { Duplex } from 'node:stream';
import { SERVER_MAX_CONCURRENT_STREAMS } from '../core/constants';
import { createLog, type Log } from '../core/debug';
import { BrokerError, messageOf } from '../core/errors';
import { type ConnInfo } from '../gen';
import type { Network } from '../wire/handshake';
import type { TransportCredentials } from '../net/grpc/credentials';
import { openAddressChannel, openStreamChannel, type ChannelKind, type ChannelSpec } from '../net/grpc/open-channel';
import type { MuxContext } from './mux';
import type { Listener } from '../net/transport';
import { newGrpcServer, type GrpcServer, type GrpcServerKind } from '../net/h2server/server';

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
  /** This side's AutoMTLS credentials (servers it runs, channels it dials), or plaintext. */
  credentials: TransportCredentials;
  /** The channel implementation for dialled ids (default loopp's own). */
  channel?: ChannelKind;
}

/**
 * go-plugin's GRPCBroker as plugins and hosts use it: serve a gRPC server under an id, dial the one
 * the other side serves. Closing the plugin client (or server) closes the broker.
 */
export interface GrpcBroker {
  readonly side: 'host' | 'plugin';
  /** True in go-plugin's multiplexed mode. */
  readonly multiplexed: boolean;
  /** The next id this side can serve under (1, 2, 3, …; each side counts on its own). */
  nextId(): number;
  /**
   * Serves a new gRPC server under `id`: `register` adds its services. The peer can dial it once it
   * has the id (send the id to it in an app RPC *after* calling this).
   */
  acceptAndServe(id: number, register: (server: GrpcServer) => void): Promise<BrokerServer>;
  /** Waits (up to 5 s) for the peer's server `id` and returns a channel to it. */
  dial(id: number, options?: { signal?: AbortSignal }): Promise<grpc.ChannelInterface>;
}

export interface BrokerServer extends AsyncDisposable {
  readonly id: number;
  readonly server: GrpcServer;
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
  /** Present in multiplexed mode. */
  mux?: MuxContext;
  /** The server implementation of acceptAndServe's servers (default: loopp's). */
  grpcServer?: GrpcServerKind;
  /**
   * @internal Tests only, not part of the public API (GrpcBrokerOptions is not exported from src/index.ts):
   * replaces BROKER_TIMEOUT_MS so property tests can run thousands of dial/janitor timeouts.
   */
  timeoutMs?: number;
}

/**
 * @internal Tests only (not exported from src/index.ts): `broker[brokerResources]()` counts what a broker
 * still holds, so leak checks need no timing.
 */
export const brokerResources = Symbol('loopp.broker.resources');

export interface BrokerResources {
  /** ConnInfo slots (each unclaimed message has a janitor timer). */
  slots: number;
  /** Dials waiting for a ConnInfo (each with a timeout timer). */
  waiting: number;
  servers: number;
  bridges: number;
  unsent: number;
}

/** The broker of one connection; the side that owns the connection attaches the stream and closes it. */
export class Broker implements GrpcBroker {
  readonly side: 'host' | 'plugin';
  #transport: BrokerTransport;
  readonly #serverKind: GrpcServerKind | undefined;
  #log: Log;
  #nextId = 0;
  #stream: BrokerStream | undefined;
  #slots = new Map<number, Slot>();
  #servers = new Set<BrokerServer>();
  #dialFailures = new Set<(err: Error) => void>();
  /** Unix socket paths the peer announced (a crashed peer cannot remove them; its host can). */
  readonly peerSocketPaths = new Set<string>();
  /** Releases of multiplexed dial bridges still open. */
  #bridges = new Set<() => void>();
  #closed = false;
  #streamEnded = false;
  #mux: MuxContext | undefined;
  /** Messages sent before the StartStream stream was attached. */
  #unsent: ConnInfo[] = [];
  #timeoutMs: number;

  constructor(options: GrpcBrokerOptions) {
    this.side = options.side;
    this.#timeoutMs = options.timeoutMs ?? BROKER_TIMEOUT_MS;
    this.#transport = options.transport;
    this.#mux = options.mux;
    this.#serverKind = options.grpcServer;
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
    this.#log('stream attached (%d queued messages)', this.#unsent.length);
    for (const m of this.#unsent.splice(0)) stream.write(m);
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

  /** True in go-plugin's multiplexed mode. */
  get multiplexed(): boolean {
    return this.#mux !== undefined;
  }

  #receive(m: ConnInfo): void {
    // After close() nothing can claim a message any more: holding it would recreate a slot (and its janitor
    // timer) that close() had cleared. Found by the property tests.
    if (this.#closed) return;
    const id = m.serviceId;
    if (m.knock?.knock && !m.knock.ack) {
      this.#answerKnock(m);
      return;
    }
    if (m.knock?.knock) this.#log('id=%d knock ack received%s', id, m.knock.error ? ` (error: ${m.knock.error})` : '');
    else {
      this.#log('id=%d conninfo received network=%s address=%s', id, m.network, m.address);
      if (m.network === 'unix' && m.address !== '') this.peerSocketPaths.add(m.address);
    }
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
    }, this.#timeoutMs);
    slot.janitor.unref();
  }

  #discardUnclaimed(id: number): void {
    const slot = this.#slots.get(id);
    if (slot?.message === undefined) return;
    clearTimeout(slot.janitor);
    this.#slots.delete(id);
    this.#log('id=%d stale message discarded', id);
  }

  #answerKnock(m: ConnInfo): void {
    const id = m.serviceId;
    let error: string;
    if (this.#mux === undefined) {
      error = `knock received for service ID ${id} but this broker is not multiplexed`;
    } else {
      error = this.#mux.router.knock(id);
    }
    this.#log('id=%d knock received; %s', id, error === '' ? 'ack' : error);
    try {
      this.#send({ serviceId: id, network: '', address: '', knock: { knock: true, ack: true, error } });
    } catch (err) {
      this.#log('id=%d knock ack not sent: %s', id, messageOf(err));
    }
  }

  #send(m: ConnInfo): void {
    if (this.#closed || this.#streamEnded) {
      throw new BrokerError('ERR_LOOPP_BROKER_CLOSED', 'broker stream is not open', { id: m.serviceId });
    }
    // A plugin can be asked to use the broker (an app RPC) before the host's StartStream call has
    // reached it; like Go's broker, hold the messages until the stream is there.
    if (this.#stream === undefined) this.#unsent.push(m);
    else this.#stream.write(m);
  }

  /**
   * Serves a new gRPC server under `id`: `register` adds its services. The peer can dial it once it
   * has the id (send the id to it in an app RPC *after* calling this).
   */
  async acceptAndServe(id: number, register: (server: GrpcServer) => void): Promise<BrokerServer> {
    if (this.#closed) throw new BrokerError('ERR_LOOPP_BROKER_CLOSED', 'broker closed', { id });
    if (this.#mux !== undefined) return this.#acceptMux(id, register, this.#mux);
    const listener = await this.#transport.listen();
    let handle: BrokerServer;
    try {
      handle = this.#subServer(id, register, (inject) => listener.server.on('connection', inject), () => listener.close());
    } catch (err) {
      await listener.close();
      throw err;
    }
    this.#log('id=%d accepted on %s %s', id, listener.network, listener.address);
    try {
      this.#send({ serviceId: id, network: listener.network, address: listener.address, knock: undefined });
      this.#log('id=%d conninfo sent', id);
    } catch (err) {
      await handle.close();
      throw err;
    }
    return handle;
  }

  #acceptMux(id: number, register: (server: GrpcServer) => void, mux: MuxContext): BrokerServer {
    const handle = this.#subServer(id, register, (inject) => mux.router.register(id, inject), async () => mux.router.unregister(id));
    this.#log('id=%d accepted (multiplexed, waiting for knocks)', id);
    return handle;
  }

  /**
   * A brokered gRPC server: `register` adds its services, `attach` wires its source of connections
   * (a listener, or knocked yamux streams) to grpc-js, `detach` undoes that on close.
   */
  #subServer(
    id: number,
    register: (server: GrpcServer) => void,
    attach: (inject: (connection: Duplex) => void) => void,
    detach: () => Promise<void>,
  ): BrokerServer {
    const server = newGrpcServer(this.#serverKind, {
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
      'grpc.max_concurrent_streams': SERVER_MAX_CONCURRENT_STREAMS,
    });
    register(server);
    const injector = server.createConnectionInjector(this.#transport.credentials.server());
    attach((connection) => injector.injectConnection(connection));
    let closing: Promise<void> | undefined;
    const handle: BrokerServer = {
      id,
      server,
      close: () =>
        (closing ??= (async () => {
          this.#servers.delete(handle);
          injector.destroy();
          server.forceShutdown();
          await detach();
          this.#log('id=%d server closed', id);
        })()),
      [Symbol.asyncDispose]: () => handle.close(),
    };
    this.#servers.add(handle);
    return handle;
  }

  /** Knock for `id`, wait for the ack, open the stream: one sequence at a time. */
  #knockAndOpen(id: number, mux: MuxContext, signal: AbortSignal | undefined): Promise<Duplex> {
    return mux.lock(async () => {
      // A dial aborted while it queued must not knock: the peer's router would stay armed for an open
      // that never follows, and route our next stream (say a main-channel reconnect) to this id.
      signal?.throwIfAborted();
      // An ack that came after an earlier knock for this id gave up must not answer this knock.
      this.#discardUnclaimed(id);
      this.#send({ serviceId: id, network: '', address: '', knock: { knock: true, ack: false, error: '' } });
      this.#log('id=%d knock sent', id);
      let ack: ConnInfo;
      try {
        ack = await this.#waitConnInfo(id, signal, `timeout waiting for multiplexing knock handshake on id ${id}`);
      } catch (err) {
        // The caller's abort surfaces as its own reason, as a classic dial's does.
        if (signal?.aborted && err === signal.reason) throw err;
        throw wrapKnockError(id, err);
      }
      if (!ack.knock?.knock || !ack.knock.ack) {
        throw wrapKnockError(id, new BrokerError('ERR_LOOPP_BROKER', `handshake failed for multiplexing on id ${id}; expected knock and ack, but got ${JSON.stringify(ack)}`, { id }));
      }
      if (ack.knock.error !== '') {
        throw wrapKnockError(id, new BrokerError('ERR_LOOPP_BROKER', `failed to knock for id ${id}: ${ack.knock.error}`, { id, input: ack }));
      }
      let stream: Duplex;
      try {
        stream = mux.open();
      } catch (err) {
        // The yamux session went away between the ack and the open (its YamuxError would otherwise escape
        // dial(), whose failures are BrokerErrors). Found by the property tests.
        throw new BrokerError('ERR_LOOPP_BROKER', `failed to open a multiplexed stream for id ${id}: ${messageOf(err)}`, {
          id,
          cause: err,
          hint: 'The multiplexed connection to the peer is closed.',
        });
      }
      this.#log('id=%d stream opened', id);
      return stream;
    });
  }

  async #dialMux(id: number, mux: MuxContext, signal: AbortSignal | undefined): Promise<grpc.ChannelInterface> {
    // The first knock happens now, so a dial for an id nobody serves fails here with Go's text rather
    // than on the first RPC; reconnects of the channel knock again.
    let first: Duplex | undefined = await this.#knockAndOpen(id, mux, signal);
    // Held until the channel dials: a session that dies first must not make its error uncaught.
    first.on('error', () => {});
    const opened = await openStreamChannel(
      this.#channelSpec(),
      () => {
        const ready = first;
        first = undefined;
        return ready !== undefined ? Promise.resolve(ready) : this.#knockAndOpen(id, mux, undefined);
      },
      { dir: mux.bridgeDir, label: `id=${id}` },
    );
    if (this.#closed) {
      // close() ran while the channel was being set up: it could not release a bridge it did not know of,
      // which then stayed listening (socket file included) until the caller closed the channel. Found by
      // the property tests.
      first?.destroy();
      opened.channel.close();
      await opened.release();
      throw new BrokerError('ERR_LOOPP_BROKER_CLOSED', 'broker closed', { id });
    }
    const channel = opened.channel;
    const closeChannel = channel.close.bind(channel);
    const bridges = this.#bridges;
    const release = () => {
      bridges.delete(release);
      first?.destroy();
      void opened.release();
    };
    bridges.add(release);
    channel.close = () => {
      closeChannel();
      release();
    };
    this.#log('id=%d dialled (multiplexed)', id);
    return channel;
  }

  #channelSpec(): ChannelSpec {
    const credentials = this.#transport.credentials.channel();
    return {
      kind: this.#transport.channel ?? 'loopp',
      credentials,
      options: { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1, 'grpc.use_local_subchannel_pool': 1 },
      log: this.#log,
    };
  }

  /** Waits (up to 5 s) for the peer's ConnInfo for `id` and returns a channel to that server. */
  async dial(id: number, options: { signal?: AbortSignal } = {}): Promise<grpc.ChannelInterface> {
    if (this.#closed) throw new BrokerError('ERR_LOOPP_BROKER_CLOSED', 'broker closed', { id });
    if (this.#mux !== undefined) return this.#dialMux(id, this.#mux, options.signal);
    const info = await this.#waitConnInfo(id, options.signal);
    const network = info.network as Network;
    if (network !== 'unix' && network !== 'tcp') {
      throw new BrokerError('ERR_LOOPP_BROKER', `Unknown address type: ${info.address}`, { id, input: info });
    }
    let channel: grpc.ChannelInterface;
    try {
      channel = openAddressChannel(this.#channelSpec(), network, info.address);
    } catch (err) {
      // grpc-js throws a plain Error for a target it cannot parse (e.g. "unix:// "); the address comes from
      // the peer, so this is bad input, not a bug. Found by the property tests.
      throw new BrokerError('ERR_LOOPP_BROKER', `invalid address ${JSON.stringify(info.address)} for ${network} in ConnInfo: ${messageOf(err)}`, {
        id,
        input: info,
        cause: err,
        hint: 'The peer announced an address gRPC cannot dial.',
      });
    }
    this.#log('id=%d dialled %s %s', id, network, info.address);
    return channel;
  }

  #waitConnInfo(id: number, signal: AbortSignal | undefined, timeoutText = 'timeout waiting for connection info'): Promise<ConnInfo> {
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
        // Broadcast failures (broker or stream closed) do not know the id; errors made here already do.
        reject(err instanceof BrokerError && err.id !== id ? new BrokerError(err.code, err.message, { id, cause: err, hint: err.hint }) : err);
      };
      const onAbort = () => onFail(signal?.reason as Error);
      const timer = setTimeout(
        () => onFail(new BrokerError('ERR_LOOPP_BROKER_TIMEOUT', timeoutText, {
          id,
          hint: 'The serving side must call acceptAndServe(id) before (or within 5 s of) the dial.',
        })),
        this.#timeoutMs,
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

  /** @internal See brokerResources. */
  [brokerResources](): BrokerResources {
    return { slots: this.#slots.size, waiting: this.#dialFailures.size, servers: this.#servers.size, bridges: this.#bridges.size, unsent: this.#unsent.length };
  }

  #failDials(err: Error): void {
    for (const fail of [...this.#dialFailures]) fail(err);
  }

  /** Fails pending dials, stops every served id and forgets the stream. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#log('closing (%d served ids)', this.#servers.size);
    this.#unsent = [];
    this.#failDials(new BrokerError('ERR_LOOPP_BROKER_CLOSED', 'broker closed'));
    for (const slot of this.#slots.values()) clearTimeout(slot.janitor);
    this.#slots.clear();
    for (const release of [...this.#bridges]) release();
    await Promise.all([...this.#servers].map((s) => s.close().catch((e) => this.#log('close error %s', messageOf(e)))));
  }
}

function wrapKnockError(id: number, err: unknown): BrokerError {
  const code = err instanceof BrokerError ? err.code : 'ERR_LOOPP_BROKER';
  return new BrokerError(code, `failed to knock before dialling client: ${messageOf(err)}`, {
    id,
    cause: err,
    hint: 'In multiplexed mode the serving side must call acceptAndServe(id) before the peer dials it.',
  });
}
