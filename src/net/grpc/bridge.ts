/**
 * grpc-js has no public hook for a custom dialer, so a channel that must run over yamux streams
 * dials a private unix socket instead: every connection accepted there is spliced onto a fresh
 * stream from `connect()` (a yamux stream, after a knock where the broker needs one). TLS, when
 * used, still runs end to end between grpc-js and the peer, inside the stream.
 */
import { rmSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import { allClosed } from '../../core/closed';
import type { Log } from '../../core/debug';
import { messageOf } from '../../core/errors';

export interface Bridge {
  /** Unix socket path for grpc-js (`unix://<path>`). */
  readonly path: string;
  /**
   * Stops accepting and removes the socket and its private directory at once, then gives the
   * bridged connections up to `graceMs` (default 1000) to be closed by the channel that made them, and tears down
   * what is left. A grpc-js channel must be closed first: a TLS session torn down from under a
   * closing grpc-js channel left that channel's socket open for good (found by the soak test).
   */
  close(graceMs?: number): Promise<void>;
}

/** Connects two duplexes both ways; either side ending or failing tears down the other. */
export function splice(a: Duplex, b: Duplex): void {
  const teardown = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', () => {});
  b.on('error', () => {});
  // A side that is already gone has emitted its 'close': waiting for it would hold the other open.
  if (a.destroyed || b.destroyed) return teardown();
  a.pipe(b);
  b.pipe(a);
  a.once('close', teardown);
  b.once('close', teardown);
}

/** How long a closed channel has to drop its bridged connections before they are cut. */
const CLOSE_GRACE_MS = 1000;

export async function createBridge(connect: () => Promise<Duplex>, options: { dir?: string; log: Log; label: string }): Promise<Bridge> {
  const dir = await fsp.mkdtemp(path.join(options.dir ?? tmpdir(), 'loopp-mux-'));
  const socketPath = path.join(dir, 'b');
  const live = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    live.add(socket);
    socket.once('close', () => live.delete(socket));
    socket.on('error', () => {});
    // A connect() that throws (a yamux session already gone) is a refused connection, not an
    // exception in a socket event handler.
    new Promise<Duplex>((resolve) => resolve(connect())).then(
      (stream) => {
        if (socket.destroyed) {
          stream.destroy();
          return;
        }
        splice(socket, stream);
      },
      (err) => {
        options.log('%s: stream for bridged connection failed: %s', options.label, messageOf(err));
        socket.destroy();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  return {
    path: socketPath,
    close: (graceMs = CLOSE_GRACE_MS) =>
      (closing ??= (async () => {
        // The path goes first and synchronously: once close() is called nothing may dial it, and the
        // directory count is settled for whoever checks right after.
        rmSync(dir, { recursive: true, force: true });
        const stopped = new Promise<void>((r) => server.close(() => r()));
        await allClosed(live, graceMs);
        for (const s of live) s.destroy();
        await stopped;
      })()),
  };
}
