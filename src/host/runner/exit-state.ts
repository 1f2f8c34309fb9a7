/**
 * The one exit state machine of a plugin process, whether loopp spawned it (runner/process.ts) or only
 * watches its pid (reattach): the reason of the coming exit is recorded before acting on the
 * process, and `exited` settles once, never rejecting.
 */
export type ExitReason = 'closed' | 'killed' | 'crashed';

export interface PluginExit {
  /** Exit code, or null when a signal ended the process (or the exit was only observed). */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** closed: it exited after close(); killed: we SIGKILLed it; crashed: it ended on its own. */
  reason: ExitReason;
}

/** How a client controls the process behind it. */
export interface ProcessControl {
  readonly pid: number;
  /** Settles when the process has exited; never rejects. */
  readonly exited: Promise<PluginExit>;
  readonly hasExited: boolean;
  /** The reason recorded for the next exit (close() sets it before acting). */
  expectExit(reason: ExitReason): void;
  /** SIGKILL, once; safe after exit. */
  kill(): void;
}

export interface ExitState {
  readonly exited: Promise<PluginExit>;
  /** True from the moment the exit is seen (`exited` may settle later, once the pipes drain). */
  readonly hasExited: boolean;
  /** Records the reason of the coming exit; ignored once the process has exited. */
  expect(reason: ExitReason): void;
  /** The process is gone: its status and the reason are fixed from now on. Once. */
  exit(code: number | null, signal: NodeJS.Signals | null): void;
  /** Settles `exited` with the recorded exit (after exit(); once). */
  settle(): void;
}

export function createExitState(): ExitState {
  let reason: ExitReason = 'crashed';
  let result: PluginExit | undefined;
  let resolve!: (e: PluginExit) => void;
  const exited = new Promise<PluginExit>((r) => (resolve = r));
  return {
    exited,
    get hasExited() {
      return result !== undefined;
    },
    expect(r) {
      if (result === undefined) reason = r;
    },
    exit(code, signal) {
      result ??= { code, signal, reason };
    },
    settle() {
      if (result !== undefined) resolve(result);
    },
  };
}
