/**
 * A worker thread of floor-host.ts scale: spawns plugins off the main thread (spawnFloor) and sends
 * back each one's handshake line; told `stop`, it waits for its plugins to exit (SIGKILL after 2 s).
 */
import type { ChildProcess } from 'node:child_process';
import { parentPort } from 'node:worker_threads';
import { spawnFloor } from './launch';

const children: ChildProcess[] = [];
const port = parentPort;
if (!port) throw new Error('spawn-worker runs as a worker thread');
port.on('message', (m: { id: number; command: string; args: string[] } | 'stop') => {
  if (m === 'stop') {
    const timer = setTimeout(() => children.forEach((c) => c.kill('SIGKILL')), 2000);
    void Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r))))).then(() => {
      clearTimeout(timer);
      port.postMessage('stopped');
    });
    return;
  }
  spawnFloor(m.command, m.args).then(
    ({ child, line }) => {
      children.push(child);
      port.postMessage({ id: m.id, line });
    },
    (err: Error) => port.postMessage({ id: m.id, error: err.message }),
  );
});
