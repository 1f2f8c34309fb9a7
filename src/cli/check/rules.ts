/**
 * The rules `loopp check` applies, by stable id (scripts and CI match on ids; docs/cli.md lists them),
 * and the shape of one rule's result. A rule that could not be evaluated because an earlier one
 * failed is `n/a` with the reason in its evidence, so a broken plugin fails exactly the rules it breaks.
 */

export type RuleStatus = 'pass' | 'fail' | 'n/a' | 'warn';

/** Every rule id with its title, in report order. Warning rules (`warn` never `fail`) are last. */
export const RULES = {
  'handshake.line': 'the first stdout line is a go-plugin handshake line',
  'handshake.core-version': 'field 1: core protocol version 1',
  'handshake.app-version': 'field 2: one of the offered app protocol versions',
  'handshake.network': 'field 3: unix or tcp',
  'handshake.address': 'field 4: an absolute socket path (unix) or host:port (tcp)',
  'handshake.protocol': 'field 5: grpc',
  'handshake.server-cert': 'field 6: the AutoMTLS certificate, base64 DER (with AutoMTLS)',
  'handshake.mux': 'field 7: true (with --mux)',
  'handshake.wrong-version': 'offered only an app protocol version it lacks, the plugin does not claim it',
  'transport.network': 'listens on a unix socket (on TCP with --tcp)',
  'transport.unix-socket': 'the socket is in PLUGIN_UNIX_SOCKET_DIR, owned by this user, not world-writable',
  'transport.tcp-port': 'TCP on 127.0.0.1 within PLUGIN_MIN_PORT..PLUGIN_MAX_PORT',
  'transport.connect': 'the announced address accepts a connection',
  'mtls.cert-key': 'the AutoMTLS certificate has an ECDSA P-521 key',
  'mtls.cert-names': 'the AutoMTLS certificate is for localhost',
  'mtls.cert-validity': 'the AutoMTLS certificate is valid now',
  'mtls.peer-cert': 'the TLS server presents the announced certificate and accepts ours',
  'grpc.health': 'grpc.health.v1 Check("plugin") answers SERVING',
  'grpc.reflection': 'server reflection (v1, else v1alpha) lists the services and their methods',
  'grpc.stdio': 'plugin.GRPCStdio/StreamStdio opens',
  'grpc.broker': 'plugin.GRPCBroker/StartStream opens (over the multiplexed connection with --mux)',
  'grpc.shutdown': 'plugin.GRPCController/Shutdown: the process exits within 2000 ms',
  'cleanup.process': 'after the exit, no process of the plugin\'s process group is left',
  'cleanup.socket': 'after the exit, the socket file is gone',
  'cleanup.temp-files': 'after the exit, PLUGIN_UNIX_SOCKET_DIR (also TMPDIR) is empty',
  'stderr.log-format': 'stderr is hclog JSON, the log format go-plugin hosts parse',
  'cookie.refusal': "without the cookie: go-plugin's \"This binary is a plugin\" text and exit status 1",
} as const;

export type RuleId = keyof typeof RULES;

export const RULE_IDS = Object.keys(RULES) as RuleId[];

export interface RuleResult {
  readonly id: RuleId;
  readonly title: string;
  readonly status: RuleStatus;
  /** What was seen: values, times, messages. */
  readonly evidence: string;
  /** What to change in the plugin (failures and warnings). */
  readonly hint?: string;
}

function result(id: RuleId, status: RuleStatus, evidence: string, hint?: string): RuleResult {
  return hint === undefined ? { id, title: RULES[id], status, evidence } : { id, title: RULES[id], status, evidence, hint };
}

export const pass = (id: RuleId, evidence: string): RuleResult => result(id, 'pass', evidence);
export const fail = (id: RuleId, evidence: string, hint: string): RuleResult => result(id, 'fail', evidence, hint);
export const warn = (id: RuleId, evidence: string, hint: string): RuleResult => result(id, 'warn', evidence, hint);
export const notApplicable = (id: RuleId, evidence: string): RuleResult => result(id, 'n/a', evidence);

/** `n/a` for every id in `ids`: `reason` says which earlier failure kept them from being evaluated. */
export function notReached(ids: readonly RuleId[], reason: string): RuleResult[] {
  return ids.map((id) => notApplicable(id, `not reached: ${reason}`));
}

/** Passes when `ok`, else fails with the hint. */
export function verdict(id: RuleId, ok: boolean, evidence: string, hint: string): RuleResult {
  return ok ? pass(id, evidence) : fail(id, evidence, hint);
}
