/**
 * The host-side LOOP registry (chainlink `plugins.LoopRegistry`): one entry per plugin id, each with
 * its own Prometheus port and the EnvConfig the plugin is launched with.
 *
 * Contract (chainlink's TestPluginPortManager): the first port is > 0, a duplicate id fails with
 * `plugin already registered` (ErrExists), and with either allocator the next id gets the previous
 * port + 1 (as long as that port is free).
 *
 * Modes:
 * - `'newest'` (default): ports from a free-port allocator (freeport behaviour), `unregister`
 *   returns the port for reuse; the EnvConfig is `envDefaults` plus the port.
 * - `'v2.4'`: ports 2112, 2113, ... never checked, never reused (quirk 3 of the v2.4.0 list kept
 *   on purpose); launch env is only CL_LOG_SQL_MIGRATIONS + CL_PROMETHEUS_PORT (see cmd-factory).
 *
 * Deliberate fixes of v2.4.0 quirks: logging is formatted (`Registered loopp "x" with port 2112`,
 * where v2.4.0 printed the raw format string), and `list()` of an empty registry is `[]`, not nil.
 * `register` is not idempotent (a repeat is an error), exactly like Go.
 */
import { createLog, type Log } from '../../core/debug';
import { ConfigError, LoopError, messageOf } from '../../core/errors';
import { goQuote } from '../../core/go/strconv';
import { newEnvConfig, type EnvConfig } from '../wire/env-config/schema';
import { createFreePortAllocator, createSequentialPortAllocator, type FreePortAllocator, type PortAllocator } from './ports';

export type LoopMode = 'newest' | 'v2.4';

export interface RegisteredLoop {
  name: string;
  envCfg: EnvConfig;
}

/** Go's `plugins.ErrExists` text. */
export const ERR_EXISTS_MESSAGE = 'plugin already registered';

/**
 * True for the duplicate-registration error (ErrExists), also when wrapped as a `cause` (e.g. by
 * newCmdFactory's `failed to register <id> LOOP plugin: ...`), like Go's errors.Is.
 */
export function isErrExists(err: unknown): boolean {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 16; depth++) {
    if (e instanceof LoopError && e.code === 'ERR_LOOPP_LOOP_EXISTS') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

export interface LoopRegistryOptions {
  /** Port source; default: a free-port allocator ('newest') or the 2112 sequence ('v2.4'). */
  ports?: PortAllocator;
  /** Node-wide values copied into every registered loop's EnvConfig (the port is always the registry's). */
  envDefaults?: Partial<EnvConfig>;
  mode?: LoopMode;
  /** Instance prefix for the `loopp:loop:registry` debug log. */
  logPrefix?: string;
}

function copyLoop(l: RegisteredLoop): RegisteredLoop {
  return { name: l.name, envCfg: newEnvConfig(l.envCfg) };
}

export class LoopRegistry implements AsyncDisposable {
  readonly mode: LoopMode;
  private readonly ports: PortAllocator;
  /** The default free-port allocator holds its block's lock listener: the registry closes what it made. */
  private readonly ownPorts: FreePortAllocator | undefined;
  private closed = false;
  private readonly envDefaults: Partial<EnvConfig>;
  private readonly registry = new Map<string, RegisteredLoop>();
  private readonly log: Log;
  /** Serialises register/unregister, as Go holds the mutex for the whole call. */
  private lock: Promise<unknown> = Promise.resolve();

  constructor(options: LoopRegistryOptions = {}) {
    this.mode = options.mode ?? 'newest';
    if (this.mode !== 'newest' && this.mode !== 'v2.4') {
      throw new ConfigError('ERR_LOOPP_CONFIG', `unknown LOOP mode ${goQuote(String(this.mode))}`, { input: this.mode, hint: "use 'newest' or 'v2.4'" });
    }
    this.ownPorts = options.ports === undefined && this.mode === 'newest' ? createFreePortAllocator() : undefined;
    this.ports = options.ports ?? this.ownPorts ?? createSequentialPortAllocator();
    this.envDefaults = newEnvConfig(options.envDefaults ?? {});
    this.log = createLog('loop:registry', options.logPrefix ?? '');
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /**
   * Registers `id` with a new port. Rejects with a LoopError (code ERR_LOOPP_LOOP_EXISTS, message
   * `plugin already registered`) for a duplicate, or a LoopError (ERR_LOOPP_FREE_PORT,
   * `failed to get free port: ...`) when the allocator has nothing left.
   */
  register(id: string): Promise<RegisteredLoop> {
    return this.serialized(async () => {
      if (this.closed) throw new LoopError('ERR_LOOPP_LOOP_CLOSED', 'LoopRegistry is closed', { input: id, hint: 'create a new LoopRegistry' });
      if (this.registry.has(id)) {
        throw new LoopError('ERR_LOOPP_LOOP_EXISTS', ERR_EXISTS_MESSAGE, {
          input: id,
          hint: 'each LOOP id (normally its logger name) can be registered once; unregister it first, or reuse the existing registration',
        });
      }
      let port: number;
      try {
        port = await this.ports.take();
      } catch (err) {
        throw new LoopError('ERR_LOOPP_FREE_PORT', `failed to get free port: ${messageOf(err)}`, {
          input: id,
          cause: err,
          hint: err instanceof LoopError ? err.hint : undefined,
        });
      }
      if (!Number.isInteger(port) || port <= 0) {
        throw new LoopError('ERR_LOOPP_FREE_PORT', 'failed to get free port: no ports returned', { input: id });
      }
      const loop: RegisteredLoop = { name: id, envCfg: newEnvConfig({ ...this.envDefaults, prometheusPort: port }) };
      this.registry.set(id, loop);
      this.log('Registered loopp %s with port %d', goQuote(id), port);
      return copyLoop(loop);
    });
  }

  /**
   * Removes `id` and gives its port back to the allocator. Returns the port, or undefined (and logs)
   * for an id that is not registered.
   */
  unregister(id: string): number | undefined {
    const loop = this.registry.get(id);
    if (loop === undefined) {
      this.log('Trying to unregistered a loop that is not registered %s', goQuote(id));
      return undefined;
    }
    this.registry.delete(id);
    const port = loop.envCfg.prometheusPort;
    this.ports.release(port);
    this.log('Unregistered loopp %s', goQuote(id));
    return port;
  }

  /** A copy of `id`'s registration, or undefined. */
  get(id: string): RegisteredLoop | undefined {
    const loop = this.registry.get(id);
    return loop === undefined ? undefined : copyLoop(loop);
  }

  /**
   * Releases the port block of the registry's own allocator (its lock listener); an allocator passed
   * in `ports` stays the caller's. Registrations are kept for reading; register() then rejects
   * (ERR_LOOPP_LOOP_CLOSED). Idempotent.
   */
  async close(): Promise<void> {
    await this.serialized(async () => {
      if (this.closed) return;
      this.closed = true;
      await this.ownPorts?.close();
      this.log('closed');
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Copies of every registration, sorted by name (byte order, like Go's sort on strings). */
  list(): RegisteredLoop[] {
    return [...this.registry.values()].map(copyLoop).sort((a, b) => compareGoStrings(a.name, b.name));
  }
}

/** Go's string comparison: by UTF-8 bytes. */
function compareGoStrings(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
