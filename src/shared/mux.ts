/**
 * go-plugin's multiplexed mode (PLUGIN_MULTIPLEX_GRPC), built the same way on both sides: one yamux
 * session over the single connection the host makes, inbound streams routed to the broker id whose
 * knock was acknowledged last (or the default server: the plugin's main server; a host has none),
 * and a lock that serialises the broker's knock-and-open sequences.
 */
import type { Duplex } from 'node:stream';
import type { Log } from '../core/debug';
import { BrokerError } from '../core/errors';
import { MuxRouter } from '../net/yamux/router';
import { createYamuxSession, type YamuxSession } from '../net/yamux/session';

/** What the broker needs from a multiplexed (yamux) connection. */
export interface MuxContext {
  /** Opens a new stream to the peer; throws when the session is not (or no longer) up. */
  open(): Duplex;
  router: MuxRouter;
  /** Runs `fn` alone among the broker's knock/open sequences (the main channel's opens do not take it: knocks travel over that channel). */
  lock<T>(fn: () => Promise<T>): Promise<T>;
  /** Directory for the private bridge sockets of dialled channels (default: the OS temp dir). */
  bridgeDir?: string;
}

/** A promise-chain mutex. */
export function createLock(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>) => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => {});
    return run;
  };
}

export interface MultiplexerOptions {
  /** yamux roles: the host dials (client), the plugin accepts (server). */
  side: 'client' | 'server';
  /** Debug prefix of the session. */
  instance: string;
  bridgeDir?: string;
  log: Log;
  /** Where streams go when no knock is pending (the plugin's main server). */
  defaultRoute?: (stream: Duplex) => void;
}

export interface Multiplexer {
  readonly context: MuxContext;
  /** The session, once a connection is attached. */
  readonly session: YamuxSession | undefined;
  /** Runs yamux over `connection`; a multiplexed side takes exactly one connection. */
  attach(connection: Duplex): YamuxSession;
  /** Closes the session (if any). */
  close(): void;
}

export function createMultiplexer(o: MultiplexerOptions): Multiplexer {
  const router = new MuxRouter(o.log);
  if (o.defaultRoute !== undefined) router.setDefault(o.defaultRoute);
  let session: YamuxSession | undefined;
  return {
    context: {
      open: () => {
        if (session === undefined) throw new BrokerError('ERR_LOOPP_BROKER', 'multiplexed connection not established yet');
        return session.open();
      },
      router,
      lock: createLock(),
      ...(o.bridgeDir === undefined ? {} : { bridgeDir: o.bridgeDir }),
    },
    get session() {
      return session;
    },
    attach(connection) {
      if (session !== undefined) throw new BrokerError('ERR_LOOPP_BROKER', 'multiplexed mode takes one connection; it already has one');
      const s = createYamuxSession({ socket: connection, side: o.side, instance: o.instance });
      session = s;
      s.on('stream', (stream) => router.route(stream));
      return s;
    },
    close() {
      session?.close();
    },
  };
}
