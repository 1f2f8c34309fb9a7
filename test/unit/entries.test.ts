/**
 * What each public entry loads: `loopp` nothing of the LOOP layer (its protos cost ~7 ms of every
 * start) and nothing of `loopp/testing`, `loopp/loop` no prom-client (an optional peer a LOOP host does
 * without) until the plugin-side server base asks for it, `loopp/testing` both sides and no LOOP code.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';

const DIST_SRC = path.resolve(__dirname, '..', '..', 'src');

/** The modules a fresh process has loaded after requiring `entry` (paths relative to dist/src, or package names). */
function loadedBy(entry: string): string[] {
  const script = `require(${JSON.stringify(path.join(DIST_SRC, entry))});
    const root = ${JSON.stringify(DIST_SRC + path.sep)};
    console.log(JSON.stringify(Object.keys(require.cache).map((k) => k.startsWith(root) ? k.slice(root.length) : (k.match(/node_modules\\/((@[^/]+\\/)?[^/]+)/) || [, k])[1])));`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as string[];
}

describe('public entries', () => {
  it('loopp loads no LOOP code, no LOOP protos and no prom-client', () => {
    const loaded = loadedBy('index.js');
    assert.ok(loaded.includes('host/start.js') && loaded.includes('plugin/serve.js'));
    assert.deepEqual(loaded.filter((m) => m.startsWith('loop/') || m.startsWith('gen/loop/') || m === 'prom-client'), []);
    assert.equal(loaded.includes('testing.js'), false);
  });
  it('loopp/testing loads both sides, and no LOOP code, LOOP protos or prom-client', () => {
    const loaded = loadedBy('testing.js');
    assert.ok(loaded.includes('host/plugin-client.js') && loaded.includes('plugin/serve.js'));
    assert.deepEqual(loaded.filter((m) => m.startsWith('loop/') || m.startsWith('gen/loop/') || m === 'prom-client' || m.startsWith('cli/')), []);
  });
  it('loopp/loop loads the LOOP protos but not prom-client', () => {
    const loaded = loadedBy('loop/index.js');
    assert.ok(loaded.includes('gen/loop/relayer.js'));
    assert.equal(loaded.includes('prom-client'), false);
  });
});
