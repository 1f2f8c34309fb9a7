#!/usr/bin/env node
/**
 * `loopp`: the command for plugin authors (check a plugin against the protocol, call it, bundle it).
 * This file only dispatches; each command lives in its own folder.
 */
import { HelpRequested, UsageError } from './args';
import type { Command } from './command';
import { COMMANDS } from './commands';
import { EXIT, EXIT_HELP, type ExitCode } from './exit-codes';
import type { CliIo } from './output';

function topHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length), 4) + 2;
  return `loopp: go-plugin and Chainlink LOOP plugins, from the command line

Usage: loopp <command> [options] ...
       loopp <command> --help

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join('\n')}

${EXIT_HELP}
`;
}

function version(): string {
  // The package.json next to dist/: the one this copy of loopp was installed from.
  return (require('../../../package.json') as { version: string }).version;
}

/** Runs one command line; returns the exit status (tests call this directly). */
export async function main(argv: readonly string[], io: CliIo, commands: readonly Command[] = COMMANDS): Promise<ExitCode> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(topHelp(commands));
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-V') {
    io.stdout.write(`${version()}\n`);
    return EXIT.ok;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`loopp: unknown command ${JSON.stringify(name)}; the commands are ${commands.map((c) => c.name).join(', ')} (loopp --help)\n`);
    return EXIT.usage;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    // Thrown by parseArgs, so only where an option of ours may stand: `loopp check ./p --help`
    // passes --help to the plugin.
    if (err instanceof HelpRequested) {
      io.stdout.write(command.help.endsWith('\n') ? command.help : `${command.help}\n`);
      return EXIT.ok;
    }
    if (err instanceof UsageError) {
      io.stderr.write(`loopp ${name}: ${err.message}\n`);
      return EXIT.usage;
    }
    io.stderr.write(`loopp ${name}: internal error, please report it with this text:\n${(err as Error)?.stack ?? String(err)}\n`);
    return EXIT.internal;
  }
}

function processIo(): CliIo {
  const controller = new AbortController();
  const stop = (): void => controller.abort(new Error('interrupted'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal };
}

if (require.main === module) {
  main(process.argv.slice(2), processIo()).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`loopp: ${String(err)}\n`);
      process.exitCode = EXIT.internal;
    },
  );
}
