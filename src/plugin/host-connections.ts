/**
 * The connections a host makes to the plugin's main server: each raw connection handed to grpc-js,
 * or, in multiplexed mode, the one connection yamux runs over (another is refused, and without one
 * within 5 s the plugin gives up, as go-plugin's muxer does). Tracked so a stop can wait for the host
 * to let go of them.
 */
import type { Duplex } from 'node:stream';
import { allClosed } from '../core/closed';
import type { Log } from '../core/debug';
import type { Listener } from '../net/transport';
import type { Multiplexer } from '../shared/mux';

/** go-plugin's muxer gives the host this long to make its one connection. */
const MUX_FIRST_CONNECTION_MS = 5000;

export interface HostConnectionsOptions {
  /** Hands a connection (or a multiplexed stream) to the main gRPC server. */
  inject: (connection: Duplex) => void;
  mux: Multiplexer | undefined;
  log: Log;
  /** The host made no multiplexed connection in time. */
  onNoConnection: () => void;
  /** The multiplexed connection closed. */
  onMuxClosed: () => void;
}

export class HostConnections {
  #open = new Set<Duplex>();
  #firstConnectionTimer: NodeJS.Timeout | undefined;
  #o: HostConnectionsOptions;

  constructor(options: HostConnectionsOptions) {
    this.#o = options;
  }

  /** Starts taking the listener's connections. */
  serve(listener: Listener): void {
    const { mux, log } = this.#o;
    if (mux === undefined) {
      listener.server.on('connection', (socket) => this.#o.inject(this.#track(socket)));
      return;
    }
    listener.server.on('connection', (socket) => {
      if (mux.session !== undefined) {
        log('multiplexed mode accepts one connection; another was refused');
        socket.destroy();
        return;
      }
      clearTimeout(this.#firstConnectionTimer);
      mux.attach(this.#track(socket)).once('close', () => this.#o.onMuxClosed());
      log('multiplexed connection established');
    });
    this.#firstConnectionTimer = setTimeout(() => this.#o.onNoConnection(), MUX_FIRST_CONNECTION_MS);
    this.#firstConnectionTimer.unref();
  }

  #track(connection: Duplex): Duplex {
    this.#open.add(connection);
    connection.once('close', () => this.#open.delete(connection));
    return connection;
  }

  /**
   * Resolves once the host has closed every connection, or after `graceMs`. No GOAWAY is sent first:
   * a graceful server shutdown (grpc-js tryShutdown) made grpc-js hosts leak the TLS socket of a
   * multiplexed connection (found by the soak test).
   */
  closedByHost(graceMs: number): Promise<void> {
    clearTimeout(this.#firstConnectionTimer);
    return allClosed(this.#open, graceMs);
  }
}
