/**
 * Soak: N launch / call / close cycles of the TS host against Go and TS plugins, and what the host
 * holds before, during and after: open fds, child processes (live and zombie), socket files and temp
 * dirs in the temp dir, RSS and heapUsed after a full GC.
 *
 * Cycle i runs one of 16 combinations, so every 16 cycles cover each once:
 *   bit 0: Go or TS plugin; bit 1: plain or AutoMTLS; bit 2: classic or grpcBrokerMultiplex;
 *   bit 3: the KV plugin (Put + Get + Get of a missing key + ping) or the brokertest plugin (a plugin-served
 *   Echo dialled by the host, and a host-served Echo dialled by the plugin: a broker round trip each way).
 *
 * The temp dir is a private one (TMPDIR for the host and, inherited, for every plugin), because the
 * machine's /tmp is shared with other test runs whose files would read as ours.
 *
 *   node dist/test/soak/soak.js [--cycles 1000] [--warmup 16] [--checkpoints 5] [--out dist/soak.json]
 *
 * Prints a Markdown table on stdout (progress on stderr, and each cycle's time with
 * LOOPP_SOAK_TRACE=1), writes the JSON, and exits 1 if anything counted is not back where it was.
 * The table comes from ../bench/render.ts, which `make docs-soak` also uses to refresh docs/reliability.md.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EchoService } from '../../fixtures/gen/examples/brokertest/brokertest';
import { echoServer } from '../../fixtures/brokertest/echo';
import { unary } from '../../fixtures/counter/shared';
import { arg, machineInfo } from '../bench/common';
import { soakTable } from '../bench/render';
import { childPids, kvGet, kvPut, sleep, zombieChildPids } from '../helpers';
import { echoCall, fullGc, startBrokertest, startKv, withPluginEcho } from '../load/common';

export interface Sample {
  /** Cycles completed when the sample was taken. */
  cycle: number;
  label: string;
  elapsedMs: number;
  fds: number;
  children: number;
  zombies: number;
  /** Unix sockets left in the temp dir. */
  sockets: number;
  /** Directories left in the temp dir (loopp-mux-* bridge dirs and anything else). */
  tempDirs: number;
  /** Every other entry of the temp dir. */
  otherFiles: number;
  rssMB: number;
  heapUsedMB: number;
}

export interface SoakOptions {
  cycles: number;
  /** Cycles run before the memory baseline is taken (one-time allocations: modules, TLS, grpc-js). */
  warmup?: number;
  /** How many evenly spaced samples between the baseline and the end. */
  checkpoints?: number;
  /** Called after each sample (progress output). */
  onSample?: (s: Sample) => void;
}

export interface SoakResult {
  cycles: number;
  warmup: number;
  durationMs: number;
  /** Before the first cycle. */
  start: Sample;
  /**
   * After the warm-up cycles: the reference for fds (the first spawn of a process opens one
   * /dev/null descriptor that libuv keeps for good), RSS and heap growth.
   */
  baseline: Sample;
  end: Sample;
  samples: Sample[];
  rssGrowthMB: number;
  heapGrowthMB: number;
  /** Cycles of each combination, e.g. "go kv mtls mux". */
  combos: Record<string, number>;
}

function tempEntries(dir: string): { sockets: number; tempDirs: number; otherFiles: number } {
  const out = { sockets: 0, tempDirs: 0, otherFiles: 0 };
  for (const name of fs.readdirSync(dir)) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(path.join(dir, name));
    } catch {
      continue;
    }
    if (st.isSocket()) out.sockets++;
    else if (st.isDirectory()) out.tempDirs++;
    else out.otherFiles++;
  }
  return out;
}

function comboOf(i: number): { go: boolean; autoMTLS: boolean; mux: boolean; broker: boolean; name: string } {
  const go = (i & 1) === 0;
  const autoMTLS = (i & 2) !== 0;
  const mux = (i & 4) !== 0;
  const broker = (i & 8) !== 0;
  return { go, autoMTLS, mux, broker, name: `${go ? 'go' : 'ts'} ${broker ? 'brokertest' : 'kv'} ${autoMTLS ? 'mtls' : 'plain'} ${mux ? 'mux' : 'classic'}` };
}

async function kvCycle(i: number, go: boolean, autoMTLS: boolean, mux: boolean, cwd: string): Promise<void> {
  const p = await startKv({ go, autoMTLS, mux, cwd });
  try {
    const kv = p.dispense('kv');
    await kvPut(kv, `k${i % 4}`, `v${i}`);
    // The Go example plugin appends its signature to every value it reads back.
    assert.equal(await kvGet(kv, `k${i % 4}`), go ? `v${i}\n\nWritten from plugin-go-grpc` : `v${i}`);
    await p.ping();
  } finally {
    assert.deepEqual(await p.close(), { code: 0, signal: null, reason: 'closed' });
  }
}

async function brokerCycle(i: number, go: boolean, autoMTLS: boolean, mux: boolean, cwd: string): Promise<void> {
  const p = await startBrokertest({ go, autoMTLS, mux, cwd });
  try {
    // Plugin serves, host dials.
    assert.deepEqual(await withPluginEcho(p, 'p:', (echo) => echoCall(echo, `c${i}`)), { text: `p:c${i}` });
    // Host serves, plugin dials.
    const { ctx, client } = p.dispense('brokertest');
    const hostId = ctx.broker.nextId();
    const served = await ctx.broker.acceptAndServe(hostId, (s) => s.addService(EchoService, echoServer('h:')));
    try {
      assert.deepEqual(await unary(client.callHostEcho, client, { id: hostId, text: `c${i}` }), { text: `h:c${i}` });
    } finally {
      await served.close();
    }
  } finally {
    assert.deepEqual(await p.close(), { code: 0, signal: null, reason: 'closed' });
  }
}

/**
 * Waits (bounded) for the fd count to settle: a closed grpc-js channel and a reaped child let go of
 * their descriptors a few ticks after close() resolves. With a target, until the count is down to
 * it; without, until it has not changed for three polls.
 */
async function settle(targetFds: number | undefined): Promise<void> {
  const until = Date.now() + 3000;
  const count = () => fs.readdirSync('/proc/self/fd').length;
  let last = count();
  let stable = 0;
  while (Date.now() < until) {
    if (targetFds !== undefined ? last <= targetFds : stable >= 3) return;
    await sleep(50);
    const now = count();
    stable = now === last ? stable + 1 : 0;
    last = now;
  }
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const { cycles } = options;
  const warmup = Math.min(options.warmup ?? 16, cycles);
  const checkpoints = options.checkpoints ?? 4;
  const gc = fullGc();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'loopp-soak-tmp-'));
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'loopp-soak-work-'));
  const savedTmp = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  const t0 = performance.now();
  const samples: Sample[] = [];
  const sample = async (cycle: number, label: string, settleTo?: number): Promise<Sample> => {
    await settle(settleTo);
    gc();
    gc();
    const mem = process.memoryUsage();
    const s: Sample = {
      cycle,
      label,
      elapsedMs: performance.now() - t0,
      fds: fs.readdirSync('/proc/self/fd').length,
      children: childPids().length,
      zombies: zombieChildPids().length,
      ...tempEntries(tmp),
      rssMB: mem.rss / 2 ** 20,
      heapUsedMB: mem.heapUsed / 2 ** 20,
    };
    samples.push(s);
    options.onSample?.(s);
    return s;
  };
  const combos: Record<string, number> = {};
  try {
    const start = await sample(0, 'start');
    let baseline = start;
    const every = Math.max(1, Math.floor((cycles - warmup) / checkpoints));
    for (let i = 0; i < cycles; i++) {
      const c = comboOf(i);
      combos[c.name] = (combos[c.name] ?? 0) + 1;
      const tc = performance.now();
      try {
        await (c.broker ? brokerCycle : kvCycle)(i, c.go, c.autoMTLS, c.mux, cwd);
        if (process.env.LOOPP_SOAK_TRACE) process.stderr.write(`cycle ${i} ${c.name} ${(performance.now() - tc).toFixed(0)} ms\n`);
      } catch (err) {
        throw new Error(`soak cycle ${i} (${c.name}) failed: ${(err as Error).message}`, { cause: err });
      }
      const done = i + 1;
      if (done === warmup) baseline = await sample(done, 'after warm-up');
      else if (done === cycles) break;
      else if (done > warmup && (done - warmup) % every === 0) await sample(done, 'checkpoint', baseline.fds);
    }
    const end = await sample(cycles, 'end', baseline.fds);
    return {
      cycles,
      warmup,
      durationMs: end.elapsedMs,
      start,
      baseline,
      end,
      samples,
      rssGrowthMB: end.rssMB - baseline.rssMB,
      heapGrowthMB: end.heapUsedMB - baseline.heapUsedMB,
      combos,
    };
  } finally {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(cwd, { recursive: true, force: true });
  }
}

/** What did not come back: fds to the warm-up baseline, everything else to the start (all zero). */
export function leaks(r: SoakResult): string[] {
  const out = (['children', 'zombies', 'sockets', 'tempDirs', 'otherFiles'] as const).filter((k) => r.end[k] !== r.start[k]).map((k) => `${k} ${r.start[k]} -> ${r.end[k]}`);
  if (r.end.fds !== r.baseline.fds) out.unshift(`fds ${r.baseline.fds} -> ${r.end.fds}`);
  return out;
}

if (require.main === module) {
  const out = arg('out', '');
  runSoak({
    cycles: Number(arg('cycles', '1000')),
    warmup: Number(arg('warmup', '16')),
    checkpoints: Number(arg('checkpoints', '5')),
    onSample: (s) => process.stderr.write(`soak: ${s.label} after ${s.cycle} cycles, ${(s.elapsedMs / 1000).toFixed(1)} s, fds ${s.fds}, RSS ${s.rssMB.toFixed(1)} MB\n`),
  }).then(
    (r) => {
      console.log(`${machineInfo().line}\n\n${soakTable(r)}`);
      if (out) fs.writeFileSync(out, `${JSON.stringify({ machine: machineInfo().line, ...r }, null, 2)}\n`);
      const leaked = leaks(r);
      if (leaked.length > 0) {
        console.error(`soak: not back to the start values: ${leaked.join(', ')}`);
        process.exitCode = 1;
      }
    },
    (err: Error) => {
      console.error(err.stack ?? err.message);
      process.exitCode = 1;
    },
  );
}
