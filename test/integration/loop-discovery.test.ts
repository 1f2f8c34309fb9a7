/**
 * The node-side metrics endpoint: /discovery (Prometheus HTTP SD) and the /plugins/<name>/metrics
 * proxy with go's texts, against real HTTP servers standing in for LOOP Prometheus ports.
 */
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startMetricsServer, type DiscoverableLoops, type MetricsServer } from '../../src/loop/host/discovery';

function fakePlugin(body: string, delayMs = 0): Promise<http.Server> {
  const s = http.createServer((req, res) => {
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/openmetrics-text' });
      res.end(req.url === '/metrics' ? body : 'nope');
    }, delayMs);
  });
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r(s)));
}
const portOf = (s: http.Server) => (s.address() as AddressInfo).port;

async function get(url: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

let fast: http.Server;
let slow: http.Server;
let loops: Map<string, { name: string; envCfg: { prometheusPort: number } }>;
let server: MetricsServer;
const registry: DiscoverableLoops = {
  list: () => [...loops.values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
  get: (n) => loops.get(n),
};

before(async () => {
  fast = await fakePlugin('plugin_metric 1\n');
  slow = await fakePlugin('late 1\n', 1500);
  loops = new Map();
  server = await startMetricsServer({ registry, port: 0, discoveryHostname: 'node.example', publishedPort: 6688, looppHostname: '127.0.0.1' });
});
after(async () => {
  await server.close();
  fast.close();
  slow.close();
});

describe('/discovery', () => {
  it('is an array with the node first even when no LOOP is registered', async () => {
    const r = await get(`${server.url}/discovery`);
    assert.equal(r.status, 200);
    assert.equal(r.type, 'application/json');
    assert.deepEqual(JSON.parse(r.body), [{ targets: ['node.example:6688'], labels: { __metrics_path__: '/metrics' } }]);
  });
  it('lists one group per LOOP in name order', async () => {
    loops.set('b.relayer', { name: 'b.relayer', envCfg: { prometheusPort: portOf(fast) } });
    loops.set('a.median', { name: 'a.median', envCfg: { prometheusPort: portOf(slow) } });
    const groups = JSON.parse((await get(`${server.url}/discovery`)).body) as Array<{ labels: { __metrics_path__: string } }>;
    assert.deepEqual(
      groups.map((g) => g.labels.__metrics_path__),
      ['/metrics', '/plugins/a.median/metrics', '/plugins/b.relayer/metrics'],
    );
  });
});

describe('/plugins/<name>/metrics', () => {
  it('proxies the plugin\'s /metrics as text/plain', async () => {
    const r = await get(`${server.url}/plugins/b.relayer/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.type, /^text\/plain/);
    assert.equal(r.body, 'plugin_metric 1\n');
  });
  it('404s an unknown name with go\'s text (HTML-escaped)', async () => {
    const r = await get(`${server.url}/plugins/${encodeURIComponent('<x>')}/metrics`);
    assert.equal(r.status, 404);
    assert.equal(r.body, 'plugin "&lt;x&gt;" does not exist');
  });
  it('fails after 1 s with go\'s text when the plugin is slow', async () => {
    const t0 = Date.now();
    const r = await get(`${server.url}/plugins/a.median/metrics`);
    const ms = Date.now() - t0;
    assert.equal(r.status, 500);
    const url = `http://127.0.0.1:${portOf(slow)}/metrics`;
    assert.ok(r.body.startsWith(`plugin metric handler failed to get plugin url ${url}: Get "${url}": `), r.body);
    assert.ok(ms >= 900 && ms < 1400, `took ${ms} ms`);
  });
  it('500s when the plugin port is closed', async () => {
    loops.set('c.gone', { name: 'c.gone', envCfg: { prometheusPort: 1 } });
    const r = await get(`${server.url}/plugins/c.gone/metrics`);
    assert.equal(r.status, 500);
    assert.match(r.body, /^plugin metric handler failed to get plugin url http:\/\/127\.0\.0\.1:1\/metrics: Get "http:\/\/127\.0\.0\.1:1\/metrics": connect ECONNREFUSED/);
  });
});
