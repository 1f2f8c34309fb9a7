/**
 * The one deadline of a plugin start: it covers the handshake line, the connection and the first TLS
 * handshake, and aborts with a complete StartError as its reason (`ERR_LOOPP_START_TIMEOUT` when
 * startTimeoutMs runs out, `ERR_LOOPP_ABORTED` when the caller's signal aborts), so every step that
 * takes the signal fails with the error the caller will see.
 */
import { StartError } from '../core/errors';

export interface StartDeadline {
  readonly signal: AbortSignal;
  /** Stops the timer and forgets the caller's signal. */
  dispose(): void;
}

export function startDeadline(timeoutMs: number, callerSignal: AbortSignal | undefined): StartDeadline {
  const controller = new AbortController();
  const timer = setTimeout(
    () =>
      controller.abort(
        new StartError('ERR_LOOPP_START_TIMEOUT', 'timeout while waiting for plugin to start', {
          input: timeoutMs,
          hint: `The plugin did not start within ${timeoutMs} ms; raise startTimeoutMs or check its stderr.`,
        }),
      ),
    timeoutMs,
  );
  timer.unref();
  const onAbort = () =>
    controller.abort(new StartError('ERR_LOOPP_ABORTED', 'plugin start aborted', { cause: callerSignal?.reason, hint: 'The start signal was aborted.' }));
  if (callerSignal?.aborted) onAbort();
  else callerSignal?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onAbort);
    },
  };
}
