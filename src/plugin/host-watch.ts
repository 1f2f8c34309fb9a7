/**
 * Beyond go-plugin: a plugin whose host died exits instead of lingering as an orphan. Our parent is
 * the host, or a shell the host ran us through (`sh -c "$PLUGIN_CMD"`, as go-plugin's examples do;
 * dash forks rather than execs). Being re-parented means the host is gone; so does our shell parent
 * being re-parented, since a `sh -c` wrapper only waits for us.
 */
import { readFileSync } from 'node:fs';

const SHELLS = new Set(['sh', 'dash', 'bash', 'ash', 'zsh', 'ksh', 'mksh', 'busybox']);

/** ppid and command name of a process, from /proc (Linux); undefined elsewhere or when gone. */
function procInfo(pid: number): { ppid: number; comm: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    return { ppid: Number(fields[1]), comm: stat.slice(open + 1, close) };
  } catch {
    return undefined;
  }
}

export function watchHost(onHostGone: () => void, intervalMs = 250): () => void {
  const parent = process.ppid;
  const parentInfo = procInfo(parent);
  // Only a shell parent's own parent counts: a real host may legitimately outlive its own parent.
  const hostBehindShell = parentInfo !== undefined && SHELLS.has(parentInfo.comm) ? parentInfo.ppid : undefined;
  const timer = setInterval(() => {
    let gone = process.ppid !== parent;
    if (!gone && hostBehindShell !== undefined) gone = procInfo(parent)?.ppid !== hostBehindShell;
    if (gone) {
      clearInterval(timer);
      onHostGone();
    }
  }, intervalMs);
  // The gRPC server keeps the process alive while it serves; the watch alone must not.
  timer.unref();
  return () => clearInterval(timer);
}
