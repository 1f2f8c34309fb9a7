/**
 * The floor host's launch: spawns a plugin with the KV example's handshake environment, reads the
 * go-plugin handshake line (`1|<app>|unix|<path>|grpc|`) itself and opens a bare HTTP/2 session to the
 * announced address (wire.ts). The plugin's stderr is read and dropped, as a go-plugin host reads
 * and re-logs it (the Go KV plugin logs every Get there). Stop: GRPCController/Shutdown, then SIGKILL
 * after 2 s, as go-plugin's Kill.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type * as http2 from 'node:http2';
import { connect, pb, unary } from './wire';

export const COOKIE = { key: 'BASIC_PLUGIN', value: 'hello' };

export interface FloorPlugin {
  session: http2.ClientHttp2Session;
  close(): Promise<void>;
}

function handshakeLine(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => fail(new Error(`no handshake line within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error) => (clearTimeout(timer), child.kill('SIGKILL'), reject(err));
    child.once('exit', (code, sig) => fail(new Error(`plugin exited (${code ?? sig}) before its handshake; stdout: ${buf}`)));
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.stdout?.removeAllListeners('data');
      child.stdout?.resume();
      resolve(buf.slice(0, nl).trim());
    });
  });
}

/** Spawns the plugin and reads its handshake line (worker threads run this too: floor-host.ts scale). */
export async function spawnFloor(command: string, args: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(command, args, {
    env: { ...process.env, [COOKIE.key]: COOKIE.value, PLUGIN_PROTOCOL_VERSIONS: '1', PLUGIN_MIN_PORT: '10000', PLUGIN_MAX_PORT: '25000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr?.on('data', () => undefined);
  return { child, line: await handshakeLine(child, 10_000) };
}

/** The announced address of a plain gRPC plugin's handshake line. */
export function floorAddress(line: string): { network: string; address: string } {
  const [core, , network, address, protocol, cert] = line.split('|');
  if (core !== '1' || protocol !== 'grpc' || !network || !address || cert) {
    throw new Error(`floor host takes a plain gRPC plugin (core 1, no certificate); handshake was ${JSON.stringify(line)}`);
  }
  return { network, address };
}

export async function launchFloor(command: string, args: string[], env: Record<string, string> = {}): Promise<FloorPlugin> {
  const { child, line } = await spawnFloor(command, args, env);
  let network: string, address: string;
  try {
    ({ network, address } = floorAddress(line));
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const session = connect(network, address);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async () => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await unary(session, '/plugin.GRPCController/Shutdown', pb({})).catch(() => undefined);
    session.close();
    await exited;
    clearTimeout(timer);
  };
  return { session, close };
}
