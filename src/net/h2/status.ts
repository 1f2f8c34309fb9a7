/**
 * How a gRPC call's end reads on the wire, as grpc-js reads it (same codes and detail texts, so code
 * that matches on them behaves the same with either channel): trailers (or a trailers-only response),
 * a non-200 HTTP status, or an RST_STREAM without trailers.
 */
import * as grpc from '@grpc/grpc-js';
import * as http2 from 'node:http2';

export type StatusObject = grpc.StatusObject;

export function statusOf(code: grpc.status, details: string, metadata = new grpc.Metadata()): StatusObject {
  return { code, details, metadata };
}

/** grpc-js's mapping of an HTTP status that came without a gRPC status. */
export function httpStatus(httpCode: number): StatusObject {
  const code =
    httpCode === 400 ? grpc.status.INTERNAL
    : httpCode === 401 ? grpc.status.UNAUTHENTICATED
    : httpCode === 403 ? grpc.status.PERMISSION_DENIED
    : httpCode === 404 ? grpc.status.UNIMPLEMENTED
    : [429, 502, 503, 504].includes(httpCode) ? grpc.status.UNAVAILABLE
    : grpc.status.UNKNOWN;
  return statusOf(code, `Received HTTP status code ${httpCode}`);
}

/** The status in trailers (or trailers-only headers); `httpCode` is the response's :status. */
export function trailerStatus(headers: http2.IncomingHttpHeaders, httpCode: number | undefined): StatusObject {
  let metadata: grpc.Metadata;
  try {
    metadata = grpc.Metadata.fromHttp2Headers(headers);
  } catch {
    metadata = new grpc.Metadata();
  }
  const codeText = metadata.get('grpc-status')[0];
  if (typeof codeText !== 'string') {
    if (httpCode !== undefined && httpCode !== 200) return { ...httpStatus(httpCode), metadata };
    return statusOf(grpc.status.UNKNOWN, 'No status information received', metadata);
  }
  metadata.remove('grpc-status');
  let details = '';
  const message = metadata.get('grpc-message')[0];
  if (typeof message === 'string') {
    try {
      details = decodeURI(message);
    } catch {
      details = message;
    }
    metadata.remove('grpc-message');
  }
  return statusOf(Number(codeText), details, metadata);
}

/** The status of a stream that closed without trailers, from its RST_STREAM code. */
export function resetStatus(rstCode: number, httpCode: number | undefined, connectionDropped: boolean, error: Error | undefined): StatusObject {
  const c = http2.constants;
  switch (rstCode) {
    case c.NGHTTP2_NO_ERROR:
      if (httpCode !== undefined && httpCode !== 200) return httpStatus(httpCode);
      return statusOf(grpc.status.INTERNAL, `Received RST_STREAM with code ${rstCode} (Call ended without gRPC status)`);
    case c.NGHTTP2_REFUSED_STREAM:
      return statusOf(grpc.status.UNAVAILABLE, 'Stream refused by server');
    case c.NGHTTP2_CANCEL:
      // Node reports a dropped connection as CANCEL on each of its streams.
      return connectionDropped ? statusOf(grpc.status.UNAVAILABLE, 'Connection dropped') : statusOf(grpc.status.CANCELLED, 'Call cancelled');
    case c.NGHTTP2_ENHANCE_YOUR_CALM:
      return statusOf(grpc.status.RESOURCE_EXHAUSTED, 'Bandwidth exhausted or memory limit exceeded');
    case c.NGHTTP2_INADEQUATE_SECURITY:
      return statusOf(grpc.status.PERMISSION_DENIED, 'Protocol not secure enough');
    case c.NGHTTP2_INTERNAL_ERROR: {
      const code = (error as NodeJS.ErrnoException | undefined)?.code;
      if (code === 'ECONNRESET' || code === 'ETIMEDOUT') return statusOf(grpc.status.UNAVAILABLE, error!.message);
      return statusOf(
        grpc.status.INTERNAL,
        error === undefined
          ? `Received RST_STREAM with code ${rstCode} (Internal server error)`
          : `Received RST_STREAM with code ${rstCode} triggered by internal client error: ${error.message}`,
      );
    }
    default:
      return statusOf(grpc.status.INTERNAL, `Received RST_STREAM with code ${rstCode}`);
  }
}
