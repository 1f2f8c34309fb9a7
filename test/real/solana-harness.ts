/**
 * The real chainlink-solana relayer LOOP under loopp's public LOOP host API: the binary comes from
 * LOOPP_SOLANA_BIN (make test-real; never built by make test), each service gets a socket directory
 * of its own so a test can see that nothing is left behind, and the plugin's log lines are kept.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { createFreePortAllocator, LOOP_KINDS, LoopRegistry, LoopService, newCmdFactory, relayerLoopPlugin, type Keystore, type PluginRelayerHost, type RelayerHandle } from '../../src/loop/index';
import type { LoopLogRecord } from '../../src/loop/index';
import { assertNothingLeft, rmDir, sleep, tmpDir } from '../helpers';
import { base58 } from './base58';

/** The binary under test; fails (never skips) when it is not there. */
export function solanaBinary(): string {
  const p = process.env.LOOPP_SOLANA_BIN;
  assert.ok(p !== undefined && p !== '', 'LOOPP_SOLANA_BIN is not set: run `make test-real LOOPP_SOLANA_BIN=<chainlink-solana binary>` (docs/loop.md)');
  try {
    fs.accessSync(p, fs.constants.X_OK);
  } catch {
    assert.fail(`LOOPP_SOLANA_BIN=${p} is not an executable file (docs/loop.md: make real-loops SOLANA_SRC=<checkout>)`);
  }
  return p;
}

/** A deterministic 32-byte "public key" in base58, as the balance monitor expects accounts. */
export function solanaAccount(seed: string): string {
  return base58(createHash('sha256').update(`loopp-fake-solana/account/${seed}`).digest());
}

export function keystore(accounts: string[]): Keystore {
  return { accounts: () => accounts, sign: () => assert.fail('Sign is used only for transactions, which these tests never send') };
}

export interface TimedRecord extends LoopLogRecord {
  atMs: number;
}

export interface SolanaHarness extends AsyncDisposable {
  svc: LoopService<PluginRelayerHost, RelayerHandle>;
  logs: TimedRecord[];
  exits: Array<{ atMs: number; code: number | null; signal: NodeJS.Signals | null }>;
  launched: Array<{ atMs: number; launch: number; ms: number; pid: number }>;
  /** Set when NewRelayer failed (the error LoopService's launch swallowed). */
  newRelayerErrors: unknown[];
  sockDir: string;
  t0: number;
  /** Lines whose message matches, as `level message {fields}`. */
  lines(re: RegExp): string[];
  waitFor(what: string, cond: () => boolean, timeoutMs: number): Promise<void>;
}

export interface HarnessOptions {
  id: string;
  toml: string;
  accounts?: string[];
  /** Replaces the keystore made from `accounts` (whose Sign fails the test). */
  keystore?: Keystore;
  pingIntervalMs?: number;
}

/** This process's open sockets (fds whose link is socket:[…]): the host's, and the fake RPC's. */
function openSockets(): number {
  let n = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      // closed while we looked
    }
  }
  return n;
}

/**
 * loopp's orphan guard (one per host process, started with the first plugin, holding one socket for
 * the life of the process) is no leak: the first harness that launched a plugin counts it in.
 */
let guardCounted = false;

/** One record as `12ms error Logger.Name: message {fields}`, without zap's caller and stack trace. */
function line(r: TimedRecord): string {
  const { stacktrace: _s, caller: _c, ...fields } = r.fields;
  return `${r.atMs}ms ${r.level} ${r.logger ?? '-'}: ${r.message} ${JSON.stringify(fields)}`;
}

export async function solanaHarness(o: HarnessOptions): Promise<SolanaHarness> {
  const cmd = solanaBinary();
  const sockDir = tmpDir('loopp-real-solana-');
  const sockets0 = openSockets();
  // A registry's free-port allocator holds its block's lock port while it lives: ours is closed with
  // the harness, so nothing stays listening.
  const ports = createFreePortAllocator();
  const registry = new LoopRegistry({ ports });
  const t0 = performance.now();
  const now = () => Math.round(performance.now() - t0);
  const logs: TimedRecord[] = [];
  const exits: SolanaHarness['exits'] = [];
  const launched: SolanaHarness['launched'] = [];
  const newRelayerErrors: unknown[] = [];
  const factory = await newCmdFactory((n) => registry.register(n), { id: o.id, cmd, env: [['TMPDIR', sockDir]] });
  const svc = new LoopService<PluginRelayerHost, RelayerHandle>({
    name: 'RelayerService',
    kind: LOOP_KINDS.relayer,
    cmdFactory: factory,
    plugin: relayerLoopPlugin(),
    newService: async (host) => {
      try {
        return await host.newRelayer({ config: o.toml, keystore: o.keystore ?? keystore(o.accounts ?? []), csaKeystore: keystore([]) });
      } catch (err) {
        newRelayerErrors.push(err);
        throw err;
      }
    },
    pingIntervalMs: o.pingIntervalMs ?? 1000,
    onLog: (r) => logs.push({ ...r, atMs: now() }),
    onExited: (e) => exits.push({ atMs: now(), code: e.code, signal: e.signal }),
    onLaunched: (l) => launched.push({ atMs: now(), ...l }),
  });
  const h: SolanaHarness = {
    svc,
    logs,
    exits,
    launched,
    newRelayerErrors,
    sockDir,
    t0,
    lines: (re) => logs.filter((r) => re.test(r.message)).map(line),
    waitFor: async (what, cond, timeoutMs) => {
      const until = Date.now() + timeoutMs;
      while (!cond()) {
        if (Date.now() > until) assert.fail(`${what}: not within ${timeoutMs} ms`);
        await sleep(50);
      }
    },
    [Symbol.asyncDispose]: async () => {
      await svc.close();
      registry.unregister(o.id);
      await ports.close();
      // Nothing of the plugin is left: no registration, no process, no socket file.
      assertNothingLeft(registry, sockDir, []);
      rmDir(sockDir);
      // The host's connections to the plugin and the plugin's to the fake RPC close with it (each side
      // sees the other's close within a moment).
      const launchedOne = launched.length > 0 || newRelayerErrors.length > 0;
      const allowed = sockets0 + (launchedOne && !guardCounted ? 1 : 0);
      if (launchedOne) guardCounted = true;
      await h.waitFor(`open sockets back to ${allowed} (now ${openSockets()})`, () => openSockets() <= allowed, 3000);
    },
  };
  return h;
}
