/** Shared test helpers: fixture paths, temp dirs, process and socket leak checks. */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcessByStdio } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import type { KVClient } from '../fixtures/gen/examples/kv/kv';

/** Repository root (tests run from dist/test/...). */
export const ROOT = path.resolve(__dirname, '..', '..');
export const GO_BIN = path.join(ROOT, 'go-interop', 'bin');
export const BIN = path.join(ROOT, 'bin');
/** The compiled `loopp` command. */
export const LOOPP_CLI = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');

/** Absolute path of a compiled scenario fixture. */
export function fixture(name: string): string {
  const p = path.join(ROOT, 'dist', 'fixtures', 'plugins', `${name}.js`);
  assert.ok(fs.existsSync(p), `fixture ${name} is not built (run make build)`);
  return p;
}

/** Path of a Go interop binary; fails (never skips) when it is missing. */
/** Absolute path of any compiled fixture, e.g. `brokertest/brokertest-plugin`. */
export function fixtureAt(rel: string): string {
  const p = path.join(ROOT, 'dist', 'fixtures', `${rel}.js`);
  assert.ok(fs.existsSync(p), `fixture ${rel} is not built (run make build)`);
  return p;
}

export function goBinary(name: string): string {
  const p = path.join(GO_BIN, name);
  assert.ok(fs.existsSync(p), `${p} is missing: run \`make interop-bin\` (make test does)`);
  return p;
}

export function binary(name: string): string {
  const p = path.join(BIN, name);
  assert.ok(fs.existsSync(p), `${p} is missing: run \`make build\``);
  return p;
}

/** A fresh private temp dir, removed by the returned cleanup. */
export function tmpDir(prefix = 'loopp-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function rmDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** True while `pid` runs; a zombie (exited, not yet reaped by its new parent) counts as gone. */
export function pidAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Polls until `pid` is gone (or fails after `timeoutMs`). */
export async function assertPidGone(pid: number, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (pidAlive(pid)) {
    if (Date.now() > until) assert.fail(`process ${pid} still alive after ${timeoutMs} ms`);
    await sleep(25);
  }
}

/** Live (non-zombie) processes whose process group is `pgid`. */
export function groupMembers(pgid: number): number[] {
  return liveProcesses().filter(([, , g]) => g === pgid).map(([pid]) => pid);
}

/** Polls until no live process is left in group `pgid`. */
export async function assertGroupGone(pgid: number, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (groupMembers(pgid).length > 0) {
    if (Date.now() > until) assert.fail(`process group ${pgid} still has ${groupMembers(pgid).join(',')} after ${timeoutMs} ms`);
    await sleep(25);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Entries of a directory (for "nothing left behind" checks). */
export function listDir(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

/** Processes as [pid, ppid, pgid, state] from /proc. */
function processes(): Array<[number, number, number, string]> {
  const out: Array<[number, number, number, string]> = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push([Number(entry), Number(fields[1]), Number(fields[2]), fields[0] as string]);
    } catch {
      // raced with exit
    }
  }
  return out;
}

/** Live (non-zombie) processes as [pid, ppid, pgid] from /proc. */
function liveProcesses(): Array<[number, number, number]> {
  return processes()
    .filter(([, , , state]) => state !== 'Z')
    .map(([pid, ppid, pgid]) => [pid, ppid, pgid]);
}

/** Children of this process (pids). */
export function childPids(): number[] {
  return liveProcesses().filter(([, ppid]) => ppid === process.pid).map(([pid]) => pid);
}

/** Children of this process that exited and were never reaped (zombies). */
export function zombieChildPids(): number[] {
  return processes()
    .filter(([, ppid, , state]) => ppid === process.pid && state === 'Z')
    .map(([pid]) => pid);
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (with a hard timeout) and collects its output. */
export function run(cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    // A child that exits without reading its input (e.g. `sh -c printf`) makes this write fail with
    // EPIPE; that is no error of the run, whose outcome is the child's exit.
    child.stdin.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') reject(e);
    });
    child.stdin.end(options.input ?? '');
  });
}

export { execFile };

/**
 * `words` as one POSIX shell command line, each word quoted where it needs to be: for the
 * `sh -c "$KV_PLUGIN"`-style variables of the example hosts (KV_PLUGIN, COUNTER_PLUGIN, PLUGIN_CMD),
 * whose paths may hold spaces or quotes (a checkout in `/tmp/x y/p`).
 */
export function shellCommand(...words: string[]): string {
  return words.map((w) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** Unary calls of the KV example's client, as promises. */
export function kvPut(kv: KVClient, key: string, value: string): Promise<void> {
  return new Promise((res, rej) => kv.put({ key, value: Buffer.from(value) }, (e) => (e ? rej(e) : res())));
}
export function kvGet(kv: KVClient, key: string): Promise<string> {
  return new Promise((res, rej) => kv.get({ key }, (e, r) => (e ? rej(e) : res(Buffer.from(r.value).toString()))));
}

export interface LaunchedByHand {
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** The first stdout line (a plugin's handshake line). */
  line: string;
  stderr: () => string;
}

/** Runs `node <script> ...args` with exactly `env` (the test plays the host) and waits for its first stdout line. */
export async function launchByHand(script: string, env: NodeJS.ProcessEnv, args: string[] = []): Promise<LaunchedByHand> {
  const child = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before its first line: ${err}`)));
  });
  return { child, line, stderr: () => err };
}

/** Everything a readable stream yields until its end (rejects on its error). */
export function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    s.on('data', (c: Buffer) => parts.push(c));
    s.once('end', () => resolve(Buffer.concat(parts)));
    s.once('error', reject);
  });
}

/** After a LOOP service has closed: nothing registered, no child process, only `keep` left in its TMPDIR. */
export function assertNothingLeft(registry: { list(): unknown[] }, dir: string, keep: string[]): void {
  assert.deepEqual(registry.list(), [], 'LOOP ids left registered');
  assert.deepEqual(childPids(), [], 'child processes left running');
  assert.deepEqual(listDir(dir).sort(), [...keep].sort(), 'files left in the LOOP TMPDIR');
}

/** Live processes whose environment holds `marker` (a plugin started through another process, which childPids() cannot see). */
export function markedProcesses(marker: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/environ`, 'latin1').includes(marker)) found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}
