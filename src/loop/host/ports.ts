/**
 * Prometheus port allocation for LOOP plugins.
 *
 * - `createSequentialPortAllocator()` is chainlink v2.4.0's rule: `2112 + number of ports taken so
 *   far`. Nothing checks that the port is free and nothing is ever reused (release is a no-op).
 * - `createFreePortAllocator()` is the newest node's (smartcontractkit/freeport) behaviour: a block of
 *   `blockSize` ports at or above 10000, below the OS ephemeral range, reserved by holding its first
 *   port as a listener on 127.0.0.1; the other ports are handed out in FIFO order, each checked by
 *   binding 127.0.0.1 first. A port someone else holds is dropped from circulation (freeport calls it
 *   "theft"). Released ports go to a pending list and come back to the free list once they can be
 *   bound again: this check runs on `take()` instead of freeport's 250 ms background ticker, so no
 *   timer keeps the process alive (the lock listener is unref'd too).
 *
 * Allocators hold no global state: every call creates an independent pool. Two pools in one process
 * pick different blocks because each block's lock listener is exclusive.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';

import { LoopError, messageOf } from '../../core/errors';

export interface PortAllocator {
  /** The next port. Rejects (LoopError, code ERR_LOOPP_FREE_PORT) when none can be had. */
  take(): Promise<number>;
  /** Give a port back (it may be handed out again once it is free). */
  release(port: number): void;
}

/** v2.4.0: base, base+1, base+2, ... (default base 2112), never reused, never checked. */
export function createSequentialPortAllocator(options: { base?: number } = {}): PortAllocator {
  const base = options.base ?? 2112;
  let taken = 0;
  return {
    take: () => Promise.resolve(base + taken++),
    release: () => {},
  };
}

export interface FreePortAllocatorOptions {
  /** Lowest port of the first candidate block (default 10000). */
  from?: number;
  /** Ports per block, including the lock port (default 128). */
  blockSize?: number;
  /**
   * How long `take()` waits for a released port to become bindable again when nothing else is
   * left (default 5000 ms; freeport waits forever).
   */
  pendingWaitMs?: number;
  /** Host to check ports on (default 127.0.0.1). */
  host?: string;
}

export interface FreePortAllocator extends PortAllocator {
  /** The reserved block: [first, first + blockSize); `first` is the lock port. Undefined before the first take. */
  readonly block: { first: number; size: number } | undefined;
  /** Drops the block reservation (closes the lock listener). Further takes reserve a new block. */
  close(): Promise<void>;
}

function freePortError(message: string, cause?: unknown): LoopError {
  return new LoopError('ERR_LOOPP_FREE_PORT', message, {
    cause,
    hint: 'free some ports at or above 10000 (below the ephemeral range), or pass a different allocator to LoopRegistry',
  });
}

/** Binds host:port exclusively; resolves the listening server, or undefined when the port is taken. */
function tryListen(host: string, port: number): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(undefined));
    srv.listen({ host, port, exclusive: true }, () => resolve(srv));
  });
}

function closeServer(srv: net.Server): Promise<void> {
  return new Promise((resolve) => srv.close(() => resolve()));
}

/** True when host:port can be bound right now. */
async function isPortFree(host: string, port: number): Promise<boolean> {
  const srv = await tryListen(host, port);
  if (srv === undefined) return false;
  await closeServer(srv);
  return true;
}

/** The OS ephemeral port range (Linux); undefined elsewhere. */
function ephemeralRange(): [number, number] | undefined {
  try {
    const [lo, hi] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (lo !== undefined && hi !== undefined && Number.isInteger(lo) && Number.isInteger(hi) && lo > 0 && hi >= lo) return [lo, hi];
  } catch {
    // not Linux
  }
  return undefined;
}

/** The freeport behaviour (see the module comment). */
export function createFreePortAllocator(options: FreePortAllocatorOptions = {}): FreePortAllocator {
  const from = options.from ?? 10000;
  const blockSize = options.blockSize ?? 128;
  const waitMs = options.pendingWaitMs ?? 5000;
  const host = options.host ?? '127.0.0.1';
  if (!Number.isInteger(blockSize) || blockSize < 2) throw freePortError(`freeport: block size ${blockSize} too small`);

  let lock: net.Server | undefined;
  let first = 0;
  let free: number[] = [];
  let pending: number[] = [];
  let queue: Promise<unknown> = Promise.resolve();

  /** Candidate blocks: from `from` upwards, stopping before the ephemeral range and port 65535. */
  function blockCount(): number {
    const eph = ephemeralRange();
    let n = 0;
    for (;;) {
      const lo = from + n * blockSize;
      const hi = lo + blockSize - 1;
      if (hi > 65535) break;
      if (eph !== undefined && lo <= eph[1] && eph[0] <= hi) break;
      n++;
    }
    return n;
  }

  async function reserve(): Promise<void> {
    const blocks = blockCount();
    if (blocks === 0) throw freePortError('freeport: no blocks of ports available outside of ephemeral range');
    const start = Math.floor(Math.random() * blocks);
    for (let i = 0; i < blocks; i++) {
      const lo = from + ((start + i) % blocks) * blockSize;
      const srv = await tryListen(host, lo);
      if (srv === undefined) continue;
      srv.unref();
      lock = srv;
      first = lo;
      free = [];
      pending = [];
      for (let p = lo + 1; p < lo + blockSize; p++) free.push(p);
      return;
    }
    throw freePortError('freeport: cannot allocate port block');
  }

  /** Moves pending ports that can be bound again back to the free list (freeport's checker, on demand). */
  async function recycle(): Promise<void> {
    const still: number[] = [];
    for (const p of pending) {
      if (await isPortFree(host, p)) free.push(p);
      else still.push(p);
    }
    pending = still;
  }

  async function takeLocked(): Promise<number> {
    if (lock === undefined) await reserve();
    const deadline = Date.now() + waitMs;
    for (;;) {
      if (free.length === 0) await recycle();
      while (free.length > 0) {
        const port = free.shift() as number;
        if (await isPortFree(host, port)) return port;
        // held by someone else: out of circulation, as freeport does
      }
      if (pending.length === 0) {
        throw freePortError('freeport: impossible to satisfy request; there are no actual free ports in the block anymore');
      }
      if (Date.now() >= deadline) {
        throw freePortError(`freeport: timed out after ${waitMs} ms waiting for a returned port to become free`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  function serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  }

  return {
    get block() {
      return lock === undefined ? undefined : { first, size: blockSize };
    },
    take: () =>
      serialized(async () => {
        try {
          return await takeLocked();
        } catch (err) {
          if (err instanceof LoopError) throw err;
          throw freePortError(`freeport: ${messageOf(err)}`, err);
        }
      }),
    release(port: number): void {
      if (lock !== undefined && port > first && port < first + blockSize && !pending.includes(port) && !free.includes(port)) {
        pending.push(port);
      }
    },
    close: () =>
      serialized(async () => {
        const srv = lock;
        lock = undefined;
        free = [];
        pending = [];
        if (srv !== undefined) await closeServer(srv);
      }),
  };
}
