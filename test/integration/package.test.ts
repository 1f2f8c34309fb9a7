/**
 * The packed package as a user gets it: `npm pack`, installed into empty projects and used through its
 * three entries, host-only (no prom-client in the tree):
 * - from CommonJS, with the oldest @grpc/grpc-js of the peer range;
 * - from ESM compiled by TypeScript with node16 resolution (declarations checked, no skipLibCheck),
 *   with the newest grpc-js tested.
 * Each project launches go-plugin's KV example (Go) and a TS plugin written against the package; one
 * runs the `loopp` command (npx loopp check / call) on go-plugin's own example KV plugin.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { goBinary, rmDir, run, tmpDir } from '../helpers';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const PEER_RANGE_LOW = '1.12.6';
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** A KV ServiceDefinition written by hand (any grpc-js ServiceDefinition must do), protobuf encoded by hand. */
const KV_DEF = `'use strict';
const field = (n, bytes) => Buffer.concat([Buffer.from([(n << 3) | 2, bytes.length]), bytes]);
const fields = (buf) => {
  const out = {};
  for (let i = 0; i < buf.length; ) { const n = buf[i] >> 3; const len = buf[i + 1]; out[n] = buf.subarray(i + 2, i + 2 + len); i += 2 + len; }
  return out;
};
const method = (name, enc, dec, encRes, decRes) => ({
  path: '/proto.KV/' + name, requestStream: false, responseStream: false,
  requestSerialize: enc, requestDeserialize: dec, responseSerialize: encRes, responseDeserialize: decRes,
});
const getReq = { enc: (r) => field(1, Buffer.from(r.key)), dec: (b) => ({ key: String(fields(b)[1] ?? '') }) };
const getRes = { enc: (r) => field(1, Buffer.from(r.value)), dec: (b) => ({ value: Buffer.from(fields(b)[1] ?? []) }) };
const putReq = { enc: (r) => Buffer.concat([field(1, Buffer.from(r.key)), field(2, Buffer.from(r.value))]), dec: (b) => { const f = fields(b); return { key: String(f[1] ?? ''), value: Buffer.from(f[2] ?? []) }; } };
const empty = { enc: () => Buffer.alloc(0), dec: () => ({}) };
exports.KV = {
  get: method('Get', getReq.enc, getReq.dec, getRes.enc, getRes.dec),
  put: method('Put', putReq.enc, putReq.dec, empty.enc, empty.dec),
};
exports.HANDSHAKE = { protocolVersion: 1, magicCookieKey: 'BASIC_PLUGIN', magicCookieValue: 'hello' };
`;

/** A TS-side plugin written against the package (plain CommonJS). */
const PLUGIN = `'use strict';
const { servePlugin, grpcPlugin } = require('loopp');
const { KV, HANDSHAKE } = require('./kv-def.cjs');
const store = new Map();
void servePlugin({
  handshake: HANDSHAKE,
  plugins: { kv_grpc: grpcPlugin({ server: ({ server }) => server.addService(KV, {
    get: (call, cb) => cb(null, { value: store.get(call.request.key) ?? Buffer.alloc(0) }),
    put: (call, cb) => { store.set(call.request.key, Buffer.from(call.request.value)); cb(null, {}); },
  }) }) },
});
`;

const HOST_CJS = `'use strict';
const { startPlugin, grpcPlugin, ERROR_CODES, isLooppError } = require('loopp');
const { LoopRegistry, LOOP_KINDS, startServer } = require('loopp/loop');
const { parseHandshakeLine } = require('loopp/protocol');
const { KV, HANDSHAKE } = require('./kv-def.cjs');

const call = (client, m, req) => new Promise((res, rej) => client[m](req, (e, r) => (e ? rej(e) : res(r))));
async function roundTrip(command, args) {
  const plugins = { kv_grpc: grpcPlugin({ client: ({ createClient }) => createClient(KV) }) };
  const p = await startPlugin({ command, args, handshake: HANDSHAKE, plugins });
  const kv = p.dispense('kv_grpc');
  await call(kv, 'put', { key: 'k', value: Buffer.from('v') });
  const got = (await call(kv, 'get', { key: 'k' })).value.toString();
  await p.ping();
  const exit = await p.close();
  return { got, exit };
}
(async () => {
  const out = {};
  out.go = await roundTrip(process.argv[2], []);
  out.ts = await roundTrip(process.execPath, [require('path').join(__dirname, 'plugin.cjs')]);
  const reg = new LoopRegistry();
  out.loop = { port: (await reg.register('median')).envCfg.prometheusPort > 0, cookie: LOOP_KINDS.median.handshake.magicCookieKey };
  await reg.close?.();
  out.promServer = await startServer('PluginX', { exitOnFailure: false, env: { CL_PROMETHEUS_PORT: '0', CL_MERCURY_TRANSMITTER_TRANSMIT__QUEUE_MAX_SIZE: '0', CL_MERCURY_TRANSMITTER_TRANSMIT_CONCURRENCY: '0' } }).then(
    () => 'started', (e) => ({ typed: isLooppError(e), code: e.code, prom: /prom-client/.test(e.message) }));
  out.parsed = parseHandshakeLine('1|1|unix|/tmp/x|grpc|', { hostVersions: [1] }).address;
  out.codes = Object.keys(ERROR_CODES).length > 0;
  out.promInstalled = (() => { try { require.resolve('prom-client'); return true; } catch { return false; } })();
  out.grpcVersion = require('@grpc/grpc-js/package.json').version;
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`;

const HOST_MTS = `import { startPlugin, grpcPlugin, StartError, type PluginClient, type PluginExit } from 'loopp';
import { LoopRegistry, LOOP_KINDS, startServer, type EnvConfig } from 'loopp/loop';
import { parseHandshakeLine, type Handshake } from 'loopp/protocol';
import * as grpc from '@grpc/grpc-js';
import kvDef from './kv-def.cjs';

type KvClient = grpc.Client & Record<'get' | 'put', (req: unknown, cb: (e: grpc.ServiceError | null, r: { value: Buffer }) => void) => void>;
const { KV, HANDSHAKE } = kvDef as { KV: grpc.ServiceDefinition; HANDSHAKE: { protocolVersion: number; magicCookieKey: string; magicCookieValue: string } };
const call = (client: KvClient, m: 'get' | 'put', req: unknown) => new Promise<{ value: Buffer }>((res, rej) => client[m](req, (e, r) => (e ? rej(e) : res(r))));

const plugins = { kv_grpc: grpcPlugin({ client: ({ createClient }) => createClient<KvClient>(KV) }) };
const p: PluginClient<typeof plugins> = await startPlugin({ command: process.argv[2] as string, handshake: HANDSHAKE, plugins });
const kv = p.dispense('kv_grpc');
await call(kv, 'put', { key: 'k', value: Buffer.from('esm') });
const got = (await call(kv, 'get', { key: 'k' })).value.toString();
const exit: PluginExit = await p.close();
const refused = await startPlugin({ command: '/nonexistent/plugin', handshake: HANDSHAKE, plugins }).catch((e: unknown) => e);
const reg = new LoopRegistry();
const env: EnvConfig = (await reg.register('relayer')).envCfg;
const prom = await startServer('PluginY', { exitOnFailure: false, env: { CL_PROMETHEUS_PORT: '0', CL_MERCURY_TRANSMITTER_TRANSMIT__QUEUE_MAX_SIZE: '0', CL_MERCURY_TRANSMITTER_TRANSMIT_CONCURRENCY: '0' } }).catch((e: { code: string }) => e.code);
const h: Handshake = parseHandshakeLine('1|1|tcp|127.0.0.1:9|grpc|', { hostVersions: [1] });
console.log(JSON.stringify({ got, exit, spawn: refused instanceof StartError ? refused.code : String(refused), port: env.prometheusPort > 0, kind: LOOP_KINDS.relayer.pluginName, prom, address: h.address }));
`;

let work: string;
let tarball: string;

function npm(args: string[], cwd: string): void {
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

function project(name: string, grpcVersion: string, type: 'commonjs' | 'module'): string {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, type }));
  npm(['install', tarball, `@grpc/grpc-js@${grpcVersion}`], dir);
  fs.writeFileSync(path.join(dir, 'kv-def.cjs'), KV_DEF);
  fs.writeFileSync(path.join(dir, 'plugin.cjs'), PLUGIN);
  return dir;
}

before(() => {
  work = tmpDir('loopp-package-');
  const out = execFileSync('npm', ['pack', '--pack-destination', work, '--loglevel=error'], { cwd: ROOT, encoding: 'utf8' });
  tarball = path.join(work, out.trim().split('\n').pop() as string);
});
after(() => rmDir(work));

describe('the packed package', () => {
  it('ships the package, not the tests: no test protos, fixtures or tests in it', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
    assert.ok(files.includes('package/dist/src/index.js'));
    assert.ok(files.includes('package/dist/src/protocol.d.ts'));
    assert.ok(files.includes('package/dist/src/loop/index.d.ts'));
    assert.ok(files.includes('package/dist/src/testing.d.ts'));
    assert.deepEqual(files.filter((f) => /\/(examples|fixtures|test)\//.test(f) || f.includes('/gen/examples') || f.includes('faults')), []);
  });

  it(`CommonJS, host-only, oldest grpc-js of the peer range (${PEER_RANGE_LOW}): loopp, loopp/loop and loopp/protocol`, async () => {
    assert.match(pkg.peerDependencies['@grpc/grpc-js'] as string, new RegExp(`^>=${PEER_RANGE_LOW.replace(/\./g, '\\.')} `));
    const dir = project('cjs-host', PEER_RANGE_LOW, 'commonjs');
    fs.writeFileSync(path.join(dir, 'host.cjs'), HOST_CJS);
    const r = await run(process.execPath, [path.join(dir, 'host.cjs'), goBinary('kv-plugin-go')], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      go: { got: 'v\n\nWritten from plugin-go-grpc', exit: { code: 0, signal: null, reason: 'closed' } },
      ts: { got: 'v', exit: { code: 0, signal: null, reason: 'closed' } },
      loop: { port: true, cookie: 'CL_PLUGIN_MEDIAN_MAGIC_COOKIE' },
      promServer: { typed: true, code: 'ERR_LOOPP_CONFIG', prom: true },
      parsed: '/tmp/x',
      codes: true,
      promInstalled: false,
      grpcVersion: PEER_RANGE_LOW,
    });
  });

  it('npx loopp, from the installed tarball: check passes on go-plugin\'s own KV example, call reads what it wrote', async () => {
    const dir = project('cli-user', pkg.devDependencies['@grpc/grpc-js'] as string, 'commonjs');
    const npx = (args: string[]) => run('npx', ['--no-install', 'loopp', ...args], { cwd: dir });
    const check = await npx(['check', '--json', '--cookie', 'BASIC_PLUGIN=hello', goBinary('example-kv-go')]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    const report = JSON.parse(check.stdout) as { rules: { id: string; status: string }[]; summary: { fail: number; exit: number } };
    assert.deepEqual([report.summary.fail, report.summary.exit], [0, 0]);
    assert.deepEqual(report.rules.filter((r) => r.status !== 'pass' && r.status !== 'n/a'), []);
    assert.equal(report.rules.find((r) => r.id === 'grpc.reflection')?.status, 'pass');
    // Each call launches the plugin afresh; the Go KV plugin keeps its values in files in the working directory.
    const put = await npx(['call', '--cookie', 'BASIC_PLUGIN=hello', goBinary('example-kv-go'), 'proto.KV/Put', '{"key":"k","value":"aGk="}']);
    assert.deepEqual([put.code, put.stdout], [0, '{}\n'], put.stderr);
    const get = await npx(['call', '--cookie', 'BASIC_PLUGIN=hello', goBinary('example-kv-go'), 'proto.KV/Get', '{"key":"k"}']);
    assert.equal(get.code, 0, get.stderr);
    assert.equal(Buffer.from((JSON.parse(get.stdout) as { value: string }).value, 'base64').toString(), 'hi\n\nWritten from plugin-go-grpc');
  });

  it('ESM, TypeScript node16 resolution with declarations checked (no skipLibCheck), host-only, newest grpc-js tested', async () => {
    const grpcVersion = pkg.devDependencies['@grpc/grpc-js'] as string;
    const dir = project('esm-host', grpcVersion, 'module');
    fs.writeFileSync(path.join(dir, 'host.mts'), HOST_MTS);
    fs.writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'node16',
          moduleResolution: 'node16',
          target: 'ES2022',
          strict: true,
          skipLibCheck: false,
          esModuleInterop: true,
          typeRoots: [path.join(ROOT, 'node_modules', '@types')],
          types: ['node'],
          outDir: 'out',
        },
        files: ['host.mts'],
      }),
    );
    fs.copyFileSync(path.join(dir, 'kv-def.cjs'), path.join(dir, 'kv-def.d.cts'));
    fs.writeFileSync(path.join(dir, 'kv-def.d.cts'), 'declare const def: unknown;\nexport = def;\n');
    const tsc = await run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { cwd: dir });
    assert.equal(tsc.code, 0, tsc.stdout + tsc.stderr);
    fs.copyFileSync(path.join(dir, 'kv-def.cjs'), path.join(dir, 'out', 'kv-def.cjs'));
    const r = await run(process.execPath, [path.join(dir, 'out', 'host.mjs'), goBinary('kv-plugin-go')], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      got: 'esm\n\nWritten from plugin-go-grpc',
      exit: { code: 0, signal: null, reason: 'closed' },
      spawn: 'ERR_LOOPP_SPAWN',
      port: true,
      kind: 'relayer',
      prom: 'ERR_LOOPP_CONFIG',
      address: '127.0.0.1:9',
    });
  });
});
