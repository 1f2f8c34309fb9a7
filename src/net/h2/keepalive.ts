/**
 * grpc-js's client keepalive on one session: a PING every `grpc.keepalive_time_ms` (while calls are
 * in flight, or always with `grpc.keepalive_permit_without_calls`), and the session destroyed when
 * one is not acknowledged within `grpc.keepalive_timeout_ms` (default 20 s); its calls then end
 * UNAVAILABLE. Off unless keepalive_time_ms is set, as in grpc-js.
 */
import type * as grpc from '@grpc/grpc-js';
import type * as http2 from 'node:http2';

export class Keepalive {
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(session: http2.ClientHttp2Session, options: grpc.ChannelOptions, busy: () => boolean) {
    const intervalMs = options['grpc.keepalive_time_ms'] as number | undefined;
    if (typeof intervalMs !== 'number' || !(intervalMs > 0) || intervalMs === 2 ** 31 - 1) return;
    const timeoutMs = (options['grpc.keepalive_timeout_ms'] as number | undefined) ?? 20_000;
    const always = options['grpc.keepalive_permit_without_calls'] === 1;
    let outstanding = false;
    this.#timer = setInterval(() => {
      if (outstanding || session.destroyed || (!always && !busy())) return;
      outstanding = true;
      const deadline = setTimeout(() => session.destroy(new Error('Keepalive timeout')), timeoutMs);
      deadline.unref();
      try {
        session.ping((err) => {
          clearTimeout(deadline);
          outstanding = false;
          if (err !== null) session.destroy(err);
        });
      } catch (err) {
        clearTimeout(deadline);
        session.destroy(err as Error);
      }
    }, intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
