/**
 * One call on the plugin's channel with the request already encoded: unary or server-streaming, the
 * replies handed over as bytes in order, then the status. Interrupting cancels the call.
 */
import * as grpc from '@grpc/grpc-js';
import type { DescMethod } from '@bufbuild/protobuf';

export type CallOutcome = { readonly ok: true } | { readonly ok: false; readonly error: grpc.ServiceError };

export interface InvokeOptions {
  readonly deadlineMs?: number;
  readonly signal: AbortSignal;
  readonly onReply: (bytes: Uint8Array) => void;
}

const raw = {
  serialize: (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  deserialize: (b: Buffer): Uint8Array => b,
};

export function invoke(channel: grpc.ChannelInterface, method: DescMethod, request: Uint8Array, o: InvokeOptions): Promise<CallOutcome> {
  const client = new grpc.Client('unused', grpc.credentials.createInsecure(), { channelOverride: channel });
  const path = `/${method.parent.typeName}/${method.name}`;
  const options: grpc.CallOptions = o.deadlineMs === undefined ? {} : { deadline: Date.now() + o.deadlineMs };
  return new Promise<CallOutcome>((resolve) => {
    let call: grpc.ClientUnaryCall | grpc.ClientReadableStream<Uint8Array>;
    const cancel = (): void => call.cancel();
    const settle = (error: grpc.ServiceError | null | undefined): void => {
      o.signal.removeEventListener('abort', cancel);
      resolve(error ? { ok: false, error } : { ok: true });
    };
    if (method.methodKind === 'unary') {
      call = client.makeUnaryRequest(path, raw.serialize, raw.deserialize, request, new grpc.Metadata(), options, (err, reply) => {
        if (!err && reply) o.onReply(reply);
        settle(err);
      });
    } else {
      const stream = client.makeServerStreamRequest(path, raw.serialize, raw.deserialize, request, new grpc.Metadata(), options);
      call = stream;
      // The status can come before the last replies are read out: settle once both are in.
      let failed: grpc.ServiceError | undefined;
      let status = false;
      let ended = false;
      const done = (): void => void (status && ended && settle(failed));
      stream.on('data', (reply: Uint8Array) => o.onReply(reply));
      stream.on('error', (err: grpc.ServiceError) => (failed = err));
      stream.on('end', () => ((ended = true), done()));
      stream.on('status', () => ((status = true), done()));
    }
    if (o.signal.aborted) cancel();
    else o.signal.addEventListener('abort', cancel, { once: true });
  });
}
