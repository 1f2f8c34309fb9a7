/**
 * The executables of bin/ (scripts/make-bins.js) start the `node` found on PATH (`#!/usr/bin/env
 * node`), not the absolute path of the node that built them: that one may be another version, be gone,
 * or sit in a path with spaces, which a #! line cannot hold. Checked by running each launcher under a
 * PATH whose `node` is a wrapper (a different file than process.execPath) that records its calls,
 * and by a Go host starting one through `sh -c` from a path with a space and a quote.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { binary, goBinary, rmDir, run, shellCommand, tmpDir } from '../helpers';

const PLUGIN_REFUSAL =
  'This binary is a plugin. These are not meant to be executed directly.\n' +
  'Please execute the program that consumes these plugins, which will\n' +
  'load any plugins automatically\n';

/** Each launcher make build writes, and what it prints on stderr when started bare (exit 1, nothing on stdout). */
const LAUNCHERS: Record<string, (stderr: string) => void> = {
  'counter-host-ts': (e) => assert.equal(e, 'COUNTER_PLUGIN must name the plugin command\n'),
  'counter-plugin-ts': (e) => assert.equal(e, PLUGIN_REFUSAL),
  'kv-host-ts': (e) => assert.equal(e, 'KV_PLUGIN must name the plugin command\n'),
  'kv-plugin-ts': (e) => assert.equal(e, PLUGIN_REFUSAL),
  'relayer-loop-ts': (e) => {
    const lines = e.split('\n');
    assert.equal(lines.length, 2, e);
    assert.equal(lines[1], '');
    const rec = JSON.parse(lines[0] as string) as Record<string, string>;
    assert.equal(rec['@level'], 'fatal');
    assert.equal(rec.logger, 'PluginRelayer');
    assert.equal(rec['@message'], 'Failed to get environment configuration: strconv.ParseUint: parsing "": invalid syntax');
  },
};

let dir: string;
let wrapperDir: string;
let log: string;
before(() => {
  dir = tmpDir('loopp-launchers-');
  // A directory with spaces on PATH holding `node`: a shell script that logs its arguments and runs the real node.
  wrapperDir = path.join(dir, 'other node dir');
  fs.mkdirSync(wrapperDir);
  log = path.join(dir, 'calls.log');
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  fs.writeFileSync(path.join(wrapperDir, 'node'), `#!/bin/sh\nprintf '%s\\n' "$*" >> ${quote(log)}\nexec ${quote(process.execPath)} "$@"\n`, { mode: 0o755 });
});
after(() => rmDir(dir));

describe('bin/ launchers', () => {
  it('bin/ holds exactly the launchers make-bins writes (kv-plugin-ts with its loopp bundle files)', () => {
    const bundleFiles = ['kv-plugin-ts.bundle.js', 'kv-plugin-ts.cache'];
    assert.deepEqual(fs.readdirSync(path.dirname(binary('kv-plugin-ts'))).sort(), [...Object.keys(LAUNCHERS), ...bundleFiles].sort());
  });

  for (const [name, checkStderr] of Object.entries(LAUNCHERS)) {
    it(`${name}: first line #!/usr/bin/env node; runs with the node on PATH, here a wrapper that is not process.execPath`, async () => {
      const file = binary(name);
      const text = fs.readFileSync(file, 'utf8');
      assert.equal(text.slice(0, text.indexOf('\n')), '#!/usr/bin/env node');
      assert.equal(fs.statSync(file).mode & 0o777, 0o755);
      const wrapper = path.join(wrapperDir, 'node');
      assert.notEqual(fs.realpathSync(wrapper), fs.realpathSync(process.execPath));
      fs.rmSync(log, { force: true });
      const r = await run(file, [], { env: { PATH: `${wrapperDir}:${process.env.PATH ?? '/usr/bin:/bin'}` }, timeoutMs: 30_000 });
      // The kernel hands the launcher's path to env, env to the first `node` on PATH: the wrapper.
      assert.equal(fs.readFileSync(log, 'utf8'), `${file}\n`);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.signal, null);
      assert.equal(r.stdout, '');
      checkStderr(r.stderr);
    });
  }

  it('shellCommand quotes words with spaces and quotes for sh -c', async () => {
    const words = [path.join(dir, "it's a dir", 'kv-plugin-ts'), '--tcp', '', 'a"b$c`d\\e'];
    const r = await run('sh', ['-c', `printf '<%s>\\n' ${shellCommand(...words)}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, words.map((w) => `<${w}>\n`).join(''));
  });

  it("kv-plugin-ts reached through a path with a space and a quote: a Go host starts it through sh -c and it serves", async () => {
    const link = path.join(dir, "it's a dir");
    fs.symlinkSync(path.dirname(binary('kv-plugin-ts')), link);
    const work = path.join(dir, 'work');
    fs.mkdirSync(work);
    const env = { ...process.env, KV_PLUGIN: shellCommand(path.join(link, 'kv-plugin-ts')) };
    const put = await run(goBinary('kv-host-go'), ['put', 'k', 'through a spaced path'], { cwd: work, env, timeoutMs: 30_000 });
    assert.equal(put.code, 0, put.stderr);
    const get = await run(goBinary('kv-host-go'), ['get', 'k'], { cwd: work, env, timeoutMs: 30_000 });
    assert.equal(get.code, 0, get.stderr);
    assert.equal(get.stdout, 'through a spaced path\n');
  });
});
