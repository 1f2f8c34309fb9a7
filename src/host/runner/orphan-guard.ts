/*
 * A SIGKILLed host runs no exit hook, and a Go plugin does not watch its parent (go-plugin relies on
 * the host's CleanupClients), so it would live on as an orphan; found by the fault tests. The guard
 * is a shell outside the host (a grandchild, re-parented at once, so it is nobody's child to reap)
 * that holds the read end of a pipe from the host and lists the plugins' process groups and unix
 * sockets. The kernel closes the host's end however the host dies; the guard then waits 1 s, which
 * lets our TS plugins (250 ms host watch) exit cleanly, SIGKILLs the groups still listed and removes
 * the listed paths that are still sockets or empty directories (neither a killed plugin nor a dead
 * host can), in the order they were listed.
 *
 * One guard per host process, started on first use: it stands for the process, not for a client.
 */
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';

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
// Lines wait for the end of the event-loop turn and go in one write: a host launching 100 plugins at
// once paid a pipe write per line (about 2% of its CPU in B6). A host SIGKILLed within that turn
// leaves those plugins unguarded, as one killed just before spawning them would.
let pending: string[] = [];

function flush(): void {
  const text = pending.join('');
  pending = [];
  guard?.write(text);
}

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
  if (guard === null) return;
  if (pending.length === 0) setImmediate(flush);
  pending.push(`${line}\n`);
}

/** Has the guard SIGKILL process group `pgid` should the host die; `false` withdraws it. */
export function guardGroup(pgid: number, on: boolean): void {
  tellGuard(`${on ? '+' : '-'}g${pgid}`);
}

/** Has the guard remove `file` (a socket, or an empty directory) should the host die; `false` withdraws it. */
export function guardPath(file: string, on: boolean): void {
  // A path with a newline cannot travel on the guard's line protocol; such a socket is not guarded.
  if (!file.includes('\n')) tellGuard(`${on ? '+' : '-'}s${file}`);
}
