/**
 * The host's gRPC connection to a plugin, set up as go-plugin's host does: one channel (unlimited
 * message sizes, no keepalive pings, authority `localhost` under TLS) with the broker stream and the
 * stdio stream opened at once. In multiplexed mode the host first makes the one raw connection that
 * carries yamux, and the channel runs over a stream of it.
 */
import * as grpc from '@grpc/grpc-js';
import * as path from 'node:path';
import type { Duplex, Writable } from 'node:stream';
import type { Log } from '../core/debug';
import { StartError, messageOf } from '../core/errors';
import { GRPCBrokerClient, GRPCControllerClient, HealthClient } from '../gen';
import type { TransportCredentials } from '../net/grpc/credentials';
import { openAddressChannel, openStreamChannel, type ChannelKind, type ChannelSpec } from '../net/grpc/open-channel';
import { dialNet } from '../net/h2/dial';
import { Broker, type BrokerTransport } from '../shared/broker';
import { createMultiplexer, type Multiplexer } from '../shared/mux';
import type { Network } from '../wire/handshake';
import { guardPath } from './runner/orphan-guard';
import { openStdioStream } from './stdio';

export interface ConnectOptions {
  network: Network;
  address: string;
  credentials: TransportCredentials;
  channelOptions?: grpc.ChannelOptions;
  /** loopp's own channel (default) or grpc-js's, for this connection and every brokered one. */
  channel?: ChannelKind;
  syncStdout?: Writable;
  syncStderr?: Writable;
  /** Listener factory for host-served broker ids. */
  brokerListen: BrokerTransport['listen'];
  /** go-plugin's multiplexed mode: one raw connection carrying yamux. */
  multiplex?: boolean;
  /** Directory for private bridge sockets (multiplexed mode). */
  bridgeDir?: string;
  /** Aborts the connection step (the raw dial of multiplexed mode). */
  signal?: AbortSignal;
  /**
   * Open the broker and stdio streams at once, as go-plugin's host does (default true). `loopp check`
   * says false and opens its own, to see how each one ends.
   */
  streams?: boolean;
  instance: string;
  log: Log;
}

export interface PluginConnection {
  readonly channel: grpc.ChannelInterface;
  readonly broker: Broker;
  readonly health: InstanceType<typeof HealthClient>;
  readonly controller: InstanceType<typeof GRPCControllerClient>;
  /**
   * Cancels the streams, fails calls still in flight (UNAVAILABLE), closes the broker and the channel,
   * and (multiplexed) the bridge and the yamux session once the channel has let go of them. Idempotent.
   */
  close(): Promise<void>;
}

const BASE_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
  // A fresh channel per plugin: never share subchannels across clients of different plugins.
  'grpc.use_local_subchannel_pool': 1,
  // HTTP/2 receive window (stream and connection). Node's default of 64 KiB makes a fast sender (the
  // plugin's stdio stream, large replies) wait a round trip for every WINDOW_UPDATE; grpc-go's host
  // grows its windows by BDP estimation up to 16 MiB.
  'grpc-node.flow_control_window': 16 * 1024 * 1024,
};

interface MuxTransport {
  mux: Multiplexer;
  /** The main channel's streams: the first one opened eagerly, then new ones (reconnects). */
  open(): Promise<Duplex>;
}

async function setUpMux(o: ConnectOptions): Promise<MuxTransport> {
  let raw: Duplex;
  try {
    // The raw connection go-plugin's host makes eagerly in multiplexed mode.
    raw = await dialNet(o.network, o.address)(o.signal ?? new AbortController().signal);
  } catch (err) {
    if (o.signal?.aborted) throw o.signal.reason;
    throw new StartError('ERR_LOOPP_CONNECT', `error dialing plugin for multiplexing: ${messageOf(err)}`, {
      input: o.address,
      cause: err,
      hint: 'The plugin announced an address nothing listens on; see its stderr.',
    });
  }
  const mux = createMultiplexer({ side: 'client', instance: o.instance, bridgeDir: o.bridgeDir, log: o.log });
  const session = mux.attach(raw);
  // The main channel's stream is opened now, before any broker knock can be in flight, so the plugin
  // routes it to its main server. Knocks travel over this channel, so its opens must never wait
  // behind a knock (that would deadlock until the 5 s knock timeout).
  let first: Duplex | undefined = session.open();
  // Held until the channel dials: a session that dies first must not make its error uncaught.
  first.on('error', () => {});
  return {
    mux,
    open: () => {
      const stream = first ?? session.open();
      first = undefined;
      return Promise.resolve(stream);
    },
  };
}

/** The main channel, over the multiplexed session or to the announced address. */
async function openMainChannel(o: ConnectOptions, spec: ChannelSpec, muxed: MuxTransport | undefined): Promise<{ channel: grpc.ChannelInterface; release(): Promise<void> }> {
  if (muxed === undefined) return { channel: openAddressChannel(spec, o.network, o.address), release: () => Promise.resolve() };
  let opened;
  try {
    opened = await openStreamChannel(spec, () => muxed.open(), { dir: o.bridgeDir, label: 'main' });
  } catch (err) {
    muxed.mux.close();
    throw err;
  }
  const { bridgePath } = opened;
  // A SIGKILLed host cannot remove its bridge: the orphan guard does (socket first, then its dir).
  if (bridgePath !== undefined) {
    guardPath(bridgePath, true);
    guardPath(path.dirname(bridgePath), true);
  }
  return {
    channel: opened.channel,
    // After the channel is closed: the bridge (once grpc-js has dropped its connections), then the session.
    async release() {
      if (bridgePath !== undefined) {
        guardPath(bridgePath, false);
        guardPath(path.dirname(bridgePath), false);
      }
      await opened.release();
      muxed.mux.close();
    },
  };
}

/**
 * Makes the channel remember its calls until they end, and returns a function that fails the ones
 * still in flight. grpc-js's channel.close() leaves in-flight calls alone, and once the subchannel
 * has shut its transport down, a call whose peer never answers (a stopped plugin, then SIGKILLed)
 * gets no status at all: its callback never runs and its promise never settles (found by
 * test/faults). Go's conn.Close() fails such calls; so does closing a loopp connection.
 */
function trackCalls(channel: grpc.ChannelInterface): (details: string) => void {
  const inFlight = new Set<ReturnType<grpc.ChannelInterface['createCall']>>();
  const createCall = channel.createCall.bind(channel);
  channel.createCall = (...args) => {
    const call = createCall(...args);
    const start = call.start.bind(call);
    call.start = (metadata, listener) => {
      inFlight.add(call);
      start(metadata, {
        ...listener,
        onReceiveStatus: (status) => {
          inFlight.delete(call);
          listener.onReceiveStatus?.(status);
        },
      });
    };
    return call;
  };
  return (details) => {
    const calls = [...inFlight];
    inFlight.clear();
    // UNAVAILABLE, the code grpc-js gives when the plugin's socket drops: one code for "plugin gone".
    for (const call of calls) call.cancelWithStatus(grpc.status.UNAVAILABLE, details);
  };
}

export async function connectPlugin(o: ConnectOptions): Promise<PluginConnection> {
  const credentials = o.credentials.channel();
  const spec: ChannelSpec = { kind: o.channel ?? 'loopp', credentials, options: { ...BASE_CHANNEL_OPTIONS, ...o.channelOptions }, log: o.log };
  const muxed = o.multiplex ? await setUpMux(o) : undefined;
  const main = await openMainChannel(o, spec, muxed);
  const channel = main.channel;
  const target = channel.getTarget();
  const failInFlight = trackCalls(channel);
  const clientOptions = { channelOverride: channel };
  const broker = new Broker({
    side: 'host',
    instance: o.instance,
    mux: muxed?.mux.context,
    transport: { listen: o.brokerListen, credentials: o.credentials, channel: spec.kind },
  });
  const streams = o.streams ?? true;
  const brokerCall = streams ? new GRPCBrokerClient(target, credentials.credentials, clientOptions).startStream() : undefined;
  // Reported through the broker; an Unimplemented broker is fine for plugins that never use it.
  brokerCall?.on('error', () => {});
  if (brokerCall) broker.attach(brokerCall);
  const stdio = streams
    ? openStdioStream({ channel, stdout: o.syncStdout, stderr: o.syncStderr, log: o.log })
    : undefined;
  let closing: Promise<void> | undefined;
  return {
    channel,
    broker,
    health: new HealthClient(target, credentials.credentials, clientOptions),
    controller: new GRPCControllerClient(target, credentials.credentials, clientOptions),
    close() {
      return (closing ??= (async () => {
        brokerCall?.cancel();
        stdio?.cancel();
        failInFlight(`connection to plugin ${o.instance} closed`);
        const brokerClosed = broker.close();
        channel.close();
        await Promise.all([brokerClosed, main.release()]);
      })());
    },
  };
}
