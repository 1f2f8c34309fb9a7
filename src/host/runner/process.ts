/**
 * The plugin child process: spawn with go-plugin's stdio layout (stdin inherited, stdout and stderr
 * piped) and exit tracking that never rejects. Each plugin runs in its own process group so that a
 * kill reaches the real plugin behind a `sh -c` wrapper too (dash forks the command instead of
 * exec'ing it); no plugin outlives its host process (exit hook, orphan guard).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createExitState, type ProcessControl } from './exit-state';
import { guardGroup } from './orphan-guard';

export interface SpawnedPlugin extends ProcessControl {
  readonly child: ChildProcess;
  /** When the process was started (ms since epoch): files it created are not older. */
  readonly spawnedAtMs: number;
}

// Plugins still running when the host process exits are killed (go-plugin's CleanupClients, made
// automatic). Process-wide by nature; only live children are held, and the hook is installed on first use.
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

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

function trackUntilExit(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) killGroup(c);
    });
  }
  live.add(child);
  guardGroup(child.pid as number, true);
  child.once('exit', () => {
    live.delete(child);
    guardGroup(child.pid as number, false);
  });
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
    const spawnedAtMs = Date.now();
    const child = spawn(options.command, [...options.args], {
      argv0: options.argv0,
      env: options.env,
      cwd: options.cwd,
      stdio: ['inherit', 'pipe', 'pipe'],
      windowsHide: true,
      // A process group of its own (setsid): group kills, and no terminal Ctrl-C straight to plugins.
      detached: process.platform !== 'win32',
    });
    const state = createExitState();
    child.once('error', (err) => {
      if (child.pid === undefined) reject(err);
    });
    child.once('spawn', () => {
      trackUntilExit(child);
      child.once('exit', (code, signal) => {
        state.exit(code, signal);
        // 'close' follows once stdout/stderr are drained; a grandchild holding the pipes must not
        // keep `exited` pending forever.
        const timer = setTimeout(() => state.settle(), 1000);
        timer.unref();
        child.once('close', () => {
          clearTimeout(timer);
          state.settle();
        });
      });
      resolve({
        child,
        pid: child.pid as number,
        spawnedAtMs,
        exited: state.exited,
        get hasExited() {
          return state.hasExited;
        },
        expectExit: (r) => state.expect(r),
        kill() {
          if (state.hasExited) return;
          state.expect('killed');
          killGroup(child);
        },
      });
    });
  });
}
