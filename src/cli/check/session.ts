/**
 * One `loopp check` run: the main launch (handshake, transport, certificate, services, Shutdown,
 * leftovers), then two short launches a host never makes on purpose: offering only an app version
 * the plugin lacks, and leaving the cookie out. Each launch gets a fresh directory as
 * PLUGIN_UNIX_SOCKET_DIR and TMPDIR; whatever runs or remains is killed and removed at the end.
 */
import { createLog } from '../../core/debug';
import { buildPluginEnv, generateCertificate, type CertificateBundle } from '../../protocol';
import { freePort, type LaunchFailure, type LaunchPlan } from '../launch-options';
import { CLEANUP_RULES, GRPC_RULES, connectedRules } from './connected';
import { judgeHandshake, judgeWrongVersion, shortLine, unsupportedVersion, type Announced } from './handshake';
import { freshDir, kill, launch, removeDir, tail, type Launch } from './launch';
import { CERT_RULES, certRules } from './mtls';
import { RULE_IDS, notApplicable, notReached, type RuleId, type RuleResult } from './rules';
import { connectRule, networkRule, tcpPortRule, unixSocketRule } from './transport';
import { cookieRule, logFormatRule } from './warnings';

/** What the report says about the plugin besides the rules. */
export interface PluginFacts {
  readonly command: string;
  readonly args: readonly string[];
  readonly pid: number | undefined;
  readonly handshake: string | undefined;
}

export interface CheckOutcome {
  readonly plugin: PluginFacts;
  /** In RULES order, every rule once. */
  readonly rules: RuleResult[];
  /** Set when the plugin could not be started at all (no handshake line to judge). */
  readonly launchFailure: LaunchFailure | undefined;
  readonly interrupted: boolean;
}

export interface CheckIo {
  readonly signal: AbortSignal;
  /** The progress line. */
  readonly step: (text: string) => void;
}

/** Time given to each of the two extra launches. */
const EXTRA_LAUNCH_TIMEOUT_MS = 10_000;

function pluginEnv(plan: LaunchPlan, dir: string, versions: readonly number[], identity: CertificateBundle | undefined): Record<string, string> {
  const env = buildPluginEnv({
    handshake: plan.handshake,
    versions,
    hostEnv: process.env,
    extraEnv: plan.env,
    multiplex: plan.mux,
    clientCertPem: identity?.certPem,
    unixSocketDir: dir,
  });
  return { ...env, TMPDIR: plan.env['TMPDIR'] ?? dir };
}

/** A launch in a fresh directory, killed and cleaned once `use` is done with it. */
async function withLaunch<T>(
  plan: LaunchPlan,
  io: CheckIo,
  envFor: (dir: string) => Record<string, string>,
  timeoutMs: number,
  use: (l: Launch, dir: string, env: Record<string, string>) => Promise<T>,
): Promise<T> {
  const dir = freshDir('loopp-check-');
  try {
    const env = envFor(dir);
    const l = await launch({ command: plan.command, args: plan.args, env, timeoutMs, signal: io.signal });
    // An interrupt stops the plugin at once: every step still waiting on it ends quickly.
    const stop = () => void kill(l);
    io.signal.addEventListener('abort', stop, { once: true });
    try {
      return await use(l, dir, env);
    } finally {
      io.signal.removeEventListener('abort', stop);
      await kill(l);
    }
  } finally {
    removeDir(dir);
  }
}

function malformed(l: Launch): LaunchFailure | undefined {
  if (l.line === undefined) return l.failure;
  if (l.line.trim().split('|').length >= 4) return undefined;
  return {
    code: 'ERR_LOOPP_HANDSHAKE_MALFORMED',
    message: `Unrecognized remote plugin message: ${shortLine(l.line.trim())}`,
    hint: 'This is not a go-plugin plugin, or it prints something on stdout before its handshake line.',
    stderrTail: tail(l.stderr()),
  };
}

const FROM_CONNECT: readonly RuleId[] = ['transport.connect', 'mtls.peer-cert', ...GRPC_RULES, ...CLEANUP_RULES];
const AFTER_HANDSHAKE: readonly RuleId[] = ['transport.network', 'transport.unix-socket', 'transport.tcp-port', ...CERT_RULES, ...FROM_CONNECT];

interface MainRun {
  results: RuleResult[];
  facts: PluginFacts;
  failure: LaunchFailure | undefined;
}

/** What the main run holds besides the launch. */
interface MainContext {
  plan: LaunchPlan;
  io: CheckIo;
  /** Ours, when AutoMTLS is on (PLUGIN_CLIENT_CERT). */
  identity: CertificateBundle | undefined;
  bridgeDir: string | undefined;
}

/** Everything after a handshake that names a usable address. */
async function fromAddress({ plan, io, identity, bridgeDir }: MainContext, l: Launch, a: Announced, dir: string, env: Record<string, string>): Promise<RuleResult[]> {
  // The socket is looked at before anything connects or stops the plugin.
  const transport = [networkRule(a, plan), unixSocketRule(a, dir), tcpPortRule(a, env)];
  const certs = plan.autoMTLS ? certRules(a.certDer, Date.now()) : CERT_RULES.map((id) => notApplicable(id, 'AutoMTLS off (--no-automtls)'));
  // A host refuses a plugin that does not say it multiplexes; its connection would not be what the plugin serves.
  if (plan.mux && a.muxField !== 'true') return [...transport, ...certs, ...notReached(FROM_CONNECT, 'the plugin does not multiplex (handshake.mux)')];
  const run = { plan, launch: l, announced: a, identity, dir, bridgeDir, signal: io.signal, step: io.step, log: createLog('cli:check', plan.command) };
  return [...transport, ...certs, ...(await connectedRules(run, (p, via) => connectRule(a, p, via)))];
}

async function mainRun(plan: LaunchPlan, io: CheckIo): Promise<MainRun> {
  const identity = plan.autoMTLS ? generateCertificate() : undefined;
  const bridgeDir = plan.mux ? freshDir('loopp-check-bridge-') : undefined;
  io.step(`starting ${plan.command}`);
  try {
    return await withLaunch(plan, io, (dir) => pluginEnv(plan, dir, plan.versions, identity), plan.startTimeoutMs, async (l, dir, env) => {
      const facts = { command: plan.command, args: plan.args, pid: l.proc?.pid, handshake: l.line?.trim() };
      const hs = judgeHandshake(l, plan);
      const rest =
        hs.announced !== undefined
          ? await fromAddress({ plan, io, identity, bridgeDir }, l, hs.announced, dir, env)
          : notReached(AFTER_HANDSHAKE, hs.fields === undefined ? 'no handshake line (handshake.line)' : 'no usable address in fields 3-4 (handshake.network, handshake.address)');
      return { results: [...hs.results, ...rest, logFormatRule(l.stderr(), plan)], facts, failure: malformed(l) };
    });
  } finally {
    if (bridgeDir !== undefined) removeDir(bridgeDir);
  }
}

/** The launches offering only an unsupported version and leaving out the cookie, side by side. */
async function extraRuns(plan: LaunchPlan, io: CheckIo): Promise<RuleResult[]> {
  io.step('launching with an unsupported version, and without the cookie');
  const version = unsupportedVersion(plan);
  const timeoutMs = Math.min(plan.startTimeoutMs, EXTRA_LAUNCH_TIMEOUT_MS);
  const key = plan.handshake.magicCookieKey;
  // Side by side, two LOOPs need a Prometheus port each (they bind it before looking at the cookie).
  const port = async (): Promise<Record<string, string>> => (plan.loop === undefined ? {} : { CL_PROMETHEUS_PORT: String(await freePort()) });
  const [portA, portB] = [await port(), await port()];
  const noCookie = (dir: string): Record<string, string> => {
    const env = { ...pluginEnv(plan, dir, plan.versions, undefined), ...portB };
    delete env[key];
    return env;
  };
  return Promise.all([
    withLaunch(plan, io, (dir) => ({ ...pluginEnv(plan, dir, [version], undefined), ...portA }), timeoutMs, async (l) => judgeWrongVersion(l, version)),
    withLaunch(plan, io, noCookie, timeoutMs, async (l) => cookieRule(l, key)),
  ]);
}

function inRuleOrder(results: RuleResult[]): RuleResult[] {
  return [...results].sort((a, b) => RULE_IDS.indexOf(a.id) - RULE_IDS.indexOf(b.id));
}

export async function runCheck(plan: LaunchPlan, io: CheckIo): Promise<CheckOutcome> {
  const main = await mainRun(plan, io);
  const started = main.failure === undefined && !io.signal.aborted;
  const why = io.signal.aborted ? 'interrupted' : 'the plugin did not start (handshake.line)';
  const extra = started ? await extraRuns(plan, io) : notReached(['handshake.wrong-version', 'cookie.refusal'], why);
  return { plugin: main.facts, rules: inRuleOrder([...main.results, ...extra]), launchFailure: main.failure, interrupted: io.signal.aborted };
}
