/**
 * Reading a plugin's handshake line as go-plugin's host does: the first stdout line (bufio.Scanner:
 * 64 KiB at most, an unterminated last line at EOF counts), within the start deadline. Everything
 * after it on stdout is drained and dropped.
 */
import { MAX_HANDSHAKE_LINE_BYTES } from '../core/constants';
import { HandshakeError, StartError } from '../core/errors';
import { createFirstLineReader } from '../core/lines';
import { DIAGNOSE_TEXT } from '../wire/handshake';
import type { SpawnedPlugin } from './runner/process';

/** How long a plugin that closed its stdout without a line may live on before it is refused. */
const CLOSED_STDOUT_GRACE_MS = 500;

/** Resolves with the first stdout line; rejects on the deadline, an early exit or a closed stdout. */
export function readHandshakeLine(proc: SpawnedPlugin, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdout = proc.child.stdout;
    const reader = createFirstLineReader(MAX_HANDSHAKE_LINE_BYTES);
    let done = false;
    const finish = (settle: () => void) => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      stdout?.off('data', onData);
      stdout?.off('end', onEnd);
      // The rest of stdout is drained and dropped, as a Go host does.
      stdout?.on('data', () => {});
      settle();
    };
    const onData = (chunk: Buffer) => {
      const r = reader.push(chunk);
      if (r.line !== undefined) {
        const line = r.line;
        finish(() => resolve(line));
      } else if (r.overflow) {
        finish(() =>
          reject(new HandshakeError('ERR_LOOPP_HANDSHAKE_MALFORMED', `Unrecognized remote plugin message: \nbufio.Scanner: token too long\n${DIAGNOSE_TEXT}`, {
            hint: 'The plugin wrote more than 64 KiB to stdout without a newline.',
          })),
        );
      }
    };
    const onEnd = () => {
      // bufio.Scanner hands out an unterminated last line at EOF, and so go-plugin connects to it.
      const last = reader.end();
      if (last.line !== undefined) {
        const line = last.line;
        finish(() => resolve(line));
        return;
      }
      // stdout closed without a line: either it exited (the usual case, settled by the exit handler
      // below) or it closed fd 1 and lives on.
      setTimeout(
        () =>
          finish(() =>
            reject(new HandshakeError('ERR_LOOPP_HANDSHAKE_MALFORMED', `Unrecognized remote plugin message: \nFailed to read any lines from plugin's stdout\n${DIAGNOSE_TEXT}`, {
              hint: 'The plugin closed its stdout without printing the handshake.',
            })),
          ),
        CLOSED_STDOUT_GRACE_MS,
      ).unref();
    };
    const onAbort = () => finish(() => reject(signal.reason));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    stdout?.on('data', onData);
    stdout?.on('end', onEnd);
    void proc.exited.then((e) => {
      // Give stdout's 'end' a chance to deliver a final line first.
      setImmediate(() =>
        finish(() =>
          reject(
            new StartError('ERR_LOOPP_EXITED_BEFORE_HANDSHAKE', 'plugin exited before we could connect', {
              exitCode: e.code,
              signal: e.signal,
              input: { exitCode: e.code, signal: e.signal },
              hint: 'See the stderr tail for why the plugin stopped.',
            }),
          ),
        ),
      );
    });
  });
}
