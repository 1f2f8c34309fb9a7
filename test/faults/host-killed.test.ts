/**
 * The host SIGKILLed while plugins run: no exit hook runs in the host, yet every plugin it started
 * (TS plain, AutoMTLS, multiplexed, behind `sh -c`, and a Go plugin) must be gone within 2 s, and
 * no socket file of theirs or of the host may stay behind.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { assertGroupGone, fixtureAt, goBinary, groupMembers, listDir, rmDir, sleep, tmpDir, zombieChildPids } from '../helpers';

let sockDir: string;
before(() => {
  sockDir = tmpDir('loopp-hostkill-');
});
after(() => rmDir(sockDir));

describe('host SIGKILLed while its plugins run', () => {
  it('TS plugins (plain, AutoMTLS, mux, sh -c) and the Go plugin are all gone within 2 s, their sockets too', async () => {
    const host = spawn(process.execPath, [fixtureAt('hosts/host-many-plugins'), goBinary('kv-plugin-go')], {
      // Sockets (the plugins', the host's) land here, so what a dead host leaves behind is visible.
      env: { ...process.env, TMPDIR: sockDir },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const hostExit = new Promise<NodeJS.Signals | null>((r) => host.once('exit', (_c, s) => r(s)));
    const pids = await new Promise<Record<string, number>>((resolve, reject) => {
      let buf = '';
      host.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('\n')) resolve(JSON.parse(buf) as Record<string, number>);
      });
      host.once('exit', () => reject(new Error('host exited before its plugins were up')));
    });
    assert.deepEqual(Object.keys(pids).sort(), ['automtls', 'go', 'mux', 'plain', 'shell']);
    // Each plugin leads its own process group; the shell one holds sh and node.
    for (const [kind, pid] of Object.entries(pids)) assert.ok(groupMembers(pid).length >= (kind === 'shell' ? 2 : 1), `${kind} is not running`);
    host.kill('SIGKILL');
    assert.equal(await hostExit, 'SIGKILL');
    const t0 = Date.now();
    const gone: Record<string, number> = {};
    await Promise.all(
      Object.entries(pids).map(async ([kind, pid]) => {
        await assertGroupGone(pid, 2000);
        gone[kind] = Date.now() - t0;
      }),
    );
    process.stderr.write(`# host SIGKILLed: plugin groups gone after ${JSON.stringify(gone)} ms\n`);
    assert.deepEqual(zombieChildPids(), []);
    // TS plugins remove their own sockets; the guard removes the killed Go plugin's and the host's
    // multiplexing bridge, right after its kill.
    for (const until = Date.now() + 2000; listDir(sockDir).length > 0 && Date.now() < until; ) await sleep(25);
    assert.deepEqual(listDir(sockDir), [], 'files left behind by the dead host and its plugins');
  });
});
