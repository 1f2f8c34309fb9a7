/**
 * No secret reaches a log line or an error: host and plugins run with DEBUG=loopp:* (host in
 * process, plugins through their env) and AutoMTLS, LOOPs get a database password, telemetry and
 * Pyroscope tokens, and errors are provoked with secret-bearing input. Everything captured (every
 * debug line, every plugin stderr byte, every re-logged LOOP record, and each error's message, JSON
 * and util.inspect form with its cause chain) is searched for the secrets and for private keys: the
 * host's own keys in PEM, DER base64, DER hex and JWK forms, and any base64 run that decodes to an EC
 * private key structure (the plugins' keys, which this process never sees).
 */
import assert from 'node:assert/strict';
import { createPrivateKey, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import * as util from 'node:util';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import createDebug from 'debug';
import * as certModule from '../../src/net/mtls/cert';
import { grpcPlugin, startPlugin, type PluginClientContext } from '../../src/index';
import { BrokerTestClient, EchoClient, EchoService, type EchoReply, type ServeEchoResponse } from '../../fixtures/gen/examples/brokertest/brokertest';
import { KVClient } from '../../fixtures/gen/examples/kv/kv';
import { LOOP_KINDS, LoopRegistry, LoopService, asCmdEnv, newCmdFactory, newEnvConfig, parseEnvConfig, type LoopLogRecord } from '../../src/loop/index';
import type { LoopHostedService } from '../../src/loop/host/service';
import { echoServer } from '../../fixtures/brokertest/echo';
import { binary, fixture, fixtureAt, goBinary, kvGet, kvPut, sleep } from '../helpers';

const tag = randomBytes(6).toString('hex');
const SECRETS = {
  dbPassword: `Db-Passw0rd-${tag}`,
  authHeader: `Bearer-telemetry-${tag}`,
  pyroscopeToken: `pyro-token-${tag}`,
  appSecret: `app-secret-${tag}`,
  hostCanary: `host-canary-${tag}`,
  tracingToken: `trace-token-${tag}`,
};

const captured: Array<{ where: string; text: string }> = [];
const keep = (where: string, text: string) => captured.push({ where, text });
const sink = (where: string) =>
  new Writable({
    write(chunk: Buffer, _enc, cb) {
      keep(where, chunk.toString());
      cb();
    },
  });
const keepError = (where: string, err: unknown) => {
  keep(`${where} message`, err instanceof Error ? err.message : String(err));
  keep(`${where} JSON`, JSON.stringify(err));
  keep(`${where} inspect`, util.inspect(err, { depth: 8 }));
};

// Every certificate this process generates, so its key can be searched for in every form.
const ownKeys: string[] = [];
const realGenerate = certModule.generateCertificate;
const realDebugLog = createDebug.log;
before(() => {
  (certModule as { generateCertificate: typeof realGenerate }).generateCertificate = (o) => {
    const bundle = realGenerate(o);
    const key = createPrivateKey(bundle.keyPem);
    const der = key.export({ type: 'sec1', format: 'der' });
    const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
    const d = key.export({ format: 'jwk' }).d as string;
    ownKeys.push(der.toString('base64'), der.toString('hex'), pkcs8.toString('base64'), d, Buffer.from(d, 'base64url').toString('hex'), Buffer.from(d, 'base64url').toString('base64'));
    ownKeys.push(...bundle.keyPem.split('\n').filter((l) => l.length === 64));
    return bundle;
  };
  createDebug.log = (...args: unknown[]) => keep('host debug', util.format(...args));
  createDebug.enable('loopp:*');
  process.env.LOOPP_SECRET_CANARY = SECRETS.hostCanary;
});
after(() => {
  (certModule as { generateCertificate: typeof realGenerate }).generateCertificate = realGenerate;
  createDebug.log = realDebugLog;
  createDebug.disable();
  delete process.env.LOOPP_SECRET_CANARY;
});

/** SEC1 (`02 01 01 04 42`: version 1, 66-byte P-521 scalar) or PKCS#8 EC (`02 01 00 30 .. 2a 86 48 ce 3d 02 01`) private key bytes. */
function holdsEcPrivateKey(bytes: Buffer): boolean {
  return bytes.includes(Buffer.from('0201010442', 'hex')) || bytes.includes(Buffer.from('020100301006072a8648ce3d0201', 'hex'));
}

function assertNothingLeaked(minimum: Record<string, number>): void {
  for (const [where, n] of Object.entries(minimum)) {
    const count = captured.filter((c) => c.where.startsWith(where)).length;
    assert.ok(count >= n, `expected at least ${n} captures from ${where}, got ${count}`);
  }
  assert.ok(ownKeys.length > 0, 'no host key was generated');
  // The generic detector recognises a real key in both encodings it may meet.
  assert.ok(holdsEcPrivateKey(Buffer.from(ownKeys[0] as string, 'base64')) && holdsEcPrivateKey(Buffer.from(ownKeys[2] as string, 'base64')));
  for (const { where, text } of captured) {
    for (const [name, secret] of Object.entries(SECRETS)) assert.ok(!text.includes(secret), `${name} in ${where}: ${text}`);
    assert.doesNotMatch(text, /PRIVATE KEY/, where);
    for (const k of ownKeys) assert.ok(!text.includes(k), `the host's private key in ${where}`);
    for (const run of text.match(/[A-Za-z0-9+/_-]{60,}={0,2}/g) ?? []) {
      assert.ok(!holdsEcPrivateKey(Buffer.from(run, 'base64')), `an EC private key (base64) in ${where}`);
    }
    for (const run of text.match(/[0-9a-fA-F]{100,}/g) ?? []) {
      assert.ok(!holdsEcPrivateKey(Buffer.from(run, 'hex')), `an EC private key (hex) in ${where}`);
    }
  }
}

function unary<Res>(client: grpc.Client, method: string, req: object): Promise<Res> {
  type Fn = (r: object, cb: (e: grpc.ServiceError | null, res: Res) => void) => void;
  const fn = (client as unknown as Record<string, Fn>)[method] as Fn;
  return new Promise((resolve, reject) => fn.call(client, req, (e, r) => (e ? reject(e) : resolve(r))));
}

describe('secrets stay out of logs and errors', () => {
  for (const mux of [false, true]) {
    it(`TS host <-> TS plugin, AutoMTLS, ${mux ? 'multiplexed' : 'classic'} broker both ways, DEBUG=loopp:* on both sides`, async () => {
      await using p = await startPlugin({
        command: process.execPath,
        args: [fixtureAt('brokertest/brokertest-plugin')],
        env: { DEBUG: 'loopp:*', APP_SECRET: SECRETS.appSecret },
        handshake: { protocolVersion: 1, magicCookieKey: 'BASIC_PLUGIN', magicCookieValue: 'hello' },
        plugins: { brokertest: grpcPlugin({ client: (ctx: PluginClientContext) => ({ ctx, client: ctx.createClient<BrokerTestClient>(BrokerTestClient.service) }) }) },
        grpcBrokerMultiplex: mux,
        stderr: sink('plugin stderr'),
        syncStderr: sink('plugin stdio'),
        onLog: (e) => keep('plugin log', JSON.stringify(e)),
      });
      const { client, ctx } = p.dispense('brokertest');
      const { id } = await unary<ServeEchoResponse>(client, 'serveEcho', { prefix: 'p:' });
      const channel = await ctx.broker.dial(id);
      const echo = new EchoClient('unused', grpc.credentials.createInsecure(), { channelOverride: channel });
      assert.equal((await unary<EchoReply>(echo, 'echo', { text: 'x' })).text, 'p:x');
      channel.close();
      const hostId = ctx.broker.nextId();
      await using _served = await ctx.broker.acceptAndServe(hostId, (s) => s.addService(EchoService, echoServer('h:')));
      assert.equal((await unary<EchoReply>(client, 'callHostEcho', { id: hostId, text: 'y' })).text, 'h:y');
    });
  }

  it('TS host -> Go KV plugin, AutoMTLS, trace-level plugin logs', async () => {
    await using p = await startPlugin({
      command: goBinary('kv-plugin-go'),
      env: { APP_SECRET: SECRETS.appSecret },
      handshake: { protocolVersion: 1, magicCookieKey: 'BASIC_PLUGIN', magicCookieValue: 'hello' },
      plugins: { kv_grpc: grpcPlugin({ client: ({ createClient }) => createClient<KVClient>(KVClient.service) }) },
      cwd: require('node:os').tmpdir() as string,
      stderr: sink('plugin stderr'),
      onLog: (e) => keep('plugin log', JSON.stringify(e)),
    });
    const kv = p.dispense('kv_grpc');
    await kvPut(kv, `secrets-${tag}`, 'v');
    assert.match(await kvGet(kv, `secrets-${tag}`), /^v/);
    require('node:fs').rmSync(`${require('node:os').tmpdir()}/kv_secrets-${tag}`, { force: true });
  });

  it('a LOOP given a database password, telemetry auth header and Pyroscope token (they reach it; no log shows them)', async () => {
    const registry = new LoopRegistry({
      envDefaults: {
        databaseUrl: `postgres://chainlink:${SECRETS.dbPassword}@db:5432/cl?sslmode=disable`,
        telemetryAuthHeaders: { Authorization: SECRETS.authHeader },
        pyroscopeAuthToken: SECRETS.pyroscopeToken,
      },
    });
    const factory = await newCmdFactory((n) => registry.register(n), {
      id: 'secrets.env',
      cmd: process.execPath,
      args: [fixture('env-echo'), '--loop', 'relayer'],
      env: ['DEBUG=loopp:*'],
    });
    const service = new LoopService<KVClient, LoopHostedService & { kv: KVClient }>({
      name: 'SecretsLoop',
      kind: LOOP_KINDS.relayer,
      cmdFactory: factory,
      plugin: grpcPlugin({ client: ({ createClient }) => createClient<KVClient>(KVClient.service) }),
      newService: async (kv: KVClient) => ({ kv }),
      onLog: (r: LoopLogRecord) => keep('loop log', JSON.stringify(r)),
    });
    try {
      service.start();
      const { kv } = await service.wait({ signal: AbortSignal.timeout(60_000) });
      const seen = JSON.parse(await kvGet(kv, '*')) as Record<string, string>;
      assert.ok(seen.CL_DATABASE_URL?.includes(SECRETS.dbPassword), 'the password reached the LOOP');
      assert.equal(seen.CL_TELEMETRY_AUTH_HEADERAuthorization, SECRETS.authHeader);
      assert.equal(seen.CL_PYROSCOPE_AUTH_TOKEN, SECRETS.pyroscopeToken);
    } finally {
      await service.close();
      registry.unregister('secrets.env');
    }
  });

  it('a LOOP whose CL_DATABASE_URL (with a password) does not parse: its fatal line, the re-logged record and the launch error are redacted', async () => {
    const registry = new LoopRegistry({ envDefaults: { databaseUrl: `postgres://chainlink:${SECRETS.dbPassword}@db:x/cl` } });
    const factory = await newCmdFactory((n) => registry.register(n), { id: 'secrets.bad', cmd: binary('relayer-loop-ts'), env: ['DEBUG=loopp:*'] });
    const records: LoopLogRecord[] = [];
    const service = new LoopService({
      name: 'BadDbLoop',
      kind: LOOP_KINDS.relayer,
      cmdFactory: factory,
      plugin: grpcPlugin({}),
      newService: async () => ({}),
      pingIntervalMs: 600_000,
      onLog: (r: LoopLogRecord) => {
        records.push(r);
        keep('loop log', JSON.stringify(r));
      },
    });
    try {
      service.start();
      let cause: unknown;
      for (let i = 0; i < 600 && cause === undefined; i++) {
        cause = ((await service.healthReport()).BadDbLoop as { cause?: unknown } | null)?.cause;
        if (cause === undefined) await sleep(50);
      }
      assert.ok(cause instanceof Error, 'the launch failed');
      keepError('launch error', cause);
      keep('launch error stderrTail', (cause as { stderrTail?: string }).stderrTail ?? '');
      const fatal = records.find((r) => r.message.includes('CL_DATABASE_URL'));
      assert.ok(fatal, JSON.stringify(records));
      assert.equal(
        fatal.message,
        '[FATAL] Failed to get environment configuration: failed to parse CL_DATABASE_URL=postgres://chainlink:xxxxx@db:x/cl: parse "postgres://chainlink:xxxxx@db:x/cl": invalid port ":x" after host',
      );
    } finally {
      await service.close();
      registry.unregister('secrets.bad');
    }
  });

  it('errors provoked in process: unparsable URLs with credentials, NUL-bearing env values and arguments', async () => {
    // A complete, valid environment as a host writes it, then one bad variable per case.
    const base = Object.fromEntries(asCmdEnv(newEnvConfig({ prometheusPort: 2112 })));
    const cases: Array<[NodeJS.ProcessEnv, string, unknown]> = [
      [
        { ...base, CL_DATABASE_URL: `postgres://cl:${SECRETS.dbPassword}%zz@db/cl` },
        'failed to parse CL_DATABASE_URL=postgres://cl:xxxxx@db/cl: parse "postgres://cl:xxxxx@db/cl": invalid URL escape "%zz"',
        { name: 'CL_DATABASE_URL', value: 'postgres://cl:xxxxx@db/cl' },
      ],
      [
        { ...base, CL_DATABASE_URL: `postgres://db:x/cl?sslmode=disable&password=${SECRETS.dbPassword}` },
        'failed to parse CL_DATABASE_URL=postgres://db:x/cl?sslmode=disable&password=xxxxx: parse "postgres://db:x/cl?sslmode=disable&password=xxxxx": invalid port ":x" after host',
        { name: 'CL_DATABASE_URL', value: 'postgres://db:x/cl?sslmode=disable&password=xxxxx' },
      ],
      [
        { ...base, CL_TRACING_ENABLED: 'true', CL_TRACING_COLLECTOR_TARGET: `http://otel:${SECRETS.tracingToken}@otel:43%1` },
        'invalid CL_TRACING_COLLECTOR_TARGET: parse "http://otel:xxxxx@otel:43%1": invalid port ":43%1" after host',
        { name: 'CL_TRACING_COLLECTOR_TARGET', value: 'http://otel:xxxxx@otel:43%1' },
      ],
    ];
    for (const [env, message, input] of cases) {
      const err = (() => {
        try {
          parseEnvConfig(env);
        } catch (e) {
          return e as Error & { code?: string; input?: unknown };
        }
        return assert.fail(`parsed: ${JSON.stringify(env)}`);
      })();
      assert.equal(err.code, 'ERR_LOOPP_ENV');
      assert.equal(err.message, message);
      assert.deepEqual(err.input, input);
      keepError('parseEnvConfig error', err);
    }
    for (const bad of [{ env: { APP_SECRET: `${SECRETS.appSecret}\0` } }, { args: [`--token=${SECRETS.appSecret}\0`] }]) {
      const err = await startPlugin({
        command: process.execPath,
        ...bad,
        handshake: { protocolVersion: 1, magicCookieKey: 'BASIC_PLUGIN', magicCookieValue: 'hello' },
        plugins: { kv: grpcPlugin({}) },
      }).then(
        () => assert.fail('spawned with a NUL byte'),
        (e: Error & { code?: string }) => e,
      );
      assert.equal(err.code, 'ERR_LOOPP_SPAWN');
      assert.match(err.message, /^error starting plugin: The (property 'options\.env\['APP_SECRET'\]'|argument 'args\[0\]') must be a string without null bytes$/);
      keepError('spawn error', err);
    }
  });

  it('nothing captured above holds a secret or a private key', () => {
    assertNothingLeaked({ 'host debug': 50, 'plugin stderr': 10, 'plugin log': 10, 'loop log': 3, 'launch error': 3, 'parseEnvConfig error': 9, 'spawn error': 6 });
  });
});
