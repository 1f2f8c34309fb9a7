/**
 * gRPC's wire pieces only a server needs, as grpc-js's server reads them: grpc-timeout and the request
 * metadata (the message framing both ends share is ../grpc-framing.ts).
 */
import * as grpc from '@grpc/grpc-js';
import type { IncomingHttpHeaders } from 'node:http2';

const TIMEOUT = /(\d{1,8})\s*([HMSmun])/;
const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/** grpc-timeout as a number of ms (grpc-js's parse: truncated to an integer), or undefined if malformed. */
export function parseTimeoutMs(value: string): number | undefined {
  const m = TIMEOUT.exec(value);
  if (m === null) return undefined;
  return (Number(m[1]) * (UNIT_MS[m[2] as string] as number)) | 0;
}

/** Headers grpc-js's server keeps out of the metadata a handler sees. */
const TRANSPORT_HEADERS = ['grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding', 'accept-encoding', 'te', 'content-type'];

/** The request metadata as grpc-js's server hands it to handlers (pseudo and transport headers removed). */
export function requestMetadata(headers: IncomingHttpHeaders): grpc.Metadata {
  const md = grpc.Metadata.fromHttp2Headers(headers);
  for (const h of TRANSPORT_HEADERS) md.remove(h);
  return md;
}
