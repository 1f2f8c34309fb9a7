/**
 * yamux errors. Every error is a LooppError with code 'ERR_LOOPP_YAMUX'; `kind` tells which one it is.
 * Messages keep hashicorp/yamux's wording (after a `yamux: ` prefix) so logs line up with Go's.
 */
import { LooppErrorBase, type LooppErrorOptions } from '../../core/errors';

export type YamuxErrorKind =
  /** Frame header with a version other than 0 (Go: ErrInvalidVersion). */
  | 'invalid-version'
  /** Frame header with a type other than 0..3 (Go: ErrInvalidMsgType). */
  | 'invalid-type'
  /** The peer sent more Data than the stream's receive window allows (Go: ErrRecvWindowExceeded). */
  | 'recv-window-exceeded'
  /** The peer opened a stream ID that is already in use (Go: ErrDuplicateStream). */
  | 'duplicate-stream'
  /** FIN where the stream state does not allow it, SYN on stream 0 (Go: ErrUnexpectedFlag). */
  | 'unexpected-flag'
  /** A WindowUpdate made the send window overflow 2^32-1. */
  | 'window-overflow'
  /** The session is closed (Go: ErrSessionShutdown). */
  | 'session-shutdown'
  /** No stream IDs left (Go: ErrStreamsExhausted). */
  | 'streams-exhausted'
  /** The peer sent GoAway: no new streams (Go: ErrRemoteGoAway). */
  | 'remote-goaway'
  /** The peer reset the stream (Go: ErrConnectionReset). */
  | 'connection-reset'
  /** Write to a stream whose write side is closed (Go: ErrStreamClosed). */
  | 'stream-closed'
  /** A ping got no answer in time (Go: ErrTimeout "i/o deadline reached"). */
  | 'timeout'
  /** The keepalive ping got no answer in time (Go: ErrKeepAliveTimeout). */
  | 'keepalive-timeout'
  /** The socket did not accept our writes in time (Go: ErrConnectionWriteTimeout). */
  | 'write-timeout'
  /** A stream we opened was not acknowledged in time; the session is closed (Go: StreamOpenTimeout). */
  | 'open-timeout'
  /** The peer sent GoAway with code 1 (Go: "yamux protocol error"). */
  | 'remote-protocol-error'
  /** The peer sent GoAway with code 2 (Go: "remote yamux internal error"). */
  | 'remote-internal-error'
  /** The peer sent GoAway with an unknown code (Go: "unexpected go away received"). */
  | 'remote-unexpected-goaway'
  /** The underlying connection failed or was closed by the peer. */
  | 'connection-lost'
  /** Bad argument to a yamux API (programming error). */
  | 'invalid-argument';

export class YamuxError extends LooppErrorBase<'ERR_LOOPP_YAMUX'> {
  readonly kind: YamuxErrorKind;
  constructor(kind: YamuxErrorKind, message: string, options: LooppErrorOptions = {}) {
    super('ERR_LOOPP_YAMUX', message.startsWith('yamux: ') ? message : `yamux: ${message}`, options);
    this.kind = kind;
  }
}
YamuxError.prototype.name = 'YamuxError';

/** True for a YamuxError (optionally of the given kind). */
export function isYamuxError(value: unknown, kind?: YamuxErrorKind): value is YamuxError {
  return value instanceof YamuxError && (kind === undefined || value.kind === kind);
}
