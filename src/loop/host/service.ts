/**
 * Host-side supervision of one LOOP (chainlink-common's pluginService, with the newest behaviour):
 * launch at once through the command factory, ping every 5 s, and relaunch with a fresh command on a
 * failed ping or an exit. Until the plugin's service exists, ready() and healthReport() say
 * `plugin unavailable`. Every relaunch builds the service anew (no state bound to a dead process).
 */
import { createLog, type Log } from '../../core/debug';
import { LoopError, messageOf } from '../../core/errors';
import { startPlugin, type GrpcPlugin, type Logger, type PluginClient, type PluginSet, type StartPluginOptions } from '../../index';
import type { LoopKind } from '../wire/handshakes';
import { createLoopRelogger, type LoopLogRecord } from './relog';

/** What a command factory yields per launch. */
export interface LoopLaunchSpec {
  command: string;
  args?: readonly string[];
  env: Readonly<Record<string, string>>;
  /** Newest chainlink behaviour: only the LOOP's and go-plugin's variables reach the child. */
  skipHostEnv?: boolean;
  cwd?: string;
}

/** The service a LOOP hands back (e.g. a relayer): all optional, used when present. */
export interface LoopHostedService {
  close?(): Promise<void> | void;
  ready?(): Promise<void> | void;
  healthReport?(): Record<string, Error | null> | Promise<Record<string, Error | null>>;
}

export const PLUGIN_UNAVAILABLE = 'plugin unavailable';

function unavailable(lastError: Error | undefined): LoopError {
  return new LoopError('ERR_LOOPP_LOOP_UNAVAILABLE', PLUGIN_UNAVAILABLE, {
    cause: lastError,
    hint: 'The LOOP is not running (not launched yet, or relaunching after a crash); the cause says why, when known.',
  });
}

export interface LoopServiceOptions<C, S extends LoopHostedService> {
  /** Name in health reports and logs (e.g. `RelayerService`). */
  name: string;
  kind: LoopKind;
  cmdFactory: () => LoopLaunchSpec;
  /** Host-side client factory for the dispensed plugin. */
  plugin: GrpcPlugin<C>;
  /** Builds the service on a freshly launched plugin (e.g. calls NewRelayer). */
  newService: (client: C, plugin: PluginClient<PluginSet>) => Promise<S>;
  pingIntervalMs?: number;
  startTimeoutMs?: number;
  /** Receives the plugin's log lines re-logged at their level (panics and fatals at critical). */
  logger?: Logger;
  onLog?: (record: LoopLogRecord) => void;
  /** Called after every successful launch, with the launch duration. */
  onLaunched?: (info: { launch: number; ms: number; pid: number }) => void;
  /** Called when a supervised plugin process exits on its own. */
  onExited?: (info: { pid: number; code: number | null; signal: NodeJS.Signals | null }) => void;
  /** The host's channel for the LOOP's connection and its broker ids: loopp's own (default) or `'grpc-js'`. */
  grpcChannel?: StartPluginOptions<PluginSet>['grpcChannel'];
  /** Called once, at the end of close() (e.g. to release what was registered for this LOOP). */
  onClosed?: () => void;
}

export class LoopService<C, S extends LoopHostedService> implements AsyncDisposable {
  readonly name: string;
  #o: LoopServiceOptions<C, S>;
  #log: Log;
  #client: PluginClient<PluginSet> | undefined;
  #service: S | undefined;
  #launching: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #launches = 0;
  #lastError: Error | undefined;
  #waiters = new Set<() => void>();

  constructor(options: LoopServiceOptions<C, S>) {
    this.name = options.name;
    this.#o = options;
    this.#log = createLog('loop:service', options.name);
  }

  /** Number of successful launches so far. */
  get launches(): number {
    return this.#launches;
  }

  /** The running plugin's pid, if any. */
  get pid(): number | undefined {
    return this.#client?.hasExited === false ? this.#client.pid : undefined;
  }

  /** The current service, or undefined while the plugin is down. */
  get service(): S | undefined {
    return this.#service;
  }

  /** Launches at once, then supervises. */
  start(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#log('starting');
    void this.#relaunch('start');
    this.#timer = setInterval(() => void this.#tick(), this.#o.pingIntervalMs ?? 5000);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    if (this.#closed || this.#launching !== undefined) return;
    const client = this.#client;
    if (client === undefined || client.hasExited) {
      await this.#relaunch('not running');
      return;
    }
    try {
      await client.ping({ timeoutMs: this.#o.pingIntervalMs ?? 5000 });
    } catch (err) {
      // A plugin that is dying fails its ping first: give the exit a moment to be seen as the crash it
      // is before we kill the process.
      await Promise.race([client.exited, new Promise((r) => setTimeout(r, 250).unref())]);
      if (this.#closed || this.#client !== client || this.#launching !== undefined) return;
      this.#log('Relaunching unhealthy plugin: %s', messageOf(err));
      await this.#relaunch('unhealthy');
    }
  }

  #relaunch(why: string): Promise<void> {
    return (this.#launching ??= this.#launch(why).finally(() => (this.#launching = undefined)));
  }

  async #launch(why: string): Promise<void> {
    const old = this.#client;
    const oldService = this.#service;
    this.#client = undefined;
    this.#service = undefined;
    if (oldService !== undefined) await Promise.resolve(oldService.close?.()).catch(() => {});
    if (old !== undefined) await old.kill();
    if (this.#closed) return;
    this.#log('launching (%s)', why);
    const t0 = performance.now();
    let client: PluginClient<PluginSet> | undefined;
    try {
      const spec = this.#o.cmdFactory();
      const relog = this.#o.logger !== undefined || this.#o.onLog !== undefined
        ? createLoopRelogger(this.#o.logger ?? { debug() {}, info() {}, warn() {}, error() {} }, this.#o.onLog)
        : undefined;
      client = await startPlugin({
        command: spec.command,
        args: spec.args,
        env: spec.env,
        cwd: spec.cwd,
        skipHostEnv: spec.skipHostEnv ?? true,
        handshake: this.#o.kind.handshake,
        plugins: { [this.#o.kind.pluginName]: this.#o.plugin },
        // LOOPs run plaintext gRPC on unix sockets, without multiplexing.
        autoMTLS: false,
        startTimeoutMs: this.#o.startTimeoutMs,
        grpcChannel: this.#o.grpcChannel,
        onLog: relog,
        name: this.name,
      });
      if (this.#closed) {
        await client.kill();
        return;
      }
      const dispensed = client.dispense(this.#o.kind.pluginName) as C;
      const service = await this.#o.newService(dispensed, client);
      if (this.#closed) {
        await Promise.resolve(service.close?.()).catch(() => {});
        await client.kill();
        return;
      }
      this.#client = client;
      this.#service = service;
      this.#launches++;
      this.#lastError = undefined;
      const ms = performance.now() - t0;
      this.#log('launched #%d pid=%d in %d ms', this.#launches, client.pid, Math.round(ms));
      this.#o.onLaunched?.({ launch: this.#launches, ms, pid: client.pid });
      for (const w of [...this.#waiters]) w();
      const launched = client;
      // An exit relaunches right away rather than at the next ping.
      void launched.exited.then((e) => {
        if (this.#closed) return;
        // A crash may first show as a failed ping (which already relaunched); it is still a crash.
        if (e.reason === 'crashed') this.#o.onExited?.({ pid: launched.pid, code: e.code, signal: e.signal });
        if (this.#client !== launched) return;
        this.#log('plugin exited (code=%s signal=%s); relaunching', e.code, e.signal);
        void this.#relaunch('exited');
      });
    } catch (err) {
      this.#lastError = err instanceof Error ? err : new Error(String(err));
      this.#log('Failed to launch plugin: %s', messageOf(err));
      if (client !== undefined) await client.kill();
    }
  }

  /** Resolves once the service exists (or rejects when the signal aborts or the service closes). */
  wait(options: { signal?: AbortSignal } = {}): Promise<S> {
    if (this.#service !== undefined) return Promise.resolve(this.#service);
    return new Promise((resolve, reject) => {
      const signal = options.signal;
      const done = () => {
        this.#waiters.delete(check);
        signal?.removeEventListener('abort', onAbort);
      };
      const check = () => {
        if (this.#service !== undefined) {
          done();
          resolve(this.#service);
        } else if (this.#closed) {
          done();
          reject(new LoopError('ERR_LOOPP_LOOP_CLOSED', `${this.name} is closed`, { hint: 'Create a new LoopService.' }));
        }
      };
      const onAbort = () => {
        done();
        reject(signal?.reason);
      };
      this.#waiters.add(check);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Throws `plugin unavailable` until the plugin's service exists. */
  async ready(): Promise<void> {
    if (this.#service === undefined) throw unavailable(this.#lastError);
    await this.#service.ready?.();
  }

  /** `{ [name]: null }` merged with the service's report, or `{ [name]: plugin unavailable }`. */
  async healthReport(): Promise<Record<string, Error | null>> {
    const s = this.#service;
    if (s === undefined) return { [this.name]: unavailable(this.#lastError) };
    return { [this.name]: null, ...((await s.healthReport?.()) ?? {}) };
  }

  /** Stops supervising, closes the service and the plugin. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    for (const w of [...this.#waiters]) w();
    await this.#launching;
    const s = this.#service;
    this.#service = undefined;
    if (s !== undefined) await Promise.resolve(s.close?.()).catch((e) => this.#log('closing service: %s', messageOf(e)));
    await this.#client?.close();
    this.#client = undefined;
    this.#log('closed');
    this.#o.onClosed?.();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
