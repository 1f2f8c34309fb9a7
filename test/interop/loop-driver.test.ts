/**
 * chainlink-common's own test LOOP (the pinned driver, `go-interop/bin/loop-test-plugin`) under loopp's
 * supervision: every log level re-logged at the right level (panics and fatals at critical), a panic
 * detected as an exit and relaunched, and `-limit` crashes (status 3) relaunched without leaks.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grpcPlugin } from '../../src/index';
import { LOOP_KINDS } from '../../src/loop/wire/handshakes';
import type { LoopLogRecord } from '../../src/loop/host/relog';
import { LoopService } from '../../src/loop/host/service';
import { childPids, goBinary, listDir, rmDir, sleep, tmpDir } from '../helpers';

function loggerTestService(args: string[], records: LoopLogRecord[], extra: Partial<ConstructorParameters<typeof LoopService>[0]> = {}) {
  const driver = goBinary('loop-test-plugin');
  return new LoopService({
    name: 'LoggerTest',
    kind: LOOP_KINDS.loggerTest,
    cmdFactory: () => ({ command: driver, args: ['-cmd=logger-test', ...args], env: {} }),
    plugin: grpcPlugin({ client: () => ({}) }),
    newService: async () => ({}),
    onLog: (r) => records.push(r),
    pingIntervalMs: 500,
    ...extra,
  });
}

async function waitFor<T>(fn: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const LEVELS: Array<{ type: number; level: LoopLogRecord['level']; message: string; exits: boolean }> = [
  { type: 0, level: 'critical', message: '[PANIC] panic: random panic', exits: true },
  { type: 1, level: 'critical', message: '[FATAL] some panic log', exits: true },
  { type: 2, level: 'critical', message: 'some critical error log', exits: false },
  { type: 3, level: 'error', message: 'some error log', exits: false },
  { type: 4, level: 'info', message: 'some info log', exits: false },
  { type: 5, level: 'warn', message: 'some warn log', exits: false },
  { type: 6, level: 'debug', message: 'some debug log', exits: false },
];

describe('driver -cmd=logger-test under supervision', () => {
  for (const c of LEVELS) {
    it(`-throw-error-type=${c.type}: re-logged at ${c.level}${c.exits ? ', exit detected and relaunched' : ''}`, async () => {
      const records: LoopLogRecord[] = [];
      const exits: number[] = [];
      const svc = loggerTestService([`-throw-error-type=${c.type}`], records, { onExited: (e) => exits.push(e.pid) });
      svc.start();
      try {
        const rec = await waitFor(() => records.find((r) => r.message === c.message), 8000, c.message);
        assert.equal(rec.level, c.level);
        if (c.type !== 0) assert.equal(rec.fields.caller !== undefined, true);
        if (c.exits) {
          await waitFor(() => exits.length >= 1 && svc.launches >= 2, 8000, 'a relaunch after the exit');
        } else {
          await svc.ready();
          assert.equal(svc.launches, 1);
        }
      } finally {
        await svc.close();
      }
      assert.deepEqual(childPids(), []);
    });
  }
});

describe('driver -limit crashes', () => {
  it('exits with status 3, is relaunched, answers again; nothing leaks over 5 relaunches', async () => {
    const sockDir = tmpDir('loopp-limit-');
    const exits: Array<{ code: number | null }> = [];
    const launchedAt: number[] = [];
    const exitedAt: number[] = [];
    const driver = goBinary('loop-test-plugin');
    const svc = new LoopService({
      name: 'LoggerTest',
      kind: LOOP_KINDS.loggerTest,
      // -limit counts every gRPC call (broker and stdio streams, pings): 6 lets it run a moment.
      cmdFactory: () => ({ command: driver, args: ['-cmd=logger-test', '-throw-error-type=4', '-limit=6'], env: { TMPDIR: sockDir } }),
      plugin: grpcPlugin({ client: () => ({}) }),
      newService: async () => ({}),
      pingIntervalMs: 200,
      onLaunched: () => launchedAt.push(Date.now()),
      onExited: (e) => {
        exits.push({ code: e.code });
        exitedAt.push(Date.now());
      },
    });
    svc.start();
    try {
      await waitFor(() => svc.launches >= 6, 30_000, '6 launches (5 relaunches)');
      await svc.ready();
      assert.ok(exits.length >= 5);
      for (const e of exits) assert.equal(e.code, 3);
      const relaunchMs = exitedAt.map((t, i) => (launchedAt[i + 1] ?? NaN) - t).filter((x) => Number.isFinite(x));
      relaunchMs.sort((a, b) => a - b);
      console.log(`# relaunch after crash, ms: ${relaunchMs.join(', ')} (median ${relaunchMs[Math.floor(relaunchMs.length / 2)]})`);
    } finally {
      await svc.close();
    }
    assert.deepEqual(childPids(), []);
    // Killed drivers cannot remove their sockets; loopp's host removes them.
    assert.deepEqual(listDir(sockDir), []);
    rmDir(sockDir);
  });
});
