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
import type { Log } from '../../core/debug';
import { messageOf } from '../../core/errors';

export interface Bridge {
  /** Unix socket path for grpc-js (`unix://<path>`). */
  readonly path: string;
  /** Stops accepting, tears down spliced pairs, removes the socket and its private directory. */
  close(): Promise<void>;
}

/** Connects two duplexes both ways; either side ending or failing tears down the other. */
export function splice(a: Duplex, b: Duplex): void {
  a.pipe(b);
  b.pipe(a);
  const teardown = () => {
    a.destroy();
    b.destroy();
  };
  a.once('close', teardown);
  b.once('close', teardown);
  a.on('error', () => {});
  b.on('error', () => {});
}

export async function createBridge(connect: () => Promise<Duplex>, options: { dir?: string; log: Log; label: string }): Promise<Bridge> {
  const dir = await fsp.mkdtemp(path.join(options.dir ?? tmpdir(), 'loopp-mux-'));
  const socketPath = path.join(dir, 'b');
  const live = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    live.add(socket);
    socket.once('close', () => live.delete(socket));
    socket.on('error', () => {});
    connect().then(
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
    close: () =>
      (closing ??= (async () => {
        // The path goes first and synchronously: once close() is called nothing may dial it, and the
        // directory count is settled for whoever checks right after.
        rmSync(dir, { recursive: true, force: true });
        for (const s of live) s.destroy();
        await new Promise<void>((r) => server.close(() => r()));
      })()),
  };
}
