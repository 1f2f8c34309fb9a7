/**
 * Rules on what a plugin leaves behind once it has exited after Shutdown: processes of its process
 * group (it was started as the leader of its own), its socket, files in the directory check gave it
 * for sockets and temp files. Whatever is found is reported, then removed by check.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Announced } from './handshake';
import { probePlain, probeTarget } from './probe';
import { pass, verdict, type RuleResult } from './rules';

const GROUP_SETTLE_MS = 500;

/** Live members of process group `pgid` (Linux /proc; elsewhere none can be seen). */
export function groupMembers(pgid: number): Array<{ pid: number; command: string }> {
  if (process.platform !== 'linux') return [];
  const out: Array<{ pid: number; command: string }> = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') out.push({ pid: Number(entry), command: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** The group's members once they had GROUP_SETTLE_MS to go; the rest are SIGKILLed. */
export async function processRule(pgid: number): Promise<RuleResult> {
  const until = Date.now() + GROUP_SETTLE_MS;
  let left = groupMembers(pgid);
  while (left.length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 25));
    left = groupMembers(pgid);
  }
  if (left.length > 0) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  const evidence = left.length === 0 ? `pid ${pgid} exited; no process left in its group${process.platform === 'linux' ? '' : ' (group not inspected off Linux)'}` : `left in process group ${pgid}: ${left.map((p) => `${p.pid} (${p.command})`).join(', ')} (killed by check)`;
  return verdict('cleanup.process', left.length === 0, evidence, 'Stop every child process before exiting (a host kills only the plugin).');
}

export async function socketRule(a: Announced): Promise<RuleResult> {
  const id = 'cleanup.socket';
  if (a.network === 'tcp') {
    const p = await probePlain(probeTarget('tcp', a.address));
    return verdict(id, !p.connected, p.connected ? `${a.address} still accepts connections` : `${a.address} refuses connections`, 'Close the listener before exiting.');
  }
  const left = fs.existsSync(a.address);
  return verdict(id, !left, left ? `${a.address} is still there` : `${a.address} removed`, 'Close the listener (Go removes the socket file on Close) or remove the socket before exiting.');
}

/** Entries of `dir` except the plugin's socket (cleanup.socket's business). */
export function tempFilesRule(dir: string, socketPath: string | undefined): RuleResult {
  const entries = (fs.existsSync(dir) ? fs.readdirSync(dir) : []).filter((e) => path.join(dir, e) !== socketPath);
  const socketLeft = socketPath !== undefined && fs.existsSync(socketPath);
  if (entries.length === 0) return pass('cleanup.temp-files', `nothing left in ${dir}${socketLeft ? ' but the socket (cleanup.socket)' : ''}`);
  return verdict('cleanup.temp-files', false, `left in ${dir}: ${entries.slice(0, 10).join(', ')}${entries.length > 10 ? ` and ${entries.length - 10} more` : ''}`, 'Remove temp files and sockets the plugin created before it exits.');
}
