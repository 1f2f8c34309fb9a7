/**
 * The host's environment (and so its secrets) does not reach a plugin launched with skipHostEnv:
 * startPlugin with a TS plugin, a LOOP launched through newCmdFactory + LoopService (where it is the
 * default), and a Go host's SkipHostEnv with our plugin. A canary variable set in the host's
 * process.env is the secret; with the option off, the canary does arrive (so the check can fail).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { grpcPlugin, startPlugin } from '../../src/index';
import { KVClient } from '../../fixtures/gen/examples/kv/kv';
import type { LoopHostedService } from '../../src/loop/host/service';
import { LOOP_KINDS, LoopRegistry, LoopService, newCmdFactory } from '../../src/loop/index';
import { binary, fixture, goBinary, kvGet, rmDir, run, shellCommand, tmpDir } from '../helpers';

const CANARY = 'LOOPP_SECURITY_CANARY';
let canaryValue: string;
before(() => {
  canaryValue = `host-only-${randomBytes(8).toString('hex')}`;
  process.env[CANARY] = canaryValue;
});
after(() => {
  delete process.env[CANARY];
});

const kvPlugin = grpcPlugin({ client: ({ createClient }) => createClient<KVClient>(KVClient.service) });
const protocolVariable = (k: string) => k.startsWith('PLUGIN_');

describe('startPlugin skipHostEnv, TS plugin', () => {
  for (const skipHostEnv of [true, false]) {
    it(`skipHostEnv ${skipHostEnv ? 'on: only the application\'s and go-plugin\'s variables arrive' : 'off: the host environment (canary included) arrives'}`, async () => {
      await using p = await startPlugin({
        command: process.execPath,
        args: [fixture('env-echo')],
        env: { APP_SETTING: 'from-the-application' },
        skipHostEnv,
        handshake: { protocolVersion: 1, magicCookieKey: 'BASIC_PLUGIN', magicCookieValue: 'hello' },
        plugins: { kv: kvPlugin },
      });
      const seen = JSON.parse(await kvGet(p.dispense('kv'), '*')) as Record<string, string>;
      assert.equal(seen.APP_SETTING, 'from-the-application');
      assert.equal(seen.BASIC_PLUGIN, 'hello');
      assert.equal(seen.PLUGIN_PROTOCOL_VERSIONS, '1');
      assert.match(seen.PLUGIN_CLIENT_CERT ?? '', /^-----BEGIN CERTIFICATE-----/);
      if (skipHostEnv) {
        assert.equal(seen[CANARY], undefined);
        const foreign = Object.keys(seen).filter((k) => !protocolVariable(k) && k !== 'BASIC_PLUGIN' && k !== 'APP_SETTING');
        assert.deepEqual(foreign, [], 'variables that came from the host');
      } else {
        assert.equal(seen[CANARY], canaryValue);
        assert.equal(seen.PATH, process.env.PATH);
      }
    });
  }
});

describe('LOOP launched by newCmdFactory + LoopService', () => {
  for (const skipHostEnv of [true, false]) {
    it(`skipHostEnv ${skipHostEnv ? 'on (the default): exactly the launch spec\'s CL_* variables and go-plugin\'s arrive' : 'off: the canary arrives'}`, async () => {
      const registry = new LoopRegistry();
      const id = `security.env.${skipHostEnv}`;
      const factory = await newCmdFactory((n) => registry.register(n), {
        id,
        cmd: process.execPath,
        args: [fixture('env-echo'), '--loop', 'relayer'],
        env: ['CL_FROM_ENV_FILE=env-file-value'],
      });
      const spec = factory();
      assert.equal(spec.skipHostEnv, true);
      const service = new LoopService<KVClient, LoopHostedService & { kv: KVClient }>({
        name: 'EnvEcho',
        kind: LOOP_KINDS.relayer,
        cmdFactory: skipHostEnv ? factory : () => ({ ...factory(), skipHostEnv: false }),
        plugin: kvPlugin,
        newService: async (kv: KVClient) => ({ kv }),
      });
      try {
        service.start();
        const { kv } = await service.wait({ signal: AbortSignal.timeout(60_000) });
        const seen = JSON.parse(await kvGet(kv, '*')) as Record<string, string>;
        assert.ok(Object.keys(spec.env).length >= 10, 'a full EnvConfig');
        for (const [k, v] of Object.entries(spec.env)) assert.equal(seen[k], v, k);
        assert.equal(seen.CL_FROM_ENV_FILE, 'env-file-value');
        assert.equal(seen[LOOP_KINDS.relayer.handshake.magicCookieKey], LOOP_KINDS.relayer.handshake.magicCookieValue);
        assert.equal(seen.PLUGIN_PROTOCOL_VERSIONS, '0');
        if (skipHostEnv) {
          assert.equal(seen[CANARY], undefined);
          const foreign = Object.keys(seen).filter((k) => !(k in spec.env) && !protocolVariable(k) && k !== LOOP_KINDS.relayer.handshake.magicCookieKey);
          assert.deepEqual(foreign, [], 'variables that came from the host');
        } else {
          assert.equal(seen[CANARY], canaryValue);
        }
      } finally {
        await service.close();
        registry.unregister(id);
      }
    });
  }
});

describe('Go host (go-plugin v1.8.0) SkipHostEnv -> kv-plugin-ts', () => {
  it('SkipHostEnv keeps the host environment from the plugin; without it the canary arrives', async () => {
    const work = tmpDir('loopp-sec-goenv-');
    try {
      const feature = async (flags: string[]) => {
        const r = await run(goBinary('feature-host-go'), [...flags, `-name=${CANARY}`, 'env'], {
          cwd: work,
          env: { ...process.env, TMPDIR: work, PLUGIN_CMD: shellCommand(binary('kv-plugin-ts')) },
          timeoutMs: 30_000,
        });
        assert.equal(r.code, 0, r.stderr);
        return JSON.parse(r.stdout) as { value: string };
      };
      assert.equal((await feature([])).value, canaryValue);
      assert.equal((await feature(['-skip-host-env'])).value, '');
    } finally {
      rmDir(work);
    }
  });
});
