/**
 * The host's gRPC connection to a plugin, set up as go-plugin's host does: one channel (unlimited
 * message sizes, no keepalive pings, authority `localhost` under TLS) with the broker stream and the
 * stdio stream opened at once.
 */
import * as grpc from '@grpc/grpc-js';
import * as net from 'node:net';
import * as path from 'node:path';
import type { Duplex, Writable } from 'node:stream';
import { GrpcBroker, createLock, type BrokerTransport, type MuxContext } from '../shared/broker';
import type { Log } from '../core/debug';
import { StartError, messageOf } from '../core/errors';
import { HealthClient, GRPCBrokerClient, GRPCControllerClient, GRPCStdioClient, GRPCStdioService, type StdioData, StdioData_Channel } from '../gen';
import { decodeStdioData } from '../shared/stdio-codec';
import type { Network } from '../wire/handshake';
import { createBridge, type Bridge } from '../net/grpc/bridge';
import { MuxRouter } from '../net/yamux/router';
import { grpcTarget, netConnectOptions } from '../net/transport';
import { createYamuxSession, type YamuxSession } from '../net/yamux/session';
import { guardPath } from './runner/process';

export interface TlsMaterial {
  server: () => grpc.ServerCredentials;
  channel: () => { credentials: grpc.ChannelCredentials; options: grpc.ChannelOptions };
}

export interface ConnectOptions {
  network: Network;
  address: string;
  tls: TlsMaterial | undefined;
  channelOptions?: grpc.ChannelOptions;
  syncStdout?: Writable;
  syncStderr?: Writable;
  /** Listener factory for host-served broker ids. */
  brokerListen: BrokerTransport['listen'];
  /** go-plugin's multiplexed mode: one raw connection carrying yamux. */
  multiplex?: boolean;
  /** Directory for private bridge sockets (multiplexed mode). */
  bridgeDir?: string;
  instance: string;
  log: Log;
}

export interface PluginConnection {
  readonly channel: grpc.Channel;
  readonly broker: GrpcBroker;
  readonly health: InstanceType<typeof HealthClient>;
  readonly controller: InstanceType<typeof GRPCControllerClient>;
  /** Cancels the streams, fails calls still in flight (UNAVAILABLE), closes the broker and the channel. */
  close(): void;
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

/** The raw connection go-plugin's host makes eagerly in multiplexed mode. */
function dialRaw(network: 'unix' | 'tcp', address: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(netConnectOptions(network, address));
    socket.once('connect', () => {
      socket.off('error', reject);
      if (network === 'tcp') socket.setKeepAlive(true);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

interface MuxTransport {
  session: YamuxSession;
  context: MuxContext;
  mainBridge: Bridge;
}

async function setUpMux(o: ConnectOptions): Promise<MuxTransport> {
  let raw: net.Socket;
  try {
    raw = await dialRaw(o.network, o.address);
  } catch (err) {
    throw new StartError('ERR_LOOPP_SPAWN', `error dialing plugin for multiplexing: ${messageOf(err)}`, { input: o.address, cause: err });
  }
  const session = createYamuxSession({ socket: raw, side: 'client', instance: o.instance });
  const router = new MuxRouter(o.log);
  // The host serves no default server: every stream the plugin opens belongs to a knocked broker id.
  session.on('stream', (stream) => router.route(stream));
  const context: MuxContext = { open: () => session.open(), router, lock: createLock(), bridgeDir: o.bridgeDir };
  // The main channel's stream is opened now, before any broker knock can be in flight, so the plugin
  // routes it to its main server. Knocks travel over this channel, so its opens must never wait
  // behind a knock (that would deadlock until the 5 s knock timeout).
  let first: Duplex | undefined = session.open();
  const mainBridge = await createBridge(
    () => {
      const stream = first ?? session.open();
      first = undefined;
      return Promise.resolve(stream);
    },
    { dir: o.bridgeDir, log: o.log, label: 'main' },
  );
  // A SIGKILLed host cannot remove its bridge: the orphan guard does (socket first, then its dir).
  guardPath(mainBridge.path, true);
  guardPath(path.dirname(mainBridge.path), true);
  return { session, context, mainBridge };
}

/**
 * Makes the channel remember its calls until they end, and returns a function that fails the ones
 * still in flight. grpc-js's channel.close() leaves in-flight calls alone, and once the subchannel
 * has shut its transport down, a call whose peer never answers (a stopped plugin, then SIGKILLed)
 * gets no status at all: its callback never runs and its promise never settles (found by
 * test/faults). Go's conn.Close() fails such calls; so does closing a loopp connection.
 */
function trackCalls(channel: grpc.Channel): (details: string) => void {
  const inFlight = new Set<ReturnType<grpc.Channel['createCall']>>();
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
  const insecure = { credentials: grpc.credentials.createInsecure(), options: {} as grpc.ChannelOptions };
  const { credentials, options: tlsOptions } = o.tls?.channel() ?? insecure;
  const mux = o.multiplex ? await setUpMux(o) : undefined;
  const target = mux !== undefined ? grpcTarget('unix', mux.mainBridge.path) : grpcTarget(o.network, o.address);
  const channel = new grpc.Channel(target, credentials, {
    ...BASE_CHANNEL_OPTIONS,
    ...tlsOptions,
    ...o.channelOptions,
  });
  const failInFlight = trackCalls(channel);
  const clientOptions = { channelOverride: channel };
  const broker = new GrpcBroker({
    side: 'host',
    instance: o.instance,
    mux: mux?.context,
    transport: {
      listen: o.brokerListen,
      serverCredentials: () => o.tls?.server() ?? grpc.ServerCredentials.createInsecure(),
      channelCredentials: () => o.tls?.channel() ?? insecure,
    },
  });
  const brokerClient = new GRPCBrokerClient(target, credentials, clientOptions);
  const brokerCall = brokerClient.startStream();
  broker.attach(brokerCall);

  const stdioClient = new GRPCStdioClient(target, credentials, clientOptions);
  // The generated method, with a decoder that does not copy each chunk's data out of its frame.
  const stdioCall: grpc.ClientReadableStream<StdioData> = stdioClient.makeServerStreamRequest(
    GRPCStdioService.streamStdio.path,
    GRPCStdioService.streamStdio.requestSerialize,
    decodeStdioData,
    {},
  );
  stdioCall.on('data', (d: StdioData) => {
    const sink = d.channel === StdioData_Channel.STDOUT ? o.syncStdout : d.channel === StdioData_Channel.STDERR ? o.syncStderr : undefined;
    if (sink === undefined) {
      if (d.channel !== StdioData_Channel.STDOUT && d.channel !== StdioData_Channel.STDERR) o.log('unknown stdio channel %d, dropping', d.channel);
      return;
    }
    // Back-pressure from a slow sink pauses the stream (and so, through HTTP/2 flow control, the plugin).
    if (!sink.write(d.data)) {
      stdioCall.pause();
      sink.once('drain', () => stdioCall.resume());
    }
  });
  stdioCall.on('error', (err: grpc.ServiceError) => {
    if (err.code === grpc.status.UNIMPLEMENTED || err.code === grpc.status.UNAVAILABLE) {
      o.log('stdio service not available, stdout/stderr syncing unavailable');
    } else if (err.code !== grpc.status.CANCELLED) {
      o.log('stdio stream error: %s', err.message);
    }
  });
  brokerCall.on('error', () => {
    // Reported through the broker; an Unimplemented broker is fine for plugins that never use it.
  });

  const health = new HealthClient(target, credentials, clientOptions);
  const controller = new GRPCControllerClient(target, credentials, clientOptions);
  let closed = false;
  return {
    channel,
    broker,
    health,
    controller,
    close() {
      if (closed) return;
      closed = true;
      brokerCall.cancel();
      stdioCall.cancel();
      failInFlight(`connection to plugin ${o.instance} closed`);
      void broker.close();
      channel.close();
      if (mux !== undefined) {
        guardPath(mux.mainBridge.path, false);
        guardPath(path.dirname(mux.mainBridge.path), false);
        void mux.mainBridge.close();
        mux.session.close();
      }
    },
  };
}
