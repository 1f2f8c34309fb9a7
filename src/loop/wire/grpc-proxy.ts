/**
 * A transparent unary gRPC proxy: each registered method path is served with pass-through byte
 * serializers and forwarded, bytes untouched, to an upstream channel. This is what a Chainlink host
 * does with a provider that is itself a connection to another LOOP (chainlink-common's
 * `proxy.NewProxy(conn)`): the median plugin's calls flow median -> host -> relayer without the host
 * decoding them. Status, details and trailing metadata come back as the upstream sent them; the
 * caller's deadline and cancellation travel upstream. grpc-js has no catch-all handler, so the
 * methods are listed (every method of the median provider's services is unary).
 */
import * as grpc from '@grpc/grpc-js';
import type { Log } from '../../core/debug';
import type { GrpcServer } from '../../index';

const identity = (b: Buffer): Buffer => b;

/** Headers that describe one hop (set anew by grpc-js on the next call), never forwarded. */
const HOP_HEADERS = new Set(['user-agent', 'content-type', 'te', 'host', 'authority']);

function forwardedMetadata(incoming: grpc.Metadata): grpc.Metadata {
  const out = new grpc.Metadata();
  for (const [key, values] of Object.entries(incoming.toJSON())) {
    if (HOP_HEADERS.has(key) || key.startsWith('grpc-') || key.startsWith(':')) continue;
    for (const v of values) out.add(key, v);
  }
  return out;
}

function finiteDeadline(call: grpc.ServerUnaryCall<Buffer, Buffer>): grpc.Deadline | undefined {
  const d = call.getDeadline();
  return d === Infinity || (d instanceof Date && !Number.isFinite(d.getTime())) ? undefined : d;
}

/** Serves every path of `paths` on `server` by forwarding it to `upstream`. The channel stays the caller's. */
export function addUnaryProxy(server: GrpcServer, upstream: grpc.ChannelInterface, paths: readonly string[], log?: Log): void {
  // A client over the caller's channel; never closed here (closing it would close the channel).
  const client = new grpc.Client('unused', grpc.credentials.createInsecure(), { channelOverride: upstream });
  for (const path of paths) {
    const handler: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => {
      const deadline = finiteDeadline(call);
      const forwarded = client.makeUnaryRequest(path, identity, identity, call.request, forwardedMetadata(call.metadata), deadline === undefined ? {} : { deadline }, (err, reply) => {
        if (err) {
          log?.('%s -> %s', path, err.message);
          callback({ code: err.code, details: err.details, metadata: err.metadata });
        } else {
          callback(null, reply);
        }
      });
      call.on('cancelled', () => forwarded.cancel());
    };
    server.register(path, handler, identity, identity, 'unary');
  }
}

/** The method paths of grpc-js service definitions (unary methods only; others are not proxied). */
export function unaryPaths(...definitions: ReadonlyArray<Record<string, { path: string; requestStream: boolean; responseStream: boolean }>>): string[] {
  return definitions.flatMap((d) => Object.values(d).filter((m) => !m.requestStream && !m.responseStream).map((m) => m.path));
}
