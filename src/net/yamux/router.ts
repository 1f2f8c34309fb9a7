/**
 * Routing of inbound yamux streams in go-plugin's multiplexed mode. A stream belongs to the broker id
 * whose knock was acknowledged last (one pending knock at a time, as go-plugin's knock queue), or
 * else to the default server (the plugin's main gRPC server; a host has none).
 */
import type { Duplex } from 'node:stream';
import type { Log } from '../../core/debug';

export class MuxRouter {
  #acceptors = new Map<number, (stream: Duplex) => void>();
  #pending: number | undefined;
  #fallback: ((stream: Duplex) => void) | undefined;
  #log: Log;

  constructor(log: Log) {
    this.#log = log;
  }

  /** Where streams go when no knock is pending (the plugin's main server). */
  setDefault(handler: (stream: Duplex) => void): void {
    this.#fallback = handler;
  }

  register(id: number, handler: (stream: Duplex) => void): void {
    this.#acceptors.set(id, handler);
  }

  unregister(id: number): void {
    this.#acceptors.delete(id);
    if (this.#pending === id) this.#pending = undefined;
  }

  /** A peer knocked for `id`: arms routing and returns the error text for the ack ('' = accepted). */
  knock(id: number): string {
    if (!this.#acceptors.has(id)) return `no listener for id ${id}`;
    this.#pending = id;
    return '';
  }

  route(stream: Duplex): void {
    const id = this.#pending;
    this.#pending = undefined;
    const acceptor = id === undefined ? undefined : this.#acceptors.get(id);
    if (acceptor !== undefined) {
      this.#log('id=%d stream routed', id);
      acceptor(stream);
    } else if (this.#fallback !== undefined) {
      this.#fallback(stream);
    } else {
      this.#log('inbound stream with no knock pending; closed');
      stream.destroy();
    }
  }
}
