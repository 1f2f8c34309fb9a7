/**
 * The node-side metrics endpoint for LOOPs (chainlink's core/web/loop_registry.go): Prometheus HTTP
 * service discovery at `/discovery` and a scrape proxy at `/plugins/<name>/metrics`, so one scrape
 * target reaches every LOOP's own Prometheus port.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type { MetricsRegistry } from '../wire/metrics-registry';
import { createLog } from '../../core/debug';
import { ConfigError, messageOf } from '../../core/errors';

/** What discovery needs from a registry (LoopRegistry fits). */
export interface DiscoverableLoops {
  list(): ReadonlyArray<{ name: string; envCfg: { prometheusPort: number } }>;
  get(name: string): { name: string; envCfg: { prometheusPort: number } } | undefined;
}

export interface MetricsServerOptions {
  registry: DiscoverableLoops;
  /** Port to serve on (0 = ephemeral). */
  port: number;
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** Host published in /discovery (CL_PROMETHEUS_DISCOVERY_HOSTNAME; default the OS hostname or localhost). */
  discoveryHostname?: string;
  /** Port published in /discovery (the node's web port); defaults to the port served. */
  publishedPort?: number;
  /** Host used to reach the plugins' metrics (CL_LOOPP_HOSTNAME; default localhost). */
  looppHostname?: string;
  /** The node's own metrics, served at /metrics. */
  nodeRegistry?: MetricsRegistry;
  /** Proxy timeout (default 1000 ms, "much less than the prometheus poll interval"). */
  proxyTimeoutMs?: number;
}

export interface MetricsServer extends AsyncDisposable {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** One Prometheus HTTP-SD target group. */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** The /discovery body: the node first, then one group per LOOP in name order; always an array. */
export function discoveryGroups(registry: DiscoverableLoops, target: string): TargetGroup[] {
  const groups: TargetGroup[] = [{ targets: [target], labels: { __metrics_path__: '/metrics' } }];
  for (const loop of registry.list()) {
    groups.push({ targets: [target], labels: { __metrics_path__: `/plugins/${loop.name}/metrics` } });
  }
  return groups;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '"': '&#34;' };
function htmlEscape(s: string): string {
  return s.replace(/[&'<>"]/g, (c) => HTML_ESCAPES[c] as string);
}

function fetchText(url: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString()));
      res.on('error', (err) => reject(Object.assign(err, { phase: 'read' })));
    });
    // Go's http.Client Timeout covers the whole exchange; so does this timer.
    const timer = setTimeout(() => req.destroy(new Error('context deadline exceeded (Client.Timeout exceeded while awaiting headers)')), timeoutMs);
    timer.unref();
    req.on('close', () => clearTimeout(timer));
    req.on('timeout', () => req.destroy(new Error('context deadline exceeded (Client.Timeout exceeded while awaiting headers)')));
    req.on('error', (err) => reject(err));
  });
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new ConfigError('ERR_LOOPP_CONFIG', `invalid metrics server port ${options.port}`, { input: options.port, hint: 'Use 0..65535.' });
  }
  const log = createLog('loop:discovery');
  const host = options.host ?? '127.0.0.1';
  const looppHost = options.looppHostname ?? 'localhost';
  const timeoutMs = options.proxyTimeoutMs ?? 1000;
  let published = '';
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET') return send(405, 'text/plain; charset=utf-8', 'method not allowed');
    if (path === '/discovery') {
      return send(200, 'application/json', JSON.stringify(discoveryGroups(options.registry, published)));
    }
    if (path === '/metrics' && options.nodeRegistry !== undefined) {
      const reg = options.nodeRegistry;
      void reg.metrics().then((body) => send(200, reg.contentType, body), (err) => send(500, 'text/plain; charset=utf-8', messageOf(err)));
      return;
    }
    const m = /^\/plugins\/([^/]+)\/metrics$/.exec(path);
    if (m !== null) {
      const name = decodeURIComponent(m[1] as string);
      const loop = options.registry.get(name);
      if (loop === undefined) return send(404, 'text/plain; charset=utf-8', `plugin ${JSON.stringify(htmlEscape(name))} does not exist`);
      const url = `http://${looppHost}:${loop.envCfg.prometheusPort}/metrics`;
      fetchText(url, timeoutMs).then(
        (body) => send(200, 'text/plain; charset=utf-8', body),
        (err: Error & { phase?: string }) => {
          log('proxy %s: %s', url, err.message);
          if (err.phase === 'read') send(500, 'text/plain; charset=utf-8', `error reading plugin ${JSON.stringify(name)} metrics: ${err.message}`);
          else send(500, 'text/plain; charset=utf-8', `plugin metric handler failed to get plugin url ${url}: Get ${JSON.stringify(url)}: ${err.message}`);
        },
      );
      return;
    }
    send(404, 'text/plain; charset=utf-8', '404 page not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const discoveryHost = options.discoveryHostname ?? (hostname() || 'localhost');
  published = `${discoveryHost}:${options.publishedPort ?? port}`;
  log('serving /discovery and /plugins/<name>/metrics on %s:%d', host, port);
  let closing: Promise<void> | undefined;
  const handle: MetricsServer = {
    port,
    url: `http://${host}:${port}`,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
    [Symbol.asyncDispose]: () => handle.close(),
  };
  return handle;
}
