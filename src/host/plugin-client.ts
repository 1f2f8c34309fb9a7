/**
 * The handle a host holds on a started (or reattached) plugin. It is already connected: there is no
 * unstarted state to misuse. close() is go-plugin's Kill(): broker close, Shutdown, channel close,
 * a bounded wait for the exit, then SIGKILL. Both close() and kill() are idempotent.
 */
import * as grpc from '@grpc/grpc-js';
import type { GrpcBroker } from '../shared/broker';
import { HEALTH_SERVICE_NAME } from '../core/constants';
import type { Log } from '../core/debug';
import { PluginError } from '../core/errors';
import type { Network } from '../wire/handshake';
import { createClient, type DispensedClient, type PluginSet } from '../shared/plugin-set';
import type { PluginConnection } from './connection';
import type { PluginExit, ProcessControl } from './runner/exit-state';
import { guardPath } from './runner/orphan-guard';
import { removeStaleSockets } from './stale-sockets';

/** go-plugin's ReattachConfig, in the JSON shape Terraform & co. use (TF_REATTACH_PROVIDERS). */
export interface ReattachConfig {
  Protocol: 'grpc' | 'netrpc' | '';
  ProtocolVersion?: number;
  Addr: { Network: Network; String: string };
  Pid: number;
  Test?: boolean;
}

export interface PluginClientInit<P extends PluginSet> {
  name: string;
  connection: PluginConnection;
  process: ProcessControl;
  plugins: P;
  protocolVersion: number;
  network: Network;
  address: string;
  reattached: ReattachConfig | undefined;
  /** When the process was spawned (sockets older than that are not its own); unused on reattach. */
  spawnedAtMs: number;
  gracefulShutdownMs: number;
  log: Log;
}

export interface PingOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

export class PluginClient<P extends PluginSet = PluginSet> implements AsyncDisposable {
  readonly name: string;
  /** The negotiated app protocol version. */
  readonly protocolVersion: number;
  readonly network: Network;
  readonly address: string;
  readonly pid: number;
  /** Settles when the process has exited; never rejects. */
  readonly exited: Promise<PluginExit>;
  #c: PluginClientInit<P>;
  #abort = new AbortController();
  #closing: Promise<PluginExit> | undefined;

  constructor(init: PluginClientInit<P>) {
    this.#c = init;
    this.name = init.name;
    this.protocolVersion = init.protocolVersion;
    this.network = init.network;
    this.address = init.address;
    this.pid = init.process.pid;
    // A plugin that was killed or crashed cannot remove its sockets (main and broker); the host does,
    // once the process is gone, and only paths that are still sockets (they came from the plugin).
    const ownSocket = init.reattached === undefined && init.network === 'unix' && init.process.pid > 0;
    if (ownSocket) guardPath(init.address, true);
    this.exited = init.process.exited.then(async (e) => {
      if (init.reattached === undefined) {
        const paths = [...init.connection.broker.peerSocketPaths];
        if (init.network === 'unix') paths.push(init.address);
        await removeStaleSockets(paths, init.spawnedAtMs);
      }
      if (ownSocket) guardPath(init.address, false);
      return e;
    });
    void this.exited.then((e) => {
      init.log('exited code=%s signal=%s reason=%s', e.code, e.signal, e.reason);
      this.#abort.abort(new PluginError('ERR_LOOPP_CLOSED', `plugin ${this.name} exited`, { input: e }));
      void this.#c.connection.close();
    });
  }

  /** The gRPC connection to the plugin. */
  get channel(): grpc.ChannelInterface {
    return this.#c.connection.channel;
  }

  get broker(): GrpcBroker {
    return this.#c.connection.broker;
  }

  /** Aborted when the plugin exits or the client is closed (go-plugin's doneCtx). */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  get hasExited(): boolean {
    return this.#c.process.hasExited;
  }

  /** Builds the client object of plugin `name` (no RPC is made, as in go-plugin). */
  dispense<K extends keyof P & string>(name: K): DispensedClient<P[K]> {
    if (this.#closing !== undefined || this.hasExited) {
      throw new PluginError('ERR_LOOPP_CLOSED', `plugin ${this.name} is closed`, { input: name, hint: 'Start a new client.' });
    }
    const plugin = Object.prototype.hasOwnProperty.call(this.#c.plugins, name) ? this.#c.plugins[name] : undefined;
    if (plugin === undefined) {
      throw new PluginError('ERR_LOOPP_UNKNOWN_PLUGIN', `unknown plugin type: ${name}`, {
        input: name,
        hint: `Known plugins: ${Object.keys(this.#c.plugins).join(', ') || '(none)'}.`,
      });
    }
    if (plugin.client === undefined) {
      throw new PluginError('ERR_LOOPP_UNKNOWN_PLUGIN', `plugin ${JSON.stringify(name)} doesn't support gRPC`, {
        input: name,
        hint: 'Give the plugin definition a client() factory.',
      });
    }
    const channel = this.channel;
    return plugin.client({
      channel,
      broker: this.broker,
      signal: this.signal,
      createClient: <T extends grpc.Client>(definition: grpc.ServiceDefinition) => createClient<T>(definition, channel),
    }) as DispensedClient<P[K]>;
  }

  /** grpc.health.v1 Check("plugin"): resolves when the plugin answers, rejects otherwise. */
  ping(options: PingOptions = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
      const call = this.#c.connection.health.check({ service: HEALTH_SERVICE_NAME }, new grpc.Metadata(), { deadline }, (err) => {
        options.signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve();
      });
      const onAbort = () => call.cancel();
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** go-plugin's ReattachConfig for this plugin (ProtocolVersion filled, unlike Go). */
  reattachConfig(): ReattachConfig {
    return (
      this.#c.reattached ?? {
        Protocol: 'grpc',
        ProtocolVersion: this.protocolVersion,
        Addr: { Network: this.network, String: this.address },
        Pid: this.pid,
      }
    );
  }

  /**
   * Graceful stop: broker close, GRPCController.Shutdown, channel close, and SIGKILL if the process
   * has not exited `gracefulShutdownMs` after close() was called. Resolves with the exit. Idempotent.
   */
  close(): Promise<PluginExit> {
    return (this.#closing ??= this.#close());
  }

  async #close(): Promise<PluginExit> {
    const { connection, process: proc, log, gracefulShutdownMs } = this.#c;
    if (proc.hasExited) return this.exited;
    log('closing');
    proc.expectExit('closed');
    // One budget for the whole close, counted from here. Arming the timer only after the Shutdown
    // call let a plugin that cannot answer (stalled socket, stopped process) live for twice
    // gracefulShutdownMs: the Shutdown deadline, then the exit wait (found by test/faults).
    const deadline = Date.now() + gracefulShutdownMs;
    const timer = setTimeout(() => {
      log('plugin failed to exit gracefully');
      proc.kill();
    }, gracefulShutdownMs);
    timer.unref();
    await connection.broker.close();
    await new Promise<void>((resolve) => {
      // The reply is ignored as in Go; a plugin that never answers only costs the bounded wait.
      try {
        connection.controller.shutdown({}, new grpc.Metadata(), { deadline }, () => resolve());
      } catch {
        // grpc-js throws synchronously once the shared channel is closed (a dispensed client's
        // close() closes it); close() then rejected and left the plugin running. Go on to the kill.
        resolve();
      }
    });
    await connection.close();
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  /** SIGKILL now (for a reattached plugin with pid 0, only the connection is dropped). */
  kill(): Promise<PluginExit> {
    const { connection, process: proc } = this.#c;
    proc.kill();
    void connection.close();
    return this.exited;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
