/**
 * The part of the main run that needs the plugin's address: connect as a go-plugin host does (with
 * --mux over yamux), probe the address directly, then go-plugin's services, Shutdown, and what the
 * plugin leaves behind. Every rule not reached because an earlier one failed is `n/a` with the reason.
 */
import type { Log } from '../../core/debug';
import { connectPlugin, type PluginConnection } from '../../host/connection';
import { transportCredentials } from '../../net/grpc/credentials';
import { listenUnix } from '../../net/transport';
import { derToPem, type CertificateBundle } from '../../protocol';
import type { LaunchPlan } from '../launch-options';
import { processRule, socketRule, tempFilesRule } from './cleanup';
import type { Announced } from './handshake';
import type { Launch } from './launch';
import { peerCertRule } from './mtls';
import { probePlain, probeTarget, probeTls, type ProbeResult } from './probe';
import { reflectionRule } from './reflection';
import { notApplicable, notReached, type RuleId, type RuleResult } from './rules';
import { brokerRule, healthRule, openBroker, openStdio, shutdownRule, stdioRule } from './services';

export const GRPC_RULES: readonly RuleId[] = ['grpc.health', 'grpc.reflection', 'grpc.stdio', 'grpc.broker', 'grpc.shutdown'];
export const CLEANUP_RULES: readonly RuleId[] = ['cleanup.process', 'cleanup.socket', 'cleanup.temp-files'];
const AFTER_CONNECT: readonly RuleId[] = ['mtls.peer-cert', ...GRPC_RULES, ...CLEANUP_RULES];

export interface ConnectedRun {
  readonly plan: LaunchPlan;
  readonly launch: Launch;
  readonly announced: Announced;
  readonly identity: CertificateBundle | undefined;
  /** The plugin's PLUGIN_UNIX_SOCKET_DIR and TMPDIR. */
  readonly dir: string;
  /** Private to check: the multiplexed connection's bridge socket. */
  readonly bridgeDir: string | undefined;
  readonly signal: AbortSignal;
  readonly step: (text: string) => void;
  readonly log: Log;
}

function connect(r: ConnectedRun): Promise<PluginConnection> {
  const { announced: a, identity } = r;
  const tls = identity && a.certDer ? { own: identity, peerCertPem: derToPem(a.certDer) } : undefined;
  return connectPlugin({
    network: a.network,
    address: a.address,
    credentials: transportCredentials(tls),
    multiplex: r.plan.mux,
    // grpc-js's channel reaches the yamux session through a bridge socket, which the probe can dial
    // too: its connection becomes one more stream of the multiplexed connection.
    channel: r.plan.mux ? 'grpc-js' : 'loopp',
    bridgeDir: r.bridgeDir,
    streams: false,
    brokerListen: () => listenUnix({ dir: r.bridgeDir }),
    signal: r.signal,
    instance: `check pid=${r.launch.proc?.pid}`,
    log: r.log,
  });
}

/** The direct connection: TLS with our identity when the handshake gave a certificate. */
function probe(r: ConnectedRun, c: PluginConnection): Promise<ProbeResult> {
  const target = c.channel.getTarget().startsWith('unix:') ? probeTarget('unix', c.channel.getTarget()) : probeTarget(r.announced.network, r.announced.address);
  if (r.identity === undefined || r.announced.certDer === undefined) return probePlain(target);
  return probeTls(target, r.identity, derToPem(r.announced.certDer));
}

/** Why the gRPC rules cannot run after this probe, if they cannot. */
function blockedBy(p: ProbeResult, r: ConnectedRun): string | undefined {
  if (r.plan.autoMTLS && r.announced.certDer === undefined) return 'no certificate to trust (handshake.server-cert)';
  const t = p.tls;
  if (t === undefined) return undefined;
  if (!t.accepted || t.presentedDer === undefined || !t.presentedDer.equals(r.announced.certDer!)) return 'the TLS handshake a host makes fails (mtls.peer-cert)';
  const e = t.authorizationError;
  if (e === undefined) return undefined;
  const rule = /EXPIRED|NOT_YET_VALID/.test(e) ? 'mtls.cert-validity' : /ALTNAME|HOSTNAME/.test(e) ? 'mtls.cert-names' : 'mtls.peer-cert';
  return `a host refuses the certificate: ${e} (${rule})`;
}

/** Health, reflection, the two streams (held until Shutdown), Shutdown, and the leftovers. */
async function services(r: ConnectedRun, c: PluginConnection): Promise<RuleResult[]> {
  r.step('gRPC services');
  const stdio = openStdio(c.channel);
  const broker = openBroker(c.channel);
  try {
    const health = await healthRule(c);
    const reflection = await reflectionRule(c.channel);
    const streams = [await stdioRule(stdio), await brokerRule(broker, r.plan.mux)];
    r.step('Shutdown');
    broker.cancel();
    const shutdown = await shutdownRule(c, r.launch, () => {
      stdio.cancel();
      void c.close();
    });
    if (shutdown.status !== 'pass') return [health, reflection, ...streams, shutdown, ...notReached(CLEANUP_RULES, 'no exit after Shutdown (grpc.shutdown)')];
    await c.close();
    return [health, reflection, ...streams, shutdown, await processRule(r.launch.proc!.pid), await socketRule(r.announced), tempFilesRule(r.dir, r.announced.network === 'unix' ? r.announced.address : undefined)];
  } finally {
    stdio.cancel();
    broker.cancel();
  }
}

/** mtls.peer-cert, or why it does not apply. */
function peerRule(p: ProbeResult, r: ConnectedRun): RuleResult {
  if (!r.plan.autoMTLS) return notApplicable('mtls.peer-cert', 'AutoMTLS off (--no-automtls)');
  if (r.announced.certDer === undefined) return notReached(['mtls.peer-cert'], 'no certificate to trust (handshake.server-cert)')[0]!;
  return peerCertRule(p, r.announced.certDer);
}

export async function connectedRules(r: ConnectedRun, connectRule: (p: ProbeResult, via: string) => RuleResult): Promise<RuleResult[]> {
  r.step('connecting');
  let c: PluginConnection;
  try {
    c = await connect(r);
  } catch (err) {
    return [connectRule({ connected: false, socketError: (err as Error).message }, r.plan.mux ? ' (the multiplexed connection)' : ''), ...notReached(AFTER_CONNECT, 'no connection (transport.connect)')];
  }
  try {
    const p = await probe(r, c);
    const connected = connectRule(p, r.plan.mux ? ', then a stream of the multiplexed connection' : '');
    if (!p.connected) return [connected, ...notReached(AFTER_CONNECT, 'no connection (transport.connect)')];
    const blocked = blockedBy(p, r);
    if (blocked !== undefined) return [connected, peerRule(p, r), ...notReached([...GRPC_RULES, ...CLEANUP_RULES], blocked)];
    return [connected, peerRule(p, r), ...(await services(r, c))];
  } finally {
    await c.close();
  }
}
