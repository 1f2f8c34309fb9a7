/**
 * Liveness of a plugin process loopp did not spawn (reattach): signal 0 every second. The pid is
 * only watched, so an exit has no status; without a pid (0) there is nothing to watch.
 */
import { createExitState, type ProcessControl } from './exit-state';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function watchPid(pid: number): ProcessControl {
  const state = createExitState();
  const gone = () => {
    clearInterval(timer);
    state.exit(null, null);
    state.settle();
  };
  const timer = setInterval(() => {
    if (pid === 0 || !pidAlive(pid)) gone();
  }, 1000);
  timer.unref();
  return {
    pid,
    exited: state.exited,
    get hasExited() {
      return state.hasExited;
    },
    expectExit(reason) {
      if (state.hasExited) return;
      state.expect(reason);
      // Someone now waits for this exit: keep the process alive until the poll sees it.
      timer.ref();
    },
    kill() {
      if (state.hasExited) return;
      state.expect('killed');
      timer.ref();
      if (pid === 0) {
        gone();
        return;
      }
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone; the poll confirms it
      }
    },
  };
}
