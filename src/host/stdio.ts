/**
 * Host side of GRPCStdio: the plugin's stdout/stderr after the handshake arrive on one server stream
 * and are written to the host's sinks (go-plugin's SyncStdout/SyncStderr), with back-pressure: a slow
 * sink pauses the stream and so, through HTTP/2 flow control, the plugin.
 */
import * as grpc from '@grpc/grpc-js';
import type { Writable } from 'node:stream';
import type { Log } from '../core/debug';
import { GRPCStdioClient, GRPCStdioService, type StdioData, StdioData_Channel } from '../gen';
import { decodeStdioData } from '../shared/stdio-codec';

export interface StdioStreamOptions {
  target: string;
  credentials: grpc.ChannelCredentials;
  clientOptions: grpc.ClientOptions;
  stdout: Writable | undefined;
  stderr: Writable | undefined;
  log: Log;
}

export function openStdioStream(o: StdioStreamOptions): { cancel(): void } {
  const client = new GRPCStdioClient(o.target, o.credentials, o.clientOptions);
  // The generated method, with a decoder that does not copy each chunk's data out of its frame.
  const call: grpc.ClientReadableStream<StdioData> = client.makeServerStreamRequest(
    GRPCStdioService.streamStdio.path,
    GRPCStdioService.streamStdio.requestSerialize,
    decodeStdioData,
    {},
  );
  call.on('data', (d: StdioData) => {
    const sink = d.channel === StdioData_Channel.STDOUT ? o.stdout : d.channel === StdioData_Channel.STDERR ? o.stderr : undefined;
    if (sink === undefined) {
      if (d.channel !== StdioData_Channel.STDOUT && d.channel !== StdioData_Channel.STDERR) o.log('unknown stdio channel %d, dropping', d.channel);
      return;
    }
    if (!sink.write(d.data)) {
      call.pause();
      sink.once('drain', () => call.resume());
    }
  });
  call.on('error', (err: grpc.ServiceError) => {
    if (err.code === grpc.status.UNIMPLEMENTED || err.code === grpc.status.UNAVAILABLE) {
      o.log('stdio service not available, stdout/stderr syncing unavailable');
    } else if (err.code !== grpc.status.CANCELLED) {
      o.log('stdio stream error: %s', err.message);
    }
  });
  return { cancel: () => call.cancel() };
}
