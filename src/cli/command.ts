import type { CliIo } from './output';
import type { ExitCode } from './exit-codes';

/** One `loopp <name>` command. */
export interface Command {
  readonly name: string;
  /** One line for `loopp --help`. */
  readonly summary: string;
  /** The whole `loopp <name> --help` text: usage, options, examples, exit statuses. */
  readonly help: string;
  /** Parses `argv` (the words after the command's name) and runs; never throws a UsageError out. */
  run(argv: readonly string[], io: CliIo): Promise<ExitCode>;
}
