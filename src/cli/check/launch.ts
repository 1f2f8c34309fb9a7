/**
 * One launch of the plugin under check, kept raw: the environment given, the first stdout line as
 * printed, every stderr byte, the moment of the exit. check launches up to three times (the main run,
 * an unsupported app version, no cookie) and judges each from this record; loopp's startPlugin would
 * refuse a bad line instead of showing it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StartError, messageOf } from '../../core/errors';
import { readHandshakeLine } from '../../host/handshake-line';
import { spawnPlugin, type SpawnedPlugin } from '../../host/runner/process';
import { startDeadline } from '../../host/start-deadline';
import { launchFailure, type LaunchFailure } from '../launch-options';

/** Stderr kept per launch (the rest is counted, not kept). */
const MAX_STDERR_BYTES = 1 << 20;

export interface LaunchSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

export interface Launch {
  readonly proc: SpawnedPlugin | undefined;
  readonly spawnedAtMs: number;
  /** The first stdout line, untrimmed of nothing but its newline. */
  readonly line: string | undefined;
  /** From spawn to the line. */
  readonly lineMs: number | undefined;
  /** Why there is no line: spawn error, timeout, exit, closed stdout, interrupt. */
  readonly failure: LaunchFailure | undefined;
  /** Everything written to stderr so far (up to 1 MiB). */
  stderr(): string;
  /** Set once the process has exited: when (ms since epoch), with which code or signal. */
  exit(): { atMs: number; code: number | null; signal: NodeJS.Signals | null } | undefined;
}

function spawnFailure(err: unknown, command: string): LaunchFailure {
  return launchFailure(new StartError('ERR_LOOPP_SPAWN', `error starting plugin: ${messageOf(err)}`, { input: command }));
}

/** Spawns and waits for the first stdout line; never throws. */
export async function launch(spec: LaunchSpec): Promise<Launch> {
  const spawnedAtMs = Date.now();
  let proc: SpawnedPlugin;
  try {
    proc = await spawnPlugin({ command: spec.command, args: spec.args, env: spec.env });
  } catch (err) {
    const failure = spawnFailure(err, spec.command);
    return { proc: undefined, spawnedAtMs, line: undefined, lineMs: undefined, failure, stderr: () => '', exit: () => undefined };
  }
  const chunks: Buffer[] = [];
  let kept = 0;
  proc.child.stderr?.on('data', (c: Buffer) => {
    if (kept < MAX_STDERR_BYTES) chunks.push(c.subarray(0, MAX_STDERR_BYTES - kept));
    kept += c.length;
  });
  let exit: { atMs: number; code: number | null; signal: NodeJS.Signals | null } | undefined;
  proc.child.once('exit', (code, signal) => (exit = { atMs: Date.now(), code, signal }));
  const stderr = () => Buffer.concat(chunks).toString('utf8');
  const deadline = startDeadline(spec.timeoutMs, spec.signal);
  try {
    const line = await readHandshakeLine(proc, deadline.signal);
    return { proc, spawnedAtMs, line, lineMs: Date.now() - spawnedAtMs, failure: undefined, stderr, exit: () => exit };
  } catch (err) {
    // Let the last stderr lines of a plugin that exited arrive before they are shown.
    await Promise.race([proc.exited, new Promise((r) => setTimeout(r, 100))]);
    const failure = { ...launchFailure(err), stderrTail: tail(stderr()) };
    return { proc, spawnedAtMs, line: undefined, lineMs: undefined, failure, stderr, exit: () => exit };
  } finally {
    deadline.dispose();
  }
}

/** The last 20 lines. */
export function tail(text: string, lines = 20): string {
  return text.split('\n').slice(-lines - 1).join('\n');
}

/**
 * SIGKILLs the process and waits for its exit, then what is left of its process group: a plugin that
 * exited (refusing the cookie, say) may leave children behind. The group's id cannot be reused while
 * a member lives.
 */
export async function kill(l: Launch): Promise<void> {
  if (l.proc === undefined) return;
  l.proc.kill();
  await l.proc.exited;
  if (process.platform === 'win32') return;
  try {
    process.kill(-l.proc.pid, 'SIGKILL');
  } catch {
    // no member left
  }
}

/** A fresh private directory for one launch's sockets and temp files. */
export function freshDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
