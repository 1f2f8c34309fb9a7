/**
 * The LOOP plugin's Prometheus endpoint (chainlink `plugins.PromServer` at v2.4.0): an HTTP server on
 * `CL_PROMETHEUS_PORT`, all interfaces, serving `GET /metrics` from a prom-client Registry.
 *
 * Fixed Go quirks: no global mux or registry (each server has its own handler and, by default, its own
 * Registry, so two servers in one process work; Go panics on the second); `close()` without `start()`
 * resolves at once (Go's hangs forever); a clean close logs nothing at error level (Go's logs
 * `http: Server closed` as an error).
 *
 * Kept from Go: `port()` is -1 until the listener exists (and after a failed listen), then the real
 * bound port, also after close; a 5 s read timeout (Go's ReadTimeout, "reasonable default based on
 * typical prom poll interval of 15s"), which also bounds how long `close()` waits for a slow request.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsRegistry } from '../wire/metrics-registry';
import { promClient } from './prom-client';
import { LoopError, messageOf } from '../../core/errors';

/** The logging the server does; a LoopPluginLogger or an HclogLogger fits. */
export interface PromServerLogger {
  readonly name?: string;
  debug(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface PromServerOptions {
  /** TCP port; 0 means an ephemeral port. */
  port: number;
  /** Address to bind; default all interfaces (IPv6 dual-stack where available), like Go's `:port`. */
  host?: string;
  /** Metrics to serve; default a new Registry of its own (never prom-client's global one). */
  registry?: MetricsRegistry;
  logger?: PromServerLogger;
  /** Default `<logger name>-prom-server` (Go's), or `prom-server` without a named logger. */
  name?: string;
  /** Time allowed to receive a whole request (Go's ReadTimeout); default 5000. */
  requestTimeoutMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 5000;

const silent: PromServerLogger = { debug() {}, warn() {}, error() {} };

export class PromServer {
  readonly name: string;
  readonly registry: MetricsRegistry;
  readonly #port: number;
  readonly #host: string | undefined;
  readonly #log: PromServerLogger;
  readonly #timeoutMs: number;
  #server: http.Server | undefined;
  #bound = -1;
  #starting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: PromServerOptions) {
    this.#port = options.port;
    this.#host = options.host;
    this.registry = options.registry ?? new (promClient().Registry)();
    this.#log = options.logger ?? silent;
    const loggerName = typeof options.logger?.name === 'string' ? options.logger.name : '';
    this.name = options.name ?? (loggerName === '' ? 'prom-server' : `${loggerName}-prom-server`);
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  /**
   * Listens and serves. Rejects with PluginError `ERR_LOOPP_LISTEN` and Go's wording
   * (`listen tcp :2112: bind: address already in use`) when the port cannot be bound, and with
   * `ERR_LOOPP_CLOSED` after close(). Calling it again returns the same promise.
   */
  start(): Promise<void> {
    if (this.#closing !== undefined && this.#starting === undefined) {
      return Promise.reject(new LoopError('ERR_LOOPP_LOOP_CLOSED', `${this.name} is closed`, { hint: 'Create a new PromServer.' }));
    }
    return (this.#starting ??= this.#listen());
  }

  /** -1 before the listener exists or after a failed listen; the bound port afterwards (also after close). */
  port(): number {
    return this.#bound;
  }

  /** Stops serving; waits for in-flight requests (at most the request timeout). Idempotent. */
  close(): Promise<void> {
    return (this.#closing ??= this.#close());
  }

  async #listen(): Promise<void> {
    const port = this.#port;
    const addr = goAddress(this.#host, port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new LoopError('ERR_LOOPP_LOOP_LISTEN', `listen tcp ${addr}: address ${String(port)}: invalid port`, {
        input: port,
        hint: 'CL_PROMETHEUS_PORT must be 0..65535.',
      });
    }
    this.#log.debug(`Starting prom server on port ${port}`);
    const timeout = this.#timeoutMs;
    const server = http.createServer(
      {
        requestTimeout: timeout,
        headersTimeout: timeout,
        // Node checks those timeouts only this often (default 30 s).
        connectionsCheckingInterval: Math.min(1000, timeout),
        keepAliveTimeout: timeout,
      },
      (req, res) => void this.#handle(req, res),
    );
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.#host === undefined ? { port } : { port, host: this.#host }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      server.close();
      throw new LoopError('ERR_LOOPP_LOOP_LISTEN', `listen tcp ${addr}: ${goListenReason(err)}`, {
        cause: err,
        input: port,
        hint: (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'Another process holds this port; the host assigns CL_PROMETHEUS_PORT.' : undefined,
      });
    }
    server.on('error', (err) => this.#log.error(`${this.name}: ${messageOf(err)}`));
    this.#server = server;
    this.#bound = (server.address() as AddressInfo).port;
  }

  async #close(): Promise<void> {
    if (this.#starting !== undefined) {
      try {
        await this.#starting;
      } catch {
        return;
      }
    }
    const server = this.#server;
    if (server === undefined) return;
    await new Promise<void>((resolve) => {
      // Go's Shutdown waits for active requests; the read timeout bounds them, then we cut them off.
      const force = setTimeout(() => server.closeAllConnections(), this.#timeoutMs);
      force.unref();
      server.close(() => {
        clearTimeout(force);
        resolve();
      });
      server.closeIdleConnections();
    });
    this.#log.debug(`${this.name} closed`);
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q === -1 ? url : url.slice(0, q);
    if (pathname !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end('404 page not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('405 method not allowed\n');
      return;
    }
    let body: string;
    try {
      body = await this.registry.metrics();
    } catch (err) {
      // promhttp's HTTPErrorOnError wording.
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end(`An error has occurred while serving metrics:\n\n${messageOf(err)}\n`);
      return;
    }
    res.writeHead(200, { 'Content-Type': this.registry.contentType, 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}

export function createPromServer(options: PromServerOptions): PromServer {
  return new PromServer(options);
}

/** Go's `TCPAddr.String()` for the listen address: `:2112`, `127.0.0.1:2112`, `[::1]:2112`. */
function goAddress(host: string | undefined, port: number): string {
  const p = String(port);
  if (host === undefined || host === '') return `:${p}`;
  return host.includes(':') ? `[${host}]:${p}` : `${host}:${p}`;
}

/** The part after `listen tcp <addr>: ` in Go's net.OpError text. */
function goListenReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'EADDRINUSE':
      return 'bind: address already in use';
    case 'EACCES':
      return 'bind: permission denied';
    case 'EADDRNOTAVAIL':
      return 'bind: cannot assign requested address';
    default:
      return messageOf(err);
  }
}
