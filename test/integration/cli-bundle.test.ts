/**
 * `loopp bundle`, run as the user runs it (the built `loopp` command, a real process): the user-style KV
 * plugin (fixtures/bundle, importing `loopp` by name) bundled into a directory whose path holds a
 * space, launched by loopp's startPlugin and by go-plugin's KV host; the launcher says on stderr
 * whether V8 took the code cache (LOOPP_BUNDLE_DEBUG). A damaged, foreign or missing cache is refused
 * and the plugin still starts, compiled from source; the three files work after a move, in an ES
 * module package too; bad command lines say what is wrong.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { grpcPlugin, startPlugin } from '../../src/index';
import { KVClient } from '../../fixtures/gen/examples/kv/kv';
import { childPids, fixtureAt, goBinary, kvGet, kvPut, listDir, rmDir, run, shellCommand, tmpDir, type RunResult, LOOPP_CLI } from '../helpers';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const COOKIE = 'BASIC_PLUGIN=hello';
const handshake = { protocolVersion: 1, magicCookieKey: 'BASIC_PLUGIN', magicCookieValue: 'hello' };
const plugins = { kv: grpcPlugin({ client: ({ createClient }) => createClient<KVClient>(KVClient.service) }) };

let work: string;
let out: string;
let entry: string;
before(() => {
  work = tmpDir('loopp bundle test ');
  out = path.join(work, 'out dir', 'my plugin');
  entry = fixtureAt('bundle/user-kv-plugin');
});
after(() => rmDir(work));

function loopp(...args: string[]): Promise<RunResult> {
  return run(process.execPath, [LOOPP_CLI, ...args], { cwd: work, timeoutMs: 90_000 });
}

/** Starts `launcher` with loopp's host, puts and gets one key, closes; returns what the launcher said. */
async function startAndCall(launcher: string, key: string): Promise<string> {
  let stderr = '';
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => ((stderr += chunk.toString()), done()) });
  const p = await startPlugin({ command: launcher, cwd: work, handshake, plugins, env: { LOOPP_BUNDLE_DEBUG: '1' }, stderr: sink });
  const kv = p.dispense('kv');
  await kvPut(kv, key, `value of ${key}`);
  assert.equal(await kvGet(kv, key), `value of ${key}`);
  const exit = await p.close();
  assert.deepEqual(exit, { code: 0, signal: null, reason: 'closed' });
  const said = /^loopp bundle: code cache (.*) \((.*)\)$/m.exec(stderr);
  assert.ok(said, `the launcher said nothing about its cache; stderr:\n${stderr}`);
  assert.equal(said[2], `${launcher}.cache`);
  return said[1]!;
}

/** The cache file with one byte of V8's part flipped (the header line is left alone). */
function damage(cache: string): void {
  const bytes = fs.readFileSync(cache);
  const at = bytes.indexOf(10) + 200;
  bytes[at] = bytes[at]! ^ 0xff;
  fs.writeFileSync(cache, bytes);
}

describe('loopp bundle', () => {
  it('writes the launcher, the bundle and the cache; the launcher has no absolute path in it', async () => {
    const r = await loopp('bundle', entry, '-o', out, '--cookie', COOKIE);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3, r.stdout);
    assert.match(lines[0]!, /^out dir\/my plugin +launcher$/);
    assert.match(lines[1]!, /^out dir\/my plugin\.bundle\.js +\d+ KB$/);
    assert.match(lines[2]!, new RegExp(`^out dir/my plugin\\.cache +\\d+ KB, V8 code cache for node ${process.version.replace(/\./g, '\\.')} \\(the start that wrote it: \\d+ ms\\)$`));
    assert.deepEqual(listDir(path.dirname(out)).sort(), ['my plugin', 'my plugin.bundle.js', 'my plugin.cache']);
    assert.equal(fs.statSync(out).mode & 0o777, 0o755);
    const launcher = fs.readFileSync(out, 'utf8');
    assert.match(launcher, /^#!\/usr\/bin\/env node\n/);
    assert.ok(!launcher.includes(work) && !launcher.includes(ROOT), 'the launcher holds a build path');
    const bundle = fs.readFileSync(`${out}.bundle.js`, 'utf8');
    assert.match(bundle, /\n\/\/ loopp-bundle-id [0-9a-f]{32}\n$/);
    const id = /([0-9a-f]{32})\n$/.exec(bundle)![1]!;
    const head = fs.readFileSync(`${out}.cache`).toString('latin1').split('\n', 1)[0]!;
    assert.match(head, new RegExp(`^loopp-cache 1 ${id} ${process.version.replace(/\./g, '\\.')} [0-9a-f]{64}$`));
  });

  it('loopp host: the cache is accepted and the plugin serves', async () => {
    assert.equal(await startAndCall(out, 'ts-host'), 'accepted');
    assert.equal(fs.readFileSync(path.join(work, 'kv_ts-host'), 'utf8'), 'value of ts-host');
    assert.deepEqual(childPids(), []);
  });

  it('go-plugin host (kv-host-go), plain and AutoMTLS: put then get, the cache accepted', async () => {
    for (const flags of [[], ['-automtls']]) {
      const env = { ...process.env, KV_PLUGIN: shellCommand(out), KV_HOST_LOG_LEVEL: 'debug', LOOPP_BUNDLE_DEBUG: '1' };
      const key = `go${flags.join('')}`;
      const put = await run(goBinary('kv-host-go'), [...flags, 'put', key, 'from go'], { cwd: work, env, timeoutMs: 30_000 });
      assert.equal(put.code, 0, put.stderr);
      assert.match(put.stderr, /loopp bundle: code cache accepted/);
      const get = await run(goBinary('kv-host-go'), [...flags, 'get', key], { cwd: work, env, timeoutMs: 30_000 });
      assert.equal(get.code, 0, get.stderr);
      assert.equal(get.stdout, 'from go\n');
      assert.doesNotMatch(put.stderr + get.stderr, /plugin failed to exit gracefully|\[ERROR\]/);
    }
  });

  it('a damaged cache is refused before V8 sees it (one flipped byte crashed node): the plugin still starts', async () => {
    const good = fs.readFileSync(`${out}.cache`);
    try {
      damage(`${out}.cache`);
      assert.equal(await startAndCall(out, 'damaged'), 'rejected: damaged (its digest differs)');
      fs.writeFileSync(`${out}.cache`, 'not a cache at all');
      assert.equal(await startAndCall(out, 'garbage'), 'rejected: not the cache of this bundle (run loopp bundle again)');
      fs.writeFileSync(`${out}.cache`, good.subarray(0, good.length >> 1));
      assert.equal(await startAndCall(out, 'truncated'), 'rejected: damaged (its digest differs)');
      fs.writeFileSync(`${out}.cache`, Buffer.from(good.toString('latin1').replace(` ${process.version} `, ' v0.0.1 '), 'latin1'));
      assert.equal(await startAndCall(out, 'other-node'), `rejected: written by node v0.0.1, this is ${process.version}`);
      fs.rmSync(`${out}.cache`);
      assert.equal(await startAndCall(out, 'absent'), 'absent');
    } finally {
      fs.writeFileSync(`${out}.cache`, good);
    }
    assert.equal(await startAndCall(out, 'restored'), 'accepted');
  });

  it('the cache of another bundle of the same length is refused (V8 checks only the length)', async () => {
    // As if the plugin were changed by one character and bundled again, the old cache left in place.
    const bundle = fs.readFileSync(`${out}.bundle.js`, 'utf8');
    const body = bundle.slice(0, bundle.lastIndexOf('\n// loopp-bundle-id '));
    const changed = body.replace('plugin address', 'plugin Address');
    assert.notEqual(changed, body);
    const id = createHash('sha256').update(changed).digest('hex').slice(0, 32);
    try {
      fs.writeFileSync(`${out}.bundle.js`, `${changed}\n// loopp-bundle-id ${id}\n`);
      assert.equal(fs.statSync(`${out}.bundle.js`).size, Buffer.byteLength(bundle));
      assert.equal(await startAndCall(out, 'foreign'), 'rejected: not the cache of this bundle (run loopp bundle again)');
    } finally {
      fs.writeFileSync(`${out}.bundle.js`, bundle);
    }
  });

  it('the three files moved elsewhere (and into an ES module package, through a symlink) still start from the cache', async () => {
    const moved = path.join(work, 'moved here', 'bin');
    fs.mkdirSync(moved, { recursive: true });
    for (const suffix of ['', '.bundle.js', '.cache']) fs.renameSync(`${out}${suffix}`, path.join(moved, `my plugin${suffix}`));
    assert.equal(await startAndCall(path.join(moved, 'my plugin'), 'moved'), 'accepted');
    // An extensionless file in a "type": "module" package is loaded as ESM, where require is missing.
    fs.writeFileSync(path.join(work, 'moved here', 'package.json'), '{ "type": "module" }\n');
    const link = path.join(work, 'link to plugin');
    fs.symlinkSync(path.join(moved, 'my plugin'), link);
    let stderr = '';
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => ((stderr += chunk.toString()), done()) });
    const p = await startPlugin({ command: link, cwd: work, handshake, plugins, env: { LOOPP_BUNDLE_DEBUG: '1' }, stderr: sink });
    await kvPut(p.dispense('kv'), 'esm', 'yes');
    await p.close();
    assert.match(stderr, new RegExp(`^loopp bundle: code cache accepted \\(${moved.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/my plugin\\.cache\\)$`, 'm'));
    for (const suffix of ['', '.bundle.js', '.cache']) fs.renameSync(path.join(moved, `my plugin${suffix}`), `${out}${suffix}`);
  });

  it('--no-cache --no-minify: launcher and a readable bundle only, no cookie needed; the launcher compiles from source', async () => {
    const plain = path.join(work, 'plain', 'p');
    const r = await loopp('bundle', '--no-cache', entry, '-o', plain, '--no-minify');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /plain\/p\.cache +none \(--no-cache\)\n$/);
    assert.deepEqual(listDir(path.dirname(plain)).sort(), ['p', 'p.bundle.js']);
    assert.equal(await startAndCall(plain, 'no-cache'), 'absent');
    // Minified (the default), the same code is a third smaller, on far fewer lines; names are kept.
    const lines = (f: string) => fs.readFileSync(f, 'utf8').split('\n').length;
    assert.ok(lines(`${out}.bundle.js`) * 10 < lines(`${plain}.bundle.js`), `${lines(`${out}.bundle.js`)} vs ${lines(`${plain}.bundle.js`)} lines`);
    assert.ok(fs.statSync(`${out}.bundle.js`).size < fs.statSync(`${plain}.bundle.js`).size * 0.8);
    assert.match(fs.readFileSync(`${out}.bundle.js`, 'utf8'), /function servePlugin\(/);
  });
});

describe('loopp bundle: bad command lines and failing plugins', () => {
  it('no cookie: usage error before anything is written', async () => {
    const target = path.join(work, 'nocookie', 'p');
    const r = await loopp('bundle', entry, '-o', target);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'loopp bundle: --cookie KEY=VALUE is required: the magic cookie the plugin was built with (or --loop KIND for a Chainlink LOOP)\n');
    assert.equal(fs.existsSync(path.dirname(target)), false);
  });

  it('no -o, no entry, two entries, a missing entry, -o naming a directory: usage errors', async () => {
    const cases: [string[], string][] = [
      [[entry, '--cookie', COOKIE], 'loopp bundle: -o <path> is required: the launcher to write, e.g. -o dist/my-plugin\n'],
      [['-o', 'x', '--cookie', COOKIE], 'loopp bundle: missing the entry point: loopp bundle <entry.js> -o <path>\n'],
      [[entry, entry, '-o', 'x', '--no-cache'], `loopp bundle: one entry point only; also given: ${entry}\n`],
      [[path.join(work, 'nope.js'), '-o', 'x', '--no-cache'], `loopp bundle: the entry ${JSON.stringify(path.join(work, 'nope.js'))} is not a file\n`],
      [[entry, '-o', work, '--no-cache'], `loopp bundle: -o ${JSON.stringify(work)} is a directory; -o names the launcher, e.g. -o dist/my-plugin (writes dist/my-plugin, dist/my-plugin.bundle.js, dist/my-plugin.cache)\n`],
    ];
    for (const [args, stderr] of cases) {
      const r = await loopp('bundle', ...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stderr, stderr);
    }
  });

  it('an import esbuild cannot resolve: usage error naming the file and line', async () => {
    const bad = path.join(work, 'bad.js');
    fs.writeFileSync(bad, "'use strict';\nrequire('./not-there');\n");
    const r = await loopp('bundle', bad, '-o', path.join(work, 'bad-out', 'p'), '--no-cache');
    assert.equal(r.code, 2);
    // esbuild names files relative to the working directory, as a compiler does.
    assert.equal(r.stderr, `loopp bundle: esbuild could not bundle ${bad}:\nbad.js:2:8: Could not resolve "./not-there"\n`);
  });

  it('the wrong cookie: exit 3, the plugin refused it (its stderr shown), bundle and launcher written, no cache', async () => {
    const target = path.join(work, 'wrong cookie', 'p');
    const r = await loopp('bundle', entry, '-o', target, '--cookie', 'BASIC_PLUGIN=nope', '--timeout', '20s');
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /^loopp bundle: the bundle and the launcher are written \(they work without a cache\), but could not start the plugin \(ERR_LOOPP_EXITED_BEFORE_HANDSHAKE\)/);
    assert.match(r.stderr, /The plugin refused the magic cookie: pass the --cookie KEY=VALUE it was built with/);
    assert.match(r.stderr, /This binary is a plugin/);
    assert.deepEqual(listDir(path.dirname(target)).sort(), ['p', 'p.bundle.js']);
  });

  it('a plugin that does not exit after Shutdown: exit 1, it says no cache was written', async () => {
    const target = path.join(work, 'stays', 'p');
    const r = await loopp('bundle', fixtureAt('plugins/ignores-shutdown'), '-o', target, '--cookie', COOKIE);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^loopp bundle: the plugin did not exit by itself after GRPCController\.Shutdown \(it was killed, SIGKILL\), so it wrote no code cache/);
    assert.deepEqual(listDir(path.dirname(target)).sort(), ['p', 'p.bundle.js']);
  });

  it('--help lists the files, the options, examples and the exit statuses', async () => {
    const r = await loopp('bundle', '--help');
    assert.equal(r.code, 0);
    for (const text of ['Usage: loopp bundle [options] <entry.js> -o <path>', 'dist/my-plugin.cache', '--cookie KEY=VALUE', '--no-cache', '--minify', 'LOOPP_BUNDLE_DEBUG=1', 'Examples:', '130  interrupted']) {
      assert.ok(r.stdout.includes(text), `--help lacks ${text}`);
    }
  });
});
