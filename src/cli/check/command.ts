/**
 * `loopp check [options] <plugin> [args...]`: launches any go-plugin gRPC plugin (Go, TypeScript,
 * Python, a Chainlink LOOP) and reports, rule by rule, what it does right and wrong.
 */
import { optionsHelp, parseArgs, flag, type OptionSpec } from '../args';
import type { Command } from '../command';
import { EXIT_HELP, type ExitCode } from '../exit-codes';
import { LAUNCH_OPTIONS, formatLaunchFailure, launchPlan } from '../launch-options';
import { palette, progress, type CliIo } from '../output';
import { exitOf, jsonReport, textReport } from './report';
import { runCheck } from './session';

const CHECK_OPTIONS: readonly OptionSpec[] = [...LAUNCH_OPTIONS, { name: 'json', kind: 'flag', help: 'print the report as JSON (schema in docs/cli.md)' }];

const HELP = `loopp check: launch a go-plugin gRPC plugin and check it against the protocol, rule by rule

Usage: loopp check [options] <plugin> [plugin args...]

Each rule (ids in docs/cli.md) is pass, fail, warn or n/a, with what was seen. The plugin is
launched three times: once in full (handshake, socket, certificate, health, reflection, stdio and
broker streams, Shutdown, leftovers), once offering only an app version it lacks, once without
the magic cookie. Each launch gets a fresh PLUGIN_UNIX_SOCKET_DIR (also TMPDIR); nothing is left.

Options:
${optionsHelp(CHECK_OPTIONS)}

Examples:
  loopp check --cookie BASIC_PLUGIN=hello ./kv-plugin
  loopp check --cookie BASIC_PLUGIN=hello --mux ./counter-plugin
  loopp check --loop relayer ./chainlink-solana
  loopp check --loop median --timeout 30s ./chainlink-feeds
  loopp check --json --cookie BASIC_PLUGIN=hello python3 plugin.py > report.json

${EXIT_HELP}
  Exit 0 needs every applicable rule to pass (warnings allowed); 3 still prints what was learned.
`;

async function run(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const parsed = parseArgs(argv, CHECK_OPTIONS);
  const plan = await launchPlan(parsed);
  const line = progress(io);
  let outcome;
  try {
    outcome = await runCheck(plan, { signal: io.signal, step: (text) => line.update(text) });
  } finally {
    line.done();
  }
  if (flag(parsed, 'json') === true) io.stdout.write(jsonReport(outcome, plan));
  else io.stdout.write(textReport(outcome, plan, palette(io.stdout, io.env)));
  if (outcome.launchFailure !== undefined && !outcome.interrupted) io.stderr.write(`loopp check: ${formatLaunchFailure(outcome.launchFailure)}`);
  return exitOf(outcome);
}

export const checkCommand: Command = {
  name: 'check',
  summary: 'launch a plugin and check it against the go-plugin protocol, rule by rule',
  help: HELP,
  run,
};
