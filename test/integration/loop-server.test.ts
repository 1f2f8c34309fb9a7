/**
 * The LOOP plugin server base in real processes: startServer's fatal path (real stderr, real exit 1),
 * and a TS LOOP plugin (startServer + servePlugin) launched by the loopp host, whose JSON log lines
 * reach the host from the real stderr and whose /metrics shows the registered service's health.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isHclogTimestamp } from '../../src/wire/hclog';
import { startPlugin } from '../../src/index';
import type { PluginLogEntry } from '../../src/host/stderr';
import { rmDir, run, sleep, tmpDir } from '../helpers';

const SERVER_JS = require.resolve('../../src/loop/plugin/start-server');
const BASE_JS = require.resolve('../../src/loop/plugin/base');
const SERVE_JS = require.resolve('../../src/plugin/serve');

/** The two uint32 variables the newest EnvConfig parser requires (a newest host always sends them). */
const MERCURY = { CL_MERCURY_TRANSMITTER_TRANSMIT__QUEUE_MAX_SIZE: '0', CL_MERCURY_TRANSMITTER_TRANSMIT_CONCURRENCY: '0' };

const handshake = { protocolVersion: 0, magicCookieKey: 'LOOPP_LOOP_SERVER_TEST', magicCookieValue: 'e1b2c3' };

let dir: string;
before(() => {
  dir = tmpDir('loopp-loopsrv-');
  fs.writeFileSync(
    path.join(dir, 'fatal.js'),
    `require(${JSON.stringify(SERVER_JS)}).startServer('PluginBad').then(() => { console.log('unreachable'); });\n`,
  );
  fs.writeFileSync(
    path.join(dir, 'loop-plugin.js'),
    `'use strict';
const { startServer } = require(${JSON.stringify(SERVER_JS)});
const { Base } = require(${JSON.stringify(BASE_JS)});
const { servePlugin } = require(${JSON.stringify(SERVE_JS)});
(async () => {
  const s = await startServer('PluginTest');
  const p = new Base(s.logger.named('Relayer'));
  p.subService({
    name: () => 'PluginTest.Relayer.Chain',
    close: async () => {},
    ready: () => {},
    healthReport: () => ({ 'PluginTest.Relayer.Chain': new Error('rpc down') }),
  });
  s.mustRegister(p);
  const srv = await servePlugin({
    handshake: ${JSON.stringify(handshake)},
    plugins: { test: { server() {} } },
    serverOptions: s.grpcServerOptions,
  });
  s.logger.info('serving', { promPort: s.promServer.port() });
  process.stderr.write('this goes through GRPCStdio\\n');
  await srv.closed;
  await s.stop();
})();
`,
  );
});
after(() => rmDir(dir));

describe('LOOP server base in a real process', () => {
  it('startServer with a bad CL_PROMETHEUS_PORT writes one fatal JSON line to stderr and exits 1', async () => {
    const r = await run(process.execPath, [path.join(dir, 'fatal.js')], { env: { PATH: process.env.PATH ?? '', ...MERCURY, CL_PROMETHEUS_PORT: '21x2' } });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1, r.stderr);
    const rec = JSON.parse(lines[0] as string) as Record<string, unknown>;
    assert.deepEqual(Object.keys(rec), ['@level', '@timestamp', 'logger', '@message']);
    assert.equal(rec['@level'], 'fatal');
    assert.equal(rec['logger'], 'PluginBad');
    assert.ok(isHclogTimestamp(rec['@timestamp'] as string));
    assert.equal(rec['@message'], 'Failed to get environment configuration: failed to parse CL_PROMETHEUS_PORT = "21x2": strconv.Atoi: parsing "21x2": invalid syntax');
  });

  it('a TS LOOP plugin: logs reach the host as JSON entries, /metrics shows health{service_id}', async () => {
    const logs: PluginLogEntry[] = [];
    const client = await startPlugin({
      command: process.execPath,
      args: [path.join(dir, 'loop-plugin.js')],
      env: { ...MERCURY, CL_PROMETHEUS_PORT: '0' },
      handshake,
      plugins: { test: { client: () => ({}) } },
      onLog: (e) => void logs.push(e),
    });
    try {
      let serving: PluginLogEntry | undefined;
      for (let i = 0; i < 100 && serving === undefined; i++) {
        serving = logs.find((e) => e.message === 'serving');
        if (serving === undefined) await sleep(20);
      }
      assert.ok(serving, `no "serving" line: ${JSON.stringify(logs.map((e) => e.raw))}`);
      assert.equal(serving.json, true);
      assert.equal(serving.level, 'info');
      assert.equal(serving.fields['logger'], 'PluginTest');
      const port = serving.fields['promPort'];
      assert.equal(typeof port, 'number');
      assert.ok(
        logs.some((e) => e.json && e.level === 'debug' && e.message === 'Starting prom server on port 0' && e.fields['logger'] === 'PluginTest'),
        JSON.stringify(logs.map((e) => e.raw)),
      );

      let body = '';
      for (let i = 0; i < 50; i++) {
        body = await (await fetch(`http://127.0.0.1:${String(port)}/metrics`)).text();
        if (body.includes('service_id="PluginTest.Relayer.Chain"')) break;
        await sleep(20);
      }
      assert.match(body, /^health\{service_id="PluginTest\.Relayer"\} 1$/m);
      assert.match(body, /^health\{service_id="PluginTest\.Relayer\.Chain"\} 0$/m);
      assert.match(body, /^uptime_seconds 15$/m);
      assert.match(body, /^version\{version="unset",commit="unset"\} 1$/m);
    } finally {
      const exit = await client.close();
      assert.equal(exit.code, 0);
    }
    assert.ok(!logs.some((e) => e.level === 'error'), JSON.stringify(logs.map((e) => e.raw)));
  });
});
