/**
 * How the `loopp` commands that run a plugin (check, call) launch it: the options they share, the plan
 * those options make, and the one start with a progress line and a launch failure that says what to do.
 *
 * The cookie is required: a go-plugin plugin refuses to run without the exact KEY=VALUE it was built
 * with, and no default can be right for an unknown plugin. `--loop KIND` brings the cookie of that
 * Chainlink LOOP kind (and app protocol 0); giving both is a usage error, so it is always clear which
 * cookie was sent.
 */
import * as net from 'node:net';
import { grpcPlugin, isLooppError, startPlugin, type HandshakeConfig, type PluginClient, type PluginSet, type StartPluginOptions } from '../index';
import { LOOP_KINDS, asCmdEnv, newEnvConfig, type LoopKindName } from '../loop/index';
import { UsageError, durationMs, flag, keyValue, list, value, type OptionSpec, type ParsedArgs } from './args';
import { EXIT, type ExitCode } from './exit-codes';
import { progress, type CliIo } from './output';
import { NOT_A_PLUGIN_FIRST_LINE } from '../wire/env';

/** go-plugin's StartTimeout. */
export const DEFAULT_LAUNCH_TIMEOUT_MS = 60_000;

const LOOP_KIND_NAMES = Object.keys(LOOP_KINDS) as LoopKindName[];

/** The options of every command that launches a plugin, in --help order. */
export const LAUNCH_OPTIONS: readonly OptionSpec[] = [
  { name: 'cookie', kind: 'value', arg: 'KEY=VALUE', help: 'the magic cookie the plugin was built with (required unless --loop)' },
  { name: 'version', kind: 'list', arg: 'N', help: 'an app protocol version to offer (default 1; 0 with --loop)' },
  { name: 'env', kind: 'list', arg: 'KEY=VALUE', help: "a variable for the plugin's environment" },
  { name: 'loop', kind: 'value', arg: 'KIND', help: `a Chainlink LOOP: its cookie, version 0 and a free CL_PROMETHEUS_PORT (${LOOP_KIND_NAMES.join(', ')})` },
  { name: 'automtls', kind: 'flag', help: 'AutoMTLS certificates (default on; --no-automtls for plain text)' },
  { name: 'mux', kind: 'flag', help: "ask for go-plugin's multiplexed broker (PLUGIN_MULTIPLEX_GRPC)" },
  { name: 'tcp', kind: 'flag', help: 'expect a TCP listener on 127.0.0.1 (default: a unix socket, as Go plugins do off Windows)' },
  { name: 'timeout', kind: 'value', arg: '<duration>', help: 'time allowed for the start: 500ms, 30s, 2m (default 60s)' },
];

/** What the launch options say, checked once. */
export interface LaunchPlan {
  readonly command: string;
  readonly args: readonly string[];
  /** The cookie; `protocolVersion` is the highest version offered. */
  readonly handshake: HandshakeConfig;
  /** The app protocol versions offered (PLUGIN_PROTOCOL_VERSIONS), ascending. */
  readonly versions: readonly number[];
  /** --env, plus a LOOP's CL_* variables (a --env of the same name wins). */
  readonly env: Readonly<Record<string, string>>;
  readonly loop: LoopKindName | undefined;
  readonly autoMTLS: boolean;
  readonly mux: boolean;
  /** The plugin is expected to listen on TCP (127.0.0.1); otherwise on a unix socket. */
  readonly tcp: boolean;
  readonly startTimeoutMs: number;
}

function versionsOf(parsed: ParsedArgs, fallback: number): number[] {
  const given = list(parsed, 'version').map((text) => {
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new UsageError(`--version ${JSON.stringify(text)}: expected a whole number such as 1`);
    return Number(text);
  });
  return given.length === 0 ? [fallback] : [...new Set(given)].sort((a, b) => a - b);
}

function loopKindOf(parsed: ParsedArgs): LoopKindName | undefined {
  const kind = value(parsed, 'loop');
  if (kind === undefined) return undefined;
  if (!(LOOP_KIND_NAMES as string[]).includes(kind)) throw new UsageError(`--loop ${JSON.stringify(kind)}: unknown LOOP kind; the kinds are ${LOOP_KIND_NAMES.join(', ')}`);
  return kind as LoopKindName;
}

function cookieOf(parsed: ParsedArgs, loop: LoopKindName | undefined): { magicCookieKey: string; magicCookieValue: string } {
  const cookie = value(parsed, 'cookie');
  if (cookie !== undefined && loop !== undefined) throw new UsageError('--cookie and --loop both set the magic cookie; give one of them');
  if (loop !== undefined) return LOOP_KINDS[loop].handshake;
  if (cookie === undefined) throw new UsageError('--cookie KEY=VALUE is required: the magic cookie the plugin was built with (or --loop KIND for a Chainlink LOOP)');
  const [magicCookieKey, magicCookieValue] = keyValue('cookie', cookie);
  if (magicCookieValue === '') throw new UsageError(`--cookie ${JSON.stringify(cookie)}: the value must not be empty`);
  return { magicCookieKey, magicCookieValue };
}

/** A port nothing listens on right now (the LOOP's Prometheus server binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The variables a Chainlink node gives a LOOP of chainlink-common v1.3.1, on a free Prometheus port. */
export async function loopEnv(): Promise<Record<string, string>> {
  return Object.fromEntries(asCmdEnv(newEnvConfig({ prometheusPort: await freePort() })));
}

/** Checks the launch options and the plugin command (`parsed.rest`); throws a UsageError. */
export async function launchPlan(parsed: ParsedArgs): Promise<LaunchPlan> {
  const [command, ...args] = parsed.rest;
  if (command === undefined || command === '') throw new UsageError('missing the plugin command: loopp <command> [options] <plugin> [plugin args...]');
  const loop = loopKindOf(parsed);
  const cookie = cookieOf(parsed, loop);
  const versions = versionsOf(parsed, loop === undefined ? 1 : LOOP_KINDS[loop].handshake.protocolVersion);
  const own = Object.fromEntries(list(parsed, 'env').map((kv) => keyValue('env', kv)));
  const timeout = value(parsed, 'timeout');
  return {
    command,
    args,
    handshake: { ...cookie, protocolVersion: versions[versions.length - 1]! },
    versions,
    env: { ...(loop === undefined ? {} : await loopEnv()), ...own },
    loop,
    autoMTLS: flag(parsed, 'automtls') ?? true,
    mux: flag(parsed, 'mux') ?? false,
    tcp: flag(parsed, 'tcp') ?? false,
    startTimeoutMs: timeout === undefined ? DEFAULT_LAUNCH_TIMEOUT_MS : durationMs('timeout', timeout),
  };
}

/** A plugin set with nothing to dispense under each offered version: the commands call by name. */
export function genericPlugins(versions: readonly number[]): Record<number, PluginSet> {
  return Object.fromEntries(versions.map((v) => [v, { plugin: grpcPlugin({ client: () => ({}) }) }]));
}

/** startPlugin's options for a plan; `extra` adds sinks, a socket dir, a signal. */
export function startOptions(plan: LaunchPlan, extra: Partial<StartPluginOptions<PluginSet>> = {}): StartPluginOptions<PluginSet> {
  return {
    command: plan.command,
    args: plan.args,
    env: plan.env,
    handshake: plan.handshake,
    versionedPlugins: genericPlugins(plan.versions),
    autoMTLS: plan.autoMTLS,
    grpcBrokerMultiplex: plan.mux,
    startTimeoutMs: plan.startTimeoutMs,
    ...extra,
  };
}

/** Why a launch failed, for people: what happened, what to do, what the plugin said last. */
export interface LaunchFailure {
  /** A LooppError code (`ERR_LOOPP_...`), or `interrupted`, or `error` for anything else. */
  readonly code: string;
  readonly message: string;
  readonly hint: string;
  readonly stderrTail: string;
}


/** What to do about a failed start, by error code (the error's own hint is the fallback). */
function hintFor(code: string, stderrTail: string, own: string | undefined): string {
  if (stderrTail.includes(NOT_A_PLUGIN_FIRST_LINE)) return 'The plugin refused the magic cookie: pass the --cookie KEY=VALUE it was built with, or --loop KIND for a Chainlink LOOP.';
  switch (code) {
    case 'ERR_LOOPP_SPAWN':
      return 'Check the plugin path (a name without a slash is looked up on PATH) and that the file is executable.';
    case 'ERR_LOOPP_START_TIMEOUT':
      return 'The plugin printed no handshake line in time: is it a go-plugin plugin? Raise --timeout if it starts slowly.';
    case 'ERR_LOOPP_EXITED_BEFORE_HANDSHAKE':
      return 'The plugin exited before its handshake; its stderr (below) says why. A LOOP needs --loop KIND.';
    case 'ERR_LOOPP_APP_VERSION':
      return 'The plugin chose an app protocol version that was not offered: offer it with --version N.';
    case 'ERR_LOOPP_MUX_UNSUPPORTED':
      return 'The plugin does not support the multiplexed broker: run without --mux.';
    case 'ERR_LOOPP_SERVER_CERT':
      return 'The plugin sent no usable AutoMTLS certificate: run with --no-automtls if it does not support AutoMTLS.';
    default:
      return own ?? 'See the plugin\'s stderr below.';
  }
}

/** Maps anything a start throws to a LaunchFailure. */
export function launchFailure(err: unknown): LaunchFailure {
  const stderrTail = typeof (err as { stderrTail?: unknown })?.stderrTail === 'string' ? (err as { stderrTail: string }).stderrTail : '';
  if (isLooppError(err)) {
    const code = err.code === 'ERR_LOOPP_ABORTED' ? 'interrupted' : err.code;
    return { code, message: err.message, hint: hintFor(err.code, stderrTail, err.hint), stderrTail };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'error', message, hint: hintFor('error', stderrTail, undefined), stderrTail };
}

/** The failure as stderr text: message, hint, and the plugin's last stderr lines, indented. */
export function formatLaunchFailure(f: LaunchFailure): string {
  const tail = f.stderrTail.trim() === '' ? '' : `\n  plugin stderr (last lines):\n${f.stderrTail.trimEnd().split('\n').map((l) => `    ${l}`).join('\n')}`;
  return `could not start the plugin (${f.code}): ${f.message.trimEnd()}\n  ${f.hint}${tail}\n`;
}

export type LaunchResult = { ok: true; client: PluginClient } | { ok: false; exit: ExitCode; failure: LaunchFailure };

/**
 * Starts the plugin with loopp's startPlugin, showing a progress line meanwhile (on a terminal).
 * A failure is returned, not thrown: EXIT.launch, or EXIT.interrupted when io.signal stopped it.
 */
export async function startWithProgress(plan: LaunchPlan, io: CliIo): Promise<LaunchResult> {
  const line = progress(io);
  line.update(`starting ${plan.command}`);
  try {
    const client = await startPlugin(startOptions(plan, { signal: io.signal }));
    return { ok: true, client };
  } catch (err) {
    const failure = launchFailure(err);
    return { ok: false, exit: io.signal.aborted ? EXIT.interrupted : EXIT.launch, failure };
  } finally {
    line.done();
  }
}
