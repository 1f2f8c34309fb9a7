/**
 * SecureConfig: the executable's digest is checked before anything is executed. A matching sha256
 * launches (TS and Go plugins); a mismatch (wrong pin, a tampered copy, a truncated pin, another
 * hash) is refused with StartError ERR_LOOPP_CHECKSUM and no process is spawned: every spawn of this
 * host process is counted.
 */
import assert from 'node:assert/strict';
import childProcess from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { StartError, grpcPlugin, startPlugin, type SecureConfig } from '../../src/index';
import { KVClient } from '../../fixtures/gen/examples/kv/kv';
import { ORPHAN_GUARD_ARGV0 } from '../../src/host/runner/orphan-guard';
import { binary, goBinary, kvGet, kvPut, listDir, rmDir, tmpDir } from '../helpers';

const handshake = { protocolVersion: 1, magicCookieKey: 'BASIC_PLUGIN', magicCookieValue: 'hello' };
const plugins = { kv_grpc: grpcPlugin({ client: ({ createClient }) => createClient<KVClient>(KVClient.service) }) };

// startPlugin reaches child_process.spawn through the module object, so counting here sees every spawn.
const realSpawn = childProcess.spawn;
let spawned: string[] = [];
before(() => {
  childProcess.spawn = ((...args: Parameters<typeof realSpawn>) => {
    // The host's orphan guard (one shell per host process, started with its first plugin) is not a plugin.
    const options = args.find((a) => typeof a === 'object' && a !== null && !Array.isArray(a)) as { argv0?: string } | undefined;
    if (options?.argv0 !== ORPHAN_GUARD_ARGV0) spawned.push(String(args[0]));
    return realSpawn(...args);
  }) as typeof realSpawn;
});
after(() => {
  childProcess.spawn = realSpawn;
});

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

async function refused(command: string, secureConfig: SecureConfig, cwd: string): Promise<StartError> {
  spawned = [];
  const err = await startPlugin({ command, cwd, handshake, plugins, secureConfig }).then(
    async (p) => {
      await p.kill();
      assert.fail('a mismatching executable was launched');
    },
    (e: unknown) => e,
  );
  assert.ok(err instanceof StartError, String(err));
  assert.equal(err.code, 'ERR_LOOPP_CHECKSUM');
  assert.deepEqual(spawned, [], 'nothing may be spawned');
  return err;
}

for (const [lang, original] of [
  ['TS', () => fs.realpathSync(binary('kv-plugin-ts'))],
  ['Go', () => goBinary('kv-plugin-go')],
] as const) {
  describe(`SecureConfig, ${lang} plugin`, () => {
    let work: string;
    let exe: string;
    before(() => {
      work = tmpDir('loopp-sec-sum-');
      // A private copy, so tampering with it touches nothing shared. The TS launcher finds its bundle
      // relative to its real path, so that one stays in place and only its pin is varied.
      exe = lang === 'Go' ? path.join(work, 'kv-plugin-go') : original();
      if (lang === 'Go') fs.copyFileSync(original(), exe);
    });
    after(() => rmDir(work));

    it('a matching sha256 launches and serves', async () => {
      spawned = [];
      await using p = await startPlugin({ command: exe, cwd: work, handshake, plugins, secureConfig: { checksum: sha256(exe) }, unixSocketDir: work });
      const kv = p.dispense('kv_grpc');
      await kvPut(kv, 'pinned', lang);
      // Go's KV example appends its signature to the value.
      assert.match(await kvGet(kv, 'pinned'), new RegExp(`^${lang}`));
      assert.deepEqual(spawned, [exe]);
    });

    it('a wrong pin, a truncated pin and a sha512 pin of sha256 length are refused before exec', async () => {
      const sum = sha256(exe);
      const wrong = await refused(exe, { checksum: `${sum.slice(0, -2)}${sum.endsWith('00') ? '01' : '00'}` }, work);
      assert.equal(wrong.message, 'checksums did not match');
      assert.deepEqual(wrong.input, { file: exe, expected: `${sum.slice(0, -2)}${sum.endsWith('00') ? '01' : '00'}`, actual: sum });
      assert.equal((await refused(exe, { checksum: sum.slice(0, 32) }, work)).message, 'checksums did not match');
      assert.equal((await refused(exe, { checksum: sum, hash: 'sha512' }, work)).message, 'checksums did not match');
      assert.equal((await refused(exe, { checksum: 'not hex' }, work)).message, 'error verifying checksum: checksum is not hex');
    });

    if (lang === 'Go') {
      it('found on PATH: the file verified is the one that runs (the host PATH, which wins in the plugin env, not options.env.PATH)', async () => {
        const pinned = path.join(work, 'pinned');
        const other = path.join(work, 'other');
        fs.mkdirSync(pinned);
        fs.mkdirSync(other);
        fs.copyFileSync(original(), path.join(pinned, 'kvp'));
        fs.copyFileSync(original(), path.join(other, 'kvp'));
        fs.appendFileSync(path.join(other, 'kvp'), Buffer.from([0]));
        const hostPath = process.env.PATH;
        process.env.PATH = `${other}${path.delimiter}${hostPath ?? ''}`;
        try {
          spawned = [];
          const err = await startPlugin({
            command: 'kvp',
            cwd: work,
            env: { PATH: pinned },
            handshake,
            plugins,
            secureConfig: { checksum: sha256(path.join(pinned, 'kvp')) },
          }).then(
            async (p) => {
              await p.kill();
              assert.fail('a file other than the verified one was launched');
            },
            (e: unknown) => e,
          );
          assert.ok(err instanceof StartError, String(err));
          assert.equal(err.code, 'ERR_LOOPP_CHECKSUM');
          assert.equal((err.input as { file: string }).file, path.join(other, 'kvp'));
          assert.deepEqual(spawned, []);
        } finally {
          process.env.PATH = hostPath;
        }
      });

      it('a copy tampered with after pinning (one byte appended) is refused before exec', async () => {
        const sum = sha256(exe);
        fs.appendFileSync(exe, Buffer.from([0]));
        const err = await refused(exe, { checksum: sum }, work);
        assert.equal(err.message, 'checksums did not match');
        assert.deepEqual(listDir(work).filter((f) => f.startsWith('plugin')), [], 'no socket either');
      });
    }
  });
}
