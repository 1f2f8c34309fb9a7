/**
 * The plugin child process: spawn with go-plugin's stdio layout (stdin inherited, stdout and stderr
 * piped), exit tracking through a promise that never rejects, and the last-resort rule that no
 * plugin outlives its host process. Each plugin runs in its own process group so that a kill reaches
 * the real plugin behind a `sh -c` wrapper too (dash forks the command instead of exec'ing it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';

export type ExitReason = 'closed' | 'killed' | 'crashed';

export interface PluginExit {
  /** Exit code, or null when a signal ended the process. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** closed: it exited after close(); killed: we SIGKILLed it; crashed: it ended on its own. */
  reason: ExitReason;
}

export interface SpawnedPlugin {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Settles once the process has exited and its pipes are drained (or 1 s after exit). */
  readonly exited: Promise<PluginExit>;
  readonly hasExited: boolean;
  /** The reason recorded for the next exit (close/kill set it before acting). */
  expectExit(reason: ExitReason): void;
  /** SIGKILL, once; safe after exit. */
  kill(): void;
}

// Plugins still running when the host process exits are killed (go-plugin's CleanupClients, made
// automatic). Only live children are held, and the hook is installed on first use.
const live = new Set<ChildProcess>();

/** SIGKILL the child's process group (POSIX), falling back to the child alone. */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  if (process.platform !== 'win32') {
    try {
      process.kill(-child.pid, 'SIGKILL');
      return;
    } catch {
      // the group is already empty, or not ours
    }
  }
  try {
    child.kill('SIGKILL');
  } catch {
    // already gone
  }
}
let exitHookInstalled = false;
function trackUntilExit(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) killGroup(c);
    });
  }
  live.add(child);
  tellGuard(`+g${child.pid}`);
  child.once('exit', () => {
    live.delete(child);
    tellGuard(`-g${child.pid}`);
  });
}

/*
 * A SIGKILLed host runs no exit hook, and a Go plugin does not watch its parent (go-plugin relies on
 * the host's CleanupClients), so it would live on as an orphan; found by the fault tests. The guard
 * is a shell outside the host (a grandchild, re-parented at once, so it is nobody's child to reap)
 * that holds the read end of a pipe from the host and lists the plugins' process groups and unix
 * sockets. The kernel closes the host's end however the host dies; the guard then waits 1 s, which
 * lets our TS plugins (250 ms host watch) exit cleanly, SIGKILLs the groups still listed and removes
 * the listed paths that are still sockets or empty directories (neither a killed plugin nor a dead
 * host can), in the order they were listed.
 */
const GUARD_SCRIPT = [
  "live=' '",
  "socks='",
  "'",
  'while IFS= read -r l <&3; do',
  '  v=${l#??}',
  '  case $l in',
  '    +g*) live="$live$v " ;;',
  '    -g*) case $live in *" $v "*) live="${live%% $v *} ${live#* $v }" ;; esac ;;',
  '    +s*) socks="$socks$v',
  '" ;;',
  '    -s*) case $socks in *"',
  '$v',
  '"*) socks="${socks%%"',
  '$v',
  '"*}',
  '${socks#*"',
  '$v',
  '"}" ;; esac ;;',
  '  esac',
  'done',
  'sleep 1',
  'for g in $live; do kill -KILL -$g 2>/dev/null; done',
  'printf \'%s\' "$socks" | while IFS= read -r s; do if [ -S "$s" ]; then rm -f "$s"; elif [ -d "$s" ]; then rmdir "$s" 2>/dev/null; fi; done',
].join('\n');
/** The guard's `$0`, so `ps` shows what it is. */
export const ORPHAN_GUARD_ARGV0 = 'loopp-orphan-guard';
let guard: Writable | null | undefined;
function tellGuard(line: string): void {
  if (guard === undefined) {
    guard = null;
    if (process.platform === 'win32') return;
    try {
      // The subshell is backgrounded so the `sh` we spawn exits at once; fd 3 survives the `&`
      // (only stdin is redirected to /dev/null for an asynchronous list).
      const sh = spawn('/bin/sh', ['-c', `(${GUARD_SCRIPT}) &`], {
        argv0: ORPHAN_GUARD_ARGV0,
        stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
        detached: true,
      });
      sh.once('error', () => {});
      sh.unref();
      const pipe = sh.stdio[3] as Socket;
      pipe.on('error', () => {});
      // Neither the guard nor its pipe may keep the host's event loop alive.
      pipe.unref();
      guard = pipe;
    } catch {
      // no shell: the exit hook still covers every exit but SIGKILL
    }
  }
  guard?.write(`${line}\n`);
}

/** Has the guard remove `file` (a socket, or an empty directory) should the host die; `false` withdraws it. */
export function guardPath(file: string, on: boolean): void {
  // A path with a newline cannot travel on the guard's line protocol; such a socket is not guarded.
  if (!file.includes('\n')) tellGuard(`${on ? '+' : '-'}s${file}`);
}

export interface SpawnPluginOptions {
  command: string;
  /** argv[0] when `command` is a resolved path (the name the user gave). */
  argv0?: string;
  args: readonly string[];
  env: Record<string, string>;
  cwd?: string;
}

/** Spawns the plugin; rejects (with the spawn error) if the executable cannot be started. */
export function spawnPlugin(options: SpawnPluginOptions): Promise<SpawnedPlugin> {
  return new Promise((resolve, reject) => {
    const child = spawn(options.command, [...options.args], {
      argv0: options.argv0,
      env: options.env,
      cwd: options.cwd,
      stdio: ['inherit', 'pipe', 'pipe'],
      windowsHide: true,
      // A process group of its own (setsid): group kills, and no terminal Ctrl-C straight to plugins.
      detached: process.platform !== 'win32',
    });
    let reason: ExitReason = 'crashed';
    let hasExited = false;
    let settle!: (e: PluginExit) => void;
    const exited = new Promise<PluginExit>((r) => (settle = r));
    child.once('error', (err) => {
      if (child.pid === undefined) reject(err);
    });
    child.once('spawn', () => {
      trackUntilExit(child);
      child.once('exit', (code, signal) => {
        hasExited = true;
        const result = (): PluginExit => ({ code, signal, reason });
        // 'close' follows once stdout/stderr are drained; a grandchild holding the pipes must not
        // keep `exited` pending forever.
        const timer = setTimeout(() => settle(result()), 1000);
        timer.unref();
        child.once('close', () => {
          clearTimeout(timer);
          settle(result());
        });
      });
      resolve({
        child,
        pid: child.pid as number,
        exited,
        get hasExited() {
          return hasExited;
        },
        expectExit(r: ExitReason) {
          if (!hasExited) reason = r;
        },
        kill() {
          if (hasExited) return;
          reason = 'killed';
          killGroup(child);
        },
      });
    });
  });
}
