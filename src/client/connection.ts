/**
 * The host's gRPC connection to a plugin, set up as go-plugin's host does: one channel (unlimited
 * message sizes, no keepalive pings, authority `localhost` under TLS) with the broker stream and the
 * stdio stream opened at once.
 */
import * as grpc from '@grpc/grpc-js';
import type { Writable } from 'node:stream';
import { GrpcBroker, type BrokerTransport } from '../broker';
import type { Log } from '../debug';
import { HealthClient } from '../gen/grpc/health/v1/health';
import { GRPCBrokerClient } from '../gen/plugin/grpc_broker';
import { GRPCControllerClient } from '../gen/plugin/grpc_controller';
import { GRPCStdioClient, type StdioData, StdioData_Channel } from '../gen/plugin/grpc_stdio';
import type { Network } from '../handshake';
import { grpcTarget } from '../transport';

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
  instance: string;
  log: Log;
}

export interface PluginConnection {
  readonly channel: grpc.Channel;
  readonly broker: GrpcBroker;
  readonly health: InstanceType<typeof HealthClient>;
  readonly controller: InstanceType<typeof GRPCControllerClient>;
  /** Cancels the streams and closes the channel. */
  close(): void;
}

const BASE_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
  // A fresh channel per plugin: never share subchannels across clients of different plugins.
  'grpc.use_local_subchannel_pool': 1,
};

export function connectPlugin(o: ConnectOptions): PluginConnection {
  const insecure = { credentials: grpc.credentials.createInsecure(), options: {} as grpc.ChannelOptions };
  const { credentials, options: tlsOptions } = o.tls?.channel() ?? insecure;
  const channel = new grpc.Channel(grpcTarget(o.network, o.address), credentials, {
    ...BASE_CHANNEL_OPTIONS,
    ...tlsOptions,
    ...o.channelOptions,
  });
  const clientOptions = { channelOverride: channel };
  const target = grpcTarget(o.network, o.address);
  const broker = new GrpcBroker({
    side: 'host',
    instance: o.instance,
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
  const stdioCall = stdioClient.streamStdio({});
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
      channel.close();
    },
  };
}
