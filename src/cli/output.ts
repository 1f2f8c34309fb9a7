/**
 * Where the `loopp` command writes: results to stdout, progress and errors to stderr. Colour only
 * when the stream is a terminal and NO_COLOR is unset (https://no-color.org); the progress line only
 * on a terminal stderr, erased before anything else is written, so logs and pipes never see it.
 */

export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM: a command stops its plugin and returns EXIT.interrupted. */
  readonly signal: AbortSignal;
}

export type Paint = (text: string) => string;

export interface Palette {
  readonly pass: Paint;
  readonly fail: Paint;
  readonly warn: Paint;
  readonly dim: Paint;
  readonly bold: Paint;
}

const plain: Paint = (t) => t;
const sgr = (code: number): Paint => (t) => `\x1b[${code}m${t}\x1b[0m`;

export function palette(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): Palette {
  const on = stream.isTTY === true && (env['NO_COLOR'] ?? '') === '' && env['TERM'] !== 'dumb';
  if (!on) return { pass: plain, fail: plain, warn: plain, dim: plain, bold: plain };
  return { pass: sgr(32), fail: sgr(31), warn: sgr(33), dim: sgr(2), bold: sgr(1) };
}

export interface Progress {
  /** Shows `text` (replacing the previous one) until the next update or done(). */
  update(text: string): void;
  done(): void;
}

/** A one-line spinner on a terminal stderr, nothing elsewhere; its timer never keeps node alive. */
export function progress(io: CliIo): Progress {
  const tty = io.stderr.isTTY === true;
  if (!tty) return { update: () => undefined, done: () => undefined };
  const frames = ['|', '/', '-', '\\'];
  let text = '';
  let frame = 0;
  const draw = (): void => void io.stderr.write(`\r\x1b[2K${frames[frame++ % frames.length]} ${text}`);
  let timer: NodeJS.Timeout | undefined;
  return {
    update(next) {
      text = next;
      draw();
      timer ??= setInterval(draw, 120).unref();
    },
    done() {
      if (timer) clearInterval(timer);
      timer = undefined;
      if (text) io.stderr.write('\r\x1b[2K');
      text = '';
    },
  };
}
