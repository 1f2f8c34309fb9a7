/**
 * Host side of GRPCStdio: the plugin's stdout/stderr after the handshake arrive on one server stream
 * and are written to the host's sinks (go-plugin's SyncStdout/SyncStderr), with back-pressure: a slow
 * sink stops reading the stream and so, through HTTP/2 flow control, the plugin.
 *
 * The stream is a call on the connection's channel itself (`createCall`), not a client stream: a Go
 * plugin sends one message per 1 KiB, and the client layer above the channel (interceptor chain,
 * deserializer wrapper, an object-mode Readable with its read-ahead) cost more per message than the
 * rest of the receive path. Each message is decoded in place and written to its sink before the next
 * one is asked for, as a Go host's Recv loop does.
 */
import * as grpc from '@grpc/grpc-js';
import type { Writable } from 'node:stream';
import type { Log } from '../core/debug';
import { GRPCStdioService, type StdioData, StdioData_Channel } from '../gen';
import { decodeStdioData } from '../shared/stdio-codec';

export interface StdioStreamOptions {
  /** The plugin connection's channel. */
  channel: grpc.ChannelInterface;
  stdout: Writable | undefined;
  stderr: Writable | undefined;
  log: Log;
}

type ChannelCall = ReturnType<grpc.Channel['createCall']>;

export function openStdioStream(o: StdioStreamOptions): { cancel(): void } {
  const call: ChannelCall = o.channel.createCall(GRPCStdioService.streamStdio.path, Infinity, undefined, null, undefined);
  const sinkFor = (d: StdioData): Writable | undefined =>
    d.channel === StdioData_Channel.STDOUT ? o.stdout : d.channel === StdioData_Channel.STDERR ? o.stderr : undefined;
  call.start(new grpc.Metadata(), {
    onReceiveMetadata: () => {},
    onReceiveMessage: (message: Buffer) => {
      let d: StdioData;
      try {
        d = decodeStdioData(message);
      } catch (err) {
        o.log('stdio message undecodable (%s), closing the stream', (err as Error).message);
        call.cancelWithStatus(grpc.status.INTERNAL, 'undecodable StdioData');
        return;
      }
      const sink = sinkFor(d);
      if (sink === undefined) {
        if (d.channel !== StdioData_Channel.STDOUT && d.channel !== StdioData_Channel.STDERR) o.log('unknown stdio channel %d, dropping', d.channel);
      } else if (!sink.write(d.data)) {
        sink.once('drain', () => call.startRead());
        return;
      }
      call.startRead();
    },
    onReceiveStatus: (status: grpc.StatusObject) => {
      if (status.code === grpc.status.UNIMPLEMENTED || status.code === grpc.status.UNAVAILABLE) {
        o.log('stdio service not available, stdout/stderr syncing unavailable');
      } else if (status.code !== grpc.status.CANCELLED && status.code !== grpc.status.OK) {
        o.log('stdio stream error: %s', status.details);
      }
    },
  });
  call.sendMessageWithContext({}, GRPCStdioService.streamStdio.requestSerialize({}));
  call.halfClose();
  call.startRead();
  return { cancel: () => call.cancelWithStatus(grpc.status.CANCELLED, 'Cancelled on client') };
}
