/**
 * Run as another user (uid 65534) by the socket tests: tries what a local attacker would and prints
 * one JSON line of outcomes ('ok' or the errno code). Arguments: a JSON object
 * { connect?: string[], list?: string[], rpc?: string }.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { HealthClient } from '../../src/gen';

interface Probe {
  connect?: string[];
  list?: string[];
  rpc?: string;
}

function connect(path: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ path });
    s.once('connect', () => {
      s.destroy();
      resolve('ok');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

function list(dir: string): string {
  try {
    fs.readdirSync(dir);
    return 'ok';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  }
}

function rpc(path: string): Promise<string> {
  const client = new HealthClient(`unix://${path}`, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.check({ service: 'plugin' }, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (err, reply) => {
      client.close();
      resolve(err ? `${err.code} ${err.details}` : `status=${reply.status}`);
    });
  });
}

async function main(): Promise<void> {
  const probe = JSON.parse(process.argv[2] ?? '{}') as Probe;
  const out: Record<string, string> = { uid: String(process.getuid?.()), gid: String(process.getgid?.()), groups: (process.getgroups?.() ?? []).join(',') };
  for (const p of probe.connect ?? []) out[`connect ${p}`] = await connect(p);
  for (const d of probe.list ?? []) out[`list ${d}`] = list(d);
  if (probe.rpc !== undefined) out[`rpc ${probe.rpc}`] = await rpc(probe.rpc);
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
void main();
