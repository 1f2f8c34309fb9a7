/**
 * Rules on where the plugin listens: the network expected, the unix socket's place, owner and mode,
 * the TCP address and port range, and whether the address accepts a connection at all.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ENV } from '../../protocol';
import type { LaunchPlan } from '../launch-options';
import type { Announced } from './handshake';
import type { ProbeResult } from './probe';
import { fail, notApplicable, pass, verdict, warn, type RuleResult } from './rules';

export function networkRule(a: Announced, plan: LaunchPlan): RuleResult {
  const expected = plan.tcp ? 'tcp' : 'unix';
  const hint = plan.tcp ? 'Listen on 127.0.0.1 with TCP, or drop --tcp if the plugin uses a unix socket.' : 'Listen on a unix socket in PLUGIN_UNIX_SOCKET_DIR, as go-plugin does off Windows (or pass --tcp if TCP is meant).';
  return verdict('transport.network', a.network === expected, `${a.network} ${a.address}; expected ${expected}${plan.tcp ? ' (--tcp)' : ''}`, hint);
}

function modeText(mode: number): string {
  const bits = 'rwxrwxrwx';
  return `s${[...bits].map((c, i) => (mode & (1 << (8 - i)) ? c : '-')).join('')} (0${(mode & 0o777).toString(8)})`;
}

function realDir(p: string): string {
  try {
    return fs.realpathSync(path.dirname(p));
  } catch {
    return path.dirname(p);
  }
}

export function unixSocketRule(a: Announced, socketDir: string): RuleResult {
  const id = 'transport.unix-socket';
  if (a.network !== 'unix') return notApplicable(id, `the plugin listens on ${a.network}`);
  let st: fs.Stats;
  try {
    st = fs.lstatSync(a.address);
  } catch (err) {
    return fail(id, `${a.address}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'Print the path of the socket the plugin listens on.');
  }
  const inDir = realDir(a.address) === fs.realpathSync(socketDir);
  const ownUid = process.getuid?.() ?? st.uid;
  const evidence = `${a.address} ${st.isSocket() ? modeText(st.mode) : 'is not a socket'} uid=${st.uid} gid=${st.gid}; ${ENV.UNIX_SOCKET_DIR}=${socketDir}`;
  if (!st.isSocket()) return fail(id, evidence, 'Listen on a unix socket at the printed path.');
  if (!inDir) return fail(id, evidence, `Create the socket in ${ENV.UNIX_SOCKET_DIR} when it is set (go-plugin: os.CreateTemp(dir, "plugin")).`);
  if (st.uid !== ownUid) return fail(id, `${evidence}; this user is uid=${ownUid}`, 'The socket must belong to the user that runs the plugin.');
  if ((st.mode & 0o002) !== 0) return warn(id, evidence, 'Any local user may connect: keep the process umask (go-plugin leaves the mode to it) or chmod 0700/0660.');
  return pass(id, evidence);
}

const TCP_ADDRESS = /^(.*):(\d+)$/;

export function tcpPortRule(a: Announced, env: Record<string, string>): RuleResult {
  const id = 'transport.tcp-port';
  if (a.network !== 'tcp') return notApplicable(id, `the plugin listens on ${a.network}`);
  const [, host = '', portText = ''] = TCP_ADDRESS.exec(a.address) ?? [];
  const port = Number(portText);
  const min = Number(env[ENV.MIN_PORT]);
  const max = Number(env[ENV.MAX_PORT]);
  const evidence = `${a.address}; ${ENV.MIN_PORT}=${min} ${ENV.MAX_PORT}=${max}`;
  if (host !== '127.0.0.1') return fail(id, evidence, 'Listen on 127.0.0.1 only: a plugin must not be reachable from other hosts.');
  return verdict(id, port >= min && port <= max, evidence, `Pick the port in ${ENV.MIN_PORT}..${ENV.MAX_PORT}.`);
}

export function connectRule(a: Announced, p: ProbeResult, via: string): RuleResult {
  const evidence = p.connected ? `connected to ${a.address}${via}` : `${a.address}${via}: ${p.socketError}`;
  return verdict('transport.connect', p.connected, evidence, 'Print the handshake only once the listener accepts connections, and keep it open.');
}
